"""node_compliance: one call, every check, clear reasons.

GPU and library state are gathered by module_utils tested in their own unit tests
(test_nvidia_gpu_info, test_shared_library_info); here they are replaced by the
dicts those functions return, and dpkg-query goes through a patched run_command.
"""

from __future__ import annotations

import json
import os
import re
from unittest.mock import patch

import pytest

from ansible_collections.dlstack.cdh.plugins.module_utils import gpu_health, gpu_state, library_state
from ansible_collections.dlstack.cdh.plugins.modules import node_compliance
from ansible_collections.dlstack.cdh.tests.unit.plugins.module_utils.cache_builder import build_new
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleExitJson,
    AnsibleFailJson,
    ModuleTestCase,
    set_module_args,
)

GPU_NO_DRIVER = {
    "status": "driver_not_loaded", "message": "Driver Not Loaded", "gpu_count": 0, "gpus": [],
    "driver_version": None, "nouveau_loaded": False,
}
GPU_TWO = {
    "status": "ok", "message": "", "gpu_count": 2, "driver_version": "535.183.01", "nouveau_loaded": False,
    "gpus": [{"index": 0, "persistence_mode": "Enabled"}, {"index": 1, "persistence_mode": "Disabled"}],
}
LIBRARIES = {
    "libraries": {
        "libcudart": [{"name": "libcudart.so.11.0", "path": "/usr/lib/x86_64-linux-gnu/libcudart.so.11.0", "version": "11.0"}],
        "libcudnn": [],
    },
    "cuda": [{"home": "/usr/lib/cuda", "version": "11.8.89", "source": "nvcc"}],
    "cudnn": None,
}
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "nvidia_gpu_info")


def _fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return "".join(line for line in handle if not line.startswith("#"))


def _with_health(state, gpus=None, counters=None, kernel_log=("none", "", "the nvidia kernel module is not loaded")):
    """A GPU state with the verdict gpu_health gives (defaults) on those GPUs and that kernel log."""
    state = dict(state, gpus=gpus if gpus is not None else state["gpus"])
    counters = counters or [gpu_health.empty_counters() for _gpu in state["gpus"]]
    return dict(state, health=gpu_health.evaluate(state, counters, gpu_health.defaults(), kernel_log))


def _sick_node():
    """The built nvidia-smi csv (fixtures/smi_health_problems_built.csv) and the gpu-operator#1146 kernel log."""
    parsed = gpu_state.parse_smi_output(_fixture("smi_health_problems_built.csv"))
    counters = [gpu.pop(gpu_state.COUNTERS) for gpu in parsed.gpus]
    state = dict(GPU_TWO, gpu_count=3, gpus=parsed.gpus)
    return _with_health(state, counters=counters,
                        kernel_log=("journalctl", _fixture("kernel_xid48_64_gpu_operator_1146.txt"), ""))


DPKG = "nvidia-smi\t535.183.01-1~deb12u1\thi \thold\nlibnvidia-ml1\t535.183.01-1~deb12u1\tii \tinstall\n"


class TestNodeCompliance(ModuleTestCase):

    def run_module(self, args, gpu=None, libraries=None, dpkg=DPKG):
        gpu = GPU_NO_DRIVER if gpu is None else gpu
        libraries = LIBRARIES if libraries is None else libraries
        with set_module_args(args):
            with patch.object(node_compliance, "collect_gpu_state", return_value=gpu) as gpu_call, \
                    patch.object(node_compliance, "collect_library_state", return_value=libraries) as libs, \
                    patch("ansible_collections.dlstack.cdh.plugins.module_utils.packages.package_manager", return_value="dpkg"), \
                    patch("ansible.module_utils.basic.AnsibleModule.run_command", return_value=(0, dpkg, "")) as run:
                with pytest.raises((AnsibleExitJson, AnsibleFailJson)) as exc:
                    node_compliance.main()
        self.libs, self.run, self.gpu_call = libs, run, gpu_call
        return exc.value.result

    def checks_by_name(self, result):
        return {c["name"]: c for c in result["checks"]}

    def test_compliant_node_reports_every_check_passed(self):
        result = self.run_module({
            "libraries": [{"name": "libcudart", "version": "11"}],
            "packages": [{"name": "nvidia-smi", "version": "535.183", "held": True}],
            "cuda_version": "11.8",
        })
        assert result["compliant"] is True
        assert result["changed"] is False
        assert result["summary"] == {"total": 6, "passed": 6, "failed": 0}
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", result["timing"]["started"])
        assert 0 <= result["timing"]["seconds"] < 60
        assert result["failed_checks"] == []
        # One dpkg-query for all packages: the single round trip the compliance playbook relies on.
        assert self.run.call_count == 1
        assert self.run.call_args[0][0][:2] == ["dpkg-query", "-W"]
        assert self.libs.call_args[1]["names"] == ["libcudart"]

    def test_drift_gives_reasons(self):
        result = self.run_module({
            "libraries": [{"name": "libcudnn", "version": "8"}],
            "packages": [{"name": "libnvidia-ml1", "held": True}, {"name": "nvidia-driver"}],
            "cudnn_version": "8.9",
            "cuda_version": "12",
        })
        checks = self.checks_by_name(result)
        assert result["compliant"] is False
        assert checks["library libcudnn found"]["reason"] == "the dynamic linker does not find libcudnn (not in the ld cache)"
        assert checks["package libnvidia-ml1 held"]["reason"] == "libnvidia-ml1 is not held"
        assert checks["package nvidia-driver installed"]["ok"] is False
        assert "the header says nothing" in checks["cuDNN version"]["reason"]
        assert checks["CUDA toolkit version"]["reason"] == "CUDA 12 is wanted; found 11.8.89 in /usr/lib/cuda"
        assert result["summary"]["failed"] == len(result["failed_checks"]) == 5

    def test_stale_cache_entry_fails_the_library_check(self):
        stale = {"name": "libcudnn.so.9", "path": "/usr/lib/x86_64-linux-gnu/libcudnn.so.9", "version": "9",
                 "stale": True,
                 "stale_reason": "stale ld cache entry: /usr/lib/x86_64-linux-gnu/libcudnn.so.9 does not exist (run ldconfig)"}
        libraries = dict(LIBRARIES, libraries={"libcudnn": [stale], "libcudart": LIBRARIES["libraries"]["libcudart"]})
        result = self.run_module({"libraries": [{"name": "libcudnn", "version": "9"}, {"name": "libcudart", "present": False}]},
                                 libraries=libraries)
        checks = self.checks_by_name(result)
        assert checks["library libcudnn found"]["ok"] is False
        assert checks["library libcudnn found"]["reason"] == (
            "the dynamic linker would fail on libcudnn: stale ld cache entry: "
            "/usr/lib/x86_64-linux-gnu/libcudnn.so.9 does not exist (run ldconfig)")
        # No version is read from a file that is not there.
        assert "library libcudnn version" not in checks
        assert checks["library libcudart absent"]["reason"] == "libcudart is still in the ld cache"

    def test_absent_library_with_only_stale_entries_names_the_remedy(self):
        stale = {"name": "libcudnn.so.8", "path": "/usr/lib/libcudnn.so.8", "stale": True, "stale_reason": "x"}
        result = self.run_module({"libraries": [{"name": "libcudnn", "present": False}]},
                                 libraries=dict(LIBRARIES, libraries={"libcudnn": [stale]}))
        assert self.checks_by_name(result)["library libcudnn absent"]["reason"] == (
            "libcudnn is still in the ld cache though its files are gone (stale ld cache; run ldconfig)")

    def test_deleted_library_from_a_real_cache(self):
        # The missed break: libcudnn.so.9 deleted while the ld cache still lists it.
        lib_dir = self.tmp_path / "lib"
        lib_dir.mkdir()
        cache = self.tmp_path / "ld.so.cache"
        cache.write_bytes(build_new([("libcudnn.so.9", str(lib_dir / "libcudnn.so.9"), 0x0303, 0)]))

        def real_state(module, **kwargs):
            return library_state.collect_library_state(
                module, cache_path=str(cache), ld_so_conf_dir=str(self.tmp_path), **kwargs)

        with patch.object(library_state, "DEBIAN_CUDA_HOME", str(self.tmp_path / "none")), \
                patch.object(node_compliance, "collect_library_state", side_effect=real_state):
            with set_module_args({"libraries": [{"name": "libcudnn"}], "cuda_homes": [], "cudnn_include_dirs": []}):
                with patch.object(node_compliance, "collect_gpu_state", return_value=GPU_NO_DRIVER):
                    with pytest.raises(AnsibleExitJson) as exc:
                        node_compliance.main()
        result = exc.value.result
        check = self.checks_by_name(result)["library libcudnn found"]
        assert result["compliant"] is False
        assert check["actual"] == [str(lib_dir / "libcudnn.so.9")]
        assert check["reason"] == ("the dynamic linker would fail on libcudnn: stale ld cache entry: %s does not exist "
                                   "(run ldconfig)" % (lib_dir / "libcudnn.so.9"))

    def test_fail_on_drift_fails_with_all_reasons(self):
        result = self.run_module({"packages": [{"name": "nvidia-driver"}], "fail_on_drift": True})
        assert result["failed"] is True
        assert result["msg"] == "nvidia-driver is not installed"
        assert result["compliant"] is False

    def test_gpu_required_on_a_node_without_driver(self):
        result = self.run_module({"gpu": {"required": True, "driver_version": "535"}})
        checks = self.checks_by_name(result)
        assert checks["GPUs visible to the driver"]["reason"] == "0 GPU(s) visible (status driver_not_loaded: Driver Not Loaded)"
        assert checks["driver version"]["reason"] == "driver none is running, 535 is wanted"

    def test_gpu_optional_node_without_driver_passes(self):
        result = self.run_module({"gpu": {"driver_version": "535", "nouveau_loaded": False}})
        assert result["compliant"] is True
        assert [c["name"] for c in result["checks"]] == ["nouveau loaded"]

    def test_gpus_are_required_where_the_pci_bus_has_nvidia_devices(self):
        devices = [{"address": "0000:%02x:00.0" % bus, "device_id": "0x20b0", "class": "0x030200", "driver": None}
                   for bus in range(8)]
        expected = {"gpu": {"required_with_devices": True, "driver_version": "535"}}
        result = self.run_module(expected, gpu=dict(GPU_NO_DRIVER, pci_devices=devices))
        checks = self.checks_by_name(result)
        assert checks["GPUs visible to the driver"]["reason"] == "0 GPU(s) visible (status driver_not_loaded: Driver Not Loaded)"
        assert checks["every NVIDIA PCI device visible"]["reason"].startswith(
            "8 NVIDIA PCI device(s) (0000:00:00.0, 0000:01:00.0, ")
        assert checks["every NVIDIA PCI device visible"]["reason"].endswith(", 0000:07:00.0), 0 GPU(s) visible to the driver")
        assert checks["driver version"]["reason"] == "driver none is running, 535 is wanted"
        # One device fallen off the bus on an otherwise healthy node.
        result = self.run_module(expected, gpu=dict(GPU_TWO, pci_devices=devices[:3]))
        checks = self.checks_by_name(result)
        assert checks["GPUs visible to the driver"]["ok"] is True
        assert (checks["every NVIDIA PCI device visible"]["expected"], checks["every NVIDIA PCI device visible"]["actual"]) == (3, 2)
        # Without NVIDIA devices (a container, a CPU node) nothing is required.
        result = self.run_module(expected, gpu=dict(GPU_NO_DRIVER, pci_devices=[]))
        assert result["compliant"] is True and result["checks"] == []
        # A container lists the host's devices in sysfs; their GPUs may not be its own.
        result = self.run_module(expected, gpu=dict(GPU_NO_DRIVER, pci_devices=devices, in_container=True))
        assert result["compliant"] is True and result["checks"] == []

    def test_kernel_module_must_match_the_userspace_driver(self):
        mismatch = dict(GPU_TWO, kernel_module_version="535.154.05")
        result = self.run_module({"gpu": {"driver_version": "535"}}, gpu=mismatch)
        check = self.checks_by_name(result)["kernel module matches the userspace driver"]
        assert check["reason"] == ("the loaded nvidia module is 535.154.05, the userspace driver 535.183.01 "
                                   "(reboot or reload the module)")
        result = self.run_module({"gpu": {"driver_version": "535"}}, gpu=dict(GPU_TWO, kernel_module_version="535.183.01"))
        assert result["compliant"] is True
        assert self.checks_by_name(result)["kernel module matches the userspace driver"]["ok"] is True

    def test_mismatch_nvml_refuses_is_caught_from_the_library_file(self):
        # After an upgrade without a reboot NVML fails to start: no driver version from it.
        mismatch = dict(GPU_NO_DRIVER, status="nvml_error", message="Driver/library version mismatch",
                        kernel_module_version="535.154.05", userspace_driver_version="535.183.01")
        result = self.run_module({"gpu": {"driver_version": "535"}}, gpu=mismatch)
        check = self.checks_by_name(result)["kernel module matches the userspace driver"]
        assert (check["expected"], check["actual"], check["ok"]) == ("535.183.01", "535.154.05", False)

    def test_an_environment_listed_twice_is_refused(self):
        result = self.run_module({"python_envs": [{"path": "/opt/env", "packages": ["numpy"]},
                                                  {"path": "/opt/env", "packages": ["scipy"]}]})
        assert result["failed"] is True
        assert result["msg"] == "python_envs: /opt/env is listed twice; give each environment's packages in one entry"

    def test_kernel_side_entries_apply_as_the_driver_role_decides(self):
        tmp = self.tmp_path
        args = {"packages": [{"name": "nvidia-smi"}, {"name": "nvidia-kernel-dkms", "kernel_side": True}],
                "files": [{"path": str(tmp / "blacklist-nouveau.conf"), "kernel_side": True}]}
        devices = [{"address": "0000:3b:00.0", "device_id": "0x1db6", "class": "0x030200", "driver": "nvidia"}]
        bare_metal = dict(GPU_NO_DRIVER, pci_devices=devices, in_container=False)
        result = self.run_module(args, gpu=bare_metal)
        assert sorted(c["name"] for c in result["failed_checks"]) == [
            "%s is file" % (tmp / "blacklist-nouveau.conf"), "package nvidia-kernel-dkms installed"]
        assert result["state"]["driver_kernel_side"] is True
        assert self.run.call_args[0][0][-2:] == ["nvidia-smi", "nvidia-kernel-dkms"]
        for gpu, choice in ((dict(bare_metal, in_container=True), "auto"), (GPU_NO_DRIVER, "auto"), (bare_metal, "never")):
            result = self.run_module(dict(args, driver_kernel_side=choice), gpu=gpu)
            assert result["compliant"] is True, result["failed_checks"]
            assert [c["name"] for c in result["checks"]] == ["package nvidia-smi installed"]
        result = self.run_module(dict(args, driver_kernel_side="always"), gpu=GPU_NO_DRIVER)
        assert len(result["failed_checks"]) == 2

    def run_with_env(self, args, installed, gpu=None, libraries=None, python_rc=0):
        """run_module with the environments' interpreters answering INSTALLED_SCRIPT with ``installed``."""
        answer = json.dumps({"python": "3.11", "packages": installed})

        def run_command(argv, **_kwargs):
            if argv[0].endswith("/bin/python"):
                return (python_rc, answer if python_rc == 0 else "", "boom" if python_rc else "")
            return (0, DPKG, "")

        gpu = GPU_NO_DRIVER if gpu is None else gpu
        libraries = LIBRARIES if libraries is None else libraries
        with set_module_args(args):
            with patch.object(node_compliance, "collect_gpu_state", return_value=gpu), \
                    patch.object(node_compliance, "collect_library_state", return_value=libraries), \
                    patch("ansible_collections.dlstack.cdh.plugins.module_utils.packages.package_manager", return_value="dpkg"), \
                    patch("ansible.module_utils.basic.AnsibleModule.run_command", side_effect=run_command) as run:
                with pytest.raises((AnsibleExitJson, AnsibleFailJson)) as exc:
                    node_compliance.main()
        self.run = run
        return exc.value.result

    def _env(self, name="tensorflow"):
        prefix = self.tmp_path / name
        (prefix / "bin").mkdir(parents=True)
        (prefix / "bin" / "python").write_text("#!/bin/sh\n")
        return str(prefix)

    def test_python_env_pins_are_checked_with_one_interpreter_run(self):
        env = self._env()
        installed = [{"name": "tensorflow-cpu", "version": "2.18.1"}, {"name": "protobuf", "version": "4.25.3"}]
        result = self.run_with_env({"python_envs": [{"path": env, "packages": [
            "tensorflow-cpu==2.18.1", "protobuf==5.29.5", "pyspark==3.5.7"]}]}, installed)
        checks = self.checks_by_name(result)
        assert checks["python env %s package tensorflow-cpu" % env]["ok"] is True
        assert checks["python env %s package protobuf" % env]["reason"] == (
            "protobuf==5.29.5 in %s: installed 4.25.3 does not satisfy ==5.29.5" % env)
        assert checks["python env %s package pyspark" % env]["reason"] == "pyspark==3.5.7 in %s: not installed" % env
        python_runs = [c for c in self.run.call_args_list if c[0][0][0].endswith("/bin/python")]
        assert len(python_runs) == 1 and python_runs[0][0][0][:2] == [env + "/bin/python", "-c"]

    def test_missing_or_broken_python_env_is_a_failed_check_not_an_error(self):
        broken = self._env("broken")
        result = self.run_with_env({"python_envs": [{"path": broken, "packages": ["numpy"]},
                                                    {"path": str(self.tmp_path / "gone"), "packages": ["numpy"]}]},
                                   [], python_rc=1)
        failed = {c["name"]: c["reason"] for c in result["failed_checks"]}
        assert list(failed) == ["python env %s readable" % broken, "python env %s readable" % (self.tmp_path / "gone")]
        assert failed["python env %s readable" % (self.tmp_path / "gone")] == "%s/bin/python does not exist" % (self.tmp_path / "gone")
        assert "boom" in failed["python env %s readable" % broken]

    def test_bad_python_env_requirement_fails_before_reading_anything(self):
        result = self.run_with_env({"python_envs": [{"path": "/opt/env", "packages": ["numpy===="]}]}, [])
        assert result["failed"] is True and result["msg"].startswith("python_envs /opt/env packages: ")
        assert self.run.call_count == 0

    def test_installed_stack_is_judged_with_the_compatibility_data(self):
        env = self._env()
        libraries = dict(LIBRARIES, cudnn={"version": "9.10.2", "header": "/usr/include/cudnn_version.h"})
        # TensorFlow 2.18 is built for CUDA 12.5 and cuDNN 9.3; this node has CUDA 11.8.
        result = self.run_with_env({"python_envs": [{"path": env}], "stack_compatible": True},
                                   [{"name": "tensorflow", "version": "2.18.1"}], gpu=GPU_TWO, libraries=libraries)
        check = self.checks_by_name(result)["installed stack compatible"]
        assert check["ok"] is False
        assert check["actual"] == {"driver_version": "535.183.01", "cuda_version": "11.8", "cudnn_version": "9.10.2",
                                   "tensorflow_version": "2.18.1"}
        assert check["reason"].startswith("installed cuda 11.8, cudnn 9.10.2, driver 535.183.01, tensorflow 2.18.1: ")
        assert "2.18" in check["reason"]
        # tensorflow-cpu needs no CUDA: only the driver, CUDA and cuDNN are judged, and they fit.
        result = self.run_with_env({"python_envs": [{"path": env}], "stack_compatible": True},
                                   [{"name": "tensorflow-cpu", "version": "2.18.1"}], gpu=GPU_TWO, libraries=libraries)
        check = self.checks_by_name(result)["installed stack compatible"]
        assert check["ok"] is True and "tensorflow_version" not in check["actual"]

    def test_package_patterns_check_every_installed_match(self):
        dpkg = ("cuda-nvcc-12-4\t12.4.131-1\thi \thold\n"
                "libcublas-12-4\t12.4.5.8-1\tii \tinstall\n"
                "libcublas-dev-12-4\t\tun \tunknown\n")
        dpkg += "cuda-toolkit-12-4\t12.4.1-1\thi \thold\n"
        result = self.run_module({"packages": [{"name": "cuda-toolkit-12-4", "version": "12.4", "held": True},
                                               {"name": "cuda-*-12-4", "held": True}, {"name": "libcu*-12-4", "held": True},
                                               {"name": "libnpp*-12-4", "held": True}]}, dpkg=dpkg)
        names = [c["name"] for c in result["checks"]]
        # The meta package is listed by name and checked once, not again through cuda-*-12-4.
        assert names.count("package cuda-toolkit-12-4 held") == 1 and len(names) == len(set(names))
        checks = self.checks_by_name(result)
        assert checks["package cuda-nvcc-12-4 held"]["ok"] is True
        assert checks["package libcublas-12-4 held"]["reason"] == "libcublas-12-4 is not held"
        # Known to dpkg but not installed: not a match. A pattern matching nothing adds no check.
        assert "package libcublas-dev-12-4 held" not in checks
        assert not [name for name in names if "libnpp" in name]
        assert [c["name"] for c in result["failed_checks"]] == ["package libcublas-12-4 held"]

    def test_gpu_version_prefix_is_matched_at_component_boundaries(self):
        result = self.run_module({"gpu": {"driver_version": "53"}}, gpu=GPU_TWO)
        checks = self.checks_by_name(result)
        assert checks["driver version"]["ok"] is False
        assert checks["driver version"]["reason"] == "driver 535.183.01 is running, 53 is wanted"

    def test_persistence_is_checked_where_the_kernel_side_applies(self):
        devices = [{"address": "0000:3b:00.0"}, {"address": "0000:5e:00.0"}]
        bare_metal = dict(GPU_TWO, pci_devices=devices, in_container=False)
        result = self.run_module({"gpu": {"persistence_mode": True}}, gpu=bare_metal)
        assert self.checks_by_name(result)["persistence mode"]["reason"] == "persistence mode is not Enabled on GPU(s) [1]"
        # A container's GPUs: the host runs persistenced, not this node.
        result = self.run_module({"gpu": {"persistence_mode": True}}, gpu=dict(bare_metal, in_container=True))
        assert "persistence mode" not in self.checks_by_name(result)
        result = self.run_module({"gpu": {"persistence_mode": True}, "driver_kernel_side": "always"}, gpu=GPU_TWO)
        assert self.checks_by_name(result)["persistence mode"]["ok"] is False

    def test_gpu_health_problems_are_one_failed_check_each(self):
        result = self.run_module({"gpu": {"health": {}}}, gpu=_sick_node())
        failed = [(c["name"], c["reason"]) for c in result["failed_checks"]]
        self.assertEqual(len(failed), 11)
        self.assertEqual(failed[0], (
            "GPU health GPU 0 (00000000:07:00.0) ecc_uncorrected_volatile",
            "GPU 0 (00000000:07:00.0): 2 uncorrectable ECC error(s) since the driver loaded (ecc_uncorrected_volatile), "
            "at most 0 allowed"))
        self.assertIn(("GPU health GPU 1 (00000000:0B:00.0) remapped_rows_failure",
                       "GPU 1 (00000000:0B:00.0): row remapping failed (remapped_rows_failure); the GPU needs service"), failed)
        self.assertIn("GPU health GPU 0 (00000000:07:00.0) xid_48", [name for name, _reason in failed])
        checks = self.checks_by_name(result)
        self.assertEqual((checks["GPU health GPU 0 (00000000:07:00.0) ecc_uncorrected_volatile"]["expected"],
                          checks["GPU health GPU 0 (00000000:07:00.0) ecc_uncorrected_volatile"]["actual"]), ("<= 0", 2))
        self.assertNotIn("GPU health", checks)
        assert result["compliant"] is False
        # The thresholds reach the one gathering call with their defaults filled in.
        self.assertEqual(self.gpu_call.call_args[1]["health"], gpu_health.defaults())
        assert self.gpu_call.call_count == 1

    def test_gpu_health_without_problems_is_one_passing_check(self):
        result = self.run_module({"gpu": {"health": {"ignore_xids": [63]}}}, gpu=_with_health(GPU_TWO))
        check = self.checks_by_name(result)["GPU health"]
        assert check["ok"] is True
        assert check["actual"] == "2 GPU(s) healthy; kernel log not read (the nvidia kernel module is not loaded)"
        assert self.gpu_call.call_args[1]["health"]["ignore_xids"] == [63]

    def test_gpu_health_on_a_node_without_gpus(self):
        result = self.run_module({"gpu": {"health": {}}}, gpu=_with_health(GPU_NO_DRIVER))
        check = self.checks_by_name(result)["GPU health"]
        assert check["ok"] is True and result["compliant"] is True
        assert check["actual"] == ("no GPU to check (status driver_not_loaded: Driver Not Loaded); "
                                   "kernel log not read (the nvidia kernel module is not loaded)")
        result = self.run_module({"gpu": {"required": True, "health": {}}}, gpu=_with_health(GPU_NO_DRIVER))
        check = self.checks_by_name(result)["GPU health"]
        assert check["ok"] is False
        assert check["reason"] == ("GPUs are required, but there is no GPU to check (status driver_not_loaded: "
                                   "Driver Not Loaded); kernel log not read (the nvidia kernel module is not loaded)")

    def test_gpu_health_is_not_read_unless_asked(self):
        result = self.run_module({"gpu": {"nouveau_loaded": False}})
        assert [c["name"] for c in result["checks"]] == ["nouveau loaded"]
        assert self.gpu_call.call_args[1]["health"] is None

    def test_files(self):
        tmp = self.tmp_path
        conf = tmp / "cuda.conf"
        conf.write_text("/usr/local/cuda/lib64\n")
        os.chmod(str(conf), 0o644)
        (tmp / "cuda").symlink_to("cuda-11.8")
        result = self.run_module({"files": [
            {"path": str(conf), "contains": ["/usr/local/cuda/lib64", "/usr/local/cuda/lib"], "mode": "0644"},
            {"path": str(tmp / "cuda"), "state": "link", "link_target": "cuda-12.2"},
            {"path": str(tmp / "missing.conf"), "state": "absent"},
        ]})
        checks = self.checks_by_name(result)
        assert checks["%s contains '/usr/local/cuda/lib64'" % conf]["ok"] is True
        assert checks["%s contains '/usr/local/cuda/lib'" % conf]["reason"] == "%s lacks the line '/usr/local/cuda/lib'" % conf
        assert checks["%s mode" % conf]["ok"] is True
        assert checks["%s target" % (tmp / "cuda")]["reason"] == "%s points at cuda-11.8, cuda-12.2 is wanted" % (tmp / "cuda")
        assert checks["%s is absent" % (tmp / "missing.conf")]["ok"] is True

    def test_bad_mode_fails_before_reading_anything(self):
        result = self.run_module({"files": [{"path": "/etc/x.conf", "mode": "rw-r--r--"}]})
        assert result["failed"] is True
        assert result["msg"] == "files: mode 'rw-r--r--' of /etc/x.conf is not an octal permission such as '0644'"
        assert self.run.call_count == 0

    def test_relative_path_is_refused(self):
        result = self.run_module({"files": [{"path": "etc/x.conf"}]})
        assert result["msg"] == "files: 'etc/x.conf' is not an absolute path"


@pytest.fixture(autouse=True)
def _tmp_path_for_unittest(request, tmp_path):
    if request.instance is not None:
        request.instance.tmp_path = tmp_path
