# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dlstack.cdh.cml_runtime against a patched fetch_url.

``FakeCatalog`` answers ListRuntimes and RegisterCustomRuntime with the shapes of the CML API
v2 specification (module_utils/cml_api.py names it); the scenario's double
(molecule/cml_runtime/files/fake_cml.py) has contract tests of its own.
"""

from __future__ import annotations

import io
import json
from unittest.mock import patch
from urllib.parse import parse_qs, urlparse

from ansible.module_utils import basic

from ansible_collections.dlstack.cdh.plugins.modules import cml_runtime
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleFailJson,
    HttpModuleTestCase,
)

IMAGE = "registry.example.com:5000/dlstack/cml-runtime-gpu:0123456789abcdef"
BASE = dict(api_url="https://ml.example.com", api_key="V2KEY", image=IMAGE)


class FakeCatalog:
    def __init__(self, runtimes=(), page_size=1, valid=True):
        self.runtimes = [dict(r) for r in runtimes]
        self.page_size = page_size
        self.valid = valid
        self.calls = []

    def __call__(self, module, url, data=None, headers=None, method=None, **kwargs):
        parsed = urlparse(url)
        body = json.loads(data) if data else None
        self.calls.append((method, parsed.path, parse_qs(parsed.query), body))
        if headers.get("Authorization") != "Bearer V2KEY":
            return None, {"status": 401, "msg": "HTTP Error 401",
                          "body": json.dumps({"error": "invalid key", "code": 16, "message": "invalid key"}).encode()}
        if method == "GET":
            query = parse_qs(parsed.query)
            wanted = json.loads(query["search_filter"][0])["image_identifier"]
            # A search, not an exact match: every runtime whose identifier contains the filter.
            found = [r for r in self.runtimes if wanted.rsplit(":", 1)[0] in r["image_identifier"]]
            start = int(query.get("page_token", ["0"])[0])
            page = found[start:start + self.page_size]
            token = str(start + self.page_size) if start + self.page_size < len(found) else ""
            return self._ok({"runtimes": page, "next_page_token": token})
        if not self.valid:
            return self._ok({"validation_success": False, "insert_success": False,
                             "reason": "missing required label", "reason_data": "com.cloudera.ml.runtime.edition"})
        runtime = {"image_identifier": body["url"], "edition": "Nvidia GPU", "status": "ENABLED"}
        self.runtimes.append(runtime)
        return self._ok({"validation_success": True, "insert_success": True, "details": {"edition": "Nvidia GPU"}})

    @staticmethod
    def _ok(payload):
        return io.BytesIO(json.dumps(payload).encode()), {"status": 200}

    def posts(self):
        return [c for c in self.calls if c[0] == "POST"]


class TestCmlRuntime(HttpModuleTestCase):
    module_main = staticmethod(cml_runtime.main)

    def test_registers_a_missing_runtime_once(self):
        fake = FakeCatalog(runtimes=[{"image_identifier": IMAGE.rsplit(":", 1)[0] + ":older"}])
        result = self.run_module(fake, dict(BASE, docker_credential_id="3", _ansible_diff=True))
        self.assertTrue(result["changed"])
        self.assertEqual(result["runtime"]["edition"], "Nvidia GPU")
        self.assertEqual(fake.posts()[0][3], {"url": IMAGE, "docker_credential_id": "3"})
        self.assertEqual(result["diff"], {"before": {"runtime": None}, "after": {"runtime": IMAGE}})
        fake.calls = []
        result = self.run_module(fake, BASE)
        self.assertFalse(result["changed"])
        self.assertEqual(fake.posts(), [])

    def test_follows_pages_to_find_the_exact_image(self):
        older = {"image_identifier": IMAGE.rsplit(":", 1)[0] + ":older"}
        fake = FakeCatalog(runtimes=[older, older, {"image_identifier": IMAGE}], page_size=1)
        result = self.run_module(fake, BASE)
        self.assertFalse(result["changed"])
        self.assertEqual([c[2].get("page_token") for c in fake.calls], [None, ["1"], ["2"]])
        self.assertEqual(fake.calls[0][2]["search_filter"], [json.dumps({"image_identifier": IMAGE})])

    def test_check_mode_lists_only(self):
        fake = FakeCatalog()
        result = self.run_module(fake, dict(BASE, _ansible_check_mode=True))
        self.assertTrue(result["changed"])
        self.assertEqual(fake.posts(), [])

    def test_a_200_that_did_not_validate_fails_with_cmls_reason(self):
        result = self.run_module(FakeCatalog(valid=False), BASE, AnsibleFailJson)
        self.assertIn("CML did not validate the runtime %s: missing required label "
                      "(com.cloudera.ml.runtime.edition)" % IMAGE, result["msg"])

    def test_wrong_key_fails_with_the_api_message(self):
        result = self.run_module(FakeCatalog(), dict(BASE, api_key="WRONG"), AnsibleFailJson)
        self.assertEqual(result["status"], 401)
        self.assertIn("CML rejected the API v2 key (401)", result["msg"])
        self.assertIn("invalid key", result["msg"])

    def test_bad_input_fails_before_any_request(self):
        for args, message in [
                (dict(BASE, image="dlstack/cml-runtime-gpu"), "is not a full reference"),
                (dict(BASE, api_url="ml.example.com"), "api_url (the workspace's address) 'ml.example.com' is not an http(s) URL"),
                (dict(BASE, api_key=""), "api_key is empty"),
                (dict(BASE, timeout=0), "timeout must be a positive")]:
            fake = FakeCatalog()
            result = self.run_module(fake, args, AnsibleFailJson)
            self.assertIn(message, result["msg"])
            self.assertEqual(fake.calls, [])

    def test_a_page_token_seen_twice_stops_the_listing(self):
        calls = []

        def same_token(module, url, data=None, headers=None, method=None, **kwargs):
            calls.append(url)
            return FakeCatalog._ok({"runtimes": [], "next_page_token": "same"})
        result = self.run_module(same_token, BASE, AnsibleFailJson)
        self.assertIn("page token 'same' twice", result["msg"])
        self.assertEqual(len(calls), 2)

    def test_a_failed_listing_after_the_registration_still_reports_the_change(self):
        fake = FakeCatalog()
        answers = iter([None, None, (None, {"status": 503, "msg": "HTTP Error 503", "body": b"{}"})])

        def flaky(module, url, data=None, headers=None, method=None, **kwargs):
            failure = next(answers)
            return failure if failure else fake(module, url, data, headers, method)
        with patch.object(basic.AnsibleModule, "warn") as warn:
            result = self.run_module(flaky, BASE)
        self.assertTrue(result["changed"] and result["registered"])
        self.assertEqual(result["runtime"]["edition"], "Nvidia GPU")
        self.assertIn("listing it again failed", warn.call_args[0][0])
