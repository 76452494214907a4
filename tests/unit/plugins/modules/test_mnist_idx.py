# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for dlstack.cdh.mnist_idx and module_utils/idx.

The IDX files are built here byte by byte from the format's definition (the original MNIST files
cannot be downloaded in this environment). scikit-learn is not installed in the unit-test
environment, so for source=digits ``load_digits`` is replaced by an object of the same shape
(``images`` 1797 x 8 x 8 with values 0-16, ``target`` 0-9); the molecule scenario spark_dl_libs
runs the module with the real scikit-learn.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import tempfile
from unittest.mock import patch

from ansible_collections.dlstack.cdh.plugins.module_utils import idx
from ansible_collections.dlstack.cdh.plugins.modules import mnist_idx
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleExitJson,
    AnsibleFailJson,
    ModuleTestCase,
    set_module_args,
)


def mnist_bytes(count, rows=28, cols=28, seed=0):
    images = bytes((seed + i * 7) % 256 for i in range(count * rows * cols))
    labels = bytes((seed + i) % 10 for i in range(count))
    return (struct.pack(">IIII", 0x803, count, rows, cols) + images, struct.pack(">II", 0x801, count) + labels)


class FakeDigits:
    """Same shape as sklearn.utils.Bunch from load_digits(): 1797 8x8 images, values 0-16."""

    def __init__(self):
        self.images = [[[(n + r * 8 + c) % 17 for c in range(8)] for r in range(8)] for n in range(1797)]
        self.target = [n % 10 for n in range(1797)]


class TestIdx(ModuleTestCase):
    def test_encode_and_decode_round_trip(self):
        data = idx.encode((2, 28, 28), bytes(2 * 784))
        self.assertEqual(data[:4], b"\x00\x00\x08\x03")
        self.assertEqual(idx.decode_header(data), (0x803, [2, 28, 28], 16))

    def test_decode_rejects_wrong_length_and_type(self):
        images, dummy = mnist_bytes(3)
        with self.assertRaises(idx.IdxError):
            idx.decode_header(images[:-1])
        with self.assertRaises(idx.IdxError):
            idx.decode_header(b"\x00\x00\x0d\x01" + struct.pack(">I", 0))
        with self.assertRaises(idx.IdxError):
            idx.decode_header(b"\x01\x00\x08\x01" + struct.pack(">I", 0))

    def test_describe_checks_magic_against_the_name(self):
        images, labels = mnist_bytes(2)
        self.assertEqual(idx.describe("t10k-labels-idx1-ubyte", labels), {"magic": "0x00000801", "count": 2, "shape": [2]})
        with self.assertRaisesRegex(idx.IdxError, "expected 0x00000803"):
            idx.describe("train-images-idx3-ubyte", labels)

    def test_describe_rejects_labels_above_nine(self):
        with self.assertRaisesRegex(idx.IdxError, "outside 0-9"):
            idx.describe("train-labels-idx1-ubyte", struct.pack(">II", 0x801, 2) + b"\x01\x0c")

    def test_upscale_pads_and_repeats(self):
        out = idx.upscale([[1, 2], [3, 4]], 3, 2)
        self.assertEqual(len(out), 10)
        self.assertEqual(out[2], [0, 0, 1, 1, 1, 2, 2, 2, 0, 0])
        self.assertEqual(out[5][2:8], [3, 3, 3, 4, 4, 4])
        self.assertEqual(out[0], [0] * 10)

    def test_digits_to_mnist_shapes_and_scaling(self):
        digits = FakeDigits()
        files = idx.digits_to_mnist(digits.images, digits.target, 297)
        self.assertEqual(idx.decode_header(files["train-images-idx3-ubyte"])[1], [1500, 28, 28])
        self.assertEqual(idx.decode_header(files["t10k-labels-idx1-ubyte"])[1], [297])
        first = files["train-images-idx3-ubyte"][16:16 + 784]
        # Pixel (0, 0) of the 8x8 image (value 0) sits at (2..4, 2..4); pixel (0, 1) = 1 -> round(255 / 16) = 16.
        self.assertEqual(first[2 * 28 + 5], 16)
        self.assertEqual(max(files["train-images-idx3-ubyte"][16:]), 255)
        self.assertEqual(files["t10k-labels-idx1-ubyte"][8], 1500 % 10)

    def test_digits_to_mnist_rejects_bad_split(self):
        digits = FakeDigits()
        with self.assertRaises(idx.IdxError):
            idx.digits_to_mnist(digits.images, digits.target, 1797)

    def test_maybe_gunzip(self):
        self.assertEqual(idx.maybe_gunzip(gzip.compress(b"abc")), b"abc")
        self.assertEqual(idx.maybe_gunzip(b"abc"), b"abc")

    def test_maybe_gunzip_damaged_deflate_body_is_idx_error(self):
        # Valid gzip header and trailer, reserved deflate block type (0b11) in between:
        # gzip.decompress raises zlib.error, which is neither OSError nor EOFError.
        good = gzip.compress(b"abc" * 100)
        with self.assertRaises(idx.IdxError):
            idx.maybe_gunzip(good[:10] + b"\xff" * 20 + good[-8:])


class TestMnistIdxModule(ModuleTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.src = os.path.join(self.tmp, "mirror")
        self.dest = os.path.join(self.tmp, "out", "mnist")
        os.makedirs(self.src)
        train_images, train_labels = mnist_bytes(5)
        test_images, test_labels = mnist_bytes(3, seed=4)
        self.originals = {
            "train-images-idx3-ubyte": train_images, "train-labels-idx1-ubyte": train_labels,
            "t10k-images-idx3-ubyte": test_images, "t10k-labels-idx1-ubyte": test_labels,
        }
        for name, data in self.originals.items():
            # Two gzipped, two plain, as mirrors differ.
            if "images" in name:
                with open(os.path.join(self.src, name + ".gz"), "wb") as handle:
                    handle.write(gzip.compress(data))
            else:
                with open(os.path.join(self.src, name), "wb") as handle:
                    handle.write(data)

    def run_module(self, args, check_mode=False):
        args = dict(args)
        if check_mode:
            args["_ansible_check_mode"] = True
        args["_ansible_diff"] = True
        with set_module_args(args):
            with self.assertRaises(AnsibleExitJson) as ctx:
                mnist_idx.main()
        return ctx.exception.result

    def fail_module(self, args):
        with set_module_args(args):
            with self.assertRaises(AnsibleFailJson) as ctx:
                mnist_idx.main()
        return ctx.exception.result

    def test_files_are_decompressed_checked_and_idempotent(self):
        args = {"dest": self.dest, "source": "files", "src": self.src, "mode": "0640"}
        result = self.run_module(args)
        self.assertTrue(result["changed"])
        self.assertEqual((result["train_count"], result["test_count"]), (5, 3))
        for name, data in self.originals.items():
            path = os.path.join(self.dest, name)
            with open(path, "rb") as handle:
                self.assertEqual(handle.read(), data)
            self.assertEqual(result["files"][name]["sha256"], hashlib.sha256(data).hexdigest())
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o640)
        self.assertEqual(result["files"]["t10k-images-idx3-ubyte"]["shape"], [3, 28, 28])
        again = self.run_module(args)
        self.assertFalse(again["changed"])
        self.assertFalse(any(entry["changed"] for entry in again["files"].values()))

    def test_check_mode_writes_nothing(self):
        result = self.run_module({"dest": self.dest, "source": "files", "src": self.src}, check_mode=True)
        self.assertTrue(result["changed"])
        self.assertFalse(os.path.exists(self.dest))
        self.assertEqual(result["diff"]["before"]["train-labels-idx1-ubyte"], "absent")

    def test_only_a_differing_file_is_rewritten(self):
        args = {"dest": self.dest, "source": "files", "src": self.src}
        self.run_module(args)
        with open(os.path.join(self.dest, "t10k-labels-idx1-ubyte"), "wb") as handle:
            handle.write(b"stale")
        result = self.run_module(args)
        self.assertTrue(result["changed"])
        self.assertEqual([name for name, entry in result["files"].items() if entry["changed"]], ["t10k-labels-idx1-ubyte"])

    def test_count_mismatch_fails_before_writing(self):
        dummy, labels = mnist_bytes(4)
        with open(os.path.join(self.src, "train-labels-idx1-ubyte"), "wb") as handle:
            handle.write(labels)
        result = self.fail_module({"dest": self.dest, "source": "files", "src": self.src})
        self.assertIn("5 images but 4 labels", result["msg"])
        self.assertFalse(os.path.exists(self.dest))

    def test_missing_file_is_named(self):
        os.unlink(os.path.join(self.src, "t10k-labels-idx1-ubyte"))
        result = self.fail_module({"dest": self.dest, "source": "files", "src": self.src})
        self.assertIn("t10k-labels-idx1-ubyte", result["msg"])

    def test_corrupt_gzip_fails(self):
        with open(os.path.join(self.src, "train-images-idx3-ubyte.gz"), "wb") as handle:
            handle.write(b"\x1f\x8bnot gzip")
        result = self.fail_module({"dest": self.dest, "source": "files", "src": self.src})
        self.assertIn("train-images-idx3-ubyte.gz", result["msg"])

    def test_damaged_deflate_body_fails_naming_the_file(self):
        good = gzip.compress(self.originals["train-images-idx3-ubyte"])
        with open(os.path.join(self.src, "train-images-idx3-ubyte.gz"), "wb") as handle:
            handle.write(good[:10] + b"\xff" * 20 + good[-8:])
        result = self.fail_module({"dest": self.dest, "source": "files", "src": self.src})
        self.assertIn("cannot read", result["msg"])
        self.assertIn("train-images-idx3-ubyte.gz", result["msg"])
        self.assertFalse(os.path.exists(self.dest))

    def test_plain_and_gzipped_copies_of_one_file_fail(self):
        # A stale plain file next to the checksummed .gz must not silently win.
        with open(os.path.join(self.src, "train-images-idx3-ubyte"), "wb") as handle:
            handle.write(self.originals["train-images-idx3-ubyte"])
        result = self.fail_module({"dest": self.dest, "source": "files", "src": self.src})
        self.assertIn("both train-images-idx3-ubyte and train-images-idx3-ubyte.gz exist", result["msg"])
        self.assertFalse(os.path.exists(self.dest))

    def test_digits_without_scikit_learn_fails_clearly(self):
        with patch.object(mnist_idx, "HAS_SKLEARN", False):
            result = self.fail_module({"dest": self.dest, "source": "digits"})
        self.assertIn("scikit-learn", result["msg"])

    def test_digits_are_deterministic(self):
        with patch.object(mnist_idx, "HAS_SKLEARN", True), \
                patch.object(mnist_idx, "load_digits", FakeDigits, create=True):
            first = self.run_module({"dest": self.dest, "source": "digits"})
            second = self.run_module({"dest": self.dest, "source": "digits"})
        self.assertTrue(first["changed"])
        self.assertFalse(second["changed"])
        self.assertEqual((first["train_count"], first["test_count"]), (1500, 297))
        self.assertEqual(first["files"]["train-images-idx3-ubyte"]["magic"], "0x00000803")
