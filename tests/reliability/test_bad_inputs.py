"""Bad input: every case fails with a clear message, and the node is left exactly as it was.

Each case runs for real (not in check mode) against the same fresh container; the
node's file tree and package database digests are compared before and after.
Module cases run as ad-hoc commands, role cases as playbooks with the bad variables
given as extra vars.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import BIN, ROOT, ansible_env, ansible_playbook

MODULE_CASES = [
    ("compat-garbage-version", "dlstack.cdh.dl_stack_compat", {"cuda_version": "banana"},
     "cuda_version 'banana' is not a version (expected dotted numbers such as 11.8)"),
    ("compat-cuda-too-new-for-driver", "dlstack.cdh.dl_stack_compat", {"driver_version": "470.57.02", "cuda_version": "12.4"},
     "CUDA 12.4 needs driver >= 550.54.14"),
    ("compat-cudnn-major-mismatch", "dlstack.cdh.dl_stack_compat", {"cuda_version": "10.2", "cudnn_version": "9.0.0"},
     "cuDNN 9.0.0"),
    ("libraries-bad-regex", "dlstack.cdh.shared_library_info", {"patterns": ["libcud(nn"]},
     "patterns[0] 'libcud(nn' is not a valid regular expression"),
    ("gpu-info-unknown-method", "dlstack.cdh.nvidia_gpu_info", {"method": "cuda"},
     "value of method must be one of: auto, nvml, nvidia_smi, got: cuda"),
    ("compliance-bad-mode", "dlstack.cdh.node_compliance", {"files": [{"path": "/etc/x.conf", "mode": "rw-r--r--"}]},
     "files: mode 'rw-r--r--' of /etc/x.conf is not an octal permission such as '0644'"),
    ("compliance-relative-path", "dlstack.cdh.node_compliance", {"files": [{"path": "etc/x.conf"}]},
     "files: 'etc/x.conf' is not an absolute path"),
]

# (id, role, extra vars, message). More cases for the GPU roles and Caffe, in check mode
# against localhost, are in tests/unit/roles/.
SHA = "a" * 64
ROLE_CASES = [
    ("driver-unknown-method", "dlstack.cdh.nvidia_driver", {"nvidia_driver_method": "magic"},
     "nvidia_driver_method"),
    ("driver-runfile-without-sha256", "dlstack.cdh.nvidia_driver",
     {"nvidia_driver_method": "runfile", "nvidia_driver_version": "535.183.01",
      "nvidia_driver_runfile_src": "https://example.invalid/NVIDIA.run"},
     "(a string): expected the runfile's sha256, 64 hex digits"),
    ("cuda-newer-than-driver", "dlstack.cdh.cuda",
     {"cuda_method": "nvidia_repo", "cuda_versions": ["12.4"], "cuda_driver_version": "470.57.02"},
     "refusing CUDA 12.4 with driver 470.57.02: CUDA 12.4 needs driver >= 550"),
    ("cudnn-tarball-without-sha256", "dlstack.cdh.cudnn", {"cudnn_cuda_version": "11.8", "cudnn_source": "tarball"},
     "(a string): expected the tarball's sha256, 64 hex digits"),
    ("cudnn-major-mismatch", "dlstack.cdh.cudnn",
     {"cudnn_cuda_version": "10.2", "cudnn_version": "9.10.2.21", "cudnn_source": "tarball",
      "cudnn_tarball_src": "/srv/cudnn.tar.xz", "cudnn_tarball_sha256": SHA},
     "(a string): expected a cuDNN release that supports CUDA 10.2"),
    ("conda-installer-without-sha256", "dlstack.cdh.anaconda_env",
     {"anaconda_env_manager": "conda", "anaconda_env_installer_url": "https://example.invalid/Miniforge3.sh",
      "anaconda_env_installer_version": "24.9.1"},
     "(a string): expected the installer's sha256, 64 hex digits"),
    ("venv-with-conda-packages", "dlstack.cdh.anaconda_env",
     {"anaconda_env_manager": "venv",
      "anaconda_env_environments": [{"name": "tf", "python": "3.11", "conda_packages": ["cudatoolkit=11.8"]}]},
     "expected no conda_packages with anaconda_env_manager=venv"),
    ("caffe-unknown-blas", "dlstack.cdh.caffe_build", {"caffe_build_blas": "goto"}, "caffe_build_blas"),
    ("caffe-archive-without-sha256", "dlstack.cdh.caffe_build",
     {"caffe_build_source": "archive", "caffe_build_archive": "/srv/caffe-1.0.tar.gz"},
     "(a string): expected the archive's sha256, 64 hex digits, required with caffe_build_source=archive"),
    ("spark-jar-without-sha256", "dlstack.cdh.spark_dl_libs",
     {"spark_dl_libs_libraries": [{"name": "bigdl-dllib.jar", "url": "https://example.invalid/bigdl-dllib.jar"}]},
     "missing required arguments: sha256 found in spark_dl_libs_libraries"),
    ("tf-hadoop-archive-without-sha256", "dlstack.cdh.tensorflow_hadoop",
     {"tensorflow_hadoop_source_type": "archive", "tensorflow_hadoop_archive_url": "https://example.invalid/ecosystem.tar.gz"},
     "(a string): expected the archive's sha256, 64 hex digits (tensorflow_hadoop_source_type=archive)"),
    ("cdsw-without-registry", "dlstack.cdh.cdsw_engine", {"cdsw_engine_registry": ""},
     "(a string): expected the registry as host[:port]"),
    ("cluster-profile-unknown", "dlstack.cdh.tensorflow_hadoop", {"dlstack_cluster_profile": "cdh-9"},
     "dlstack_cluster_profile: there is no profile 'cdh-9'; the profiles are apache, cdh-5.16, cdh-6.3,"),
    ("spark24-with-python311", "dlstack.cdh.anaconda_env", {"anaconda_env_manager": "venv", "dlstack_cluster_profile": "cdp-7.1.9"},
     "Python 3.11 is 3.8 or newer"),
    ("pyspark-of-another-spark", "dlstack.cdh.anaconda_env",
     {"anaconda_env_manager": "venv", "anaconda_env_cluster_spark_version": "3.4"},
     "pyspark 3.5.7 does not match the cluster's Spark 3.4"),
    ("tf-hadoop-env-prefix-relative", "dlstack.cdh.tensorflow_hadoop", {"tensorflow_hadoop_executor_env_prefix": "envs/tf"},
     "expected the absolute prefix of the env to pack for the executors"),
    ("tf-hadoop-pyspark-jars-for-another-spark-submit", "dlstack.cdh.tensorflow_hadoop",
     {"tensorflow_hadoop_spark_libs": "pyspark", "tensorflow_hadoop_pyspark_python": "/opt/env/bin/python",
      "tensorflow_hadoop_spark_submit_command": "spark3-submit"},
     "expected the spark-submit beside tensorflow_hadoop_pyspark_python with tensorflow_hadoop_spark_libs=pyspark"),
]


@pytest.fixture(scope="module")
def shared_node(request):
    from conftest import IMAGE, Node
    name = "dlstack-rel-badinput"
    subprocess.run(["podman", "rm", "-f", "-t", "0", name], capture_output=True, check=False)
    subprocess.run(["podman", "run", "-d", "--name", name, "--network", "host", IMAGE, "/bin/sleep", "infinity"],
                   check=True, capture_output=True)
    request.addfinalizer(lambda: subprocess.run(["podman", "rm", "-f", "-t", "0", name], capture_output=True, check=False))
    return Node(name)


@pytest.fixture(scope="module")
def inventory(shared_node, tmp_path_factory):
    path = shared_node.inventory(tmp_path_factory.mktemp("inv"))
    warm = ansible_playbook("-i", path, ROOT / "tests" / "reliability" / "playbooks" / "ping.yml")
    assert warm.returncode == 0, warm.stdout[-2000:]
    return path


def test_table_is_large_enough():
    assert len(MODULE_CASES) + len(ROLE_CASES) >= 15


@pytest.mark.parametrize("module,args,message", [c[1:] for c in MODULE_CASES], ids=[c[0] for c in MODULE_CASES])
def test_module_rejects_bad_input(shared_node, inventory, module, args, message):
    before = shared_node.digest()
    run = subprocess.run([str(BIN / "ansible"), "all", "-i", str(inventory), "-m", module, "-a", json.dumps(args)],
                         cwd=str(ROOT), env=ansible_env(), capture_output=True, text=True, check=False)
    assert run.returncode != 0
    assert message in run.stdout, run.stdout[-3000:]
    assert shared_node.digest() == before


@pytest.mark.parametrize("role,extra_vars,message", [c[1:] for c in ROLE_CASES], ids=[c[0] for c in ROLE_CASES])
def test_role_rejects_bad_input_before_any_change(shared_node, inventory, role, extra_vars, message):
    before = shared_node.digest()
    run = ansible_playbook("-i", inventory, "-e", json.dumps(dict(extra_vars, bad_input_role=role)),
                           ROOT / "tests" / "reliability" / "playbooks" / "role.yml")
    assert run.returncode != 0
    assert message in run.stdout, run.stdout[-4000:]
    assert "changed=0" in run.stdout
    assert shared_node.digest() == before
