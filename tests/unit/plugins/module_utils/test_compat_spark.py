# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Spark <-> Python <-> pyspark <-> TensorFlow rows of compat_data.py and their checks.

Expected values are the published ones, written out again: the Spark documentation's
"Python X+" per release, SPARK-29536 (PySpark 2.4 fails on Python 3.8, fixed in 3.0.0), and
TensorFlow's tested Python versions.
"""

from __future__ import annotations

import pytest

from ansible_collections.dlstack.cdh.plugins.module_utils import compat_data as data
from ansible_collections.dlstack.cdh.plugins.module_utils.compat import (
    INPUT_KEYS,
    CompatInputError,
    check_stack,
)
from ansible_collections.dlstack.cdh.plugins.module_utils.version import parse_version


def _check(pair, **versions):
    result = check_stack(versions)
    (match,) = [c for c in result["checks"] if c["pair"] == pair]
    return match, result


@pytest.mark.parametrize("spark, python, status", [
    ("2.4.7", "3.7", "ok"),
    ("2.4.7", "3.7.17", "ok"),
    ("2.4.7", "3.8", "incompatible"),        # SPARK-29536
    ("2.4.8", "3.11", "incompatible"),
    ("2.4.0", "2.7", "ok"),
    ("2.4.0", "2.6", "incompatible"),
    ("2.4.0", "3.3", "incompatible"),
    ("2.3.0", "3.8", "incompatible"),
    ("3.0.1", "3.8", "ok"),                  # the SPARK-29536 fix shipped in 3.0.0
    ("3.3.2", "3.6", "incompatible"),        # "Python 3.7+"
    ("3.3.2", "3.7", "ok"),
    ("3.5.1", "3.7", "incompatible"),        # "Python 3.8+"
    ("3.5.1", "3.11", "ok"),
    ("3.5.1", "3.12", "unknown"),            # pyspark 3.5.7's classifiers end at 3.11
    ("3.5.1", "3.13", "unknown"),
    ("4.0.0", "3.8", "incompatible"),        # "Python 3.9+"
    ("1.6.0", "2.7", "unknown"),             # not in the data
])
def test_spark_python(spark, python, status):
    check, _result = _check("spark/python", spark_version=spark, python_version=python)
    assert check["status"] == status, check["reason"]


def test_spark_24_reason_names_the_jira_and_the_numbers():
    check, result = _check("spark/python", spark_version="2.4.7", python_version="3.11")
    assert "SPARK-29536" in check["reason"] and "3.11" in check["reason"] and "3.8" in check["reason"]
    assert check["reason"] in result["reasons"] and result["compatible"] is False


@pytest.mark.parametrize("pyspark, python, status", [
    ("3.5.7", "3.11", "ok"),
    ("2.4.8", "3.8", "incompatible"),
    ("3.3.4", "3.6", "incompatible"),
])
def test_pyspark_python(pyspark, python, status):
    check, _result = _check("pyspark/python", pyspark_version=pyspark, python_version=python)
    assert check["status"] == status, check["reason"]


@pytest.mark.parametrize("spark, pyspark, status", [
    ("3.5.1", "3.5.7", "ok"),
    ("2.4.7.7.1.7.0-551", "2.4.8", "ok"),    # a vendor build of 2.4
    ("2.4.7", "3.5.7", "incompatible"),
    ("3.3.2", "3.4.1", "incompatible"),
])
def test_spark_pyspark(spark, pyspark, status):
    check, _result = _check("spark/pyspark", spark_version=spark, pyspark_version=pyspark)
    assert check["status"] == status, check["reason"]


@pytest.mark.parametrize("spark, tensorflow, status, pythons", [
    ("2.4.7", "2.18.1", "incompatible", None),   # TF 2.18 needs 3.9+, Spark 2.4 < 3.8
    ("2.4.7", "2.11.0", "ok", "3.7"),            # TF 2.11: 3.7-3.10
    ("2.4.7", "2.13.0", "incompatible", None),   # TF 2.13: 3.8-3.11
    ("3.5.1", "2.18.1", "ok", "3.9, 3.10, 3.11"),   # 3.12: beyond what pyspark 3.5 lists
    ("3.3.2", "2.15.0", "ok", "3.9, 3.10, 3.11"),
])
def test_spark_tensorflow_share_a_python(spark, tensorflow, status, pythons):
    check, _result = _check("spark/tensorflow", spark_version=spark, tensorflow_version=tensorflow)
    assert check["status"] == status, check["reason"]
    if pythons:
        assert check["reason"].endswith("both run on Python %s" % pythons)


def test_pairs_not_checked_without_their_keys():
    result = check_stack({"spark_version": "3.5.1"})
    statuses = {c["pair"]: c["status"] for c in result["checks"]}
    assert statuses["spark/python"] == "not_checked"
    assert statuses["spark/pyspark"] == "not_checked"
    assert result["compatible"] is True


def test_the_default_env_on_a_cdh6_cluster_is_refused():
    # The collection's default env (Python 3.11, pyspark 3.5.7, TensorFlow 2.17.1) on CDH 6.3's Spark 2.4.
    result = check_stack({"spark_version": "2.4.0", "python_version": "3.11", "pyspark_version": "3.5.7",
                          "tensorflow_version": "2.17.1"})
    failed = {c["pair"] for c in result["checks"] if c["status"] == "incompatible"}
    assert failed == {"spark/python", "spark/pyspark", "spark/tensorflow"}


@pytest.mark.parametrize("key", ["spark_version", "pyspark_version"])
def test_garbage_names_the_key(key):
    assert key in INPUT_KEYS
    with pytest.raises(CompatInputError, match=key):
        check_stack({key: "three point five"})


def test_rows_are_sane():
    seen = set()
    for row in data.SPARK_PYTHON:
        assert row["spark"] not in seen
        seen.add(row["spark"])
        assert row["source"] and "Python" in row["source"]
        parse_version(row["min"])
        if row["listed"]:
            assert parse_version(row["listed"]) > parse_version(row["min"])
        if row["broken_from"]:
            assert "SPARK-29536" in row["source"]
    # Newest first, like the other tables.
    versions = [parse_version(r["spark"]) for r in data.SPARK_PYTHON]
    assert versions == sorted(versions, reverse=True)
