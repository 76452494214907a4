# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Coverage of the compatibility tables: no release series may have a silent gap, and the
mainstream stacks are accepted under strict while known-bad ones are refused."""

from __future__ import annotations

import pytest

from ansible_collections.dlstack.cdh.plugins.module_utils import compat_data as data
from ansible_collections.dlstack.cdh.plugins.module_utils.compat import (
    CompatInputError,
    check_gpu_arch,
    check_stack,
    cuda_driver_row,
    cudnn_bracket,
    cudnn_row,
    gpu_arch_row,
)
from ansible_collections.dlstack.cdh.plugins.module_utils.version import parse_version

# Every CUDA toolkit minor NVIDIA released from 7.5 on (there is no 12.7).
CUDA_RELEASED = {7: (5,), 8: (0,), 9: (0, 1, 2), 10: (0, 1, 2), 11: tuple(range(0, 9)),
                 12: (0, 1, 2, 3, 4, 5, 6, 8, 9), 13: (0, 1, 2)}

# cuDNN minors from 8.0 to the newest row in the data; each must have a row or be bracketed
# by rows of its major (compat.cudnn_bracket), so the matrices judge it.
CUDNN_MINORS = [(7, 5), (7, 6)] + [(8, m) for m in range(0, 10)] + [(9, m) for m in range(0, 18)]
# Series with no row and no bracket because no support matrix for them could be read yet
# (5.x, 6.x, 7.0-7.4). The test fails when one of them gets a row, so the list stays true.
CUDNN_UNCONFIRMED = [(5, 0), (5, 1), (6, 0)] + [(7, m) for m in range(0, 5)]

TF_MINORS = [(1, m) for m in range(0, 16)] + [(2, m) for m in range(0, 22)]


def _tf_minors():
    return {parse_version(r[0].split("-", 1)[1])[:2] for r in data.TENSORFLOW_GPU}


def _judged(mm):
    key = mm + (0,)
    row, _inferred = cudnn_row(key)
    older, newer = cudnn_bracket(key)
    return row is not None or (older is not None and newer is not None)


@pytest.mark.parametrize("major, minors", sorted(CUDA_RELEASED.items()))
def test_every_cuda_minor_has_a_minimum_driver(major, minors):
    missing = [m for m in minors if cuda_driver_row((major, m)) is None]
    assert not missing, "CUDA %d.%s missing from CUDA_MIN_DRIVER" % (major, missing)


def test_cuda_table_lists_no_unreleased_minor():
    listed = {parse_version(r[1])[:2] for r in data.CUDA_MIN_DRIVER} - {(7, 0)}
    expected = {(ma, mi) for ma, mis in CUDA_RELEASED.items() for mi in mis}
    assert listed == expected


def test_every_tensorflow_minor_is_listed():
    assert sorted(set(TF_MINORS) - _tf_minors()) == []


@pytest.mark.parametrize("mm", CUDNN_MINORS, ids=lambda mm: "%d.%d" % mm)
def test_every_cudnn_minor_is_judged_by_the_matrices(mm):
    assert _judged(mm), "cuDNN %d.%d has neither a row nor rows on both sides in CUDNN_CUDA" % mm


def test_unconfirmed_cudnn_series_are_still_missing():
    assert [mm for mm in CUDNN_UNCONFIRMED if cudnn_row(mm + (0,))[0] is not None] == []


def test_cudnn_rows_are_ordered_and_disjoint():
    rows = [(parse_version(r["first"]), parse_version(r["last"])) for r in data.CUDNN_CUDA]
    assert all(first <= last for first, last in rows)
    assert all(a[1] < b[0] for a, b in zip(rows, rows[1:]))


def test_every_row_names_its_source():
    assert all(r["source"] for r in data.CUDNN_CUDA)


@pytest.mark.parametrize("versions", [
    {"cudnn_version": "9.3.0", "cuda_version": "12.5", "tensorflow_version": "2.18.0", "python_version": "3.11"},
    {"cudnn_version": "8.6.0", "cuda_version": "11.8", "tensorflow_version": "2.12.0"},
    {"cudnn_version": "8.1.1", "cuda_version": "11.2", "tensorflow_version": "2.5.0"},
    {"cudnn_version": "9.12.0", "cuda_version": "12.9"},
], ids=["tf218", "cudnn86", "cudnn811", "cudnn912"])
def test_mainstream_stacks_accepted_under_strict(versions):
    result = check_stack(versions, strict=True)
    assert result["compatible"], result["reasons"]
    cuda_cudnn = [c for c in result["checks"] if c["pair"] == "cuda/cudnn"][0]
    assert cuda_cudnn["status"] == "ok"
    assert "between the" in cuda_cudnn["reason"]


@pytest.mark.parametrize("versions, pair, status", [
    ({"tensorflow_version": "2.18.0", "cuda_version": "11.8"}, "tensorflow/cuda", "incompatible"),
    ({"cudnn_version": "9.0.0", "cuda_version": "10.2"}, "cuda/cudnn", "incompatible"),
    ({"cudnn_version": "9.17.0", "cuda_version": "10.2"}, "cuda/cudnn", "incompatible"),
    ({"cudnn_version": "9.17.0", "cuda_version": "11.8"}, "cuda/cudnn", "incompatible"),  # 9.17 has no 11.x
    ({"cudnn_version": "9.3.0", "cuda_version": "10.2"}, "cuda/cudnn", "unknown"),
    ({"cudnn_version": "8.6.0", "cuda_version": "12.1"}, "cuda/cudnn", "unknown"),  # CUDA 12 came later in 8.x
])
def test_refused_under_strict(versions, pair, status):
    result = check_stack(versions, strict=True)
    assert not result["compatible"]
    check = [c for c in result["checks"] if c["pair"] == pair][0]
    assert check["status"] == status, check["reason"]


def test_cudnn_9_17_with_cuda_13():
    result = check_stack({"cudnn_version": "9.17.0", "cuda_version": "13.0"}, strict=True)
    assert result["compatible"], result["reasons"]


@pytest.mark.parametrize("cudnn, status", [
    ("5.1.10", "ok"),
    ("6.0", "ok"),
    ("7.6.5", "ok"),
    ("8.0.3", "incompatible"),   # BVLC/caffe#6970
    ("9.3.0", "incompatible"),
    ("4.0.7", "unknown"),
])
def test_caffe_cudnn(cudnn, status):
    result = check_stack({"caffe_version": "1.0", "cudnn_version": cudnn})
    check = [c for c in result["checks"] if c["pair"] == "caffe/cudnn"][0]
    assert check["status"] == status, check["reason"]


def test_caffe_cudnn_other_caffe_is_unknown():
    result = check_stack({"caffe_version": "0.17.3", "cudnn_version": "8.0.3"})
    assert [c["status"] for c in result["checks"] if c["pair"] == "caffe/cudnn"] == ["unknown"]


@pytest.mark.parametrize("tf", ["2.19.0", "2.20.0", "2.21.0"])
def test_newest_tensorflow_tested_with_cudnn_9_3_cuda_12_5(tf):
    result = check_stack({"tensorflow_version": tf, "cudnn_version": "9.3.0", "cuda_version": "12.5"}, strict=True)
    assert result["compatible"], result["reasons"]
    assert check_stack({"tensorflow_version": tf, "python_version": "3.14"})["compatible"] is False


@pytest.mark.parametrize("cc, kwargs, expected", [
    ("3.5", {"driver_version": "470.256.02"}, [("driver", "ok")]),
    ("3.7", {"driver_version": "535.183.01"}, [("driver", "incompatible")]),    # Kepler ends at R470
    ("3.5", {"cuda_version": "11.4"}, [("cuda", "ok")]),
    ("3.5", {"cuda_version": "12.0"}, [("cuda", "incompatible")]),              # Kepler ends at CUDA 11.x
    ("3.0", {"cuda_version": "11.0"}, [("cuda", "incompatible")]),              # 3.0 ends at CUDA 10.2
    ("6.1", {"driver_version": "580.95.05", "cuda_version": "12.9"}, [("driver", "ok"), ("cuda", "ok")]),
    ("7.0", {"driver_version": "590.44.01"}, [("driver", "incompatible")]),     # Maxwell-Volta end at R580
    ("5.2", {"cuda_version": "13.0"}, [("cuda", "incompatible")]),
    ("6.0", {"kernel_modules": "open"}, [("kernel_modules", "incompatible")]),
    ("7.5", {"kernel_modules": "proprietary", "cuda_version": "13.1"}, [("cuda", "ok"), ("kernel_modules", "ok")]),
    ("12.0", {"cuda_version": "12.6"}, [("cuda", "incompatible")]),             # Blackwell needs CUDA 12.8
    ("10.0", {"cuda_version": "12.8", "kernel_modules": "open"}, [("cuda", "ok"), ("kernel_modules", "ok")]),
    ("12.0", {"kernel_modules": "proprietary"}, [("kernel_modules", "incompatible")]),
    ("8.9", {"cuda_version": "11.8"}, [("cuda", "unknown")]),                   # first CUDA for Ada not read
    ("9.0", {"kernel_modules": "proprietary"}, [("kernel_modules", "unknown")]),
    ("1.3", {"driver_version": "340.108"}, [("driver", "unknown")]),
])
def test_check_gpu_arch(cc, kwargs, expected):
    got = check_gpu_arch(cc, **kwargs)
    assert [(t, s) for t, s, _r in got] == expected, got


def test_check_gpu_arch_reason_names_the_limit():
    (_topic, _status, reason), = check_gpu_arch("3.7", driver_version="535.183.01")
    assert reason == "Kepler (compute capability 3.7) is supported up to driver branch R470; 535.183.01 is R535"


def test_check_gpu_arch_bad_input():
    with pytest.raises(CompatInputError, match="kernel_modules"):
        check_gpu_arch("8.6", kernel_modules="nouveau")
    with pytest.raises(CompatInputError, match="compute_capability"):
        check_gpu_arch("sm_86")


def test_gpu_arch_capabilities_unique():
    ccs = [c for r in data.GPU_ARCH for c in r["cc"]]
    assert len(ccs) == len(set(ccs))
    assert gpu_arch_row("8.6")["arch"] == "Ampere"


@pytest.mark.parametrize("cuda, cudnn, status", [
    ("10.1", "7.5.1", "ok"),
    ("9.1", "7.5.1", "incompatible"),    # 'CUDA 9.1.85 (Not Supported)'
    ("8.0", "7.5.1", "incompatible"),
    ("10.0", "7.5.0", "ok"),
    ("9.0", "7.5.0", "unknown"),         # the available copy of the 7.5.0 rows is cut off
])
def test_cudnn_7_5(cuda, cudnn, status):
    check = [c for c in check_stack({"cuda_version": cuda, "cudnn_version": cudnn})["checks"]
             if c["pair"] == "cuda/cudnn"][0]
    assert check["status"] == status, check["reason"]
