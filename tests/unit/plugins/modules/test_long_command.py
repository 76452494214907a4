# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the target side of dlstack.cdh.long_command: real commands, real log files."""

from __future__ import annotations

import os
import shutil
import tempfile
import time

from ansible_collections.dlstack.cdh.plugins.modules import long_command
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleExitJson,
    AnsibleFailJson,
    ModuleTestCase,
    set_module_args,
)


class TestLongCommand(ModuleTestCase):

    def setUp(self):
        super(TestLongCommand, self).setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.log = os.path.join(self.tmp, "step.log")

    def run_module(self, args, check_mode=False):
        args = dict(args, log=args.get("log", self.log))
        if check_mode:
            args["_ansible_check_mode"] = True
        with self.assertRaises((AnsibleExitJson, AnsibleFailJson)) as ctx:
            with set_module_args(args):
                long_command.main()
        return ctx.exception.result

    def test_output_goes_to_the_log_and_the_tail_is_returned(self):
        with open(self.log, "w") as handle:
            handle.write("old run\n")
        result = self.run_module(dict(argv=["sh", "-c", "pwd; echo out; echo err >&2; printf '50%%\\r100%%\\n'"],
                                      chdir=self.tmp, tail_lines=3))
        self.assertFalse(result.get("failed"))
        self.assertEqual((result["rc"], result["changed"], result["timed_out"]), (0, True, False))
        with open(self.log) as handle:
            log = handle.read()
        self.assertNotIn("old run", log)
        self.assertTrue(log.startswith(os.path.realpath(self.tmp) + "\n") or log.startswith(self.tmp + "\n"))
        # A carriage-return progress bar counts as separate lines.
        self.assertEqual(result["log_tail"], ["err", "50%", "100%"])

    def test_failure_carries_rc_and_the_log_tail(self):
        result = self.run_module(dict(argv=["sh", "-c", "echo compiling; echo 'error: boom'; exit 3"]))
        self.assertTrue(result["failed"])
        self.assertEqual(result["rc"], 3)
        self.assertIn("sh failed (rc=3)", result["msg"])
        self.assertIn("error: boom", result["msg"])
        self.assertEqual(result["log_tail"], ["compiling", "error: boom"])

    def test_timeout_kills_the_command_and_its_children(self):
        pidfile = os.path.join(self.tmp, "child.pid")
        result = self.run_module(dict(argv=["sh", "-c", "sleep 30 & echo $! > %s; wait" % pidfile], timeout=1))
        self.assertTrue(result["failed"])
        self.assertTrue(result["timed_out"])
        self.assertIn("timed out after", result["msg"])
        with open(pidfile) as handle:
            child = int(handle.read())
        # The child was in the command's session and was killed with it; on a loaded machine
        # it may take a moment to exit after the signal.
        deadline = time.monotonic() + 10
        while True:
            try:
                os.kill(child, 0)
                with open("/proc/%d/stat" % child) as handle:
                    alive = handle.read().split()[2] != "Z"
            except (ProcessLookupError, FileNotFoundError):
                alive = False
            if not alive or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertFalse(alive)

    def test_check_mode_runs_nothing(self):
        marker = os.path.join(self.tmp, "ran")
        result = self.run_module(dict(argv=["touch", marker]), check_mode=True)
        self.assertTrue(result["changed"])
        self.assertIn("would run touch", result["msg"])
        self.assertFalse(os.path.exists(marker))
        self.assertFalse(os.path.exists(self.log))

    def test_bad_places_fail_before_running(self):
        result = self.run_module(dict(argv=["true"], chdir=os.path.join(self.tmp, "nope")))
        self.assertIn("chdir", result["msg"])
        result = self.run_module(dict(argv=["true"], log=os.path.join(self.tmp, "no/dir/x.log")))
        self.assertIn("directory of log", result["msg"])
        result = self.run_module(dict(argv=[os.path.join(self.tmp, "no-such-binary")]))
        self.assertIn("cannot run", result["msg"])
