"""The CDSW test double against the requests its sources send, on a fresh instance of its own.

Each case replays a request as the public code that drives a real CDSW writes it (named per
test), and checks the answer has the shape that code reads; then the double must refuse what
CDSW refuses. It runs in-process on an ephemeral port, so the scenario's double (and its call
log, which the other verifier reads) is untouched.
"""

import base64
import importlib.util
import json
import os
import threading
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def cdsw(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("fake_cdsw", os.path.join(HERE, "..", "files", "fake_cdsw.py"))
    fake_cdsw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake_cdsw)
    log = tmp_path_factory.mktemp("fake-cdsw") / "calls.jsonl"
    state = fake_cdsw.State("admin", "s3cret", "alice", "risk-analysis", str(log))
    server = fake_cdsw.server("127.0.0.1", 0, state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


def call(base, method, path, body=None, token=None, headers=None):
    request = urllib.request.Request(base + path, method=method, headers=dict(headers or {}))
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def token(cdsw):
    # asdaraujo/edge2ai-workshop cdsw_setup.py: {"login", "password"} -> resp.json()['auth_token'].
    status, answer = call(cdsw, "POST", "/api/v1/authenticate", {"login": "admin", "password": "s3cret"})
    assert status == 200
    return answer["auth_token"]


def test_login_as_the_workshop_script_sends_it(cdsw):
    # The workshop script's cdsw_api_login adds "_local": false.
    status, answer = call(cdsw, "POST", "/api/v1/authenticate",
                          {"_local": False, "login": "admin", "password": "s3cret"})
    assert status == 200 and answer["auth_token"]


def test_wrong_login_and_missing_token_are_refused(cdsw):
    assert call(cdsw, "POST", "/api/v1/authenticate", {"login": "admin", "password": "nope"})[0] == 401
    assert call(cdsw, "GET", "/api/v1/engine-images")[0] == 401
    # The Jobs API's API-key Basic auth is not shown to work on administration endpoints.
    basic = "Basic " + base64.b64encode(b"uysgxtj7jzkps96njextnxxmq05usp0b:").decode()
    assert call(cdsw, "GET", "/api/v1/engine-images", headers={"Authorization": basic})[0] == 401


def test_engine_image_create_and_list_as_edge2ai_reads_them(cdsw, token):
    status, images = call(cdsw, "GET", "/api/v1/engine-images", token=token)
    assert status == 200 and isinstance(images, list)
    body = {"engineImage": {"description": "GPU engine", "repository": "registry.example.com/gpu", "tag": "1"}}
    status, created = call(cdsw, "POST", "/api/v1/engine-images", body, token=token)
    assert status == 200 and isinstance(created["id"], int)
    status, images = call(cdsw, "GET", "/api/v1/engine-images", token=token)
    matches = [i for i in images if i["repository"] == "registry.example.com/gpu" and i["tag"] == "1"]
    assert [i["id"] for i in matches] == [created["id"]]
    assert call(cdsw, "POST", "/api/v1/engine-images", {"engineImage": {"tag": "1"}}, token=token)[0] == 400


def test_project_engine_selection(cdsw, token):
    path = "/api/v1/projects/alice/risk-analysis/engine-images"
    status, current = call(cdsw, "GET", path, token=token)
    assert status == 200 and isinstance(current["id"], int)
    status, images = call(cdsw, "GET", "/api/v1/engine-images", token=token)
    newest = max(i["id"] for i in images)
    assert call(cdsw, "PATCH", path, {"engineImageId": newest}, token=token)[0] == 200
    assert call(cdsw, "GET", path, token=token)[1]["id"] == newest
    assert call(cdsw, "PATCH", path, {"engineImageId": 999}, token=token)[0] == 400


def test_site_config_patch_as_edge2ai_sends_it(cdsw, token):
    status, config = call(cdsw, "GET", "/api/v1/site/config", token=token)
    assert status == 200 and isinstance(config["max_gpu_per_engine"], int)
    # edge2ai reads "environment" as a JSON string, edits it and PATCHes json.dumps() back.
    environment = json.loads(config["environment"])
    environment["SITE_VAR"] = "1"
    status, config = call(cdsw, "PATCH", "/api/v1/site/config",
                          {"environment": json.dumps(environment), "allow_unauthenticated_access_to_app": True},
                          token=token)
    assert status == 200 and json.loads(config["environment"]) == {"SITE_VAR": "1"}
    assert call(cdsw, "PATCH", "/api/v1/site/config", {"max_gpu_per_engine": 2}, token=token)[1]["max_gpu_per_engine"] == 2
    assert call(cdsw, "PATCH", "/api/v1/site/config", {"max_gpu_per_engine": -1}, token=token)[0] == 400
    assert call(cdsw, "PATCH", "/api/v1/site/config", {"environment": {"A": "b"}}, token=token)[0] == 400


def test_project_environment_as_cmlbootstrap_merges_it(cdsw, token):
    path = "/api/v1/projects/alice/risk-analysis/environment"
    status, environment = call(cdsw, "GET", path, token=token)
    assert status == 200 and isinstance(environment, dict)
    environment["START_DATE"] = "2017-01-01"
    assert call(cdsw, "PUT", path, environment, token=token) == (204, None)
    assert call(cdsw, "GET", path, token=token)[1] == environment
    assert call(cdsw, "PUT", path, {"N": 1}, token=token)[0] == 400


def test_unknown_project_path_and_method(cdsw, token):
    assert call(cdsw, "GET", "/api/v1/projects/alice/nothing/environment", token=token)[0] == 404
    assert call(cdsw, "GET", "/api/v1/projects/nobody/risk-analysis/engine-images", token=token)[0] == 404
    assert call(cdsw, "GET", "/api/v1/site/mounts", token=token)[0] == 404
    assert call(cdsw, "DELETE", "/api/v1/engine-images", token=token)[0] == 405
