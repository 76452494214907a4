# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dl_stack_compat, cuda_min_driver and cudnn_cuda_majors filters, called as Ansible calls them."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.dlstack.cdh.plugins.filter.dl_stack_compat import FilterModule
from ansible_collections.dlstack.cdh.plugins.module_utils.compat import check_stack

FILTERS = FilterModule().filters()


def test_filter_names():
    assert sorted(FILTERS) == ["cuda_min_driver", "cudnn_cuda_majors", "dl_stack_compat"]


def test_same_result_as_the_module_check():
    versions = {"driver_version": "535.183.01", "cuda_version": "12.4"}
    result = FILTERS["dl_stack_compat"](versions)
    assert result == check_stack(versions)
    assert result["checks"][0]["status"] == "minor_version_compat"


def test_incompatible_is_returned_not_raised():
    result = FILTERS["dl_stack_compat"]({"driver_version": "418.39", "cuda_version": "11.8"})
    assert result["compatible"] is False
    assert result["reasons"] == [result["checks"][0]["reason"]]


def test_strict_argument():
    versions = {"tensorflow_version": "2.15.0", "cuda_version": "12.4"}
    assert FILTERS["dl_stack_compat"](versions)["compatible"] is True
    assert FILTERS["dl_stack_compat"](versions, True)["compatible"] is False
    with pytest.raises(AnsibleFilterError, match="strict must be a boolean"):
        FILTERS["dl_stack_compat"](versions, "yes")


@pytest.mark.parametrize("value, message", [
    ({"cuda_version": "twelve"}, "dl_stack_compat: cuda_version 'twelve' is not a version"),
    ({"cuda": "12.2"}, "unknown key"),
    ("12.2", "expected a dict"),
])
def test_garbage_raises(value, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["dl_stack_compat"](value)


def test_cuda_min_driver():
    assert FILTERS["cuda_min_driver"]("12.2") == "535.54.03"
    assert FILTERS["cuda_min_driver"]("11.8") == "520.61.05"
    with pytest.raises(AnsibleFilterError, match="cuda_min_driver: CUDA 12.7 is not in the table"):
        FILTERS["cuda_min_driver"]("12.7")
    with pytest.raises(AnsibleFilterError, match="cuda_min_driver: cuda_version 'x'"):
        FILTERS["cuda_min_driver"]("x")


def test_cudnn_cuda_majors():
    assert FILTERS["cudnn_cuda_majors"]("8.9.7") == [11, 12]
    assert FILTERS["cudnn_cuda_majors"]("7.6.5") == [9, 10]
    with pytest.raises(AnsibleFilterError, match="cudnn_cuda_majors: cuDNN 5.1"):
        FILTERS["cudnn_cuda_majors"]("5.1")
