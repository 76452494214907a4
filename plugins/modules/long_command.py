#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: long_command
short_description: Run a long command (a build, a large download or install) and show its progress while it runs
version_added: "0.2.0"
description:
  - "Runs O(argv) on the target in the background (Ansible's async machinery) with its output going to O(log), and polls
    it every O(poll) seconds. At least once a minute the controller prints one status line per host, for example
    C(dlstack.cdh.long_command [node1] make -j2 all, 4m10s: CXX src/caffe/layers/conv_layer.cpp),
    made of the last line of O(log) or, with O(progress_path), the bytes that path holds and how fast they grow.
    There is no retry counter and nothing that reads as a failure while the command runs."
  - When the command exits non-zero or runs longer than O(timeout), the task fails with the rc and the last O(tail_lines)
    lines of O(log); the log stays on the target.
  - The task always reports a change when the command runs; decide whether it must run with C(when) (for example from
    M(dlstack.cdh.tree_digest)).
  - Do not set the task keywords C(async) and C(poll); O(timeout) and O(poll) replace them. The task's C(environment)
    applies to the command.
  - "To adopt it for another long step: replace C(ansible.builtin.command) + C(async)/C(poll) (or C(poll: 0) + an
    C(async_status) retry loop) by this action with the same argv, chdir and environment, a log path next to the
    step's other files and a timeout; for downloads or C(pip install), O(progress_path) (the target file or
    directory) shows bytes instead of the log's last line."
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
attributes:
  action:
    description: Runs as an action plugin on the controller, which starts the module asynchronously on the target.
    support: full
  async:
    description: Starts itself asynchronously; the C(async) and C(poll) task keywords are refused.
    support: none
  check_mode:
    support: full
    details: In check mode nothing runs; the task reports the change the real run would make.
  diff_mode:
    support: none
  platform:
    description: Target platforms.
    support: full
    platforms: posix
extends_documentation_fragment:
  - dlstack.cdh.attributes
options:
  argv:
    description: The command and its arguments, as a list (no shell).
    type: list
    elements: str
    required: true
  chdir:
    description: Directory to run the command in.
    type: path
  log:
    description:
      - File on the target that receives the command's stdout and stderr (truncated at the start). Its directory must exist.
    type: path
    required: true
  timeout:
    description: Seconds the command may run; then it (and every process it started) is killed and the task fails.
    type: int
    default: 3600
  poll:
    description:
      - Seconds between checks on the command (1-60). A status line is printed when the progress changed since the last one,
        and at least every 60 seconds.
    type: int
    default: 15
  progress_path:
    description:
      - A file or directory whose size is the progress (a download, an environment being installed); the status line then
        shows its size and growth instead of the log's last line.
    type: path
  tail_lines:
    description: How many lines of the end of O(log) the result (and a failure message) carries.
    type: int
    default: 20
notes:
  - Interrupting the play leaves the command running on the target, as with any async task; its log shows how far it got.
  - The status lines are printed by the controller as the play runs (any stdout callback); they are not part of the result.
seealso:
  - module: ansible.builtin.command
  - module: ansible.builtin.async_status
  - module: dlstack.cdh.tree_digest
"""

EXAMPLES = r"""
- name: Build Caffe, printing the build log's last line as it goes
  dlstack.cdh.long_command:
    argv: [make, -j4, all, distribute]
    chdir: /opt/dlstack/src/caffe
    log: /opt/dlstack/src/caffe/.dlstack-make.log
    timeout: 7200
  when: not caffe_inputs.current

- name: Install a large pip requirement set, showing how much the environment has grown
  dlstack.cdh.long_command:
    argv: [/usr/anaconda/envs/tf/bin/python, -m, pip, install, -r, /tmp/requirements.txt]
    log: /var/log/dlstack-pip-tf.log
    progress_path: /usr/anaconda/envs/tf
    timeout: 3600
  environment:
    PIP_INDEX_URL: https://pypi.example.internal/simple
"""

RETURN = r"""
rc:
  description: Exit status of the command.
  returned: when the command ran
  type: int
  sample: 0
cmd:
  description: The command that ran.
  returned: always
  type: list
  elements: str
  sample: [make, -j2, all, distribute]
log:
  description: Path of the log file on the target.
  returned: always
  type: str
  sample: /opt/dlstack/src/caffe/.dlstack-make.log
log_tail:
  description: The last O(tail_lines) lines of the log.
  returned: when the command ran
  type: list
  elements: str
  sample: ["make[1]: Leaving directory '/opt/dlstack/src/caffe'"]
elapsed:
  description: Seconds the command ran.
  returned: when the command ran
  type: int
  sample: 612
timed_out:
  description: Whether the command was killed because it ran longer than O(timeout).
  returned: when the command ran
  type: bool
  sample: false
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.dlstack.cdh.plugins.module_utils.long_command import ARGUMENT_SPEC


def log_tail(path, lines):
    """The last ``lines`` lines of ``path`` (reads at most 64 KiB from the end)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 65536))
            data = handle.read()
    except (IOError, OSError):
        return []
    text = to_native(data, errors="surrogate_or_replace").replace("\r", "\n")
    return [line for line in text.splitlines() if line.strip()][-lines:] if lines > 0 else []


def run_logged(module, argv, chdir, log, timeout):
    """Run argv with stdout+stderr in ``log``; end its whole process group after ``timeout`` s."""
    # coreutils timeout puts the command in a process group of its own and signals all of it,
    # so make's (or pip's) children end too; the shell only redirects, exec leaves argv itself.
    wrapper = [module.get_bin_path("timeout", required=True), "--kill-after=30", "%ds" % timeout,
               "sh", "-c", 'exec "$@" >"$0" 2>&1 </dev/null', log] + argv
    start = time.monotonic()
    rc, _out, _err = module.run_command(wrapper, cwd=chdir)
    elapsed = int(time.monotonic() - start)
    # 124: the command ended on SIGTERM at the timeout; 137: it needed the SIGKILL 30 s later.
    timed_out = rc in (124, 137) and elapsed >= timeout
    return rc, elapsed, timed_out


def executable(module, name):
    """The path argv[0] runs as, or None when there is none."""
    if os.sep in name:
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    return module.get_bin_path(name)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    argv, log, chdir = module.params["argv"], module.params["log"], module.params["chdir"]
    result = dict(cmd=argv, log=log, changed=True)
    if not argv:
        module.fail_json(msg="argv is empty", **result)
    if module.check_mode:
        module.exit_json(msg="would run %s" % " ".join(argv), **result)
    if chdir and not os.path.isdir(chdir):
        module.fail_json(msg="chdir %s is not a directory" % chdir, **result)
    if not os.path.isdir(os.path.dirname(log) or "."):
        module.fail_json(msg="the directory of log %s does not exist" % log, **result)
    if not executable(module, argv[0]):
        module.fail_json(msg="cannot run %s: no such executable" % argv[0], **result)
    rc, elapsed, timed_out = run_logged(module, argv, chdir, log, module.params["timeout"])
    tail = log_tail(log, module.params["tail_lines"])
    result.update(rc=rc, elapsed=elapsed, timed_out=timed_out, log_tail=tail)
    if timed_out or rc != 0:
        why = "timed out after %d s" % elapsed if timed_out else "failed (rc=%d) after %d s" % (rc, elapsed)
        module.fail_json(msg="%s %s; last lines of %s:\n%s" % (argv[0], why, log, "\n".join(tail) or "(empty)"),
                         **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
