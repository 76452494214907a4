# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ld.so.cache parser against real caches and glibc's own `ldconfig -p` output."""

from __future__ import annotations

import os
import struct

import pytest

from ansible_collections.dlstack.cdh.plugins.module_utils import ldcache
from ansible_collections.dlstack.cdh.tests.unit.plugins.module_utils.cache_builder import (
    build_compat, build_new, build_old,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "modules", "fixtures", "ldcache")

REAL_CACHES = [
    ("host-debian12", "new"),
    ("container-debian12-new", "new"),
    ("container-debian12-old", "old"),
    ("container-debian12-compat", "old+new"),
]


def fixture_bytes(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read()


def ldconfig_lines(name):
    """Entry lines of the captured `ldconfig -p -C <cache>` and the announced count."""
    text = fixture_bytes(name + ".ldconfig-p.txt").decode()
    lines = text.splitlines()
    count = int(lines[0].split()[0])
    return count, [line for line in lines[1:] if line.startswith("\t")]


@pytest.mark.parametrize("name,fmt", REAL_CACHES)
def test_real_cache_matches_ldconfig_p_entry_for_entry(name, fmt):
    cache = ldcache.parse_cache(fixture_bytes(name + ".cache"))
    count, lines = ldconfig_lines(name)

    assert cache.format == fmt
    assert len(cache.entries) == count == len(lines)
    # Rebuild each line exactly as glibc's print_entry does (no hwcap entries in these caches).
    printed = ["\t%s (%s) => %s" % (e.name, e.label, e.path) for e in cache.entries]
    assert printed == lines


@pytest.mark.parametrize("name,fmt", REAL_CACHES)
def test_ldconfig_p_parser_round_trips_the_real_output(name, fmt):
    count, lines = ldconfig_lines(name)
    entries = ldcache.parse_ldconfig_p(fixture_bytes(name + ".ldconfig-p.txt").decode())
    cache = ldcache.parse_cache(fixture_bytes(name + ".cache"))

    assert len(entries) == count
    assert [(e.name, e.flags, e.path) for e in entries] == [(e.name, e.flags, e.path) for e in cache.entries]


def test_container_cache_has_the_installed_libraries_and_both_abis():
    cache = ldcache.parse_cache(fixture_bytes("container-debian12-new.cache"))
    by_name = {}
    for entry in cache.entries:
        by_name.setdefault(entry.name, []).append(entry)

    assert [e.path for e in by_name["libnvidia-ml.so.1"]] == ["/lib/x86_64-linux-gnu/libnvidia-ml.so.1"]
    assert by_name["libcudart.so.11.0"][0].label == "libc6,x86-64"
    assert by_name["libboost_system.so.1.74.0"][0].flags == 0x0303
    # libc6:i386 gives 32-bit entries without an ABI flag.
    assert sorted(e.label for e in by_name["libc.so.6"]) == ["libc6", "libc6,x86-64"]
    i386 = [e for e in by_name["libc.so.6"] if e.label == "libc6"][0]
    assert i386.path == "/lib/i386-linux-gnu/libc.so.6"
    assert ldcache.flags_machine(i386.flags, "x86_64") == "i386"
    assert cache.generator.startswith("ldconfig (Debian GLIBC 2.36")


def test_compat_and_old_caches_list_the_same_entries_as_new():
    new = ldcache.parse_cache(fixture_bytes("container-debian12-new.cache"))
    for name in ("container-debian12-old.cache", "container-debian12-compat.cache"):
        other = ldcache.parse_cache(fixture_bytes(name))
        assert [(e.name, e.flags, e.path) for e in other.entries] == [(e.name, e.flags, e.path) for e in new.entries]


ENTRIES = [
    ("libcudnn.so.8", "/usr/lib/x86_64-linux-gnu/libcudnn.so.8", 0x0303),
    ("libcudart.so.11.0", "/usr/local/cuda-11.8/lib64/libcudart.so.11.0", 0x0303),
    ("libc.so.6", "/lib/i386-linux-gnu/libc.so.6", 0x0003),
    ("libfoo.so.1", "/usr/lib/aarch64-linux-gnu/libfoo.so.1", 0x0A03),
    ("libbar.so.2", "/usr/libx32/libbar.so.2", 0x0803),
]


@pytest.mark.parametrize("builder,fmt", [(build_old, "old"), (build_compat, "old+new")])
def test_built_old_layouts(builder, fmt):
    """Odd entry count: compat repeats the last old entry, as ldconfig does."""
    cache = ldcache.parse_cache(builder(ENTRIES))
    assert cache.format == fmt
    assert [(e.name, e.path, e.flags) for e in cache.entries] == ENTRIES
    assert [e.label for e in cache.entries] == [
        "libc6,x86-64", "libc6,x86-64", "libc6", "libc6,AArch64", "libc6,x32"]


@pytest.mark.parametrize("order", ["<", ">"])
def test_new_format_in_either_byte_order_with_hwcaps(order):
    entries = [(n, p, f, 0) for n, p, f in ENTRIES]
    # glibc-hwcaps entry: bit 62 set, ISA level in bits 32+, index into the hwcaps section below.
    entries.insert(0, ("libcudnn.so.8", "/usr/lib/glibc-hwcaps/x86-64-v3/libcudnn.so.8", 0x0303,
                       (1 << 62) | (3 << 32) | 1))
    cache = ldcache.parse_cache(build_new(entries, order=order, hwcaps=["x86-64-v2", "x86-64-v3"]))

    assert cache.format == "new"
    assert cache.generator == "test-builder"
    assert cache.entries[0].hwcap_subdir == "x86-64-v3"
    assert [e.hwcap_subdir for e in cache.entries[1:]] == [None] * len(ENTRIES)
    assert [(e.name, e.path, e.flags) for e in cache.entries[1:]] == ENTRIES


def test_ldconfig_p_line_with_hwcap_subdirectory():
    text = ("2 libs found in cache `/etc/ld.so.cache'\n"
            '\tlibz.so.1 (libc6,x86-64, hwcap: "x86-64-v3") => /usr/lib/glibc-hwcaps/x86-64-v3/libz.so.1\n'
            "\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1\n"
            "Cache generated by: ldconfig (GNU libc) stable release version 2.36\n")
    entries = ldcache.parse_ldconfig_p(text)
    assert [(e.name, e.hwcap_subdir, e.path) for e in entries] == [
        ("libz.so.1", "x86-64-v3", "/usr/lib/glibc-hwcaps/x86-64-v3/libz.so.1"),
        ("libz.so.1", None, "/lib/x86_64-linux-gnu/libz.so.1"),
    ]


def test_ldconfig_p_unknown_label_is_an_error():
    with pytest.raises(ldcache.LdCacheError, match="unknown ABI label"):
        ldcache.parse_ldconfig_p("\tlibz.so.1 (libc9,quantum) => /lib/libz.so.1\n")


@pytest.mark.parametrize("flags,label,machine", [
    (0x0303, "libc6,x86-64", "x86-64"),
    (0x0003, "libc6", "i386"),
    (0x0A03, "libc6,AArch64", "aarch64"),
    (0x0803, "libc6,x32", "x32"),
    (0x0903, "libc6,hard-float", "armhf"),
    (0x0503, "libc6,64bit", "ppc64"),
    (0x0001, "ELF", "i386"),
    (0x0000, "libc4", "i386"),
    (0x7F03, "libc6,32512", None),
    (0x0007, "unknown", "i386"),
])
def test_flag_labels_follow_glibc_print_entry(flags, label, machine):
    assert ldcache.flags_label(flags) == label
    assert ldcache.flags_machine(flags, "x86_64") == machine


def test_untagged_entry_on_unknown_host_has_no_machine():
    assert ldcache.flags_machine(0x0003, "weird") is None


@pytest.mark.parametrize("data,message", [
    (b"", "not an ld.so.cache"),
    (b"\x7fELF" + b"\0" * 60, "not an ld.so.cache"),
    (b"ld.so-1.7.0\0" + struct.pack("=I", 1000), "announces 1000 entries"),
    (b"glibc-ld.so.cache1.1" + b"\0" * 10, "truncated new-format header"),
    (b"glibc-ld.so.cache1.1" + struct.pack("<IIB3xI12x", 50, 0, 2, 0), "announces 50 entries"),
    (b"glibc-ld.so.cache1.1" + struct.pack("<IIB3xI12x", 0, 0, 1, 0), "endianness as invalid"),
    (b"ld.so-1.7.0\0" + struct.pack("=IiII", 1, 3, 500, 501), "outside the cache"),
])
def test_corrupt_caches_raise(data, message):
    with pytest.raises(ldcache.LdCacheError, match=message):
        ldcache.parse_cache(data)


def test_truncated_real_cache_raises():
    data = fixture_bytes("host-debian12.cache")
    with pytest.raises(ldcache.LdCacheError):
        ldcache.parse_cache(data[:2000])
