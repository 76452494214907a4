"""The CML API v2 test double against the specification's request and response shapes.

A fresh in-process instance on an ephemeral port (the scenario's double and its log are
untouched), with a small in-process registry answering the two HTTP API V2 reads the double
makes (manifest, configuration blob) for hand-made image configurations.
"""

import importlib.util
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "v2-key"
GOOD_LABELS = {"com.cloudera.ml.runtime.edition": "Nvidia GPU (custom)",
               "com.cloudera.ml.runtime.editor": "PBJ Workbench", "com.cloudera.ml.runtime.kernel": "Python 3.10",
               "com.cloudera.ml.runtime.short-version": "2024.02", "com.cloudera.ml.runtime.maintenance-version": "3",
               "com.cloudera.ml.runtime.description": "custom"}
IMAGES = {
    "good": {"config": {"Labels": GOOD_LABELS, "Env": ["ML_RUNTIME_EDITION=Nvidia GPU (custom)"]}},
    "no-edition": {"config": {"Labels": {k: v for k, v in GOOD_LABELS.items() if not k.endswith("edition")}}},
    "env-differs": {"config": {"Labels": GOOD_LABELS, "Env": ["ML_RUNTIME_EDITION=Standard"]}},
    # Cloudera's own GPU runtime's combination (the double lists it): editor, edition, kernel, 2024.02, 1.
    "duplicate": {"config": {"Labels": dict(GOOD_LABELS, **{
        "com.cloudera.ml.runtime.edition": "Nvidia GPU", "com.cloudera.ml.runtime.maintenance-version": "1"})}},
}


class Registry(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        parts = self.path.split("/")  # /v2/test/<image>/(manifests/latest|blobs/sha256:<image>)
        image = parts[3]
        if image not in IMAGES:
            self.send_response(404)
            self.end_headers()
            return
        if parts[4] == "manifests":
            body = {"schemaVersion": 2, "config": {"digest": "sha256:" + image}, "layers": []}
        else:
            body = IMAGES[image]
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def cml(tmp_path_factory):
    registry = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=registry.serve_forever, daemon=True).start()
    spec = importlib.util.spec_from_file_location("fake_cml", os.path.join(HERE, "..", "files", "fake_cml.py"))
    fake_cml = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake_cml)
    state = fake_cml.State(KEY, "http", str(tmp_path_factory.mktemp("fake-cml") / "calls.jsonl"))
    server = fake_cml.server("127.0.0.1", 0, state)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1], "127.0.0.1:%d/test" % registry.server_address[1]
    server.shutdown()
    registry.shutdown()


def call(base, method, query=None, body=None, key=KEY):
    url = base + "/api/v2/runtimes" + ("?" + urllib.parse.urlencode(query) if query else "")
    request = urllib.request.Request(url, method=method, headers={"Authorization": "Bearer " + key})
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_list_pages_with_next_page_token(cml):
    base, dummy = cml
    status, first = call(base, "GET", {"page_size": 1})
    assert status == 200 and len(first["runtimes"]) == 1 and first["next_page_token"]
    status, second = call(base, "GET", {"page_size": 1, "page_token": first["next_page_token"]})
    assert second["runtimes"] != first["runtimes"]
    fields = {"image_identifier", "editor", "kernel", "edition", "description", "full_version", "status",
              "register_user_id"}
    assert set(first["runtimes"][0]) == fields
    status, found = call(base, "GET", {"search_filter": json.dumps({"edition": "Standard"})})
    assert [r["edition"] for r in found["runtimes"]] == ["Standard"] and found["next_page_token"] == ""


def test_register_then_list(cml):
    base, registry = cml
    status, answer = call(base, "POST", body={"url": registry + "/good:latest", "docker_credential_id": ""})
    assert status == 200 and answer["validation_success"] and answer["insert_success"]
    assert answer["details"]["maintenance_version"] == 3 and answer["details"]["version"] == "2024.02"
    status, found = call(base, "GET", {"search_filter": json.dumps({"image_identifier": registry + "/good:latest"})})
    assert [r["edition"] for r in found["runtimes"]] == ["Nvidia GPU (custom)"]


@pytest.mark.parametrize("image, reason", [
    ("no-edition", "missing required label com.cloudera.ml.runtime.edition"),
    ("env-differs", "label com.cloudera.ml.runtime.edition (Nvidia GPU (custom)) and variable ML_RUNTIME_EDITION"),
    ("duplicate", "a runtime with the same editor, edition, kernel, version and maintenance version exists"),
    ("missing", "cannot read the image"),
])
def test_register_refusals_are_200_with_a_reason(cml, image, reason):
    base, registry = cml
    status, answer = call(base, "POST", body={"url": registry + "/%s:latest" % image})
    assert status == 200 and not answer["insert_success"]
    assert reason in answer["reason"]


def test_errors_have_the_grpc_gateway_shape(cml):
    base, dummy = cml
    status, answer = call(base, "GET", key="wrong")
    assert status == 401 and set(answer) == {"error", "code", "message", "details"}
    assert call(base, "POST", body={"image": "x"})[0] == 400
    assert call(base, "GET", {"search_filter": json.dumps({"nope": 1})})[0] == 400
