"""Parallel MNIST inference with TensorFlowOnSpark's TFParallel and a SavedModel in HDFS.

Follows TensorFlowOnSpark's examples/mnist/keras/mnist_inference.py (2.2.5): one single-node
TensorFlow per executor loads the SavedModel (--export_dir: the versioned directory, as
mnist_spark.py exports it), reads its shard of the TFRecords (mnist_data_setup.py's tfr/test)
and writes "label prediction" lines to <output>/part-NNNNN. The serving signature's input and
output are looked up rather than named (Keras versions name them differently).
The driver then reads the predictions back and prints MNIST_INFERENCE {"count": ..., "accuracy": ...}.
"""

import argparse
import json


def inference(args, ctx):
    """One executor's shard."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    import tensorflow_io  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import

    predict = tf.saved_model.load(args.export_dir).signatures["serving_default"]
    input_name = list(predict.structured_input_signature[1])[0]
    features = {"label": tf.io.FixedLenFeature(1, tf.int64), "image": tf.io.FixedLenFeature(784, tf.int64)}

    def parse(record):
        example = tf.io.parse_single_example(record, features)
        return tf.reshape(tf.cast(example["image"], tf.float32) / 255.0, [28, 28, 1]), example["label"]

    files = tf.data.Dataset.list_files(args.images_labels + "/part-*", shuffle=False)
    dataset = files.shard(ctx.num_workers, ctx.worker_num).interleave(tf.data.TFRecordDataset).map(parse).batch(64)
    tf.io.gfile.makedirs(args.output)
    with tf.io.gfile.GFile("%s/part-%05d" % (args.output, ctx.worker_num), "w") as out:
        for images, labels in dataset:
            scores = list(predict(**{input_name: images}).values())[0]
            for label, prediction in zip(np.reshape(labels, -1), np.argmax(scores, axis=1)):
                out.write("%d %d\n" % (label, prediction))


def main():
    from pyspark.conf import SparkConf  # pylint: disable=import-outside-toplevel
    from pyspark.context import SparkContext  # pylint: disable=import-outside-toplevel
    from tensorflowonspark import TFParallel  # pylint: disable=import-outside-toplevel

    sc = SparkContext(conf=SparkConf().setAppName("mnist_inference"))
    executors = sc.getConf().get("spark.executor.instances")
    parser = argparse.ArgumentParser()
    parser.add_argument("--cluster_size", type=int, default=int(executors) if executors else 1)
    parser.add_argument("--images_labels", required=True, help="HDFS directory of the TFRecords")
    parser.add_argument("--export_dir", required=True, help="the SavedModel (a versioned directory)")
    parser.add_argument("--output", default="mnist_predictions")
    args = parser.parse_args()

    jvm = sc._jvm  # pylint: disable=protected-access
    conf = sc._jsc.hadoopConfiguration()  # pylint: disable=protected-access

    def qualified(path):
        hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
        return hadoop_path.getFileSystem(conf).makeQualified(hadoop_path)

    def for_tensorflow(path):
        # TensorFlow reads file:/x as a relative path: local paths go without the scheme.
        uri = path.toUri()
        return uri.getPath() if uri.getScheme() == "file" else uri.toString()

    output = qualified(args.output)
    output.getFileSystem(conf).delete(output, True)
    args.images_labels, args.export_dir, args.output = (
        for_tensorflow(qualified(args.images_labels)), for_tensorflow(qualified(args.export_dir)), for_tensorflow(output))
    TFParallel.run(sc, inference, args, args.cluster_size)

    pairs = sc.textFile(args.output).map(lambda line: line.split()).collect()
    correct = sum(1 for label, prediction in pairs if label == prediction)
    print("MNIST_INFERENCE " + json.dumps({"count": len(pairs), "accuracy": correct / len(pairs) if pairs else 0.0,
                                           "output": args.output, "export_dir": args.export_dir}))
    sc.stop()


if __name__ == "__main__":
    main()
