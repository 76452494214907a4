#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: nvidia_gpu_info
short_description: Read NVIDIA driver and GPU state (NVML, nvidia-smi, procfs and sysfs)
version_added: 0.1.0
description:
  - Reports what a node has in terms of NVIDIA GPUs and driver, without changing anything.
  - Asks NVML through C(ctypes) (C(libnvidia-ml.so.1)) first and falls back to
    C(nvidia-smi --query-gpu) when the library cannot be loaded.
  - Also reads the kernel module version from C(/proc/driver/nvidia/version), which modules are
    loaded (C(/proc/modules)), the C(/dev/nvidia*) device nodes, the NVIDIA display controllers
    on the PCI bus (sysfs) and whether the node is a container, so that roles can gate on
    "is there an NVIDIA GPU at all" before any driver is installed.
  - Never fails because there is no driver or no GPU; O(method=nvml) with no library, for
    example, gives RV(status=no_driver).
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
options:
  method:
    description:
      - Where the GPU facts come from.
      - V(auto) uses NVML and falls back to C(nvidia-smi) only when the NVML library cannot be loaded.
      - V(nvml) uses only NVML; V(nvidia_smi) uses only C(nvidia-smi).
    type: str
    choices: [auto, nvml, nvidia_smi]
    default: auto
notes:
  - Needs no Python library on the managed node; NVML is called through C(ctypes).
  - RV(cuda_driver_version) only comes from NVML; C(nvidia-smi --query-gpu) has no such field.
  - Values the GPU does not support (C([N/A]), C([Not Supported]) or an NVML C(NOT_SUPPORTED)) are returned as V(null).
seealso:
  - name: NVML API reference
    description: The functions and types this module binds.
    link: https://docs.nvidia.com/deploy/nvml-api/
  - name: nvidia-smi documentation
    description: The C(--query-gpu) fields used by the fallback.
    link: https://docs.nvidia.com/deploy/nvidia-smi/
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
    details: The module never changes anything.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Read GPU state
  dlstack.cdh.nvidia_gpu_info:
  register: gpu

- name: Install the driver only where an NVIDIA GPU sits on the PCI bus
  ansible.builtin.include_role:
    name: dlstack.cdh.nvidia_driver
  when: gpu.pci_devices | length > 0 and not gpu.in_container

- name: Stop when the driver is installed but not loaded
  ansible.builtin.assert:
    that: gpu.status != 'driver_not_loaded'
    fail_msg: "NVIDIA driver not loaded ({{ gpu.message }}); nouveau loaded: {{ gpu.nouveau_loaded }}"

- name: Ask nvidia-smi only
  dlstack.cdh.nvidia_gpu_info:
    method: nvidia_smi
  register: gpu_smi
"""

RETURN = r"""
status:
  description:
    - V(ok) GPUs were read; V(no_driver) neither the NVML library nor C(nvidia-smi) is present;
      V(driver_not_loaded) they are present but the kernel driver is not loaded or cannot be reached;
      V(no_devices) the driver works but reports no GPU; V(nvml_error) any other NVML or C(nvidia-smi) failure.
  returned: always
  type: str
  sample: ok
message:
  description: NVML's error string or C(nvidia-smi)'s own output when RV(status) is not V(ok), else an empty string.
  returned: always
  type: str
  sample: Driver Not Loaded
source:
  description: Where the GPU facts came from.
  returned: always
  type: str
  choices: [nvml, nvidia-smi, none]
  sample: nvml
gpu_count:
  description: Number of GPUs the driver reports (0 unless RV(status) is V(ok)).
  returned: always
  type: int
  sample: 8
driver_version:
  description: User-space driver version reported by NVML or C(nvidia-smi).
  returned: always
  type: str
  sample: 535.183.01
cuda_driver_version:
  description: Highest CUDA version the driver supports (NVML only, else V(null)).
  returned: always
  type: str
  sample: "12.2"
kernel_module_version:
  description: Version of the loaded C(nvidia) kernel module from C(/proc/driver/nvidia/version), V(null) when not loaded.
  returned: always
  type: str
  sample: 535.183.01
nvidia_module_loaded:
  description: Whether the C(nvidia) kernel module is loaded.
  returned: always
  type: bool
  sample: true
nouveau_loaded:
  description: Whether the C(nouveau) kernel module is loaded (it blocks the NVIDIA driver).
  returned: always
  type: bool
  sample: false
device_nodes:
  description: The C(/dev/nvidia*) paths present.
  returned: always
  type: list
  elements: str
  sample: [/dev/nvidia0, /dev/nvidiactl, /dev/nvidia-uvm]
pci_devices:
  description: NVIDIA (vendor C(0x10de)) display controllers (class C(0x03xxxx)) on the PCI bus, found with or without a driver.
  returned: always
  type: list
  elements: dict
  contains:
    address:
      description: PCI address.
      type: str
      sample: "0000:18:00.0"
    device_id:
      description: PCI device id.
      type: str
      sample: "0x2330"
    class:
      description: PCI class code.
      type: str
      sample: "0x030200"
    driver:
      description: Kernel driver bound to the device (C(nvidia), C(nouveau), C(vfio-pci) ...), V(null) when none.
      type: str
      sample: nvidia
in_container:
  description: Whether the module runs in a container (C(/.dockerenv), C(/run/.containerenv) or a container cgroup of PID 1).
  returned: always
  type: bool
  sample: false
gpus:
  description: One entry per GPU, ordered by index. Values a GPU does not support are V(null).
  returned: always
  type: list
  elements: dict
  contains:
    index:
      description: NVML/nvidia-smi index.
      type: int
      sample: 0
    name:
      description: Product name.
      type: str
      sample: NVIDIA H100 80GB HBM3
    uuid:
      description: GPU UUID.
      type: str
      sample: GPU-b42dd28e-ffdd-8720-1df0-98bd8cdc05b1
    pci_bus_id:
      description: PCI bus id as NVML prints it (8-digit domain).
      type: str
      sample: "00000000:18:00.0"
    memory_total_mib:
      description: Total framebuffer memory in MiB.
      type: int
      sample: 81559
    memory_used_mib:
      description: Used framebuffer memory in MiB.
      type: int
      sample: 1
    temperature_c:
      description: GPU core temperature in degrees Celsius.
      type: int
      sample: 30
    power_draw_w:
      description: Board power draw in watts.
      type: float
      sample: 100.89
    persistence_mode:
      description: V(Enabled) or V(Disabled).
      type: str
      sample: Enabled
    ecc_mode:
      description: Current ECC mode, V(Enabled) or V(Disabled).
      type: str
      sample: Enabled
    compute_mode:
      description: V(Default), V(Exclusive_Thread), V(Prohibited) or V(Exclusive_Process).
      type: str
      sample: Default
    mig_mode:
      description: Current MIG mode, V(Enabled) or V(Disabled).
      type: str
      sample: Disabled
"""

import csv
import glob
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dlstack.cdh.plugins.module_utils import nvml
from ansible_collections.dlstack.cdh.plugins.module_utils.command import find_binary, run

# File locations, module-level so unit tests can point them at fixtures.
PROC_DRIVER_VERSION = "/proc/driver/nvidia/version"
PROC_MODULES = "/proc/modules"
SYS_MODULE = "/sys/module"
PROC_1_CGROUP = "/proc/1/cgroup"
DOCKERENV = "/.dockerenv"
CONTAINERENV = "/run/.containerenv"
DEV_NVIDIA_GLOB = "/dev/nvidia*"
SYS_PCI_DEVICES = "/sys/bus/pci/devices"

NVIDIA_VENDOR = "0x10de"
# Order matters: parse_smi_csv reads columns by position.
SMI_FIELDS = (
    "index", "name", "uuid", "pci.bus_id", "memory.total", "memory.used", "temperature.gpu",
    "power.draw", "persistence_mode", "ecc.mode.current", "compute_mode", "mig.mode.current",
    "driver_version",
)
SMI_ARGS = ["--query-gpu=" + ",".join(SMI_FIELDS), "--format=csv,noheader,nounits"]
SMI_DRIVER_NOT_LOADED = "couldn't communicate with the nvidia driver"
SMI_NO_DEVICES = "no devices were found"
# "Open Kernel Module for x86_64  565.57.01" and "x86_64 Kernel Module  535.183.01".
KERNEL_MODULE_RE = re.compile(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+(?:\.\d+)+)")
CONTAINER_CGROUP_HINTS = ("docker", "kubepods", "containerd", "libpod", "lxc", "podman", "crio")
# Compute mode words nvidia-smi prints, normalised to the NVML spelling.
_SMI_COMPUTE = {"default": "Default", "exclusive_thread": "Exclusive_Thread",
                "prohibited": "Prohibited", "exclusive_process": "Exclusive_Process"}
_UNIT_SUFFIX = re.compile(r"\s*(MiB|W|C|%)$")


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


# --- procfs / sysfs / dev ----------------------------------------------------
def kernel_module_version():
    text = _read(PROC_DRIVER_VERSION)
    if not text:
        return None
    match = KERNEL_MODULE_RE.search(text)
    return match.group(1) if match else None


def loaded_modules():
    """Names from /proc/modules; None when it cannot be read (some containers)."""
    text = _read(PROC_MODULES)
    if text is None:
        return None
    return set(line.split(None, 1)[0] for line in text.splitlines() if line.strip())


def module_loaded(name, modules):
    if modules is not None:
        return name in modules
    # Without /proc/modules, sysfs still shows loaded (or built-in) modules.
    return os.path.isdir(os.path.join(SYS_MODULE, name))


def device_nodes():
    return sorted(glob.glob(DEV_NVIDIA_GLOB))


def pci_devices():
    found = []
    for path in sorted(glob.glob(os.path.join(SYS_PCI_DEVICES, "*"))):
        vendor = (_read(os.path.join(path, "vendor")) or "").strip().lower()
        pci_class = (_read(os.path.join(path, "class")) or "").strip().lower()
        if vendor != NVIDIA_VENDOR or not pci_class.startswith("0x03"):
            continue
        driver_link = os.path.join(path, "driver")
        found.append({
            "address": os.path.basename(path),
            "device_id": (_read(os.path.join(path, "device")) or "").strip().lower() or None,
            "class": pci_class,
            "driver": os.path.basename(os.path.realpath(driver_link)) if os.path.lexists(driver_link) else None,
        })
    return found


def in_container():
    if os.path.exists(DOCKERENV) or os.path.exists(CONTAINERENV):
        return True
    cgroup = _read(PROC_1_CGROUP) or ""
    return any(hint in cgroup for hint in CONTAINER_CGROUP_HINTS)


# --- nvidia-smi ---------------------------------------------------------------
def smi_value(raw):
    """'[N/A]', 'N/A', '[Not Supported]' and other bracketed notes -> None."""
    value = raw.strip()
    if not value or value == "N/A" or (value.startswith("[") and value.endswith("]")):
        return None
    return value


def _smi_number(raw, kind):
    value = smi_value(raw)
    if value is None:
        return None
    # nounits is requested, but tolerate units so a changed format still parses.
    value = _UNIT_SUFFIX.sub("", value)
    try:
        return kind(value)
    except ValueError:
        return None


def _smi_mode(raw):
    value = smi_value(raw)
    return value.capitalize() if value else None


def parse_smi_csv(text):
    """(gpus, driver_version) from --query-gpu=SMI_FIELDS csv,noheader,nounits output."""
    gpus, driver = [], None
    rows = csv.reader([line for line in text.splitlines() if line.strip()], skipinitialspace=True)
    for row in rows:
        if len(row) != len(SMI_FIELDS):
            raise ValueError("nvidia-smi printed %d fields, expected %d: %s" % (len(row), len(SMI_FIELDS), ", ".join(row)))
        compute = smi_value(row[10])
        gpus.append({
            "index": _smi_number(row[0], int),
            "name": smi_value(row[1]),
            "uuid": smi_value(row[2]),
            "pci_bus_id": smi_value(row[3]),
            "memory_total_mib": _smi_number(row[4], int),
            "memory_used_mib": _smi_number(row[5], int),
            "temperature_c": _smi_number(row[6], int),
            "power_draw_w": _smi_number(row[7], float),
            "persistence_mode": _smi_mode(row[8]),
            "ecc_mode": _smi_mode(row[9]),
            "compute_mode": _SMI_COMPUTE.get(compute.lower(), compute) if compute else None,
            "mig_mode": _smi_mode(row[11]),
        })
        driver = driver or smi_value(row[12])
    gpus.sort(key=lambda gpu: -1 if gpu["index"] is None else gpu["index"])
    return gpus, driver


def from_nvidia_smi(module, result):
    binary = find_binary(module, "nvidia-smi")
    if not binary:
        result.update(status="no_driver", message="nvidia-smi not found on PATH", source="none")
        return
    result["source"] = "nvidia-smi"
    cmd = run(module, [binary] + SMI_ARGS)
    output = (cmd.stdout or "") + (cmd.stderr or "")
    if cmd.rc != 0:
        lowered = output.lower()
        if SMI_DRIVER_NOT_LOADED in lowered:
            status = "driver_not_loaded"
        elif SMI_NO_DEVICES in lowered:
            status = "no_devices"
        else:
            status = "nvml_error"
        result.update(status=status, message=output.strip() or "nvidia-smi exited with rc=%d" % cmd.rc)
        return
    try:
        gpus, driver = parse_smi_csv(cmd.stdout or "")
    except ValueError as exc:
        result.update(status="nvml_error", message=str(exc))
        return
    result.update(gpus=gpus, gpu_count=len(gpus), driver_version=driver,
                  status="ok" if gpus else "no_devices")


# --- NVML ---------------------------------------------------------------------
def from_nvml(result):
    """Fill result from NVML; False when the library cannot be loaded at all."""
    try:
        lib = nvml.load_library()
    except OSError as exc:
        result.update(status="no_driver", source="none", message="%s: %s" % (nvml.LIBRARY_NAME, exc))
        return False
    result["source"] = "nvml"
    try:
        facts = nvml.query(lib)
    except nvml.NVMLError as exc:
        status = "driver_not_loaded" if exc.code == nvml.NVML_ERROR_DRIVER_NOT_LOADED else "nvml_error"
        result.update(status=status, message=exc.message)
        return True
    result.update(facts, gpu_count=len(facts["gpus"]), status="ok" if facts["gpus"] else "no_devices")
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(method=dict(type="str", default="auto", choices=["auto", "nvml", "nvidia_smi"])),
        supports_check_mode=True,
    )
    method = module.params["method"]
    modules = loaded_modules()
    result = dict(
        changed=False, status="no_driver", message="", source="none", gpu_count=0,
        driver_version=None, cuda_driver_version=None, gpus=[],
        kernel_module_version=kernel_module_version(),
        nvidia_module_loaded=module_loaded("nvidia", modules),
        nouveau_loaded=module_loaded("nouveau", modules),
        device_nodes=device_nodes(), pci_devices=pci_devices(), in_container=in_container(),
    )
    if method == "nvidia_smi":
        from_nvidia_smi(module, result)
    elif not from_nvml(result) and method == "auto":
        from_nvidia_smi(module, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
