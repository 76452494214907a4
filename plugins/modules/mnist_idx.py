#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mnist_idx
short_description: Write the four MNIST IDX files, from a mirror copy or generated from scikit-learn's digits
version_added: "0.1.0"
description:
  - Writes C(train-images-idx3-ubyte), C(train-labels-idx1-ubyte), C(t10k-images-idx3-ubyte) and
    C(t10k-labels-idx1-ubyte) (uncompressed, as BigDL's LeNet example and Caffe's C(convert_mnist_data) read them)
    into O(dest).
  - With O(source=files) the files come from O(src), a directory holding the original files, gzipped
    (C(<name>.gz)) or not; each is checked (IDX magic number, element type, counts against the file length,
    labels 0-9, as many labels as images) before anything is written.
  - With O(source=digits) a small MNIST-format set is generated offline from the 1797 8x8 digits that ship inside
    scikit-learn (C(sklearn.datasets.load_digits)); pixel values 0-16 are scaled to 0-255, every image is upscaled
    3x to 24x24 and padded to 28x28. The output is deterministic. This needs numpy and scikit-learn in the
    interpreter the module runs with (set C(ansible_python_interpreter) on the task).
  - A file is rewritten only when its content differs from the wanted bytes (compared by SHA-256), atomically.
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
attributes:
  check_mode:
    support: full
  diff_mode:
    support: partial
    details: The diff lists the files that would change with their SHA-256 before and after, not their bytes.
options:
  dest:
    description: Directory to write the four files into; created (with its parents) when missing.
    type: path
    required: true
  source:
    description:
      - V(files) copies (and decompresses) checked files from O(src).
      - V(digits) generates them from scikit-learn's bundled digits data set.
    type: str
    choices: [files, digits]
    default: digits
  src:
    description:
      - Directory with the four original files, each as C(<name>) or C(<name>.gz), not both (the module fails
        rather than guess which one is current). Required with O(source=files).
      - Verify the downloads' checksums before (for example with M(ansible.builtin.get_url) C(checksum)).
    type: path
  test_count:
    description: With O(source=digits), how many of the 1797 samples (the last ones) form the t10k set.
    type: int
    default: 297
extends_documentation_fragment:
  - ansible.builtin.files
  - dlstack.cdh.attributes
requirements:
  - numpy and scikit-learn, only for O(source=digits)
seealso:
  - name: The MNIST database and its IDX format
    description: Original description of the file format.
    link: https://yann.lecun.com/exdb/mnist/
"""

EXAMPLES = r"""
- name: Generate a small MNIST-format set offline, with the Python that has scikit-learn
  dlstack.cdh.mnist_idx:
    dest: /var/lib/dlstack/mnist
    source: digits
    mode: "0644"
  vars:
    ansible_python_interpreter: /opt/dlstack/venv/bin/python

- name: Decompress and check the original files downloaded from a mirror
  dlstack.cdh.mnist_idx:
    dest: /var/lib/dlstack/mnist
    source: files
    src: /var/cache/dlstack/mnist-download
"""

RETURN = r"""
dest:
  description: The directory holding the files.
  returned: always
  type: str
  sample: /var/lib/dlstack/mnist
files:
  description: One entry per file, keyed by file name.
  returned: always
  type: dict
  contains:
    path:
      description: Path of the file.
      type: str
    sha256:
      description: SHA-256 of the (uncompressed) file.
      type: str
    magic:
      description: IDX magic number, C(0x00000803) for images and C(0x00000801) for labels.
      type: str
    count:
      description: Number of images or labels.
      type: int
    shape:
      description: All dimensions from the header (count, rows, columns for images).
      type: list
      elements: int
    changed:
      description: Whether the file was (or in check mode would be) written.
      type: bool
  sample:
    train-labels-idx1-ubyte:
      path: /var/lib/dlstack/mnist/train-labels-idx1-ubyte
      sha256: 4c3a1b7f0f2e4e4e9d2e0f3c4c6b8b5b2d0a9b1f3d2c4e5f6a7b8c9d0e1f2a3b
      magic: "0x00000801"
      count: 1500
      shape: [1500]
      changed: false
train_count:
  description: Number of training samples.
  returned: always
  type: int
  sample: 1500
test_count:
  description: Number of test samples.
  returned: always
  type: int
  sample: 297
"""

import hashlib
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.dlstack.cdh.plugins.module_utils.idx import (
    MNIST_FILES, IdxError, describe, digits_to_mnist, maybe_gunzip,
)

try:
    from sklearn.datasets import load_digits
    HAS_SKLEARN = True
    SKLEARN_IMPORT_ERROR = None
except ImportError:
    HAS_SKLEARN = False
    SKLEARN_IMPORT_ERROR = traceback.format_exc()


def read_sources(module, src):
    """{name: bytes} from ``src``, each plain or gzipped; fails naming the missing or broken file."""
    out = {}
    for name in MNIST_FILES:
        candidates = [os.path.join(src, name), os.path.join(src, name + ".gz")]
        found = [path for path in candidates if os.path.isfile(path)]
        if not found:
            module.fail_json(msg="%s: neither %s nor %s.gz exists" % (src, name, name))
        if len(found) > 1:
            # Picking either could use a stale leftover instead of the checksummed download.
            module.fail_json(msg="%s: both %s and %s.gz exist; remove the one that is not the verified download"
                             % (src, name, name))
        try:
            with open(found[0], "rb") as handle:
                out[name] = maybe_gunzip(handle.read())
        except (OSError, IdxError) as exc:
            module.fail_json(msg="cannot read %s: %s" % (found[0], exc))
    return out


def generate_digits(module, test_count):
    if not HAS_SKLEARN:
        module.fail_json(msg=missing_required_lib("scikit-learn (and numpy)"), exception=SKLEARN_IMPORT_ERROR)
    digits = load_digits()
    images = [[[float(value) for value in row] for row in image] for image in digits.images]
    labels = [int(label) for label in digits.target]
    return digits_to_mnist(images, labels, test_count)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            source=dict(type="str", default="digits", choices=["files", "digits"]),
            src=dict(type="path"),
            test_count=dict(type="int", default=297),
        ),
        required_if=[("source", "files", ["src"])],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    dest = params["dest"]
    if params["source"] == "files":
        if not os.path.isdir(params["src"]):
            module.fail_json(msg="src %s is not a directory" % params["src"])
        wanted = read_sources(module, params["src"])
    else:
        if params["src"]:
            module.fail_json(msg="src is only used with source=files")
        try:
            wanted = generate_digits(module, params["test_count"])
        except IdxError as exc:
            module.fail_json(msg=str(exc))

    # Check every file, and that images and labels agree, before writing any.
    files = {}
    try:
        for name in MNIST_FILES:
            files[name] = describe(name, wanted[name])
    except IdxError as exc:
        module.fail_json(msg=str(exc))
    for prefix in ("train", "t10k"):
        images, labels = files[prefix + "-images-idx3-ubyte"], files[prefix + "-labels-idx1-ubyte"]
        if images["count"] != labels["count"]:
            module.fail_json(msg="%s set has %d images but %d labels" % (prefix, images["count"], labels["count"]))
        if images["shape"][1:] != [28, 28]:
            module.fail_json(msg="%s images are %s, not 28x28" % (prefix, "x".join(str(d) for d in images["shape"][1:])))

    changed = False
    diff = {"before": {}, "after": {}}
    if not os.path.isdir(dest):
        changed = True
        diff["before"]["dest"], diff["after"]["dest"] = "absent", "directory"
        if not module.check_mode:
            os.makedirs(dest)
    for name in MNIST_FILES:
        path = os.path.join(dest, name)
        digest = hashlib.sha256(wanted[name]).hexdigest()
        current = module.sha256(path) if os.path.isfile(path) else None
        entry = files[name]
        entry.update(path=path, sha256=digest, changed=current != digest)
        if entry["changed"]:
            changed = True
            diff["before"][name] = current or "absent"
            diff["after"][name] = digest
            if not module.check_mode:
                # Written next to the target and renamed, so a reader never sees half a file.
                tmp = "%s.%d.tmp" % (path, os.getpid())
                with open(tmp, "wb") as handle:
                    handle.write(wanted[name])
                module.atomic_move(tmp, path)
        if not module.check_mode or os.path.exists(path):
            file_args = module.load_file_common_arguments(params, path=path)
            changed = module.set_fs_attributes_if_different(file_args, changed)

    result = dict(changed=changed, dest=dest, files=files,
                  train_count=files["train-labels-idx1-ubyte"]["count"],
                  test_count=files["t10k-labels-idx1-ubyte"]["count"])
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
