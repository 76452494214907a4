# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of dlstack.cdh.long_command, shared by the action (controller) and the module (target)."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    argv=dict(type="list", elements="str", required=True),
    chdir=dict(type="path"),
    log=dict(type="path", required=True),
    timeout=dict(type="int", default=3600),
    poll=dict(type="int", default=15),
    progress_path=dict(type="path"),
    tail_lines=dict(type="int", default=20),
)
