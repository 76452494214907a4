# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A node's GPU and driver state: NVML first, nvidia-smi as the fallback, procfs/sysfs/dev.

Shared by the nvidia_gpu_info module and the node_compliance module, so both read
the state the same way. Nothing here fails on a node without a GPU or driver: the
state says why instead (status no_driver, driver_not_loaded, no_devices, nvml_error), and a
GPU that fails while others answer is that GPU's error (status gpu_error), not the node's.
"""

from __future__ import annotations

import csv
import glob
import os
import re

from ansible_collections.dlstack.cdh.plugins.module_utils import gpu_health, nvml
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
# Where libnvidia-ml.so.1 is installed (Debian multiarch, EL, the runfile's default).
NVML_LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/aarch64-linux-gnu", "/usr/lib")
NVML_FILE_VERSION_RE = re.compile(r"^libnvidia-ml\.so\.([0-9]+\.[0-9]+(?:\.[0-9]+)?)$")

NVIDIA_VENDOR = "0x10de"
# Queried in this order; the csv header nvidia-smi prints says which came back.
SMI_FIELDS = (
    "index", "name", "uuid", "pci.bus_id", "memory.total", "memory.used", "temperature.gpu",
    "power.draw", "persistence_mode", "ecc.mode.current", "compute_mode", "mig.mode.current",
    "driver_version", "compute_cap",
    # Health counters (gpu_health.COUNTER_KEYS); each one an older driver rejects is dropped like the others.
    "ecc.mode.pending", "mig.mode.pending", "ecc.errors.uncorrected.volatile.total",
    "ecc.errors.uncorrected.aggregate.total", "retired_pages.pending", "remapped_rows.uncorrectable",
    "remapped_rows.pending", "remapped_rows.failure", "clocks_throttle_reasons.active",
)
# Since R535 --help-query-gpu names the bitmask clocks_event_reasons.active, the old name an alias.
SMI_CLOCK_EVENT_FIELDS = ("clocks_throttle_reasons.active", "clocks_event_reasons.active")
# The counters gpu_state hands to gpu_health, kept in each GPU dict under this key until _finish.
COUNTERS = "_counters"
# Without these a row says nothing; every other field an older driver rejects is dropped and the
# query retried (mig.mode.current came with R450, compute_cap with R510).
SMI_REQUIRED_FIELDS = ("index",)
SMI_FORMAT = "--format=csv,nounits"
SMI_DRIVER_NOT_LOADED = "couldn't communicate with the nvidia driver"
SMI_NO_DEVICES = "no devices were found"
SMI_NO_LIBRARY = "couldn't find libnvidia-ml.so"
# nvidia-smi's answer (rc 2) to a field its driver predates.
SMI_INVALID_FIELD_RE = re.compile(r'Field "([^"]+)" is not a valid field to query')
# One GPU nvidia-smi cannot open; the others are still listed.
SMI_DEVICE_HANDLE_RE = re.compile(r"Unable to determine the device handle for GPU\s*([0-9A-Fa-f]+:[0-9A-Fa-f]+:[0-9A-Fa-f]+\.[0-9A-Fa-f]+)\s*:\s*(.+)")
# Bracketed cells that mean the GPU failed, not that a value is unsupported ([N/A], [Not Supported]).
SMI_ERROR_CELLS = ("[gpu is lost]", "[unknown error]", "[gpu requires reset]", "[insufficient permissions]")
# nvidia-smi(1), RETURN VALUE (the codes it lists up to 14).
SMI_RETURN_CODES = {
    2: "a supplied argument or flag is invalid", 3: "the requested operation is not available on target device",
    4: "the current user does not have permission", 6: "a query to find an object was unsuccessful",
    8: "a device's external power cables are not properly attached", 9: "NVIDIA driver is not loaded",
    10: "NVIDIA kernel detected an interrupt issue with a GPU", 12: "NVML shared library couldn't be found or loaded",
    13: "local version of NVML doesn't implement this function", 14: "infoROM is corrupted",
}
# "Open Kernel Module for x86_64  565.57.01" and "x86_64 Kernel Module  535.183.01".
KERNEL_MODULE_RE = re.compile(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+(?:\.\d+)+)")
CONTAINER_CGROUP_HINTS = ("docker", "kubepods", "containerd", "libpod", "lxc", "podman", "crio")
# Compute mode words nvidia-smi prints, normalised to the NVML spelling.
_SMI_COMPUTE = {"default": "Default", "exclusive_thread": "Exclusive_Thread",
                "prohibited": "Prohibited", "exclusive_process": "Exclusive_Process"}
_UNIT_SUFFIX = re.compile(r"\s*(MiB|W|C|%)$")
_HEADER_UNIT = re.compile(r"\s*\[[^\]]*\]$")
_FIELD_NAME = re.compile(r"^[a-z_][A-Za-z0-9_.]*$")
# Every GPU dict has these keys, from either source.
GPU_KEYS = (
    "index", "name", "uuid", "pci_bus_id", "memory_total_mib", "memory_used_mib", "temperature_c",
    "power_draw_w", "persistence_mode", "ecc_mode", "compute_mode", "mig_mode", "compute_capability", "error",
)


def empty_gpu(**values):
    gpu = dict.fromkeys(GPU_KEYS)
    gpu.update(values)
    return gpu


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


# --- procfs / sysfs / dev ----------------------------------------------------
def userspace_driver_version():
    """The version in the name of the file libnvidia-ml.so.1 resolves to (535.183.01), None without one.

    Known without loading NVML, which refuses to start when the loaded kernel module is another
    version (NVML_ERROR_LIB_RM_VERSION_MISMATCH): that is when this version matters most.
    """
    for directory in NVML_LIBRARY_DIRS:
        link = os.path.join(directory, nvml.LIBRARY_NAME)
        if os.path.exists(link):
            match = NVML_FILE_VERSION_RE.match(os.path.basename(os.path.realpath(link)))
            if match:
                return match.group(1)
    return None


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


def _smi_error(cells):
    """The first cell that reports a failed GPU ('[GPU is lost]'), without brackets, or None."""
    for cell in cells:
        if cell.strip().lower() in SMI_ERROR_CELLS:
            return cell.strip()[1:-1]
    return None


def _header_fields(cells):
    """Field names when ``cells`` is nvidia-smi's csv header ('memory.total [MiB]' -> 'memory.total'), else None."""
    names = [_HEADER_UNIT.sub("", cell.strip()) for cell in cells]
    if names and all(_FIELD_NAME.match(name) for name in names) and set(names) & set(SMI_FIELDS + SMI_CLOCK_EVENT_FIELDS):
        return names
    return None


def _smi_flag(raw):
    """'Yes'/'No' (retired_pages.pending, remapped_rows.*) as a bool, None when not reported."""
    value = smi_value(raw)
    if value is None:
        return None
    return {"yes": True, "no": False}.get(value.lower())


def _smi_mask(raw):
    value = smi_value(raw)
    try:
        return int(value, 16) if value else None
    except ValueError:
        return None


def _smi_counters(values):
    mask = next((values[f] for f in SMI_CLOCK_EVENT_FIELDS if f in values), "")
    return dict(
        ecc_mode_pending=_smi_mode(values.get("ecc.mode.pending", "")),
        mig_mode_pending=_smi_mode(values.get("mig.mode.pending", "")),
        ecc_uncorrected_volatile=_smi_number(values.get("ecc.errors.uncorrected.volatile.total", ""), int),
        ecc_uncorrected_aggregate=_smi_number(values.get("ecc.errors.uncorrected.aggregate.total", ""), int),
        retired_pages_pending=_smi_flag(values.get("retired_pages.pending", "")),
        remapped_rows_uncorrectable=_smi_number(values.get("remapped_rows.uncorrectable", ""), int),
        remapped_rows_pending=_smi_flag(values.get("remapped_rows.pending", "")),
        remapped_rows_failure=_smi_flag(values.get("remapped_rows.failure", "")),
        clock_event_reasons=_smi_mask(mask),
    )


def _gpu_from_row(values):
    compute = smi_value(values.get("compute_mode", ""))
    gpu = empty_gpu(
        index=_smi_number(values.get("index", ""), int),
        name=smi_value(values.get("name", "")),
        uuid=smi_value(values.get("uuid", "")),
        pci_bus_id=smi_value(values.get("pci.bus_id", "")),
        memory_total_mib=_smi_number(values.get("memory.total", ""), int),
        memory_used_mib=_smi_number(values.get("memory.used", ""), int),
        temperature_c=_smi_number(values.get("temperature.gpu", ""), int),
        power_draw_w=_smi_number(values.get("power.draw", ""), float),
        persistence_mode=_smi_mode(values.get("persistence_mode", "")),
        ecc_mode=_smi_mode(values.get("ecc.mode.current", "")),
        compute_mode=_SMI_COMPUTE.get(compute.lower(), compute) if compute else None,
        mig_mode=_smi_mode(values.get("mig.mode.current", "")),
        compute_capability=smi_value(values.get("compute_cap", "")),
        error=_smi_error(values.values()),
    )
    gpu[COUNTERS] = _smi_counters(values)
    return gpu


class SmiOutput(object):
    """What one `nvidia-smi --query-gpu` printed: GPU rows, per-GPU failures and the lines that were neither."""

    def __init__(self):
        self.gpus = []
        self.driver = None
        self.unexpected = []


def parse_smi_output(text, fields=SMI_FIELDS):
    """Every GPU row nvidia-smi printed, whatever else it printed around them.

    Columns come from the csv header when there is one (so a capture of any --query-gpu works),
    else from ``fields`` by position. A line that is neither header nor a row of that width
    (an infoROM warning, a note) is kept in ``unexpected``; "Unable to determine the device
    handle for GPU <bus id>: <error>" becomes that GPU's entry with the error.
    """
    out = SmiOutput()
    columns = list(fields)
    for line in text.splitlines():
        if not line.strip():
            continue
        handle = SMI_DEVICE_HANDLE_RE.search(line)
        if handle:
            out.gpus.append(empty_gpu(pci_bus_id=handle.group(1), error=handle.group(2).strip()))
            continue
        cells = next(csv.reader([line], skipinitialspace=True))
        header = _header_fields(cells)
        if header:
            columns = header
            continue
        values = dict(zip(columns, cells))
        if len(cells) != len(columns) or ("index" in columns and _smi_number(values["index"], int) is None):
            out.unexpected.append("line has %d fields, expected %d: %s" % (len(cells), len(columns), line.strip()))
            continue
        out.gpus.append(_gpu_from_row(values))
        out.driver = out.driver or smi_value(values.get("driver_version", ""))
    out.gpus.sort(key=lambda gpu: (gpu["index"] is None, gpu["index"] or 0))
    return out


def parse_smi_csv(text, fields=SMI_FIELDS):
    """(gpus, driver_version) of parse_smi_output."""
    out = parse_smi_output(text, fields)
    return out.gpus, out.driver


def _query_smi(module, binary, warnings):
    """Run the query, dropping each field the driver rejects; (command result, fields asked)."""
    fields = list(SMI_FIELDS)
    while True:
        cmd = run(module, [binary, "--query-gpu=" + ",".join(fields), SMI_FORMAT])
        rejected = SMI_INVALID_FIELD_RE.search((cmd.stdout or "") + (cmd.stderr or ""))
        if not rejected or rejected.group(1) not in fields or rejected.group(1) in SMI_REQUIRED_FIELDS:
            return cmd, fields
        fields.remove(rejected.group(1))
        warnings.append("nvidia-smi does not know the field %s (an older driver); read without it" % rejected.group(1))


def _gpu_failures(gpus):
    return ["GPU %s: %s" % (gpu["index"] if gpu["index"] is not None else gpu["pci_bus_id"], gpu["error"])
            for gpu in gpus if gpu["error"]]


def from_nvidia_smi(module, result):
    binary = find_binary(module, "nvidia-smi")
    if not binary:
        result.update(status="no_driver", message="nvidia-smi not found on PATH", source="none")
        return
    result["source"] = "nvidia-smi"
    warnings = result["warnings_list"]
    cmd, fields = _query_smi(module, binary, warnings)
    output = (cmd.stdout or "") + (cmd.stderr or "")
    parsed = parse_smi_output(cmd.stdout or "", fields)
    # stderr lines are never rows; they count as unexpected once rows show the query ran.
    stray = parsed.unexpected + [line.strip() for line in (cmd.stderr or "").splitlines() if line.strip()]
    if parsed.gpus:
        warnings.extend("nvidia-smi printed an unexpected line, skipped it: %s" % line for line in stray)
        if cmd.rc != 0:
            warnings.append("nvidia-smi exited with rc=%d (%s); its GPU rows were kept"
                            % (cmd.rc, SMI_RETURN_CODES.get(cmd.rc, "see nvidia-smi(1)")))
        _finish(result, parsed.gpus, parsed.driver)
        return
    lowered = output.lower()
    if SMI_DRIVER_NOT_LOADED in lowered:
        status = "driver_not_loaded"
    elif SMI_NO_DEVICES in lowered:
        status = "no_devices"
    elif SMI_NO_LIBRARY in lowered:
        status = "no_driver"
    elif cmd.rc == 0 and not stray:
        status = "no_devices"
    else:
        status = "nvml_error"
    message = output.strip() or "nvidia-smi exited with rc=%d" % cmd.rc
    if status == "nvml_error" and cmd.rc == 0:
        message = "nvidia-smi printed no GPU row: %s" % "; ".join(stray)
    result.update(status=status, message=message)


def _finish(result, gpus, driver=None):
    """Counts and status once the GPUs are read: one failed GPU is that GPU's error, not the node's."""
    result["_counters"] = [gpu.pop(COUNTERS, None) or gpu_health.empty_counters() for gpu in gpus]
    failures = _gpu_failures(gpus)
    result.update(gpus=gpus, gpu_count=len(gpus) - len(failures))
    if driver is not None:
        result["driver_version"] = driver
    if failures:
        result.update(status="gpu_error", message="; ".join(failures))
        result["warnings_list"].extend(failures)
    else:
        result["status"] = "ok" if gpus else "no_devices"


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
        status = {nvml.NVML_ERROR_DRIVER_NOT_LOADED: "driver_not_loaded",
                  nvml.NVML_ERROR_LIBRARY_NOT_FOUND: "no_driver"}.get(exc.code, "nvml_error")
        result.update(status=status, message=exc.message)
        return True
    result.update(driver_version=facts["driver_version"], cuda_driver_version=facts["cuda_driver_version"])
    _finish(result, [empty_gpu(**gpu) for gpu in facts["gpus"]])
    return True


def collect_gpu_state(module, method="auto", health=None):
    """The GPU state dict nvidia_gpu_info returns (without 'changed').

    With ``health`` (thresholds, gpu_health.HEALTH_SPEC) the result also has 'health', the verdict
    on the GPUs' counters and on this boot's XID errors. The kernel log is read only when the
    nvidia module is loaded: without it there is no GPU to judge and no NVRM line to find.
    """
    modules = loaded_modules()
    result = dict(
        status="no_driver", message="", source="none", gpu_count=0,
        driver_version=None, cuda_driver_version=None, gpus=[],
        kernel_module_version=kernel_module_version(), userspace_driver_version=userspace_driver_version(),
        nvidia_module_loaded=module_loaded("nvidia", modules),
        nouveau_loaded=module_loaded("nouveau", modules),
        device_nodes=device_nodes(), pci_devices=pci_devices(), in_container=in_container(),
        warnings_list=[],
    )
    if method == "nvidia_smi":
        from_nvidia_smi(module, result)
    elif not from_nvml(result) and method == "auto":
        from_nvidia_smi(module, result)
    counters = result.pop("_counters", None) or [gpu_health.empty_counters() for _gpu in result["gpus"]]
    if health is not None:
        thresholds = gpu_health.defaults()
        thresholds.update((k, v) for k, v in health.items() if v is not None)
        kernel_log = None
        if not thresholds["xid_scan"]:
            kernel_log = ("none", "", "xid_scan is off")
        elif not result["nvidia_module_loaded"]:
            kernel_log = ("none", "", "the nvidia kernel module is not loaded")
        else:
            kernel_log = gpu_health.read_kernel_log(module)
        result["health"] = gpu_health.evaluate(result, counters, thresholds, kernel_log)
    for warning in result["warnings_list"]:
        module.warn(warning)
    return result
