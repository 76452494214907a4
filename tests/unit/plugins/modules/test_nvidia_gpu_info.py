# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for dlstack.cdh.nvidia_gpu_info.

There is no GPU and no NVIDIA kernel driver on the machines these tests run on,
so GPU answers come from (a) FakeNVML, a stand-in for libnvidia-ml.so.1 that
keeps the real calling convention (ctypes pointers, string buffers, return
codes, nvmlErrorString), and (b) nvidia-smi output captured on real GPU nodes
(fixtures/nvidia_gpu_info, each naming its source). The real NVML library is
exercised too (TestRealNVML) when Debian's libnvidia-ml1 is installed.
"""

import ctypes
import os
import shutil
import tempfile
import unittest
from unittest.mock import patch

from ansible.module_utils import basic
from ansible_collections.dlstack.cdh.plugins.module_utils import gpu_state, nvml
from ansible_collections.dlstack.cdh.plugins.modules import nvidia_gpu_info
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleExitJson,
    ModuleTestCase,
    set_module_args,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "nvidia_gpu_info")
SMI = "/usr/bin/nvidia-smi"
# dlopen's own message when the library is absent.
NO_LIBRARY = OSError("libnvidia-ml.so.1: cannot open shared object file: No such file or directory")


def fixture(name):
    """Fixture text without its '#' source header."""
    with open(os.path.join(FIXTURES, name)) as handle:
        return "".join(line for line in handle if not line.startswith("#"))


# nvmlErrorString texts of the codes used below (as libnvidia-ml returns them;
# 3, 9, 12 and 15 were checked against Debian's libnvidia-ml1 535.x on this machine).
ERROR_STRINGS = {
    0: b"Success",
    1: b"Uninitialized",
    3: b"Not Supported",
    7: b"Insufficient Size",
    9: b"Driver Not Loaded",
    12: b"NVML Shared Library Not Found",
    15: b"GPU is lost",
    18: b"RM has detected an NVML/RM version mismatch.",
}


class FakeNVML(object):
    """Stand-in for ctypes.CDLL('libnvidia-ml.so.1') (no GPU on the test machines).

    Exposes the same function names with the same C signatures: outputs are
    written through ctypes pointers and string buffers exactly as the C library
    writes them, buffer lengths are honoured (NVML_ERROR_INSUFFICIENT_SIZE),
    every call before nvmlInit_v2 gives NVML_ERROR_UNINITIALIZED, and values a
    GPU lacks give NVML_ERROR_NOT_SUPPORTED. Attributes are plain functions so
    that ``restype``/``argtypes`` can be set on them as on ctypes functions.

    Each GPU is a dict of raw NVML values: name/uuid/bus_id (bytes), memory
    total/used (bytes), temperature (C), power (mW), persistence/ecc/compute/mig
    (ints), cc (major, minor); a value of None means NOT_SUPPORTED for that GPU.
    lost=True: every query of that device answers NVML_ERROR_GPU_IS_LOST, as the
    NVML reference documents for a GPU that "has fallen off the bus or is otherwise
    inaccessible".
    """

    def __init__(self, gpus=(), init_rc=0, driver=b"535.183.01", cuda=12020, missing=()):
        self.gpus = list(gpus)
        self.init_rc = init_rc
        self.driver = driver
        self.cuda = cuda
        self.initialized = False
        self.calls = []
        functions = {
            "nvmlInit_v2": self._init,
            "nvmlShutdown": self._shutdown,
            "nvmlErrorString": self._error_string,
            "nvmlSystemGetDriverVersion": self._driver_version,
            "nvmlSystemGetCudaDriverVersion_v2": self._cuda_version,
            "nvmlDeviceGetCount_v2": self._count,
            "nvmlDeviceGetHandleByIndex_v2": self._handle,
            "nvmlDeviceGetName": self._string_getter("name"),
            "nvmlDeviceGetUUID": self._string_getter("uuid"),
            "nvmlDeviceGetPciInfo_v3": self._pci_info,
            "nvmlDeviceGetMemoryInfo": self._memory_info,
            "nvmlDeviceGetTemperature": self._temperature,
            "nvmlDeviceGetPowerUsage": self._uint_getter("power"),
            "nvmlDeviceGetPersistenceMode": self._uint_getter("persistence"),
            "nvmlDeviceGetComputeMode": self._uint_getter("compute"),
            "nvmlDeviceGetEccMode": self._pair_getter("ecc"),
            "nvmlDeviceGetMigMode": self._pair_getter("mig"),
            "nvmlDeviceGetCudaComputeCapability": self._compute_capability,
            # Health counters (nvml.h signatures); a GPU dict without the key answers NOT_SUPPORTED.
            "nvmlDeviceGetTotalEccErrors": self._total_ecc_errors,
            "nvmlDeviceGetRetiredPagesPendingStatus": self._uint_getter("retired_pending"),
            "nvmlDeviceGetRemappedRows": self._remapped_rows,
            "nvmlDeviceGetCurrentClocksThrottleReasons": self._uint_getter("throttle", ctypes.c_ulonglong),
            "nvmlDeviceGetCurrentClocksEventReasons": self._uint_getter("throttle", ctypes.c_ulonglong),
        }
        for name, implementation in functions.items():
            if name not in missing:
                setattr(self, name, self._traced(name, implementation))

    def _traced(self, name, implementation):
        def function(*args):
            self.calls.append(name)
            if name not in ("nvmlInit_v2", "nvmlErrorString") and not self.initialized:
                return nvml.NVML_ERROR_UNINITIALIZED
            if name.startswith("nvmlDeviceGet") and name not in ("nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetCount_v2"):
                gpu = self._device(args[0])
                if gpu is not None and gpu.get("lost"):
                    return nvml.NVML_ERROR_GPU_IS_LOST
            return implementation(*args)
        return function

    @staticmethod
    def _pointer(arg, ctype):
        # ctypes raises ArgumentError for a wrong argument type; so does this.
        if not isinstance(arg, ctypes._Pointer) or not isinstance(arg.contents, ctype):
            raise ctypes.ArgumentError("expected pointer to %s, got %r" % (ctype.__name__, arg))
        return arg

    def _device(self, handle):
        if not isinstance(handle, ctypes.c_void_p) or handle.value is None:
            raise ctypes.ArgumentError("expected nvmlDevice_t handle, got %r" % (handle,))
        index = handle.value - 0x1000
        return self.gpus[index] if 0 <= index < len(self.gpus) else None

    @staticmethod
    def _write_string(buf, length, data):
        if len(data) + 1 > length.value or len(data) + 1 > len(buf):
            return nvml.NVML_ERROR_INSUFFICIENT_SIZE
        buf.value = data
        return nvml.NVML_SUCCESS

    def _init(self):
        if self.init_rc == nvml.NVML_SUCCESS:
            self.initialized = True
        return self.init_rc

    def _shutdown(self):
        self.initialized = False
        return nvml.NVML_SUCCESS

    def _error_string(self, code):
        return ERROR_STRINGS.get(code, b"Unknown Error")

    def _driver_version(self, buf, length):
        return self._write_string(buf, length, self.driver)

    def _cuda_version(self, value):
        self._pointer(value, ctypes.c_int)[0] = self.cuda
        return nvml.NVML_SUCCESS

    def _count(self, count):
        self._pointer(count, ctypes.c_uint)[0] = len(self.gpus)
        return nvml.NVML_SUCCESS

    def _handle(self, index, handle):
        if not isinstance(index, ctypes.c_uint) or index.value >= len(self.gpus):
            return nvml.NVML_ERROR_INVALID_ARGUMENT
        self._pointer(handle, ctypes.c_void_p)[0] = 0x1000 + index.value
        return nvml.NVML_SUCCESS

    def _string_getter(self, key):
        def getter(handle, buf, length):
            gpu = self._device(handle)
            if gpu is None:
                return nvml.NVML_ERROR_INVALID_ARGUMENT
            return self._write_string(buf, length, gpu[key])
        return getter

    def _pci_info(self, handle, pci):
        gpu = self._device(handle)
        if gpu.get("bus_id") is None:
            return nvml.NVML_ERROR_NOT_SUPPORTED
        info = self._pointer(pci, nvml.PciInfo).contents
        info.busId = gpu["bus_id"]
        info.busIdLegacy = gpu["bus_id"][4:]
        return nvml.NVML_SUCCESS

    def _memory_info(self, handle, memory):
        gpu = self._device(handle)
        info = self._pointer(memory, nvml.Memory).contents
        info.total, info.used = gpu["memory_total"], gpu["memory_used"]
        info.free = info.total - info.used
        return nvml.NVML_SUCCESS

    def _temperature(self, handle, sensor, value):
        gpu = self._device(handle)
        if not isinstance(sensor, ctypes.c_int) or sensor.value != nvml.NVML_TEMPERATURE_GPU:
            return nvml.NVML_ERROR_INVALID_ARGUMENT
        self._pointer(value, ctypes.c_uint)[0] = gpu["temperature"]
        return nvml.NVML_SUCCESS

    def _compute_capability(self, handle, major, minor):
        gpu = self._device(handle)
        self._pointer(major, ctypes.c_int)[0], self._pointer(minor, ctypes.c_int)[0] = gpu["cc"]
        return nvml.NVML_SUCCESS

    def _uint_getter(self, key, ctype=ctypes.c_uint):
        def getter(handle, value):
            gpu = self._device(handle)
            if gpu.get(key) is None:
                return nvml.NVML_ERROR_NOT_SUPPORTED
            self._pointer(value, ctype)[0] = gpu[key]
            return nvml.NVML_SUCCESS
        return getter

    def _pair_getter(self, key):
        def getter(handle, current, pending):
            gpu = self._device(handle)
            if gpu.get(key) is None:
                return nvml.NVML_ERROR_NOT_SUPPORTED
            self._pointer(current, ctypes.c_uint)[0] = gpu[key]
            self._pointer(pending, ctypes.c_uint)[0] = gpu.get(key + "_pending", gpu[key])
            return nvml.NVML_SUCCESS
        return getter

    def _total_ecc_errors(self, handle, error_type, counter_type, count):
        # nvmlDeviceGetTotalEccErrors(device, nvmlMemoryErrorType_t, nvmlEccCounterType_t, unsigned long long *).
        gpu = self._device(handle)
        if gpu.get("ecc_uncorrected") is None:
            return nvml.NVML_ERROR_NOT_SUPPORTED
        if error_type.value != nvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED or counter_type.value not in (0, 1):
            return nvml.NVML_ERROR_INVALID_ARGUMENT
        self._pointer(count, ctypes.c_ulonglong)[0] = gpu["ecc_uncorrected"][counter_type.value]
        return nvml.NVML_SUCCESS

    def _remapped_rows(self, handle, corr, unc, pending, failure):
        # nvmlDeviceGetRemappedRows(device, unsigned int *corrRows, *uncRows, *isPending, *failureOccurred).
        gpu = self._device(handle)
        if gpu.get("remapped") is None:
            return nvml.NVML_ERROR_NOT_SUPPORTED
        for pointer, value in zip((corr, unc, pending, failure), gpu["remapped"]):
            self._pointer(pointer, ctypes.c_uint)[0] = value
        return nvml.NVML_SUCCESS


MIB = 1024 * 1024
# The columns of the 13-field rows below (SMI_FIELDS before compute_cap was added).
FIELDS_13 = gpu_state.SMI_FIELDS[:13]
# Values of GPU 0 and 1 of the 8x H100 node in fixtures/smi_8x_h100.csv, in NVML units.
H100_0 = dict(name=b"NVIDIA H100 80GB HBM3", uuid=b"GPU-b42dd28e-ffdd-8720-1df0-98bd8cdc05b1",
              bus_id=b"00000000:18:00.0", memory_total=81559 * MIB, memory_used=1 * MIB,
              temperature=30, power=100890, persistence=1, ecc=1, compute=0, mig=0, cc=(9, 0))
H100_MIG = dict(H100_0, uuid=b"GPU-7c3cadbd-17e5-0913-f69b-c618122ea0cd", bus_id=b"00000000:2A:00.0",
                temperature=30, power=82810, mig=1, compute=3)
# A GeForce board: no ECC, no MIG, no power reading (NVML_ERROR_NOT_SUPPORTED).
GEFORCE = dict(name=b"NVIDIA GeForce RTX 2080 SUPER", uuid=b"GPU-22b2c6ac-2d49-4863-197c-9c469071178a",
               bus_id=b"00000000:0C:00.0", memory_total=8192 * MIB, memory_used=214 * MIB,
               temperature=40, power=None, persistence=0, ecc=None, compute=0, mig=None, cc=(7, 5))


class GpuInfoTestCase(ModuleTestCase):
    """Points every file path of the module at an empty temporary root."""

    def setUp(self):
        super(GpuInfoTestCase, self).setUp()
        self.root = tempfile.mkdtemp(prefix="gpuinfo-")
        self.addCleanup(shutil.rmtree, self.root)
        paths = dict(
            PROC_DRIVER_VERSION="proc/driver/nvidia/version", PROC_MODULES="proc/modules",
            SYS_MODULE="sys/module", PROC_1_CGROUP="proc/1/cgroup", DOCKERENV=".dockerenv",
            CONTAINERENV="run/.containerenv", DEV_NVIDIA_GLOB="dev/nvidia*", SYS_PCI_DEVICES="sys/bus/pci/devices",
        )
        for constant, relative in paths.items():
            patcher = patch.object(gpu_state, constant, os.path.join(self.root, relative))
            patcher.start()
            self.addCleanup(patcher.stop)
        library_dirs = (os.path.join(self.root, "usr/lib64"), os.path.join(self.root, "usr/lib/x86_64-linux-gnu"))
        patcher = patch.object(gpu_state, "NVML_LIBRARY_DIRS", library_dirs)
        patcher.start()
        self.addCleanup(patcher.stop)
        # An empty /proc/modules unless a test writes one (the host's must not leak in).
        self.write("proc/modules", "")

    def write(self, relative, text):
        path = os.path.join(self.root, relative)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, "w") as handle:
            handle.write(text)
        return path

    def run_module(self, args=None, library=None, smi=None, smi_path=SMI):
        """Run main(); library is a FakeNVML or an exception, smi is (rc, stdout, stderr) or a list of them."""
        if isinstance(smi, list):
            run_command = patch.object(basic.AnsibleModule, "run_command", side_effect=smi)
        else:
            run_command = patch.object(basic.AnsibleModule, "run_command", return_value=smi)
        bin_path = patch.object(basic.AnsibleModule, "get_bin_path", return_value=smi_path)
        return self.run_main(args, library, run_command, bin_path)

    def run_main(self, args, library, run_command, bin_path):
        """main() with NVML's loader, run_command and get_bin_path patched; the mocks stay on self."""
        with patch.object(nvml, "load_library") as load_mock, run_command as run_mock, bin_path as bin_mock:
            if isinstance(library, Exception):
                load_mock.side_effect = library
            else:
                load_mock.return_value = library
            with self.assertRaises(AnsibleExitJson) as exit_info:
                with set_module_args(args or {}):
                    nvidia_gpu_info.main()
        self.load_mock, self.run_mock, self.bin_mock = load_mock, run_mock, bin_mock
        return exit_info.exception.result


class TestNVMLPath(GpuInfoTestCase):

    def test_two_gpus_one_with_mig(self):
        fake = FakeNVML(gpus=[H100_0, H100_MIG])
        result = self.run_module(library=fake)
        self.assertEqual(result["status"], "ok")
        self.assertEqual(result["source"], "nvml")
        self.assertFalse(result["changed"])
        self.assertEqual(result["gpu_count"], 2)
        self.assertEqual(result["driver_version"], "535.183.01")
        self.assertEqual(result["cuda_driver_version"], "12.2")
        self.assertEqual(result["gpus"][0], {
            "index": 0, "name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-b42dd28e-ffdd-8720-1df0-98bd8cdc05b1",
            "pci_bus_id": "00000000:18:00.0", "memory_total_mib": 81559, "memory_used_mib": 1,
            "temperature_c": 30, "power_draw_w": 100.89, "persistence_mode": "Enabled", "ecc_mode": "Enabled",
            "compute_mode": "Default", "mig_mode": "Disabled", "compute_capability": "9.0", "error": None,
        })
        self.assertEqual(result["gpus"][1]["mig_mode"], "Enabled")
        self.assertEqual(result["gpus"][1]["compute_mode"], "Exclusive_Process")
        self.assertEqual(result["gpus"][1]["power_draw_w"], 82.81)
        # One session, closed; nvidia-smi never consulted.
        self.assertEqual(fake.calls.count("nvmlInit_v2"), 1)
        self.assertEqual(fake.calls[-1], "nvmlShutdown")
        self.run_mock.assert_not_called()

    def test_unsupported_values_are_null(self):
        result = self.run_module(library=FakeNVML(gpus=[GEFORCE]))
        gpu = result["gpus"][0]
        self.assertEqual(result["status"], "ok")
        self.assertIsNone(gpu["ecc_mode"])
        self.assertIsNone(gpu["mig_mode"])
        self.assertIsNone(gpu["power_draw_w"])
        self.assertEqual(gpu["persistence_mode"], "Disabled")
        self.assertEqual(gpu["memory_used_mib"], 214)

    def test_older_library_without_a_symbol(self):
        result = self.run_module(library=FakeNVML(gpus=[H100_0], missing=("nvmlDeviceGetMigMode",)))
        self.assertEqual(result["status"], "ok")
        self.assertIsNone(result["gpus"][0]["mig_mode"])
        self.assertEqual(result["gpus"][0]["ecc_mode"], "Enabled")

    def test_lost_gpu_is_that_gpus_error_not_the_nodes(self):
        fake = FakeNVML(gpus=[H100_0, dict(H100_MIG, lost=True), GEFORCE])
        result = self.run_module(library=fake)
        self.assertEqual(result["status"], "gpu_error")
        self.assertEqual(result["source"], "nvml")
        self.assertEqual(result["gpu_count"], 2)
        self.assertEqual(len(result["gpus"]), 3)
        lost = result["gpus"][1]
        self.assertEqual(lost["index"], 1)
        self.assertEqual(lost["error"], "GPU is lost")
        self.assertIsNone(lost["uuid"])
        # The GPUs around it are read in full.
        self.assertEqual(result["gpus"][0]["uuid"], "GPU-b42dd28e-ffdd-8720-1df0-98bd8cdc05b1")
        self.assertEqual(result["gpus"][2]["compute_capability"], "7.5")
        self.assertIsNone(result["gpus"][2]["error"])
        self.assertEqual(result["message"], "GPU 1: GPU is lost")
        self.assertEqual(result["warnings_list"], ["GPU 1: GPU is lost"])
        self.assertEqual(fake.calls[-1], "nvmlShutdown")
        self.run_mock.assert_not_called()

    def test_compute_capability_and_an_older_library_without_it(self):
        result = self.run_module(library=FakeNVML(gpus=[H100_0, GEFORCE]))
        self.assertEqual([g["compute_capability"] for g in result["gpus"]], ["9.0", "7.5"])
        result = self.run_module(library=FakeNVML(gpus=[H100_0], missing=("nvmlDeviceGetCudaComputeCapability",)))
        self.assertEqual(result["status"], "ok")
        self.assertIsNone(result["gpus"][0]["compute_capability"])

    def test_library_not_found_is_no_driver(self):
        result = self.run_module({"method": "nvml"}, library=FakeNVML(init_rc=nvml.NVML_ERROR_LIBRARY_NOT_FOUND))
        self.assertEqual(result["status"], "no_driver")
        self.assertEqual(result["message"], "NVML Shared Library Not Found")

    def test_driver_not_loaded(self):
        fake = FakeNVML(init_rc=nvml.NVML_ERROR_DRIVER_NOT_LOADED)
        result = self.run_module(library=fake)
        self.assertEqual(result["status"], "driver_not_loaded")
        self.assertEqual(result["message"], "Driver Not Loaded")
        self.assertEqual(result["source"], "nvml")
        self.assertEqual(result["gpu_count"], 0)
        self.assertNotIn("failed", result)
        self.run_mock.assert_not_called()
        # No shutdown after a failed init (it would only return UNINITIALIZED).
        self.assertNotIn("nvmlShutdown", fake.calls)

    def test_no_devices(self):
        result = self.run_module(library=FakeNVML(gpus=[]))
        self.assertEqual(result["status"], "no_devices")
        self.assertEqual(result["driver_version"], "535.183.01")
        self.assertEqual(result["gpus"], [])

    def test_other_nvml_error(self):
        result = self.run_module(library=FakeNVML(init_rc=nvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH))
        self.assertEqual(result["status"], "nvml_error")
        self.assertEqual(result["message"], "RM has detected an NVML/RM version mismatch.")
        self.run_mock.assert_not_called()

    def test_driver_version_buffer_too_small_is_null_not_fatal(self):
        result = self.run_module(library=FakeNVML(gpus=[H100_0], driver=b"5" * nvml.SYSTEM_DRIVER_VERSION_BUFFER_SIZE))
        self.assertEqual(result["status"], "ok")
        self.assertIsNone(result["driver_version"])

    def test_check_mode_reports_the_same(self):
        result = self.run_module({"_ansible_check_mode": True}, library=FakeNVML(gpus=[H100_0]))
        self.assertFalse(result["changed"])
        self.assertEqual(result["gpu_count"], 1)


class TestNvidiaSmiPath(GpuInfoTestCase):

    def test_auto_falls_back_when_library_is_absent_8_gpus(self):
        result = self.run_module(library=NO_LIBRARY, smi=(0, fixture("smi_8x_h100.csv"), ""))
        self.assertEqual(result["status"], "ok")
        self.assertEqual(result["source"], "nvidia-smi")
        self.assertEqual(result["gpu_count"], 8)
        self.assertEqual(result["driver_version"], "565.57.01")
        self.assertIsNone(result["cuda_driver_version"])
        self.assertEqual([gpu["index"] for gpu in result["gpus"]], list(range(8)))
        self.assertEqual(result["gpus"][7], {
            "index": 7, "name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-33135771-a848-ece1-b61e-489e221d663c",
            "pci_bus_id": "00000000:DB:00.0", "memory_total_mib": 81559, "memory_used_mib": 1,
            "temperature_c": 29, "power_draw_w": 75.09, "persistence_mode": "Enabled", "ecc_mode": "Enabled",
            "compute_mode": "Default", "mig_mode": "Disabled", "compute_capability": None, "error": None,
        })
        argv = self.run_mock.call_args[0][0]
        self.assertEqual(argv[0], SMI)
        # With the header, so the columns that came back are named (after a fallback too).
        self.assertEqual(argv[2], "--format=csv,nounits")
        self.assertEqual(argv[1].split("=", 1)[1].split(","), list(gpu_state.SMI_FIELDS))

    def test_mig_enabled(self):
        result = self.run_module({"method": "nvidia_smi"}, smi=(0, fixture("smi_h100_mig.csv"), ""))
        self.assertEqual(result["status"], "ok")
        self.assertEqual(result["gpus"][0]["mig_mode"], "Enabled")
        self.assertEqual(result["gpus"][0]["memory_used_mib"], 59)
        self.assertEqual(result["gpus"][0]["power_draw_w"], 71.15)
        self.assertEqual(result["driver_version"], "590.48.01")
        self.load_mock.assert_not_called()

    def test_every_field_capture_of_a_mig_h100_read_through_its_header(self):
        result = self.run_module({"method": "nvidia_smi"}, smi=(0, fixture("smi_h100_mig_all_fields.csv"), ""))
        self.assertEqual(result["status"], "ok")
        self.assertEqual(result["warnings_list"], [])
        self.assertEqual(result["driver_version"], "590.48.01")
        self.assertEqual(result["gpus"], [{
            "index": 0, "name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-00000000-0000-0000-0000-000000000000",
            "pci_bus_id": "00000000:00:09.0", "memory_total_mib": 81559, "memory_used_mib": 59,
            "temperature_c": 42, "power_draw_w": 71.15, "persistence_mode": "Enabled", "ecc_mode": "Enabled",
            "compute_mode": "Default", "mig_mode": "Enabled", "compute_capability": "9.0", "error": None,
        }])

    def test_compute_cap_capture_in_another_field_order(self):
        result = self.run_module({"method": "nvidia_smi"}, smi=(0, fixture("smi_compute_cap_titanv_ada.csv"), ""))
        self.assertEqual(result["status"], "ok")
        self.assertEqual(result["gpu_count"], 2)
        self.assertEqual([(g["index"], g["name"], g["compute_capability"]) for g in result["gpus"]],
                         [(0, "NVIDIA TITAN V", "7.0"), (1, "NVIDIA RTX 5880 Ada Generation", "8.9")])
        self.assertEqual(result["driver_version"], "570.86.15")
        self.assertIsNone(result["gpus"][0]["uuid"])

    def test_old_driver_rejects_new_fields_one_by_one(self):
        # Driver 384.130 knows neither mig.mode.current (R450) nor compute_cap (R510); nvidia-smi names
        # the first unknown field and exits 2. The compute_cap answer is the real 470 one; the
        # mig.mode.current one is the same sentence with that field's name.
        answers = [
            (2, 'Field "mig.mode.current" is not a valid field to query.\n\n', ""),
            (2, fixture("smi_470_compute_cap_rejected.txt"), ""),
            (14, fixture("smi_384_quadro_p4000_inforom.csv"), ""),
        ]
        with patch.object(basic.AnsibleModule, "warn") as warn:
            result = self.run_module({"method": "nvidia_smi"}, smi=answers)
        asked = [call[0][0][1].split("=", 1)[1].split(",") for call in self.run_mock.call_args_list]
        self.assertEqual(asked[0], list(gpu_state.SMI_FIELDS))
        self.assertEqual(asked[1], [f for f in gpu_state.SMI_FIELDS if f != "mig.mode.current"])
        self.assertEqual(asked[2], [f for f in gpu_state.SMI_FIELDS if f not in ("mig.mode.current", "compute_cap")])
        self.assertEqual(result["status"], "ok")
        self.assertEqual(result["gpu_count"], 1)
        self.assertEqual(result["driver_version"], "384.130")
        gpu = result["gpus"][0]
        self.assertEqual((gpu["name"], gpu["pci_bus_id"], gpu["memory_total_mib"], gpu["memory_used_mib"]),
                         ("Quadro P4000", "00000000:B3:00.0", 8105, 701))
        self.assertEqual((gpu["temperature_c"], gpu["power_draw_w"], gpu["persistence_mode"]), (35, 6.0, "Disabled"))
        self.assertEqual((gpu["ecc_mode"], gpu["mig_mode"], gpu["compute_capability"], gpu["uuid"]), (None, None, None, None))
        self.assertEqual(result["warnings_list"], [
            "nvidia-smi does not know the field mig.mode.current (an older driver); read without it",
            "nvidia-smi does not know the field compute_cap (an older driver); read without it",
            "nvidia-smi printed an unexpected line, skipped it: line has 1 fields, expected 11: "
            "WARNING: infoROM is corrupted at gpu 0000:B3:00.0",
            "nvidia-smi exited with rc=14 (infoROM is corrupted); its GPU rows were kept",
        ])
        self.assertEqual([call[0][0] for call in warn.call_args_list], result["warnings_list"])

    def test_warning_before_the_rows(self):
        lines = fixture("smi_384_quadro_p4000_inforom.csv").splitlines()
        text = "\n".join(lines[-1:] + lines[:-1]) + "\n"
        result = self.run_module({"method": "nvidia_smi"}, smi=(14, text, ""))
        self.assertEqual(result["status"], "ok")
        self.assertEqual(result["gpus"][0]["name"], "Quadro P4000")
        self.assertIn("WARNING: infoROM is corrupted at gpu 0000:B3:00.0", result["warnings_list"][0])

    def test_rows_are_kept_whatever_the_exit_code(self):
        # An exit code nvidia-smi(1) does not list (15) is reported without a meaning, rows still kept.
        result = self.run_module({"method": "nvidia_smi"}, smi=(15, fixture("smi_8x_h100.csv"), ""))
        self.assertEqual(result["status"], "ok")
        self.assertEqual(result["gpu_count"], 8)
        self.assertEqual(result["warnings_list"], [
            "nvidia-smi exited with rc=15 (see nvidia-smi(1)); its GPU rows were kept"])

    def test_device_handle_error_is_that_gpus_error(self):
        text = fixture("smi_device_handle_unknown_error.txt")
        # The capture does not show the exit code; the verdict must not depend on it.
        result = self.run_module({"method": "nvidia_smi"}, smi=(15, text, ""))
        self.assertEqual(result["status"], "gpu_error")
        self.assertEqual(result["gpu_count"], 0)
        self.assertEqual(result["gpus"], [gpu_state.empty_gpu(pci_bus_id="0000:0B:00.0", error="Unknown Error")])
        self.assertEqual(result["message"], "GPU 0000:0B:00.0: Unknown Error")

    def test_device_handle_error_next_to_healthy_rows(self):
        # The 8x H100 rows and the 2080 Ti node's error line in one output, as nvidia-smi lists the GPUs it
        # can open and names the one it cannot; even with rc 0 the lost GPU does not pass as ok.
        text = fixture("smi_8x_h100.csv") + fixture("smi_device_handle_unknown_error.txt")
        result = self.run_module({"method": "nvidia_smi"}, smi=(0, text, ""))
        self.assertEqual(result["status"], "gpu_error")
        self.assertEqual(result["gpu_count"], 8)
        self.assertEqual(len(result["gpus"]), 9)
        self.assertEqual(result["gpus"][-1]["error"], "Unknown Error")
        self.assertEqual(result["gpus"][7]["uuid"], "GPU-33135771-a848-ece1-b61e-489e221d663c")

    def test_device_handle_error_without_a_space(self):
        # The form in https://github.com/cihlab/fics-cluster-guide/issues/53 (title), copied unchanged.
        result = self.run_module({"method": "nvidia_smi"},
                                 smi=(15, "Unable to determine the device handle for GPU0000:20:00.0: Unknown Error\n", ""))
        self.assertEqual(result["gpus"][0]["pci_bus_id"], "0000:20:00.0")
        self.assertEqual(result["status"], "gpu_error")

    def test_gpu_is_lost_cells_fail_that_gpu_only(self):
        # GPU 3 of the 8x H100 rows with its values replaced by "[GPU is lost]": nvidia-smi prints a value it
        # could not read as the bracketed NVML error string (nvmlErrorString(15) is "GPU is lost", checked
        # against libnvidia-ml1 535 here), and "[GPU is lost]" rows of logged --query-gpu csv are quoted in
        # public training notes found through the code search index. The row itself is built for this test.
        lines = fixture("smi_8x_h100.csv").splitlines()
        cells = lines[4].split(", ")
        lines[4] = ", ".join(cells[:4] + ["[GPU is lost]"] * 8 + cells[12:])
        result = self.run_module({"method": "nvidia_smi"}, smi=(0, "\n".join(lines) + "\n", ""))
        self.assertEqual(result["status"], "gpu_error")
        self.assertEqual(result["gpu_count"], 7)
        lost = result["gpus"][3]
        self.assertEqual((lost["index"], lost["error"], lost["memory_total_mib"]), (3, "GPU is lost", None))
        self.assertEqual(result["message"], "GPU 3: GPU is lost")

    def test_missing_libnvidia_ml_is_no_driver(self):
        # rc 12: "NVML Shared Library couldn't be found or loaded" (nvidia-smi(1)).
        result = self.run_module(library=NO_LIBRARY, smi=(12, fixture("smi_no_libnvidia_ml.txt"), ""))
        self.assertEqual(result["status"], "no_driver")
        self.assertEqual(result["source"], "nvidia-smi")
        self.assertIn("couldn't find libnvidia-ml.so", result["message"])

    def test_not_available_values_are_null(self):
        result = self.run_module({"method": "nvidia_smi"}, smi=(0, fixture("smi_rtx2080super_na.csv"), ""))
        gpu = result["gpus"][0]
        self.assertIsNone(gpu["ecc_mode"])
        self.assertIsNone(gpu["mig_mode"])
        self.assertEqual(gpu["persistence_mode"], "Disabled")
        self.assertEqual(gpu["temperature_c"], 40)
        self.assertEqual(gpu["memory_total_mib"], 8192)

    def test_driver_not_loaded_message(self):
        message = fixture("smi_driver_not_loaded.txt")
        result = self.run_module(library=NO_LIBRARY, smi=(9, message, ""))
        self.assertEqual(result["status"], "driver_not_loaded")
        self.assertEqual(result["source"], "nvidia-smi")
        self.assertEqual(result["message"], message.strip())
        self.assertNotIn("failed", result)

    def test_no_devices_message(self):
        result = self.run_module({"method": "nvidia_smi"}, smi=(6, "No devices were found\n", ""))
        self.assertEqual(result["status"], "no_devices")
        self.assertEqual(result["gpu_count"], 0)

    def test_unexpected_output_is_an_error_not_a_crash(self):
        result = self.run_module({"method": "nvidia_smi"}, smi=(0, "0, NVIDIA H100 80GB HBM3\n", ""))
        self.assertEqual(result["status"], "nvml_error")
        self.assertIn("expected %d" % len(gpu_state.SMI_FIELDS), result["message"])

    def test_other_failure(self):
        text = "Failed to initialize NVML: Driver/library version mismatch\n"
        result = self.run_module({"method": "nvidia_smi"}, smi=(18, text, ""))
        self.assertEqual(result["status"], "nvml_error")
        self.assertEqual(result["message"], text.strip())


class TestNoDriver(GpuInfoTestCase):

    def test_no_library_and_no_nvidia_smi(self):
        result = self.run_module(library=NO_LIBRARY, smi_path=None)
        self.assertEqual(result["status"], "no_driver")
        self.assertEqual(result["source"], "none")
        self.assertEqual(result["gpus"], [])
        self.assertNotIn("failed", result)
        self.run_mock.assert_not_called()

    def test_method_nvml_does_not_fall_back(self):
        result = self.run_module({"method": "nvml"}, library=NO_LIBRARY, smi=(0, fixture("smi_h100_mig.csv"), ""))
        self.assertEqual(result["status"], "no_driver")
        self.assertIn("cannot open shared object file", result["message"])
        self.bin_mock.assert_not_called()
        self.run_mock.assert_not_called()


class TestHostFacts(GpuInfoTestCase):

    def facts(self):
        return self.run_module(library=NO_LIBRARY, smi_path=None)

    def test_kernel_module_version_proprietary(self):
        self.write("proc/driver/nvidia/version", fixture("proc_driver_nvidia_version_515.txt"))
        self.assertEqual(self.facts()["kernel_module_version"], "515.76")

    def test_kernel_module_version_open(self):
        self.write("proc/driver/nvidia/version", fixture("proc_driver_nvidia_version_open_565.txt"))
        self.assertEqual(self.facts()["kernel_module_version"], "565.57.01")

    def test_userspace_version_from_the_library_file_behind_the_link(self):
        # Debian: libnvidia-ml.so.1 -> /etc/alternatives/... -> nvidia/current/libnvidia-ml.so.535.183.01
        real = self.write("usr/lib/x86_64-linux-gnu/nvidia/current/libnvidia-ml.so.535.183.01", "")
        alternative = os.path.join(self.root, "etc/alternatives/nvidia--libnvidia-ml.so.1")
        os.makedirs(os.path.dirname(alternative))
        os.symlink(real, alternative)
        os.symlink(alternative, os.path.join(self.root, "usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"))
        self.assertEqual(self.facts()["userspace_driver_version"], "535.183.01")

    def test_no_userspace_library(self):
        self.assertIsNone(self.facts()["userspace_driver_version"])

    def test_no_kernel_module(self):
        result = self.facts()
        self.assertIsNone(result["kernel_module_version"])
        self.assertFalse(result["nvidia_module_loaded"])
        self.assertFalse(result["nouveau_loaded"])

    def test_nvidia_module_loaded(self):
        self.write("proc/modules", fixture("proc_modules_nvidia.txt"))
        result = self.facts()
        self.assertTrue(result["nvidia_module_loaded"])
        self.assertFalse(result["nouveau_loaded"])

    def test_nouveau_loaded(self):
        # A /proc/modules line in the kernel's format (see proc(5)), written for this test.
        self.write("proc/modules", "nouveau 2904064 3 - Live 0x0000000000000000\nttm 86016 1 nouveau, Live 0x0000000000000000\n")
        result = self.facts()
        self.assertTrue(result["nouveau_loaded"])
        self.assertFalse(result["nvidia_module_loaded"])

    def test_modules_from_sysfs_when_proc_modules_is_unreadable(self):
        os.remove(os.path.join(self.root, "proc/modules"))
        os.makedirs(os.path.join(self.root, "sys/module/nvidia"))
        result = self.facts()
        self.assertTrue(result["nvidia_module_loaded"])
        self.assertFalse(result["nouveau_loaded"])

    def test_device_nodes(self):
        for name in ("nvidia0", "nvidiactl", "nvidia-uvm", "null"):
            self.write("dev/" + name, "")
        self.assertEqual(self.facts()["device_nodes"],
                         [os.path.join(self.root, "dev", name) for name in ("nvidia-uvm", "nvidia0", "nvidiactl")])

    def pci(self, address, vendor, device, pci_class, driver=None):
        for name, value in (("vendor", vendor), ("device", device), ("class", pci_class)):
            self.write("sys/bus/pci/devices/%s/%s" % (address, name), value + "\n")
        if driver:
            target = os.path.join(self.root, "sys/bus/pci/drivers", driver)
            os.makedirs(target)
            os.symlink(target, os.path.join(self.root, "sys/bus/pci/devices", address, "driver"))

    def test_pci_devices_without_driver(self):
        self.pci("0000:18:00.0", "0x10de", "0x2330", "0x030200", driver="nvidia")
        self.pci("0000:3b:00.0", "0x10de", "0x1e81", "0x030000")            # no driver bound
        self.pci("0000:3b:00.1", "0x10de", "0x10f8", "0x040300")            # the card's HDMI audio
        self.pci("0000:00:02.0", "0x8086", "0x4680", "0x030000", driver="i915")
        self.assertEqual(self.facts()["pci_devices"], [
            {"address": "0000:18:00.0", "device_id": "0x2330", "class": "0x030200", "driver": "nvidia"},
            {"address": "0000:3b:00.0", "device_id": "0x1e81", "class": "0x030000", "driver": None},
        ])

    def test_not_in_container(self):
        self.write("proc/1/cgroup", "0::/init.scope\n")
        self.assertFalse(self.facts()["in_container"])

    def test_container_markers(self):
        self.write(".dockerenv", "")
        self.assertTrue(self.facts()["in_container"])

    def test_container_from_cgroup(self):
        self.write("proc/1/cgroup", "12:pids:/kubepods/besteffort/pod1234/abcd\n0::/\n")
        self.assertTrue(self.facts()["in_container"])


class TestParsing(unittest.TestCase):

    def test_smi_value(self):
        # "[Not Supported]" is how nvidia-smi --help-query-gpu documents unsupported values.
        for raw in ("[N/A]", "N/A", "[Not Supported]", "[Requested functionality has been deprecated]", " "):
            self.assertIsNone(gpu_state.smi_value(raw), raw)
        self.assertEqual(gpu_state.smi_value(" Enabled "), "Enabled")

    def test_units_are_tolerated(self):
        gpus, driver = gpu_state.parse_smi_csv(
            "0, NVIDIA H100 80GB HBM3, GPU-x, 00000000:00:09.0, 81559 MiB, 59 MiB, 42, 71.15 W, "
            "Enabled, Enabled, Default, Enabled, 590.48.01\n", FIELDS_13)
        self.assertEqual((gpus[0]["memory_total_mib"], gpus[0]["power_draw_w"]), (81559, 71.15))
        self.assertEqual(driver, "590.48.01")

    def test_cuda_version_text(self):
        self.assertEqual(nvml.cuda_version_text(12020), "12.2")
        self.assertEqual(nvml.cuda_version_text(11080), "11.8")
        self.assertEqual(nvml.cuda_version_text(12090), "12.9")
        self.assertIsNone(nvml.cuda_version_text(0))


def _real_library():
    try:
        return nvml.load_library()
    except OSError:
        return None


@unittest.skipIf(_real_library() is None, "libnvidia-ml.so.1 not installed (apt-get install libnvidia-ml1)")
class TestRealNVML(GpuInfoTestCase):
    """The real libnvidia-ml.so.1 through the real ctypes path, no double.

    Without a GPU and kernel driver nvmlInit_v2 answers
    NVML_ERROR_DRIVER_NOT_LOADED (seen with Debian's libnvidia-ml1 535.x);
    on a GPU node the same test checks a real device list instead.
    """

    def test_query(self):
        try:
            facts = nvml.query(nvml.load_library())
        except nvml.NVMLError as exc:
            self.assertIn(exc.code, (nvml.NVML_ERROR_DRIVER_NOT_LOADED, nvml.NVML_ERROR_LIBRARY_NOT_FOUND))
            self.assertTrue(exc.message)
            return
        self.assertGreaterEqual(len(facts["gpus"]), 0)
        for gpu in facts["gpus"]:
            self.assertTrue(gpu["uuid"].startswith(("GPU-", "MIG-")))

    def test_module_reports_the_library_answer(self):
        with set_module_args({"method": "nvml"}):
            with self.assertRaises(AnsibleExitJson) as exit_info:
                nvidia_gpu_info.main()
        result = exit_info.exception.result
        self.assertEqual(result["source"], "nvml")
        self.assertIn(result["status"], ("driver_not_loaded", "ok", "no_devices"))
        if result["status"] == "driver_not_loaded":
            self.assertEqual(result["message"], "Driver Not Loaded")
