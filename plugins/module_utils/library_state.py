# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the dynamic linker will find: ld cache lookups, CUDA and cuDNN versions, ldd, ld.so.conf.d.

Shared by the shared_library_info module and the node_compliance module.
"""

from __future__ import annotations

import fnmatch
import glob
import json
import os
import platform
import re

from ansible_collections.dlstack.cdh.plugins.module_utils import elf
from ansible_collections.dlstack.cdh.plugins.module_utils.command import (
    CommandRunner, fmt, ldconfig_runner, ldd_runner,
)
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import CommandNotFound, InvalidInput, ModuleError
from ansible_collections.dlstack.cdh.plugins.module_utils.ldcache import (
    LdCacheError, flags_label, flags_machine, parse_ldconfig_p, read_cache,
)

DEBIAN_CUDA_HOME = "/usr/lib/cuda"
DEFAULT_INCLUDE_DIRS = ["/usr/include", "/usr/include/x86_64-linux-gnu"]

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


def compile_patterns(patterns):
    compiled = []
    for index, pattern in enumerate(patterns):
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise InvalidInput("patterns[%d] %r is not a valid regular expression: %s" % (index, pattern, exc))
    return compiled


def load_cache(module, cache_path):
    """(format, entries, error). Falls back to `ldconfig -p` when the file is unusable."""
    try:
        cache = read_cache(cache_path)
        return cache.format, cache.entries, None
    except (OSError, LdCacheError) as exc:
        error = "%s: %s" % (cache_path, exc)
    try:
        ldconfig = ldconfig_runner(module)
    except CommandNotFound:
        raise CommandNotFound("cannot read %s and ldconfig is not installed" % error)
    result = ldconfig("print_cache cache").run(cache=cache_path)
    if result.rc != 0:
        raise ModuleError("cannot read %s, and ldconfig -p failed (rc=%d): %s"
                          % (error, result.rc, (result.stderr or result.stdout).strip()),
                          cmd=result.argv)
    try:
        return "ldconfig", parse_ldconfig_p(result.stdout), error
    except LdCacheError as exc:
        raise ModuleError("cannot read %s, and cannot parse ldconfig -p: %s" % (error, exc))


STALE_REMEDY = "run ldconfig"


def cache_entry_problem(name, path):
    """(problem, soname): why the file at ``path`` is not the library the cache lists as ``name``.

    problem is None when the entry is current. The cache is only rewritten by ldconfig, so a
    library deleted or replaced since then stays listed; the dynamic linker then fails on it.
    A versioned name (libcudnn.so.9) must be the file's SONAME; an unversioned one (libz.so,
    the link-time name ldconfig also caches) only has to exist. A file whose SONAME cannot be
    read (not ELF, unreadable) is not called stale.
    """
    if not os.path.lexists(path):
        return "%s does not exist" % path, None
    if not os.path.exists(path):
        return "%s is a dangling symlink (to %s)" % (path, os.readlink(path)), None
    if not os.path.isfile(path):
        return "%s is not a file" % path, None
    try:
        found = elf.soname(path)
    except (IOError, OSError):
        return None, None
    if found and found != name and ".so." in name:
        return "%s is now %s (its SONAME), not %s" % (path, found, name), found
    return None, found


def describe(entry, host_machine):
    real_path = os.path.realpath(entry.path) if os.path.exists(entry.path) else None
    problem, soname = cache_entry_problem(entry.name, entry.path)
    return {
        "name": entry.name,
        "path": entry.path,
        "version": file_version(real_path or entry.path),
        "arch": flags_label(entry.flags),
        "machine": flags_machine(entry.flags, host_machine),
        "hwcap": entry.hwcap_subdir,
        "real_path": real_path,
        "soname": soname,
        "stale": problem is not None,
        "stale_reason": "stale ld cache entry: %s (%s)" % (problem, STALE_REMEDY) if problem else None,
    }


def stale_entries(libraries):
    """Distinct stale cache entries among the matches of every query, in query order."""
    found, seen = [], set()
    for matches in libraries.values():
        for match in matches:
            key = (match["name"], match["path"], match["arch"])
            if match["stale"] and key not in seen:
                seen.add(key)
                found.append({"name": match["name"], "path": match["path"], "reason": match["stale_reason"]})
    return found


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
        # "cuda" is the toolkit release (12.4.1 = 12.4 Update 1), which the driver table is keyed
        # on; a component's version (cuda_cudart 12.4.127) cannot tell Update 1 from GA.
        for key in ("cuda", "cuda_cudart"):
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
        result = CommandRunner(module, nvcc, dict(version=fmt.as_fixed("--version")))("version").run()
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
        ldd = ldd or ldd_runner(module)("path")
        result = ldd.run(path=path)
        output = (result.stdout or "") + (result.stderr or "")
        # glibc's ldd: "statically linked" (rc 0) for static ELF programs, "not a dynamic
        # executable" (rc 1) for anything it cannot load; the runner keeps them untranslated.
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


def collect_library_state(module, names=(), patterns=(), binaries=(), cache_path="/etc/ld.so.cache",
                          cuda_homes=("/usr/local/cuda",), cudnn_include_dirs=None,
                          ld_so_conf_dir="/etc/ld.so.conf.d"):
    """The state dict shared_library_info returns (without 'changed')."""
    compiled = compile_patterns(patterns)
    fmt, entries, cache_error = load_cache(module, cache_path)
    libraries, missing = find_libraries(entries, names, patterns, compiled, platform.machine())

    homes = list(cuda_homes)
    if DEBIAN_CUDA_HOME not in homes:
        homes.append(DEBIAN_CUDA_HOME)
    include_dirs = cudnn_include_dirs
    if include_dirs is None:
        include_dirs = [os.path.join(h, "include") for h in homes] + DEFAULT_INCLUDE_DIRS
    ld_so_conf, stale = read_ld_so_conf(ld_so_conf_dir)

    result = dict(
        cache_format=fmt,
        entry_count=len(entries),
        libraries=libraries,
        missing=missing,
        stale_entries=stale_entries(libraries),
        cuda=find_cuda(module, homes),
        cudnn=find_cudnn(include_dirs),
        binaries=check_binaries(module, binaries),
        ld_so_conf=ld_so_conf,
        stale_ld_so_conf_dirs=stale,
    )
    if cache_error:
        result["cache_error"] = cache_error
    return result
