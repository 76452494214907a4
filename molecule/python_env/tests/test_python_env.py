"""Verify the tensorflow venv the anaconda_env role built: real imports, pins and facts."""

import json

import pytest

testinfra_hosts = ["ansible://all"]

PREFIX = "/usr/anaconda/envs/tensorflow"
PYTHON = PREFIX + "/bin/python"


@pytest.fixture(scope="module")
def facts(host):
    return json.loads(host.file("/root/dlstack-python-envs.json").content_string)


@pytest.fixture(scope="module")
def pip_versions(host):
    out = host.check_output(PYTHON + " -m pip list --format=json --disable-pip-version-check")
    return {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(out)}


def test_facts_point_at_the_env(host, facts):
    assert facts["dlstack_anaconda_home"] == "/usr/anaconda"
    env = facts["dlstack_python_envs"]["tensorflow"]
    assert env == {"prefix": PREFIX, "python": PYTHON, "manager": "venv"}
    assert host.file(env["python"]).exists
    assert host.file(PREFIX + "/pyvenv.cfg").contains("version = 3.11")


def test_pinned_versions_installed(pip_versions, facts):
    wanted = facts["versions"]
    assert pip_versions["tensorflow-cpu"] == wanted["tensorflow"]
    assert pip_versions["protobuf"] == wanted["protobuf"]
    assert pip_versions["tensorflowonspark"] == wanted["tensorflowonspark"]
    assert pip_versions["pyspark"] == wanted["pyspark"]


def test_pip_agrees_the_env_is_consistent(host):
    # pip's own resolver check: no package with an unmet or conflicting requirement.
    result = host.run(PYTHON + " -m pip check --disable-pip-version-check")
    assert result.rc == 0, result.stdout + result.stderr


def test_tensorflow_imports_and_computes(host, facts):
    script = (
        "import tensorflow as tf; "
        "print(tf.__version__); "
        "x = tf.constant([[1.0, 2.0], [3.0, 4.0]]); "
        "print(float(tf.reduce_sum(tf.linalg.matmul(x, x))))"
    )
    result = host.run("%s -c %s", PYTHON, script)
    assert result.rc == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-2] == facts["versions"]["tensorflow"]
    # [[1,2],[3,4]]^2 = [[7,10],[15,22]] -> sum 54
    assert float(lines[-1]) == 54.0


def test_protobuf_and_spark_packages_import(host, facts):
    script = (
        "import google.protobuf, pyspark, tensorflowonspark; "
        "from tensorflowonspark import TFCluster; "
        "print(google.protobuf.__version__, pyspark.__version__)"
    )
    result = host.run("%s -c %s", PYTHON, script)
    assert result.rc == 0, result.stderr
    assert result.stdout.split() == [facts["versions"]["protobuf"], facts["versions"]["pyspark"]]


def test_system_python_untouched(host):
    # The env is isolated: the system interpreter does not see TensorFlow.
    assert host.run("/usr/bin/python3 -c 'import tensorflow'").rc != 0


def test_profile_script(host):
    profile = host.file("/etc/profile.d/anaconda_env.sh")
    assert profile.exists
    assert profile.mode == 0o644
    assert "DLSTACK_ANACONDA_HOME=/usr/anaconda" in profile.content_string
    assert host.run("bash -lc 'echo $DLSTACK_ANACONDA_HOME'").stdout.strip() == "/usr/anaconda"
