# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Published compatibility tables of the GPU deep-learning stack, as plain data.

Plain tuples and dicts only, so the module ships inside AnsiballZ with no data files.
Every table names where its rows come from; nothing here is derived or guessed.
The logic that reads these tables is in compat.py.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------
# NVIDIA driver <-> CUDA toolkit
# ---------------------------------------------------------------------------

CUDA_DRIVER_SOURCE = (
    "NVIDIA CUDA Toolkit Release Notes, table 'CUDA Toolkit and Corresponding Driver Versions', "
    "column 'Toolkit Driver Version / Linux x86_64' "
    "(https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html)"
)

# (release label as printed in the table, toolkit version, minimum Linux x86_64 driver).
# Rows read from copies of the table in public repositories that agree with each other
# (a TypeScript threshold list "Source: NVIDIA CUDA Toolkit release notes compatibility
# table" with 7.0-13.2, and a markdown copy with 7.0-12.4). For "GA" rows the version is
# major.minor.0, for "Update N" rows major.minor.N; before CUDA 11 the build number printed
# in the label is used. Newest first.
CUDA_MIN_DRIVER = (
    ("CUDA 13.2 Update 1", "13.2.1", "595.58.03"),
    ("CUDA 13.2 GA", "13.2.0", "595.45.04"),
    ("CUDA 13.1 Update 1", "13.1.1", "590.48.01"),
    ("CUDA 13.1 GA", "13.1.0", "590.44.01"),
    ("CUDA 13.0 Update 2", "13.0.2", "580.95.05"),
    ("CUDA 13.0 Update 1", "13.0.1", "580.82.07"),
    ("CUDA 13.0 GA", "13.0.0", "580.65.06"),
    ("CUDA 12.9 Update 1", "12.9.1", "575.57.08"),
    ("CUDA 12.9 GA", "12.9.0", "575.51.03"),
    ("CUDA 12.8 Update 1", "12.8.1", "570.124.06"),
    ("CUDA 12.8 GA", "12.8.0", "570.26"),
    ("CUDA 12.6 Update 3", "12.6.3", "560.35.05"),
    ("CUDA 12.6 Update 2", "12.6.2", "560.35.03"),
    ("CUDA 12.6 Update 1", "12.6.1", "560.35.03"),
    ("CUDA 12.6 GA", "12.6.0", "560.28.03"),
    ("CUDA 12.5 Update 1", "12.5.1", "555.42.06"),
    ("CUDA 12.5 GA", "12.5.0", "555.42.02"),
    ("CUDA 12.4 Update 1", "12.4.1", "550.54.15"),
    ("CUDA 12.4 GA", "12.4.0", "550.54.14"),
    ("CUDA 12.3 Update 1", "12.3.1", "545.23.08"),
    ("CUDA 12.3 GA", "12.3.0", "545.23.06"),
    ("CUDA 12.2 Update 2", "12.2.2", "535.104.05"),
    ("CUDA 12.2 Update 1", "12.2.1", "535.86.09"),
    ("CUDA 12.2 GA", "12.2.0", "535.54.03"),
    ("CUDA 12.1 Update 1", "12.1.1", "530.30.02"),
    ("CUDA 12.1 GA", "12.1.0", "530.30.02"),
    ("CUDA 12.0 Update 1", "12.0.1", "525.85.12"),
    ("CUDA 12.0 GA", "12.0.0", "525.60.13"),
    ("CUDA 11.8 GA", "11.8.0", "520.61.05"),
    ("CUDA 11.7 Update 1", "11.7.1", "515.48.07"),
    ("CUDA 11.7 GA", "11.7.0", "515.43.04"),
    ("CUDA 11.6 Update 2", "11.6.2", "510.47.03"),
    ("CUDA 11.6 Update 1", "11.6.1", "510.47.03"),
    ("CUDA 11.6 GA", "11.6.0", "510.39.01"),
    ("CUDA 11.5 Update 2", "11.5.2", "495.29.05"),
    ("CUDA 11.5 Update 1", "11.5.1", "495.29.05"),
    ("CUDA 11.5 GA", "11.5.0", "495.29.05"),
    ("CUDA 11.4 Update 4", "11.4.4", "470.82.01"),
    ("CUDA 11.4 Update 3", "11.4.3", "470.82.01"),
    ("CUDA 11.4 Update 2", "11.4.2", "470.57.02"),
    ("CUDA 11.4 Update 1", "11.4.1", "470.57.02"),
    ("CUDA 11.4.0 GA", "11.4.0", "470.42.01"),
    ("CUDA 11.3.1 Update 1", "11.3.1", "465.19.01"),
    ("CUDA 11.3.0 GA", "11.3.0", "465.19.01"),
    ("CUDA 11.2.2 Update 2", "11.2.2", "460.32.03"),
    ("CUDA 11.2.1 Update 1", "11.2.1", "460.32.03"),
    ("CUDA 11.2.0 GA", "11.2.0", "460.27.03"),
    ("CUDA 11.1.1 Update 1", "11.1.1", "455.32"),
    ("CUDA 11.1 GA", "11.1.0", "455.23"),
    ("CUDA 11.0.3 Update 1", "11.0.3", "450.51.06"),
    ("CUDA 11.0.2 GA", "11.0.2", "450.51.05"),
    ("CUDA 11.0.1 RC", "11.0.1", "450.36.06"),
    ("CUDA 10.2.89", "10.2.89", "440.33"),
    ("CUDA 10.1 (10.1.105 general release, and updates)", "10.1.105", "418.39"),
    ("CUDA 10.0.130", "10.0.130", "410.48"),
    ("CUDA 9.2 (9.2.148 Update 1)", "9.2.148", "396.37"),
    ("CUDA 9.2 (9.2.88)", "9.2.88", "396.26"),
    ("CUDA 9.1 (9.1.85)", "9.1.85", "390.46"),
    ("CUDA 9.0 (9.0.76)", "9.0.76", "384.81"),
    ("CUDA 8.0 (8.0.61 GA2)", "8.0.61", "375.26"),
    ("CUDA 8.0 (8.0.44)", "8.0.44", "367.48"),
    ("CUDA 7.5 (7.5.16)", "7.5.16", "352.31"),
    ("CUDA 7.0 (7.0.28)", "7.0.28", "346.46"),
)

MINOR_VERSION_COMPAT_SOURCE = (
    "NVIDIA CUDA Compatibility guide, 'Minor Version Compatibility', Table 1 'CUDA Toolkit 11.x, 12.x, "
    "and 13.x Driver Version Ranges' and its note on 450.80.02 "
    "(https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html)"
)

# CUDA major -> lowest driver that runs any toolkit of that major with minor version
# compatibility ("with limited feature-set": no PTX JIT of newer PTX, newer driver-side
# features missing). The guide gives 11.x >= 450 and names 450.80.02 as the driver that makes
# it work across 11.x; 12.x >= 525, where 525.60.13 is the CUDA 12.0 GA minimum above and the
# Linux driver the cuDNN support matrix lists for "cuDNN for CUDA 12.x"; 13.x >= 580, where
# 580.65.06 is the CUDA 13.0 GA minimum above. CUDA 10.x and older have no such mode.
MINOR_VERSION_COMPAT_MIN_DRIVER = {
    11: "450.80.02",
    12: "525.60.13",
    13: "580.65.06",
}

# ---------------------------------------------------------------------------
# cuDNN <-> CUDA
# ---------------------------------------------------------------------------

# Each row: cuDNN releases first..last (inclusive) and the CUDA toolkit versions
# (major.minor) their support matrix lists. "complete": False where the public copy of the
# matrix was cut off, so a CUDA version missing from the row is "unknown", not "incompatible".
CUDNN_CUDA = (
    {
        "first": "7.5.0", "last": "7.5.0",
        "cuda": ("10.0",),
        "complete": False,
        "source": "cuDNN 7.6.0 Support Matrix, Table 1, rows 'cuDNN 7.5.0' (copy cut off after the CUDA 10.0.x row) "
                  "(https://docs.nvidia.com/deeplearning/cudnn/archives/cudnn_760/cudnn-support-matrix/index.html)",
    },
    {
        "first": "7.5.1", "last": "7.5.1",
        "cuda": ("9.0", "9.2", "10.0", "10.1"),
        "complete": True,
        "source": "cuDNN 7.6.0 Support Matrix, Table 1, rows 'cuDNN 7.5.1' (CUDA 10.1.105, 10.0.x, 9.2.88, 9.0.176; "
                  "9.1.85 and 8.0.61 'Not Supported') "
                  "(https://docs.nvidia.com/deeplearning/cudnn/archives/cudnn_760/cudnn-support-matrix/index.html)",
    },
    {
        "first": "7.6.0", "last": "7.6.3",
        "cuda": ("9.0", "9.2", "10.0", "10.1"),
        "complete": True,
        "source": "cuDNN 8.0.3 Support Matrix, sections 'cuDNN 7.6.3' and 'cuDNN 7.5.1 - 7.6.2' "
                  "(https://docs.nvidia.com/deeplearning/cudnn/archives/cudnn-803/support-matrix/index.html)",
    },
    {
        "first": "7.6.4", "last": "7.6.5",
        "cuda": ("9.0", "9.2", "10.0", "10.1", "10.2"),
        "complete": True,
        "source": "cuDNN 8.0.3 Support Matrix, section 'cuDNN 7.6.4 - 7.6.5' "
                  "(https://docs.nvidia.com/deeplearning/cudnn/archives/cudnn-803/support-matrix/index.html)",
    },
    {
        "first": "8.0.0", "last": "8.0.1",
        "cuda": ("10.2", "11.0"),
        "complete": True,
        "source": "cuDNN 8.0.3 Support Matrix, section 'cuDNN 8.0.0 - 8.0.1 Preview' "
                  "(https://docs.nvidia.com/deeplearning/cudnn/archives/cudnn-803/support-matrix/index.html)",
    },
    {
        "first": "8.0.2", "last": "8.0.3",
        "cuda": ("10.1", "10.2", "11.0"),
        "complete": True,
        "source": "cuDNN 8.0.3 Support Matrix, section 'cuDNN 8.0.2 - 8.0.3' "
                  "(https://docs.nvidia.com/deeplearning/cudnn/archives/cudnn-803/support-matrix/index.html)",
    },
    {
        "first": "8.2.0", "last": "8.2.1",
        "cuda": ("10.2", "11.0", "11.1", "11.2", "11.3"),
        "complete": True,
        "source": "cuDNN 8.2.2 Support Matrix, Table 2 (cuDNN 8.2.0 and 8.2.1) "
                  "(https://docs.nvidia.com/deeplearning/cudnn/archives/cudnn-822/support-matrix/index.html)",
    },
    {
        "first": "8.2.2", "last": "8.2.2",
        "cuda": ("10.2", "11.0", "11.1", "11.2", "11.3", "11.4"),
        "complete": True,
        "source": "cuDNN 8.2.2 Support Matrix, Table 1 "
                  "(https://docs.nvidia.com/deeplearning/cudnn/archives/cudnn-822/support-matrix/index.html)",
    },
    {
        "first": "8.3.0", "last": "8.3.0",
        "cuda": ("11.0", "11.1", "11.2", "11.3", "11.4", "11.5"),
        "complete": False,
        "source": "cuDNN 8.3.0 Support Matrix, Table 1 (copy cut off after the CUDA 11.x rows) "
                  "(https://docs.nvidia.com/deeplearning/cudnn/archives/cudnn-830/pdf/cuDNN-Support-Matrix.pdf)",
    },
    {
        "first": "8.4.0", "last": "8.4.0",
        "cuda": ("10.2", "11.0", "11.1", "11.2", "11.3", "11.4", "11.5", "11.6"),
        "complete": True,
        "source": "cuDNN 8.4.0 Support Matrix, 'GPU, CUDA Toolkit, And CUDA Driver Requirements' "
                  "(https://docs.nvidia.com/deeplearning/cudnn/archives/cudnn-840/support-matrix/index.html)",
    },
    {
        "first": "8.5.0", "last": "8.5.0",
        "cuda": ("11.0", "11.1", "11.2", "11.3", "11.4", "11.5", "11.6", "11.7"),
        "complete": False,
        "source": "cuDNN 8.5.0 Support Matrix, Table 1 (copy cut off after the CUDA 11.x package) "
                  "(https://docs.nvidia.com/deeplearning/cudnn/archives/cudnn-850/pdf/cuDNN-Support-Matrix.pdf)",
    },
    {
        "first": "8.9.1", "last": "8.9.1",
        "cuda": ("11.0", "11.1", "11.2", "11.3", "11.4", "11.5", "11.6", "11.7", "11.8", "12.0", "12.1"),
        "complete": True,
        "source": "cuDNN 8.9.1 Support Matrix, Table 1 "
                  "(https://docs.nvidia.com/deeplearning/cudnn/archives/cudnn-891/support-matrix/index.html)",
    },
    {
        "first": "8.9.5", "last": "8.9.6",
        "cuda": ("11.0", "11.1", "11.2", "11.3", "11.4", "11.5", "11.6", "11.7", "11.8", "12.0", "12.1", "12.2"),
        "complete": True,
        "source": "cuDNN 8.9.5 and 8.9.6 Support Matrix, Table 1 "
                  "(https://docs.nvidia.com/deeplearning/cudnn/archives/cudnn-896/support-matrix)",
    },
    {
        "first": "9.0.0", "last": "9.0.0",
        "cuda": ("11.0", "11.1", "11.2", "11.3", "11.4", "11.5", "11.6", "11.7", "11.8",
                 "12.0", "12.1", "12.2", "12.3"),
        "complete": True,
        "source": "cuDNN 9.0.0 Support Matrix, 'Supported NVIDIA Hardware and CUDA Version' "
                  "(https://docs.nvidia.com/deeplearning/cudnn/backend/v9.0.0/reference/support-matrix.html)",
    },
    {
        "first": "9.5.0", "last": "9.5.1",
        "cuda": ("11.8", "12.0", "12.1", "12.2", "12.3", "12.4", "12.5", "12.6"),
        "complete": False,
        "source": "cuDNN 9.5.0 / 9.5.1 Support Matrix, 'Supported NVIDIA Hardware and CUDA Version' (the "
                  "dynamic-only CUDA 11.x row is not legible in the copy) "
                  "(https://docs.nvidia.com/deeplearning/cudnn/backend/v9.5.1/reference/support-matrix.html)",
    },
    {
        "first": "9.10.2", "last": "9.10.2",
        "cuda": ("11.8", "12.0", "12.1", "12.2", "12.3", "12.4", "12.5", "12.6", "12.8", "12.9"),
        "complete": False,
        "source": "cuDNN 9.10.2 Support Matrix, 'Supported NVIDIA Hardware and CUDA Version' (copy cut off "
                  "after the CUDA 11.8 row) "
                  "(https://docs.nvidia.com/deeplearning/cudnn/latest/support-matrix/index.html)",
    },
    {
        "first": "9.17.0", "last": "9.17.0",
        "cuda": ("12.0", "12.1", "12.2", "12.3", "12.4", "12.5", "12.6", "12.8", "12.9", "13.0", "13.1"),
        "complete": True,
        "source": "cuDNN 9.17.0 Support Matrix, 'Supported NVIDIA Hardware and CUDA Version' (rows 'cuDNN 9.17.0 "
                  "for CUDA 13.x' and 'for CUDA 12.x'; no CUDA 11.x package) "
                  "(https://docs.nvidia.com/deeplearning/cudnn/latest/reference/support-matrix.html)",
    },
)

# ---------------------------------------------------------------------------
# TensorFlow tested build configurations (Linux GPU)
# ---------------------------------------------------------------------------

TENSORFLOW_SOURCE = (
    "TensorFlow 'Build from source', section 'Tested build configurations', Linux, table 'GPU' "
    "(https://www.tensorflow.org/install/source#gpu; tensorflow/docs site/en/install/source.md, "
    "read at tensorflow/docs commit 7c36502 of 2026-03-11, rows tensorflow-2.21.0 down to tensorflow_gpu-1.0.0)"
)

# (version as printed, Python versions, cuDNN, CUDA). Newest first. Looked up by
# major.minor of the given TensorFlow version (the table has one row per minor release).
TENSORFLOW_GPU = (
    ("tensorflow-2.21.0", "3.10-3.13", "9.3", "12.5"),
    ("tensorflow-2.20.0", "3.9-3.13", "9.3", "12.5"),
    ("tensorflow-2.19.0", "3.9-3.12", "9.3", "12.5"),
    ("tensorflow-2.18.0", "3.9-3.12", "9.3", "12.5"),
    ("tensorflow-2.17.0", "3.9-3.12", "8.9", "12.3"),
    ("tensorflow-2.16.1", "3.9-3.12", "8.9", "12.3"),
    ("tensorflow-2.15.0", "3.9-3.11", "8.9", "12.2"),
    ("tensorflow-2.14.0", "3.9-3.11", "8.7", "11.8"),
    ("tensorflow-2.13.0", "3.8-3.11", "8.6", "11.8"),
    ("tensorflow-2.12.0", "3.8-3.11", "8.6", "11.8"),
    ("tensorflow-2.11.0", "3.7-3.10", "8.1", "11.2"),
    ("tensorflow-2.10.0", "3.7-3.10", "8.1", "11.2"),
    ("tensorflow-2.9.0", "3.7-3.10", "8.1", "11.2"),
    ("tensorflow-2.8.0", "3.7-3.10", "8.1", "11.2"),
    ("tensorflow-2.7.0", "3.7-3.9", "8.1", "11.2"),
    ("tensorflow-2.6.0", "3.6-3.9", "8.1", "11.2"),
    ("tensorflow-2.5.0", "3.6-3.9", "8.1", "11.2"),
    ("tensorflow-2.4.0", "3.6-3.8", "8.0", "11.0"),
    ("tensorflow-2.3.0", "3.5-3.8", "7.6", "10.1"),
    ("tensorflow-2.2.0", "3.5-3.8", "7.6", "10.1"),
    ("tensorflow-2.1.0", "2.7, 3.5-3.7", "7.6", "10.1"),
    ("tensorflow-2.0.0", "2.7, 3.3-3.7", "7.4", "10.0"),
    ("tensorflow_gpu-1.15.0", "2.7, 3.3-3.7", "7.4", "10.0"),
    ("tensorflow_gpu-1.14.0", "2.7, 3.3-3.7", "7.4", "10.0"),
    ("tensorflow_gpu-1.13.1", "2.7, 3.3-3.7", "7.4", "10.0"),
    ("tensorflow_gpu-1.12.0", "2.7, 3.3-3.6", "7", "9"),
    ("tensorflow_gpu-1.11.0", "2.7, 3.3-3.6", "7", "9"),
    ("tensorflow_gpu-1.10.0", "2.7, 3.3-3.6", "7", "9"),
    ("tensorflow_gpu-1.9.0", "2.7, 3.3-3.6", "7", "9"),
    ("tensorflow_gpu-1.8.0", "2.7, 3.3-3.6", "7", "9"),
    ("tensorflow_gpu-1.7.0", "2.7, 3.3-3.6", "7", "9"),
    ("tensorflow_gpu-1.6.0", "2.7, 3.3-3.6", "7", "9"),
    ("tensorflow_gpu-1.5.0", "2.7, 3.3-3.6", "7", "9"),
    ("tensorflow_gpu-1.4.0", "2.7, 3.3-3.6", "6", "8"),
    ("tensorflow_gpu-1.3.0", "2.7, 3.3-3.6", "6", "8"),
    ("tensorflow_gpu-1.2.0", "2.7, 3.3-3.6", "5.1", "8"),
    ("tensorflow_gpu-1.1.0", "2.7, 3.3-3.6", "5.1", "8"),
    ("tensorflow_gpu-1.0.0", "2.7, 3.3-3.6", "5.1", "8"),
)

# TensorFlow refuses a cuDNN with another major or an older minor than it was built with:
# "CuDNN library needs to have matching major version and equal or higher minor version"
# (tensorflow/stream_executor/cuda/cuda_dnn.cc, the 'Loaded runtime CuDNN library: ... but
# source was compiled with: ...' error).
TENSORFLOW_CUDNN_RULE_SOURCE = "tensorflow cuda_dnn.cc 'Loaded runtime CuDNN library ... but source was compiled with'"

# ---------------------------------------------------------------------------
# TensorFlow <-> tensorflow-io (HDFS and other file systems)
# ---------------------------------------------------------------------------

TENSORFLOW_IO_SOURCE = (
    "tensorflow/io README.md, table 'TensorFlow I/O Version | TensorFlow Compatibility' "
    "(https://github.com/tensorflow/io#tensorflow-version-compatibility); the tensorflow-io 0.37.1 wheel's "
    "METADATA pins the same through its extras (tensorflow-cpu <2.17.0,>=2.16.0)"
)

# (tensorflow-io release, the TensorFlow major.minor it is built against). Newest first.
# tensorflow-io's shared objects link against TensorFlow's C++ symbols, so a TensorFlow other
# than the one a release was built for may fail to load them; then hdfs:// is "not implemented".
TENSORFLOW_IO_MEASURED_SOURCE = (
    "measured for dlstack.cdh: pip install of the pair on Python 3.11, import tensorflow_io, then a TFRecord "
    "written to and read back from hdfs:// of an Apache Hadoop 3.5.0 NameNode (libhdfs from Hadoop's C sources)"
)
# Pairs outside the table that were measured: (tensorflow-io, TensorFlow major.minor) -> worked.
# tensorflow-cpu 2.18.1 + 0.37.1: "undefined symbol: _ZN3tsl8str_util8EndsWith..." and hdfs:// not
# implemented; tensorflow-cpu 2.17.1 + 0.37.1 loads and reads and writes hdfs://.
TENSORFLOW_IO_MEASURED = {
    ("0.37.1", "2.17"): True,
    ("0.37.1", "2.18"): False,
}
TENSORFLOW_IO = (
    ("0.37.1", "2.16"),
    ("0.37.0", "2.16"),
    ("0.36.0", "2.15"),
    ("0.35.0", "2.14"),
    ("0.34.0", "2.13"),
    ("0.33.0", "2.13"),
    ("0.32.0", "2.12"),
    ("0.31.0", "2.11"),
    ("0.30.0", "2.11"),
    ("0.29.0", "2.11"),
    ("0.28.0", "2.11"),
    ("0.27.0", "2.10"),
    ("0.26.0", "2.9"),
    ("0.25.0", "2.8"),
    ("0.24.0", "2.8"),
    ("0.23.1", "2.7"),
    ("0.23.0", "2.7"),
    ("0.22.0", "2.7"),
    ("0.21.0", "2.6"),
    ("0.20.0", "2.6"),
    ("0.19.1", "2.5"),
    ("0.19.0", "2.5"),
    ("0.18.0", "2.5"),
    ("0.17.1", "2.4"),
    ("0.17.0", "2.4"),
    ("0.16.0", "2.3"),
    ("0.15.0", "2.3"),
    ("0.14.0", "2.2"),
    ("0.13.0", "2.2"),
    ("0.12.0", "2.1"),
    ("0.11.0", "2.1"),
    ("0.10.0", "2.0"),
    ("0.9.1", "2.0"),
    ("0.9.0", "2.0"),
    ("0.8.1", "1.15"),
    ("0.8.0", "1.15"),
    ("0.7.2", "1.14"),
    ("0.7.1", "1.14"),
    ("0.7.0", "1.14"),
)

# ---------------------------------------------------------------------------
# BVLC Caffe 1.0 build patches
# ---------------------------------------------------------------------------

# Caffe 1.0 calls CodedInputStream::SetTotalBytesLimit(kProtoReadBytesLimit, 536870912)
# in src/caffe/util/io.cpp. protobuf deprecated the second argument in 3.6.0 (it is ignored
# from then on) and removed the two-argument overload in 3.18.0 (protocolbuffers/protobuf
# PR #8794, merged 2021-07; apache/brpc PR #1678 "compatible with protobuf after v3.18.0").
# So: 3.6 <= protobuf < 3.18 compiles with a deprecation warning, >= 3.18 does not compile.
# Note: this is 3.18, not 3.21 as sometimes quoted; 3.21 is simply the first 'protobuf 21.x'
# release many distributions ship, which is also >= 3.18.
CAFFE_PROTOBUF = {
    "deprecated_from": "3.6.0",
    "removed_from": "3.18.0",
    "patch": {
        "id": "caffe-protobuf-settotalbyteslimit",
        "component": "caffe",
        "files": ["src/caffe/util/io.cpp"],
        "description": "call coded_input->SetTotalBytesLimit(kProtoReadBytesLimit) with one argument "
                       "(the two-argument overload was removed in protobuf 3.18.0)",
        "source": "https://github.com/protocolbuffers/protobuf/pull/8794 ; https://github.com/BVLC/caffe/pull/7044",
    },
}

# OpenCV 4 no longer defines the C constants CV_LOAD_IMAGE_* by default (they moved to
# opencv2/imgcodecs/legacy/constants_c.h); Caffe 1.0 uses them in src/caffe/util/io.cpp and
# src/caffe/layers/window_data_layer.cpp (BVLC/caffe issue #6680, PRs #6625, #6885, #7065).
CAFFE_OPENCV = {
    "removed_from": "4.0.0",
    "patch": {
        "id": "caffe-opencv4-imread-constants",
        "component": "caffe",
        "files": ["src/caffe/util/io.cpp", "src/caffe/layers/window_data_layer.cpp"],
        "description": "replace CV_LOAD_IMAGE_COLOR with cv::IMREAD_COLOR and CV_LOAD_IMAGE_GRAYSCALE with "
                       "cv::IMREAD_GRAYSCALE (OpenCV 4 dropped the C constants)",
        "source": "https://github.com/BVLC/caffe/issues/6680 ; https://github.com/BVLC/caffe/pull/7065",
    },
}

# BVLC Caffe 1.0 <-> cuDNN. Its cuDNN layers call cudnnGetConvolutionForwardAlgorithm,
# cudnnGetConvolutionBackwardFilterAlgorithm and cudnnGetConvolutionBackwardDataAlgorithm
# (src/caffe/layers/cudnn_conv_layer.cpp at tag 1.0) with the *_SPECIFY_WORKSPACE_LIMIT
# preferences, which cuDNN 8 removed: building against cuDNN 8 fails with "was not declared in
# this scope" (BVLC/caffe issue #6970, cuDNN 8.0.3). include/caffe/util/cudnn.hpp at tag 1.0 has
# code paths for cuDNN >= 5 (CUDNN_VERSION_MIN(5, 0, 0)) and >= 6 (the cudnnSetConvolution2dDescriptor
# data type argument); docs/installation.md names cuDNN v6 and says older cuDNN is for older Caffe.
# Older than 5 is therefore not judged.
CAFFE_CUDNN = {
    "min": "5.0",
    "removed_from": "8.0",
    "source": "BVLC/caffe tag 1.0 include/caffe/util/cudnn.hpp and src/caffe/layers/cudnn_conv_layer.cpp; "
              "https://github.com/BVLC/caffe/issues/6970",
}

# The Caffe release these patches are about.
CAFFE_KNOWN = ("1.0",)

# ---------------------------------------------------------------------------
# Spark <-> Python <-> pyspark <-> TensorFlow (cluster profiles)
# ---------------------------------------------------------------------------

# Per Spark major.minor (the cluster's Spark and the pip pyspark of that release are the same
# code). "min": the lowest Python of the release's documentation overview ("Spark runs on Java
# ..., Python X+"), for Python 3 ("python2": the Python 2 release it also runs on); "listed": the newest Python its python/setup.py classifiers name, where read
# (None: not read, the documentation's "X+" is all there is); "broken_from": the first Python
# known not to work. Newest first.
SPARK_PYTHON = (
    {"spark": "4.0", "min": "3.9", "listed": None, "broken_from": None,
     "source": "Spark 4.0 documentation overview 'Python 3.9+' (https://spark.apache.org/docs/4.0.0/)"},
    {"spark": "3.5", "min": "3.8", "listed": "3.11", "broken_from": None,
     "source": "Spark 3.5 documentation overview 'Python 3.8+' (https://spark.apache.org/docs/3.5.3/); "
               "pyspark 3.5.7 PKG-INFO classifiers 3.8-3.11, Requires-Python >=3.8"},
    {"spark": "3.4", "min": "3.7", "listed": None, "broken_from": None,
     "source": "Spark 3.4 documentation overview 'Python 3.7+' (https://spark.apache.org/docs/3.4.4/)"},
    {"spark": "3.3", "min": "3.7", "listed": None, "broken_from": None,
     "source": "Spark 3.3 documentation overview 'Python 3.7+' (https://spark.apache.org/docs/3.3.4/)"},
    {"spark": "3.2", "min": "3.6", "listed": None, "broken_from": None,
     "source": "Spark 3.2 documentation overview 'Python 3.6+' (https://spark.apache.org/docs/3.2.4/)"},
    {"spark": "3.1", "min": "3.6", "listed": None, "broken_from": None,
     "source": "Spark 3.1 documentation overview 'Python 3.6+' (https://spark.apache.org/docs/3.1.3/)"},
    {"spark": "3.0", "min": "3.4", "python2": "2.7", "listed": None, "broken_from": None,
     "source": "Spark 3.0 documentation overview 'Python 2.7+/3.4+' (https://spark.apache.org/docs/3.0.3/); "
               "Python 3.8 support is SPARK-29536 (apache/spark PR #26194, cloudpickle 1.1.1), first released in 3.0.0"},
    {"spark": "2.4", "min": "3.4", "python2": "2.7", "listed": None, "broken_from": "3.8",
     "source": "Spark 2.4 documentation overview 'Python 2.7+/3.4+' (https://spark.apache.org/docs/2.4.8/); "
               "PySpark 2.4 fails on Python 3.8 (its bundled cloudpickle): SPARK-29536, fixed only in Spark 3.0.0 "
               "(apache/spark PR #26194)"},
    {"spark": "2.3", "min": "3.4", "python2": "2.7", "listed": None, "broken_from": "3.8",
     "source": "Spark 2.3 documentation overview 'Python 2.7+/3.4+' (https://spark.apache.org/docs/2.3.4/); "
               "the same bundled cloudpickle as 2.4 (SPARK-29536)"},
)

# The pip pyspark drives the cluster's Spark JVM classes through Py4J by method name, so the two
# must be the same Spark release (major.minor): pyspark's PyPI description says the Python packaged
# version "is suitable for interacting with an existing cluster", i.e. one of its own version.
SPARK_PYSPARK_RULE_SOURCE = (
    "pyspark on PyPI: 'suitable for interacting with an existing cluster' (of the same Spark release; "
    "Python and JVM sides talk through Py4J by method name)"
)

# ---------------------------------------------------------------------------
# GPU architecture <-> driver branch / CUDA / kernel module flavour
# ---------------------------------------------------------------------------

GPU_ARCH_SOURCE = (
    "NVIDIA 'CUDA and Architecture Matrix' (CUDA 11.x documentation, reproduced by Phoronix/wccftech 2021: "
    "first and last CUDA toolkit, last driver branch per compute capability); CUDA 12.8 Toolkit Release Notes "
    "'Deprecated Architectures' (Maxwell, Pascal, Volta: offline compilation and library support removed in the "
    "next major toolkit, quoted in pytorch/pytorch#157517; NVIDIA/cuDecomp#97: CUDA 13.0 dropped SM70); NVIDIA "
    "Driver Installation Guide 'Kernel Modules' (open modules Turing and newer only, proprietary required for "
    "Maxwell, Pascal, Volta); R580 as the Maxwell-Volta legacy branch (NixOS wiki 'legacy_580, aka Maxwell-Volta', "
    "GLFS 'NVIDIA-r580 ... Maxwell through Blackwell'); Blackwell only with open modules (NixOS wiki: data center "
    "GPUs from Grace Hopper or Blackwell must use the open modules) and from CUDA 12.8 (cuDNN 9.10.2 support "
    "matrix: compute capability 10.0 / 12.0 only in its CUDA 12.8-12.9 package)"
)

# Per architecture: compute capabilities, first CUDA toolkit that targets it (None: not read),
# last CUDA toolkit ("11" = any 11.x; None: still supported), last driver branch (None: current),
# and which kernel module flavour drives it ("both", "proprietary", "open"; None: not read).
# Ada Lovelace and Hopper rows carry no first CUDA and Hopper no module flavour (the sources name
# Grace Hopper, not every Hopper part): not read, so not judged. Volta's 7.2 is Xavier (cuDNN 7.6
# support matrix); Blackwell's capabilities are the SM100/103/120/121 of cuRANDDx 0.2.0's notes.
GPU_ARCH = (
    {"arch": "Fermi", "cc": ("2.0",), "first_cuda": "3.0", "last_cuda": "8.0", "last_branch": 390,
     "modules": "proprietary"},
    {"arch": "Kepler", "cc": ("3.0", "3.2"), "first_cuda": "6.0", "last_cuda": "10.2", "last_branch": 470,
     "modules": "proprietary"},
    {"arch": "Kepler", "cc": ("3.5", "3.7"), "first_cuda": "6.0", "last_cuda": "11", "last_branch": 470,
     "modules": "proprietary"},
    {"arch": "Maxwell", "cc": ("5.0", "5.2", "5.3"), "first_cuda": "6.5", "last_cuda": "12", "last_branch": 580,
     "modules": "proprietary"},
    {"arch": "Pascal", "cc": ("6.0", "6.1"), "first_cuda": "8.0", "last_cuda": "12", "last_branch": 580,
     "modules": "proprietary"},
    {"arch": "Volta", "cc": ("7.0", "7.2"), "first_cuda": "9.0", "last_cuda": "12", "last_branch": 580,
     "modules": "proprietary"},
    {"arch": "Turing", "cc": ("7.5",), "first_cuda": "10.0", "last_cuda": None, "last_branch": None,
     "modules": "both"},
    {"arch": "Ampere", "cc": ("8.0", "8.6"), "first_cuda": "11.0", "last_cuda": None, "last_branch": None,
     "modules": "both"},
    {"arch": "Ada Lovelace", "cc": ("8.9",), "first_cuda": None, "last_cuda": None, "last_branch": None,
     "modules": "both"},
    {"arch": "Hopper", "cc": ("9.0",), "first_cuda": None, "last_cuda": None, "last_branch": None,
     "modules": None},
    {"arch": "Blackwell", "cc": ("10.0", "10.3", "12.0", "12.1"), "first_cuda": "12.8", "last_cuda": None,
     "last_branch": None, "modules": "open"},
)
