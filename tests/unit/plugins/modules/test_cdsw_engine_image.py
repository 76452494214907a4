# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dlstack.cdh.cdsw_engine_image against a patched fetch_url.

CDSW cannot run here. ``FakeCdsw`` answers like the endpoints the module uses
(see module_utils/cdsw_api.py for their sources) and records every request, and
it is installed in place of ``fetch_url`` so the module's real request code runs.
"""

from __future__ import annotations

import io
import json
from unittest.mock import patch

from ansible.module_utils import basic

from ansible_collections.dlstack.cdh.plugins.module_utils import cdsw_api
from ansible_collections.dlstack.cdh.plugins.modules import cdsw_engine_image
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleExitJson,
    AnsibleFailJson,
    ModuleTestCase,
    set_module_args,
)

ENV_PATH = "/api/v1/projects/analytics/deep-learning/environment"
BASE = dict(api_url="https://cdsw.example.com", api_key="KEY",
            repository="registry.example.com:5000/dlstack/cdsw-engine-gpu", tag="0123456789abcdef")


class FakeCdsw:
    def __init__(self, images=None, environment=None, listing=True, duplicate_status=409):
        self.images = list(images or [])
        self.environment = dict(environment or {})
        self.listing = listing
        self.duplicate_status = duplicate_status
        self.calls = []

    def __call__(self, module, url, data=None, headers=None, method=None, **kwargs):
        path = url[len("https://cdsw.example.com"):]
        body = json.loads(data) if data else None
        self.calls.append((method, path, body))
        if headers.get("Authorization") != "Basic S0VZOg==":
            return self._error(401, "Unauthorized")
        if path == "/api/v1/engine-images" and method == "GET":
            return self._ok(200, self.images) if self.listing else self._error(404, "Not Found")
        if path == "/api/v1/engine-images" and method == "POST":
            image = body["engineImage"]
            if any((i["repository"], i["tag"]) == (image["repository"], image["tag"]) for i in self.images):
                return self._error(self.duplicate_status, "engine image already exists")
            stored = dict(image, id=len(self.images) + 1)
            self.images.append(stored)
            return self._ok(201, stored)
        if path == ENV_PATH and method == "GET":
            return self._ok(200, self.environment)
        if path == ENV_PATH and method == "PUT":
            self.environment = body
            return self._ok(204, None)
        return self._error(404, "not found")

    def writes(self):
        return [(m, p) for m, p, b in self.calls if m in ("POST", "PUT")]

    @staticmethod
    def _ok(status, payload):
        return io.BytesIO(b"" if payload is None else json.dumps(payload).encode()), {"status": status}

    @staticmethod
    def _error(status, message):
        return None, {"status": status, "msg": "HTTP Error %d" % status,
                      "body": json.dumps({"message": message}).encode()}


class TestCdswEngineImage(ModuleTestCase):
    def run_module(self, fake, args, exc=AnsibleExitJson):
        with patch.object(cdsw_api, "fetch_url", fake):
            with set_module_args(args):
                with self.assertRaises(exc) as ctx:
                    cdsw_engine_image.main()
        return ctx.exception.result

    def test_adds_image_and_sets_environment(self):
        fake = FakeCdsw(environment={"OTHER": "1"})
        result = self.run_module(fake, dict(BASE, description="GPU", project_owner="analytics",
                                            project="deep-learning", environment={"CUDA_HOME": "/usr/local/cuda"},
                                            _ansible_diff=True))
        self.assertTrue(result["changed"])
        self.assertTrue(result["engine_image_added"])
        self.assertEqual(result["engine_image"]["id"], 1)
        self.assertEqual(fake.writes(), [("POST", "/api/v1/engine-images"), ("PUT", ENV_PATH)])
        post_body = [b for m, p, b in fake.calls if m == "POST"][0]
        self.assertEqual(post_body, {"engineImage": {"repository": BASE["repository"], "tag": BASE["tag"],
                                                     "description": "GPU"}})
        # The PUT replaces the whole set: variables not managed here are sent back unchanged.
        self.assertEqual(fake.environment, {"OTHER": "1", "CUDA_HOME": "/usr/local/cuda"})
        self.assertEqual(result["environment_changed"], ["CUDA_HOME"])
        self.assertEqual(result["diff"]["before"]["engine_image"], "absent")
        self.assertEqual(result["diff"]["after"]["environment"]["CUDA_HOME"], "/usr/local/cuda")

    def test_second_run_changes_nothing(self):
        fake = FakeCdsw()
        args = dict(BASE, project_owner="analytics", project="deep-learning", environment={"A": "b"})
        self.assertTrue(self.run_module(fake, args)["changed"])
        fake.calls = []
        result = self.run_module(fake, args)
        self.assertFalse(result["changed"])
        self.assertEqual(fake.writes(), [])
        self.assertEqual(result["environment_changed"], [])

    def test_check_mode_reads_only(self):
        fake = FakeCdsw()
        result = self.run_module(fake, dict(BASE, project_owner="analytics", project="deep-learning",
                                            environment={"A": "b"}, _ansible_check_mode=True))
        self.assertTrue(result["changed"])
        self.assertEqual(fake.writes(), [])
        self.assertEqual(result["environment"], {"A": "b"})

    def test_without_listing_a_409_already_exists_is_no_change(self):
        fake = FakeCdsw(images=[{"repository": BASE["repository"], "tag": BASE["tag"]}], listing=False)
        result = self.run_module(fake, dict(BASE))
        self.assertFalse(result["changed"])
        self.assertFalse(result["listing_supported"])
        self.assertEqual(fake.writes(), [("POST", "/api/v1/engine-images")])

    def test_without_listing_check_mode_warns_and_reports_change(self):
        fake = FakeCdsw(listing=False)
        with patch.object(basic.AnsibleModule, "warn") as warn:
            result = self.run_module(fake, dict(BASE, _ansible_check_mode=True))
        self.assertTrue(result["changed"])
        self.assertEqual(fake.writes(), [])
        self.assertIn("cannot tell", warn.call_args[0][0])

    def test_other_409_is_an_error(self):
        fake = FakeCdsw(images=[{"repository": BASE["repository"], "tag": BASE["tag"]}], listing=False)
        with patch.object(FakeCdsw, "_error", staticmethod(
                lambda status, message: (None, {"status": status, "body": b'{"message": "quota"}'}))):
            result = self.run_module(fake, dict(BASE), AnsibleFailJson)
        self.assertEqual(result["status"], 409)
        self.assertIn("quota", result["msg"])

    def test_unauthorized_fails_with_clear_message(self):
        result = self.run_module(FakeCdsw(), dict(BASE, api_key="WRONG"), AnsibleFailJson)
        self.assertEqual(result["status"], 401)
        self.assertIn("rejected the API key", result["msg"])

    def test_unknown_project_fails(self):
        result = self.run_module(FakeCdsw(), dict(BASE, project_owner="nobody", project="none"), AnsibleFailJson)
        self.assertEqual(result["status"], 404)

    def test_bad_input_fails_before_any_request(self):
        cases = [
            (dict(BASE, api_url="cdsw.example.com"), "not an http(s) URL"),
            (dict(BASE, api_key=""), "api_key is empty"),
            (dict(BASE, environment={"A": "b"}), "environment needs project_owner and project"),
            (dict(BASE, tag="repo:tag"), "looks like an image reference"),
            (dict(BASE, timeout=0), "timeout must be a positive"),
        ]
        for args, message in cases:
            fake = FakeCdsw()
            result = self.run_module(fake, args, AnsibleFailJson)
            self.assertIn(message, result["msg"])
            self.assertEqual(fake.calls, [])
