# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Library lookup: shared_library_info's cache parser versus `ldconfig -p | grep`, once per library.

Builds, in a temporary directory, 2,000 tiny ELF shared objects (a header, a
dynamic section with DT_SONAME and DT_NEEDED libc.so.6, nothing else) plus 10 of
the libraries looked up (libcaffe and libhdfs stay missing), and lets the real
`ldconfig -r <tmp> -X -C /ld.so.cache -f /ld.so.conf` index them.
Then, over --rounds rounds, it times:

* parser: read the cache and look up the 10 libraries in-process (the module's
  own `read_cache` + `find_libraries`, including realpath of each match);
* module process: the whole module as Ansible runs it, a new Python process
  (`python shared_library_info.py args.json`);
* shell: `sh -c 'ldconfig -p -C <cache> | grep <lib>'` once for each of the 10 libraries.

Run from the repository root after `make venv link`:
    .venv/bin/python benchmarks/library_info_bench.py [--libs 2000] [--rounds 15]
It writes only to a temporary directory, removed at the end. Needs glibc's ldconfig.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # ansible_collections/dlstack/cdh -> ../.. (make link)

from ansible_collections.dlstack.cdh.plugins.module_utils.ldcache import read_cache  # noqa: E402
from ansible_collections.dlstack.cdh.plugins.modules.shared_library_info import find_libraries  # noqa: E402

QUERIES = ["libcudart", "libcublas", "libcudnn", "libnccl", "libnvidia-ml", "libopenblas",
           "libboost_system", "libcaffe", "libjvm", "libhdfs"]
# What a typical GPU node has in the cache; libcaffe and libhdfs stay missing (the usual case).
PRESENT = ["libcudart.so.11.0", "libcublas.so.11", "libcublasLt.so.11", "libcudnn.so.8",
           "libcudnn_ops_infer.so.8", "libnccl.so.2", "libnvidia-ml.so.1", "libopenblas.so.0",
           "libboost_system.so.1.74.0", "libjvm.so"]
E_MACHINE = {"x86_64": 62, "aarch64": 183}


def tiny_elf(soname, machine):
    """Smallest ELF64 shared object ldconfig accepts: PT_LOAD + PT_DYNAMIC, strtab."""
    strtab = b"\0libc.so.6\0" + soname.encode() + b"\0"
    dyn_off = 64 + 2 * 56
    str_off = dyn_off + 5 * 16
    size = str_off + len(strtab)
    ehdr = struct.pack("<4sBBBB8xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 3, machine, 1, 0, 64, 0, 0,
                       64, 56, 2, 64, 0, 0)
    load = struct.pack("<IIQQQQQQ", 1, 4, 0, 0, 0, size, size, 0x1000)
    dynamic = struct.pack("<IIQQQQQQ", 2, 6, dyn_off, dyn_off, dyn_off, 5 * 16, 5 * 16, 8)
    dyn = struct.pack("<qQqQqQqQqQ", 1, 1, 14, 11, 5, str_off, 10, len(strtab), 0, 0)
    return ehdr + load + dynamic + dyn + strtab


def build_cache(tmp, count, ldconfig):
    machine = E_MACHINE.get(platform.machine())
    if machine is None:
        sys.exit("no ELF machine number for %s" % platform.machine())
    lib_dir = os.path.join(tmp, "opt", "gen")
    os.makedirs(lib_dir)
    names = ["libgen%04d_%s.so.%d" % (i, "abcdefgh"[i % 8] * (i % 7 + 1), i % 5) for i in range(count)]
    for soname in names + PRESENT:
        with open(os.path.join(lib_dir, soname), "wb") as handle:
            handle.write(tiny_elf(soname, machine))
    with open(os.path.join(tmp, "ld.so.conf"), "w") as handle:
        handle.write("/opt/gen\n")
    # -r: every path (conf, cache, aux-cache, trusted dirs) under tmp, so the system's
    # /var/cache/ldconfig/aux-cache is not rewritten; -X: no symlinks made.
    subprocess.run([ldconfig, "-r", tmp, "-X", "-C", "/ld.so.cache", "-f", "/ld.so.conf"], check=True)
    return os.path.join(tmp, "ld.so.cache")


def median_time(func, rounds):
    times = []
    for _round in range(rounds):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--libs", type=int, default=2000, help="generated libraries (default 2000)")
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per approach (default 15)")
    args = parser.parse_args()
    ldconfig = shutil.which("ldconfig") or shutil.which("ldconfig", path="/sbin:/usr/sbin")
    if not ldconfig:
        sys.exit("ldconfig not found")

    tmp = tempfile.mkdtemp(prefix="library-info-bench-")
    try:
        cache = build_cache(tmp, args.libs, ldconfig)
        parsed = read_cache(cache)
        entries, generator = parsed.entries, parsed.generator
        host = platform.machine()

        def parser_lookup():
            found, _missing = find_libraries(read_cache(cache).entries, QUERIES, [], [], host)
            return found

        args_file = os.path.join(tmp, "args.json")
        with open(args_file, "w") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": {"names": QUERIES, "cache_path": cache, "cuda_homes": [],
                                               "cudnn_include_dirs": [], "ld_so_conf_dir": tmp}}, handle)
        module_path = os.path.join(ROOT, "plugins", "modules", "shared_library_info.py")
        env = dict(os.environ, PYTHONPATH=ROOT)

        def module_process():
            out = subprocess.run([sys.executable, module_path, args_file], env=env, check=True,
                                 capture_output=True, text=True).stdout
            return json.loads(out)

        def shell_grep():
            return {lib: subprocess.run(["sh", "-c", "%s -p -C %s | grep %s" % (ldconfig, cache, lib)],
                                        capture_output=True, text=True, check=False).stdout
                    for lib in QUERIES}

        # Same answer from all three before timing anything.
        found = parser_lookup()
        assert module_process()["libraries"] == found
        grep = shell_grep()
        for lib in QUERIES:
            assert bool(found[lib]) == bool(grep[lib].strip()), lib

        rows = [("parser, in-process", median_time(parser_lookup, args.rounds)),
                ("module, new process", median_time(module_process, args.rounds)),
                ("ldconfig -p | grep x10", median_time(shell_grep, args.rounds))]
    finally:
        shutil.rmtree(tmp)

    shell = rows[-1][1]
    found_count = sum(1 for lib in QUERIES if found[lib])
    print("cache: %d entries, %s; %d of %d queries present; median of %d rounds"
          % (len(entries), generator, found_count, len(QUERIES), args.rounds))
    print("%-24s %12s %16s" % ("approach", "median ms", "shell / approach"))
    for name, seconds in rows:
        print("%-24s %12.2f %16.1f" % (name, seconds * 1000, shell / seconds))


if __name__ == "__main__":
    main()
