# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dlstack.cdh.registry_image_info against a patched fetch_url.

``FakeRegistry`` answers as distribution's HTTP API V2 and Token Authentication
Specification describe (docs/spec/api.md, docs/spec/auth/token.md): a 401 with a
``WWW-Authenticate`` challenge, then Basic credentials or a Bearer token from the realm.
The real registry in both modes is exercised by the cdsw_engine scenario.
"""

from __future__ import annotations

import base64
import io
import json
from unittest.mock import patch
from urllib.parse import parse_qs, urlparse

from ansible_collections.dlstack.cdh.plugins.module_utils import registry_api
from ansible_collections.dlstack.cdh.plugins.modules import registry_image_info
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleFailJson,
    HttpModuleTestCase,
    ModuleTestCase,
)

REALM = "https://auth.example.com/token"
BASE = dict(registry="registry.example.com:5000", name="dlstack/cdsw-engine-gpu", tag="0123456789abcdef",
            username="dlstack", password="secret")
DIGEST = "sha256:" + "ab" * 32


def _basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


class FakeRegistry:
    def __init__(self, mode, tags=("0123456789abcdef",), allowed_prefix="dlstack/"):
        self.mode = mode
        self.tags = set(tags)
        self.allowed_prefix = allowed_prefix
        self.calls = []

    def __call__(self, module, url, data=None, headers=None, method=None, **kwargs):
        self.calls.append((method, url, dict(headers or {})))
        parsed = urlparse(url)
        if url.startswith(REALM):
            return self._token(parse_qs(parsed.query), headers)
        name, _sep, tag = parsed.path[len("/v2/"):].rpartition("/manifests/")
        auth = (headers or {}).get("Authorization", "")
        if self.mode == "basic" and auth != _basic("dlstack", "secret"):
            return self._unauthorized('Basic realm="registry"', "authentication required")
        if self.mode == "bearer":
            scope = "repository:%s:pull" % name
            granted = auth == "Bearer token-for-" + name and name.startswith(self.allowed_prefix)
            if not granted:
                challenge = 'Bearer realm="%s",service="registry.example.com",scope="%s"' % (REALM, scope)
                if auth.startswith("Bearer "):
                    challenge += ',error="insufficient_scope"'
                return self._unauthorized(challenge, "authentication required")
        if tag in self.tags:
            return io.BytesIO(b""), {"status": 200, "docker-content-digest": DIGEST,
                                     "content-type": "application/vnd.docker.distribution.manifest.v2+json"}
        return None, {"status": 404, "msg": "HTTP Error 404", "body": b""}

    def _token(self, query, headers):
        if (headers or {}).get("Authorization") != _basic("dlstack", "secret"):
            return None, {"status": 401, "msg": "HTTP Error 401",
                          "body": json.dumps({"details": "incorrect username or password"}).encode()}
        name = query["scope"][0].split(":")[1]
        token = "token-for-" + name
        return io.BytesIO(json.dumps({"token": token, "expires_in": 300}).encode()), {"status": 200}

    @staticmethod
    def _unauthorized(challenge, message):
        # HEAD answers carry no body; the reason is in the challenge.
        return None, {"status": 401, "msg": "HTTP Error 401", "www-authenticate": challenge, "body": b""}

    def urls(self):
        return [(m, u) for m, u, h in self.calls]


class TestRegistryImageInfo(HttpModuleTestCase):
    module_main = staticmethod(registry_image_info.main)

    def test_basic_registry_gets_credentials_after_its_challenge(self):
        fake = FakeRegistry("basic")
        result = self.run_module(fake, BASE)
        self.assertTrue(result["exists"])
        self.assertEqual(result["digest"], DIGEST)
        self.assertEqual(result["auth_scheme"], "basic")
        self.assertFalse(result["changed"])
        manifest = "https://registry.example.com:5000/v2/dlstack/cdsw-engine-gpu/manifests/0123456789abcdef"
        self.assertEqual(fake.urls(), [("HEAD", manifest), ("HEAD", manifest)])
        self.assertNotIn("Authorization", fake.calls[0][2])
        self.assertIn("application/vnd.oci.image.index.v1+json", fake.calls[0][2]["Accept"])

    def test_token_registry_gets_a_bearer_token_for_the_pull_scope(self):
        fake = FakeRegistry("bearer")
        result = self.run_module(fake, BASE)
        self.assertTrue(result["exists"])
        self.assertEqual(result["auth_scheme"], "bearer")
        method, token_url, headers = fake.calls[1]
        query = parse_qs(urlparse(token_url).query)
        self.assertEqual(method, "GET")
        self.assertEqual(query["service"], ["registry.example.com"])
        self.assertEqual(query["scope"], ["repository:dlstack/cdsw-engine-gpu:pull"])
        self.assertEqual(query["account"], ["dlstack"])
        self.assertEqual(headers["Authorization"], _basic("dlstack", "secret"))
        self.assertEqual(fake.calls[2][2]["Authorization"], "Bearer token-for-dlstack/cdsw-engine-gpu")

    def test_missing_tag_is_not_an_error(self):
        for mode in ("basic", "bearer"):
            result = self.run_module(FakeRegistry(mode, tags=()), BASE)
            self.assertFalse(result["exists"])
            self.assertEqual(result["digest"], "")

    def test_wrong_password_is_refused_with_the_registrys_reason(self):
        result = self.run_module(FakeRegistry("basic"), dict(BASE, password="wrong"), AnsibleFailJson)
        self.assertIn("rejected the credentials of user dlstack", result["msg"])
        self.assertEqual(result["status"], 401)
        result = self.run_module(FakeRegistry("bearer"), dict(BASE, password="wrong"), AnsibleFailJson)
        self.assertIn("token service %s refused user dlstack" % REALM, result["msg"])
        self.assertIn("incorrect username or password", result["msg"])

    def test_repository_the_token_does_not_grant_is_refused(self):
        fake = FakeRegistry("bearer", allowed_prefix="other/")
        result = self.run_module(fake, BASE, AnsibleFailJson)
        self.assertIn("does not grant repository:dlstack/cdsw-engine-gpu:pull", result["msg"])
        # The reason is the challenge's own error parameter.
        self.assertTrue(result["msg"].endswith(": insufficient_scope"), result["msg"])
        self.assertEqual(len(fake.calls), 3)  # one token request, no loop

    def test_credentials_are_not_sent_to_an_http_realm_of_an_https_registry(self):
        fake = FakeRegistry("bearer")
        with patch.object(registry_api, "parse_challenge", lambda header: (
                "bearer", {"realm": "http://auth.example.com/token", "service": "registry.example.com"})):
            result = self.run_module(fake, BASE, AnsibleFailJson)
        self.assertIn("not sent there in clear text", result["msg"])
        self.assertEqual(len(fake.calls), 1)

    def test_basic_registry_without_credentials_says_what_to_set(self):
        result = self.run_module(FakeRegistry("basic"), dict(BASE, username="", password=""), AnsibleFailJson)
        self.assertIn("wants credentials", result["msg"])

    def test_bad_input_fails_before_any_request(self):
        cases = [
            (dict(BASE, registry="https://registry.example.com"), "is not host[:port]"),
            (dict(BASE, name="DLStack/Engine"), "is not a registry repository path"),
            (dict(BASE, tag="a:b"), "is not a valid image tag"),
            (dict(BASE, password=""), "username and password together"),
            (dict(BASE, timeout=0), "timeout must be a positive"),
        ]
        for args, message in cases:
            fake = FakeRegistry("basic")
            result = self.run_module(fake, args, AnsibleFailJson)
            self.assertIn(message, result["msg"])
            self.assertEqual(fake.calls, [])


class TestChallengeParsing(ModuleTestCase):
    def test_parses_the_token_spec_example(self):
        scheme, params = registry_api.parse_challenge(
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:samalba/my-app:pull,push"')
        self.assertEqual(scheme, "bearer")
        self.assertEqual(params, {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                                  "scope": "repository:samalba/my-app:pull,push"})

    def test_registry_message_reads_the_errors_list(self):
        body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required",
                                       "detail": [{"Type": "repository"}]}]})
        self.assertEqual(registry_api.registry_message(body), "UNAUTHORIZED: authentication required")
        self.assertEqual(registry_api.registry_message(b"", {"error": "insufficient_scope"}), "insufficient_scope")


class FakeIndexRegistry:
    """An anonymous registry serving one multi-platform tag (OCI image index, image spec)."""

    LABELS = {"com.cloudera.ml.runtime.kernel": "Python 3.10", "com.cloudera.ml.runtime.edition": "Nvidia GPU"}

    def __init__(self):
        self.calls = []
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
            {"digest": "sha256:" + "a" * 64, "platform": {"architecture": "arm64", "os": "linux"}},
            {"digest": "sha256:" + "b" * 64, "platform": {"architecture": "amd64", "os": "linux"}}]}
        amd64 = {"schemaVersion": 2, "config": {"digest": "sha256:" + "c" * 64}, "layers": []}
        arm64 = {"schemaVersion": 2, "config": {"digest": "sha256:" + "d" * 64}, "layers": []}
        self.paths = {
            "/v2/cloudera/runtime/manifests/2023.08.2-b8": index,
            "/v2/cloudera/runtime/manifests/sha256:" + "a" * 64: arm64,
            "/v2/cloudera/runtime/manifests/sha256:" + "b" * 64: amd64,
            "/v2/cloudera/runtime/blobs/sha256:" + "c" * 64: {"architecture": "amd64",
                                                              "config": {"Labels": self.LABELS}},
            "/v2/cloudera/runtime/blobs/sha256:" + "d" * 64: {"config": {"Labels": {"wrong": "platform"}}},
        }

    def __call__(self, module, url, data=None, headers=None, method=None, **kwargs):
        path = urlparse(url).path
        self.calls.append((method, path))
        if path not in self.paths:
            return None, {"status": 404, "msg": "HTTP Error 404", "body": b""}
        return io.BytesIO(json.dumps(self.paths[path]).encode()), {"status": 200, "docker-content-digest": "x"}


class TestLabels(HttpModuleTestCase):
    module_main = staticmethod(registry_image_info.main)

    def test_labels_of_the_linux_amd64_image_of_an_index(self):
        fake = FakeIndexRegistry()
        result = self.run_module(fake, dict(registry="registry.example.com", name="cloudera/runtime",
                                            tag="2023.08.2-b8", labels=True))
        self.assertEqual(result["labels"], FakeIndexRegistry.LABELS)
        self.assertEqual(result["auth_scheme"], "none")
        self.assertEqual([p for m, p in fake.calls], [
            "/v2/cloudera/runtime/manifests/2023.08.2-b8", "/v2/cloudera/runtime/manifests/2023.08.2-b8",
            "/v2/cloudera/runtime/manifests/sha256:" + "b" * 64, "/v2/cloudera/runtime/blobs/sha256:" + "c" * 64])


class TestRedirects(HttpModuleTestCase):
    module_main = staticmethod(registry_image_info.main)

    def test_a_blob_redirect_is_followed_without_the_credentials(self):
        calls = []
        manifest = {"schemaVersion": 2, "config": {"digest": "sha256:" + "c" * 64}}

        def registry(module, url, data=None, headers=None, method=None, **kwargs):
            calls.append((method, url, dict(headers or {}), module.params.get("follow_redirects")))
            if url.startswith("https://blobs.example.com/"):
                return io.BytesIO(json.dumps({"config": {"Labels": {"a": "b"}}}).encode()), {"status": 200}
            if headers.get("Authorization") != _basic("dlstack", "secret"):
                return None, {"status": 401, "msg": "HTTP Error 401", "body": b"",
                              "www-authenticate": 'Basic realm="registry"'}
            if "/blobs/" in url:
                return None, {"status": 307, "msg": "Temporary Redirect", "body": b"",
                              "location": "https://blobs.example.com/c?signature=x"}
            return io.BytesIO(json.dumps(manifest).encode()), {"status": 200, "docker-content-digest": "d"}
        result = self.run_module(registry, dict(BASE, labels=True))
        self.assertEqual(result["labels"], {"a": "b"})
        blob_store = [c for c in calls if c[1].startswith("https://blobs.example.com/")]
        self.assertEqual(len(blob_store), 1)
        self.assertNotIn("Authorization", blob_store[0][2])
        # The registry's own answers were taken as they came (no redirect followed with the credentials).
        self.assertTrue(all(c[3] == "none" for c in calls if not c[1].startswith("https://blobs.example.com/")))
