# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A node's GPU and driver state: NVML first, nvidia-smi as the fallback, procfs/sysfs/dev.

Shared by the nvidia_gpu_info module and the node_compliance module, so both read
the state the same way. Nothing here fails on a node without a GPU or driver: the
state says why instead (status no_driver, driver_not_loaded, no_devices, nvml_error).
"""

from __future__ import annotations

import csv
import glob
import os
import re

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


def collect_gpu_state(module, method="auto"):
    """The GPU state dict nvidia_gpu_info returns (without 'changed')."""
    modules = loaded_modules()
    result = dict(
        status="no_driver", message="", source="none", gpu_count=0,
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
    return result
