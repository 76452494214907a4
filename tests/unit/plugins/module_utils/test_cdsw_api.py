# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request building and error handling of module_utils.cdsw_api.

CDSW cannot run here, so ``fetch_url`` is patched with a stand-in that returns what
ansible.module_utils.urls.fetch_url returns: ``(response, info)``, where on HTTP
errors the body is already in ``info["body"]`` and on connection errors/timeouts
``info["status"]`` is -1.
"""

from __future__ import annotations

import base64
import io
import json
import unittest
from unittest.mock import MagicMock, patch

from ansible_collections.dlstack.cdh.plugins.module_utils import cdsw_api
from ansible_collections.dlstack.cdh.plugins.module_utils.cdsw_api import (
    CdswApiError,
    CdswClient,
    basic_auth_header,
    project_environment_path,
    validate_api_url,
)


def ok(status, payload):
    body = b"" if payload is None else json.dumps(payload).encode()
    return io.BytesIO(body), {"status": status, "msg": "OK"}


def http_error(status, payload):
    return MagicMock(), {"status": status, "msg": "HTTP Error %d" % status,
                         "body": json.dumps(payload).encode()}


class TestHelpers(unittest.TestCase):
    def test_basic_auth_is_api_key_with_empty_password(self):
        header = basic_auth_header("uysgxtj7jzkps96njextnxxmq05usp0b")
        # The example from Cloudera's CDSW Jobs API documentation.
        self.assertEqual(header, "Basic dXlzZ3h0ajdqemtwczk2bmpleHRueHhtcTA1dXNwMGI6")
        self.assertEqual(base64.b64decode(header.split()[1]), b"uysgxtj7jzkps96njextnxxmq05usp0b:")

    def test_api_url_validation(self):
        self.assertEqual(validate_api_url("https://cdsw.example.com/"), "https://cdsw.example.com")
        for bad in ("", "  ", "cdsw.example.com", "ftp://cdsw.example.com", "https://", "https://h/?x=1"):
            with self.assertRaises(ValueError, msg=bad):
                validate_api_url(bad)

    def test_environment_path_quotes_owner_and_project(self):
        self.assertEqual(project_environment_path("team a", "deep/learn"),
                         "/api/v1/projects/team%20a/deep%2Flearn/environment")


class TestClient(unittest.TestCase):
    def setUp(self):
        self.module = MagicMock()
        self.client = CdswClient(self.module, "https://cdsw.example.com/", "KEY", timeout=7)
        patcher = patch.object(cdsw_api, "fetch_url")
        self.fetch_url = patcher.start()
        self.addCleanup(patcher.stop)

    def test_empty_api_key_is_refused(self):
        with self.assertRaises(ValueError) as ctx:
            CdswClient(self.module, "https://cdsw.example.com", "")
        self.assertIn("api_key is empty", str(ctx.exception))

    def test_post_builds_url_headers_and_json_body(self):
        self.fetch_url.return_value = ok(201, {"id": 3, "repository": "r", "tag": "t"})
        status, data = self.client.request("POST", "/api/v1/engine-images",
                                           {"engineImage": {"repository": "r", "tag": "t"}}, ok=(201,))
        self.assertEqual((status, data["id"]), (201, 3))
        args, kwargs = self.fetch_url.call_args
        self.assertEqual(args[1], "https://cdsw.example.com/api/v1/engine-images")
        self.assertEqual(kwargs["method"], "POST")
        self.assertEqual(kwargs["timeout"], 7)
        self.assertEqual(json.loads(kwargs["data"]), {"engineImage": {"repository": "r", "tag": "t"}})
        self.assertEqual(kwargs["headers"]["Authorization"], "Basic S0VZOg==")
        self.assertEqual(kwargs["headers"]["Content-Type"], "application/json")

    def test_get_sends_no_body_and_204_decodes_to_none(self):
        self.fetch_url.return_value = ok(204, None)
        self.assertEqual(self.client.request("PUT", "/x", {}, ok=(204,)), (204, None))
        self.fetch_url.return_value = ok(200, [])
        self.client.request("GET", "/api/v1/engine-images")
        kwargs = self.fetch_url.call_args[1]
        self.assertIsNone(kwargs["data"])
        self.assertNotIn("Content-Type", kwargs["headers"])

    def test_401_names_the_api_key(self):
        self.fetch_url.return_value = http_error(401, {"message": "Unauthorized"})
        with self.assertRaises(CdswApiError) as ctx:
            self.client.request("GET", "/api/v1/engine-images")
        self.assertEqual(ctx.exception.status, 401)
        self.assertIn("rejected the API key", ctx.exception.msg)
        self.assertIn("Unauthorized", ctx.exception.msg)

    def test_404_names_the_url(self):
        self.fetch_url.return_value = http_error(404, {"message": "project not found"})
        with self.assertRaises(CdswApiError) as ctx:
            self.client.request("GET", "/api/v1/projects/a/b/environment")
        self.assertEqual(ctx.exception.status, 404)
        self.assertIn("https://cdsw.example.com/api/v1/projects/a/b/environment", ctx.exception.msg)
        self.assertIn("project not found", ctx.exception.msg)

    def test_409_keeps_the_server_message_for_the_caller(self):
        self.fetch_url.return_value = http_error(409, {"message": "engine image already exists"})
        with self.assertRaises(CdswApiError) as ctx:
            self.client.request("POST", "/api/v1/engine-images", {}, ok=(201,))
        self.assertEqual((ctx.exception.status, ctx.exception.body), (409, "engine image already exists"))

    def test_timeout_and_refused_connection(self):
        self.fetch_url.return_value = (None, {"status": -1, "msg": "Connection failure: timed out"})
        with self.assertRaises(CdswApiError) as ctx:
            self.client.request("GET", "/api/v1/engine-images")
        self.assertEqual(ctx.exception.status, -1)
        self.assertIn("did not answer in time", ctx.exception.msg)
        self.fetch_url.return_value = (None, {"status": -1, "msg": "Request failed: <urlopen error [Errno 111] Connection refused>"})
        with self.assertRaises(CdswApiError) as ctx:
            self.client.request("GET", "/api/v1/engine-images")
        self.assertIn("Cannot reach CDSW", ctx.exception.msg)

    def test_non_json_success_body_is_an_error(self):
        self.fetch_url.return_value = (io.BytesIO(b"<html>login</html>"), {"status": 200, "msg": "OK"})
        with self.assertRaises(CdswApiError) as ctx:
            self.client.request("GET", "/api/v1/engine-images")
        self.assertIn("not JSON", ctx.exception.msg)
