# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner factories against the table in test_command.yaml (the uthelper pattern).

Each row builds one runner on a real AnsibleModule whose run_command and get_bin_path are
patched, runs one command, and compares what run_command received after the ``with`` block.
"""

from __future__ import annotations

import os
from unittest.mock import patch

import pytest
import yaml

from ansible.module_utils import basic

from ansible_collections.dlstack.cdh.plugins.module_utils import command
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import (
    CommandFailed, CommandNotFound, ModuleError, failure_boundary,
)
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import set_module_args

with open(os.path.join(os.path.dirname(__file__), "test_command.yaml")) as _handle:
    CASES = yaml.safe_load(_handle)

FACTORIES = {
    "conda": command.conda_runner,
    "pip": command.pip_runner,
    "python": command.python_runner,
    "hdfs": command.hdfs_runner,
    "ldd": command.ldd_runner,
    "ldconfig": command.ldconfig_runner,
}


def make_module(check_mode=False):
    with set_module_args({"_ansible_check_mode": check_mode}):
        return basic.AnsibleModule(argument_spec={}, supports_check_mode=True)


def fake_which(found):
    def get_bin_path(name, required=False, opt_dirs=None):
        return found.get(name, "/testbin/%s" % name) if found is not None else None
    return get_bin_path


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_runner_table(case):
    module = make_module(case.get("check_mode", False))
    init = case.get("init") or {}
    # `found: {}` means nothing is on PATH; otherwise every name is in /testbin.
    found = None if case.get("found") == {} else {}
    executables = set(case.get("executables") or [])
    real_isfile, real_access = os.path.isfile, os.access
    with patch.object(basic.AnsibleModule, "get_bin_path", side_effect=fake_which(found)), \
            patch.object(basic.AnsibleModule, "run_command",
                         return_value=(case.get("rc", 0), case.get("out", ""), case.get("err", ""))) as run_command, \
            patch.object(command.os.path, "isfile", side_effect=lambda p: p in executables or real_isfile(p)), \
            patch.object(command.os, "access", side_effect=lambda p, m: p in executables or real_access(p, m)):
        try:
            runner = FACTORIES[case["runner"]](module, **init)
            ctx = runner(case["args"], check_rc=case.get("check_rc", False),
                         check_mode_skip=case.get("check_mode_skip", False), what=case.get("what"))
            outcome = ctx.run(**case["values"])
            error = None
        except ModuleError as exc:
            outcome, error = None, exc

    if "error" in case:
        assert error is not None and error.msg == case["error"]
    else:
        assert error is None, error.msg
    if case.get("skipped"):
        assert outcome is None
        run_command.assert_not_called()
    elif "command" in case:
        run_command.assert_called_once()
        assert run_command.call_args.args[0] == case["command"]
        assert run_command.call_args.kwargs["environ_update"] == case["environ"]
        assert run_command.call_args.kwargs["check_rc"] is False
    else:
        run_command.assert_not_called()


def test_formats():
    fmt = command.fmt
    assert fmt.as_fixed("--json")(None) == ["--json"]
    assert fmt.as_bool("-d")(True) == ["-d"] and fmt.as_bool("-d")(False) == [] and fmt.as_bool("-d")(None) == []
    assert fmt.as_opt_val("-p")("/envs/tf") == ["-p", "/envs/tf"] and fmt.as_opt_val("-p")(None) == []
    assert fmt.as_opt_val("--retries")(3) == ["--retries", "3"]
    assert fmt.as_opt_each("-c")(["a", "b"]) == ["-c", "a", "-c", "b"] and fmt.as_opt_each("-c")(None) == []
    assert fmt.as_list()(["a", 1]) == ["a", "1"] and fmt.as_list()("x") == ["x"] and fmt.as_list()(None) == []


def test_unknown_option_and_stray_value_are_programming_errors():
    module = make_module()
    with patch.object(basic.AnsibleModule, "get_bin_path", return_value="/testbin/ldd"):
        runner = command.ldd_runner(module)
    with pytest.raises(ValueError, match="no option recursive"):
        runner("path recursive")
    with pytest.raises(ValueError, match="not in this command: paths"):
        runner("path").argv(paths=["/bin/ls"])


def test_failure_boundary_turns_errors_into_fail_json_with_the_partial_result():
    class Module:
        def fail_json(self, **kwargs):
            self.failed = kwargs

    module = Module()
    result = {"path": "/opt/venvs/tf"}
    with failure_boundary(module, result):
        raise CommandFailed("pip install failed (rc=1): boom", rc=1, cmd=["pip"], stdout="", stderr="boom")
    assert module.failed == {"path": "/opt/venvs/tf", "msg": "pip install failed (rc=1): boom", "rc": 1,
                             "cmd": ["pip"], "stdout": "", "stderr": "boom"}
    assert result == {"path": "/opt/venvs/tf"}


def test_failure_boundary_lets_other_exceptions_through():
    class Module:
        def fail_json(self, **kwargs):
            raise AssertionError("not a ModuleError: must not be turned into a failure")

    with pytest.raises(KeyError):
        with failure_boundary(Module()):
            raise KeyError("a bug stays a traceback")


def test_find_binary_is_resolve_binary_without_the_error():
    module = make_module()
    with patch.object(basic.AnsibleModule, "get_bin_path", return_value=None):
        assert command.find_binary(module, "nvidia-smi") is None
        with pytest.raises(CommandNotFound, match=r"nvidia-smi \(nvidia-smi\) not found on PATH"):
            command.resolve_binary(module, "nvidia-smi")
