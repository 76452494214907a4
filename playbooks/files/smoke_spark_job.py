"""Spark smoke job for smoke_test.yml: runs through tfspark-submit (local master).

Prints one JSON line: the jars Spark registered (the tensorflow-hadoop connector
must be one), whether TensorFlowOnSpark imports from the --py-files zip, and a
count computed on the executors.
"""

import json

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("dlstack-smoke").getOrCreate()
context = spark.sparkContext
# SparkContext.listJars() is a Scala Seq, which py4j does not iterate: join it on the JVM side.
registered = context._jsc.sc().listJars()  # pylint: disable=protected-access
jars = [jar for jar in registered.mkString("\n").split("\n") if jar]
try:
    import tensorflowonspark  # noqa: F401  pylint: disable=unused-import
    tfos = True
except ImportError:
    tfos = False
count = context.parallelize(range(1000), 4).map(lambda x: x * x).filter(lambda x: x % 3 == 0).count()
print("DLSTACK_SMOKE " + json.dumps({"jars": jars, "tensorflowonspark": tfos, "count": count}))
spark.stop()
