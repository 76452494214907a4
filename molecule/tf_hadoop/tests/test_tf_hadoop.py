"""Verify anaconda_env (venv) + tensorflow_hadoop against the container's real state.

HDFS is the Hadoop 3.3.4 FsShell over a viewfs:// mount of /srv/hdfs and tensorflow/ecosystem
is the small Maven project in files/ecosystem (see molecule.yml): both stand-ins run for real.
"""

import json
import re

import pytest

testinfra_hosts = ["ansible://all"]

ENV_PREFIX = "/usr/anaconda/envs/tensorflow"
BUILD_DIR = "/opt/dlstack/src/tensorflow-ecosystem/hadoop"
JAR = "tensorflow-hadoop-1.0-SNAPSHOT.jar"
HDFS_DIR = "/srv/hdfs/user/root/jars"
SCRIPTS = "/opt/dlstack/tensorflow_hadoop/bin"


@pytest.fixture(scope="module")
def hadoop_version(host):
    out = host.check_output("hadoop version")
    return re.match(r"Hadoop (\S+)", out).group(1)


@pytest.fixture(scope="module")
def smoke(host):
    # The container's hostname (dlstack-tf_hadoop) does not resolve and has an underscore,
    # which URIs reject: Spark binds to loopback by name instead.
    cmd = host.run(
        "cd /tmp && SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_HOSTNAME=localhost TFSPARK_MASTER='local[2]' "
        "%s/tfspark-submit /root/smoke_job.py jars 2>&1", SCRIPTS)
    assert cmd.rc == 0, cmd.stdout[-4000:]
    line = [ln for ln in cmd.stdout.splitlines() if ln.startswith("SMOKE ")]
    assert line, cmd.stdout[-4000:]
    return json.loads(line[-1][len("SMOKE "):])


def test_venv_env_has_pyspark_and_no_tfos(host):
    pip = host.run("%s/bin/python -m pip list --format=json", ENV_PREFIX)
    assert pip.rc == 0
    names = {p["name"].lower(): p["version"] for p in json.loads(pip.stdout)}
    assert names["pyspark"] == "3.5.7"
    # TensorFlowOnSpark must reach executors through tfspark.zip only.
    assert "tensorflowonspark" not in names
    assert host.file("%s/bin/spark-submit" % ENV_PREFIX).exists


def test_jar_built_with_the_cluster_hadoop_version(host, hadoop_version):
    jar = host.file("%s/target/%s" % (BUILD_DIR, JAR))
    assert jar.exists
    props = host.check_output("unzip -p %s dlstack-build.properties", jar.path)
    assert "hadoop.version=%s" % hadoop_version in props
    # protobuf.version was not set, so -Dprotobuf.version was not passed.
    assert "protobuf.version=0-unset" in props
    assert host.file("/root/.m2/repository/org/dlstack/test/tensorflow-hadoop/1.0-SNAPSHOT/%s" % JAR).exists


def test_stamp_matches_and_settings_mirror(host):
    stamp = host.file("%s/.dlstack-build-stamp" % BUILD_DIR)
    assert re.fullmatch(r"[0-9a-f]{64}\n?", stamp.content_string)
    settings = host.file("/opt/dlstack/tensorflow_hadoop/maven-settings.xml")
    assert settings.mode == 0o600
    assert "<url>file:///usr/share/maven-repo</url>" in settings.content_string
    assert "<offline>true</offline>" in settings.content_string


def test_jar_and_tfspark_zip_in_hdfs(host):
    listing = host.check_output("hdfs dfs -ls jars")
    assert "jars/%s" % JAR in listing
    assert "jars/tfspark.zip" in listing
    local = host.check_output("sha256sum %s/target/%s", BUILD_DIR, JAR).split()[0]
    stored = host.check_output("sha256sum %s/%s", HDFS_DIR, JAR).split()[0]
    assert local == stored
    assert host.check_output("hdfs dfs -ls -d jars/%s", JAR).startswith("-rw-r--r--")
    names = host.check_output("unzip -Z1 %s/tfspark.zip", HDFS_DIR).split()
    assert "tensorflowonspark/__init__.py" in names
    assert not [n for n in names if "dist-info" in n or "__pycache__" in n]


def test_profile_exports_expanded_classpath(host):
    profile = host.file("/etc/profile.d/tensorflow_hadoop.sh")
    assert profile.mode == 0o644
    out = host.check_output("bash -c '. /etc/profile.d/tensorflow_hadoop.sh && env'")
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert env["HADOOP_HDFS_PREFIX"] == "/opt/hadoop-standin"
    assert "*" not in env["CLASSPATH"]
    assert "/opt/hadoop-standin/jars/hadoop-client-api-3.3.4.jar" in env["CLASSPATH"].split(":")
    javac = host.check_output("readlink -f $(command -v javac)")
    assert javac == env["JAVA_HOME"] + "/bin/javac"


def test_spark_conf_managed_blocks(host):
    defaults = host.file("/etc/spark/conf/spark-defaults.conf").content_string
    assert defaults.count("BEGIN dlstack.cdh.tensorflow_hadoop MANAGED BLOCK") == 1
    assert re.search(r"^spark\.executorEnv\.CLASSPATH /etc/hadoop/conf:/opt/hadoop-standin/jars/\S+\.jar", defaults, re.M)
    assert "spark.executorEnv.HADOOP_HDFS_PREFIX /opt/hadoop-standin" in defaults
    env_sh = host.file("/etc/spark/conf/spark-env.sh").content_string
    assert "export HADOOP_HDFS_PREFIX=/opt/hadoop-standin" in env_sh


def test_wrappers_render_the_job_settings(host):
    for name in ("tfspark-submit", "mnist-data-setup", "mnist-train", "mnist-inference"):
        script = host.file("%s/%s" % (SCRIPTS, name))
        assert script.mode == 0o755
        assert host.run("bash -n %s", script.path).rc == 0
    submit = host.file("%s/tfspark-submit" % SCRIPTS).content_string
    assert "export PYSPARK_PYTHON=%s/bin/python" % ENV_PREFIX in submit
    assert "--py-files viewfs://dlstack/user/root/jars/tfspark.zip" in submit
    assert "--conf spark.jars=viewfs://dlstack/user/root/jars/%s" % JAR in submit
    ld_path = re.search(r"^export LD_LIBRARY_PATH=(\S+?)\$", submit, re.M).group(1)
    assert ld_path.split(":")[0] == "/usr/local/cuda/lib64"
    libjvm_dir = host.check_output("dirname $(find /usr/lib/jvm -name libjvm.so -path '*server*' | head -1)")
    assert libjvm_dir in ld_path.split(":")
    train = host.file("%s/mnist-train" % SCRIPTS).content_string
    assert "/mnist/keras/mnist_spark.py" in train and "--cluster_size 2" in train


def test_smoke_job_reads_tfspark_zip_and_jar(smoke, hadoop_version):
    executor = smoke["executor"]
    assert executor["tfos_version"] == "2.2.5"
    # Imported from the zip shipped with --py-files, not from an installed package.
    assert "tfspark.zip" in executor["tfos_file"]
    assert executor["reservation_server"] is True
    assert executor["python"].startswith(ENV_PREFIX)
    # spark.executorEnv.* from spark-defaults.conf reached the executor's Python worker.
    assert executor["hdfs_prefix"] == "/opt/hadoop-standin"
    assert executor["classpath_entries"] > 100
    assert "/usr/local/cuda/lib64" in executor["ld_library_path"]
    assert smoke["listing"] == sorted([JAR, "tfspark.zip"])
    assert smoke["spark_jars"] == "viewfs://dlstack/user/root/jars/%s" % JAR
    (jar,) = smoke["jar"]
    assert "org/dlstack/tfhadoop/BuildInfo.class" in jar["classes"]
    assert "hadoop.version=%s" % hadoop_version in jar["properties"]
