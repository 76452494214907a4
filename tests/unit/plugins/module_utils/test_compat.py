# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Table-driven tests of module_utils/compat.py.

Expected values are the published numbers (CUDA release notes, CUDA compatibility guide,
cuDNN support matrices, TensorFlow tested build configurations), written out here again so a
wrong row in compat_data.py makes a test fail.
"""

from __future__ import annotations

import pytest

from ansible_collections.dlstack.cdh.plugins.module_utils import compat_data as data
from ansible_collections.dlstack.cdh.plugins.module_utils.compat import (
    INPUT_KEYS,
    CompatInputError,
    CompatLookupError,
    check_stack,
    cuda_min_driver,
    cudnn_cuda_majors,
)
from ansible_collections.dlstack.cdh.plugins.module_utils.version import parse_version


def _check(pair, **versions):
    result = check_stack(versions)
    matches = [c for c in result["checks"] if c["pair"] == pair]
    assert len(matches) == 1
    return matches[0], result


# ----------------------------------------------------------------------------- driver/cuda

@pytest.mark.parametrize("driver, cuda, status", [
    ("535.54.03", "12.2", "ok"),                     # exactly the CUDA 12.2 GA minimum
    ("535.54.02", "12.2", "minor_version_compat"),   # one below it, still >= 525.60.13
    ("535.183.01", "12.2", "ok"),
    ("535.183.01", "12.4", "minor_version_compat"),  # 12.4 GA needs 550.54.14
    ("550.54.14", "12.4", "ok"),
    ("550.54.14", "12.4.1", "minor_version_compat"),  # 12.4 Update 1 needs 550.54.15
    ("550.54.15", "12.4.1", "ok"),
    ("525.60.13", "12.4", "minor_version_compat"),   # exactly the 12.x minor-compat minimum
    ("525.60.12", "12.4", "incompatible"),
    ("525.60.13", "12.0", "ok"),
    ("520.61.05", "11.8", "ok"),
    ("450.80.02", "11.8", "minor_version_compat"),   # exactly the 11.x minor-compat minimum
    ("450.80.01", "11.8", "incompatible"),
    ("470.82.01", "12.0", "incompatible"),           # an 11.x-era driver never runs 12.x
    ("570.26", "12.8", "ok"),                        # two-component driver in the table
    ("560.35.05", "12.8", "minor_version_compat"),
    ("580.65.06", "13.0", "ok"),
    ("575.57.08", "13.0", "incompatible"),           # 13.x needs >= 580
    ("440.33", "10.2", "ok"),
    ("418.39", "10.2", "incompatible"),              # no minor version compatibility before 11
    ("418.39", "10.1.243", "ok"),                    # 10.1 '(10.1.105 general release, and updates)'
    ("396.26", "9.2", "ok"),
    ("396.26", "9.2.148", "incompatible"),           # 9.2.148 Update 1 needs 396.37
    ("375.26", "8.0", "ok"),                         # 8.0.44 needs 367.48, the GA row is the lower one
    ("367.48", "8.0.61", "incompatible"),            # 8.0.61 GA2 needs 375.26
    ("450.36.06", "11.0", "incompatible"),           # "11.0" is 11.0.2 GA (450.51.05), not the 11.0.1 RC
    ("450.51.05", "11.0", "ok"),
    ("450.36.06", "11.0.1", "ok"),
])
def test_driver_cuda(driver, cuda, status):
    check, _result = _check("driver/cuda", driver_version=driver, cuda_version=cuda)
    assert check["status"] == status, check["reason"]


def test_driver_cuda_reason_cites_the_numbers():
    check, result = _check("driver/cuda", driver_version="535.183.01", cuda_version="12.4")
    assert check["reason"].startswith(
        "CUDA 12.4 needs driver >= 550.54.14 (CUDA 12.4 GA); 535.183.01 is older; with minor version "
        "compatibility CUDA 12.x runs on >= 525.60.13 but without PTX JIT for newer architectures")
    assert result["compatible"] is True
    assert check["reason"] in result["warnings_list"]


def test_driver_cuda_pre_11_says_there_is_no_minor_version_compatibility():
    check, result = _check("driver/cuda", driver_version="410.48", cuda_version="10.2")
    assert check["reason"] == ("CUDA 10.2 needs driver >= 440.33 (CUDA 10.2.89); 410.48 is older and "
                               "CUDA 10.x has no minor version compatibility")
    assert result["reasons"] == [check["reason"]]
    assert result["compatible"] is False


@pytest.mark.parametrize("driver, cuda, status", [
    ("535.183.01", "12.7", "unknown"),        # no CUDA 12.7 row; the driver meets the 12.x minor-compat minimum
    ("470.82.01", "12.7", "incompatible"),    # below 525.60.13 rules out every 12.x
    ("600.1", "14.0", "unknown"),             # no table row and no minor-compat data for 14.x
])
def test_driver_cuda_unknown_cuda(driver, cuda, status):
    check, _result = _check("driver/cuda", driver_version=driver, cuda_version=cuda)
    assert check["status"] == status
    assert "CUDA %s is not in the table" % cuda in check["reason"]


# ----------------------------------------------------------------------------- cuda/cudnn

@pytest.mark.parametrize("cuda, cudnn, status", [
    ("12.2", "8.9.6", "ok"),
    ("11.8", "8.9.6", "ok"),
    ("11.0", "8.9.5", "ok"),
    ("12.3", "8.9.6", "unknown"),        # newer 12.x minor than the 8.9.6 matrix lists
    ("10.2", "8.9.6", "incompatible"),   # no CUDA 10 package in 8.9.x
    ("12.2", "8.9.1", "unknown"),        # 8.9.1 lists 12.0-12.1
    ("12.1", "8.9.1", "ok"),
    ("11.8", "9.0.0", "ok"),
    ("11.2", "9.0.0", "ok"),
    ("12.3", "9.0.0", "ok"),
    ("12.4", "9.0.0", "unknown"),
    ("10.2", "9.0.0", "incompatible"),
    ("12.6", "9.5.1", "ok"),
    ("12.9", "9.10.2", "ok"),
    ("10.2", "7.6.5", "ok"),
    ("10.2", "7.6.3", "incompatible"),   # 10.2 arrives with 7.6.4
    ("9.0", "7.6.0", "ok"),
    ("9.1", "7.6.4", "incompatible"),    # 'CUDA 9.1.85 (Not Supported)'
    ("11.0", "7.6.5", "incompatible"),
    ("10.1", "8.0.3", "ok"),
    ("10.1", "8.0.1", "incompatible"),   # 10.1 Update 2 only from 8.0.2
    ("11.4", "8.2.2", "ok"),
    ("11.4", "8.2.1", "unknown"),        # newer 11.x than 8.2.0-8.2.1 lists
    ("11.6", "8.4.0", "ok"),
    ("10.2", "8.4.0", "ok"),
    ("10.2", "8.3.0", "unknown"),        # the available copy of the 8.3.0 matrix is cut off
    ("12.1", "8.6.0", "unknown"),        # no 8.6 series in the data
])
def test_cuda_cudnn(cuda, cudnn, status):
    check, _result = _check("cuda/cudnn", cuda_version=cuda, cudnn_version=cudnn)
    assert check["status"] == status, check["reason"]


def test_cuda_cudnn_inferred_release_says_so():
    check, _result = _check("cuda/cudnn", cuda_version="12.2", cudnn_version="8.9.7")
    assert check["status"] == "ok"
    assert "cuDNN 8.9.5-8.9.6 support matrix" in check["reason"]
    assert "8.9.7 itself is not" in check["reason"]


@pytest.mark.parametrize("cudnn, majors", [
    ("8.9.7", [11, 12]),
    ("8.9.6", [11, 12]),
    ("9.0.0", [11, 12]),
    ("7.6.5", [9, 10]),
    ("8.4.0", [10, 11]),
    ("8.0.2", [10, 11]),
])
def test_cudnn_cuda_majors(cudnn, majors):
    assert cudnn_cuda_majors(cudnn) == majors


@pytest.mark.parametrize("cuda, driver", [
    ("12.2", "535.54.03"),
    ("12.2.2", "535.104.05"),
    ("12.4", "550.54.14"),
    ("12.0", "525.60.13"),
    ("11.8", "520.61.05"),
    ("11.0", "450.51.05"),   # 11.0.2 GA: the lower 11.0.1 RC row is a release candidate
    ("11.0.1", "450.36.06"),  # asked for by its own number, the RC row still answers
    ("11.0.3", "450.51.06"),
    ("10.1", "418.39"),
    ("9.0", "384.81"),
])
def test_cuda_min_driver(cuda, driver):
    assert cuda_min_driver(cuda) == driver


def test_lookups_unknown_and_garbage():
    with pytest.raises(CompatLookupError, match="CUDA 12.7 is not in the table"):
        cuda_min_driver("12.7")
    with pytest.raises(CompatLookupError, match="cuDNN 8.6.0"):
        cudnn_cuda_majors("8.6.0")
    with pytest.raises(CompatInputError, match="cuda_version 'twelve'"):
        cuda_min_driver("twelve")
    with pytest.raises(CompatInputError, match="cudnn_version"):
        cudnn_cuda_majors("")


# ----------------------------------------------------------------------------- tensorflow

@pytest.mark.parametrize("tf, cuda, status", [
    ("2.15.0", "12.2", "ok"),
    ("2.15.1", "12.2.2", "ok"),
    ("2.12.0", "11.8", "ok"),
    ("2.18.0", "12.5", "ok"),
    ("2.16.2", "12.3", "ok"),            # looked up by major.minor (row tensorflow-2.16.1)
    ("2.12.0", "12.2", "incompatible"),
    ("2.15.0", "12.4", "unknown"),       # same major, not the tested minor
    ("1.14.0", "10.0", "ok"),
    ("1.14.0", "10.1", "incompatible"),  # before CUDA 11 the sonames carry the minor
    ("1.12.0", "9.0", "ok"),             # the row says CUDA '9': built against libcudart.so.9.0
    ("1.12.0", "9.0.176", "ok"),
    ("1.12.0", "9.2", "incompatible"),   # '9' is not a prefix: 9.2 ships libcudart.so.9.2 only
    ("1.12.0", "9.2.148", "incompatible"),
    ("1.5.0", "9.1", "incompatible"),
    ("1.4.0", "8.0.61", "ok"),
    ("1.0.0", "8.0", "ok"),
    ("2.19.0", "12.5", "ok"),
    ("2.22.0", "12.5", "unknown"),       # not in the table
])
def test_tensorflow_cuda(tf, cuda, status):
    check, _result = _check("tensorflow/cuda", tensorflow_version=tf, cuda_version=cuda)
    assert check["status"] == status, check["reason"]


@pytest.mark.parametrize("tf, cudnn, status", [
    ("2.15.0", "8.9.7", "ok"),
    ("2.15.0", "8.6.0", "incompatible"),  # older minor than the build
    ("2.15.0", "9.0.0", "incompatible"),  # other major
    ("2.12.0", "8.9.7", "ok"),            # newer minor of the same major
    ("2.18.0", "9.3.0", "ok"),
    ("2.18.0", "9.1.0", "incompatible"),
    ("1.0.0", "5.1.10", "ok"),
    ("1.4.0", "6.0.21", "ok"),            # the row says cuDNN '6'
    ("1.4.0", "7.0.5", "incompatible"),
])
def test_tensorflow_cudnn(tf, cudnn, status):
    check, _result = _check("tensorflow/cudnn", tensorflow_version=tf, cudnn_version=cudnn)
    assert check["status"] == status, check["reason"]


@pytest.mark.parametrize("tf, python, status", [
    ("2.15.0", "3.11.9", "ok"),
    ("2.15.0", "3.9", "ok"),
    ("2.15.0", "3.12", "incompatible"),
    ("2.15.0", "3.8.18", "incompatible"),
    ("2.16.1", "3.12.1", "ok"),
    ("2.1.0", "2.7.18", "ok"),            # '2.7, 3.5-3.7'
    ("2.1.0", "3.4", "incompatible"),
    ("2.2.0", "2.7", "incompatible"),     # 2.2 dropped 2.7 ('3.5-3.8')
])
def test_tensorflow_python(tf, python, status):
    check, _result = _check("tensorflow/python", tensorflow_version=tf, python_version=python)
    assert check["status"] == status, check["reason"]


def test_tensorflow_reason_cites_the_row():
    check, _result = _check("tensorflow/python", tensorflow_version="2.15.0", python_version="3.12")
    assert check["reason"] == "TensorFlow 2.15 (tensorflow-2.15.0) was tested with Python 3.9-3.11; 3.12 is outside"


# ----------------------------------------------------------------------------- caffe

@pytest.mark.parametrize("protobuf, patch, warning", [
    ("3.21.12", True, False),
    ("3.18.0", True, False),    # the release that removed the two-argument overload
    ("3.17.3", False, True),    # deprecated, still compiles
    ("3.6.0", False, True),     # first release that deprecates it
    ("3.5.1", False, False),
    ("25.3", True, False),      # protobuf's newer 'major.minor' numbering
])
def test_caffe_protobuf(protobuf, patch, warning):
    check, result = _check("caffe/protobuf", caffe_version="1.0", protobuf_version=protobuf)
    assert check["status"] == "ok"
    ids = [p["id"] for p in result["required_patches"]]
    assert (ids == ["caffe-protobuf-settotalbyteslimit"]) is patch
    assert bool(result["warnings_list"]) is warning
    assert result["compatible"] is True


@pytest.mark.parametrize("opencv, patch", [("4.0.0", True), ("4.6.0", True), ("3.4.16", False), ("2.4.13", False)])
def test_caffe_opencv(opencv, patch):
    check, result = _check("caffe/opencv", caffe_version="1.0.0", opencv_version=opencv)
    assert check["status"] == "ok"
    assert ([p["id"] for p in result["required_patches"]] == ["caffe-opencv4-imread-constants"]) is patch


def test_caffe_other_release_is_unknown():
    check, _result = _check("caffe/protobuf", caffe_version="0.17.3", protobuf_version="3.21")
    assert check["status"] == "unknown"


def test_caffe_patch_files_are_copies():
    result = check_stack({"caffe_version": "1.0", "opencv_version": "4.6"})
    result["required_patches"][0]["files"].append("changed")
    assert "changed" not in data.CAFFE_OPENCV["patch"]["files"]


# ----------------------------------------------------------------------------- input handling

@pytest.mark.parametrize("key", INPUT_KEYS)
def test_garbage_names_the_field(key):
    with pytest.raises(CompatInputError, match="^%s 'banana' is not a version" % key):
        check_stack({key: "banana"})


@pytest.mark.parametrize("params, message", [
    ({"cuda_versoin": "12.2"}, "unknown key"),
    (["12.2"], "expected a dict"),
    ({"cuda_version": True}, "cuda_version True is not a version"),
    ({"cuda_version": ["12.2"]}, "is not a version"),
])
def test_bad_input(params, message):
    with pytest.raises(CompatInputError, match=message):
        check_stack(params)


def test_numbers_and_blanks():
    result = check_stack({"cuda_version": 11.8, "driver_version": "520.61.05", "cudnn_version": "  "})
    assert result["versions"] == {"cuda_version": "11.8", "driver_version": "520.61.05"}
    assert result["checks"][0]["status"] == "ok"
    assert result["checks"][1]["status"] == "not_checked"


def test_nothing_given_checks_nothing():
    result = check_stack({})
    assert result["compatible"] is True
    # 9 GPU/TensorFlow/Caffe pairs and 4 Spark pairs (test_compat_spark.py).
    assert [c["status"] for c in result["checks"]] == ["not_checked"] * 13
    assert result["reasons"] == [] and result["suggestions"] == []


def test_strict_turns_unknown_into_failure():
    versions = {"tensorflow_version": "2.15.0", "cuda_version": "12.4"}
    lenient = check_stack(versions)
    strict = check_stack(versions, strict=True)
    assert lenient["compatible"] is True and lenient["reasons"] == []
    assert strict["compatible"] is False
    assert strict["reasons"] == [c["reason"] for c in strict["checks"] if c["status"] == "unknown"]


def test_whole_stack_failure_collects_reasons():
    result = check_stack({"driver_version": "470.82.01", "cuda_version": "12.2", "cudnn_version": "8.9.7",
                          "tensorflow_version": "2.12.0", "python_version": "3.12"})
    statuses = dict((c["pair"], c["status"]) for c in result["checks"])
    assert statuses == {"driver/cuda": "incompatible", "cuda/cudnn": "ok", "tensorflow/cuda": "incompatible",
                        "tensorflow/cudnn": "ok", "tensorflow/python": "incompatible",
                        "tensorflow/tensorflow_io": "not_checked",
                        "caffe/protobuf": "not_checked", "caffe/opencv": "not_checked",
                        "caffe/cudnn": "not_checked",
                        "spark/python": "not_checked", "pyspark/python": "not_checked",
                        "spark/pyspark": "not_checked", "spark/tensorflow": "not_checked"}
    assert len(result["reasons"]) == 3 and result["compatible"] is False


# ----------------------------------------------------------------------------- suggestions

def test_suggestions():
    result = check_stack({"driver_version": "535.183.01", "cuda_version": "11.8", "cudnn_version": "8.9"})
    s = result["suggestions"]
    assert "driver 535.183.01 fully supports up to CUDA 12.2 Update 2 (needs >= 535.104.05)" in s
    assert "CUDA 11.8 needs driver >= 520.61.05 (CUDA 11.8 GA) for full compatibility" in s
    assert "TensorFlow versions tested with CUDA 11.8: 2.14, 2.13, 2.12" in s
    assert "TensorFlow versions tested with cuDNN 8.9: 2.17, 2.16, 2.15" in s
    assert any(x.startswith("cuDNN releases whose support matrix lists CUDA 11.8: 8.9.1, 8.9.5-8.9.6, 9.0.0") for x in s)


def test_tensorflow_1_cuda_9_means_9_0():
    check, result = _check("tensorflow/cuda", tensorflow_version="1.12.0", cuda_version="9.2")
    assert check["reason"] == (
        "TensorFlow 1.12 (tensorflow_gpu-1.12.0) was tested with CUDA 9.0; before CUDA 11 the library names "
        "carry the minor version (libcudart.so.9.0), so 9.2 does not provide them")
    assert result["compatible"] is False
    s = check_stack({"cuda_version": "9.2"})["suggestions"]
    assert "TensorFlow versions tested with CUDA 9.2: none" in s
    s = check_stack({"cuda_version": "9.0"})["suggestions"]
    assert "TensorFlow versions tested with CUDA 9.0: 1.12, 1.11, 1.10, 1.9, 1.8, 1.7, 1.6, 1.5" in s


def test_cuda_11_0_is_the_ga_row():
    check, _result = _check("driver/cuda", driver_version="450.51.05", cuda_version="11.0")
    assert check["reason"] == "CUDA 11.0 needs driver >= 450.51.05 (CUDA 11.0.2 GA); 450.51.05 meets it"


def test_suggestions_old_driver():
    s = check_stack({"driver_version": "340.1"})["suggestions"]
    assert s == ["driver 340.1 is older than every CUDA release in the table (oldest: CUDA 7.0 (7.0.28) needs >= 346.46)"]


# ----------------------------------------------------------------------------- the data itself

def test_driver_table_is_monotonic():
    """A newer toolkit never needs an older driver: catches a mistyped row."""
    rows = sorted(data.CUDA_MIN_DRIVER, key=lambda r: parse_version(r[1]))
    drivers = [parse_version(r[2]) for r in rows]
    assert drivers == sorted(drivers)
    assert len({r[1] for r in rows}) == len(rows)


def test_cudnn_rows_do_not_overlap():
    rows = sorted(data.CUDNN_CUDA, key=lambda r: parse_version(r["first"]))
    for row in rows:
        assert parse_version(row["first"]) <= parse_version(row["last"])
        assert row["source"].count("https://") >= 1
    for a, b in zip(rows, rows[1:]):
        assert parse_version(a["last"]) < parse_version(b["first"])


def test_minor_compat_minimum_is_a_table_row():
    """11.x: 450.80.02 comes from the compatibility guide; 12.x/13.x are the x.0 GA minimums."""
    assert data.MINOR_VERSION_COMPAT_MIN_DRIVER[12] == cuda_min_driver("12.0")
    assert data.MINOR_VERSION_COMPAT_MIN_DRIVER[13] == cuda_min_driver("13.0")
    assert data.MINOR_VERSION_COMPAT_MIN_DRIVER[11] == "450.80.02"


# ----------------------------------------------------------------------------- tensorflow/tensorflow_io
# tensorflow/io README 'TensorFlow Version Compatibility'; 0.37.1's wheel extras say tensorflow<2.17,>=2.16.

@pytest.mark.parametrize("tf, tfio, status", [
    ("2.16.2", "0.37.1", "ok"),
    ("2.16.1", "0.37.0", "ok"),
    ("2.16", "0.37.1", "ok"),
    ("2.18.1", "0.37.1", "incompatible"),   # measured: undefined tsl symbol, hdfs:// not implemented
    ("2.17.1", "0.37.1", "unknown"),        # not in the table, measured working
    ("2.17.0", "0.37.0", "incompatible"),   # only 0.37.1 was measured with 2.17
    ("2.15.1", "0.37.1", "incompatible"),
    ("2.15.0", "0.36.0", "ok"),
    ("2.13.1", "0.33.0", "ok"),
    ("2.13.1", "0.34.0", "ok"),
    ("2.11.0", "0.28.0", "ok"),
    ("2.11.0", "0.27.0", "incompatible"),  # 0.27.0 is the 2.10 release
    ("2.7.4", "0.23.1", "ok"),
    ("2.6.0", "0.21.0", "ok"),
    ("1.15.5", "0.8.1", "ok"),
    ("2.16.2", "0.38.0", "unknown"),        # no such row
])
def test_tensorflow_tensorflow_io(tf, tfio, status):
    check, _result = _check("tensorflow/tensorflow_io", tensorflow_version=tf, tensorflow_io_version=tfio)
    assert check["status"] == status, check["reason"]


def test_tensorflow_io_mismatch_reason_and_verdict():
    check, result = _check("tensorflow/tensorflow_io", tensorflow_version="2.18.1", tensorflow_io_version="0.37.1")
    assert check["reason"] == (
        "tensorflow-io 0.37.1 is built against TensorFlow 2.16.x; TensorFlow 2.18.1 cannot load its file system "
        "plugins (hdfs:// stays unimplemented); no tensorflow-io release targets TensorFlow 2.18 "
        "(newest: 0.37.1 for 2.16.x)")
    assert result["compatible"] is False and result["reasons"] == [check["reason"]]
    assert "tensorflow-io 0.37.1 needs TensorFlow 2.16.x" in result["suggestions"]


def test_tensorflow_io_mismatch_names_the_right_release():
    check, result = _check("tensorflow/tensorflow_io", tensorflow_version="2.15.1", tensorflow_io_version="0.37.1")
    assert check["reason"].endswith("tensorflow-io for TensorFlow 2.15: 0.36.0")
    assert "tensorflow-io releases for TensorFlow 2.15: 0.36.0" in result["suggestions"]


def test_tensorflow_io_measured_pair_is_unknown_and_strict_refuses_it():
    check, result = _check("tensorflow/tensorflow_io", tensorflow_version="2.17.1", tensorflow_io_version="0.37.1")
    assert "was measured to read and write hdfs://" in check["reason"]
    assert result["compatible"] is True
    assert check_stack({"tensorflow_version": "2.17.1", "tensorflow_io_version": "0.37.1"}, strict=True)[
        "compatible"] is False


def test_tensorflow_io_needs_both_sides():
    check, result = _check("tensorflow/tensorflow_io", tensorflow_io_version="0.37.1")
    assert check["status"] == "not_checked" and result["compatible"] is True


def test_tensorflow_io_table_is_newest_first_and_one_tf_per_minor():
    versions = [parse_version(r[0]) for r in data.TENSORFLOW_IO]
    assert versions == sorted(versions, reverse=True)
    per_minor = {}
    for tfio, tf in data.TENSORFLOW_IO:
        per_minor.setdefault(parse_version(tfio)[:2], set()).add(tf)
    assert all(len(tfs) == 1 for tfs in per_minor.values())
