# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SONAME reader against this host's real shared objects and ELF files laid out from the gABI."""

from __future__ import annotations

import os
import struct

import pytest

from ansible_collections.dlstack.cdh.plugins.module_utils import elf, ldcache


def host_library(name):
    """Path of a real library this host's ld cache lists under ``name`` (None when absent)."""
    try:
        entries = ldcache.read_cache("/etc/ld.so.cache").entries
    except (OSError, ldcache.LdCacheError):
        return None
    for entry in entries:
        if entry.name == name and os.path.isfile(entry.path):
            return entry.path
    return None


def build_elf(klass, order, soname, strtab_vaddr=0x1000, load_vaddr=0x1000):
    """A minimal ET_DYN file: ELF header, PT_LOAD + PT_DYNAMIC headers, .dynamic, .dynstr.

    Sizes and field order of Elf32/Elf64 Ehdr, Phdr and Dyn as in the System V gABI.
    """
    ehdr = "HHIQQQIHHHHHH" if klass == 2 else "HHIIIIIHHHHHH"
    phdr = "IIQQQQQQ" if klass == 2 else "IIIIIIII"
    dyn = "qQ" if klass == 2 else "iI"
    ehsize, phsize, dynsize = 16 + struct.calcsize(order + ehdr), struct.calcsize(order + phdr), struct.calcsize(order + dyn)
    phoff = ehsize
    dyn_off = phoff + 2 * phsize
    strings = b"\0libc.so.6\0" + soname.encode() + b"\0" if soname else b"\0libc.so.6\0"
    str_off = dyn_off + 4 * dynsize
    total = str_off + len(strings)
    entries = [(1, 0)]  # DT_NEEDED libc.so.6
    entries.append((5, strtab_vaddr))  # DT_STRTAB
    entries.append((14, 11) if soname else (0x6ffffff0, 0))  # DT_SONAME or DT_VERSYM
    entries.append((0, 0))  # DT_NULL
    ident = b"\x7fELF" + bytes([klass, 1 if order == "<" else 2, 1, 0]) + b"\0" * 8
    out = ident + struct.pack(order + ehdr, 3, 62, 1, 0, phoff, 0, 0, ehsize, phsize, 2, 0, 0, 0)
    # PT_LOAD maps the string table's file offset at strtab_vaddr.
    load_offset = str_off - (strtab_vaddr - load_vaddr)
    if klass == 2:
        out += struct.pack(order + phdr, 1, 4, load_offset, load_vaddr, load_vaddr, total - load_offset, total - load_offset, 0x1000)
        out += struct.pack(order + phdr, 2, 6, dyn_off, 0x2000, 0x2000, 4 * dynsize, 4 * dynsize, 8)
    else:
        out += struct.pack(order + phdr, 1, load_offset, load_vaddr, load_vaddr, total - load_offset, total - load_offset, 4, 0x1000)
        out += struct.pack(order + phdr, 2, dyn_off, 0x2000, 0x2000, 4 * dynsize, 4 * dynsize, 6, 4)
    for tag, value in entries:
        out += struct.pack(order + dyn, tag, value)
    return out + strings


@pytest.mark.parametrize("klass, order", [(2, "<"), (2, ">"), (1, "<"), (1, ">")])
def test_built_elf_every_class_and_byte_order(tmp_path, klass, order):
    path = tmp_path / "libcudnn.so.9.1.0"
    path.write_bytes(build_elf(klass, order, "libcudnn.so.9"))
    assert elf.soname(str(path)) == "libcudnn.so.9"


def test_strtab_inside_a_later_part_of_the_load_segment(tmp_path):
    path = tmp_path / "libx.so.1"
    path.write_bytes(build_elf(2, "<", "libx.so.1", strtab_vaddr=0x1010, load_vaddr=0x1000))
    assert elf.soname(str(path)) == "libx.so.1"


def test_no_soname_no_elf_and_truncated(tmp_path):
    no_soname = tmp_path / "a.out"
    no_soname.write_bytes(build_elf(2, "<", None))
    text = tmp_path / "libtext.so"
    text.write_text("INPUT(libc.so.6)\n")  # a linker script, as some lib*.so dev files are
    truncated = tmp_path / "libtrunc.so.1"
    truncated.write_bytes(build_elf(2, "<", "libtrunc.so.1")[:70])
    assert elf.soname(str(no_soname)) is None
    assert elf.soname(str(text)) is None
    assert elf.soname(str(truncated)) is None
    empty = tmp_path / "libempty.so.1"
    empty.write_bytes(b"")
    assert elf.soname(str(empty)) is None
    with pytest.raises(OSError):
        elf.soname(str(tmp_path / "absent.so.1"))


@pytest.mark.skipif(host_library("libc.so.6") is None, reason="no libc.so.6 in this host's ld cache")
def test_real_libc_of_this_host():
    assert elf.soname(host_library("libc.so.6")) == "libc.so.6"
