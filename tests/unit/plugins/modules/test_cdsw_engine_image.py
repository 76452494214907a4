# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dlstack.cdh.cdsw_engine_image against a patched fetch_url.

CDSW cannot run here. ``FakeCdsw`` answers like the endpoints the module uses (their public
sources are in module_utils/cdsw_api.py; the scenario's double, molecule/cdsw_engine/files/
fake_cdsw.py, has contract tests of its own) and records every request; it is installed in
place of ``fetch_url`` so the module's real request code runs.
"""

from __future__ import annotations

import io
import json
from unittest.mock import patch

from ansible_collections.dlstack.cdh.plugins.modules import cdsw_engine_image
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleFailJson,
    HttpModuleTestCase,
)

PROJECT = "/api/v1/projects/analytics/deep-learning"
BASE = dict(api_url="https://cdsw.example.com", username="admin", password="pw",
            repository="registry.example.com:5000/dlstack/cdsw-engine-gpu", tag="0123456789abcdef")
FULL = dict(BASE, max_gpus_per_session=1, project_owner="analytics", project="deep-learning",
            environment={"CUDA_HOME": "/usr/local/cuda"})


class FakeCdsw:
    def __init__(self, images=None, environment=None, gpus=0, project_image=1):
        self.images = [{"id": 1, "repository": "cdsw/engine", "tag": "8"}] + list(images or [])
        self.environment = dict(environment or {})
        self.config = {"max_gpu_per_engine": gpus, "environment": "{}"}
        self.project_image = project_image
        self.calls = []

    def __call__(self, module, url, data=None, headers=None, method=None, **kwargs):
        path = url[len("https://cdsw.example.com"):]
        body = json.loads(data) if data else None
        self.calls.append((method, path, body))
        if path == "/api/v1/authenticate":
            if body != {"login": "admin", "password": "pw"}:
                return self._error(401, "Invalid login or password")
            return self._ok(200, {"auth_token": "T"})
        if headers.get("Authorization") != "Bearer T":
            return self._error(401, "Unauthorized")
        if path == "/api/v1/engine-images" and method == "GET":
            return self._ok(200, self.images)
        if path == "/api/v1/engine-images" and method == "POST":
            stored = dict(body["engineImage"], id=max(i["id"] for i in self.images) + 1)
            self.images.append(stored)
            return self._ok(200, stored)
        if path == "/api/v1/site/config":
            if method == "PATCH":
                self.config.update(body)
            return self._ok(200, self.config)
        if path == PROJECT + "/engine-images":
            if method == "PATCH":
                self.project_image = body["engineImageId"]
            return self._ok(200, [i for i in self.images if i["id"] == self.project_image][0])
        if path == PROJECT + "/environment" and method == "GET":
            return self._ok(200, self.environment)
        if path == PROJECT + "/environment" and method == "PUT":
            self.environment = body
            return self._ok(204, None)
        return self._error(404, "Project not found")

    def writes(self):
        return [(m, p) for m, p, b in self.calls if m in ("POST", "PUT", "PATCH") and p != "/api/v1/authenticate"]

    @staticmethod
    def _ok(status, payload):
        return io.BytesIO(b"" if payload is None else json.dumps(payload).encode()), {"status": status}

    @staticmethod
    def _error(status, message):
        return None, {"status": status, "msg": "HTTP Error %d" % status,
                      "body": json.dumps({"message": message}).encode()}


class TestCdswEngineImage(HttpModuleTestCase):
    module_main = staticmethod(cdsw_engine_image.main)

    def test_reads_everything_then_adds_selects_and_sets(self):
        fake = FakeCdsw(environment={"OTHER": "1"})
        result = self.run_module(fake, dict(FULL, description="GPU", _ansible_diff=True))
        self.assertTrue(result["changed"])
        self.assertTrue(result["engine_image_added"])
        self.assertEqual(result["engine_image"]["id"], 2)
        methods = [(m, p) for m, p, b in fake.calls]
        self.assertEqual(methods, [
            ("POST", "/api/v1/authenticate"),
            ("GET", "/api/v1/engine-images"), ("GET", "/api/v1/site/config"),
            ("GET", PROJECT + "/engine-images"), ("GET", PROJECT + "/environment"),
            ("POST", "/api/v1/engine-images"), ("PATCH", "/api/v1/site/config"),
            ("PATCH", PROJECT + "/engine-images"), ("PUT", PROJECT + "/environment")])
        bodies = dict(((m, p), b) for m, p, b in fake.calls)
        self.assertEqual(bodies[("POST", "/api/v1/engine-images")], {"engineImage": {
            "repository": BASE["repository"], "tag": BASE["tag"], "description": "GPU"}})
        self.assertEqual(bodies[("PATCH", "/api/v1/site/config")], {"max_gpu_per_engine": 1})
        self.assertEqual(bodies[("PATCH", PROJECT + "/engine-images")], {"engineImageId": 2})
        # The PUT replaces the whole set: variables not managed here are sent back unchanged.
        self.assertEqual(fake.environment, {"OTHER": "1", "CUDA_HOME": "/usr/local/cuda"})
        self.assertEqual(result["environment_changed"], ["CUDA_HOME"])
        self.assertEqual(result["max_gpus_per_session"], {"before": 0, "after": 1})
        self.assertTrue(result["project_engine_selected"])
        self.assertEqual(result["diff"]["before"]["engine_image"], "absent")
        self.assertEqual(result["diff"]["before"]["project_engine_image_id"], 1)
        self.assertEqual(result["diff"]["after"]["project_engine_image_id"], 2)

    def test_second_run_changes_nothing(self):
        fake = FakeCdsw()
        self.assertTrue(self.run_module(fake, FULL)["changed"])
        fake.calls = []
        result = self.run_module(fake, FULL)
        self.assertFalse(result["changed"])
        self.assertEqual(fake.writes(), [])
        self.assertEqual(result["environment_changed"], [])
        self.assertFalse(result["project_engine_selected"])
        self.assertEqual(result["project_engine_image_id"], 2)

    def test_check_mode_reads_only(self):
        fake = FakeCdsw()
        result = self.run_module(fake, dict(FULL, _ansible_check_mode=True))
        self.assertTrue(result["changed"])
        self.assertEqual(fake.writes(), [])
        self.assertTrue(result["project_engine_selected"])
        self.assertEqual(result["environment"], {"CUDA_HOME": "/usr/local/cuda"})

    def test_existing_image_is_selected_without_adding_it(self):
        fake = FakeCdsw(images=[{"id": 5, "repository": BASE["repository"], "tag": BASE["tag"]}])
        result = self.run_module(fake, dict(BASE, project_owner="analytics", project="deep-learning"))
        self.assertFalse(result["engine_image_added"])
        self.assertEqual(fake.writes(), [("PATCH", PROJECT + "/engine-images")])
        self.assertEqual(fake.project_image, 5)

    def test_select_engine_false_leaves_the_project_engine(self):
        fake = FakeCdsw(images=[{"id": 5, "repository": BASE["repository"], "tag": BASE["tag"]}])
        result = self.run_module(fake, dict(BASE, project_owner="analytics", project="deep-learning",
                                            select_engine=False))
        self.assertFalse(result["changed"])
        self.assertNotIn(("GET", PROJECT + "/engine-images", None), fake.calls)

    def test_wrong_login_fails_before_any_other_request(self):
        fake = FakeCdsw()
        result = self.run_module(fake, dict(FULL, password="wrong"), AnsibleFailJson)
        self.assertEqual(result["status"], 401)
        self.assertIn("CDSW refused the login of admin", result["msg"])
        self.assertEqual(len(fake.calls), 1)

    def test_unknown_project_fails_before_any_write(self):
        fake = FakeCdsw()
        result = self.run_module(fake, dict(FULL, project="none"), AnsibleFailJson)
        self.assertEqual(result["status"], 404)
        self.assertIn("Project not found", result["msg"])
        self.assertEqual(fake.writes(), [])

    def test_a_listing_that_is_not_a_list_is_an_error(self):
        fake = FakeCdsw()
        with patch.object(FakeCdsw, "_ok", staticmethod(
                lambda status, payload: (io.BytesIO(json.dumps({"auth_token": "T", "data": payload}).encode()),
                                         {"status": status}))):
            result = self.run_module(fake, BASE, AnsibleFailJson)
        self.assertIn("not a list of engine images", result["msg"])
        self.assertEqual(fake.writes(), [])

    def test_bad_input_fails_before_any_request(self):
        cases = [
            (dict(BASE, api_url="cdsw.example.com"), "not an http(s) URL"),
            (dict(BASE, password=""), "give the CDSW user name and password"),
            (dict(BASE, environment={"A": "b"}), "environment needs project_owner and project"),
            (dict(BASE, tag="repo:tag"), "looks like an image reference"),
            (dict(BASE, timeout=0), "timeout must be a positive"),
            (dict(BASE, max_gpus_per_session=-2), "max_gpus_per_session must be 0 (no GPUs) or more"),
        ]
        for args, message in cases:
            fake = FakeCdsw()
            result = self.run_module(fake, args, AnsibleFailJson)
            self.assertIn(message, result["msg"])
            self.assertEqual(fake.calls, [])

    def test_a_failure_after_a_write_still_reports_the_change(self):
        fake = FakeCdsw()
        original = fake.__call__

        def site_config_fails(module, url, data=None, headers=None, method=None, **kwargs):
            if method == "PATCH" and url.endswith("/api/v1/site/config"):
                return FakeCdsw._error(500, "database is locked")
            return original(module, url, data, headers, method)
        result = self.run_module(site_config_fails, FULL, AnsibleFailJson)
        self.assertTrue(result["changed"])
        self.assertTrue(result["engine_image_added"])
        self.assertIn("database is locked", result["msg"])

    def test_only_the_managed_variables_are_returned(self):
        fake = FakeCdsw(environment={"AWS_SECRET_ACCESS_KEY": "s3cr3t", "CUDA_HOME": "/old"})
        result = self.run_module(fake, dict(FULL, _ansible_diff=True))
        self.assertEqual(result["environment"], {"CUDA_HOME": "/usr/local/cuda"})
        self.assertEqual(result["diff"]["before"]["environment"], {"CUDA_HOME": "/old"})
        self.assertNotIn("s3cr3t", json.dumps(result))
        # ...and the project keeps it.
        self.assertEqual(fake.environment["AWS_SECRET_ACCESS_KEY"], "s3cr3t")

    def test_a_gpu_setting_answered_as_a_string_is_compared_as_a_number(self):
        fake = FakeCdsw(gpus="1")
        result = self.run_module(fake, dict(BASE, max_gpus_per_session=1))
        self.assertEqual(result["max_gpus_per_session"], {"before": 1, "after": 1})
        self.assertNotIn(("PATCH", "/api/v1/site/config"), fake.writes())
