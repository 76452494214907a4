"""Verify the state modules' findings against the container's real state."""

import json

import pytest

testinfra_hosts = ["ansible://all"]


@pytest.fixture(scope="module")
def state(host):
    return json.loads(host.file("/root/dlstack-state.json").content_string)


def test_nvidia_smi_cannot_reach_a_driver(host):
    # The real tool agrees with the module: userland installed, no kernel driver.
    result = host.run("nvidia-smi")
    assert result.rc != 0
    assert "couldn't communicate with the NVIDIA driver" in result.stdout + result.stderr


def test_gpu_state_is_driver_not_loaded(state):
    gpu = state["gpu"]
    assert gpu["status"] == "driver_not_loaded"
    assert gpu["source"] == "nvml"
    assert gpu["gpu_count"] == 0
    assert gpu["gpus"] == []
    assert gpu["nvidia_module_loaded"] is False


def test_libnvidia_ml_found_where_the_linker_finds_it(host, state):
    found = state["libraries"]["libraries"]["libnvidia-ml"]
    assert any(entry["name"] == "libnvidia-ml.so.1" for entry in found)
    # Every path the module reports is one `ldconfig -p` lists too.
    listed = host.run("ldconfig -p").stdout
    for entry in found:
        assert entry["path"] in listed
        assert host.file(entry["path"]).exists


def test_libnvidia_ml_version_matches_the_package(host, state):
    package_version = host.run("dpkg-query -W -f='${Version}' libnvidia-ml1").stdout
    versions = {entry.get("version") for entry in state["libraries"]["libraries"]["libnvidia-ml"]}
    # libnvidia-ml.so.535.x is the real file behind the .so.1 soname.
    real_paths = {entry.get("real_path") or "" for entry in state["libraries"]["libraries"]["libnvidia-ml"]}
    upstream = package_version.split("-")[0]
    assert any(upstream in path for path in real_paths), (real_paths, package_version)
    assert versions


def test_libc_found(state):
    assert any(entry["name"] == "libc.so.6" for entry in state["libraries"]["libraries"]["libc"])
    assert "libc" not in state["libraries"]["missing"]


def test_compliance_reports_the_unheld_package_only(state):
    # libnvidia-ml1 is installed but not held in this container: the one drift.
    compliance = state["compliance"]
    failed = [c["name"] for c in compliance["failed_checks"]]
    assert failed == ["package libnvidia-ml1 held"]
    assert compliance["compliant"] is False
    assert compliance["summary"]["total"] == len(compliance["checks"]) > 8
    assert compliance["state"]["package_manager"] == "dpkg"
    assert compliance["state"]["gpu"]["status"] == "driver_not_loaded"
