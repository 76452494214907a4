#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: shared_library_info
short_description: Report which shared libraries the dynamic linker will find (CUDA, cuDNN, BLAS, JVM...)
version_added: "0.1.0"
description:
  - Reads C(/etc/ld.so.cache) directly (the file the dynamic linker itself consults) and looks up
    libraries by base name, glob or regular expression.
  - Understands the new C(glibc-ld.so.cache1.1) format, the old C(ld.so-1.7.0) format and the
    compat layout (old format with the new one embedded). When the file cannot be read or parsed,
    falls back to parsing C(ldconfig -p -C <cache_path>).
  - Also reports the CUDA toolkit version of each CUDA home (C(version.json), C(version.txt) or
    C(nvcc --version)), the cuDNN version from its headers, binaries with unresolved dependencies
    (C(ldd)) and directories listed in C(ld.so.conf.d) that do not exist.
  - Read-only; never changes anything.
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
options:
  names:
    description:
      - Library base names or shell globs, for example C(libcudart), C(libcudnn*), C(libboost_*).
      - Each matches the sonames C(<name>.so*) in the cache; a name that already contains C(.so)
        is used as the glob itself (C(libcudart.so.11.0)).
    type: list
    elements: str
    default: []
  patterns:
    description:
      - Python regular expressions searched (C(re.search)) in each soname.
      - An invalid expression fails the module before anything is read.
    type: list
    elements: str
    default: []
  binaries:
    description:
      - Executables or libraries to check with C(ldd) for dependencies reported as C(not found).
      - C(ldd) may run the program's own loader; only list trusted files.
    type: list
    elements: path
    default: []
  cache_path:
    description: The dynamic linker cache to read.
    type: path
    default: /etc/ld.so.cache
  cuda_homes:
    description:
      - CUDA toolkit directories to report versions of. C(/usr/lib/cuda) (Debian's
        C(nvidia-cuda-toolkit) layout) is always checked as well.
    type: list
    elements: path
    default: [/usr/local/cuda]
  cudnn_include_dirs:
    description:
      - Directories searched, in order, for C(cudnn_version.h) (cuDNN 8 and later) or C(cudnn.h)
        (cuDNN 7 and earlier, where the version macros live in C(cudnn.h)).
      - Defaults to the C(include) directory of each CUDA home, then C(/usr/include) and
        C(/usr/include/x86_64-linux-gnu).
    type: list
    elements: path
  ld_so_conf_dir:
    description: Directory of C(*.conf) files naming library directories for C(ldconfig).
    type: path
    default: /etc/ld.so.conf.d
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode runs it unchanged.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
notes:
  - The cache lists what C(ldconfig) last saw. A library installed without running C(ldconfig)
    is not in it; C(stale_ld_so_conf_dirs) and C(missing) help spot that.
  - Libraries found only through C(LD_LIBRARY_PATH) or an RPATH are not in the cache and so are
    not reported under C(libraries); C(binaries) shows what a given program really resolves.
seealso:
  - name: ldconfig(8)
    description: The tool that writes the cache.
    link: https://man7.org/linux/man-pages/man8/ldconfig.8.html
"""

EXAMPLES = r"""
- name: Which CUDA, cuDNN and BLAS libraries will programs load?
  dlstack.cdh.shared_library_info:
    names: [libcudart, libcublas, libcudnn, libnccl, libnvidia-ml, libopenblas]
  register: libs

- name: Fail early when cuDNN is missing
  ansible.builtin.assert:
    that: "'libcudnn' not in libs.missing"
    fail_msg: "cuDNN is not in the linker cache; install it and run ldconfig"

- name: Boost libraries of any component, and the JVM of a Hadoop node
  dlstack.cdh.shared_library_info:
    names: ["libboost_*", libjvm, libhdfs]
    patterns: ['^libcaffe(-nv)?\.so']

- name: Check that Caffe's binary resolves all its libraries
  dlstack.cdh.shared_library_info:
    binaries: [/opt/caffe/build/tools/caffe]
    cuda_homes: [/usr/local/cuda-11.8]
  register: caffe_libs

- name: Show unresolved dependencies
  ansible.builtin.debug:
    var: caffe_libs.binaries['/opt/caffe/build/tools/caffe'].missing
"""

RETURN = r"""
cache_format:
  description:
    - C(new) (glibc 2.32 and later default), C(old+new) (compat layout), C(old), or C(ldconfig) when
      the file could not be parsed and C(ldconfig -p) was read instead.
  returned: always
  type: str
  sample: new
cache_error:
  description: Why the cache file itself could not be used (only with C(cache_format=ldconfig)).
  returned: when the fallback was used
  type: str
  sample: "not an ld.so.cache (magic b'\\x00\\x00')"
entry_count:
  description: Number of entries in the cache.
  returned: always
  type: int
  sample: 547
libraries:
  description:
    - Query (each of O(names) and O(patterns)) to the matching cache entries, in cache order,
      which is the order the dynamic linker prefers.
  returned: always
  type: dict
  sample:
    libcudart:
      - name: libcudart.so.11.0
        path: /usr/lib/x86_64-linux-gnu/libcudart.so.11.0
        version: "11.8.89"
        arch: libc6,x86-64
        machine: x86-64
        hwcap: null
        real_path: /usr/lib/x86_64-linux-gnu/libcudart.so.11.8.89
  contains:
    name:
      description: The soname.
      type: str
    path:
      description: The path the cache points to.
      type: str
    version:
      description:
        - Dotted version parsed from the file name (C(libcudnn.so.8.9.7) gives C(8.9.7)), taken from
          RV(libraries.real_path) when the symlink resolves, else from RV(libraries.path).
        - Null when the name carries no version.
      type: str
    arch:
      description: The ABI label as C(ldconfig -p) prints it (C(libc6,x86-64), C(libc6), C(libc6,AArch64)).
      type: str
    machine:
      description:
        - Short architecture (C(x86-64), C(i386), C(aarch64), C(x32), C(armhf)...). Entries without
          an ABI flag are the host family's 32-bit default (C(i386) on x86).
      type: str
    hwcap:
      description: glibc-hwcaps subdirectory (C(x86-64-v3)...) for such entries, else null.
      type: str
    real_path:
      description: The file the path resolves to, or null when the path does not exist on this host.
      type: str
missing:
  description: Queries that matched nothing.
  returned: always
  type: list
  elements: str
  sample: [libcudnn, libnccl]
cuda:
  description: CUDA toolkits found in O(cuda_homes) and C(/usr/lib/cuda), one per real directory.
  returned: always
  type: list
  elements: dict
  sample:
    - home: /usr/local/cuda
      real_home: /usr/local/cuda-11.8
      version: "11.8.89"
      source: version.json
  contains:
    home:
      description: The directory as given.
      type: str
    real_home:
      description: The directory with symlinks resolved.
      type: str
    version:
      description: C(cuda_cudart) version of C(version.json) (else its C(cuda) key), or the version in C(version.txt) or C(nvcc).
      type: str
    source:
      description: C(version.json), C(version.txt) or C(nvcc).
      type: str
cudnn:
  description: cuDNN version from the first header found, or null.
  returned: always
  type: dict
  sample:
    version: "8.9.7"
    header: /usr/include/cudnn_version.h
binaries:
  description: O(binaries) path to the result of C(ldd).
  returned: always
  type: dict
  sample:
    /opt/caffe/build/tools/caffe:
      ok: false
      missing: [libcudnn.so.8]
      dynamic: true
  contains:
    ok:
      description: True when the file exists and every dependency resolves.
      type: bool
    missing:
      description: Dependencies C(ldd) reports as C(not found).
      type: list
      elements: str
    dynamic:
      description: False for static executables (nothing to resolve).
      type: bool
    error:
      description: Why the file could not be checked (absent file, C(ldd) error).
      type: str
      returned: when the check failed
ld_so_conf:
  description: Each C(*.conf) file in O(ld_so_conf_dir) to the directories it lists (C(include) lines are followed).
  returned: always
  type: dict
  sample:
    /etc/ld.so.conf.d/cuda.conf: [/usr/local/cuda/lib64]
stale_ld_so_conf_dirs:
  description: Directories listed in those files that do not exist.
  returned: always
  type: list
  elements: str
  sample: [/usr/local/cuda-10.0/lib64]
"""

import fnmatch
import glob
import json
import os
import platform
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlstack.cdh.plugins.module_utils.command import find_binary, run
from ansible_collections.dlstack.cdh.plugins.module_utils.ldcache import (
    LdCacheError, flags_label, flags_machine, parse_ldconfig_p, read_cache,
)

DEBIAN_CUDA_HOME = "/usr/lib/cuda"
DEFAULT_INCLUDE_DIRS = ["/usr/include", "/usr/include/x86_64-linux-gnu"]
SBIN_DIRS = ["/sbin", "/usr/sbin", "/usr/local/sbin"]

# libfoo.so.1.2.3 -> 1.2.3; libfoo-1.2.so -> 1.2 (libtool -release style names).
_SO_VERSION_RE = re.compile(r"\.so\.(\d+(?:\.\d+)*)$")
_RELEASE_VERSION_RE = re.compile(r"-(\d+(?:\.\d+)+)\.so$")
_VERSION_TXT_RE = re.compile(r"CUDA Version\s+(\d+(?:\.\d+)*)")
_NVCC_RE = re.compile(r"release \d+(?:\.\d+)*, V(\d+(?:\.\d+)*)")
_LDD_NOT_FOUND_RE = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$", re.M)


def file_version(filename):
    """Dotted version in a library file name, or None."""
    base = os.path.basename(filename)
    match = _SO_VERSION_RE.search(base) or _RELEASE_VERSION_RE.search(base)
    return match.group(1) if match else None


def compile_patterns(module, patterns):
    compiled = []
    for index, pattern in enumerate(patterns):
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            module.fail_json(msg="patterns[%d] %r is not a valid regular expression: %s" % (index, pattern, exc))
    return compiled


def load_cache(module, cache_path):
    """(format, entries, error). Falls back to `ldconfig -p` when the file is unusable."""
    try:
        cache = read_cache(cache_path)
        return cache.format, cache.entries, None
    except (OSError, LdCacheError) as exc:
        error = "%s: %s" % (cache_path, exc)
    ldconfig = find_binary(module, "ldconfig", extra_dirs=SBIN_DIRS)
    if ldconfig is None:
        module.fail_json(msg="cannot read %s and ldconfig is not installed" % error)
    result = run(module, [ldconfig, "-p", "-C", cache_path])
    if result.rc != 0:
        module.fail_json(msg="cannot read %s, and ldconfig -p failed (rc=%d): %s"
                         % (error, result.rc, (result.stderr or result.stdout).strip()),
                         cmd=result.argv)
    try:
        return "ldconfig", parse_ldconfig_p(result.stdout), error
    except LdCacheError as exc:
        module.fail_json(msg="cannot read %s, and cannot parse ldconfig -p: %s" % (error, exc))


def describe(entry, host_machine):
    real_path = os.path.realpath(entry.path) if os.path.exists(entry.path) else None
    return {
        "name": entry.name,
        "path": entry.path,
        "version": file_version(real_path or entry.path),
        "arch": flags_label(entry.flags),
        "machine": flags_machine(entry.flags, host_machine),
        "hwcap": entry.hwcap_subdir,
        "real_path": real_path,
    }


def name_glob(name):
    return name if ".so" in name else name + ".so*"


def glob_matcher(pattern):
    """fnmatchcase() for many names: compiled once, with a cheap literal-prefix test first."""
    prefix = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    regex = re.compile(fnmatch.translate(pattern))
    return lambda soname: soname.startswith(prefix) and regex.match(soname) is not None


def find_libraries(entries, names, patterns, compiled, host_machine):
    """query -> matching entries, plus the queries that matched nothing."""
    matchers = [(name, glob_matcher(name_glob(name))) for name in names]
    matchers += [(pattern, regex.search) for pattern, regex in zip(patterns, compiled)]
    libraries = {}
    for query, matches in matchers:
        libraries[query] = [describe(e, host_machine) for e in entries if matches(e.name)]
    missing = [query for query, _m in matchers if not libraries[query]]
    return libraries, missing


def read_text(path):
    with open(path, "r", errors="replace") as handle:
        return handle.read()


def cuda_version(module, home):
    """(version, source) of the toolkit in ``home``, or (None, None)."""
    json_path = os.path.join(home, "version.json")
    if os.path.isfile(json_path):
        try:
            data = json.loads(read_text(json_path))
        except (OSError, ValueError) as exc:
            module.warn("%s is not valid JSON: %s" % (json_path, exc))
            data = {}
        for key in ("cuda_cudart", "cuda"):
            version = (data.get(key) or {}).get("version") if isinstance(data, dict) else None
            if version:
                return str(version), "version.json"
    txt_path = os.path.join(home, "version.txt")
    if os.path.isfile(txt_path):
        match = _VERSION_TXT_RE.search(read_text(txt_path))
        if match:
            return match.group(1), "version.txt"
    nvcc = os.path.join(home, "bin", "nvcc")
    if os.access(nvcc, os.X_OK):
        result = run(module, [nvcc, "--version"])
        match = _NVCC_RE.search(result.stdout or "")
        if result.rc == 0 and match:
            return match.group(1), "nvcc"
    return None, None


def find_cuda(module, homes):
    found, seen = [], set()
    for home in homes:
        real = os.path.realpath(home)
        if real in seen or not os.path.isdir(home):
            continue
        seen.add(real)
        version, source = cuda_version(module, home)
        if version:
            found.append({"home": home, "real_home": real, "version": version, "source": source})
    return found


def cudnn_from_header(path):
    text = read_text(path)
    parts = []
    for macro in ("CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL"):
        match = re.search(r"^\s*#\s*define\s+%s\s+(\d+)" % macro, text, re.M)
        if not match:
            return None
        parts.append(match.group(1))
    return ".".join(parts)


def find_cudnn(include_dirs):
    for directory in include_dirs:
        # cudnn_version_v8.h is what Ubuntu/Debian-style packages install behind alternatives.
        candidates = [os.path.join(directory, "cudnn_version.h")]
        candidates += sorted(glob.glob(os.path.join(directory, "cudnn_version_v*.h")), reverse=True)
        candidates.append(os.path.join(directory, "cudnn.h"))
        for header in candidates:
            if os.path.isfile(header):
                version = cudnn_from_header(header)
                if version:
                    return {"version": version, "header": header}
    return None


def check_binaries(module, paths):
    results = {}
    ldd = None
    for path in paths:
        if not os.path.exists(path):
            results[path] = {"ok": False, "missing": [], "dynamic": None, "error": "file does not exist"}
            continue
        ldd = ldd or find_binary(module, "ldd", required=True)
        result = run(module, [ldd, path])
        output = (result.stdout or "") + (result.stderr or "")
        # glibc's ldd: "statically linked" (rc 0) for static ELF programs,
        # "not a dynamic executable" (rc 1) for anything it cannot load.
        if "statically linked" in output:
            results[path] = {"ok": True, "missing": [], "dynamic": False}
        elif result.rc != 0 and "not a dynamic executable" in output:
            results[path] = {"ok": False, "missing": [], "dynamic": False,
                             "error": "not a dynamic executable"}
        elif result.rc != 0:
            results[path] = {"ok": False, "missing": [], "dynamic": None,
                             "error": "ldd failed (rc=%d): %s" % (result.rc, output.strip())}
        else:
            missing = _LDD_NOT_FOUND_RE.findall(result.stdout or "")
            results[path] = {"ok": not missing, "missing": missing, "dynamic": True}
    return results


def conf_dirs(path, seen):
    """Directories named in one ld.so.conf-style file, following include lines."""
    dirs = []
    if path in seen:
        return dirs
    seen.add(path)
    try:
        text = read_text(path)
    except OSError:
        return dirs
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("hwcap "):
            continue
        if line.startswith("include ") or line.startswith("include\t"):
            pattern = line.split(None, 1)[1]
            pattern = pattern if os.path.isabs(pattern) else os.path.join(os.path.dirname(path), pattern)
            for included in sorted(glob.glob(pattern)):
                dirs.extend(conf_dirs(included, seen))
            continue
        # ldconfig accepts "dir=TYPE" (libc5 era) and several dirs on one line.
        for item in re.split(r"[\s,:]+", line):
            if item:
                dirs.append(item.split("=", 1)[0])
    return dirs


def read_ld_so_conf(conf_dir):
    conf = {}
    for path in sorted(glob.glob(os.path.join(conf_dir, "*.conf"))):
        conf[path] = conf_dirs(path, set())
    stale = sorted({d for dirs in conf.values() for d in dirs if not os.path.isdir(d)})
    return conf, stale


def main():
    module = AnsibleModule(
        argument_spec=dict(
            names=dict(type="list", elements="str", default=[]),
            patterns=dict(type="list", elements="str", default=[]),
            binaries=dict(type="list", elements="path", default=[]),
            cache_path=dict(type="path", default="/etc/ld.so.cache"),
            cuda_homes=dict(type="list", elements="path", default=["/usr/local/cuda"]),
            cudnn_include_dirs=dict(type="list", elements="path"),
            ld_so_conf_dir=dict(type="path", default="/etc/ld.so.conf.d"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    compiled = compile_patterns(module, params["patterns"])

    fmt, entries, cache_error = load_cache(module, params["cache_path"])
    libraries, missing = find_libraries(entries, params["names"], params["patterns"], compiled,
                                        platform.machine())

    homes = list(params["cuda_homes"])
    if DEBIAN_CUDA_HOME not in homes:
        homes.append(DEBIAN_CUDA_HOME)
    include_dirs = params["cudnn_include_dirs"]
    if include_dirs is None:
        include_dirs = [os.path.join(h, "include") for h in homes] + DEFAULT_INCLUDE_DIRS
    ld_so_conf, stale = read_ld_so_conf(params["ld_so_conf_dir"])

    result = dict(
        changed=False,
        cache_format=fmt,
        entry_count=len(entries),
        libraries=libraries,
        missing=missing,
        cuda=find_cuda(module, homes),
        cudnn=find_cudnn(include_dirs),
        binaries=check_binaries(module, params["binaries"]),
        ld_so_conf=ld_so_conf,
        stale_ld_so_conf_dirs=stale,
    )
    if cache_error:
        result["cache_error"] = cache_error
    module.exit_json(**result)


if __name__ == "__main__":
    main()
