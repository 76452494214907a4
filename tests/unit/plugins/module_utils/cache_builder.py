# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write ld.so.cache files from glibc's documented struct layout, for cases no real
ldconfig here produces (other endianness, glibc-hwcaps extension, paths in a temp dir).

Layout as in glibc sysdeps/generic/dl-cache.h and elf/cache.c (save_cache):
old ``{char magic[12]; uint32 nlibs; {int32 flags; uint32 key, value}[nlibs]}`` with
string offsets counted from the end of the entries; new: 48-byte header
``{char magic[20]; uint32 nlibs, len_strings; uint8 flags; pad[3];
uint32 extension_offset; uint32 unused[3]}``, 24-byte entries
``{int32 flags; uint32 key, value, osversion; uint64 hwcap}``, offsets counted
from the new header; compat: old part (even entry count) then the new part.
Strings are not suffix-merged as glibc does: the layout stays valid without it.
"""

from __future__ import annotations

import struct

EXT_MAGIC = 0xEAA42174


def _strings(entries, base):
    """String table for (name, path) pairs, offsets starting at ``base``."""
    table, offsets = b"", []
    for name, path in entries:
        key = base + len(table)
        table += name.encode() + b"\0"
        value = base + len(table)
        table += path.encode() + b"\0"
        offsets.append((key, value))
    return table, offsets


def build_new(entries, order="<", hwcaps=None, generator="test-builder"):
    """entries: (name, path, flags, hwcap) tuples; hwcaps: subdirectory names."""
    header_size, entry_size = 48, 24
    table, offsets = _strings([(e[0], e[1]) for e in entries], header_size + entry_size * len(entries))
    hwcap_offsets = []
    for subdir in hwcaps or []:
        hwcap_offsets.append(header_size + entry_size * len(entries) + len(table))
        table += subdir.encode() + b"\0"
    body_end = header_size + entry_size * len(entries) + len(table)
    ext_offset = (body_end + 3) & ~3
    sections = [(0, 0, None, len(generator))]
    if hwcaps:
        sections.append((1, 0, None, 4 * len(hwcaps)))
    directory_size = 8 + 16 * len(sections)
    data_offset = ext_offset + directory_size
    ext = struct.pack(order + "II", EXT_MAGIC, len(sections))
    payload = b""
    for tag, flags, _unused, size in sections:
        ext += struct.pack(order + "IIII", tag, flags, data_offset + len(payload), size)
        payload += generator.encode() if tag == 0 else struct.pack(order + "%dI" % len(hwcaps), *hwcap_offsets)
    endian = 2 if order == "<" else 3
    out = struct.pack(order + "20sIIB3xI12x", b"glibc-ld.so.cache1.1", len(entries), len(table), endian, ext_offset)
    for (name, path, flags, hwcap), (key, value) in zip(entries, offsets):
        out += struct.pack(order + "iIIIQ", flags, key, value, 0, hwcap)
    out += table
    out += b"\0" * (ext_offset - len(out))
    return out + ext + payload


def build_old(entries):
    """entries: (name, path, flags) tuples; native byte order like ldconfig."""
    table, offsets = _strings([(e[0], e[1]) for e in entries], 0)
    out = struct.pack("=12sI", b"ld.so-1.7.0", len(entries))
    for (_name, _path, flags), (key, value) in zip(entries, offsets):
        out += struct.pack("=iII", flags, key, value)
    return out + table


def build_compat(entries):
    """Old part (count rounded up to even, last entry repeated) hiding a new part.

    With an even count the new header starts right after the old entries, so the
    old string offsets equal the new ones (glibc's str_offset = file_entries_new_size).
    """
    new = build_new([(e[0], e[1], e[2], 0) for e in entries])
    _table, offsets = _strings([(e[0], e[1]) for e in entries], 48 + 24 * len(entries))
    old = [(e[2], key, value) for e, (key, value) in zip(entries, offsets)]
    if len(old) % 2:
        old.append(old[-1])
    out = struct.pack("=12sI", b"ld.so-1.7.0", len(old))
    for flags, key, value in old:
        out += struct.pack("=iII", flags, key, value)
    return out + new
