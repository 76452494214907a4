# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read glibc's ``/etc/ld.so.cache`` without running ``ldconfig``.

Layouts (glibc ``sysdeps/generic/dl-cache.h``, ``elf/cache.c``):

* old, magic ``ld.so-1.7.0``: 12-byte magic, ``uint32 nlibs``, then ``nlibs``
  entries ``{int32 flags; uint32 key; uint32 value}``; key and value index a
  string table that starts right after the last entry.
* new, magic ``glibc-ld.so.cache1.1``: 48-byte header (magic+version,
  ``nlibs``, ``len_strings``, ``uint8 flags`` (endianness), 3 pad bytes,
  ``extension_offset``, 3 unused words), then ``nlibs`` 24-byte entries
  ``{int32 flags; uint32 key; uint32 value; uint32 osversion; uint64 hwcap}``;
  key and value are offsets from the start of the new header.
* compat (``ldconfig -c compat``): an old cache whose string table hides a
  new one, 8-byte aligned after the old entries. The dynamic linker uses the
  new part, so do we.

``ldconfig -p`` prints the same entries in the same order; :func:`parse_ldconfig_p`
reads that output for the fallback.
"""

from __future__ import annotations

import re
import struct

OLD_MAGIC = b"ld.so-1.7.0"
NEW_MAGIC = b"glibc-ld.so.cache1.1"

_OLD_HEADER = struct.Struct("=12sI")
_OLD_ENTRY = struct.Struct("=iII")
_NEW_HEADER_FMT = "20sIIB3xI12x"
_NEW_HEADER = struct.Struct("=" + _NEW_HEADER_FMT)
_NEW_ENTRY_FMT = "iIIIQ"
_EXT_MAGIC = 0xEAA42174  # (uint32_t) -358342284
_EXT_TAG_GLIBC_HWCAPS = 1
_HWCAP_EXTENSION = 1 << 62

FLAG_TYPE_MASK = 0x00FF
FLAG_REQUIRED_MASK = 0xFF00

# flags & FLAG_TYPE_MASK -> ldconfig -p label.
TYPE_LABELS = {0x00: "libc4", 0x01: "ELF", 0x02: "libc5", 0x03: "libc6"}

# flags & FLAG_REQUIRED_MASK -> (ldconfig -p suffix, machine). machine None:
# the label is shared by several architectures, the host decides.
REQUIRED_LABELS = {
    0x0100: (",64bit", "sparc64"),
    0x0200: (",IA-64", "ia64"),
    0x0300: (",x86-64", "x86-64"),
    0x0400: (",64bit", "s390x"),
    0x0500: (",64bit", "ppc64"),
    0x0600: (",N32", "mips64-n32"),
    0x0700: (",64bit", "mips64"),
    0x0800: (",x32", "x32"),
    0x0900: (",hard-float", "armhf"),
    0x0A00: (",AArch64", "aarch64"),
    0x0B00: (",soft-float", "armel"),
    0x0C00: (",nan2008", "mips-nan2008"),
    0x0D00: (",N32,nan2008", "mips64-n32-nan2008"),
    0x0E00: (",64bit,nan2008", "mips64-nan2008"),
    0x0F00: (",soft-float", "riscv-soft-float"),
    0x1000: (",double-float", "riscv64"),
    0x1100: (",soft-float", "loongarch-soft-float"),
    0x1200: (",double-float", "loongarch64"),
}

# Libraries without a required-ABI flag are the host family's 32-bit default.
_DEFAULT_32BIT = {
    "x86_64": "i386", "i386": "i386", "i486": "i386", "i586": "i386", "i686": "i386",
    "aarch64": "arm", "armv7l": "arm", "armv8l": "arm",
    "ppc64": "ppc", "ppc64le": "ppc", "s390x": "s390", "sparc64": "sparc",
    "mips64": "mips", "riscv64": "riscv32",
}


class LdCacheError(ValueError):
    """The file is not an ld.so.cache this parser understands."""


class CacheEntry(object):
    """One line of ``ldconfig -p``: soname, flags, hwcap and the library path."""

    __slots__ = ("name", "path", "flags", "osversion", "hwcap", "hwcap_subdir")

    def __init__(self, name, path, flags, osversion=0, hwcap=0, hwcap_subdir=None):
        self.name = name
        self.path = path
        self.flags = flags
        self.osversion = osversion
        self.hwcap = hwcap
        self.hwcap_subdir = hwcap_subdir

    @property
    def label(self):
        """The ABI part of ``ldconfig -p``'s parentheses, e.g. ``libc6,x86-64``."""
        return flags_label(self.flags)

    def __repr__(self):
        return "CacheEntry(%r, %r, %s)" % (self.name, self.path, self.label)


class LdCache(object):
    """Parsed cache: ``fmt`` is ``new``, ``old+new``, ``old`` or ``ldconfig``."""

    def __init__(self, fmt, entries, generator=None):
        self.format = fmt
        self.entries = entries
        self.generator = generator


def flags_label(flags):
    """flags -> ``ldconfig -p`` label, following glibc's print_entry."""
    label = TYPE_LABELS.get(flags & FLAG_TYPE_MASK, "unknown")
    required = flags & FLAG_REQUIRED_MASK
    if required in REQUIRED_LABELS:
        label += REQUIRED_LABELS[required][0]
    elif required:
        label += ",%d" % required
    return label


def flags_machine(flags, host_machine=None):
    """flags -> short architecture name (``x86-64``, ``i386``, ``aarch64``...).

    Entries with no required-ABI flag are the 32-bit default of the host's
    family (``i386`` on x86); None when the host does not tell.
    """
    required = flags & FLAG_REQUIRED_MASK
    if required in REQUIRED_LABELS:
        return REQUIRED_LABELS[required][1]
    if required == 0:
        return _DEFAULT_32BIT.get(host_machine or "")
    return None


def _cstring(data, offset):
    end = data.find(b"\0", offset)
    if offset < 0 or offset >= len(data) or end < 0:
        raise LdCacheError("string offset %d outside the cache (%d bytes)" % (offset, len(data)))
    return data[offset:end].decode("utf-8", "replace")


def _parse_new(data, base):
    """Entries of the new-format cache whose header starts at ``base``."""
    if len(data) < base + _NEW_HEADER.size:
        raise LdCacheError("truncated new-format header")
    # Header byte 28: 2 little endian, 3 big endian, 0 written by glibc < 2.33 (native).
    endian = data[base + 28] & 3
    if endian == 1:
        raise LdCacheError("cache marks its endianness as invalid")
    order = {2: "<", 3: ">"}.get(endian, "=")
    magic, nlibs, _len_strings, _flags, ext_offset = struct.unpack_from(
        order + _NEW_HEADER_FMT, data, base)
    if magic != NEW_MAGIC:
        raise LdCacheError("bad new-format magic %r" % magic)
    entry = struct.Struct(order + _NEW_ENTRY_FMT)
    start = base + _NEW_HEADER.size
    if len(data) < start + nlibs * entry.size:
        raise LdCacheError("cache announces %d entries but holds fewer" % nlibs)

    hwcaps, generator = _parse_extensions(data, ext_offset, order)
    entries = []
    for flags_, key, value, osversion, hwcap in entry.iter_unpack(data[start:start + nlibs * entry.size]):
        subdir = None
        if hwcap & _HWCAP_EXTENSION and hwcaps is not None:
            index = hwcap & 0xFFFFFFFF
            if index < len(hwcaps):
                subdir = _cstring(data, base + hwcaps[index])
        entries.append(CacheEntry(_cstring(data, base + key), _cstring(data, base + value),
                                  flags_, osversion, hwcap, subdir))
    return entries, generator


def _parse_extensions(data, offset, order):
    """glibc >= 2.33 extension directory: glibc-hwcaps subdirectory names and generator."""
    if not offset or offset + 8 > len(data):
        return None, None
    magic, count = struct.unpack_from(order + "II", data, offset)
    if magic != _EXT_MAGIC:
        return None, None
    hwcaps = generator = None
    for i in range(count):
        pos = offset + 8 + 16 * i
        if pos + 16 > len(data):
            raise LdCacheError("truncated cache extension directory")
        tag, _flags, sec_offset, size = struct.unpack_from(order + "IIII", data, pos)
        if sec_offset + size > len(data):
            raise LdCacheError("cache extension section outside the file")
        if tag == _EXT_TAG_GLIBC_HWCAPS:
            hwcaps = struct.unpack_from(order + "%dI" % (size // 4), data, sec_offset)
        elif tag == 0:
            generator = data[sec_offset:sec_offset + size].decode("utf-8", "replace")
    return hwcaps, generator


def parse_cache(data):
    """Bytes of an ld.so.cache -> LdCache. Raises LdCacheError on anything else."""
    if data.startswith(NEW_MAGIC):
        entries, generator = _parse_new(data, 0)
        return LdCache("new", entries, generator)
    if not data.startswith(OLD_MAGIC + b"\0"):
        raise LdCacheError("not an ld.so.cache (magic %r)" % data[:20])
    if len(data) < _OLD_HEADER.size:
        raise LdCacheError("truncated old-format header")
    nlibs = _OLD_HEADER.unpack_from(data)[1]
    strings = _OLD_HEADER.size + nlibs * _OLD_ENTRY.size
    if strings > len(data):
        raise LdCacheError("cache announces %d entries but holds fewer" % nlibs)
    # A new cache hides in the string table, aligned to 8 bytes (ALIGN_CACHE).
    new_base = (strings + 7) & ~7
    if data[new_base:new_base + len(NEW_MAGIC)] == NEW_MAGIC:
        entries, generator = _parse_new(data, new_base)
        return LdCache("old+new", entries, generator)
    entries = [
        CacheEntry(_cstring(data, strings + key), _cstring(data, strings + value), flags)
        for flags, key, value in _OLD_ENTRY.iter_unpack(data[_OLD_HEADER.size:strings])
    ]
    return LdCache("old", entries)


def read_cache(path):
    """Parse the cache file at ``path`` (OSError and LdCacheError propagate)."""
    with open(path, "rb") as handle:
        return parse_cache(handle.read())


_LINE_RE = re.compile(r"^\s+(?P<name>\S+) \((?P<label>[^)]*)\) => (?P<path>.+)$")
_LABEL_FLAGS = {}
for _type, _type_label in TYPE_LABELS.items():
    _LABEL_FLAGS[_type_label] = _type
    for _req, (_suffix, _machine) in sorted(REQUIRED_LABELS.items(), reverse=True):
        # Shared labels (",64bit", ",soft-float") keep the lowest flag value.
        _LABEL_FLAGS[_type_label + _suffix] = _type | _req


def parse_ldconfig_p(text):
    """``ldconfig -p`` output -> list of CacheEntry (flags rebuilt from the label).

    Labels several flags share (``,64bit``) map to one of them; the label
    itself round-trips. hwcap is kept only as the glibc-hwcaps subdirectory name.
    """
    entries = []
    for line in text.splitlines():
        match = _LINE_RE.match(line)
        if not match:
            continue
        parts = match.group("label").split(", ")
        abi = parts[0]
        subdir = None
        for part in parts[1:]:
            if part.startswith('hwcap: "'):
                subdir = part[len('hwcap: "'):].rstrip('"')
        flags = _LABEL_FLAGS.get(abi)
        if flags is None:
            raise LdCacheError("unknown ABI label %r in ldconfig output" % abi)
        entries.append(CacheEntry(match.group("name"), match.group("path"), flags, hwcap_subdir=subdir))
    return entries
