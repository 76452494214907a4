"""TFRecords through HDFS both ways, submitted on YARN through the role's tfspark-submit.

1. Spark's executors write tf.train.Example records with the connector's TFRecordFileOutputFormat.
2. TensorFlow (tensorflow-io's hdfs://, libhdfs through JNI) reads them on the driver.
   Each executor, in its YARN container, writes and reads a TFRecord file on hdfs:// too.
3. TensorFlow writes a TFRecord file to hdfs://; the executors read it with TFRecordFileInputFormat.
The executors report where they ran, their Python and where TensorFlowOnSpark came from.
Prints one line: TFRECORD <json>.

usage: tfrecord_job.py hdfs://NAMENODE/DIR
"""

import json
import os
import socket
import sys

import tensorflow as tf
# tensorflow_io registers hdfs:// with TensorFlow's file systems.
import tensorflow_io  # noqa: F401  pylint: disable=unused-import
from pyspark.sql import SparkSession

RECORDS = 200
BYTES = "org.apache.hadoop.io.BytesWritable"
NULL = "org.apache.hadoop.io.NullWritable"


def executor_probe(base):
    """Where an executor runs and what it has: run in each partition of a 2-partition RDD."""

    def probe(partition):
        # hdfs:// for TensorFlow in this process too.
        import tensorflow_io as hdfs_support  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
        import tensorflowonspark  # pylint: disable=import-outside-toplevel
        from tensorflowonspark import reservation  # pylint: disable=import-outside-toplevel

        index = list(partition)[0]
        # TensorFlow inside the YARN container writes and reads hdfs:// too.
        path = "%s/executor/%d.tfrecord" % (base, index)
        tf.io.gfile.makedirs(base + "/executor")
        with tf.io.TFRecordWriter(path) as writer:
            for i in range(10):
                writer.write(example(i))
        yield {
            "host": socket.gethostname(),
            "python": sys.executable,
            "prefix": sys.prefix,
            "tensorflow": tf.__version__,
            "gateway_env_here": os.path.exists("/usr/anaconda/envs/tensorflow"),
            "tfrecord_on_hdfs": indices(r.numpy() for r in tf.data.TFRecordDataset(path)),
            "tfos_version": tensorflowonspark.__version__,
            "tfos_file": tensorflowonspark.__file__,
            "reservation_server": hasattr(reservation, "Server"),
            "hdfs_prefix": os.environ.get("HADOOP_HDFS_PREFIX"),
            "ld_library_path": os.environ.get("LD_LIBRARY_PATH", ""),
        }

    return probe


def example(index):
    return tf.train.Example(features=tf.train.Features(feature={
        "index": tf.train.Feature(int64_list=tf.train.Int64List(value=[index])),
        "square": tf.train.Feature(float_list=tf.train.FloatList(value=[float(index * index)])),
    })).SerializeToString()


def indices(records):
    found = []
    for record in records:
        features = tf.train.Example.FromString(record).features.feature
        assert features["square"].float_list.value[0] == float(features["index"].int64_list.value[0] ** 2)
        found.append(features["index"].int64_list.value[0])
    return sorted(found)


def main(base):
    spark = SparkSession.builder.appName("dlstack-tfrecord-hdfs").getOrCreate()
    sc = spark.sparkContext
    jvm = sc._jvm  # pylint: disable=protected-access
    root = jvm.org.apache.hadoop.fs.Path(base)
    root.getFileSystem(sc._jsc.hadoopConfiguration()).delete(root, True)  # pylint: disable=protected-access

    executors = sc.parallelize(range(2), 2).mapPartitions(executor_probe(base)).collect()

    sc.parallelize([example(i) for i in range(RECORDS)], 4).map(lambda r: (bytearray(r), None)) \
        .saveAsNewAPIHadoopFile(base + "/spark", "org.tensorflow.hadoop.io.TFRecordFileOutputFormat",
                                keyClass=BYTES, valueClass=NULL)
    spark_files = sorted(tf.io.gfile.glob(base + "/spark/part-*"))
    read_by_tf = indices(r.numpy() for r in tf.data.TFRecordDataset(spark_files))

    tf.io.gfile.makedirs(base + "/tf")
    with tf.io.TFRecordWriter(base + "/tf/records.tfrecord") as writer:
        for i in range(RECORDS, 2 * RECORDS):
            writer.write(example(i))
    read_by_spark = indices(sc.newAPIHadoopFile(base + "/tf", "org.tensorflow.hadoop.io.TFRecordFileInputFormat",
                                                keyClass=BYTES, valueClass=NULL)
                            .map(lambda kv: bytes(kv[0])).collect())

    print("TFRECORD " + json.dumps({
        "master": sc.master,
        "application_id": sc.applicationId,
        "spark_user": sc.sparkUser(),
        "spark_jars": sc.getConf().get("spark.jars", ""),
        "executors": executors,
        "spark_files": [os.path.basename(f) for f in spark_files],
        "read_by_tf": [len(read_by_tf), read_by_tf[:1], read_by_tf[-1:], sum(read_by_tf)],
        "read_by_spark": [len(read_by_spark), read_by_spark[:1], read_by_spark[-1:], sum(read_by_spark)],
    }))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
