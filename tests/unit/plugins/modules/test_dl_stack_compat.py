# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dl_stack_compat module: argument handling, fail vs return, check mode.

The module runs no command, so nothing is patched but exit_json/fail_json.
"""

from __future__ import annotations

from ansible_collections.dlstack.cdh.plugins.modules import dl_stack_compat
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleExitJson,
    AnsibleFailJson,
    ModuleTestCase,
    set_module_args,
)


class TestDlStackCompat(ModuleTestCase):

    def run_module(self, args, expect=AnsibleExitJson):
        with set_module_args(args):
            with self.assertRaises(expect) as ctx:
                dl_stack_compat.main()
        return ctx.exception.result

    def test_compatible_stack_exits_unchanged(self):
        result = self.run_module({"driver_version": "535.183.01", "cuda_version": "12.2",
                                  "cudnn_version": "8.9.7", "tensorflow_version": "2.15.0",
                                  "python_version": "3.11"})
        self.assertFalse(result["changed"])
        self.assertTrue(result["compatible"])
        self.assertEqual([c["status"] for c in result["checks"][:5]], ["ok"] * 5)

    def test_incompatible_fails_with_reasons_joined(self):
        result = self.run_module({"driver_version": "470.82.01", "cuda_version": "12.4",
                                  "tensorflow_version": "2.15.0", "python_version": "3.12"}, AnsibleFailJson)
        self.assertTrue(result["failed"])
        self.assertFalse(result["changed"])
        self.assertEqual(result["msg"], "; ".join(result["reasons"]))
        self.assertEqual(len(result["reasons"]), 2)
        self.assertIn("CUDA 12.4 needs driver >= 550.54.14 (CUDA 12.4 GA); 470.82.01 is older", result["msg"])
        self.assertIn("suggestions", result)

    def test_incompatible_returns_when_told_not_to_fail(self):
        result = self.run_module({"driver_version": "470.82.01", "cuda_version": "12.4",
                                  "fail_on_incompatible": False})
        self.assertFalse(result["compatible"])
        self.assertEqual(result["checks"][0]["status"], "incompatible")

    def test_minor_version_compat_passes_with_warning(self):
        result = self.run_module({"driver_version": "535.183.01", "cuda_version": "12.4"})
        self.assertTrue(result["compatible"])
        self.assertEqual(result["checks"][0]["status"], "minor_version_compat")
        self.assertEqual(result["warnings_list"], [result["checks"][0]["reason"]])

    def test_strict_fails_on_unknown(self):
        args = {"tensorflow_version": "2.15.0", "cuda_version": "12.4"}
        self.assertTrue(self.run_module(args)["compatible"])
        result = self.run_module(dict(args, strict=True), AnsibleFailJson)
        self.assertIn("not a tested configuration", result["msg"])

    def test_tensorflow_io_mismatch_fails(self):
        ok = self.run_module({"tensorflow_version": "2.16.2", "tensorflow_io_version": "0.37.1"})
        self.assertTrue(ok["compatible"])
        result = self.run_module({"tensorflow_version": "2.18.1", "tensorflow_io_version": "0.37.1"}, AnsibleFailJson)
        self.assertIn("tensorflow-io 0.37.1 is built against TensorFlow 2.16.x", result["msg"])
        self.assertEqual([c["status"] for c in result["checks"] if c["pair"] == "tensorflow/tensorflow_io"],
                         ["incompatible"])

    def test_garbage_fails_naming_the_option(self):
        result = self.run_module({"driver_version": "latest"}, AnsibleFailJson)
        self.assertEqual(result["msg"], "driver_version 'latest' is not a version (expected dotted numbers such as 11.8)")
        self.assertNotIn("checks", result)

    def test_check_mode_gives_the_same_answer(self):
        args = {"caffe_version": "1.0", "protobuf_version": "3.21.12", "opencv_version": "4.6.0"}
        normal = self.run_module(args)
        checked = self.run_module(dict(args, _ansible_check_mode=True))
        self.assertEqual(normal, checked)
        self.assertEqual([p["id"] for p in checked["required_patches"]],
                         ["caffe-protobuf-settotalbyteslimit", "caffe-opencv4-imread-constants"])
