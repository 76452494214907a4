"""Spark smoke job for smoke_test.yml: runs through tfspark-submit (local master).

Prints one JSON line: the jars Spark registered (the tensorflow-hadoop connector
must be one), where TensorFlowOnSpark was imported from on the driver and on an
executor (it must be the --py-files tfspark.zip, not an env's site-packages), and a
count computed on the executors.
"""

import json

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("dlstack-smoke").getOrCreate()
context = spark.sparkContext
# SparkContext.listJars() is a Scala Seq, which py4j does not iterate: join it on the JVM side.
registered = context._jsc.sc().listJars()  # pylint: disable=protected-access
jars = [jar for jar in registered.mkString("\n").split("\n") if jar]


def tfos_origin(partition=None):
    """The file TensorFlowOnSpark is imported from, or an empty string."""
    del partition
    try:
        import tensorflowonspark  # pylint: disable=import-outside-toplevel
    except ImportError:
        return [""]
    return [tensorflowonspark.__file__]


tfos = {"driver": tfos_origin()[0], "executor": context.parallelize([0], 1).mapPartitions(tfos_origin).first()}
count = context.parallelize(range(1000), 4).map(lambda x: x * x).filter(lambda x: x % 3 == 0).count()
print("DLSTACK_SMOKE " + json.dumps({"jars": jars, "tensorflowonspark": tfos, "count": count}))
spark.stop()
