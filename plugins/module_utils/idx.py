# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IDX file format of the MNIST data set (pure Python, no numpy).

An IDX file is a big-endian header followed by the data: two zero bytes, one
byte for the element type (0x08 = unsigned byte), one byte for the number of
dimensions, then one uint32 per dimension. MNIST images are 0x00000803
(count, rows, cols) and labels 0x00000801 (count).
"""

from __future__ import annotations

import gzip
import struct
import zlib

UBYTE = 0x08
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

# The four files of the original distribution, in the order BigDL and Caffe read them.
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class IdxError(ValueError):
    """The bytes are not a well-formed IDX file."""


def encode(dims, payload):
    """Header for unsigned-byte data with ``dims`` followed by ``payload`` (bytes)."""
    expected = 1
    for dim in dims:
        expected *= dim
    if len(payload) != expected:
        raise IdxError("payload has %d bytes, dimensions %s need %d" % (len(payload), list(dims), expected))
    header = struct.pack(">BBBB", 0, 0, UBYTE, len(dims)) + struct.pack(">%dI" % len(dims), *dims)
    return header + bytes(payload)


def decode_header(data):
    """(magic, dims, header_length) of IDX bytes; raises IdxError when malformed."""
    if len(data) < 4:
        raise IdxError("shorter than the 4-byte magic number")
    zero1, zero2, kind, ndim = struct.unpack(">BBBB", data[:4])
    if zero1 or zero2:
        raise IdxError("magic number does not start with two zero bytes")
    if kind != UBYTE:
        raise IdxError("element type 0x%02x is not unsigned byte (0x08)" % kind)
    if ndim < 1:
        raise IdxError("no dimensions")
    header_length = 4 + 4 * ndim
    if len(data) < header_length:
        raise IdxError("header of %d dimensions is truncated" % ndim)
    dims = list(struct.unpack(">%dI" % ndim, data[4:header_length]))
    expected = 1
    for dim in dims:
        expected *= dim
    if len(data) - header_length != expected:
        raise IdxError("%d data bytes, dimensions %s need %d" % (len(data) - header_length, dims, expected))
    return struct.unpack(">I", data[:4])[0], dims, header_length


def maybe_gunzip(data):
    """The bytes themselves, or their decompression when they are gzip (magic 1f 8b).

    Raises IdxError when the gzip stream is broken: a bad header is OSError, a
    truncated one EOFError, and a damaged deflate body behind a valid header zlib.error.
    """
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise IdxError("broken gzip data: %s" % exc)
    return data


def describe(name, data):
    """Check ``data`` as the MNIST file ``name`` and return its magic, count and shape."""
    magic, dims, header_length = decode_header(data)
    want = IMAGES_MAGIC if "images" in name else LABELS_MAGIC
    if magic != want:
        raise IdxError("%s has magic 0x%08x, expected 0x%08x" % (name, magic, want))
    info = {"magic": "0x%08x" % magic, "count": dims[0], "shape": dims}
    if want == LABELS_MAGIC:
        labels = data[header_length:]
        bad = sorted(set(value for value in labels if value > 9))
        if bad:
            raise IdxError("%s has labels outside 0-9: %s" % (name, bad[:5]))
    return info


def upscale(image, factor, pad):
    """Nearest-neighbour upscale of a square list-of-rows image, then ``pad`` zero pixels on every side."""
    side = len(image) * factor + 2 * pad
    rows = [[0] * side for dummy in range(pad)]
    for row in image:
        wide = [0] * pad + [value for value in row for dummy in range(factor)] + [0] * pad
        rows.extend(list(wide) for dummy in range(factor))
    rows.extend([0] * side for dummy in range(pad))
    return rows


def digits_to_mnist(images, labels, test_count):
    """MNIST-format files from scikit-learn digits: 8x8 images with values 0-16.

    Values are scaled to 0-255, images upscaled 3x to 24x24 and padded by 2 to
    28x28 (MNIST also leaves a blank border). The last ``test_count`` samples
    are the t10k set. Returns {file name: bytes}; deterministic.
    """
    if len(images) != len(labels):
        raise IdxError("%d images but %d labels" % (len(images), len(labels)))
    if not 0 < test_count < len(images):
        raise IdxError("test_count must be between 1 and %d" % (len(images) - 1))
    pixels = []
    for image in images:
        if len(image) != 8 or any(len(row) != 8 for row in image):
            raise IdxError("digits images must be 8x8")
        scaled = [[int(round(float(value) * 255 / 16)) for value in row] for row in image]
        if any(value < 0 or value > 255 for row in scaled for value in row):
            raise IdxError("digits pixel values must be 0-16")
        pixels.append(bytes(value for row in upscale(scaled, 3, 2) for value in row))
    labels = [int(label) for label in labels]
    split = len(images) - test_count
    out = {}
    for prefix, start, stop in (("train", 0, split), ("t10k", split, len(images))):
        count = stop - start
        out["%s-images-idx3-ubyte" % prefix] = encode((count, 28, 28), b"".join(pixels[start:stop]))
        out["%s-labels-idx1-ubyte" % prefix] = encode((count,), bytes(labels[start:stop]))
    return out
