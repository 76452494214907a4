"""Verify the tensorflow venv the anaconda_env role built: real imports, pins and facts.

Everything is read in two calls into the container (each testinfra call through the ansible
connection costs seconds): the facts file, and one run of the env's python that imports
TensorFlow, computes, imports the Spark packages and asks pip for its view.
"""

import json

import pytest

testinfra_hosts = ["ansible://python_env_venv"]

PREFIX = "/usr/anaconda/envs/tensorflow"
PYTHON = PREFIX + "/bin/python"

PROBE = r"""
import json, subprocess, sys
out = {"executable": sys.executable, "prefix": sys.prefix}
import tensorflow as tf
x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
out["tf_version"] = tf.__version__
out["matmul_sum"] = float(tf.reduce_sum(tf.linalg.matmul(x, x)))
import google.protobuf, pyspark, tensorflowonspark
from tensorflowonspark import TFCluster, TFNode
out["protobuf"] = google.protobuf.__version__
out["pyspark"] = pyspark.__version__
pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
out["pip_list"] = json.loads(subprocess.check_output(pip + ["list", "--format=json"]))
check = subprocess.run(pip + ["check"], capture_output=True, text=True)
out["pip_check"] = [check.returncode, check.stdout + check.stderr]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def facts(host):
    return json.loads(host.file("/root/dlstack-python-envs.json").content_string)


@pytest.fixture(scope="module")
def probe(host):
    result = host.run("%s -c %s", PYTHON, PROBE)
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_facts_point_at_the_env(facts, probe):
    assert facts["dlstack_anaconda_home"] == "/usr/anaconda"
    assert facts["dlstack_python_envs"] == {
        "tensorflow": {"prefix": PREFIX, "python": PYTHON, "manager": "venv"}}
    # The exported python is the env's own interpreter, isolated from the system one.
    assert probe["executable"] == PYTHON
    assert probe["prefix"] == PREFIX


def test_tensorflow_imports_and_computes(facts, probe):
    assert probe["tf_version"] == facts["versions"]["tensorflow"]
    # [[1,2],[3,4]]^2 = [[7,10],[15,22]] -> sum 54
    assert probe["matmul_sum"] == 54.0


def test_pinned_versions_installed(facts, probe):
    installed = {p["name"].lower().replace("_", "-"): p["version"] for p in probe["pip_list"]}
    wanted = facts["versions"]
    assert installed["tensorflow-cpu"] == wanted["tensorflow"]
    assert installed["protobuf"] == wanted["protobuf"]
    assert installed["tensorflow-io"] == wanted["tensorflow_io"]
    assert installed["tensorflowonspark"] == wanted["tensorflowonspark"]
    assert installed["pyspark"] == wanted["pyspark"]
    assert probe["protobuf"] == wanted["protobuf"]
    assert probe["pyspark"] == wanted["pyspark"]


def test_pip_agrees_the_env_is_consistent(probe):
    # pip's own check: no installed package with an unmet or conflicting requirement.
    rc, output = probe["pip_check"]
    assert rc == 0, output


def test_system_python_untouched_and_profile(host):
    result = host.run(
        "/usr/bin/python3 -c 'import tensorflow' 2>/dev/null; echo import=$?; "
        "stat -c %a /etc/profile.d/anaconda_env.sh; bash -lc 'echo home=$DLSTACK_ANACONDA_HOME'")
    assert result.stdout.split() == ["import=1", "644", "home=/usr/anaconda"], result.stdout
