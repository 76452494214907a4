"""MNIST from IDX files in HDFS to the layout TensorFlowOnSpark's MNIST examples read.

TensorFlowOnSpark's own examples/mnist/mnist_data_setup.py (2.2.5) downloads MNIST with
tensorflow_datasets; this job writes the same output from the four IDX files that the
collection's mnist_idx module (or the original MNIST distribution) provides, so a cluster
without internet access can run the examples:

  <output>/csv/{train,test}  text, one image per line: label,784 pixel values
  <output>/tfr/{train,test}  TFRecords of tf.train.Example {label: int64, image: int64 x 784},
                             through the tensorflow-hadoop connector's TFRecordFileOutputFormat

Relative paths are relative to the user's HDFS home. Existing output directories are replaced.
"""

import argparse
import gzip
import posixpath
import re
import struct

import numpy as np
import tensorflow as tf
from pyspark.conf import SparkConf
from pyspark.context import SparkContext

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
BYTES = "org.apache.hadoop.io.BytesWritable"
NULL = "org.apache.hadoop.io.NullWritable"


def parse_idx(data):
    """An IDX file's unsigned bytes as an array of its shape (magic 0x0000 08 <ndim>)."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError("not an IDX file of unsigned bytes")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def to_csv(example):
    label, image = example
    return str(label) + "," + ",".join(str(int(v)) for v in image)


def to_tfr(example):
    label, image = example
    record = tf.train.Example(features=tf.train.Features(feature={
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
        "image": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in image])),
    }))
    return (bytearray(record.SerializeToString()), None)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--idx", required=True, help="HDFS directory with the four MNIST IDX files (gzipped or not)")
    parser.add_argument("--output", default="mnist", help="HDFS directory for csv/ and tfr/")
    parser.add_argument("--num_partitions", type=int, default=4)
    args = parser.parse_args()

    sc = SparkContext(conf=SparkConf().setAppName("mnist_data_setup"))
    jvm = sc._jvm  # pylint: disable=protected-access
    conf = sc._jsc.hadoopConfiguration()  # pylint: disable=protected-access
    files = {re.sub(r"[.]gz$", "", posixpath.basename(path)): data for path, data in sc.binaryFiles(args.idx).collect()}
    missing = sorted(name for pair in IDX_FILES.values() for name in pair if name not in files)
    if missing:
        raise SystemExit("mnist_data_setup: %s has no %s" % (args.idx, ", ".join(missing)))

    for split, (images_name, labels_name) in sorted(IDX_FILES.items()):
        images = parse_idx(files[images_name])
        labels = parse_idx(files[labels_name])
        if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
            raise SystemExit("mnist_data_setup: %s: %s images of %s, %s labels"
                             % (split, images.shape[0], images.shape[1:], labels.shape[0]))
        rows = [(int(label), image.reshape(784).tolist()) for label, image in zip(labels, images)]
        rdd = sc.parallelize(rows, args.num_partitions).cache()
        for kind in ("csv", "tfr"):
            out = jvm.org.apache.hadoop.fs.Path("%s/%s/%s" % (args.output, kind, split))
            out.getFileSystem(conf).delete(out, True)
        rdd.map(to_csv).saveAsTextFile("%s/csv/%s" % (args.output, split))
        rdd.map(to_tfr).saveAsNewAPIHadoopFile("%s/tfr/%s" % (args.output, split),
                                               "org.tensorflow.hadoop.io.TFRecordFileOutputFormat",
                                               keyClass=BYTES, valueClass=NULL)
        print("mnist_data_setup: %s: %d examples" % (split, len(rows)))
    sc.stop()


if __name__ == "__main__":
    main()
