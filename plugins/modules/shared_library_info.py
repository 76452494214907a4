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
extends_documentation_fragment:
  - dlstack.cdh.attributes
  - dlstack.cdh.attributes.info_module
notes:
  - The cache lists what C(ldconfig) last saw. A library installed without running C(ldconfig)
    is not in it; C(stale_ld_so_conf_dirs) and C(missing) help spot that. A library deleted or
    replaced since is still in it; each matched entry is checked against the disk (RV(libraries.stale)).
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
        soname: libcudart.so.11.0
        stale: false
        stale_reason: null
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
    soname:
      description: The C(DT_SONAME) read from the file, or null (no such file, not ELF, none recorded).
      type: str
    stale:
      description:
        - True when the cache entry no longer describes the disk, so the dynamic linker would fail on it
          although the cache lists it. The path does not exist, is a dangling symlink or not a file, or
          (for a versioned name such as C(libcudnn.so.9)) the file's SONAME is another name.
        - Run C(ldconfig) to rewrite the cache.
      type: bool
    stale_reason:
      description: Why the entry is stale, ending with the remedy C((run ldconfig)); null when it is current.
      type: str
missing:
  description: Queries that matched nothing.
  returned: always
  type: list
  elements: str
  sample: [libcudnn, libnccl]
stale_entries:
  description: The distinct stale entries among the matches of all queries (see RV(libraries.stale)).
  returned: always
  type: list
  elements: dict
  sample:
    - name: libcudnn.so.9
      path: /usr/lib/x86_64-linux-gnu/libcudnn.so.9
      reason: "stale ld cache entry: /usr/lib/x86_64-linux-gnu/libcudnn.so.9 does not exist (run ldconfig)"
  contains:
    name:
      description: The soname the cache lists.
      type: str
    path:
      description: The path the cache points to.
      type: str
    reason:
      description: As RV(libraries.stale_reason).
      type: str
cuda:
  description: CUDA toolkits found in O(cuda_homes) and C(/usr/lib/cuda), one per real directory.
  returned: always
  type: list
  elements: dict
  sample:
    - home: /usr/local/cuda
      real_home: /usr/local/cuda-11.8
      version: "11.8.0"
      source: version.json
  contains:
    home:
      description: The directory as given.
      type: str
    real_home:
      description: The directory with symlinks resolved.
      type: str
    version:
      description:
        - The toolkit release from the C(cuda) key of C(version.json) (C(12.4.1) for CUDA 12.4 Update 1; its
          C(cuda_cudart) component version only when that key is absent), or the version in C(version.txt) or C(nvcc).
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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import failure_boundary
from ansible_collections.dlstack.cdh.plugins.module_utils.library_state import collect_library_state


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
    with failure_boundary(module):
        state = collect_library_state(module, **module.params)
    module.exit_json(changed=False, **state)


if __name__ == "__main__":
    main()
