#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_compliance
short_description: Compare a node's GPU, library, package and file state with the desired state in one call
version_added: "0.1.0"
description:
  - Gathers, in one module run, everything the collection's roles set up on a node (GPU and driver state,
    libraries the dynamic linker finds, CUDA and cuDNN versions, package versions and holds, configuration
    files) and compares it with the desired state given as options.
  - Returns one check per expectation with the expected and actual values and a reason for every failure,
    so that scheduled compliance runs (AWX/Tower in check mode) can report drift per host.
  - Never changes anything on the node.
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
extends_documentation_fragment:
  - dlstack.cdh.attributes
  - dlstack.cdh.attributes.info_module
options:
  gpu:
    description:
      - Expectations on the GPU and driver state, read as M(dlstack.cdh.nvidia_gpu_info) reads it.
      - Omit to skip the GPU checks (the GPU state is still returned).
    type: dict
    suboptions:
      required:
        description: The node must have at least O(gpu.min_count) GPUs visible through the driver.
        type: bool
        default: false
      required_with_devices:
        description:
          - GPUs are required (as with O(gpu.required=true)) when the node has NVIDIA display or 3D controllers on its PCI bus
            and the driver's kernel side applies (see O(driver_kernel_side)), and every such device must be visible as a GPU
            through the driver (a device the driver lost or never bound fails).
          - A node without NVIDIA PCI devices, or a container (whose sysfs lists the host's), passes unless O(gpu.required=true).
        type: bool
        default: false
      min_count:
        description: Smallest number of GPUs the driver must report where GPUs are required.
        type: int
        default: 1
      driver_version:
        description:
          - Driver version the node must run, compared as a prefix (V(535) matches C(535.183.01)).
          - Only checked when a driver is loaded, or when GPUs are required.
          - When both are known, the loaded kernel module's version (C(/proc/driver/nvidia/version)) must equal the
            userspace driver's (NVML's answer, else the version in the name of the file C(libnvidia-ml.so.1) resolves to,
            which is known when NVML refuses with "Driver/library version mismatch" after an upgrade without a reboot).
        type: str
      persistence_mode:
        description:
          - When set, every GPU's persistence mode must be V(Enabled) (true) or V(Disabled) (false).
          - Persistence is the driver's kernel side (nvidia-persistenced), so it is checked only where that applies
            (see O(driver_kernel_side)); in a container the host sets it.
        type: bool
      nouveau_loaded:
        description: When set, whether the nouveau module may be loaded (normally V(false) on GPU nodes).
        type: bool
      health:
        description:
          - When set (V({}) for the defaults), check each GPU's health as M(dlstack.cdh.nvidia_gpu_info) judges it
            (see its O(dlstack.cdh.nvidia_gpu_info#module:health) option, which takes the same keys).
          - Every problem is a failed check of its own, named C(GPU health) followed by the GPU and the counter, with a
            reason that names both. Without a problem there is one passing C(GPU health) check.
          - A node without a visible GPU passes it (saying so) unless GPUs are required.
        type: dict
        suboptions:
          max_ecc_uncorrected_volatile:
            description: Most uncorrectable ECC errors a GPU may have counted since the driver loaded.
            type: int
            default: 0
          max_ecc_uncorrected_aggregate:
            description: Most uncorrectable ECC errors a GPU may have counted over its life.
            type: int
            default: 0
          pending_retirement:
            description: Whether memory pages pending retirement or rows pending remapping are a problem.
            type: bool
            default: true
          pending_modes:
            description: Whether an ECC or MIG mode that changes at the next GPU reset is a problem.
            type: bool
            default: true
          throttle_reasons:
            description: Clock event reasons that are a problem when active.
            type: list
            elements: str
            choices: [gpu_idle, applications_clocks_setting, sw_power_cap, hw_slowdown, sync_boost, sw_thermal_slowdown,
                      hw_thermal_slowdown, hw_power_brake_slowdown, display_clock_setting]
            default: [hw_slowdown, hw_thermal_slowdown, hw_power_brake_slowdown]
          xid_scan:
            description: Whether to read this boot's kernel log for C(NVRM) Xid lines.
            type: bool
            default: true
          ignore_xids:
            description: Xid numbers that are not a problem.
            type: list
            elements: int
            default: [13, 31, 43, 45]
  driver_kernel_side:
    description:
      - Whether the entries of O(packages) and O(files) marked C(kernel_side) apply to this node, as the
        M(dlstack.cdh.nvidia_driver) role decides whether to do the kernel side.
      - V(auto) applies them when the node has an NVIDIA PCI device and is not a container;
        V(always) matches the role's C(nvidia_driver_force=true); V(never) skips them.
    type: str
    choices: [auto, always, never]
    default: auto
  libraries:
    description:
      - Libraries the dynamic linker must (or must not) find.
      - A match whose ld cache entry is stale (its file deleted or replaced since C(ldconfig) last ran,
        see M(dlstack.cdh.shared_library_info)) fails the C(library <name> found) check with that reason
        and the remedy C(run ldconfig).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Library base name or glob, as for M(dlstack.cdh.shared_library_info) (V(libcudnn), V(libboost_*)).
        type: str
        required: true
      version:
        description: Version prefix one of the matches must have (V(8) matches C(libcudnn.so.8.9.7)).
        type: str
      present:
        description: Whether the library must be found (V(true)) or must not be (V(false)).
        type: bool
        default: true
  packages:
    description: Packages (dpkg or rpm) and their versions and holds.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Package name, or a shell-style pattern (V(cuda-*-12-4)) for every installed package it matches, each
            checked under its own name (a package also listed by name is checked once); a pattern that matches no
            installed package adds no check.
        type: str
        required: true
      version:
        description: Version prefix the installed version must start with (V(535.183) matches C(535.183.01-1)).
        type: str
      held:
        description:
          - When set, whether the package must be held (C(apt-mark hold), dpkg selection C(hold))
            or version-locked (yum/dnf versionlock) at the installed version.
          - A versionlock entry counts only when its name is exactly the package's and its version-release
            matches the installed one; a lock on another version does not hold the installed package.
        type: bool
      present:
        description: Whether the package must be installed.
        type: bool
        default: true
      kernel_side:
        description: Check this package only where the driver's kernel side applies (see O(driver_kernel_side)).
        type: bool
        default: false
  files:
    description: Files, directories and links the roles manage, and lines they must contain.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path on the node.
        type: path
        required: true
      state:
        description: What must be at O(files[].path).
        type: str
        choices: [file, directory, link, absent]
        default: file
      contains:
        description: Lines the file must contain (each compared with every line, surrounding spaces ignored).
        type: list
        elements: str
        default: []
      mode:
        description: Permission bits the path must have, in octal (V('0644')).
        type: str
      link_target:
        description: For O(files[].state=link), where the link must point (as readlink prints it).
        type: str
      kernel_side:
        description: Check this path only where the driver's kernel side applies (see O(driver_kernel_side)).
        type: bool
        default: false
  python_envs:
    description:
      - Python environments (venvs or conda envs, as M(dlstack.cdh.python_venv) and M(dlstack.cdh.conda_env) make them)
        and the pip requirements their installed distributions must satisfy.
      - Each environment's distributions are read with one run of its own interpreter (importlib.metadata, as those
        modules read them; C(pip list) where the interpreter has no importlib.metadata).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The environment's prefix (its interpreter is C(bin/python) under it).
        type: path
        required: true
      packages:
        description: pip requirement strings (V(tensorflow-cpu==2.18.1), V(numpy>=1.26)) the environment must satisfy.
        type: list
        elements: str
        default: []
  stack_compatible:
    description:
      - Check the installed driver, CUDA toolkit, cuDNN and TensorFlow versions against each other with the
        compatibility data M(dlstack.cdh.dl_stack_compat) uses; an incompatible pair fails the check, with its reason.
      - Takes the running driver, the newest toolkit found in O(cuda_homes), the cuDNN header's version and the
        TensorFlow (C(tensorflow), C(tensorflow-gpu), C(tf-nightly)) installed in one of O(python_envs); C(tensorflow-cpu)
        needs no CUDA and is left out. Pairs with a version not found are not checked.
    type: bool
    default: false
  cuda_version:
    description: CUDA toolkit version (prefix) that one of O(cuda_homes) must have.
    type: str
  cudnn_version:
    description: cuDNN version (prefix) the cuDNN header must declare.
    type: str
  cuda_homes:
    description: Where CUDA toolkits are looked for.
    type: list
    elements: path
    default: [/usr/local/cuda, /usr/lib/cuda]
  cudnn_include_dirs:
    description: Where C(cudnn_version.h) or C(cudnn.h) are looked for; default is the CUDA homes' include dirs and the system ones.
    type: list
    elements: path
  fail_on_drift:
    description: Fail the task when any check fails (the result still carries every check).
    type: bool
    default: false
notes:
  - One module round trip per host answers every question, which is what makes scheduled fleet-wide runs cheap.
seealso:
  - module: dlstack.cdh.nvidia_gpu_info
  - module: dlstack.cdh.shared_library_info
"""

EXAMPLES = r"""
- name: Compare a GPU worker with its desired state
  dlstack.cdh.node_compliance:
    gpu:
      # GPUs must be visible wherever the PCI bus has NVIDIA devices (outside containers).
      required_with_devices: true
      driver_version: "535.183.01"
      persistence_mode: true
      nouveau_loaded: false
      health:
        ignore_xids: [13, 31, 43, 45, 63]
    cuda_version: "11.8"
    cudnn_version: "8.9"
    libraries:
      - name: libcudart
        version: "11"
      - name: libcudnn
        version: "8"
    packages:
      - name: nvidia-driver
        version: "535.183.01"
        held: true
        kernel_side: true
      - name: cuda-toolkit-11-8
        version: "11.8"
        held: true
      # Every installed package of the toolkit, each checked under its own name.
      - name: "cuda-*-11-8"
        held: true
    files:
      - path: /etc/modprobe.d/blacklist-nouveau.conf
        contains: [blacklist nouveau, options nouveau modeset=0]
        kernel_side: true
      - path: /usr/local/cuda
        state: link
        link_target: /usr/local/cuda-11.8
    python_envs:
      - path: /usr/anaconda/envs/tensorflow
        packages: [tensorflow==2.16.2, tensorflow-io==0.37.1]
    stack_compatible: true
  register: compliance

- name: Fail the host when it drifted
  ansible.builtin.assert:
    that: compliance.compliant
    fail_msg: "{{ compliance.failed_checks | map(attribute='reason') | join('; ') }}"
"""

RETURN = r"""
compliant:
  description: Whether every check passed.
  returned: always
  type: bool
  sample: false
checks:
  description: One entry per expectation.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: What was checked, e.g. C(package nvidia-driver held).
      type: str
    category:
      description: C(gpu), C(library), C(cuda), C(cudnn), C(package), C(file), C(python) or C(stack).
      type: str
    expected:
      description: The desired value.
      type: raw
    actual:
      description: The value found on the node.
      type: raw
    ok:
      description: Whether the check passed.
      type: bool
    reason:
      description: Why it failed (empty when it passed).
      type: str
  sample:
    - name: package nvidia-driver version
      category: package
      expected: "535"
      actual: 535.183.01-1
      ok: true
      reason: ""
failed_checks:
  description: The entries of RV(checks) that failed.
  returned: always
  type: list
  elements: dict
summary:
  description: Counts of checks.
  returned: always
  type: dict
  sample: {total: 12, passed: 11, failed: 1}
timing:
  description: When the node's state was read (UTC, by the node's clock) and how many seconds reading and comparing took.
  returned: always
  type: dict
  sample: {started: "2026-12-01T21:40:05Z", seconds: 0.412}
state:
  description: What was gathered (GPU, libraries, CUDA, cuDNN, packages, files), for reports.
  returned: always
  type: dict
  contains:
    gpu:
      description:
        - The GPU state, as M(dlstack.cdh.nvidia_gpu_info) returns it.
        - Its C(health) key (the verdict, see that module's RV(dlstack.cdh.nvidia_gpu_info#module:health)) is there only
          when O(gpu.health) is set.
      type: dict
    libraries:
      description: Library query -> matches, as M(dlstack.cdh.shared_library_info) returns them.
      type: dict
    cuda:
      description: CUDA toolkits found.
      type: list
    cudnn:
      description: cuDNN header version, or null.
      type: dict
    packages:
      description: Package name -> version, installed, held.
      type: dict
    package_manager:
      description: C(dpkg), C(rpm) or null.
      type: str
    files:
      description: Path -> state found (exists, type, mode, link target).
      type: dict
    driver_kernel_side:
      description: Whether the entries marked C(kernel_side) applied to this node (see O(driver_kernel_side)).
      type: bool
    python_envs:
      description: Environment path -> C(installed) (canonical name -> name, version) and C(error) (why it could not be read).
      type: dict
"""

import datetime
import fnmatch
import os
import stat
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlstack.cdh.plugins.module_utils import compat, package_spec
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import ModuleError, failure_boundary
from ansible_collections.dlstack.cdh.plugins.module_utils.gpu_health import HEALTH_SPEC
from ansible_collections.dlstack.cdh.plugins.module_utils.gpu_state import collect_gpu_state
from ansible_collections.dlstack.cdh.plugins.module_utils.library_state import collect_library_state
from ansible_collections.dlstack.cdh.plugins.module_utils.packages import is_pattern, query_packages
from ansible_collections.dlstack.cdh.plugins.module_utils.pip_env import Pip, parse_requirements
from ansible_collections.dlstack.cdh.plugins.module_utils.version import VersionError, parse_version, version_text


class Checks(object):
    """Accumulates check results in the order they are made."""

    def __init__(self):
        self.items = []

    def add(self, category, name, expected, actual, ok, reason=""):
        self.items.append({
            "category": category, "name": name, "expected": expected, "actual": actual,
            "ok": bool(ok), "reason": "" if ok else reason,
        })


def _version_matches(actual, prefix):
    """'535.183.01-1' starts with '535.183' at a component boundary (so '53' doesn't match '535')."""
    if actual is None:
        return False
    actual, prefix = str(actual), str(prefix)
    return actual == prefix or (actual.startswith(prefix) and not actual[len(prefix)].isdigit())


def gpus_required(expected, gpu, kernel_side):
    """GPUs are required when asked for, or (required_with_devices) where the driver's kernel side applies.

    In a container sysfs lists the host's devices, whose GPUs the container may not be given.
    """
    return bool(expected.get("required") or (expected.get("required_with_devices") and gpu.get("pci_devices") and kernel_side))


def check_gpu(checks, expected, gpu, kernel_side=True):
    status = gpu.get("status")
    required = gpus_required(expected, gpu, kernel_side)
    count = gpu.get("gpu_count", 0)
    if required:
        want = expected.get("min_count", 1)
        checks.add("gpu", "GPUs visible to the driver", ">= %d" % want, count, count >= want,
                   "%d GPU(s) visible (status %s: %s)" % (count, status, gpu.get("message") or "no message"))
    devices = gpu.get("pci_devices") or []
    if expected.get("required_with_devices") and devices and kernel_side:
        checks.add("gpu", "every NVIDIA PCI device visible", len(devices), count, count == len(devices),
                   "%d NVIDIA PCI device(s) (%s), %d GPU(s) visible to the driver"
                   % (len(devices), ", ".join(d.get("address", "?") for d in devices), count))
    wanted_driver = expected.get("driver_version")
    if wanted_driver and (required or gpu.get("driver_version")):
        actual = gpu.get("driver_version")
        checks.add("gpu", "driver version", wanted_driver, actual, _version_matches(actual, wanted_driver),
                   "driver %s is running, %s is wanted" % (actual or "none", wanted_driver))
    # The library file's version when NVML refused to start (a mismatch makes it refuse).
    kernel, userspace = gpu.get("kernel_module_version"), gpu.get("driver_version") or gpu.get("userspace_driver_version")
    if wanted_driver is not None and kernel and userspace:
        checks.add("gpu", "kernel module matches the userspace driver", userspace, kernel, kernel == userspace,
                   "the loaded nvidia module is %s, the userspace driver %s (reboot or reload the module)" % (kernel, userspace))
    if expected.get("persistence_mode") is not None and kernel_side:
        wanted = "Enabled" if expected["persistence_mode"] else "Disabled"
        wrong = [g.get("index") for g in gpu.get("gpus", []) if g.get("persistence_mode") != wanted]
        checks.add("gpu", "persistence mode", wanted, "GPUs not %s: %s" % (wanted, wrong) if wrong else wanted,
                   not wrong, "persistence mode is not %s on GPU(s) %s" % (wanted, wrong))
    if expected.get("nouveau_loaded") is not None:
        actual = bool(gpu.get("nouveau_loaded"))
        checks.add("gpu", "nouveau loaded", expected["nouveau_loaded"], actual, actual == expected["nouveau_loaded"],
                   "nouveau is %sloaded" % ("" if actual else "not "))
    if expected.get("health") is not None:
        check_gpu_health(checks, required, gpu.get("health"))


def check_gpu_health(checks, required, health):
    """One failed check per problem (naming the GPU and the counter), else one passing check."""
    if not health:
        checks.add("gpu", "GPU health", "no problem", None, False, "the GPU health was not read")
        return
    for problem in health["problems"]:
        checks.add("gpu", "GPU health %s %s" % (problem["gpu"], problem["counter"]), problem["limit"], problem["value"],
                   False, problem["reason"])
    if health["problems"]:
        return
    if health["status"] == "no_gpus":
        checks.add("gpu", "GPU health", "no problem", health["message"], not required,
                   "GPUs are required, but there is %s" % health["message"])
        return
    checks.add("gpu", "GPU health", "no problem", health["message"], True)


def check_libraries(checks, expected, found):
    for item in expected:
        matches = found.get(item["name"], [])
        # A cache entry whose file is gone or replaced is drift the linker trips over (see library_state).
        stale = [m for m in matches if m.get("stale")]
        current = [m for m in matches if not m.get("stale")]
        if item.get("present", True):
            if stale:
                reason = "the dynamic linker would fail on %s: %s" % (
                    item["name"], "; ".join(m.get("stale_reason") or m.get("path") for m in stale))
            else:
                reason = "the dynamic linker does not find %s (not in the ld cache)" % item["name"]
            checks.add("library", "library %s found" % item["name"], True, [m.get("path") for m in matches],
                       bool(matches) and not stale, reason)
            if current and item.get("version"):
                versions = [m.get("version") for m in current]
                ok = any(_version_matches(v, item["version"]) for v in versions)
                checks.add("library", "library %s version" % item["name"], item["version"], versions, ok,
                           "%s versions in the ld cache are %s, %s is wanted" % (item["name"], versions, item["version"]))
        else:
            reason = "%s is still in the ld cache" % item["name"]
            if matches and not current:
                reason += " though its files are gone (stale ld cache; run ldconfig)"
            checks.add("library", "library %s absent" % item["name"], False, [m.get("path") for m in matches],
                       not matches, reason)


def check_cuda(checks, wanted, cuda):
    versions = [c.get("version") for c in cuda]
    checks.add("cuda", "CUDA toolkit version", wanted, versions, any(_version_matches(v, wanted) for v in versions),
               "CUDA %s is wanted; found %s" % (wanted, ", ".join("%s in %s" % (c.get("version"), c.get("home")) for c in cuda) or "none"))


def check_cudnn(checks, wanted, cudnn):
    actual = (cudnn or {}).get("version")
    checks.add("cudnn", "cuDNN version", wanted, actual, _version_matches(actual, wanted),
               "cuDNN %s is wanted; the header says %s" % (wanted, actual or "nothing (no cudnn_version.h/cudnn.h)"))


def check_packages(checks, expected, packages):
    exact = set(item["name"] for item in expected if not is_pattern(item["name"]))
    for item in expected:
        if is_pattern(item["name"]):
            check_package_pattern(checks, item, packages, exact)
            continue
        info = packages.get(item["name"], {})
        name = item["name"]
        if not item.get("present", True):
            checks.add("package", "package %s absent" % name, False, info.get("version"), not info.get("installed"),
                       "%s %s is installed" % (name, info.get("version")))
            continue
        checks.add("package", "package %s installed" % name, True, info.get("version"), info.get("installed"),
                   "%s is not installed" % name)
        if item.get("version") and info.get("installed"):
            checks.add("package", "package %s version" % name, item["version"], info.get("version"),
                       _version_matches(info.get("version"), item["version"]),
                       "%s %s is installed, %s is wanted" % (name, info.get("version"), item["version"]))
        if item.get("held") is not None and info.get("installed"):
            checks.add("package", "package %s held" % name, item["held"], info.get("held"), info.get("held") == item["held"],
                       "%s is %sheld" % (name, "" if info.get("held") else "not "))


# pip distributions that are TensorFlow built against CUDA; tensorflow-cpu needs none.
GPU_TENSORFLOW = ("tensorflow", "tensorflow-gpu", "tf-nightly")


def read_python_envs(module, expected):
    """{path: {'installed': index or None, 'error': text}} with one interpreter run per environment."""
    found = {}
    for item in expected:
        python = os.path.join(item["path"], "bin", "python")
        if not os.path.exists(python):
            found[item["path"]] = {"installed": None, "error": "%s does not exist" % python}
            continue
        try:
            found[item["path"]] = {"installed": Pip(module, python).installed_packages(), "error": ""}
        except ModuleError as exc:
            found[item["path"]] = {"installed": None, "error": exc.msg}
    return found


def check_python_envs(checks, expected, requirements, found):
    for item in expected:
        path, state = item["path"], found[item["path"]]
        checks.add("python", "python env %s readable" % path, True, not state["error"], not state["error"], state["error"])
        if state["error"]:
            continue
        for requirement in requirements[path]:
            installed = state["installed"].get(requirement.key)
            reason = package_spec.satisfied_by(requirement, installed)
            checks.add("python", "python env %s package %s" % (path, requirement.key), requirement.raw,
                       installed.get("version") if installed else None, reason is None,
                       "%s in %s: %s" % (requirement.raw, path, reason))


def installed_tensorflow(found):
    """The GPU TensorFlow distribution's version in the first environment that has one, else None."""
    for state in found.values():
        for name in GPU_TENSORFLOW:
            installed = (state["installed"] or {}).get(name)
            if installed and installed.get("version"):
                return installed["version"]
    return None


def check_stack(checks, gpu, libraries, found_envs):
    cudas = []
    for cuda in libraries["cuda"]:
        try:
            cudas.append(parse_version(cuda.get("version")))
        except VersionError:
            continue  # a toolkit whose version could not be read is not judged
    versions = {
        "driver_version": gpu.get("driver_version"),
        "cuda_version": version_text(max(cudas)[:2]) if cudas else None,
        "cudnn_version": (libraries.get("cudnn") or {}).get("version"),
        "tensorflow_version": installed_tensorflow(found_envs),
    }
    versions = dict((k, v) for k, v in versions.items() if v)
    if len(versions) < 2:
        checks.add("stack", "installed stack compatible", "compatible", versions, True)
        return
    try:
        verdict = compat.check_stack(versions)
    except compat.CompatInputError as exc:
        checks.add("stack", "installed stack compatible", "compatible", versions, False,
                   "the installed versions could not be judged: %s" % exc)
        return
    checks.add("stack", "installed stack compatible", "compatible", versions, verdict["compatible"],
               "installed %s: %s" % (", ".join("%s %s" % (k.replace("_version", ""), v) for k, v in sorted(versions.items())),
                                     "; ".join(verdict["reasons"])))


def check_package_pattern(checks, item, packages, listed):
    """Every installed package the pattern matches is checked under its own name (once: a package also
    listed by name is checked there). Matching nothing is not drift: which packages exist differs by release."""
    pattern = item["name"]
    matches = sorted(name for name, info in packages.items()
                     if info.get("installed") and fnmatch.fnmatchcase(name, pattern) and name not in listed)
    if not item.get("present", True):
        checks.add("package", "package %s absent" % pattern, False, matches, not matches,
                   "installed packages match %s: %s" % (pattern, ", ".join(matches)))
        return
    check_packages(checks, [dict(item, name=name) for name in matches], packages)


def file_state(path):
    """What is at ``path``: type, octal mode, link target, and the lines of a small regular file."""
    try:
        st = os.lstat(path)
    except OSError:
        return {"exists": False, "type": "absent"}
    kind = "link" if stat.S_ISLNK(st.st_mode) else "directory" if stat.S_ISDIR(st.st_mode) else "file"
    info = {"exists": True, "type": kind, "mode": "%04o" % stat.S_IMODE(st.st_mode)}
    if kind == "link":
        info["link_target"] = os.readlink(path)
    return info


def _file_lines(path, limit=1024 * 1024):
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit)
    except OSError:
        return None
    return [line.strip() for line in data.decode("utf-8", "replace").splitlines()]


def check_files(checks, expected):
    found = {}
    for item in expected:
        path, wanted = item["path"], item.get("state", "file")
        info = file_state(path)
        found[path] = info
        checks.add("file", "%s is %s" % (path, wanted), wanted, info["type"], info["type"] == wanted,
                   "%s is %s, %s is wanted" % (path, info["type"] if info["exists"] else "missing", wanted))
        if not info["exists"] or info["type"] != wanted:
            continue
        if item.get("mode"):
            want_mode = "%04o" % int(item["mode"], 8)
            checks.add("file", "%s mode" % path, want_mode, info["mode"], info["mode"] == want_mode,
                       "%s has mode %s, %s is wanted" % (path, info["mode"], want_mode))
        if wanted == "link" and item.get("link_target"):
            checks.add("file", "%s target" % path, item["link_target"], info["link_target"],
                       info["link_target"] == item["link_target"],
                       "%s points at %s, %s is wanted" % (path, info["link_target"], item["link_target"]))
        if wanted == "file" and item.get("contains"):
            lines = _file_lines(path) or []
            for line in item["contains"]:
                checks.add("file", "%s contains %r" % (path, line), line, line.strip() in lines, line.strip() in lines,
                           "%s lacks the line %r" % (path, line))
    return found


def kernel_side_applies(choice, gpu):
    """As the nvidia_driver role decides: NVIDIA PCI devices outside a container, or forced."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return bool(gpu.get("pci_devices")) and not gpu.get("in_container")


def validate(module):
    for item in module.params["files"]:
        if not os.path.isabs(item["path"]):
            module.fail_json(msg="files: %r is not an absolute path" % item["path"])
        if item.get("mode"):
            try:
                if not 0 <= int(item["mode"], 8) <= 0o7777:
                    raise ValueError
            except ValueError:
                module.fail_json(msg="files: mode %r of %s is not an octal permission such as '0644'" % (item["mode"], item["path"]))
    requirements = {}
    for item in module.params["python_envs"]:
        if not os.path.isabs(item["path"]):
            module.fail_json(msg="python_envs: %r is not an absolute path" % item["path"])
        if item["path"] in requirements:
            module.fail_json(msg="python_envs: %s is listed twice; give each environment's packages in one entry" % item["path"])
        requirements[item["path"]] = parse_requirements(item["packages"], "python_envs %s packages" % item["path"])
    return requirements


def main():
    library_spec = dict(name=dict(type="str", required=True), version=dict(type="str"), present=dict(type="bool", default=True))
    package_options = dict(name=dict(type="str", required=True), version=dict(type="str"), held=dict(type="bool"),
                           present=dict(type="bool", default=True), kernel_side=dict(type="bool", default=False))
    file_spec = dict(path=dict(type="path", required=True),
                     state=dict(type="str", default="file", choices=["file", "directory", "link", "absent"]),
                     contains=dict(type="list", elements="str", default=[]), mode=dict(type="str"), link_target=dict(type="str"),
                     kernel_side=dict(type="bool", default=False))
    gpu_spec = dict(required=dict(type="bool", default=False), required_with_devices=dict(type="bool", default=False),
                    min_count=dict(type="int", default=1),
                    driver_version=dict(type="str"), persistence_mode=dict(type="bool"), nouveau_loaded=dict(type="bool"),
                    health=dict(type="dict", options=HEALTH_SPEC))
    module = AnsibleModule(
        argument_spec=dict(
            gpu=dict(type="dict", options=gpu_spec),
            libraries=dict(type="list", elements="dict", options=library_spec, default=[]),
            packages=dict(type="list", elements="dict", options=package_options, default=[]),
            files=dict(type="list", elements="dict", options=file_spec, default=[]),
            driver_kernel_side=dict(type="str", default="auto", choices=["auto", "always", "never"]),
            python_envs=dict(type="list", elements="dict", default=[],
                             options=dict(path=dict(type="path", required=True),
                                          packages=dict(type="list", elements="str", default=[]))),
            stack_compatible=dict(type="bool", default=False),
            cuda_version=dict(type="str"),
            cudnn_version=dict(type="str"),
            cuda_homes=dict(type="list", elements="path", default=["/usr/local/cuda", "/usr/lib/cuda"]),
            cudnn_include_dirs=dict(type="list", elements="path"),
            fail_on_drift=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    with failure_boundary(module):
        requirements = validate(module)
    started, clock = datetime.datetime.now(datetime.timezone.utc), time.monotonic()
    params = module.params
    checks = Checks()

    gpu_expected = params["gpu"] or {}
    gpu = collect_gpu_state(module, health=gpu_expected.get("health"))
    kernel_side = kernel_side_applies(params["driver_kernel_side"], gpu)
    if params["gpu"]:
        check_gpu(checks, params["gpu"], gpu, kernel_side)
    wanted_packages = [p for p in params["packages"] if kernel_side or not p["kernel_side"]]
    wanted_files = [f for f in params["files"] if kernel_side or not f["kernel_side"]]

    with failure_boundary(module):
        libraries = collect_library_state(
            module, names=[item["name"] for item in params["libraries"]],
            cuda_homes=params["cuda_homes"], cudnn_include_dirs=params["cudnn_include_dirs"],
        )
    check_libraries(checks, params["libraries"], libraries["libraries"])
    if params["cuda_version"]:
        check_cuda(checks, params["cuda_version"], libraries["cuda"])
    if params["cudnn_version"]:
        check_cudnn(checks, params["cudnn_version"], libraries["cudnn"])

    packages, manager = query_packages(module, [item["name"] for item in wanted_packages])
    check_packages(checks, wanted_packages, packages)
    files = check_files(checks, wanted_files)
    found_envs = read_python_envs(module, params["python_envs"])
    check_python_envs(checks, params["python_envs"], requirements, found_envs)
    if params["stack_compatible"]:
        check_stack(checks, gpu, libraries, found_envs)

    failed = [c for c in checks.items if not c["ok"]]
    result = dict(
        changed=False,
        compliant=not failed,
        checks=checks.items,
        failed_checks=failed,
        summary=dict(total=len(checks.items), passed=len(checks.items) - len(failed), failed=len(failed)),
        timing=dict(started=started.strftime("%Y-%m-%dT%H:%M:%SZ"), seconds=round(time.monotonic() - clock, 3)),
        state=dict(gpu=gpu, libraries=libraries["libraries"], cuda=libraries["cuda"], cudnn=libraries["cudnn"],
                   packages=packages, package_manager=manager, files=files, driver_kernel_side=kernel_side,
                   python_envs=found_envs),
    )
    if failed and params["fail_on_drift"]:
        module.fail_json(msg="; ".join(c["reason"] for c in failed), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
