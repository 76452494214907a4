"""Spark local-mode smoke job for the tf_hadoop scenario.

Submitted through the role's tfspark-submit wrapper: reads tfspark.zip (--py-files) and
the tensorflow-hadoop jar from the HDFS stand-in, lists the upload directory through
Hadoop's FileSystem API and reports what an executor's Python worker sees.
Prints one line: SMOKE <json>.
"""

import io
import json
import os
import sys
import zipfile

from pyspark.sql import SparkSession


def executor_probe(partition):
    del partition  # one element, only the worker's environment matters
    import tensorflowonspark
    from tensorflowonspark import reservation

    yield {
        "tfos_version": tensorflowonspark.__version__,
        "tfos_file": tensorflowonspark.__file__,
        "reservation_server": hasattr(reservation, "Server"),
        "classpath_entries": len([p for p in os.environ.get("CLASSPATH", "").split(":") if p]),
        "hdfs_prefix": os.environ.get("HADOOP_HDFS_PREFIX"),
        "hdfs_home": os.environ.get("HADOOP_HDFS_HOME"),
        "ld_library_path": os.environ.get("LD_LIBRARY_PATH", ""),
        "python": sys.executable,
    }


def jar_probe(item):
    path, data = item
    with zipfile.ZipFile(io.BytesIO(data)) as jar:
        names = jar.namelist()
        props = jar.read("dlstack-build.properties").decode() if "dlstack-build.properties" in names else ""
    yield {"path": path, "classes": sorted(n for n in names if n.endswith(".class")), "properties": props}


def main():
    jar_dir = sys.argv[1]
    spark = SparkSession.builder.appName("dlstack-tf-hadoop-smoke").getOrCreate()
    sc = spark.sparkContext
    executor = sc.parallelize([0], 1).mapPartitions(executor_probe).collect()[0]
    directory = sc._jvm.org.apache.hadoop.fs.Path(jar_dir)
    fs = directory.getFileSystem(sc._jsc.hadoopConfiguration())
    listing = sorted(status.getPath().getName() for status in fs.listStatus(directory))
    jar_uri = sc.getConf().get("spark.jars")
    jar = sc.binaryFiles(jar_uri).flatMap(jar_probe).collect()
    print("SMOKE " + json.dumps({"executor": executor, "listing": listing, "spark_jars": jar_uri, "jar": jar}))
    spark.stop()


if __name__ == "__main__":
    main()
