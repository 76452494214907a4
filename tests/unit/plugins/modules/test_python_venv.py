# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""python_venv's decisions: create, recreate, install only what is missing, check mode.

Commands go to a double of AnsibleModule.run_command (the project's unit-test convention) that
answers like python/pip: the installed distributions with REAL recorded pip list output
(fixtures/pip_list_venv.txt; that the metadata read gives what pip list gives is tested for real in
module_utils/test_pip_env.py), and
'python -m venv' by writing a pyvenv.cfg and bin/python the way venv does. The real venv + pip
path runs end to end in molecule/python_env.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from unittest.mock import patch

from ansible.module_utils import basic

from ansible_collections.dlstack.cdh.plugins.module_utils import pip_env
from ansible_collections.dlstack.cdh.plugins.modules import python_venv
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleExitJson, AnsibleFailJson, ModuleTestCase, set_module_args)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
BASE_VERSION = "%d.%d" % sys.version_info[:2]


def pip_list_fixture():
    with open(os.path.join(FIXTURES, "pip_list_venv.txt")) as handle:
        return "".join(line for line in handle if not line.startswith("#"))


def write_venv(path, version):
    os.makedirs(os.path.join(path, "bin"), exist_ok=True)
    with open(os.path.join(path, "pyvenv.cfg"), "w") as handle:
        handle.write("home = /usr/bin\ninclude-system-site-packages = false\nversion = %s\n" % version)
    python = os.path.join(path, "bin", "python")
    with open(python, "w") as handle:
        handle.write("#!/bin/sh\n")
    os.chmod(python, 0o755)


class FakePython:
    def __init__(self, pip_list, venv_version=None, fail_venv=None, after_install=None, fail_install=None,
                 metadata_rc=0):
        self.pip_list = pip_list
        # 3: an interpreter without importlib.metadata (pip_env.NO_IMPORTLIB_METADATA).
        self.metadata_rc = metadata_rc
        self.fail_install = fail_install
        self.venv_version = venv_version or BASE_VERSION + ".2"
        self.fail_venv = fail_venv
        self.after_install = after_install
        self.calls = []

    def __call__(self, argv, **kwargs):
        self.calls.append(list(argv))
        if argv[1:3] == ["-c", pip_env.INSTALLED_SCRIPT]:
            if self.metadata_rc:
                return self.metadata_rc, "", "Traceback (most recent call last): ..."
            return 0, json.dumps({"python": BASE_VERSION, "packages": json.loads(self.pip_list)}), ""
        if argv[1] == "-c":
            return 0, BASE_VERSION + "\n", ""
        if argv[1:3] == ["-m", "venv"]:
            if self.fail_venv:
                return 1, "", self.fail_venv
            write_venv(argv[-1], self.venv_version)
            return 0, "", ""
        if argv[1:4] == ["-m", "pip", "list"]:
            return 0, self.pip_list, ""
        if argv[1:4] == ["-m", "pip", "install"]:
            if self.fail_install:
                return 1, "", self.fail_install
            if self.after_install is not None:
                self.pip_list = self.after_install
            return 0, "Successfully installed\n", ""
        raise AssertionError("unexpected command %r" % (argv,))

    def named(self, *words):
        return [c for c in self.calls if c[1:1 + len(words)] == list(words)]


class PythonVenvTest(ModuleTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.path = os.path.join(self.tmp, "envs", "tensorflow")

    def run_module(self, args, fake, check_mode=False):
        args = dict(args, path=self.path, python=sys.executable)
        if check_mode:
            args["_ansible_check_mode"] = True
        with set_module_args(args):
            with patch.object(basic.AnsibleModule, "run_command", side_effect=fake):
                with self.assertRaises((AnsibleExitJson, AnsibleFailJson)) as ctx:
                    python_venv.main()
        return ctx.exception.result

    def test_satisfied_env_reports_no_change_and_runs_no_install(self):
        write_venv(self.path, BASE_VERSION + ".2")
        fake = FakePython(pip_list_fixture())
        result = self.run_module(dict(packages=["six==1.16.0", "py4j>=0.10,<0.11", "pip"]), fake)
        self.assertFalse(result["changed"], result)
        self.assertEqual(fake.named("-m", "pip", "install"), [])
        self.assertEqual(fake.named("-m", "venv"), [])
        self.assertEqual(result["packages"], {"six": "1.16.0", "py4j": "0.10.9.7", "pip": "23.2.1"})

    def test_satisfied_env_is_read_from_metadata_without_pip(self):
        write_venv(self.path, BASE_VERSION + ".2")
        fake = FakePython(pip_list_fixture())
        result = self.run_module(dict(packages=["six==1.16.0"]), fake)
        python = os.path.join(self.path, "bin", "python")
        self.assertEqual(fake.named("-c", pip_env.INSTALLED_SCRIPT), [[python, "-c", pip_env.INSTALLED_SCRIPT]])
        self.assertEqual(fake.named("-m", "pip"), [])
        self.assertEqual(result["python_version"], BASE_VERSION)

    def test_interpreter_without_importlib_metadata_falls_back_to_pip_list(self):
        write_venv(self.path, BASE_VERSION + ".2")
        fake = FakePython(pip_list_fixture(), metadata_rc=pip_env.NO_IMPORTLIB_METADATA)
        result = self.run_module(dict(packages=["six==1.16.0", "py4j>=0.10,<0.11"]), fake)
        self.assertFalse(result["changed"], result)
        python = os.path.join(self.path, "bin", "python")
        self.assertEqual(fake.named("-m", "pip", "list"), [[python, "-m", "pip", "list", "--format=json"]])
        self.assertEqual(result["packages"], {"six": "1.16.0", "py4j": "0.10.9.7"})

    def test_failed_metadata_read_fails_the_task_with_its_output(self):
        write_venv(self.path, BASE_VERSION + ".2")
        result = self.run_module(dict(packages=["six==1.16.0"]), FakePython(pip_list_fixture(), metadata_rc=1))
        self.assertTrue(result["failed"])
        self.assertIn("reading the installed distributions failed (rc=1): Traceback", result["msg"])

    def test_new_env_created_and_missing_packages_installed(self):
        after = json.dumps(json.loads(pip_list_fixture()) + [{"name": "tensorflow_cpu", "version": "2.18.1"}])
        fake = FakePython("[]", after_install=after)
        result = self.run_module(dict(packages=["tensorflow-cpu==2.18.1", "six==1.16.0"],
                                      index_url="https://pypi.example.com/simple",
                                      extra_args=["--no-cache-dir"]), fake)
        self.assertTrue(result["changed"])
        self.assertTrue(result["created"])
        self.assertEqual(fake.named("-m", "venv"), [[sys.executable, "-m", "venv", self.path]])
        python = os.path.join(self.path, "bin", "python")
        self.assertEqual(fake.named("-m", "pip", "install"), [[
            python, "-m", "pip", "install", "--index-url", "https://pypi.example.com/simple",
            "--no-cache-dir", "tensorflow-cpu==2.18.1", "six==1.16.0"]])
        self.assertEqual(result["packages"]["tensorflow-cpu"], "2.18.1")

    def test_only_unsatisfied_specs_are_installed(self):
        write_venv(self.path, BASE_VERSION + ".2")
        after = pip_list_fixture().replace('"1.16.0"', '"1.17.0"')
        fake = FakePython(pip_list_fixture(), after_install=after)
        result = self.run_module(dict(packages=["six==1.17.0", "py4j==0.10.9.7"]), fake)
        self.assertEqual(result["installed"], ["six==1.17.0"])
        self.assertEqual(result["unsatisfied"][0]["installed"], "1.16.0")
        self.assertEqual(fake.named("-m", "pip", "install")[0][-1], "six==1.17.0")
        self.assertIn("six 1.16.0\n", result["diff"]["before"])
        self.assertIn("six six==1.17.0\n", result["diff"]["after"])

    def test_install_that_leaves_a_spec_unsatisfied_fails(self):
        write_venv(self.path, BASE_VERSION + ".2")
        fake = FakePython(pip_list_fixture(), after_install=pip_list_fixture())
        result = self.run_module(dict(packages=["six==1.17.0"]), fake)
        self.assertTrue(result["failed"])
        self.assertIn("still unsatisfied: six==1.17.0", result["msg"])

    def test_check_mode_creates_nothing(self):
        fake = FakePython("[]")
        result = self.run_module(dict(packages=["tensorflow-cpu==2.18.1"]), fake, check_mode=True)
        self.assertTrue(result["changed"])
        self.assertEqual(result["installed"], ["tensorflow-cpu==2.18.1"])
        self.assertFalse(os.path.exists(self.path))
        self.assertEqual(fake.named("-m", "venv") + fake.named("-m", "pip", "install"), [])

    def test_other_python_minor_recreates_env(self):
        write_venv(self.path, "3.1.0")
        marker = os.path.join(self.path, "old-file")
        open(marker, "w").close()
        fake = FakePython(pip_list_fixture())
        result = self.run_module(dict(packages=["six==1.16.0"]), fake)
        self.assertTrue(result["created"])
        self.assertTrue(result["changed"])
        self.assertFalse(os.path.exists(marker))

    def test_missing_ensurepip_explained(self):
        fake = FakePython("[]", fail_venv="The virtual environment was not created successfully because "
                                          "ensurepip is not available.  On Debian/Ubuntu systems, you need "
                                          "to install the python3-venv package")
        result = self.run_module(dict(packages=[]), fake)
        self.assertTrue(result["failed"])
        self.assertIn("install the python3-venv package", result["msg"])

    def test_refuses_to_remove_a_directory_that_is_not_a_venv(self):
        os.makedirs(self.path)
        result = self.run_module(dict(state="absent"), FakePython("[]"))
        self.assertTrue(result["failed"])
        self.assertTrue(os.path.isdir(self.path))

    def test_absent_removes_the_venv(self):
        write_venv(self.path, BASE_VERSION)
        result = self.run_module(dict(state="absent"), FakePython("[]"))
        self.assertTrue(result["changed"])
        self.assertFalse(os.path.exists(self.path))

    def test_bad_requirement_fails_before_any_command(self):
        fake = FakePython("[]")
        result = self.run_module(dict(packages=["tensorflow-cpu=2.18.1"]), fake)
        self.assertTrue(result["failed"])
        self.assertEqual(fake.calls, [])


def test_version_given_as_number_means_pythonX_Y():
    class Module:
        def get_bin_path(self, name, required=False, opt_dirs=None):
            return "/usr/bin/" + name

    assert python_venv.base_interpreter(Module(), "3.11") == "/usr/bin/python3.11"


class RepairTest(PythonVenvTest):
    """A pip killed half-way: pip list still reports numpy, its dist-info has no RECORD.

    The dist-info is laid out on disk as pip leaves it; pip itself is the FakePython double.
    """

    def damaged_numpy(self):
        write_venv(self.path, BASE_VERSION + ".2")
        dist_info = os.path.join(self.path, "lib", "python%s" % BASE_VERSION, "site-packages", "numpy-1.26.4.dist-info")
        os.makedirs(dist_info)
        with open(os.path.join(dist_info, "METADATA"), "w") as handle:
            handle.write("Metadata-Version: 2.1\nName: numpy\nVersion: 1.26.4\n")
        listed = json.dumps(json.loads(pip_list_fixture()) + [{"name": "numpy", "version": "1.26.4"}])
        return dist_info, listed

    def test_damaged_distribution_is_reinstalled_at_its_version(self):
        dist_info, listed = self.damaged_numpy()
        fake = FakePython(listed, after_install=listed)
        result = self.run_module(dict(packages=["six==1.16.0"], extra_args=["--no-cache-dir"]), fake)
        self.assertTrue(result["changed"])
        self.assertFalse(os.path.exists(dist_info))
        self.assertFalse(os.path.exists(dist_info + ".dlstack-repair"))
        python = os.path.join(self.path, "bin", "python")
        self.assertEqual(fake.named("-m", "pip", "install"), [
            [python, "-m", "pip", "install", "--no-cache-dir", "--no-deps", "numpy==1.26.4"]])
        self.assertEqual(result["repaired"], [
            {"name": "numpy", "version": "1.26.4", "problem": "no RECORD (install interrupted)"}])
        self.assertEqual(result["installed"], [])
        self.assertIn("numpy 1.26.4 damaged: no RECORD", result["diff"]["before"])

    def test_damaged_requested_package_is_repaired_not_installed_twice(self):
        dist_info, listed = self.damaged_numpy()
        fake = FakePython(listed, after_install=listed)
        result = self.run_module(dict(packages=["numpy==1.26.4"]), fake)
        self.assertEqual([c[-1] for c in fake.named("-m", "pip", "install")], ["numpy==1.26.4"])
        self.assertEqual(result["packages"], {"numpy": "1.26.4"})

    def test_check_mode_reports_the_repair_and_touches_nothing(self):
        dist_info, listed = self.damaged_numpy()
        fake = FakePython(listed)
        result = self.run_module(dict(packages=["numpy==1.26.4"]), fake, check_mode=True)
        self.assertTrue(result["changed"])
        self.assertTrue(os.path.isdir(dist_info))
        self.assertEqual(fake.named("-m", "pip", "install"), [])
        self.assertEqual(result["installed"], [])
        self.assertEqual(result["repaired"][0]["name"], "numpy")

    def test_failed_repair_leaves_the_damage_visible_to_the_next_run(self):
        dist_info, listed = self.damaged_numpy()
        offline = "ERROR: Could not find a version that satisfies the requirement numpy==1.26.4"
        result = self.run_module(dict(packages=["six==1.16.0"]), FakePython(listed, fail_install=offline))
        self.assertTrue(result["failed"])
        self.assertIn("pip install (repairing numpy==1.26.4) failed", result["msg"])
        # pip list no longer shows numpy, but the next run still knows it is damaged.
        self.assertTrue(os.path.isdir(dist_info + ".dlstack-repair"))
        fake = FakePython(pip_list_fixture(), after_install=pip_list_fixture())
        again = self.run_module(dict(packages=["six==1.16.0"]), fake)
        self.assertEqual(again["repaired"], [
            {"name": "numpy", "version": "1.26.4", "problem": "an earlier repair did not finish"}])
        self.assertEqual([c[-1] for c in fake.named("-m", "pip", "install")], ["numpy==1.26.4"])
        self.assertFalse(os.path.exists(dist_info + ".dlstack-repair"))
