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
notes:
  - Needs no Python library on the managed node; NVML is called through C(ctypes).
  - RV(cuda_driver_version) only comes from NVML; C(nvidia-smi --query-gpu) has no such field.
  - RV(gpus[].compute_capability) comes from NVML C(nvmlDeviceGetCudaComputeCapability) or the
    C(nvidia-smi) field C(compute_cap) (R510 and later; null with older drivers).
  - Values the GPU does not support (C([N/A]), C([Not Supported]) or an NVML C(NOT_SUPPORTED)) are returned as V(null).
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
