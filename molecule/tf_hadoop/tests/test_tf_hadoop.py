"""Verify anaconda_env (venv) + tensorflow_hadoop on a gateway of the real test cluster.

The cluster (scripts/hadoop-cluster.sh) runs Apache Hadoop 3.5.0's NameNode and ResourceManager on
hadoop-master, a DataNode and a NodeManager on hadoop-worker, HDFS permissions on, /user owned by
hdfs:supergroup. The connector is the released tensorflow/ecosystem hadoop/ module (prepare.yml).
"""

import json
import os
import re
import time

import pytest

testinfra_hosts = ["ansible://all"]

ENV_PREFIX = "/usr/anaconda/envs/tensorflow"
BUILD_DIR = "/opt/dlstack/src/tensorflow-ecosystem/hadoop"
JAR = "tensorflow-hadoop-1.15.0.jar"
HDFS_DIR = "/user/dlstack/jars"
URI_DIR = "hdfs:///user/dlstack/jars"
SCRIPTS = "/opt/dlstack/tensorflow_hadoop/bin"
NAMENODE = "hdfs://hadoop-master:8020"
RECORDS = 200
ENV_ARCHIVE = re.compile(r"tensorflow-[0-9a-f]{16}\.tar\.gz")
SPARK_LIBS = re.compile(r"spark-libs-[0-9a-f]{16}\.zip")
IDX = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
# prepare.yml's MNIST-format digits: 1500 training and 297 test images.
TRAIN_COUNT, TEST_COUNT = 1500, 297
# Test-set accuracy the 8-epoch, 2-node training must reach (about 0.9 when measured).
MIN_ACCURACY = 0.80


def hdfs(host, *args, user="dlstack"):
    return host.run("HADOOP_USER_NAME=%s hdfs dfs %s 2>&1" % (user, " ".join(args)))


@pytest.fixture(scope="module")
def tfrecord_job(host):
    """The job on YARN as the cluster's job user (not root), through the role's wrapper."""
    cmd = host.run("cd /home/dlstack && runuser -u dlstack -- %s/tfspark-submit "
                   "/home/dlstack/tfrecord_job.py %s/user/dlstack/tfrecord-test 2>&1", SCRIPTS, NAMENODE)
    assert cmd.rc == 0, cmd.stdout[-6000:]
    line = [ln for ln in cmd.stdout.splitlines() if ln.startswith("TFRECORD ")]
    assert line, cmd.stdout[-6000:]
    return dict(json.loads(line[-1][len("TFRECORD "):]), submit_log=cmd.stdout)


def test_env_pairs_tensorflow_with_the_tensorflow_io_that_reads_hdfs(host):
    pip = host.run("%s/bin/python -m pip list --format=json", ENV_PREFIX)
    assert pip.rc == 0
    names = {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(pip.stdout)}
    assert names["tensorflow-cpu"] == "2.17.1" and names["tensorflow-io"] == "0.37.1"
    assert names["pyspark"] == "3.5.7"
    # Keras 2 for MultiWorkerMirroredStrategy (the MNIST training).
    assert names["tf-keras"] == "2.17.0"
    # TensorFlowOnSpark must reach executors through tfspark.zip only.
    assert "tensorflowonspark" not in names


def test_released_connector_built_against_the_cluster_hadoop_on_jdk17(host):
    jar = host.file("%s/target/%s" % (BUILD_DIR, JAR))
    assert jar.exists
    classes = host.check_output("unzip -Z1 %s", jar.path).split()
    assert "org/tensorflow/hadoop/io/TFRecordFileOutputFormat.class" in classes
    # Java 8 class files (major 52): -Dmaven.compiler.target=8 replaced the pom's 1.6.
    header = host.check_output("unzip -p %s org/tensorflow/hadoop/util/TFRecordWriter.class | od -An -tu1 -N8", jar.path)
    assert header.split()[4:8] == ["0", "0", "0", "52"], header
    log = host.file("/opt/dlstack/tensorflow_hadoop/maven-build.log").content_string
    assert "BUILD SUCCESS" in log
    # Compiled against Hadoop 3.5.0's hadoop-common, resolved by the build into the local repository.
    assert host.file("/root/.m2/repository/org/apache/hadoop/hadoop-common/3.5.0/hadoop-common-3.5.0.jar").exists
    assert host.file("/root/.m2/repository/org/tensorflow/tensorflow-hadoop/1.15.0/%s" % JAR).exists


def test_uploads_belong_to_the_hdfs_user_and_match_the_build(host):
    listing = hdfs(host, "-ls", HDFS_DIR)
    assert listing.rc == 0, listing.stdout
    rows = {ln.split()[-1].rsplit("/", 1)[-1]: ln.split() for ln in listing.stdout.splitlines() if ln.startswith("-")}
    archives = [name for name in rows if ENV_ARCHIVE.fullmatch(name)]
    spark_libs = [name for name in rows if SPARK_LIBS.fullmatch(name)]
    assert len(archives) == len(spark_libs) == 1, sorted(rows)
    assert sorted(rows) == sorted([JAR, "tfspark.zip"] + archives + spark_libs), sorted(rows)
    for fields in rows.values():
        assert fields[0] == "-rw-r--r--" and fields[2] == "dlstack", fields
    local = host.check_output("sha256sum %s/target/%s", BUILD_DIR, JAR).split()[0]
    stored = host.check_output("HADOOP_USER_NAME=dlstack hdfs dfs -cat %s/%s | sha256sum", HDFS_DIR, JAR).split()[0]
    assert local == stored
    # Nothing went to root's home, which a real cluster does not give it.
    assert "No such file or directory" in hdfs(host, "-ls", "-d", "/user/root", user="hdfs").stdout
    zip_names = host.check_output("HADOOP_USER_NAME=dlstack hdfs dfs -cat %s/tfspark.zip > /tmp/tfspark.zip "
                                  "&& unzip -Z1 /tmp/tfspark.zip", HDFS_DIR).split()
    assert "tensorflowonspark/__init__.py" in zip_names
    assert not [n for n in zip_names if "dist-info" in n or "__pycache__" in n]
    # The executors' env: the gateway's venv without PySpark (each job ships its own).
    names = host.check_output("HADOOP_USER_NAME=dlstack hdfs dfs -cat %s/%s | tar tzf -", HDFS_DIR, archives[0]).split()
    assert "bin/python" in names and "lib/python3.11/site-packages/tensorflow/__init__.py" in names
    assert "lib/python3.11/site-packages/tensorflow_io/__init__.py" in names
    assert not [n for n in names if n.startswith("lib/python3.11/site-packages/pyspark/")]
    # Spark's jars for YARN containers: exactly the env's PySpark's, at the zip's root.
    jars = host.check_output("cd %s/lib/python3.11/site-packages/pyspark/jars && ls *.jar", ENV_PREFIX).split()
    stored_jars = host.check_output("HADOOP_USER_NAME=dlstack hdfs dfs -cat %s/%s > /tmp/spark-libs.zip "
                                    "&& unzip -Z1 /tmp/spark-libs.zip", HDFS_DIR, spark_libs[0]).split()
    assert len(jars) > 100 and sorted(stored_jars) == sorted(jars)
    idx = hdfs(host, "-ls", "/user/dlstack/mnist/idx").stdout
    assert sorted(ln.split()[-1].rsplit("/", 1)[-1] for ln in idx.splitlines() if ln.startswith("-")) == sorted(IDX)


def test_profile_exports_the_cluster_classpath_and_libhdfs(host):
    out = host.check_output("bash -c '. /etc/profile.d/tensorflow_hadoop.sh && env'")
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert env["HADOOP_HDFS_PREFIX"] == env["HADOOP_HDFS_HOME"] == "/opt/hadoop"
    assert host.file("/opt/hadoop/lib/native/libhdfs.so").exists
    entries = env["CLASSPATH"].split(":")
    assert "*" not in env["CLASSPATH"]
    assert "/opt/hadoop/share/hadoop/lib/hadoop-hdfs-client-3.5.0.jar" in entries
    javac = host.check_output("readlink -f $(command -v javac)")
    assert javac == env["JAVA_HOME"] + "/bin/javac"


@pytest.mark.parametrize("site_line", ["spark.jars hdfs:///site/a.jar,hdfs:///site/b.jar",
                                       "spark.jars = hdfs:///site/a.jar,hdfs:///site/b.jar"])
def test_wrapper_adds_to_the_site_spark_jars(host, site_line):
    submit = host.file("%s/tfspark-submit" % SCRIPTS).content_string
    assert "--py-files %s/tfspark.zip" % URI_DIR in submit
    # A site jar in spark-defaults.conf survives: the wrapper appends it to ours.
    probe = host.run("cd /tmp && mkdir -p /tmp/siteconf && printf '%%s\\n' %s 'spark.yarn.dist.archives hdfs:///site/x.tgz#x' "
                     "> /tmp/siteconf/spark-defaults.conf && "
                     "sed 's|^exec |echo |' %s/tfspark-submit > /tmp/echo-submit && "
                     "SPARK_CONF_DIR=/tmp/siteconf bash /tmp/echo-submit", site_line, SCRIPTS)
    assert probe.rc == 0, probe.stderr
    assert "spark.jars=%s/%s,hdfs:///site/a.jar,hdfs:///site/b.jar" % (URI_DIR, JAR) in probe.stdout
    assert "--conf spark.pyspark.driver.python=%s/bin/python " % ENV_PREFIX in probe.stdout
    # On YARN the executors run the env unpacked from HDFS, before the site's archives.
    assert "--conf spark.pyspark.python=./environment/bin/python " in probe.stdout
    archives = re.search(r"spark\.yarn\.dist\.archives=(\S+)", probe.stdout).group(1).split(",")
    assert archives[1:] == ["hdfs:///site/x.tgz#x"], archives
    assert re.fullmatch(re.escape(URI_DIR) + r"/tensorflow-[0-9a-f]{16}\.tar\.gz#environment", archives[0]), archives
    # Spark's own jars come from HDFS, the env's PySpark's.
    assert re.search(r"--conf spark\.yarn\.archive=%s/spark-libs-[0-9a-f]{16}\.zip " % re.escape(URI_DIR), probe.stdout)
    # Another master (a local test): the gateway's env, no archive.
    local = host.run("cd /tmp && TFSPARK_MASTER='local[2]' SPARK_CONF_DIR=/tmp/siteconf bash /tmp/echo-submit")
    assert "--conf spark.pyspark.python=%s/bin/python " % ENV_PREFIX in local.stdout
    assert "spark.yarn.dist.archives" not in local.stdout and "spark.yarn.archive" not in local.stdout
    # No spark-defaults.conf at all: our jar alone.
    bare = host.run("cd /tmp && SPARK_CONF_DIR=/nonexistent bash /tmp/echo-submit")
    assert bare.rc == 0, bare.stderr
    assert "--conf spark.jars=%s/%s " % (URI_DIR, JAR) in bare.stdout
    for name in ("tfspark-submit", "mnist-data-setup", "mnist-train", "mnist-inference"):
        assert host.run("bash -n %s/%s", SCRIPTS, name).rc == 0


def test_yarn_job_takes_spark_jars_from_hdfs_instead_of_uploading_them(tfrecord_job):
    log = tfrecord_job["submit_log"]
    assert "falling back to uploading libraries" not in log, log[-6000:]
    assert not re.search(r"Uploading resource \S*__spark_libs__", log), log[-6000:]
    assert re.search(r"Not copying \S*/user/dlstack/jars/spark-libs-[0-9a-f]{16}\.zip", log), log[-6000:]


def test_yarn_job_runs_as_the_job_user_on_the_worker(tfrecord_job):
    assert tfrecord_job["master"] == "yarn"
    assert re.fullmatch(r"application_\d+_\d+", tfrecord_job["application_id"])
    assert tfrecord_job["spark_user"] == "dlstack"
    assert tfrecord_job["spark_jars"] == "%s/%s" % (URI_DIR, JAR)
    for executor in tfrecord_job["executors"]:
        # A YARN container on the NodeManager, not the gateway.
        assert executor["host"] == "hadoop-worker"
        # The env the role packed, unpacked in the container: the worker has none installed.
        assert executor["python"].endswith("/environment/bin/python"), executor["python"]
        assert executor["prefix"].endswith("/environment") and "/appcache/" in executor["prefix"], executor["prefix"]
        assert executor["tensorflow"] == "2.17.1" and not executor["gateway_env_here"]
        # TensorFlow in the YARN container wrote and read hdfs://.
        assert executor["tfrecord_on_hdfs"] == list(range(10))
        assert executor["tfos_version"] == "2.2.5"
        assert "tfspark.zip" in executor["tfos_file"] and executor["reservation_server"]
        # spark.executorEnv.* from spark-defaults.conf reached the container.
        assert executor["hdfs_prefix"] == "/opt/hadoop"


def test_tensorflow_reads_what_the_connector_wrote_and_spark_reads_what_tensorflow_wrote(tfrecord_job):
    assert tfrecord_job["spark_files"] == ["part-r-0000%d" % i for i in range(4)]
    total = sum(range(RECORDS))
    assert tfrecord_job["read_by_tf"] == [RECORDS, [0], [RECORDS - 1], total]
    assert tfrecord_job["read_by_spark"] == [RECORDS, [RECORDS], [2 * RECORDS - 1], total + RECORDS * RECORDS]


def test_application_finished_in_yarn(host, tfrecord_job):
    report = host.check_output("yarn application -status %s 2>/dev/null", tfrecord_job["application_id"])
    assert re.search(r"Final-State\s*:\s*SUCCEEDED", report), report
    assert re.search(r"User\s*:\s*dlstack", report), report


def test_files_in_hdfs_belong_to_the_job_user(host, tfrecord_job):
    del tfrecord_job
    listing = hdfs(host, "-ls", "-R", "/user/dlstack/tfrecord-test").stdout
    files = [ln.split() for ln in listing.splitlines() if ln.startswith("-")]
    assert files and all(f[2] == "dlstack" for f in files), listing
    assert any(f[-1].endswith("/tf/records.tfrecord") for f in files)


@pytest.fixture(scope="module")
def mnist(host):
    """The role's three MNIST wrappers, in order, on YARN as the job user; their output and wall time."""
    runs = {}
    for name, args in (("mnist-data-setup", ""), ("mnist-train", " --epochs 8"), ("mnist-inference", "")):
        started = time.monotonic()
        cmd = host.run("cd /home/dlstack && runuser -u dlstack -- %s/%s%s 2>&1" % (SCRIPTS, name, args))
        assert cmd.rc == 0, "%s: %s" % (name, cmd.stdout[-6000:])
        runs[name] = {"stdout": cmd.stdout, "seconds": round(time.monotonic() - started)}
    print("MNIST wall times: %s" % {name: run["seconds"] for name, run in runs.items()})
    return runs


def tagged(stdout, tag):
    lines = [ln[len(tag) + 1:] for ln in stdout.splitlines() if ln.startswith(tag + " ")]
    assert lines, stdout[-4000:]
    return lines[-1]


def test_mnist_data_setup_writes_the_layout_of_the_tfos_examples(host, mnist):
    out = mnist["mnist-data-setup"]["stdout"]
    assert "mnist_data_setup: train: %d examples" % TRAIN_COUNT in out
    assert "mnist_data_setup: test: %d examples" % TEST_COUNT in out
    for split, count in (("train", TRAIN_COUNT), ("test", TEST_COUNT)):
        rows = host.check_output("HADOOP_USER_NAME=dlstack hdfs dfs -cat /user/dlstack/mnist/csv/%s/part-* 2>/dev/null", split)
        rows = rows.splitlines()
        assert len(rows) == count
        assert all(len(row.split(",")) == 785 for row in rows[:5])
        tfr = hdfs(host, "-ls", "/user/dlstack/mnist/tfr/%s" % split).stdout
        assert re.search(r"/part-r-00000$", tfr, re.M), tfr


def test_mnist_train_exports_a_versioned_saved_model_to_hdfs(host, mnist):
    export = tagged(mnist["mnist-train"]["stdout"], "MNIST_EXPORT")
    assert re.fullmatch(re.escape(NAMENODE) + r"/user/dlstack/mnist_export/\d{10}", export), export
    listing = hdfs(host, "-ls", "-R", export).stdout
    assert re.search(r"/saved_model\.pb$", listing, re.M) and re.search(r"/variables/variables\.index$", listing, re.M), listing
    assert all(ln.split()[2] == "dlstack" for ln in listing.splitlines() if ln.startswith("-"))
    assert hdfs(host, "-test", "-e", "/user/dlstack/mnist_model/mnist.index").rc == 0
    apps = host.check_output("yarn application -list -appStates FINISHED 2>/dev/null")
    assert re.search(r"\smnist_keras\s+SPARK\s+dlstack\s+\S+\s+FINISHED\s+SUCCEEDED", apps), apps


def test_mnist_inference_predicts_the_test_set_above_the_threshold(host, mnist):
    result = json.loads(tagged(mnist["mnist-inference"]["stdout"], "MNIST_INFERENCE"))
    assert result["export_dir"] == tagged(mnist["mnist-train"]["stdout"], "MNIST_EXPORT")
    assert result["count"] == TEST_COUNT
    # Read back from HDFS, not taken from the job's own report: one part file per executor.
    listing = hdfs(host, "-ls", "/user/dlstack/mnist_predictions").stdout
    assert sorted(ln.split()[-1].rsplit("/", 1)[-1] for ln in listing.splitlines() if ln.startswith("-")) == \
        ["part-00000", "part-00001"]
    pairs = [ln.split() for ln in host.check_output(
        "HADOOP_USER_NAME=dlstack hdfs dfs -cat /user/dlstack/mnist_predictions/part-* 2>/dev/null").splitlines()]
    assert len(pairs) == TEST_COUNT and all(pair[0] in "0123456789" for pair in pairs)
    accuracy = sum(1 for label, prediction in pairs if label == prediction) / len(pairs)
    # Kept beside the scenario logs for the record (wall times and accuracy of this run).
    record = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), ".cache", "molecule-logs", "tf_hadoop-mnist.json")
    if os.path.isdir(os.path.dirname(record)):
        with open(record, "w") as handle:
            json.dump({"accuracy": accuracy, "count": len(pairs),
                       "seconds": {name: run["seconds"] for name, run in mnist.items()}}, handle)
    assert accuracy == pytest.approx(result["accuracy"])
    assert accuracy >= MIN_ACCURACY, accuracy
