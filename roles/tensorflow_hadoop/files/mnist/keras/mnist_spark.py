"""Distributed MNIST training with TensorFlowOnSpark (InputMode.SPARK) and Keras.

Follows TensorFlowOnSpark's examples/mnist/keras/mnist_spark.py (2.2.5): Spark feeds the CSV
rows to one TensorFlow node per executor, which train a small CNN together under
MultiWorkerMirroredStrategy; the chief exports a SavedModel. Keras 3, TensorFlow's tf.keras from
2.16 on, does not train under MultiWorkerMirroredStrategy (keras-team/keras#20585,
tensorflow/tensorflow#72388), so the model is built with tf_keras (the tf-keras package, Keras 2,
of the same release as TensorFlow) as TensorFlow documents for Keras 2 code. HDFS paths are made
absolute on the driver, since TensorFlow resolves a relative path on the local disk, not in HDFS:

  <model_dir>               the final checkpoint (tf.train.Checkpoint)
  <export_dir>/<version>    the SavedModel, versioned by the job's start time (seconds), as
                            TensorFlow Serving and the inference job expect
"""

import argparse
import time


def main_fun(args, ctx):
    """One TensorFlow node, on an executor."""
    import os  # pylint: disable=import-outside-toplevel
    import tempfile  # pylint: disable=import-outside-toplevel

    import numpy as np  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    # tensorflow_io registers hdfs:// with TensorFlow's file systems.
    import tensorflow_io  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    try:
        import tf_keras as keras  # pylint: disable=import-outside-toplevel
    except ImportError:
        # Before TensorFlow 2.16, tf.keras is Keras 2.
        if int(tf.__version__.split(".")[1]) >= 16:
            raise
        keras = tf.keras
    from tensorflowonspark import TFNode  # pylint: disable=import-outside-toplevel

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    tf_feed = TFNode.DataFeed(ctx.mgr, False)

    def rows():
        while not tf_feed.should_stop():
            batch = tf_feed.next_batch(1)
            if not batch:
                return
            image, label = batch[0]
            yield (np.reshape(np.asarray(image, dtype=np.float32) / 255.0, (28, 28, 1)),
                   np.asarray([label], dtype=np.float32))

    dataset = tf.data.Dataset.from_generator(rows, output_signature=(
        tf.TensorSpec((28, 28, 1), tf.float32), tf.TensorSpec((1,), tf.float32))).batch(args.batch_size)
    # Each node reads its own feed: nothing to shard.
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    dataset = dataset.with_options(options)

    with strategy.scope():
        model = keras.Sequential([
            keras.Input(shape=(28, 28, 1), name="image"),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(loss="sparse_categorical_crossentropy",
                      optimizer=keras.optimizers.Adam(learning_rate=args.learning_rate), metrics=["accuracy"])

    # MultiWorkerMirroredStrategy is synchronous: stop before any node runs out of its share
    # of the rows (partitions are not split evenly), at 90% of the expected steps.
    steps = max(1, int(args.train_count / args.batch_size / ctx.num_workers * 0.9))
    history = model.fit(dataset, epochs=args.epochs, steps_per_epoch=steps, verbose=2)
    print("mnist_spark: node %d: accuracy by epoch %s" % (ctx.worker_num, history.history["accuracy"]))

    # Every node saves (the strategy's collectives need them all); only the chief's copy counts.
    chief = ctx.job_name == "chief"
    scratch = tempfile.mkdtemp(prefix="mnist-worker-")
    checkpoint_dir = args.model_dir if chief else os.path.join(scratch, "model")
    export_dir = "%s/%d" % (args.export_dir, args.version) if chief else os.path.join(scratch, "export")
    tf.train.Checkpoint(model=model).write(checkpoint_dir + "/mnist")
    # Keras 2's SavedModel export, with a serving_default signature.
    model.save(export_dir, save_format="tf")
    tf_feed.terminate()


def main():
    from pyspark.conf import SparkConf  # pylint: disable=import-outside-toplevel
    from pyspark.context import SparkContext  # pylint: disable=import-outside-toplevel
    from tensorflowonspark import TFCluster  # pylint: disable=import-outside-toplevel

    sc = SparkContext(conf=SparkConf().setAppName("mnist_keras"))
    executors = sc.getConf().get("spark.executor.instances")
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--cluster_size", type=int, default=int(executors) if executors else 1)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--learning_rate", type=float, default=0.001)
    parser.add_argument("--images_labels", required=True, help="HDFS directory of the CSV rows (label,784 pixels)")
    parser.add_argument("--model_dir", default="mnist_model")
    parser.add_argument("--export_dir", default="mnist_export")
    args = parser.parse_args()

    jvm = sc._jvm  # pylint: disable=protected-access
    conf = sc._jsc.hadoopConfiguration()  # pylint: disable=protected-access

    def qualified(path):
        hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
        uri = hadoop_path.getFileSystem(conf).makeQualified(hadoop_path).toUri()
        # TensorFlow reads file:/x as a relative path: local paths go without the scheme.
        return uri.getPath() if uri.getScheme() == "file" else uri.toString()

    args.model_dir = qualified(args.model_dir)
    args.export_dir = qualified(args.export_dir)
    args.version = int(time.time())

    def parse(line):
        values = [int(x) for x in line.split(",")]
        return (values[1:], values[0])

    images_labels = sc.textFile(args.images_labels).map(parse).cache()
    args.train_count = images_labels.count()
    print("mnist_spark: %d rows, %d nodes, export %s/%d" % (args.train_count, args.cluster_size, args.export_dir, args.version))
    cluster = TFCluster.run(sc, main_fun, args, args.cluster_size, num_ps=0,
                            input_mode=TFCluster.InputMode.SPARK, master_node="chief")
    # Extra epochs of feed: every node must get enough rows for its steps.
    cluster.train(images_labels, args.epochs + 1)
    cluster.shutdown()
    print("MNIST_EXPORT %s/%d" % (args.export_dir, args.version))
    sc.stop()


if __name__ == "__main__":
    main()
