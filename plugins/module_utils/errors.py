# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's exceptions, and the one place a module turns them into ``fail_json``.

module_utils never call ``fail_json`` themselves: they raise one of these, and each module's
``main()`` wraps its work in :func:`failure_boundary`, so a failure reads the same whichever
helper found it and a helper can be used (and tested) without an AnsibleModule to exit through.
"""

from __future__ import annotations

import contextlib


class ModuleError(Exception):
    """A failure the module reports as ``msg``; ``details`` become further return values."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details

    def fail_kwargs(self, result=None):
        """Keyword arguments for fail_json: the partial result, then this error's details."""
        kwargs = dict(result or {})
        kwargs.update(self.details)
        kwargs["msg"] = self.msg
        return kwargs


class InvalidInput(ModuleError):
    """A parameter (or a combination of them) that cannot work; raised before anything changes."""


class CommandNotFound(ModuleError):
    """The program a runner needs is not installed (or the given path is not executable)."""


class CommandFailed(ModuleError):
    """A command exited non-zero; carries rc, cmd, stdout and stderr for the task result."""

    def __init__(self, msg, rc=None, cmd=None, stdout=None, stderr=None, **details):
        super().__init__(msg, rc=rc, cmd=cmd, stdout=stdout, stderr=stderr, **details)
        self.rc = rc


class UnexpectedOutput(ModuleError):
    """A command succeeded but printed something the module cannot parse."""


@contextlib.contextmanager
def failure_boundary(module, result=None):
    """Turn a ModuleError raised inside the block into ``module.fail_json``.

    ``result`` (a dict the block may fill in) is returned alongside the message, so a failure
    late in a run still reports what was found before it.
    """
    try:
        yield
    except ModuleError as exc:
        module.fail_json(**exc.fail_kwargs(result))
