# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""conda_env against recorded conda and pip output.

conda cannot run here (no conda installer or channel is reachable from this machine), so
AnsibleModule.run_command is replaced by a double that answers each conda/pip command with
REAL recorded output (fixtures/, sources in their headers) and records the argv; the module's
own code path (prefix resolution, spec matching, command construction, JSON parsing) is real.
"""

from __future__ import annotations

import json
import os
from unittest.mock import patch

from ansible.module_utils import basic

from ansible_collections.dlstack.cdh.plugins.module_utils import pip_env
from ansible_collections.dlstack.cdh.plugins.modules import conda_env
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleExitJson, AnsibleFailJson, ModuleTestCase, set_module_args)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def fixture(name):
    """The fixture's recorded output, without its '#' source header."""
    with open(os.path.join(FIXTURES, name)) as handle:
        return "".join(line for line in handle if not line.startswith("#"))


class FakeConda:
    """Answers like conda/pip would; ``answers`` maps a command key to (rc, stdout, stderr)."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, argv, **kwargs):
        self.calls.append(list(argv))
        key = self.key(argv)
        if key not in self.answers:
            raise AssertionError("unexpected command %r" % (argv,))
        return self.answers[key]

    @staticmethod
    def key(argv):
        if argv[1:3] == ["-m", "pip"]:
            return "pip " + argv[3]
        if argv[1] == "-c" and argv[2] == pip_env.INSTALLED_SCRIPT:
            return "installed"
        return "conda " + argv[1]

    def commands(self, key):
        return [c for c in self.calls if self.key(c) == key]


def installed(pip_list_output, python="3.11"):
    """The environment interpreter's answer to pip_env.INSTALLED_SCRIPT, holding pip list's records."""
    return 0, json.dumps({"python": python, "packages": json.loads(pip_list_output)}), ""


class CondaEnvTest(ModuleTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.enterContext(_tempdir())
        self.conda = os.path.join(self.tmp, "conda")
        with open(self.conda, "w") as handle:
            handle.write("#!/bin/sh\n")
        os.chmod(self.conda, 0o755)
        self.prefix = os.path.join(self.tmp, "envs", "tensorflow")

    def make_env(self):
        os.makedirs(os.path.join(self.prefix, "conda-meta"))

    def run_module(self, args, answers, check_mode=False):
        fake = FakeConda(answers)
        args = dict(args, executable=self.conda)
        if check_mode:
            args["_ansible_check_mode"] = True
        with set_module_args(args):
            with patch.object(basic.AnsibleModule, "run_command", side_effect=fake):
                with self.assertRaises((AnsibleExitJson, AnsibleFailJson)) as ctx:
                    conda_env.main()
        return ctx.exception.result, fake

    # ---------------------------------------------------------------- satisfied: no change

    def test_existing_env_that_satisfies_every_spec_is_not_touched(self):
        self.make_env()
        result, fake = self.run_module(
            dict(prefix=self.prefix, python="3.5", packages=["alabaster>=0.7", "conda-forge::asn1crypto=1.4"]),
            {"conda list": (0, fixture("conda_list.txt"), "")})
        self.assertFalse(result.get("failed"), result)
        self.assertFalse(result["changed"])
        self.assertEqual(result["installed"], [])
        self.assertEqual(fake.calls, [[self.conda, "list", "-p", self.prefix, "--json"]])

    def test_pip_packages_satisfied_by_pip_list(self):
        self.make_env()
        listing = json.loads(fixture("conda_list.txt")) + [
            {"name": "pip", "version": "23.2.1", "build_string": "pyhd8ed1ab_0", "channel": "conda-forge"}]
        result, fake = self.run_module(
            dict(prefix=self.prefix, pip_packages=["six==1.16.0", "py4j>=0.10.9"]),
            {"conda list": (0, json.dumps(listing), ""), "installed": installed(fixture("pip_list_venv.txt"))})
        self.assertFalse(result["changed"], result)
        self.assertEqual(fake.commands("installed"),
                         [[os.path.join(self.prefix, "bin", "python"), "-c", pip_env.INSTALLED_SCRIPT]])
        self.assertEqual(fake.commands("pip install"), [])

    # ---------------------------------------------------------------- installs only what is missing

    def test_missing_and_outdated_specs_installed_with_channels(self):
        self.make_env()
        result, fake = self.run_module(
            dict(prefix=self.prefix, python="3.11", packages=["alabaster=0.7", "libzlib>=1.3"],
                 channels=["https://mirror.example.com/conda-forge"], override_channels=True),
            {"conda list": (0, fixture("conda_list.txt"), ""),
             "conda install": (0, fixture("conda_create_dry_run.txt").replace('"dry_run": true,', ""), "")})
        self.assertTrue(result["changed"])
        # python 3.5.4 does not satisfy python=3.11; alabaster 0.7.12 satisfies alabaster=0.7.
        self.assertEqual(result["installed"], ["python=3.11", "libzlib>=1.3"])
        self.assertEqual(fake.commands("conda install"), [[
            self.conda, "install", "--yes", "-p", self.prefix, "--override-channels",
            "-c", "https://mirror.example.com/conda-forge", "python=3.11", "libzlib>=1.3", "--json"]])
        self.assertEqual(result["plan"]["link"], [
            {"name": "libzlib", "version": "1.3.2", "build": "h25fd6f3_2", "channel": "conda-forge"}])
        reasons = {u["spec"]: u["reason"] for u in result["unsatisfied"]}
        self.assertEqual(reasons, {"python=3.11": "installed 3.5.4 does not satisfy =3.11",
                                   "libzlib>=1.3": "not installed"})

    def test_check_mode_asks_conda_for_a_dry_run_of_the_creation(self):
        result, fake = self.run_module(
            dict(prefix=self.prefix, python="3.11", pip_packages=["tensorflow-cpu==2.18.1"]),
            {"conda create": (0, fixture("conda_create_dry_run.txt"), "")}, check_mode=True)
        self.assertTrue(result["changed"])
        self.assertTrue(result["created"])
        self.assertEqual(fake.calls, [[self.conda, "create", "--yes", "-p", self.prefix, "--dry-run",
                                       "python=3.11", "pip", "--json"]])
        self.assertEqual(result["pip_installed"], ["tensorflow-cpu==2.18.1"])
        self.assertEqual([p["name"] for p in result["plan"]["link"]], ["libzlib"])
        self.assertFalse(os.path.exists(self.prefix))
        self.assertIn("(no environment at", result["diff"]["before"])

    def test_creation_then_pip_install_with_index(self):
        answers = {"conda create": (0, fixture("conda_create_dry_run.txt").replace('"dry_run": true,', ""), ""),
                   "installed": installed(fixture("pip_list_venv.txt")),
                   "pip install": (0, "Successfully installed tensorflow-cpu-2.18.1\n", "")}
        result, fake = self.run_module(
            dict(prefix=self.prefix, python="3.11", pip_packages=["six==1.16.0", "tensorflow-cpu==2.18.1"],
                 pip_index_url="https://pypi.example.com/simple", pip_extra_args=["--no-cache-dir"]), answers)
        self.assertTrue(result["changed"], result)
        self.assertEqual(result["pip_installed"], ["tensorflow-cpu==2.18.1"])
        self.assertEqual(fake.commands("pip install"), [[
            os.path.join(self.prefix, "bin", "python"), "-m", "pip", "install",
            "--index-url", "https://pypi.example.com/simple", "--no-cache-dir", "tensorflow-cpu==2.18.1"]])

    # ---------------------------------------------------------------- name lookup through conda info

    def test_name_resolved_from_conda_info_envs(self):
        result, fake = self.run_module(
            dict(name="esmvaltool-fromlock", packages=["python=3.12"]),
            {"conda info": (0, fixture("conda_info.txt"), ""),
             "conda create": (0, fixture("conda_create_dry_run.txt"), "")}, check_mode=True)
        self.assertEqual(result["prefix"], "/home/runner/miniconda3/envs/esmvaltool-fromlock")
        # The recorded runner's directories are not on this machine: conda-meta absent -> create.
        self.assertEqual(fake.calls[0], [self.conda, "info", "--json"])
        self.assertEqual(fake.calls[1][1], "create")

    def test_new_name_goes_to_first_envs_dir(self):
        result, fake = self.run_module(
            dict(name="tensorflow", python="3.11"),
            {"conda info": (0, fixture("conda_info.txt"), ""),
             "conda create": (0, fixture("conda_create_dry_run.txt"), "")}, check_mode=True)
        self.assertEqual(result["prefix"], "/home/runner/miniconda3/envs/tensorflow")
        self.assertTrue(result["created"])

    # ---------------------------------------------------------------- errors and absent

    def test_conda_error_json_becomes_the_message(self):
        self.make_env()
        result, fake = self.run_module(
            dict(prefix=self.prefix, packages=["xyz"]),
            {"conda list": (0, fixture("conda_list.txt"), ""),
             "conda install": (1, fixture("conda_error_packages_not_found.txt"), "")})
        self.assertTrue(result["failed"])
        self.assertEqual(result["exception_name"], "PackagesNotFoundError")
        self.assertIn("conda install failed (rc=1)", result["msg"])

    def test_bad_spec_fails_before_any_command(self):
        result, fake = self.run_module(dict(prefix=self.prefix, pip_packages=["numpy=1.26"]), {})
        self.assertTrue(result["failed"])
        self.assertIn("'=='", result["msg"])
        self.assertEqual(fake.calls, [])

    def test_override_channels_needs_channels(self):
        result, fake = self.run_module(dict(prefix=self.prefix, override_channels=True), {})
        self.assertTrue(result["failed"])
        self.assertEqual(fake.calls, [])

    def test_absent_removes_existing_env(self):
        self.make_env()
        result, fake = self.run_module(dict(prefix=self.prefix, state="absent"),
                                       {"conda remove": (0, '{"success": true}', "")})
        self.assertTrue(result["changed"])
        self.assertEqual(fake.calls, [[self.conda, "remove", "--all", "--yes", "-p", self.prefix, "--json"]])

    def test_absent_when_missing_is_ok(self):
        result, fake = self.run_module(dict(prefix=self.prefix, state="absent"), {})
        self.assertFalse(result["changed"])
        self.assertEqual(fake.calls, [])


def test_transaction_plan_reads_conda_43_action_groups():
    # conda 4.3 printed a list of action groups (conda/conda issue #6641).
    plan = conda_env.transaction_plan({"actions": [{"LINK": [{"name": "pytest", "version": "3.3.1",
                                                              "build_string": "py36_0", "channel": "defaults"}],
                                                    "UNLINK": [{"name": "pytest", "version": "3.3.0",
                                                                "build_string": "py36_0", "channel": "defaults"}]}]})
    assert plan["link"][0]["version"] == "3.3.1"
    assert plan["unlink"][0]["version"] == "3.3.0"


class _tempdir:
    def __enter__(self):
        import tempfile
        self.path = tempfile.mkdtemp()
        return self.path

    def __exit__(self, *exc):
        import shutil
        shutil.rmtree(self.path, ignore_errors=True)
