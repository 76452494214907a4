"""Verify the cdsw_engine role against the real registry and the CDSW API test double.

The registry is Debian's docker-registry (distribution 2.8) with htpasswd auth; the
image is pulled back from it and run. CDSW cannot run here, so the CDSW side is
checked through the request log of molecule/cdsw_engine/files/fake_cdsw.py.
"""

import base64
import hashlib
import json
import os
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


def test_cdsw_whitelisted_the_image_once(cdsw_calls, image_ref):
    repository, tag = image_ref.rsplit(":", 1)
    posts = [c for c in cdsw_calls if c["method"] == "POST"]
    assert len(posts) == 1, posts  # check mode and the idempotence run did not POST
    assert posts[0]["path"] == "/api/v1/engine-images"
    assert posts[0]["status"] == 201
    image = posts[0]["body"]["engineImage"]
    assert (image["repository"], image["tag"]) == (repository, tag)
    # check, converge and idempotence each listed the whitelist first
    assert len([c for c in cdsw_calls if c["method"] == "GET" and c["path"] == "/api/v1/engine-images"]) == 3


def test_cdsw_project_environment_set_once_and_merged(cdsw_calls, scenario):
    path = "/api/v1/projects/%s/%s/environment" % (scenario["fake_cdsw_owner"], scenario["fake_cdsw_project"])
    puts = [c for c in cdsw_calls if c["method"] == "PUT"]
    assert [p["path"] for p in puts] == [path]
    assert puts[0]["status"] == 204
    assert puts[0]["body"] == {
        "EXISTING_VAR": "kept",
        "LD_LIBRARY_PATH": "/usr/local/cuda/lib64:/usr/local/lib",
        "CUDA_HOME": "/usr/local/cuda",
    }


def test_cdsw_client_called_only_documented_endpoints(cdsw_calls):
    assert cdsw_calls
    assert all(c["status"] in (200, 201, 204) for c in cdsw_calls), cdsw_calls
