#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dl_stack_compat
short_description: Check that driver, CUDA, cuDNN, TensorFlow, tensorflow-io, Python and Caffe versions fit together
version_added: 0.1.0
description:
  - Checks every pair of the given versions against published compatibility tables and says, for each
    pair, whether it is compatible, compatible only through CUDA minor version compatibility, incompatible,
    unknown to the tables, or not checked because one side was not given.
  - "Tables used (cited row by row in C(plugins/module_utils/compat_data.py)): the NVIDIA CUDA Toolkit
    Release Notes table I(CUDA Toolkit and Corresponding Driver Versions) (Linux x86_64), the NVIDIA CUDA
    Compatibility guide I(Minor Version Compatibility), the NVIDIA cuDNN support matrices, the TensorFlow
    I(Tested build configurations) (Linux GPU), tensorflow-io's I(TensorFlow Version Compatibility) table, and the
    Python versions of each Spark release (Spark documentation, SPARK-29536)."
  - For BVLC Caffe 1.0 it reports the source patches that newer protobuf (two-argument
    C(SetTotalBytesLimit) removed in protobuf 3.18.0) and OpenCV 4 (C(CV_LOAD_IMAGE_*) constants gone)
    need. These are patches, not incompatibilities.
  - Only reads its arguments; it changes nothing on the target. The same check is available as the
    P(dlstack.cdh.dl_stack_compat#filter) filter, which never fails on incompatibility.
  - Versions are strings. Quote them in YAML (V('12.10') as a bare number would become 12.1).
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
extends_documentation_fragment:
  - dlstack.cdh.attributes
  - dlstack.cdh.attributes.info_module
options:
  driver_version:
    description:
      - NVIDIA Linux driver version, as C(nvidia-smi) reports it (for example V(535.183.01)).
    type: str
  cuda_version:
    description:
      - CUDA toolkit version. V(12.4) means the GA release; V(12.4.1) means CUDA 12.4 Update 1. Before
        CUDA 11 the build number (V(10.2.89)) or V(10.2) may be given.
    type: str
  cudnn_version:
    description:
      - cuDNN version (for example V(8.9.7) or V(9.0.0)).
      - A release between those the support matrix data lists is judged by the nearest release of its
        series, and the reason says so.
    type: str
  tensorflow_version:
    description:
      - TensorFlow version (for example V(2.15.0)); looked up by major.minor.
    type: str
  tensorflow_io_version:
    description:
      - tensorflow-io version installed with the TensorFlow (for example V(0.37.1)). From TensorFlow 2.6 on,
        C(hdfs://) is read only through tensorflow-io, and each tensorflow-io release loads only with the
        TensorFlow minor release it was built against.
    type: str
  python_version:
    description:
      - Python version the TensorFlow will run with (for example V(3.10) or V(3.10.12)).
    type: str
  caffe_version:
    description:
      - Caffe version. The build notes cover BVLC Caffe V(1.0).
    type: str
  spark_version:
    description:
      - The cluster's Spark version (for example V(2.4.7) on CDP 7.1.7, V(3.5.1)); looked up by major.minor.
      - Checked against O(python_version) (the Python versions that Spark release runs on; Spark 2.4 fails on
        Python 3.8 and later, SPARK-29536), O(pyspark_version) (same release) and O(tensorflow_version)
        (a Python version both run on).
    type: str
  pyspark_version:
    description:
      - The pip C(pyspark) of the Python environment (for example V(3.5.7)); it must be the cluster's Spark release.
    type: str
  protobuf_version:
    description:
      - protobuf version Caffe is built against (for example V(3.21.12)).
    type: str
  opencv_version:
    description:
      - OpenCV version Caffe is built against (for example V(4.6.0)).
    type: str
  strict:
    description:
      - When V(true), a pair the tables do not know (status V(unknown)) counts as a failure.
    type: bool
    default: false
  fail_on_incompatible:
    description:
      - When V(true), fail with the failing reasons joined as the message if the stack is not compatible.
      - When V(false), return RV(compatible=false) and let the play decide.
    type: bool
    default: true
notes:
  - Versions that are not dotted numbers fail with a message naming the option, before anything is checked.
  - Well-formed versions the tables do not contain give status V(unknown) with a reason, not an error.
seealso:
  - plugin: dlstack.cdh.dl_stack_compat
    plugin_type: filter
  - plugin: dlstack.cdh.cuda_min_driver
    plugin_type: filter
  - plugin: dlstack.cdh.cudnn_cuda_majors
    plugin_type: filter
  - name: CUDA Toolkit and Corresponding Driver Versions
    description: NVIDIA CUDA Toolkit Release Notes.
    link: https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html
  - name: CUDA Minor Version Compatibility
    description: NVIDIA CUDA Compatibility guide.
    link: https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html
  - name: TensorFlow tested build configurations
    description: Linux GPU table.
    link: https://www.tensorflow.org/install/source#gpu
  - name: TensorFlow I/O version compatibility
    description: tensorflow-io releases and the TensorFlow each is built against.
    link: https://github.com/tensorflow/io#tensorflow-version-compatibility
"""

EXAMPLES = r"""
- name: Refuse to go on with a driver too old for the CUDA toolkit
  dlstack.cdh.dl_stack_compat:
    driver_version: "{{ dlstack_driver_version }}"
    cuda_version: "{{ dlstack_cuda_version }}"

- name: Check the whole stack, decide later
  dlstack.cdh.dl_stack_compat:
    driver_version: "535.183.01"
    cuda_version: "12.2"
    cudnn_version: "8.9.7"
    tensorflow_version: "2.15.0"
    python_version: "3.11"
    strict: true
    fail_on_incompatible: false
  register: stack

- name: Show why
  ansible.builtin.debug:
    var: stack.reasons
  when: not stack.compatible

- name: Refuse a tensorflow-io that the TensorFlow cannot load (no hdfs:// then)
  dlstack.cdh.dl_stack_compat:
    tensorflow_version: "2.16.2"
    tensorflow_io_version: "0.37.1"

- name: Which Caffe patches does this protobuf / OpenCV need
  dlstack.cdh.dl_stack_compat:
    caffe_version: "1.0"
    protobuf_version: "3.21.12"
    opencv_version: "4.6.0"
  register: caffe_compat
"""

RETURN = r"""
compatible:
  description: V(true) when no pair is V(incompatible) (with O(strict), also none is V(unknown)).
  returned: always
  type: bool
  sample: false
strict:
  description: The O(strict) setting the verdict used.
  returned: always
  type: bool
  sample: false
checks:
  description: One entry per pair, in a fixed order (driver/cuda, cuda/cudnn, tensorflow/cuda, tensorflow/cudnn,
    tensorflow/python, tensorflow/tensorflow_io, caffe/protobuf, caffe/opencv, caffe/cudnn, then spark/python,
    pyspark/python, spark/pyspark, spark/tensorflow).
  returned: always
  type: list
  elements: dict
  contains:
    pair:
      description: The two components checked.
      type: str
      sample: driver/cuda
    status:
      description: One of V(ok), V(minor_version_compat), V(incompatible), V(unknown), V(not_checked).
      type: str
      sample: minor_version_compat
    reason:
      description: A sentence with the numbers the verdict used.
      type: str
      sample: >-
        CUDA 12.4 needs driver >= 550.54.14 (CUDA 12.4 GA); 535.183.01 is older; with minor version compatibility
        CUDA 12.x runs on >= 525.60.13 but without PTX JIT for newer architectures and without features that need
        the newer driver
reasons:
  description: The reasons of the failing checks (incompatible; with O(strict) also unknown).
  returned: always
  type: list
  elements: str
  sample: ["TensorFlow 2.15 (tensorflow-2.15.0) was tested with Python 3.9-3.11; 3.12 is outside"]
warnings_list:
  description: Things that work with a caveat (minor version compatibility, deprecated protobuf API).
  returned: always
  type: list
  elements: str
required_patches:
  description: Source patches the given Caffe needs with the given protobuf / OpenCV.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Stable name of the patch.
      type: str
      sample: caffe-protobuf-settotalbyteslimit
    component:
      description: What to patch.
      type: str
      sample: caffe
    files:
      description: Files the patch touches.
      type: list
      elements: str
      sample: ["src/caffe/util/io.cpp"]
    description:
      description: What to change.
      type: str
    source:
      description: Where the change is documented.
      type: str
suggestions:
  description: Nearest working choices for the given versions (newest CUDA the driver supports, minimum driver
    for the CUDA, cuDNN releases for the CUDA, TensorFlow versions tested with the CUDA / cuDNN).
  returned: always
  type: list
  elements: str
  sample: ["driver 535.183.01 fully supports up to CUDA 12.2 Update 2 (needs >= 535.104.05)"]
versions:
  description: The versions that were given, stripped.
  returned: always
  type: dict
  sample: {"driver_version": "535.183.01", "cuda_version": "12.4"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlstack.cdh.plugins.module_utils.compat import (
    INPUT_KEYS,
    CompatInputError,
    check_stack,
)


def main():
    argument_spec = dict((key, dict(type="str")) for key in INPUT_KEYS)
    argument_spec.update(
        strict=dict(type="bool", default=False),
        fail_on_incompatible=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    try:
        result = check_stack(dict((k, module.params[k]) for k in INPUT_KEYS), strict=module.params["strict"])
    except CompatInputError as exc:
        module.fail_json(msg=str(exc))

    if not result["compatible"] and module.params["fail_on_incompatible"]:
        module.fail_json(msg="; ".join(result["reasons"]), changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
