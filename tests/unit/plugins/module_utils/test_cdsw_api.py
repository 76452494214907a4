# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request building and error handling of module_utils.cdsw_api.

CDSW cannot run here, so ``fetch_url`` is patched with a stand-in that returns what
ansible.module_utils.urls.fetch_url returns: ``(response, info)``, where on HTTP
errors the body is already in ``info["body"]`` and on connection errors/timeouts
``info["status"]`` is -1.
"""

from __future__ import annotations

import io
import json
import unittest
from unittest.mock import MagicMock, patch

from ansible_collections.dlstack.cdh.plugins.module_utils import http_api
from ansible_collections.dlstack.cdh.plugins.module_utils.cdsw_api import (
    CdswApiError,
    CdswClient,
    project_path,
    validate_api_url,
)
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import InvalidInput


def ok(status, payload):
    body = b"" if payload is None else json.dumps(payload).encode()
    return io.BytesIO(body), {"status": status, "msg": "OK"}


def http_error(status, payload):
    return MagicMock(), {"status": status, "msg": "HTTP Error %d" % status,
                         "body": json.dumps(payload).encode()}


class TestHelpers(unittest.TestCase):
    def test_api_url_validation(self):
        self.assertEqual(validate_api_url("https://cdsw.example.com/"), "https://cdsw.example.com")
        for bad in ("", "  ", "cdsw.example.com", "ftp://cdsw.example.com", "https://", "https://h/?x=1"):
            with self.assertRaises(InvalidInput, msg=bad):
                validate_api_url(bad)

    def test_project_path_quotes_owner_and_project(self):
        self.assertEqual(project_path("team a", "deep/learn", "environment"),
                         "/api/v1/projects/team%20a/deep%2Flearn/environment")


class TestClient(unittest.TestCase):
    def setUp(self):
        self.module = MagicMock()
        self.client = CdswClient(self.module, "https://cdsw.example.com/", "admin", "pw", timeout=7)
        patcher = patch.object(http_api, "fetch_url")
        self.fetch_url = patcher.start()
        self.addCleanup(patcher.stop)

    def answers(self, *responses):
        self.fetch_url.side_effect = list(responses)

    def test_missing_login_is_refused_before_any_request(self):
        for user, password in (("", "pw"), ("admin", "")):
            with self.assertRaises(InvalidInput) as ctx:
                CdswClient(self.module, "https://cdsw.example.com", user, password)
            self.assertIn("/api/v1/authenticate", ctx.exception.msg)
        self.fetch_url.assert_not_called()

    def test_logs_in_once_and_sends_the_session_token(self):
        self.answers(ok(200, {"auth_token": "T0K"}), ok(200, {"id": 3, "repository": "r", "tag": "t"}),
                     ok(200, []))
        status, data = self.client.request("POST", "/api/v1/engine-images",
                                           {"engineImage": {"repository": "r", "tag": "t"}})
        self.client.request("GET", "/api/v1/engine-images")
        self.assertEqual((status, data["id"]), (200, 3))
        login, post, get = self.fetch_url.call_args_list
        self.assertEqual(login[0][1], "https://cdsw.example.com/api/v1/authenticate")
        self.assertEqual(json.loads(login[1]["data"]), {"login": "admin", "password": "pw"})
        self.assertNotIn("Authorization", login[1]["headers"])
        self.assertEqual(post[0][1], "https://cdsw.example.com/api/v1/engine-images")
        self.assertEqual(post[1]["method"], "POST")
        self.assertEqual(post[1]["timeout"], 7)
        self.assertEqual(post[1]["headers"]["Authorization"], "Bearer T0K")
        self.assertEqual(post[1]["headers"]["Content-Type"], "application/json")
        self.assertIsNone(get[1]["data"])
        self.assertNotIn("Content-Type", get[1]["headers"])
        self.assertEqual(get[1]["headers"]["Authorization"], "Bearer T0K")

    def test_wrong_login_names_the_user(self):
        self.answers(http_error(401, {"message": "Invalid login or password"}))
        with self.assertRaises(CdswApiError) as ctx:
            self.client.request("GET", "/api/v1/engine-images")
        self.assertEqual(ctx.exception.status, 401)
        self.assertIn("CDSW refused the login of admin", ctx.exception.msg)
        self.assertIn("Invalid login or password", ctx.exception.msg)

    def test_login_answer_without_token_is_an_error(self):
        self.answers(ok(200, {"user": {}}))
        with self.assertRaises(CdswApiError) as ctx:
            self.client.request("GET", "/api/v1/engine-images")
        self.assertIn("without an auth_token", ctx.exception.msg)

    def test_204_decodes_to_none_and_404_names_the_url(self):
        self.answers(ok(200, {"auth_token": "T"}), ok(204, None),
                     http_error(404, {"message": "project not found"}))
        self.assertEqual(self.client.request("PUT", "/x", {}, ok=(204,)), (204, None))
        with self.assertRaises(CdswApiError) as ctx:
            self.client.request("GET", "/api/v1/projects/a/b/environment")
        self.assertEqual(ctx.exception.status, 404)
        self.assertIn("https://cdsw.example.com/api/v1/projects/a/b/environment", ctx.exception.msg)
        self.assertIn("project not found", ctx.exception.msg)

    def test_403_says_a_site_administrator_is_needed(self):
        self.answers(ok(200, {"auth_token": "T"}), http_error(403, {"message": "Forbidden"}))
        with self.assertRaises(CdswApiError) as ctx:
            self.client.request("PATCH", "/api/v1/site/config", {"max_gpu_per_engine": 1})
        self.assertIn("site administrator", ctx.exception.msg)

    def test_timeout_and_refused_connection(self):
        self.answers((None, {"status": -1, "msg": "Connection failure: timed out"}))
        with self.assertRaises(CdswApiError) as ctx:
            self.client.request("GET", "/api/v1/engine-images")
        self.assertEqual(ctx.exception.status, -1)
        self.assertIn("did not answer in time", ctx.exception.msg)
        self.answers((None, {"status": -1, "msg": "Request failed: <urlopen error [Errno 111] Connection refused>"}))
        with self.assertRaises(CdswApiError) as ctx:
            self.client.request("GET", "/api/v1/engine-images")
        self.assertIn("Cannot reach CDSW", ctx.exception.msg)

    def test_non_json_success_body_is_an_error(self):
        self.answers(ok(200, {"auth_token": "T"}), (io.BytesIO(b"<html>login</html>"), {"status": 200, "msg": "OK"}))
        with self.assertRaises(CdswApiError) as ctx:
            self.client.request("GET", "/api/v1/engine-images")
        self.assertIn("not JSON", ctx.exception.msg)
