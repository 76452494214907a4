# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DT_SONAME of an ELF shared object, read with struct (no pyelftools on managed nodes).

Layout from the System V ABI (gABI, "ELF Header", "Program Header", "Dynamic Section") as
glibc's ``elf.h`` declares it: the program headers give the PT_DYNAMIC segment and the
PT_LOAD segments; DT_STRTAB is a virtual address, mapped to a file offset through the
PT_LOAD segment that contains it; DT_SONAME is an offset into that string table.
"""

from __future__ import annotations

import struct

ELF_MAGIC = b"\x7fELF"
_ELFCLASS32, _ELFCLASS64 = 1, 2
_ELFDATA2LSB, _ELFDATA2MSB = 1, 2
_PT_LOAD, _PT_DYNAMIC = 1, 2
_DT_NULL, _DT_STRTAB, _DT_SONAME = 0, 5, 14
# e_type .. e_shstrndx after the 16-byte e_ident.
_EHDR = {_ELFCLASS32: "HHIIIIIHHHHHH", _ELFCLASS64: "HHIQQQIHHHHHH"}
# Elf32_Phdr: type, offset, vaddr, paddr, filesz, memsz, flags, align;
# Elf64_Phdr: type, flags, offset, vaddr, paddr, filesz, memsz, align.
_PHDR = {_ELFCLASS32: "IIIIIIII", _ELFCLASS64: "IIQQQQQQ"}
_DYN = {_ELFCLASS32: "iI", _ELFCLASS64: "qQ"}
_MAX_PHNUM = 4096
_MAX_DYNAMIC = 1 << 20
_MAX_SONAME = 4096


def _read_at(handle, offset, size):
    handle.seek(offset)
    return handle.read(size)


def soname(path):
    """The file's DT_SONAME, or None when it is not ELF or names none. OSError propagates."""
    with open(path, "rb") as handle:
        ident = handle.read(16)
        if len(ident) < 16 or ident[:4] != ELF_MAGIC:
            return None
        klass, encoding = ident[4], ident[5]
        if klass not in _EHDR or encoding not in (_ELFDATA2LSB, _ELFDATA2MSB):
            return None
        order = "<" if encoding == _ELFDATA2LSB else ">"
        ehdr = struct.Struct(order + _EHDR[klass])
        raw = handle.read(ehdr.size)
        if len(raw) < ehdr.size:
            return None
        fields = ehdr.unpack(raw)
        phoff, phentsize, phnum = fields[4], fields[8], fields[9]
        phdr = struct.Struct(order + _PHDR[klass])
        if phnum > _MAX_PHNUM or phentsize < phdr.size:
            return None

        loads, dynamic = [], None
        for index in range(phnum):
            raw = _read_at(handle, phoff + index * phentsize, phdr.size)
            if len(raw) < phdr.size:
                return None
            values = phdr.unpack(raw)
            if klass == _ELFCLASS64:
                p_type, _flags, offset, vaddr, _paddr, filesz = values[:6]
            else:
                p_type, offset, vaddr, _paddr, filesz = values[:5]
            if p_type == _PT_LOAD:
                loads.append((vaddr, offset, filesz))
            elif p_type == _PT_DYNAMIC:
                dynamic = (offset, filesz)
        if dynamic is None:
            return None

        dyn = struct.Struct(order + _DYN[klass])
        raw = _read_at(handle, dynamic[0], min(dynamic[1], _MAX_DYNAMIC))
        strtab = name_offset = None
        for tag, value in dyn.iter_unpack(raw[:len(raw) - len(raw) % dyn.size]):
            if tag == _DT_NULL:
                break
            if tag == _DT_STRTAB:
                strtab = value
            elif tag == _DT_SONAME:
                name_offset = value
        if strtab is None or name_offset is None:
            return None
        for vaddr, offset, filesz in loads:
            if vaddr <= strtab < vaddr + filesz:
                raw = _read_at(handle, offset + (strtab - vaddr) + name_offset, _MAX_SONAME)
                end = raw.find(b"\0")
                return raw[:end].decode("utf-8", "replace") if end > 0 else None
        return None
