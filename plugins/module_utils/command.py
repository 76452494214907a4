# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one helper the collection's modules use to run external commands.

Every module goes through :func:`run` so that unit tests only ever need to
patch ``AnsibleModule.run_command`` and so that failures read the same way
everywhere (command, rc and the tool's own message).
"""

from __future__ import annotations

import collections

CommandResult = collections.namedtuple("CommandResult", ["rc", "stdout", "stderr", "argv"])


def run(module, argv, check_rc=False, data=None, environ_update=None, cwd=None, what=None):
    """Run ``argv`` (a list, never a shell string) and return a CommandResult.

    With ``check_rc`` a non-zero exit fails the module with the tool's own
    message; ``what`` names the step in that message (defaults to argv[0]).
    """
    argv = [str(a) for a in argv]
    rc, stdout, stderr = module.run_command(
        argv, check_rc=False, data=data, environ_update=environ_update, cwd=cwd,
    )
    if check_rc and rc != 0:
        detail = (stderr or stdout or "").strip()
        module.fail_json(
            msg="%s failed (rc=%d): %s" % (what or argv[0], rc, detail or "no output"),
            rc=rc, cmd=argv, stdout=stdout, stderr=stderr,
        )
    return CommandResult(rc, stdout, stderr, argv)


def find_binary(module, name, extra_dirs=None, required=False):
    """Path of ``name`` on PATH or in ``extra_dirs``; None (or fail) when absent."""
    return module.get_bin_path(name, required=required, opt_dirs=list(extra_dirs or []))
