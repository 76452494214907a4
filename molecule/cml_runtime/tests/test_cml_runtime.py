"""Verify the cdsw_engine role's CML platform against the real registry and the CML API v2 double.

The runtime image is pulled back from Debian's docker-registry and run; CML cannot run here,
so the Runtime Catalog side is checked through the request log and the listing of
molecule/cml_runtime/files/fake_cml.py, which read the pushed image's labels itself.
"""

import json
import urllib.parse
import urllib.request

import pytest

testinfra_hosts = ["ansible://all"]


@pytest.fixture(scope="module")
def scenario(host):
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def image_ref(host, scenario):
    return host.file(scenario["scenario_dir"] + "/image-ref").content_string.strip()


@pytest.fixture(scope="module")
def image_config(host, image_ref):
    host.run_expect([0], "podman rmi --force %s" % image_ref)
    host.run_expect([0], "podman pull --quiet --tls-verify=false %s" % image_ref)
    return json.loads(host.check_output("podman image inspect %s" % image_ref))[0]["Config"]


def test_runtime_sets_its_metadata_and_keeps_the_bases(image_config, scenario):
    labels = image_config["Labels"]
    prefix = "com.cloudera.ml.runtime."
    base = scenario["cml_base_labels"]
    # Set by the role (the defaults): an edition of its own, version, maintenance version.
    assert labels[prefix + "edition"] == "Nvidia GPU (dlstack)"
    assert labels[prefix + "short-version"] == "2024.02"
    assert labels[prefix + "maintenance-version"] == "1"
    assert labels[prefix + "full-version"] == "2024.02.1"
    assert labels["maintainer"] == "dlstack.cdh"
    # Inherited from the base, never overridden: editor, kernel, CUDA and metadata version.
    for key in ("editor", "kernel", "cuda-version", "runtime-metadata-version"):
        assert labels[prefix + key] == base[key], key
    env = dict(item.split("=", 1) for item in image_config["Env"])
    for key in ("edition", "short-version", "maintenance-version", "full-version", "description"):
        assert env["ML_RUNTIME_" + key.upper().replace("-", "_")] == labels[prefix + key], key
    assert env["ML_RUNTIME_KERNEL"] == base["kernel"]
    assert env["LD_LIBRARY_PATH"] == "/usr/local/cuda/lib64:/usr/local/lib"


def test_runtime_has_the_gpu_libraries(host, image_ref, image_config):
    listing = host.check_output("podman run --rm --network none %s ldconfig -p" % image_ref)
    assert "libcudart.so.11.0 (libc6,x86-64) => /usr/local/cuda/lib64/libcudart.so.11.0" in listing
    assert "libcaffe.so.1.0.0 (libc6,x86-64) => /usr/local/lib/libcaffe.so.1.0.0" in listing


@pytest.fixture(scope="module")
def cml_calls(host, scenario):
    log = host.file(scenario["scenario_dir"] + "/log/cml-calls.jsonl").content_string
    return [json.loads(line) for line in log.splitlines()]


def test_runtime_registered_once_after_the_checks(cml_calls, image_ref):
    posts = [c for c in cml_calls if c["method"] == "POST"]
    assert len(posts) == 1, posts  # check mode, the pre-build check and idempotence only listed
    assert posts[0]["body"] == {"url": image_ref} and posts[0]["status"] == 200
    # Every listing looked for exactly this image (the other bad-input cases stop before CML).
    lists = [c for c in cml_calls if c["method"] == "GET" and c["status"] == 200]
    assert lists and all(json.loads(c["query"]["search_filter"][0]) == {"image_identifier": image_ref}
                         for c in lists)
    # The wrong key (bad-input case) was refused with 401; nothing else was.
    assert {c["status"] for c in cml_calls} == {200, 401}


def test_catalog_lists_the_runtime_as_cml_parsed_its_labels(scenario, image_ref):
    query = urllib.parse.urlencode({"search_filter": json.dumps({"image_identifier": image_ref})})
    request = urllib.request.Request("http://127.0.0.1:%s/api/v2/runtimes?%s" % (scenario["fake_cml_port"], query),
                                     headers={"Authorization": "Bearer " + scenario["fake_cml_api_key"]})
    with urllib.request.urlopen(request, timeout=10) as response:
        runtimes = json.loads(response.read())["runtimes"]
    assert [r["image_identifier"] for r in runtimes] == [image_ref]
    runtime = runtimes[0]
    assert (runtime["edition"], runtime["kernel"], runtime["editor"], runtime["status"]) == (
        "Nvidia GPU (dlstack)", "Python 3.10", "PBJ Workbench", "ENABLED")
