"""Spark job the verifier runs on YARN: reads the staged MNIST data back from HDFS and reports what Spark sees.

Run with SPARK_CONF_DIR=/etc/spark/conf so spark-defaults.conf (the site's master, yarn, and the role's
block) is what configures it. Prints one JSON object, with the hosts the executors ran on.
"""

import json
import socket
import struct
import sys

from pyspark.sql import SparkSession


def main(data_dir):
    spark = SparkSession.builder.appName("dlstack-spark-dl-libs-verify").getOrCreate()
    sc = spark.sparkContext
    conf = dict(sc.getConf().getAll())
    jars = [jar for jar in sc._jsc.sc().listJars().mkString("\n").split("\n") if jar]
    loader = sc._jvm.java.lang.Thread.currentThread().getContextClassLoader()
    resources = {
        name: loader.getResource("dlstack/spark_dl_libs/%s.properties" % name) is not None
        for name in ("bigdl-dllib", "dl4j-spark", "site-udfs")
    }

    # Headers of all four files, parsed on the executors.
    def header(pair):
        path, content = pair
        magic, count = struct.unpack(">II", content[:8])
        dims = [count]
        if magic == 0x803:
            dims += list(struct.unpack(">II", content[8:16]))
        return path.rsplit("/", 1)[-1], {"magic": magic, "dims": dims, "length": len(content)}

    headers = dict(sc.binaryFiles(data_dir).map(header).collect())

    # Fixed-length records: every byte of the label file is a record (8 header bytes + one per label),
    # every 784 bytes of the image file after its 16-byte header one image.
    counts = {}
    for prefix in ("train", "t10k"):
        labels = "%s/%s-labels-idx1-ubyte" % (data_dir, prefix)
        records = sc.binaryRecords(labels, 1)
        counts[prefix] = {
            "label_records": records.count() - 8,
            "label_histogram": dict(records.zipWithIndex().filter(lambda pair: pair[1] >= 8)
                                    .map(lambda pair: (pair[0][0], 1)).reduceByKey(lambda a, b: a + b).collect()),
            "images": sc.binaryFiles("%s/%s-images-idx3-ubyte" % (data_dir, prefix))
                        .flatMap(lambda pair: [pair[1][i:i + 784] for i in range(16, len(pair[1]), 784)])
                        .filter(lambda image: len(image) == 784).count(),
        }
    executor_hosts = sorted(set(sc.parallelize(range(4), 4).map(lambda index: socket.gethostname()).collect()))
    print(json.dumps({"master": sc.master, "user": sc.sparkUser(), "executor_hosts": executor_hosts,
                      "conf": conf, "jars": jars, "resources": resources, "headers": headers, "counts": counts}))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
