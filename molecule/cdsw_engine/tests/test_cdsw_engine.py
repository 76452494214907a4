"""Verify the cdsw_engine role against the real registry and the CDSW API test double.

The registry is Debian's docker-registry (distribution 2.8), once with htpasswd auth and
once in token mode beside molecule/cdsw_engine/files/token_issuer.py; the image is pulled
back from the first and run. CDSW cannot run here, so the CDSW side is
checked through the request log of molecule/cdsw_engine/files/fake_cdsw.py.
"""

import base64
import hashlib
import json
import os
import re
import urllib.parse
import urllib.error
import urllib.request

import pytest

testinfra_hosts = ["ansible://all"]

MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
])


@pytest.fixture(scope="module")
def scenario(host):
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def image_ref(host, scenario):
    return host.file(scenario["scenario_dir"] + "/image-ref").content_string.strip()


def _registry_get(scenario, path, method="GET", auth=True):
    request = urllib.request.Request(
        "http://127.0.0.1:%s%s" % (scenario["registry_port"], path), method=method,
        headers={"Accept": MANIFEST_TYPES})
    if auth:
        token = base64.b64encode(("%s:%s" % (scenario["registry_user"], scenario["registry_password"])).encode())
        request.add_header("Authorization", "Basic " + token.decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def _token_registry_get(scenario, path):
    """A GET as the token spec describes it: challenge, token from the realm, Bearer retry."""
    url = "http://127.0.0.1:%s%s" % (scenario["token_registry_port"], path)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": MANIFEST_TYPES}), timeout=10)
    assert refused.value.code == 401
    challenge = refused.value.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer "), challenge
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    assert params["realm"] == "http://127.0.0.1:%s/token" % scenario["token_issuer_port"]
    assert params["service"] == scenario["token_service"]
    token_url = params["realm"] + "?" + urllib.parse.urlencode({"service": params["service"], "scope": params["scope"]})
    basic = base64.b64encode(("%s:%s" % (scenario["registry_user"], scenario["registry_password"])).encode())
    with urllib.request.urlopen(urllib.request.Request(
            token_url, headers={"Authorization": "Basic " + basic.decode()}), timeout=10) as response:
        token = json.loads(response.read())["token"]
    request = urllib.request.Request(url, headers={"Accept": MANIFEST_TYPES, "Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read()


def _context_hash(context):
    """The role's definition: sha256 of the sorted '<path> <sha256>' lines of the context."""
    lines = []
    for root, _dirs, files in os.walk(context):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            lines.append("%s %s" % (os.path.relpath(path, context), digest))
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def test_tag_is_the_content_hash_of_the_build_context(scenario, image_ref):
    repository, tag = image_ref.rsplit(":", 1)
    assert repository == "127.0.0.1:%s/dlstack/cdsw-engine-gpu" % scenario["registry_port"]
    assert len(tag) == 16
    assert _context_hash(scenario["scenario_dir"] + "/build/context").startswith(tag)


def test_registry_serves_the_manifest_for_the_tag(scenario, image_ref):
    tag = image_ref.rsplit(":", 1)[1]
    status, headers, body = _registry_get(scenario, "/v2/dlstack/cdsw-engine-gpu/manifests/" + tag)
    assert status == 200, body
    assert headers["Docker-Content-Digest"].startswith("sha256:")
    manifest = json.loads(body)
    assert manifest["schemaVersion"] == 2
    assert len(manifest["layers"]) >= 2  # base image + at least the role's COPY/RUN layers
    # Only the one content-hash tag was pushed, and the registry wants the credentials.
    status, _headers, body = _registry_get(scenario, "/v2/dlstack/cdsw-engine-gpu/tags/list")
    assert json.loads(body)["tags"] == [tag]
    assert _registry_get(scenario, "/v2/dlstack/cdsw-engine-gpu/tags/list", auth=False)[0] == 401


def test_token_mode_registry_serves_the_same_content_hash_tag(host, scenario, image_ref):
    token_ref = host.file(scenario["scenario_dir"] + "/image-ref-token").content_string.strip()
    repository, tag = token_ref.rsplit(":", 1)
    assert repository == "127.0.0.1:%s/dlstack/cdsw-engine-gpu" % scenario["token_registry_port"]
    assert tag == image_ref.rsplit(":", 1)[1]  # the tag is the content's, not the registry's
    status, headers, body = _token_registry_get(scenario, "/v2/dlstack/cdsw-engine-gpu/manifests/" + tag)
    assert status == 200 and headers["Docker-Content-Digest"].startswith("sha256:")
    assert json.loads(body)["schemaVersion"] == 2
    status, _headers, body = _token_registry_get(scenario, "/v2/dlstack/cdsw-engine-gpu/tags/list")
    assert json.loads(body)["tags"] == [tag]


@pytest.fixture(scope="module")
def token_requests(host, scenario):
    log = host.file(scenario["scenario_dir"] + "/log/token-requests.jsonl").content_string
    return [json.loads(line) for line in log.splitlines()]


def test_role_and_push_took_tokens_for_exactly_their_scopes(token_requests, scenario):
    name = "dlstack/cdsw-engine-gpu"
    granted = [(r["scope"], r["access"]) for r in token_requests
               if r["status"] == 200 and r.get("account") == scenario["registry_user"]]
    # The role's probe asks for pull; podman's push for pull and push.
    assert (["repository:%s:pull" % name], [{"type": "repository", "name": name, "actions": ["pull"]}]) in granted
    push_actions = [a["actions"] for scopes, access in granted for a in access
                    if a["name"] == name and "push" in a["actions"]]
    assert push_actions and all(set(actions) == {"pull", "push"} for actions in push_actions)
    # The refused repository (bad-input case) got a token granting nothing, and the role failed on it.
    refused = [access for scopes, access in granted if scopes == ["repository:other-team/engine:pull"]]
    assert refused and all(access == [{"type": "repository", "name": "other-team/engine", "actions": []}]
                           for access in refused)
    # The wrong password (bad-input case) was refused by the issuer itself.
    assert any(r["status"] == 401 for r in token_requests)


def test_dockerfile_uses_absolute_targets_and_straight_quotes(host, scenario):
    dockerfile = host.file(scenario["scenario_dir"] + "/build/context/Dockerfile").content_string
    assert "FROM %s\n" % scenario["engine_base_image"] in dockerfile
    copies = [line.split() for line in dockerfile.splitlines() if line.startswith("COPY ")]
    assert [c[1:] for c in copies] == [
        ["cuda/", "/usr/local/cuda/"], ["lib/", "/usr/local/lib/"], ["ld.so.conf.d/", "/etc/ld.so.conf.d/"]]
    assert "RUN ldconfig\n" in dockerfile
    assert 'ENV LD_LIBRARY_PATH="/usr/local/cuda/lib64:/usr/local/lib"' in dockerfile
    # PATH extends the base image's (expanded by the builder), never replaces it.
    assert 'ENV PATH="/usr/local/cuda/bin:${PATH}"' in dockerfile
    for curly in "\u2018\u2019\u201c\u201d":
        assert curly not in dockerfile


@pytest.fixture(scope="module")
def pulled_image(host, scenario, image_ref):
    """Drop the local copy and pull the image back from the registry."""
    host.run_expect([0], "podman rmi --force %s" % image_ref)
    host.run_expect([0], "podman pull --quiet --tls-verify=false --creds %s:%s %s" % (
        scenario["registry_user"], scenario["registry_password"], image_ref))
    return image_ref


def test_image_linker_cache_has_the_copied_libraries(host, pulled_image):
    listing = host.check_output("podman run --rm --network none %s ldconfig -p" % pulled_image)
    # ldconfig links each soname to the copied file; the cache lists the soname's path.
    for soname, directory, copied in [
            ("libcudart.so.11.0", "/usr/local/cuda/lib64", "libcudart.so.11.8.89"),
            ("libcudnn.so.8", "/usr/local/cuda/lib64", "libcudnn.so.8.9.7"),
            ("libcaffe.so.1.0.0", "/usr/local/lib", "libcaffe.so.1.0.0"),
            ("libboost_system.so.1.74.0", "/usr/local/lib", "libboost_system.so.1.74.0")]:
        assert "%s (libc6,x86-64) => %s/%s" % (soname, directory, soname) in listing, listing
        target = host.check_output("podman run --rm --network none %s readlink -f %s/%s" % (
            pulled_image, directory, soname))
        assert target == "%s/%s" % (directory, copied)
    conf = host.check_output("podman run --rm --network none %s cat /etc/ld.so.conf.d/cuda.conf "
                             "/etc/ld.so.conf.d/caffe.conf" % pulled_image)
    assert conf.split() == ["/usr/local/cuda/lib64", "/usr/local/lib"]


def test_image_environment(host, scenario, pulled_image):
    env = dict(line.split("=", 1) for line in host.check_output(
        "podman run --rm --network none %s env" % pulled_image).splitlines() if "=" in line)
    assert env["CUDA_HOME"] == "/usr/local/cuda"
    assert env["LD_LIBRARY_PATH"] == "/usr/local/cuda/lib64:/usr/local/lib"
    # The base image's own PATH (molecule.yml's engine_base_path), every entry in order, after CUDA's.
    assert scenario["engine_base_path"].startswith("/opt/engine/bin:")
    assert env["PATH"] == "/usr/local/cuda/bin:" + scenario["engine_base_path"]


@pytest.fixture(scope="module")
def cdsw_calls(host, scenario):
    log = host.file(scenario["scenario_dir"] + "/log/cdsw-calls.jsonl").content_string
    return [json.loads(line) for line in log.splitlines()]


def _writes(cdsw_calls):
    return [c for c in cdsw_calls if c["method"] in ("POST", "PUT", "PATCH") and c["path"] != "/api/v1/authenticate"]


def test_cdsw_whitelisted_the_image_once(cdsw_calls, image_ref):
    repository, tag = image_ref.rsplit(":", 1)
    posts = [c for c in _writes(cdsw_calls) if c["path"] == "/api/v1/engine-images"]
    assert len(posts) == 1, posts  # check mode, the pre-build check and the idempotence run did not POST
    assert posts[0]["method"] == "POST" and posts[0]["status"] == 200
    image = posts[0]["body"]["engineImage"]
    assert (image["repository"], image["tag"]) == (repository, tag)


def test_cdsw_calls_used_the_session_token_of_one_login(cdsw_calls, scenario):
    logins = [c for c in cdsw_calls if c["path"] == "/api/v1/authenticate"]
    assert logins and all(c["method"] == "POST" for c in logins)
    # The double logs the login name only, never the password.
    assert {c["body"]["login"] for c in logins} == {scenario["fake_cdsw_login"]}
    assert all(set(c["body"]) == {"login"} for c in logins)
    others = [c for c in cdsw_calls if c["path"] != "/api/v1/authenticate" and c["status"] != 401]
    assert others and all(c["authorization"] == "Bearer" for c in others)


def test_cdsw_site_allows_one_gpu_per_session(cdsw_calls):
    patches = [c for c in _writes(cdsw_calls) if c["path"] == "/api/v1/site/config"]
    assert [(p["method"], p["body"], p["status"]) for p in patches] == [("PATCH", {"max_gpu_per_engine": 1}, 200)]


def test_cdsw_project_uses_the_new_engine_image(cdsw_calls, scenario):
    path = "/api/v1/projects/%s/%s/engine-images" % (scenario["fake_cdsw_owner"], scenario["fake_cdsw_project"])
    created = [c for c in _writes(cdsw_calls) if c["path"] == "/api/v1/engine-images"][0]["answer"]
    patches = [c for c in _writes(cdsw_calls) if c["path"] == path]
    assert len(patches) == 1 and patches[0]["status"] == 200
    # The id CDSW gave the new image (the double's built-in engine is 1).
    assert created["id"] != 1 and patches[0]["body"] == {"engineImageId": created["id"]}
    assert patches[0]["answer"]["repository"] == created["repository"]


def test_cdsw_project_environment_set_once_and_merged(cdsw_calls, scenario):
    path = "/api/v1/projects/%s/%s/environment" % (scenario["fake_cdsw_owner"], scenario["fake_cdsw_project"])
    puts = [c for c in _writes(cdsw_calls) if c["method"] == "PUT"]
    assert [p["path"] for p in puts] == [path]
    assert puts[0]["status"] == 204
    assert puts[0]["body"] == {
        "EXISTING_VAR": "kept",
        "LD_LIBRARY_PATH": "/usr/local/cuda/lib64:/usr/local/lib",
        "CUDA_HOME": "/usr/local/cuda",
    }


def test_cdsw_refusals_came_only_from_the_bad_input_cases(cdsw_calls, scenario):
    refused = [(c["method"], c["path"], c["status"]) for c in cdsw_calls if c["status"] >= 400]
    bad_project = "/api/v1/projects/%s/no-such-project/engine-images" % scenario["fake_cdsw_owner"]
    # The wrong password and the missing project, in check, converge and idempotence; nothing else.
    assert sorted(set(refused)) == [("GET", bad_project, 404), ("POST", "/api/v1/authenticate", 401)]
    assert all(c["status"] in (200, 204) for c in cdsw_calls if c["status"] < 400)
