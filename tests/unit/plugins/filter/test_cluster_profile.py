# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the dlstack.cdh.cluster_profile filter and the profile data."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.dlstack.cdh.plugins.filter.cluster_profile import FilterModule, cluster_profile
from ansible_collections.dlstack.cdh.plugins.module_utils import compat
from ansible_collections.dlstack.cdh.plugins.module_utils.cluster_profiles import PROFILES


@pytest.mark.parametrize("name,submit,conf_dir,spark", [
    ("apache", "spark-submit", "/etc/spark/conf", "3.5"),
    ("cdh-5.16", "spark2-submit", "/etc/spark2/conf", "2.4"),
    ("cdh-6.3", "spark-submit", "/etc/spark/conf", "2.4"),
    ("cdp-7.1.7", "spark-submit", "/etc/spark/conf", "2.4"),
    ("cdp-7.1.9-cds3", "spark3-submit", "/etc/spark3/conf", "3.3"),
    ("cdp-7.3", "spark3-submit", "/etc/spark3/conf", "3.4"),
])
def test_profile_sets_the_spark_command_configuration_and_release(name, submit, conf_dir, spark):
    profile = cluster_profile(name)
    assert (profile["name"], profile["spark_submit"], profile["spark_conf_dir"], profile["spark_version"]) == \
        (name, submit, conf_dir, spark)


def test_cloudera_profiles_use_the_parcel_hadoop_home():
    for name, profile in PROFILES.items():
        expected = "/opt/hadoop" if name == "apache" else "/opt/cloudera/parcels/CDH/lib/hadoop"
        assert profile["hadoop_home"] == expected, name


def test_every_profile_release_is_in_the_spark_python_data():
    # The env check needs a Python range for each profile's Spark.
    for name, profile in PROFILES.items():
        assert compat.spark_row(compat.parse_version(profile["spark_version"])) is not None, name


def test_returned_profile_is_a_copy():
    cluster_profile("apache")["spark_submit"] = "changed"
    assert cluster_profile("apache")["spark_submit"] == "spark-submit"


@pytest.mark.parametrize("name", ["cdh-9", "", None, 7.1, "CDP-7.1.9"])
def test_unknown_profile_names_the_variable_and_the_profiles(name):
    with pytest.raises(AnsibleFilterError) as caught:
        cluster_profile(name)
    message = str(caught.value)
    assert message.startswith("dlstack_cluster_profile: there is no profile %r" % (name,))
    assert "apache, cdh-5.16, cdh-6.3, cdp-7.1.7, cdp-7.1.7-cds3, cdp-7.1.9, cdp-7.1.9-cds3, cdp-7.3" in message


def test_filter_is_registered():
    assert FilterModule().filters()["cluster_profile"] is cluster_profile
