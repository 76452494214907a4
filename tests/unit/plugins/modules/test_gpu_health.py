# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GPU health through nvidia_gpu_info: counters (NVML and nvidia-smi), XIDs in the kernel log, thresholds.

The NVML answers come from test_nvidia_gpu_info's FakeNVML (the real calling convention of
libnvidia-ml.so.1); nvidia-smi, journalctl and dmesg answers are fixtures that name their
source (fixtures/nvidia_gpu_info). Every command goes through the patched
AnsibleModule.run_command, and the assertions come after the ``with`` block.
"""

from unittest.mock import patch

from ansible.module_utils import basic
from ansible_collections.dlstack.cdh.plugins.module_utils import gpu_health
from ansible_collections.dlstack.cdh.plugins.modules import nvidia_gpu_info
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.test_nvidia_gpu_info import (
    GEFORCE,
    H100_0,
    NO_LIBRARY,
    FakeNVML,
    GpuInfoTestCase,
    fixture,
)
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import AnsibleExitJson, set_module_args

BINARIES = {"nvidia-smi": "/usr/bin/nvidia-smi", "journalctl": "/usr/bin/journalctl", "dmesg": "/usr/bin/dmesg"}
JOURNAL_ARGV = ["/usr/bin/journalctl", "-k", "-b", "--no-pager", "-q"]
# /proc/modules with the nvidia module loaded (the line layout of fixtures/proc_modules_nvidia.txt).
NVIDIA_LOADED = "nvidia 56782848 2 nvidia_uvm,nvidia_modeset, Live 0x0000000000000000 (POE)\n"
# The V100 of the gpu-operator#1146 node sits at 07:00 (its Xid 48/64 lines name that address).
V100_07 = dict(H100_0, name=b"Tesla V100-SXM2-32GB", uuid=b"GPU-00000000-0000-0000-0000-000000000000",
               bus_id=b"00000000:07:00.0", cc=(7, 0), mig=None)


class HealthTestCase(GpuInfoTestCase):

    def run_health(self, args=None, library=None, answers=None, binaries=None, nvidia_loaded=True):
        """Run the module; answers maps a program's base name to (rc, stdout, stderr)."""
        if nvidia_loaded:
            self.write("proc/modules", NVIDIA_LOADED)
        answers = answers or {}
        paths = BINARIES if binaries is None else binaries

        def run_command(argv, **_kwargs):
            return answers[argv[0].rsplit("/", 1)[-1]]

        return self.run_main(
            args, library, patch.object(basic.AnsibleModule, "run_command", side_effect=run_command),
            patch.object(basic.AnsibleModule, "get_bin_path", side_effect=lambda name, **_kw: paths.get(name)))

    def argvs(self):
        return [call[0][0] for call in self.run_mock.call_args_list]

    @staticmethod
    def problems(result):
        return [(p["gpu"], p["counter"]) for p in result["health"]["problems"]]


class TestNVMLCounters(HealthTestCase):

    def test_counters_of_each_gpu_and_a_lost_one(self):
        sick = dict(H100_0, ecc_uncorrected=(2, 5), remapped=(0, 1, 1, 0), throttle=0x1 | 0x8 | 0x40,
                    ecc_pending=0, retired_pending=0)
        fake = FakeNVML(gpus=[sick, dict(H100_0, lost=True), GEFORCE])
        result = self.run_health(library=fake, nvidia_loaded=False)
        health = result["health"]
        self.assertEqual(health["status"], "unhealthy")
        self.assertEqual(self.problems(result), [
            ("GPU 0 (00000000:18:00.0)", "ecc_uncorrected_volatile"), ("GPU 0 (00000000:18:00.0)", "ecc_uncorrected_aggregate"),
            ("GPU 0 (00000000:18:00.0)", "remapped_rows_pending"), ("GPU 0 (00000000:18:00.0)", "ecc_mode_pending"),
            ("GPU 0 (00000000:18:00.0)", "throttle_hw_slowdown"), ("GPU 0 (00000000:18:00.0)", "throttle_hw_thermal_slowdown"),
            ("GPU 1 (no bus id)", "error"),
        ])
        reasons = [p["reason"] for p in health["problems"]]
        self.assertEqual(reasons[0], "GPU 0 (00000000:18:00.0): 2 uncorrectable ECC error(s) since the driver loaded "
                                     "(ecc_uncorrected_volatile), at most 0 allowed")
        self.assertEqual(reasons[3], "GPU 0 (00000000:18:00.0): ECC mode is Enabled, Disabled after the next reset "
                                     "(ecc_mode_pending); reset the GPU or reboot")
        self.assertEqual(reasons[6], "GPU 1 (no bus id): GPU is lost (the driver cannot read this GPU)")
        gpu0 = health["gpus"][0]
        self.assertEqual((gpu0["ecc_uncorrected_volatile"], gpu0["ecc_uncorrected_aggregate"], gpu0["remapped_rows_uncorrectable"]),
                         (2, 5, 1))
        self.assertEqual(gpu0["clock_event_reasons_active"], ["gpu_idle", "hw_slowdown", "hw_thermal_slowdown"])
        self.assertIs(gpu0["retired_pages_pending"], False)
        # The GeForce board reports none of them: not reported, and healthy.
        geforce = health["gpus"][2]
        self.assertEqual(geforce["status"], "ok")
        self.assertEqual(geforce["not_reported"], list(gpu_health.COUNTER_KEYS))
        # The GPU entries themselves are unchanged by the health read.
        self.assertNotIn("_counters", result["gpus"][0])
        self.assertEqual(health["xid"], {"source": "none", "read": False, "message": "the nvidia kernel module is not loaded",
                                         "events": [], "ignored": 0})
        self.run_mock.assert_not_called()

    def test_mig_mode_pending_and_a_library_without_the_counters(self):
        missing = ("nvmlDeviceGetTotalEccErrors", "nvmlDeviceGetRemappedRows", "nvmlDeviceGetRetiredPagesPendingStatus",
                   "nvmlDeviceGetCurrentClocksThrottleReasons")
        fake = FakeNVML(gpus=[dict(H100_0, mig_pending=1, throttle=0x80)], missing=missing)
        result = self.run_health({"health": {"xid_scan": False}}, library=fake)
        gpu = result["health"]["gpus"][0]
        # The R535 name of the clock reasons call answers when the old one is gone.
        self.assertEqual(gpu["clock_event_reasons_active"], ["hw_power_brake_slowdown"])
        self.assertEqual(gpu["not_reported"], ["ecc_uncorrected_volatile", "ecc_uncorrected_aggregate", "retired_pages_pending",
                                               "remapped_rows_uncorrectable", "remapped_rows_pending", "remapped_rows_failure"])
        self.assertEqual(self.problems(result), [("GPU 0 (00000000:18:00.0)", "mig_mode_pending"),
                                                 ("GPU 0 (00000000:18:00.0)", "throttle_hw_power_brake_slowdown")])
        self.assertEqual(result["health"]["xid"]["message"], "xid_scan is off")
        self.run_mock.assert_not_called()

    def test_thresholds_are_options(self):
        sick = dict(H100_0, ecc_uncorrected=(2, 5), remapped=(0, 1, 1, 0), throttle=0x8, ecc_pending=0)
        result = self.run_health({"health": {
            "max_ecc_uncorrected_volatile": 2, "max_ecc_uncorrected_aggregate": 5, "pending_retirement": False,
            "pending_modes": False, "throttle_reasons": ["sw_power_cap"], "ignore_xids": [48, 64]}},
            library=FakeNVML(gpus=[dict(sick, bus_id=b"00000000:07:00.0")]),
            answers={"journalctl": (0, fixture("kernel_xid48_64_gpu_operator_1146.txt"), "")})
        self.assertEqual(result["health"]["status"], "ok")
        self.assertEqual(result["health"]["problems"], [])
        self.assertEqual(result["health"]["xid"]["ignored"], 2)
        self.assertEqual(result["health"]["thresholds"]["ignore_xids"], [48, 64])
        self.assertTrue(result["health"]["message"].startswith("1 GPU(s) healthy; kernel log (journalctl): 2 Xid line(s)"))

    def test_healthy_gpu_with_xids_from_the_journal(self):
        fake = FakeNVML(gpus=[V100_07, dict(H100_0, bus_id=b"00000000:0A:00.0")])
        result = self.run_health(library=fake, answers={"journalctl": (0, fixture("kernel_xid48_64_gpu_operator_1146.txt"), "")})
        self.assertEqual(self.argvs(), [JOURNAL_ARGV])
        health = result["health"]
        self.assertEqual(health["xid"]["source"], "journalctl")
        self.assertEqual([(e["xid"], e["pci"]) for e in health["xid"]["events"]], [(48, "0000:07:00"), (64, "0000:07:00")])
        self.assertEqual(self.problems(result), [("GPU 0 (00000000:07:00.0)", "xid_48"), ("GPU 0 (00000000:07:00.0)", "xid_64")])
        self.assertEqual(health["problems"][0]["reason"],
                         "GPU 0 (00000000:07:00.0): Xid 48 logged 1 time(s) since boot, last: pid='<unknown>', name=<unknown>, "
                         "An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at physAddr "
                         "0x7fffa8860 partition 7, subpartition 1.")
        self.assertEqual([g["status"] for g in health["gpus"]], ["unhealthy", "ok"])


class TestNvidiaSmiCounters(HealthTestCase):

    def test_built_problems_on_three_gpus(self):
        result = self.run_health({"method": "nvidia_smi"}, answers={
            "nvidia-smi": (0, fixture("smi_health_problems_built.csv"), ""),
            "journalctl": (0, fixture("kernel_xid48_64_gpu_operator_1146.txt"), "")})
        self.assertEqual([argv[0] for argv in self.argvs()], ["/usr/bin/nvidia-smi", "/usr/bin/journalctl"])
        self.assertEqual(result["status"], "ok")
        health = result["health"]
        self.assertEqual(self.problems(result), [
            ("GPU 0 (00000000:07:00.0)", "ecc_uncorrected_volatile"), ("GPU 0 (00000000:07:00.0)", "ecc_uncorrected_aggregate"),
            ("GPU 0 (00000000:07:00.0)", "retired_pages_pending"), ("GPU 0 (00000000:07:00.0)", "xid_48"),
            ("GPU 0 (00000000:07:00.0)", "xid_64"),
            ("GPU 1 (00000000:0B:00.0)", "remapped_rows_pending"), ("GPU 1 (00000000:0B:00.0)", "remapped_rows_failure"),
            ("GPU 1 (00000000:0B:00.0)", "ecc_mode_pending"), ("GPU 1 (00000000:0B:00.0)", "mig_mode_pending"),
            ("GPU 1 (00000000:0B:00.0)", "throttle_hw_slowdown"), ("GPU 1 (00000000:0B:00.0)", "throttle_hw_thermal_slowdown"),
        ])
        by_counter = dict(((p["gpu"][:5], p["counter"]), p) for p in health["problems"])
        self.assertEqual(by_counter[("GPU 0", "retired_pages_pending")]["reason"],
                         "GPU 0 (00000000:07:00.0): memory pages are pending retirement (retired_pages_pending); reset the GPU or reboot")
        self.assertEqual(by_counter[("GPU 1", "remapped_rows_failure")]["reason"],
                         "GPU 1 (00000000:0B:00.0): row remapping failed (remapped_rows_failure); the GPU needs service")
        self.assertEqual(by_counter[("GPU 1", "mig_mode_pending")]["reason"],
                         "GPU 1 (00000000:0B:00.0): MIG mode is Disabled, Enabled after the next reset (mig_mode_pending); "
                         "reset the GPU or reboot")
        self.assertEqual(by_counter[("GPU 1", "throttle_hw_slowdown")]["reason"],
                         "GPU 1 (00000000:0B:00.0): clocks are slowed down by hw_slowdown (clock_event_reasons 0x48)")
        # SW power cap under load is not a hardware slowdown.
        self.assertEqual(health["gpus"][2]["status"], "ok")
        self.assertEqual(health["gpus"][2]["clock_event_reasons_active"], ["sw_power_cap"])
        self.assertEqual(health["gpus"][0]["not_reported"],
                         ["mig_mode_pending", "remapped_rows_uncorrectable", "remapped_rows_pending", "remapped_rows_failure"])

    def test_real_capture_of_a_healthy_h100_read_through_its_header(self):
        # This capture names the bitmask clocks_event_reasons.active (R535+), not clocks_throttle_reasons.active.
        result = self.run_health({"method": "nvidia_smi"}, answers={
            "nvidia-smi": (0, fixture("smi_h100_health_ok_all_fields.csv"), ""), "journalctl": (0, "-- No entries --\n", ""),
            "dmesg": (0, "[    0.000000] Linux version 6.1.0-28-amd64\n", "")})
        health = result["health"]
        self.assertEqual(health["status"], "ok")
        gpu = health["gpus"][0]
        self.assertEqual((gpu["ecc_uncorrected_volatile"], gpu["ecc_uncorrected_aggregate"], gpu["remapped_rows_uncorrectable"]),
                         (0, 0, 0))
        self.assertEqual((gpu["remapped_rows_pending"], gpu["remapped_rows_failure"]), (False, False))
        self.assertEqual((gpu["ecc_mode_pending"], gpu["mig_mode_pending"]), ("Enabled", "Disabled"))
        self.assertEqual(gpu["clock_event_reasons_active"], ["gpu_idle"])
        self.assertEqual(gpu["not_reported"], ["retired_pages_pending"])
        # An empty journal (a container's) sends the scan to the ring buffer.
        self.assertEqual(health["xid"]["source"], "dmesg")
        self.assertEqual(self.argvs()[1:], [JOURNAL_ARGV, ["/usr/bin/dmesg"]])
        self.assertEqual(health["message"], "1 GPU(s) healthy; kernel log (dmesg): 0 Xid line(s) since boot, 0 ignored")

    def test_old_driver_drops_a_health_field_it_does_not_know(self):
        answers = iter([(2, 'Field "remapped_rows.pending" is not a valid field to query.\n\n', ""),
                        (0, fixture("smi_h100_health_ok_all_fields.csv"), "")])
        with patch.object(basic.AnsibleModule, "get_bin_path", side_effect=lambda name, **_kw: BINARIES.get(name)), \
                patch.object(basic.AnsibleModule, "run_command", side_effect=lambda argv, **_kw: next(answers)) as run_mock:
            with self.assertRaises(AnsibleExitJson) as exit_info:
                with set_module_args({"method": "nvidia_smi", "health": {"xid_scan": False}}):
                    nvidia_gpu_info.main()
        result = exit_info.exception.result
        asked = [call[0][0][1].split("=", 1)[1].split(",") for call in run_mock.call_args_list]
        self.assertIn("remapped_rows.pending", asked[0])
        self.assertNotIn("remapped_rows.pending", asked[1])
        self.assertEqual(result["warnings_list"],
                         ["nvidia-smi does not know the field remapped_rows.pending (an older driver); read without it"])
        self.assertEqual(result["health"]["status"], "ok")


class TestKernelLog(HealthTestCase):

    def test_application_xids_are_ignored_by_default(self):
        gpus = [dict(H100_0, bus_id=b"00000000:00:%02d.0" % n) for n in (5, 7, 8)]
        result = self.run_health(library=FakeNVML(gpus=gpus),
                                 answers={"journalctl": (0, fixture("dmesg_xid43_31_94_akash_244.txt"), "")})
        xid = result["health"]["xid"]
        self.assertEqual([e["xid"] for e in xid["events"]], [43, 43, 31, 94])
        self.assertEqual(xid["ignored"], 3)
        self.assertEqual(self.problems(result), [("GPU 2 (00000000:00:08.0)", "xid_94")])
        self.assertEqual(result["health"]["problems"][0]["reason"],
                         "GPU 2 (00000000:00:08.0): Xid 94 logged 1 time(s) since boot, last: pid='<unknown>', "
                         "name=<unknown>, Contained: SM (0x1). RST: No, D-RST: No")

    def test_xids_of_a_gpu_the_driver_no_longer_lists(self):
        # dmesg only: no journalctl on this node. Xid 63 (page retired, reboot to activate) is not ignored.
        result = self.run_health(library=FakeNVML(gpus=[H100_0]), binaries=dict(BINARIES, journalctl=None),
                                 answers={"dmesg": (0, fixture("dmesg_xid48_63_nvidia_docker_849.txt"), "")})
        self.assertEqual(self.argvs(), [["/usr/bin/dmesg"]])
        self.assertEqual(self.problems(result), [("GPU at PCI 0000:8a:00", "xid_48"), ("GPU at PCI 0000:8a:00", "xid_63")])
        self.assertEqual(result["health"]["gpus"][0]["status"], "ok")
        self.assertEqual(result["health"]["status"], "unhealthy")

    def test_fallen_off_the_bus_without_an_xid_line(self):
        result = self.run_health(library=FakeNVML(gpus=[]),
                                 answers={"journalctl": (0, fixture("dmesg_fallen_off_bus_nvsentinel_155.txt"), "")})
        self.assertEqual(result["status"], "no_devices")
        self.assertEqual(self.problems(result), [("GPU at PCI 0000:b3:00", "xid_79")])
        self.assertIn("fallen off the bus", result["health"]["problems"][0]["reason"])
        self.assertEqual(result["health"]["status"], "unhealthy")

    def test_unreadable_kernel_log_is_not_a_problem(self):
        result = self.run_health(library=FakeNVML(gpus=[H100_0]), answers={
            "journalctl": (1, "", "No journal files were found.\n"),
            "dmesg": (1, "", "dmesg: read kernel buffer failed: Operation not permitted\n")})
        health = result["health"]
        self.assertEqual(health["status"], "ok")
        self.assertFalse(health["xid"]["read"])
        self.assertEqual(health["xid"]["message"], "journalctl -k -b: No journal files were found.; "
                                                   "dmesg: read kernel buffer failed: Operation not permitted")
        self.assertTrue(health["message"].endswith("kernel log not read (journalctl -k -b: No journal files were found.; "
                                                   "dmesg: read kernel buffer failed: Operation not permitted)"))

    def test_no_driver_no_gpu_says_so(self):
        result = self.run_health(library=NO_LIBRARY, binaries={}, nvidia_loaded=False)
        health = result["health"]
        self.assertEqual(health["status"], "no_gpus")
        self.assertEqual(health["problems"], [])
        self.assertEqual(health["message"], "no GPU to check (status no_driver: nvidia-smi not found on PATH); "
                                            "kernel log not read (the nvidia kernel module is not loaded)")
        self.run_mock.assert_not_called()


class TestXidLines(GpuInfoTestCase):

    def test_older_and_newer_line_forms(self):
        text = "\n".join([
            # https://pastebin.com/NGng33SB (syslog, a pre-"PCI:" driver), unchanged.
            "Nov 22 18:29:55 hostname kernel: [ 966.503025] NVRM: Xid (0000:01:00): 31, Ch 0000000b, engmask 00000120, intr 10000000",
            # https://github.com/leptonai/gpud/pull/46 (dmesg --ctime), unchanged.
            "[Fri Aug 30 11:43:14 2024] NVRM: Xid (PCI:0000:cb:00): 109, pid=1797828, name=pt_main_thread, Ch 00000008, "
            "errorString CTX SWITCH TIMEOUT, Info 0x58005",
            # https://github.com/leptonai/gpud/pull/1174 (kmsg, NVLink Xid, non-zero PCI domain), unchanged.
            "NVRM: Xid (PCI:0019:01:00): 149, NETIR Fatal XC0 i0 Link -1 (0x000fe406 0x00000000 0x00000000 0x00000000 "
            "0x00000000 0x00000000)",
        ])
        events = gpu_health.parse_xid_events(text)
        self.assertEqual([(e["xid"], e["pci"]) for e in events], [(31, "0000:01:00"), (109, "0000:cb:00"), (149, "0019:01:00")])
        self.assertEqual(events[1]["text"], "pid=1797828, name=pt_main_thread, Ch 00000008, errorString CTX SWITCH TIMEOUT, Info 0x58005")
        self.assertEqual(gpu_health.pci_key("00000000:CB:00.0"), gpu_health.pci_key(events[1]["pci"]))
