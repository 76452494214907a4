"""site.yml against fresh nodes of every group: bad input stops it in its first play, check mode changes nothing.

Three fresh containers stand for a GPU worker, a Spark gateway and a CDSW host. The
gateway has what a real one has before this collection runs: a JRE, the real Hadoop client
(Apache Hadoop's jars from Maven Central, through scripts/hadoop-cluster.sh client) and a
Spark client configuration directory. Its default filesystem is the local one: these tests
prove the node's own state, and no NameNode is needed to read it. The CDSW host runs a real
registry (Debian's docker-registry) for the role's registry probe. The worker is a debootstrap
image without apt package lists, as many fresh images are.

1. The bad-input table: each case is a real run (not check mode) of site.yml with one bad
   setting; it must fail in the first play ("Site | Validate every host's input") with exactly
   one problem line, naming the variable, the value and what is accepted, and changed=0 on
   every host. The nodes' digests are the same after the whole table.
2. Purity on every play: site.yml --check --diff with the example inventory's settings runs
   every play on the three fresh nodes and leaves their digests unchanged. Check mode fetches
   apt's package lists on a node that has none (roles/_common/tasks/package_lists.yml), which
   is why the digest leaves /var/lib/apt/lists out; the test asserts that it happened.
"""

from __future__ import annotations

import concurrent.futures
import difflib
import json
import os
import re
import shutil
import subprocess
import uuid

import pytest

from conftest import CONNECTION, IMAGE, ROOT, Node, ansible_playbook

EXAMPLE_VARS = ROOT / "playbooks" / "inventory" / "example" / "group_vars"
FIRST_PLAY = "PLAY [Site | Validate every host's input, before any change]"
SHA = "a" * 64
PARALLEL_RUNS = 3

# Settings the fresh nodes need beyond the example inventory: the gateway has a local
# tensorflow/ecosystem tree (no network to clone from); the CDSW host pushes to a
# real registry (Debian's docker-registry, run on the node) and does not register (no CDSW here).
GATEWAY_VARS = {
    "tensorflow_hadoop_source_type": "local",
    "tensorflow_hadoop_src_dir": "/opt/dlstack/src/tensorflow-ecosystem",
}
# The tree's hadoop/pom.xml, shaped as the released one (org.tensorflow:tensorflow-hadoop): these
# runs stop in the first play or run in check mode, where the role only reads the tree.
ECOSYSTEM_POM = """\
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.tensorflow</groupId>
  <artifactId>tensorflow-hadoop</artifactId>
  <version>1.15.0</version>
  <properties><hadoop.version>2.6.0</hadoop.version></properties>
  <dependencies>
    <dependency><groupId>org.tensorflow</groupId><artifactId>proto</artifactId><version>1.15.0</version></dependency>
  </dependencies>
</project>
"""
REGISTRY = "127.0.0.1:35071"
CDSW_VARS = {"cdsw_engine_registry": REGISTRY, "cdsw_engine_registry_scheme": "http", "cdsw_engine_cdsw_register": False}

# (id, extra vars, host that fails, the one problem line it must give)
CASES = [
    ("driver-unknown-method", {"nvidia_driver_method": "magic"}, "worker",
     'nvidia_driver: nvidia_driver_method = "magic" (a string): expected one of distro, nvidia_repo, runfile'),
    ("driver-branch-not-a-number", {"nvidia_driver_branch": "abc"}, "worker",
     'nvidia_driver: nvidia_driver_branch = "abc" (a string): expected a driver branch number such as 535'),
    ("driver-version-of-another-branch", {"nvidia_driver_version": "530.30.02"}, "worker",
     'nvidia_driver: nvidia_driver_version = "530.30.02" (a string): expected a version of nvidia_driver_branch 535'),
    ("driver-version-malformed", {"nvidia_driver_version": "535.x"}, "worker",
     'nvidia_driver: nvidia_driver_version = "535.x" (a string): expected empty or dotted numbers such as 535.183.01'),
    ("driver-reboot-not-a-boolean", {"nvidia_driver_reboot": "maybe"}, "worker",
     'nvidia_driver: nvidia_driver_reboot = "maybe" (a string): expected true or false'),
    ("driver-module-options-a-list", {"nvidia_driver_module_options": ["NVreg_PreserveVideoMemoryAllocations=1"]}, "worker",
     "nvidia_driver: nvidia_driver_module_options = [\"NVreg_PreserveVideoMemoryAllocations=1\"] (a list): expected a mapping"),
    ("driver-runfile-without-sha256",
     {"nvidia_driver_method": "runfile", "nvidia_driver_version": "535.183.01",
      "nvidia_driver_runfile_src": "https://example.invalid/NVIDIA-Linux-x86_64-535.183.01.run"}, "worker",
     'nvidia_driver: nvidia_driver_runfile_sha256 = "" (a string): expected the runfile\'s sha256, 64 hex digits'),
    ("cuda-unknown-method", {"cuda_method": "magic"}, "worker",
     'cuda: cuda_method = "magic" (a string): expected one of distro, nvidia_repo, runfile'),
    ("cuda-versions-a-number", {"cuda_versions": 11.8}, "worker",
     "cuda: cuda_versions = 11.8 (a number): expected a list of strings"),
    ("cuda-versions-a-string", {"cuda_versions": "11.8"}, "worker",
     'cuda: cuda_versions = "11.8" (a string): expected a list of strings'),
    ("cuda-version-a-number-in-the-list", {"cuda_versions": [11.8]}, "worker",
     "cuda: cuda_versions[0] = 11.8 (a number): expected a string"),
    ("cuda-version-malformed", {"cuda_versions": ["eleven"]}, "worker",
     'cuda: cuda_versions = ["eleven"] (a list): expected major.minor versions such as 11.8 (these are not)'),
    ("cuda-distro-two-versions", {"cuda_versions": ["11.8", "12.4"]}, "worker",
     'cuda: cuda_versions = ["11.8", "12.4"] (a list): expected exactly one version with cuda_method=distro'),
    ("cuda-default-not-listed", {"cuda_default_version": "12.1"}, "worker",
     'cuda: cuda_default_version = "12.1" (a string): expected one of cuda_versions 11.8'),
    ("cudnn-unknown-source", {"cudnn_source": "zip"}, "worker",
     'cudnn: cudnn_source = "zip" (a string): expected one of tarball, repo, wheel'),
    ("cudnn-version-malformed", {"cudnn_version": "9"}, "worker",
     'cudnn: cudnn_version = "9" (a string): expected three or four dotted numbers such as 8.9.7.29'),
    ("cudnn-tarball-without-sha256", {"cudnn_source": "tarball", "cudnn_tarball_src": "/srv/cudnn.tar.xz"}, "worker",
     'cudnn: cudnn_tarball_sha256 = "" (a string): expected the tarball\'s sha256, 64 hex digits'),
    ("cudnn-wheel-for-another-cuda", {"cudnn_wheel_package": "nvidia-cudnn-cu12"}, "worker",
     'cudnn: cudnn_wheel_package = "nvidia-cudnn-cu12" (a string): expected nvidia-cudnn-cu11'),
    ("cudnn-release-without-that-cuda",
     {"cudnn_version": "9.10.2.21", "cudnn_source": "tarball", "cudnn_tarball_src": "/srv/cudnn.tar.xz",
      "cudnn_tarball_sha256": SHA, "cudnn_cuda_version": "10.2"}, "worker",
     'cudnn: cudnn_version = "9.10.2.21" (a string): expected a cuDNN release that supports CUDA 10.2'),
    ("env-unknown-manager", {"anaconda_env_manager": "pip"}, "worker",
     'anaconda_env: anaconda_env_manager = "pip" (a string): expected one of conda, venv'),
    ("env-tensorflow-version-not-a-pin", {"anaconda_env_tensorflow_version": "latest!!"}, "worker",
     'anaconda_env: anaconda_env_tensorflow_version = "latest!!" (a string): expected dotted numbers such as 2.16.2'),
    ("env-python-version-a-float", {"anaconda_env_python_version": 3.10}, "worker",
     'anaconda_env: anaconda_env_python_version = 3.1 (a number): expected a string'),
    ("env-prefix-not-its-own", {"anaconda_env_prefix": "/usr"}, "worker",
     'anaconda_env: anaconda_env_prefix = "/usr" (a string): expected an absolute directory of its own'),
    ("env-prefix-relative", {"anaconda_env_prefix": "anaconda"}, "worker",
     'anaconda_env: anaconda_env_prefix = "anaconda" (a string): expected an absolute path'),
    ("env-environments-a-string", {"anaconda_env_environments": "tensorflow"}, "worker",
     'anaconda_env: anaconda_env_environments = "tensorflow" (a string): expected a list of mappings'),
    ("env-name-with-a-space", {"anaconda_env_environments": [{"name": "my env", "python": "3.11", "pip_packages": []}]},
     "worker", "expected environment names of letters, digits, '_', '.' and '-'"),
    ("env-bad-requirement",
     {"anaconda_env_environments": [{"name": "tf", "python": "3.11", "pip_packages": ["tensorflow==latest"]}]},
     "worker", 'anaconda_env: anaconda_env_environments = ["tensorflow==latest"] (a list): expected pip requirements'),
    ("env-venv-with-conda-packages",
     {"anaconda_env_environments": [{"name": "tf", "python": "3.11", "conda_packages": ["cudatoolkit=11.8"]}]},
     "worker", "expected no conda_packages with anaconda_env_manager=venv"),
    ("env-conda-installer-without-sha256",
     {"anaconda_env_manager": "conda", "anaconda_env_installer_url": "https://example.invalid/Miniforge3.sh",
      "anaconda_env_installer_version": "24.9.1"}, "worker",
     'anaconda_env: anaconda_env_installer_sha256 = "" (a string): expected the installer\'s sha256, 64 hex digits'),
    ("caffe-unknown-blas", {"dlstack_site_caffe": True, "caffe_build_blas": "goto"}, "worker",
     'caffe_build: caffe_build_blas = "goto" (a string): expected one of atlas, mkl, open'),
    ("caffe-archive-without-sha256",
     {"dlstack_site_caffe": True, "caffe_build_source": "archive", "caffe_build_archive": "/srv/caffe-1.0.tar.gz"},
     "worker", 'caffe_build: caffe_build_archive_sha256 = "" (a string): expected the archive\'s sha256, 64 hex digits'),
    ("caffe-arch-not-a-capability", {"dlstack_site_caffe": True, "caffe_build_cuda_arch": ["sm_61"]}, "worker",
     'caffe_build: caffe_build_cuda_arch = ["sm_61"] (a list): expected compute capabilities'),
    ("planned-cuda-too-new-for-driver",
     {"cuda_method": "nvidia_repo", "cuda_versions": ["12.4"], "nvidia_driver_method": "nvidia_repo",
      "nvidia_driver_branch": "470", "nvidia_driver_version": "470.57.02"}, "worker",
     "CUDA 12.4 needs driver >= 550"),
    ("hadoop-archive-without-sha256",
     {"tensorflow_hadoop_source_type": "archive", "tensorflow_hadoop_archive_url": "https://example.invalid/ecosystem.tar.gz"},
     "gateway", 'tensorflow_hadoop: tensorflow_hadoop_archive_sha256 = "" (a string): expected the archive\'s sha256'),
    ("hadoop-unknown-checksum-policy", {"tensorflow_hadoop_maven_checksum_policy": "strict"}, "gateway",
     'tensorflow_hadoop: tensorflow_hadoop_maven_checksum_policy = "strict" (a string): expected one of warn, fail, ignore'),
    ("hadoop-timeout-not-a-number", {"tensorflow_hadoop_build_timeout": "soon"}, "gateway",
     'tensorflow_hadoop: tensorflow_hadoop_build_timeout = "soon" (a string): expected a whole number'),
    ("spark-jar-without-sha256",
     {"spark_dl_libs_libraries": [{"name": "bigdl-dllib.jar", "url": "https://example.invalid/bigdl-dllib.jar"}]},
     "gateway", "spark_dl_libs: spark_dl_libs_libraries[0].sha256 is required"),
    ("spark-jar-name-with-a-directory",
     {"spark_dl_libs_libraries": [{"name": "lib/bigdl.jar", "url": "https://example.invalid/bigdl.jar", "sha256": SHA}]},
     "gateway", 'spark_dl_libs: spark_dl_libs_libraries = ["lib/bigdl.jar"] (a list): expected jar file names without a directory'),
    ("spark-jar-ftp-url",
     {"spark_dl_libs_libraries": [{"name": "bigdl.jar", "url": "ftp://example.invalid/bigdl.jar", "sha256": SHA}]},
     "gateway", 'spark_dl_libs: spark_dl_libs_libraries = ["ftp://example.invalid/bigdl.jar"] (a list): expected http(s):// or file:// URLs'),
    ("spark-relative-hdfs-dir", {"spark_dl_libs_hdfs_jar_dir": "jars"}, "gateway",
     'spark_dl_libs: spark_dl_libs_hdfs_jar_dir = "jars" (a string): expected an absolute HDFS path'),
    ("cdsw-without-registry", {"cdsw_engine_registry": ""}, "cdsw",
     'cdsw_engine: cdsw_engine_registry = "" (a string): expected the registry as host[:port]'),
    ("cdsw-upper-case-image-name", {"cdsw_engine_image_name": "Dlstack/Engine"}, "cdsw",
     'cdsw_engine: cdsw_engine_image_name = "Dlstack/Engine" (a string): expected a lower-case repository path'),
    ("cdsw-unknown-builder", {"cdsw_engine_builder": "buildah"}, "cdsw",
     'cdsw_engine: cdsw_engine_builder = "buildah" (a string): expected one of podman, docker'),
    ("cml-base-without-registry", {"cdsw_engine_platform": "cml", "cdsw_engine_base_image": "ubuntu:20.04",
                                   "cdsw_engine_cml_register": False}, "cdsw",
     'cdsw_engine: cdsw_engine_base_image = "ubuntu:20.04" (a string): expected a CML runtime base as'
     ' <registry>/<name>[:<tag>]'),
]

GATEWAY_PREPARE = """
set -e
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends default-jre-headless >/dev/null
mkdir -p /etc/spark/conf /opt/dlstack/src
"""
CDSW_PREPARE = """
set -e
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >/dev/null
# The package's own configuration asks for htpasswd credentials; this registry takes anonymous pushes.
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/docker-registry\nhttp:\n  addr: %s\n' \
  "$REGISTRY" > /etc/docker/registry/anonymous.yml
"""
LOCAL_CORE_SITE = """<?xml version="1.0"?>
<configuration>
  <property><name>fs.defaultFS</name><value>file:///</value></property>
</configuration>
"""


def _run(*argv):
    return subprocess.run(list(argv), check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def site_nodes(request):
    tag = uuid.uuid4().hex[:8]
    nodes = {role: Node("dlstack-rel-%s-%s" % (role, tag)) for role in ("worker", "gateway", "cdsw")}

    def remove():
        for node in nodes.values():
            subprocess.run(["podman", "rm", "-f", "-t", "0", node.name], capture_output=True, check=False)
    request.addfinalizer(remove)
    for node in nodes.values():
        _run("podman", "run", "-d", "--name", node.name, "--network", "host", IMAGE, "/bin/sleep", "infinity")
    nodes["cdsw"].sh("REGISTRY=%s\n%s" % (REGISTRY, CDSW_PREPARE))
    _run("podman", "exec", "-d", nodes["cdsw"].name, "docker-registry", "serve", "/etc/docker/registry/anonymous.yml")
    gateway = nodes["gateway"].name
    nodes["gateway"].sh(GATEWAY_PREPARE)
    _run("bash", str(ROOT / "scripts" / "hadoop-cluster.sh"), "client", "site-checks", gateway)
    nodes["gateway"].sh("cat > /etc/hadoop/conf/core-site.xml <<'EOF'\n%sEOF" % LOCAL_CORE_SITE)
    nodes["gateway"].sh("mkdir -p /opt/dlstack/src/tensorflow-ecosystem/hadoop\n"
                        "cat > /opt/dlstack/src/tensorflow-ecosystem/hadoop/pom.xml <<'EOF'\n%sEOF" % ECOSYSTEM_POM)
    return nodes


@pytest.fixture(scope="module")
def site_inventory(site_nodes, tmp_path_factory):
    """The example inventory's group_vars with the three nodes as hosts; returns the hosts file."""
    directory = tmp_path_factory.mktemp("site-inventory")
    shutil.copytree(EXAMPLE_VARS, directory / "group_vars")
    with open(directory / "group_vars" / "gateways.yml", "a") as handle:
        handle.write("\n" + "".join("%s: %s\n" % (k, json.dumps(v)) for k, v in GATEWAY_VARS.items()))
    (directory / "group_vars" / "cdsw_hosts.yml").write_text(
        "---\n" + "".join("%s: %s\n" % (k, json.dumps(v)) for k, v in CDSW_VARS.items()))
    host = "{0} ansible_host={1} %s dlstack_site_become=false\n" % CONNECTION
    (directory / "hosts.ini").write_text(
        "[gpu_workers]\n" + host.format("worker", site_nodes["worker"].name)
        + "[gateways]\n" + host.format("gateway", site_nodes["gateway"].name)
        + "[cdsw_hosts]\n" + host.format("cdsw", site_nodes["cdsw"].name))
    warm = ansible_playbook("-i", directory / "hosts.ini", ROOT / "tests" / "reliability" / "playbooks" / "ping.yml")
    assert warm.returncode == 0, warm.stdout[-2000:]
    return directory / "hosts.ini"


@pytest.fixture(scope="module")
def digests_before(site_nodes, site_inventory):
    return {role: (node.digest(), node.file_list()) for role, node in site_nodes.items()}


def problems_of(stdout, host):
    """The problem lines of host's failed task (the validate_input result)."""
    match = re.search(r"^fatal: \[%s\]: FAILED! => (\{.*\})$" % re.escape(host), stdout, re.MULTILINE)
    return json.loads(match.group(1)).get("problems", [match.group(1)]) if match else []


@pytest.fixture(scope="module")
def table_runs(site_inventory, digests_before):
    def run(case):
        return ansible_playbook("-i", site_inventory, "-e", json.dumps(case[1]), ROOT / "playbooks" / "site.yml")
    # DLSTACK_SITE_CASES (a regular expression of case ids) runs part of the table while working on it.
    chosen = [case for case in CASES if re.search(os.environ.get("DLSTACK_SITE_CASES", ""), case[0])]
    with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        return dict(zip([case[0] for case in chosen], pool.map(run, chosen)))


def test_table_covers_every_role_and_the_plan():
    assert len(CASES) >= 30 and len({case[0] for case in CASES}) == len(CASES)
    prefixes = {case[3].split(":")[0] for case in CASES if ": " in case[3]}
    assert {"nvidia_driver", "cuda", "cudnn", "anaconda_env", "caffe_build", "tensorflow_hadoop", "spark_dl_libs",
            "cdsw_engine"} <= prefixes


@pytest.mark.parametrize("case_id,host,line", [(c[0], c[2], c[3]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_stops_site_in_its_first_play(table_runs, case_id, host, line):
    if case_id not in table_runs:
        pytest.skip("not chosen by DLSTACK_SITE_CASES")
    run = table_runs[case_id]
    output = run.stdout
    assert run.returncode != 0, output[-3000:]
    problems = problems_of(output, host)
    assert len(problems) == 1, "expected one problem line on %s, got %s\n%s" % (host, problems, output[-3000:])
    assert line in problems[0], problems[0]
    # Nothing after the first play ran, and no host changed.
    assert output.count("PLAY [") == 1 and FIRST_PLAY in output, output[-3000:]
    recap = output[output.index("PLAY RECAP"):]
    assert len(re.findall(r"changed=0\s", recap)) == 3 and not re.search(r"changed=[1-9]", recap), recap
    assert "Traceback" not in output + run.stderr


def assert_nodes_unchanged(site_nodes, digests_before, by_what):
    for role, node in site_nodes.items():
        before, files = digests_before[role]
        if node.digest() != before:
            changed = "\n".join(difflib.unified_diff(files, node.file_list(), lineterm="", n=0))
            raise AssertionError("%s changed the %s node:\n%s" % (by_what, role, changed[:5000]))


def test_bad_inputs_left_every_node_unchanged(site_nodes, table_runs, digests_before):
    assert_nodes_unchanged(site_nodes, digests_before, "the bad-input runs")


def test_site_check_mode_on_fresh_nodes_changes_nothing(site_nodes, site_inventory, digests_before, table_runs):
    run = ansible_playbook("-i", site_inventory, "--check", "--diff", ROOT / "playbooks" / "site.yml")
    output = run.stdout
    assert run.returncode == 0, output[-6000:] + run.stderr[-2000:]
    for play in ("Site | GPU workers", "Site | Spark gateways", "Site | CDSW hosts"):
        assert "PLAY [%s]" % play in output
    # The worker had no package lists: check mode fetched them, then planned the driver install.
    assert re.search(r"Fetch them, in check mode too, as the node has none\] \*+\nchanged: \[worker\]", output), \
        output[-4000:]
    assert site_nodes["worker"].sh("ls /var/lib/apt/lists | grep -c _Packages").stdout.strip() != "0"
    assert_nodes_unchanged(site_nodes, digests_before, "check mode")
