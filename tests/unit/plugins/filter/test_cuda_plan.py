# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the dlstack.cdh.cuda_plan filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.dlstack.cdh.plugins.filter.cuda_plan import FilterModule, cuda_plan


def test_default_is_the_last_version_unless_named():
    assert cuda_plan({"cuda_versions": ["11.8", "12.4"]})["default_version"] == "12.4"
    plan = cuda_plan({"cuda_versions": ["11.8", "12.4"], "cuda_default_version": "11.8"})
    assert plan["default_version"] == "11.8"
    assert plan["versions"] == ["11.8", "12.4"]


def test_empty_default_version_falls_back_and_no_versions_give_empty():
    assert cuda_plan({"cuda_versions": ["12.4"], "cuda_default_version": ""})["default_version"] == "12.4"
    assert cuda_plan({"cuda_versions": ["12.4"], "cuda_default_version": None})["default_version"] == "12.4"
    plan = cuda_plan({})
    assert plan["default_version"] == ""
    assert plan["versions"] == []
    assert plan["ld_so_conf_files"] == []


def test_yaml_numbers_in_the_list_become_strings():
    plan = cuda_plan({"cuda_versions": [11.8, "12.4"], "cuda_default_version": 11.8})
    assert plan["versions"] == ["11.8", "12.4"]
    assert plan["default_version"] == "11.8"


def test_local_homes_and_the_link():
    plan = cuda_plan({"cuda_versions": ["11.8", "12.4"], "cuda_method": "runfile", "local_prefix": "/opt/"})
    assert plan["homes"] == {"11.8": "/opt/cuda-11.8", "12.4": "/opt/cuda-12.4"}
    assert plan["link"] == "/opt/cuda"
    assert plan["home"] == "/opt/cuda"


def test_distro_homes_are_the_distribution_home():
    plan = cuda_plan({"cuda_versions": ["11.8"], "cuda_method": "distro", "distro_home": "/usr/lib/cuda"})
    assert plan["homes"] == {"11.8": "/usr/lib/cuda"}
    assert plan["home"] == "/usr/lib/cuda"
    assert plan["link"] == "/usr/local/cuda"
    # No distribution toolkit on this OS: nothing to point at, the role's validation says why.
    assert cuda_plan({"cuda_versions": ["11.8"], "cuda_method": "distro"})["home"] == ""


def test_exported_home_wins_and_nothing_known_means_usr_local_cuda():
    assert cuda_plan({})["home"] == "/usr/local/cuda"
    assert cuda_plan({"dlstack_cuda_home": ""})["home"] == "/usr/local/cuda"
    assert cuda_plan({"dlstack_cuda_home": "/usr/lib/cuda"})["home"] == "/usr/lib/cuda"
    assert cuda_plan(None)["home"] == "/usr/local/cuda"


@pytest.mark.parametrize("given, header", [
    ("9.10.2.21", "9.10.2"),
    ("8.9.7", "8.9.7"),
    ("", ""),
    (None, ""),
])
def test_cudnn_header_version_has_three_parts(given, header):
    assert cuda_plan({"cudnn_version": given})["cudnn_header_version"] == header


def test_ld_so_conf_files_one_per_version():
    plan = cuda_plan({"cuda_versions": ["11.8", "12.4"]})
    assert plan["ld_so_conf_files"] == ["/etc/ld.so.conf.d/cuda-11-8.conf", "/etc/ld.so.conf.d/cuda-12-4.conf"]
    plan = cuda_plan({"cuda_versions": ["12.4"], "ld_so_conf_dir": "/etc/ld.so.conf.d/"})
    assert plan["ld_so_conf_files"] == ["/etc/ld.so.conf.d/cuda-12-4.conf"]


def test_ld_so_conf_lines_name_each_home_lib64():
    plan = cuda_plan({"cuda_versions": ["11.8", "12.4"], "cuda_method": "nvidia_repo"})
    assert plan["ld_so_conf_lines"] == ["/usr/local/cuda-11.8/lib64", "/usr/local/cuda-12.4/lib64"]
    plan = cuda_plan({"cuda_versions": ["11.8"], "cuda_method": "distro", "distro_home": "/usr/lib/cuda"})
    assert plan["ld_so_conf_lines"] == ["/usr/lib/cuda/lib64"]


def test_link_target_is_the_default_home_except_for_the_distro_toolkit():
    plan = cuda_plan({"cuda_versions": ["11.8", "12.4"], "cuda_default_version": "11.8", "cuda_method": "runfile"})
    assert plan["link_target"] == "/usr/local/cuda-11.8"
    plan = cuda_plan({"cuda_versions": ["11.8"], "cuda_method": "distro", "distro_home": "/usr/lib/cuda"})
    assert plan["link_target"] == ""
    assert cuda_plan({})["link_target"] == ""


@pytest.mark.parametrize("role_vars, message", [
    ({"cuda_versions": 11.8}, "cuda_versions must be a list of versions such as ['11.8', '12.4'], got the number 11.8"),
    ({"cuda_versions": "11.8"}, "got the string '11.8'; write it as a YAML list of quoted strings"),
    ({"cuda_versions": {"11.8": True}}, "cuda_versions must be a list of versions such as ['11.8', '12.4'], got a mapping"),
    ({"cuda_versions": [["11.8"]]}, "cuda_versions[0] must be a version string such as '11.8', got a list"),
    ({"cuda_versions": [True]}, "cuda_versions[0] must be a version string such as '11.8', got the boolean True"),
    ({"cuda_default_version": ["11.8"]}, "cuda_default_version must be a string, got a list"),
    ({"cudnn_version": {"a": 1}}, "cudnn_version must be a string, got a mapping"),
    ({"cuda_version": ["11.8"]}, "unknown keys cuda_version"),
    (["11.8"], "the input must be a mapping of the cuda role's variables"),
])
def test_wrong_types_fail_with_a_message_naming_the_variable(role_vars, message):
    with pytest.raises(AnsibleFilterError) as error:
        cuda_plan(role_vars)
    assert message in str(error.value)


def test_filter_is_registered():
    assert FilterModule().filters()["cuda_plan"] is cuda_plan
