# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""community.general-style helpers: run a module's main() and capture its exit."""

from __future__ import annotations

import contextlib
import unittest
from unittest.mock import patch

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class AnsibleExitJson(Exception):
    """Raised in place of exit_json; .result holds the module's return values."""

    @property
    def result(self):
        return self.args[0]


class AnsibleFailJson(Exception):
    """Raised in place of fail_json; .result holds msg and the other values."""

    @property
    def result(self):
        return self.args[0]


def exit_json(*args, **kwargs):
    kwargs.setdefault("changed", False)
    raise AnsibleExitJson(kwargs)


def fail_json(*args, **kwargs):
    kwargs["failed"] = True
    raise AnsibleFailJson(kwargs)


@contextlib.contextmanager
def set_module_args(args):
    """Feed ``args`` to the next AnsibleModule created (ansible-core 2.19 API)."""
    args = dict(args)
    args.setdefault("_ansible_remote_tmp", "/tmp")
    args.setdefault("_ansible_keep_remote_files", False)
    with patch_module_args(args):
        yield


class ModuleTestCase(unittest.TestCase):
    """Patches exit_json/fail_json for every test; run_command is patched per test."""

    def setUp(self):
        self.mock_module = patch.multiple(basic.AnsibleModule, exit_json=exit_json, fail_json=fail_json)
        self.mock_module.start()
        self.addCleanup(self.mock_module.stop)


class HttpModuleTestCase(ModuleTestCase):
    """For modules that talk HTTP through module_utils/http_api.py: ``fetch_url`` is the fake.

    Subclasses set ``module_main`` (the module's ``main``, as a staticmethod).
    """

    module_main = None

    def run_module(self, fake, args, exc=AnsibleExitJson):
        from ansible_collections.dlstack.cdh.plugins.module_utils import http_api
        with patch.object(http_api, "fetch_url", fake):
            with set_module_args(args):
                with self.assertRaises(exc) as ctx:
                    self.module_main()
        return ctx.exception.result
