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
  - One GPU that fails (NVML C(GPU_IS_LOST), C([GPU is lost]) cells, C(Unable to determine the device
    handle for GPU ...)) is reported as that GPU's RV(gpus[].error) with RV(status=gpu_error); the other
    GPUs are still read.
  - C(nvidia-smi) is asked only for fields its driver knows; a field an older driver rejects
    (C(mig.mode.current) before R450, C(compute_cap) before R510) is dropped and the query retried.
    Valid rows are kept whatever the exit code; any other line it prints is skipped and reported in
    RV(warnings_list), which is also shown as Ansible warnings.
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
  health:
    description:
      - Thresholds of the health verdict returned in RV(health); every key has a default, so the verdict is always there.
      - A counter a GPU does not report (GeForce boards have no ECC, pre-Ampere GPUs no row remapping, an NVML
        C(NOT_SUPPORTED) or a C([N/A]) cell) is listed in RV(health.gpus[].not_reported), never a problem.
    type: dict
    suboptions:
      max_ecc_uncorrected_volatile:
        description: Most uncorrectable ECC errors a GPU may have counted since the driver loaded (volatile counter).
        type: int
        default: 0
      max_ecc_uncorrected_aggregate:
        description: Most uncorrectable ECC errors a GPU may have counted over its life (aggregate counter).
        type: int
        default: 0
      pending_retirement:
        description:
          - Whether memory pages pending retirement (pre-Ampere) or rows pending remapping (Ampere and later) are a problem.
          - Both take effect only after a GPU reset or reboot. A failed row remapping is always a problem.
        type: bool
        default: true
      pending_modes:
        description: Whether an ECC or MIG mode that changes at the next GPU reset (pending differs from current) is a problem.
        type: bool
        default: true
      throttle_reasons:
        description:
          - Clock event (throttle) reasons that are a problem when active, named as in C(nvml.h).
          - The default is the slowdowns the hardware forces. Idle, application clocks, SW power cap and sync boost are normal operation.
        type: list
        elements: str
        choices: [gpu_idle, applications_clocks_setting, sw_power_cap, hw_slowdown, sync_boost, sw_thermal_slowdown,
                  hw_thermal_slowdown, hw_power_brake_slowdown, display_clock_setting]
        default: [hw_slowdown, hw_thermal_slowdown, hw_power_brake_slowdown]
      xid_scan:
        description:
          - Whether to read this boot's kernel log (C(journalctl -k -b), else C(dmesg)) for C(NVRM) Xid lines.
          - The log is read only while the C(nvidia) kernel module is loaded. A log that cannot be read (C(dmesg_restrict))
            is reported in RV(health.xid.message), not as a problem.
        type: bool
        default: true
      ignore_xids:
        description:
          - Xid numbers that are not a problem.
          - The default is the Xids NVIDIA's Xid catalog resolves by restarting the application (13, 31, 43) or ignoring (45).
        type: list
        elements: int
        default: [13, 31, 43, 45]
notes:
  - Needs no Python library on the managed node; NVML is called through C(ctypes).
  - RV(cuda_driver_version) only comes from NVML; C(nvidia-smi --query-gpu) has no such field.
  - RV(gpus[].compute_capability) comes from NVML C(nvmlDeviceGetCudaComputeCapability) or the
    C(nvidia-smi) field C(compute_cap) (R510 and later; null with older drivers).
  - Values the GPU does not support (C([N/A]), C([Not Supported]) or an NVML C(NOT_SUPPORTED)) are returned as V(null).
  - The health counters come from NVML (C(nvmlDeviceGetTotalEccErrors), C(nvmlDeviceGetRetiredPagesPendingStatus),
    C(nvmlDeviceGetRemappedRows), C(nvmlDeviceGetCurrentClocksThrottleReasons), C(nvmlDeviceGetEccMode) and
    C(nvmlDeviceGetMigMode)) or the matching C(nvidia-smi --query-gpu) fields (C(ecc.errors.uncorrected.volatile.total),
    C(retired_pages.pending), C(remapped_rows.pending), C(clocks_throttle_reasons.active), C(ecc.mode.pending), ...).
seealso:
  - name: NVML API reference
    description: The functions and types this module binds.
    link: https://docs.nvidia.com/deploy/nvml-api/
  - name: nvidia-smi documentation
    description: The C(--query-gpu) fields used by the fallback.
    link: https://docs.nvidia.com/deploy/nvidia-smi/
extends_documentation_fragment:
  - dlstack.cdh.attributes
  - dlstack.cdh.attributes.info_module
attributes:
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

- name: Judge GPU health, allowing one lifetime uncorrectable ECC error and ignoring Xid 63 too
  dlstack.cdh.nvidia_gpu_info:
    health:
      max_ecc_uncorrected_aggregate: 1
      ignore_xids: [13, 31, 43, 45, 63]
  register: gpu

- name: Stop on an unhealthy GPU
  ansible.builtin.assert:
    that: gpu.health.status != 'unhealthy'
    fail_msg: "{{ gpu.health.problems | map(attribute='reason') | join('; ') }}"
"""

RETURN = r"""
status:
  description:
    - V(ok) GPUs were read; V(no_driver) neither the NVML library nor C(nvidia-smi) is present, or
      C(nvidia-smi) cannot find C(libnvidia-ml.so);
      V(driver_not_loaded) they are present but the kernel driver is not loaded or cannot be reached;
      V(no_devices) the driver works but reports no GPU; V(gpu_error) at least one GPU failed (see
      RV(gpus[].error)) while the driver answered; V(nvml_error) any other NVML or C(nvidia-smi) failure.
  returned: always
  type: str
  sample: ok
message:
  description:
    - NVML's error string or C(nvidia-smi)'s own output when RV(status) is not V(ok), else an empty string.
    - With V(gpu_error), each failed GPU (C(GPU 1), or its bus id when nvidia-smi could not open it) with its error, joined by C(; ).
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
  description: Number of GPUs read without an error (0 unless RV(status) is V(ok) or V(gpu_error)).
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
userspace_driver_version:
  description:
    - Version of the userspace driver, from the name of the file C(libnvidia-ml.so.1) resolves to, V(null) without one.
    - Read without loading NVML, so it is there when NVML refuses to start because the loaded kernel module is
      another version (C(Driver/library version mismatch), after an upgrade without a reboot).
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
warnings_list:
  description:
    - What was read around rather than failed on, in order; each is also an Ansible warning.
    - Fields C(nvidia-smi) did not know, lines it printed that were neither header nor GPU row (an
      infoROM warning), a non-zero exit code whose rows were kept, and each failed GPU.
  returned: always
  type: list
  elements: str
  sample: ["nvidia-smi exited with rc=14 (infoROM is corrupted); its GPU rows were kept"]
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
    compute_capability:
      description: CUDA compute capability as C(major.minor), null when the driver does not tell.
      type: str
      sample: "9.0"
    error:
      description:
        - Why this GPU could not be read (C(GPU is lost), C(Unknown Error)...), null when it was.
        - A GPU nvidia-smi cannot open at all has only RV(gpus[].pci_bus_id) and this set.
      type: str
      sample: null
health:
  description: The health verdict of every GPU and of the node, against the O(health) thresholds.
  returned: always
  type: dict
  contains:
    status:
      description:
        - V(ok) every GPU read is healthy; V(unhealthy) at least one problem (see RV(health.problems));
          V(no_gpus) no GPU was read (the reason is in RV(health.message)).
      type: str
      sample: unhealthy
    message:
      description: The verdict in one line, with every problem's reason and what the kernel log said.
      type: str
      sample: "1 problem(s): GPU 0 (00000000:07:00.0): Xid 48 logged 1 time(s) since boot, last: ..."
    problems:
      description: One entry per problem, of every GPU, in GPU order; Xids of a PCI address no GPU answers for come last.
      type: list
      elements: dict
      contains:
        gpu:
          description: C(GPU <index> (<bus id>)), or C(GPU at PCI <address>) for an Xid of a GPU the driver no longer lists.
          type: str
        counter:
          description:
            - What is wrong, e.g. C(ecc_uncorrected_volatile), C(retired_pages_pending), C(remapped_rows_failure),
              C(mig_mode_pending), C(throttle_hw_slowdown), C(xid_79), C(error) (the GPU could not be read).
          type: str
        value:
          description: The value found (a count, V(true), the pending mode, the error).
          type: raw
        limit:
          description: What would have been fine.
          type: raw
        reason:
          description: A sentence naming the GPU, the counter and the remedy where there is one.
          type: str
    gpus:
      description: One entry per RV(gpus) entry, with the counters read.
      type: list
      elements: dict
      contains:
        index:
          description: As RV(gpus[].index).
          type: int
        uuid:
          description: As RV(gpus[].uuid).
          type: str
        pci_bus_id:
          description: As RV(gpus[].pci_bus_id).
          type: str
        status:
          description: V(ok) or V(unhealthy).
          type: str
        problems:
          description: This GPU's entries of RV(health.problems).
          type: list
          elements: dict
        ecc_mode_pending:
          description: ECC mode after the next reset.
          type: str
        mig_mode_pending:
          description: MIG mode after the next reset.
          type: str
        ecc_uncorrected_volatile:
          description: Uncorrectable ECC errors since the driver loaded.
          type: int
        ecc_uncorrected_aggregate:
          description: Uncorrectable ECC errors over the GPU's life.
          type: int
        retired_pages_pending:
          description: Whether pages are pending retirement.
          type: bool
        remapped_rows_uncorrectable:
          description: Rows remapped after an uncorrectable error.
          type: int
        remapped_rows_pending:
          description: Whether a row remapping waits for a reset.
          type: bool
        remapped_rows_failure:
          description: Whether a row remapping ever failed.
          type: bool
        clock_event_reasons:
          description: The active clock event (throttle) reasons bitmask.
          type: int
        clock_event_reasons_active:
          description: The names of the active reasons (V(gpu_idle), V(hw_slowdown)...).
          type: list
          elements: str
        not_reported:
          description: The counters above this GPU does not report (null values).
          type: list
          elements: str
    xid:
      description: What the kernel log said.
      type: dict
      contains:
        source:
          description: V(journalctl), V(dmesg), or V(none) when the log was not read.
          type: str
        read:
          description: Whether the log was read.
          type: bool
        message:
          description: Why it was not read (empty when it was).
          type: str
        events:
          description: Every Xid line since boot (ignored ones too), each with C(xid), C(pci) (domain:bus:device), C(text) and C(line).
          type: list
          elements: dict
        ignored:
          description: How many of RV(health.xid.events) are in O(health.ignore_xids).
          type: int
    thresholds:
      description: The thresholds applied.
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dlstack.cdh.plugins.module_utils.gpu_health import HEALTH_SPEC
from ansible_collections.dlstack.cdh.plugins.module_utils.gpu_state import collect_gpu_state


def main():
    module = AnsibleModule(
        argument_spec=dict(
            method=dict(type="str", default="auto", choices=["auto", "nvml", "nvidia_smi"]),
            health=dict(type="dict", options=HEALTH_SPEC, apply_defaults=True),
        ),
        supports_check_mode=True,
    )
    module.exit_json(changed=False, **collect_gpu_state(module, module.params["method"], health=module.params["health"]))


if __name__ == "__main__":
    main()
