"""Verify spark_dl_libs against real state: the gateway's files, the test cluster's HDFS and Spark on its YARN."""

import base64
import hashlib
import json
import struct

import pytest

testinfra_hosts = ["ansible://all"]

CONF = "/etc/spark/conf/spark-defaults.conf"
JAR_DIR = "/user/dlstack/dl/jars"
DATA_DIR = "/user/dlstack/dl/mnist"
JOB_DIR = "/opt/dlstack/spark_dl_libs/jobs"
BIGDL = "bigdl-dllib-spark_3.1.3-2.4.0-jar-with-dependencies.jar"
DL4J = "dl4j-spark_2.12-1.0.0-M2.1.jar"
BEGIN = "# BEGIN dlstack.cdh spark_dl_libs managed block"
END = "# END dlstack.cdh spark_dl_libs managed block"
BIGDL_ENV = {"DL_ENGINE_TYPE": "mklblas", "MKL_DISABLE_FAST_MM": "1", "KMP_BLOCKTIME": "0",
             "OMP_WAIT_POLICY": "passive", "OMP_NUM_THREADS": "1"}
# SPARK_HOME comes from the venv, as `activate` would give it; jobs run as the cluster's job user.
SPARK_ENV = ("PATH=/opt/pyspark/bin:$PATH SPARK_CONF_DIR=/etc/spark/conf HADOOP_CONF_DIR=/etc/hadoop/conf "
             "HADOOP_USER_NAME=dlstack")
FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def properties(text):
    """Live key/value lines as java.util.Properties reads this file (no continuations used here)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        for index, char in enumerate(line):
            if char in " \t=:":
                key, value = line[:index], line[index:].lstrip(" \t")
                value = value[1:].lstrip() if value[:1] in "=:" else value
                out.append((key, value))
                break
    return out


def read_bytes(host, path):
    """A binary file's bytes (command output is text, so through base64)."""
    return base64.b64decode(host.check_output("base64 -w0 %s" % path))


def read_hdfs(host, path):
    return base64.b64decode(host.check_output("hdfs dfs -cat %s 2>/dev/null | base64 -w0" % path))


def hdfs_modes(host, directory):
    """{name: (permissions, owner)} of the files in an HDFS directory."""
    listing = host.check_output("hdfs dfs -ls %s 2>/dev/null" % directory)
    return {ln.split()[-1].rsplit("/", 1)[-1]: (ln.split()[0], ln.split()[2])
            for ln in listing.splitlines() if ln.startswith("-")}


@pytest.fixture(scope="module")
def conf_text(host):
    return host.file(CONF).content_string


@pytest.fixture(scope="module")
def spark(host):
    result = host.run(
        "%s python /srv/artifacts/read_mnist_job.py hdfs://%s" % (SPARK_ENV, DATA_DIR))
    assert result.rc == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_block_once_and_site_settings_untouched(conf_text):
    assert conf_text.count(BEGIN) == 1 and conf_text.count(END) == 1
    assert conf_text.index(BEGIN) < conf_text.index(END)
    pairs = properties(conf_text)
    assert ("spark.master", "yarn") in pairs
    assert ("spark.ui.enabled", "false") in pairs
    assert ("spark.driver.memory", "512m") in pairs
    assert conf_text.startswith("# Site settings, not the role's.\n")


def test_spark_jars_is_one_key_merging_the_site_jar(conf_text):
    jars = [value for key, value in properties(conf_text) if key == "spark.jars"]
    assert len(jars) == 1, jars
    assert jars[0].split(",") == [
        "file:///opt/vendor/site-udfs.jar", "hdfs://%s/%s" % (JAR_DIR, BIGDL), "hdfs://%s/%s" % (JAR_DIR, DL4J)]
    # The site line is kept, commented, so an administrator sees where its jar went.
    assert "# dlstack.cdh spark_dl_libs merged into its block: spark.jars=file:///opt/vendor/site-udfs.jar\n" in conf_text


def test_bigdl_environment_and_properties(conf_text):
    pairs = dict(properties(conf_text))
    for name, value in BIGDL_ENV.items():
        assert pairs["spark.executorEnv." + name] == value
        assert pairs["spark.yarn.appMasterEnv." + name] == value
    assert pairs["spark.shuffle.reduceLocality.enabled"] == "false"
    assert pairs["spark.scheduler.minRegisteredResourcesRatio"] == "1.0"
    assert len(properties(conf_text)) == len(pairs), "a key is repeated"


def test_jars_in_hdfs_match_their_sources(host):
    # Written by the configured HDFS user, not root (which a real cluster does not let write /user).
    assert hdfs_modes(host, JAR_DIR) == {BIGDL: ("-rw-r--r--", "dlstack"), DL4J: ("-rw-r--r--", "dlstack")}
    sources = {BIGDL: "/srv/artifacts/" + BIGDL, DL4J: "/opt/vendor/" + DL4J}
    for name, source in sources.items():
        copy = host.run("hdfs dfs -cat %s/%s | sha256sum" % (JAR_DIR, name))
        assert copy.rc == 0
        assert copy.stdout.split()[0] == host.file(source).sha256sum


def test_idx_files_are_valid_mnist(host):
    assert hdfs_modes(host, DATA_DIR) == {name: ("-rw-r--r--", "dlstack") for name in FILES}
    counts = {}
    for name in FILES:
        data = read_hdfs(host, "%s/%s" % (DATA_DIR, name))
        magic = struct.unpack(">I", data[:4])[0]
        if "images" in name:
            assert magic == 0x00000803
            count, rows, cols = struct.unpack(">III", data[4:16])
            assert (rows, cols) == (28, 28)
            assert len(data) == 16 + count * 28 * 28
            first = data[16:16 + 784]
            # 3x upscaled 8x8 digits padded by 2: the border rows and columns are blank, the centre is not.
            assert first[:2 * 28] == bytes(56) and any(first[2 * 28:26 * 28])
            assert all(first[row * 28 + col] == 0 for row in range(28) for col in (0, 1, 26, 27))
        else:
            assert magic == 0x00000801
            count = struct.unpack(">I", data[4:8])[0]
            assert len(data) == 8 + count
            assert set(data[8:]) == set(range(10))
        counts[name] = count
    assert counts["train-images-idx3-ubyte"] == counts["train-labels-idx1-ubyte"] == 1500
    assert counts["t10k-images-idx3-ubyte"] == counts["t10k-labels-idx1-ubyte"] == 297


def test_generated_data_matches_scikit_learn(host):
    # load_digits' first sample is a 0 and the set has 1797 samples in all.
    labels = read_hdfs(host, "%s/train-labels-idx1-ubyte" % DATA_DIR)
    assert labels[8] == 0
    staged = "/var/lib/dlstack/spark_dl_libs/mnist"
    for name in FILES:
        local = read_bytes(host, "%s/%s" % (staged, name))
        assert hashlib.sha256(local).hexdigest() == hashlib.sha256(read_hdfs(host, "%s/%s" % (DATA_DIR, name))).hexdigest()


def test_digits_mode_creates_no_mirror_download_dir(host):
    # The converge generates the data (digits mode); the download directory is for mirror files only.
    assert host.file("/var/cache/dlstack/spark_dl_libs").is_directory
    assert not host.file("/var/cache/dlstack/spark_dl_libs/mnist-download").exists


def test_spark_reads_the_role_configuration(spark):
    # On the cluster's YARN, as its job user, with executors on the NodeManager's host.
    assert spark["master"] == "yarn" and spark["user"] == "dlstack"
    assert spark["executor_hosts"] == ["hadoop-worker"]
    conf = spark["conf"]
    for name, value in BIGDL_ENV.items():
        assert conf["spark.executorEnv." + name] == value
    assert conf["spark.scheduler.minRegisteredResourcesRatio"] == "1.0"
    # SparkContext registered every jar of the merged spark.jars (served to executors).
    for name in ("site-udfs.jar", BIGDL, DL4J):
        assert any(jar.endswith("/" + name) for jar in spark["jars"]), spark["jars"]
    # ... and the driver's class loader finds each jar's resource.
    assert spark["resources"] == {"bigdl-dllib": True, "dl4j-spark": True, "site-udfs": True}


def test_spark_job_reads_the_staged_data(spark):
    headers = spark["headers"]
    assert sorted(headers) == sorted(FILES)
    assert headers["train-images-idx3-ubyte"]["magic"] == 0x803
    assert headers["train-images-idx3-ubyte"]["dims"] == [1500, 28, 28]
    assert headers["t10k-labels-idx1-ubyte"]["magic"] == 0x801
    for prefix, count in (("train", 1500), ("t10k", 297)):
        counts = spark["counts"][prefix]
        assert counts["label_records"] == count
        assert counts["images"] == count
        assert sum(counts["label_histogram"].values()) == count
        assert sorted(int(label) for label in counts["label_histogram"]) == list(range(10))


def test_caffeonspark_files(host):
    solver = host.file(JOB_DIR + "/caffeonspark/lenet_memory_solver.prototxt").content_string
    assert solver.splitlines()[-1] == "solver_mode: GPU"
    assert 'net: "lenet_memory_train_test.prototxt"\n' in solver
    net = host.file(JOB_DIR + "/caffeonspark/lenet_memory_train_test.prototxt").content_string
    assert net.count('source_class: "com.yahoo.ml.caffe.LMDB"') == 2
    assert 'source: "hdfs://%s/mnist_train_lmdb/"' % DATA_DIR in net
    assert 'source: "hdfs://%s/mnist_test_lmdb/"' % DATA_DIR in net
    assert net.count("phase: TEST") == 2


@pytest.fixture(scope="module")
def submitted(host):
    """Each wrapper run once under `bash -x`: the argv it hands to spark-submit, and spark-submit's output.

    The jars are small ones built in the test, so no job is submitted: without HADOOP_CONF_DIR the real
    spark-submit accepts the arguments and stops at the missing YARN configuration; the trace shows the argv.
    """
    out = {}
    for wrapper in ("bigdl-lenet-train.sh", "caffeonspark-lenet-train.sh"):
        result = host.run("%s env -u HADOOP_CONF_DIR -u YARN_CONF_DIR bash -x %s/%s" % (SPARK_ENV, JOB_DIR, wrapper))
        trace = [line for line in result.stderr.splitlines() if line.startswith("+ exec ")]
        assert trace, "wrapper did not exec spark-submit: %s" % result.stderr[-2000:]
        out[wrapper] = {"args": trace[0][len("+ exec "):].split(), "rc": result.rc, "output": result.stdout + result.stderr}
    return out


@pytest.mark.parametrize("wrapper", ["bigdl-lenet-train.sh", "caffeonspark-lenet-train.sh"])
def test_wrappers_reach_a_real_spark_submit(host, submitted, wrapper):
    path = "%s/%s" % (JOB_DIR, wrapper)
    assert host.file(path).mode == 0o755
    assert host.file(path).content_string.startswith("#!/bin/bash\n")
    assert host.run("bash -n %s" % path).rc == 0
    assert submitted[wrapper]["rc"] != 0
    assert "HADOOP_CONF_DIR or YARN_CONF_DIR must be set" in submitted[wrapper]["output"]


def test_bigdl_wrapper_arguments(submitted):
    args = submitted["bigdl-lenet-train.sh"]["args"]
    assert args[0] == "/opt/pyspark/bin/spark-submit"
    assert args[1:5] == ["--master", "yarn", "--deploy-mode", "client"]
    cls = args.index("--class")
    assert args[cls + 1] == "com.intel.analytics.bigdl.dllib.models.lenet.Train"
    assert args[cls + 2] == "hdfs://%s/%s" % (JAR_DIR, BIGDL)
    assert args[cls + 3:cls + 5] == ["-f", "hdfs://" + DATA_DIR]


def test_caffeonspark_wrapper_arguments(submitted):
    args = submitted["caffeonspark-lenet-train.sh"]["args"]
    solver_dir = JOB_DIR + "/caffeonspark"
    assert args[1:5] == ["--master", "yarn", "--deploy-mode", "client"]
    assert args[args.index("--files") + 1] == "%s/lenet_memory_solver.prototxt,%s/lenet_memory_train_test.prototxt" % (
        solver_dir, solver_dir)
    confs = [args[i + 1] for i, arg in enumerate(args) if arg == "--conf"]
    assert confs[0].startswith("spark.driver.extraLibraryPath=/usr/local/cuda/lib64:")
    assert confs[1].startswith("spark.executorEnv.LD_LIBRARY_PATH=/usr/local/cuda/lib64:")
    tail = args[args.index("--class") + 1:]
    assert tail == [
        "com.yahoo.ml.caffe.CaffeOnSpark",
        "/opt/CaffeOnSpark/caffe-grid/target/caffe-grid-0.1-SNAPSHOT-jar-with-dependencies.jar",
        "-train", "-features", "accuracy,loss", "-label", "label", "-conf", "lenet_memory_solver.prototxt",
        "-connection", "ethernet", "-model", "mnist.model", "-output", "mnist_features_result"]
