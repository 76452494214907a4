# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spark_dl_libs staging MNIST from a mirror (tasks/mnist_mirror.yml), which no scenario uses.

Runs the real ``ansible-playbook`` against localhost: the mirror is a directory of gzipped IDX
files laid out as the original MNIST files are (big-endian header, then the bytes), given as a
file:// URL (downloaded to the cache, then decompressed) or as a directory on the node (checked
in place). Nothing outside tmp_path is written.
"""

from __future__ import annotations

import gzip
import hashlib
import struct

import pytest

from ansible_collections.dlstack.cdh.tests.unit.roles.test_common_role import _play
from ansible_collections.dlstack.cdh.tests.unit.roles.test_gpu_stack_roles import ANSIBLE_PLAYBOOK

pytestmark = pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible-playbook is not installed")

MIRROR = """\
    - name: Stage from the mirror
      ansible.builtin.include_role:
        name: dlstack.cdh.spark_dl_libs
        tasks_from: mnist_mirror
    - name: Result
      ansible.builtin.copy:
        dest: "{{ out_dir }}/result.json"
        mode: "0644"
        content: "{{ {'fetched': _common_fetched} | to_json }}"
"""


def _idx(magic, dims, payload):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload


def _mirror(tmp_path, train=3, test=2):
    """The four files, gzipped, and their sha256 as spark_dl_libs_mnist_checksums wants them."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    files = {
        "train-images-idx3-ubyte": _idx(0x803, (train, 28, 28), b"\x07" * (train * 784)),
        "train-labels-idx1-ubyte": _idx(0x801, (train,), bytes(i % 10 for i in range(train))),
        "t10k-images-idx3-ubyte": _idx(0x803, (test, 28, 28), b"\x09" * (test * 784)),
        "t10k-labels-idx1-ubyte": _idx(0x801, (test,), bytes(i % 10 for i in range(test))),
    }
    checksums = {}
    for name, data in files.items():
        packed = gzip.compress(data, mtime=0)
        (mirror / (name + ".gz")).write_bytes(packed)
        checksums[name + ".gz"] = hashlib.sha256(packed).hexdigest()
    return mirror, files, checksums


def _vars(tmp_path, mirror, checksums):
    return {
        "spark_dl_libs_mnist_mirror": mirror,
        "spark_dl_libs_mnist_checksums": checksums,
        "spark_dl_libs_cache_dir": str(tmp_path / "cache"),
        "spark_dl_libs_mnist_local_dir": str(tmp_path / "staged"),
    }


@pytest.mark.parametrize("as_url", [True, False], ids=["file-url", "node-directory"])
def test_mirror_files_are_checked_and_decompressed(tmp_path, as_url):
    mirror, files, checksums = _mirror(tmp_path)
    source = "file://%s/" % mirror if as_url else str(mirror)
    rc, output, data = _play(tmp_path, MIRROR, _vars(tmp_path, source, checksums))
    assert rc == 0, output
    for name, content in files.items():
        assert (tmp_path / "staged" / name).read_bytes() == content
    downloads = tmp_path / "cache" / "mnist-download"
    where = downloads if as_url else mirror
    assert data["fetched"] == dict(("%s/%s" % (where, name), True) for name in checksums)
    assert downloads.exists() == as_url

    # A second run finds everything in place.
    rc, output = _play(tmp_path, MIRROR, _vars(tmp_path, source, checksums))[:2]
    assert rc == 0, output
    assert "changed=0" in output, output


def test_a_file_with_another_sha256_stages_nothing(tmp_path):
    mirror, checksums = _mirror(tmp_path)[0::2]
    checksums["t10k-labels-idx1-ubyte.gz"] = "0" * 64
    rc, output, data = _play(tmp_path, MIRROR, _vars(tmp_path, "file://%s" % mirror, checksums))
    assert rc == 2, output
    assert "refused unless its sha256 matches" in output
    assert data is None
    assert not (tmp_path / "staged").exists()


def test_check_mode_downloads_and_stages_nothing(tmp_path):
    mirror, checksums = _mirror(tmp_path)[0::2]
    rc, output = _play(tmp_path, MIRROR, _vars(tmp_path, "file://%s" % mirror, checksums), check=True)[:2]
    assert rc == 0, output
    assert "MNIST mirror | Check and decompress the files" in output
    assert not (tmp_path / "cache").exists()
    assert not (tmp_path / "staged").exists()
