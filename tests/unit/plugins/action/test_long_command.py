# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the controller side of dlstack.cdh.long_command.

The target is replaced by the two calls the action makes on it, with the results
ansible-core's async_wrapper and async_status modules return (a start record with
ansible_job_id, then finished=0 records, then the module's own result with finished=1),
and a remote `tail`/`du` output.
"""

from __future__ import annotations

import unittest
from unittest.mock import MagicMock, patch

from ansible.errors import AnsibleActionFail

from ansible_collections.dlstack.cdh.plugins.action import long_command as action


class FakeTarget(object):
    def __init__(self, statuses, outputs):
        self.statuses = list(statuses)
        self.outputs = list(outputs)
        self.calls = []
        self.low_level = []

    def execute_module(self, module_name=None, module_args=None, task_vars=None, wrap_async=False, **kwargs):
        self.calls.append((module_name, dict(module_args), wrap_async))
        if module_name == action.MODULE:
            return {"ansible_job_id": "j42", "started": 1, "finished": 0, "changed": True}
        if module_args.get("mode") == "cleanup":
            return {"erased": "/root/.ansible_async/j42"}
        return self.statuses.pop(0)

    def low_level_execute_command(self, cmd, **kwargs):
        self.low_level.append(cmd)
        return {"rc": 0, "stdout": self.outputs.pop(0) if self.outputs else "", "stderr": ""}


class TestLongCommandAction(unittest.TestCase):

    def make(self, args, statuses=(), outputs=(), check_mode=False, no_log=False):
        task = MagicMock()
        task.args = dict(args)
        task.async_val = 0
        task.check_mode = check_mode
        task.no_log = no_log
        task.action = action.MODULE
        connection = MagicMock()
        connection._shell.tmpdir = None
        plugin = action.ActionModule(task, connection, MagicMock(), MagicMock(), MagicMock(), MagicMock())
        target = FakeTarget(statuses, outputs)
        plugin._execute_module = target.execute_module
        plugin._low_level_execute_command = target.low_level_execute_command
        plugin._remote_expand_user = lambda path, sudoable=True: path.replace("~", "/root")
        plugin.get_shell_option = lambda option, default=None: default
        plugin._remove_tmp_path = MagicMock()
        return plugin, target

    def run_plugin(self, plugin, times):
        clock = iter(times)
        with patch.object(action.time, "sleep"), patch.object(action.time, "monotonic", lambda: next(clock)), \
                patch.object(action.display, "display") as shown:
            result = plugin.run(task_vars={"inventory_hostname": "node1"})
        return result, [c.args[0] for c in shown.call_args_list]

    def test_prints_the_log_line_as_progress_and_returns_the_module_result(self):
        running = {"started": 1, "finished": 0}
        done = {"finished": 1, "rc": 0, "cmd": ["make", "-j2"], "log": "/src/make.log", "log_tail": ["done"],
                "elapsed": 200, "timed_out": False, "changed": True, "ansible_job_id": "j42"}
        plugin, target = self.make(dict(argv=["make", "-j2"], log="/src/make.log", chdir="/src", timeout=600),
                                   statuses=[running, running, running, running, done],
                                   outputs=["CXX a.o\n", "CXX a.o\n", "CXX a.o\n", "CXX b.o\r\n"])
        # The clock at the start and at each poll that finds the command running.
        result, shown = self.run_plugin(plugin, [0, 15, 30, 90, 105])
        self.assertEqual(shown, [
            "dlstack.cdh.long_command [node1] make -j2, 15s: CXX a.o",
            # Unchanged progress is printed again once 60 s have passed.
            "dlstack.cdh.long_command [node1] make -j2, 1m30s: CXX a.o",
            "dlstack.cdh.long_command [node1] make -j2, 1m45s: CXX b.o",
        ])
        self.assertFalse(any("retr" in line.lower() for line in shown))
        self.assertEqual((result["rc"], result["changed"], result["log_tail"]), (0, True, ["done"]))
        self.assertNotIn("failed", result)
        started = target.calls[0]
        self.assertEqual((started[0], started[2]), (action.MODULE, True))
        self.assertEqual(started[1]["argv"], ["make", "-j2"])
        self.assertEqual(target.calls[-1][1]["mode"], "cleanup")
        self.assertEqual(target.low_level[0], "tail -c 4096 -- /src/make.log 2>/dev/null")
        # The task's async keyword is back to what it was.
        self.assertEqual(plugin._task.async_val, 0)

    def test_a_failed_command_fails_the_task_with_its_log_tail(self):
        failed = {"finished": 1, "failed": True, "rc": 2, "msg": "make failed (rc=2) after 9 s; last lines ...",
                  "log_tail": ["error: boom"], "cmd": ["make"], "log": "/src/make.log"}
        plugin, target = self.make(dict(argv=["make"], log="/src/make.log"), statuses=[failed])
        result, shown = self.run_plugin(plugin, [0])
        self.assertTrue(result["failed"])
        self.assertEqual(result["rc"], 2)
        self.assertIn("make failed (rc=2)", result["msg"])
        self.assertEqual(result["log_tail"], ["error: boom"])
        self.assertEqual(shown, [])

    def test_progress_path_shows_bytes_and_rate(self):
        running = {"started": 1, "finished": 0}
        plugin, target = self.make(dict(argv=["pip", "install", "tensorflow"], log="/tmp/pip.log",
                                        progress_path="/opt/env"),
                                   statuses=[running, running, {"finished": 1, "rc": 0}],
                                   outputs=["1048576\t/opt/env\n", "11534336\t/opt/env\n"])
        result, shown = self.run_plugin(plugin, [0, 15, 25])
        self.assertEqual(shown, [
            "dlstack.cdh.long_command [node1] pip install tensorflow, 15s: 1.0 MiB in /opt/env",
            "dlstack.cdh.long_command [node1] pip install tensorflow, 25s: 11.0 MiB in /opt/env, 1.0 MiB/s",
        ])
        self.assertEqual(target.low_level[0], "du -sb -- /opt/env 2>/dev/null")

    def test_no_log_hides_the_output(self):
        plugin, target = self.make(dict(argv=["make"], log="/x.log"), no_log=True,
                                   statuses=[{"started": 1, "finished": 0}, {"finished": 1, "rc": 0}])
        result, shown = self.run_plugin(plugin, [0, 15])
        self.assertEqual(shown, ["dlstack.cdh.long_command [node1] make, 15s: (output hidden: no_log)"])
        self.assertEqual(target.low_level, [])

    def test_check_mode_starts_nothing(self):
        plugin, target = self.make(dict(argv=["make", "all"], log="/x.log"), check_mode=True)
        result, shown = self.run_plugin(plugin, [])
        self.assertEqual((result["changed"], result["msg"]), (True, "would run make all"))
        self.assertEqual(target.calls, [])

    def test_refuses_a_poll_beyond_a_minute_and_an_empty_argv(self):
        plugin, target = self.make(dict(argv=["make"], log="/x.log", poll=120))
        with self.assertRaises(AnsibleActionFail):
            self.run_plugin(plugin, [])
        plugin, target = self.make(dict(argv=[], log="/x.log"))
        with self.assertRaises(AnsibleActionFail):
            self.run_plugin(plugin, [])
        self.assertEqual(target.calls, [])
