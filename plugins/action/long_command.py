# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run dlstack.cdh.long_command asynchronously on the target and print its progress.

Documentation: plugins/modules/long_command.py. The target side (the module) runs the
command with its output in a log file; this side starts it through Ansible's async
wrapper, polls it with async_status and prints a status line per host at least once a
minute (the log's last line, or the size of progress_path), never a retry counter.
"""

from __future__ import annotations

import shlex
import time

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible_collections.dlstack.cdh.plugins.module_utils.long_command import ARGUMENT_SPEC

display = Display()


MODULE = "dlstack.cdh.long_command"
# A status line at least this often, even when the progress did not change.
MAX_SILENCE = 60
# The module kills the command at `timeout`; the async wrapper is the backstop.
GRACE = 120
STATUS_WIDTH = 160
LABEL_WIDTH = 48
RESULT_KEYS = ("rc", "cmd", "log", "log_tail", "elapsed", "timed_out", "msg", "failed", "changed")


def duration(seconds):
    seconds = int(seconds)
    if seconds < 60:
        return "%ds" % seconds
    if seconds < 3600:
        return "%dm%02ds" % divmod(seconds, 60)
    hours, rest = divmod(seconds, 3600)
    return "%dh%02dm" % (hours, rest // 60)


def size(count):
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return ("%d %s" if unit == "B" else "%.1f %s") % (value, unit)
        value /= 1024
    return "%d B" % count  # not reached


def last_line(text):
    lines = [line.strip() for line in to_text(text, errors="surrogate_or_replace").replace("\r", "\n").splitlines()]
    lines = [line for line in lines if line]
    line = lines[-1] if lines else "(no output yet)"
    return line if len(line) <= STATUS_WIDTH else line[:STATUS_WIDTH - 3] + "..."


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = False

    def _remote_text(self, cmd):
        res = self._low_level_execute_command(cmd)
        return res.get("stdout", "") if res.get("rc") == 0 else ""

    def _progress(self, args, state, now):
        """One short text that says how far the command got."""
        if args["progress_path"]:
            out = self._remote_text("du -sb -- %s 2>/dev/null" % shlex.quote(args["progress_path"]))
            fields = out.split()
            if not fields or not fields[0].isdigit():
                return "%s: nothing yet" % args["progress_path"]
            count = int(fields[0])
            rate = ""
            if state.get("bytes") is not None and now > state["at"]:
                rate = ", %s/s" % size(max(0, count - state["bytes"]) / (now - state["at"]))
            state.update(bytes=count, at=now)
            return "%s in %s%s" % (size(count), args["progress_path"], rate)
        return last_line(self._remote_text("tail -c 4096 -- %s 2>/dev/null" % shlex.quote(args["log"])))

    def _status(self, jid, async_dir, task_vars, mode="status"):
        return self._execute_module(module_name="ansible.legacy.async_status", task_vars=task_vars,
                                    module_args=dict(jid=jid, mode=mode, _async_dir=async_dir))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}

        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if not args["argv"]:
            raise AnsibleActionFail("argv is empty")
        if not 1 <= args["poll"] <= MAX_SILENCE:
            raise AnsibleActionFail("poll must be 1-%d seconds, got %d" % (MAX_SILENCE, args["poll"]))
        if args["timeout"] < 1:
            raise AnsibleActionFail("timeout must be at least 1 second, got %d" % args["timeout"])

        result.update(cmd=args["argv"], log=args["log"])
        if self._task.check_mode:
            result.update(changed=True, msg="would run %s" % " ".join(args["argv"]))
            return result

        host = task_vars.get("inventory_hostname", "?")
        label = " ".join(args["argv"])
        label = label if len(label) <= LABEL_WIDTH else label[:LABEL_WIDTH - 3] + "..."
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))

        saved_async = self._task.async_val
        self._task.async_val = args["timeout"] + GRACE
        try:
            started = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars, wrap_async=True)
        finally:
            self._task.async_val = saved_async
        if started.get("failed") or "ansible_job_id" not in started:
            result.update(started)
            result.setdefault("failed", True)
            return result
        jid = started["ansible_job_id"]

        start = time.monotonic()
        printed, last_print, state = None, start, {}
        try:
            while True:
                time.sleep(args["poll"])
                status = self._status(jid, async_dir, task_vars)
                if status.get("finished"):
                    break
                if status.get("failed"):
                    raise AnsibleActionFail("lost track of %s (job %s): %s" % (label, jid, status.get("msg", "")))
                now = time.monotonic()
                elapsed = now - start
                if elapsed > args["timeout"] + GRACE:
                    raise AnsibleActionFail("%s still runs after %s (timeout %d s); log: %s"
                                            % (label, duration(elapsed), args["timeout"], args["log"]))
                progress = "(output hidden: no_log)" if self._task.no_log else self._progress(args, state, now)
                if progress != printed or now - last_print >= MAX_SILENCE:
                    display.display("%s [%s] %s, %s: %s" % (MODULE, host, label, duration(elapsed), progress))
                    printed, last_print = progress, now
            self._status(jid, async_dir, task_vars, mode="cleanup")
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

        result.update((key, status[key]) for key in RESULT_KEYS if key in status)
        result["changed"] = True
        if status.get("failed") and "msg" not in result:
            result["msg"] = "%s failed; see %s" % (label, args["log"])
        return result
