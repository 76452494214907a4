# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The strict spec check of role variables: one line per problem, nothing for what passed."""

from __future__ import annotations

import pytest

from ansible_collections.dlstack.cdh.plugins.plugin_utils.input_check import check_variables, expected

SPEC = {
    "versions": {"type": "list", "elements": "str", "description": "CUDA versions as major.minor (V(11.8)). More."},
    "method": {"type": "str", "choices": ["distro", "runfile"]},
    "branch": {"type": "str", "description": "Driver branch."},
    "reboot": {"type": "bool"},
    "timeout": {"type": "int"},
    "options": {"type": "dict"},
    "prefix": {"type": "path"},
    "token": {"type": "str", "required": True},
    "libraries": {"type": "list", "elements": "dict", "options": {
        "name": {"type": "str", "required": True}, "sha256": {"type": "str", "required": True}}},
    "anything": {"type": "raw"},
}
GOOD = {"versions": ["11.8"], "method": "distro", "branch": "535", "reboot": "yes", "timeout": "60",
        "options": {}, "prefix": "/usr/anaconda", "token": "t", "libraries": [{"name": "a.jar", "sha256": "x"}],
        "anything": 3.5}

CASES = [
    ("a-number-for-a-list", {"versions": 11.8},
     "versions = 11.8 (a number): expected a list of strings (CUDA versions as major.minor (11.8))"),
    ("a-string-for-a-list", {"versions": "11.8"},
     'versions = "11.8" (a string): expected a list of strings (CUDA versions as major.minor (11.8))'),
    ("a-number-in-the-list", {"versions": [11.8]},
     'versions[0] = 11.8 (a number): expected a string (CUDA versions as major.minor (11.8)); quote it in YAML ("11.8") so it stays a string'),
    ("a-float-for-a-string", {"branch": 5.35},
     'branch = 5.35 (a number): expected a string (Driver branch); quote it in YAML ("5.35") so it stays a string'),
    ("a-list-for-a-string", {"branch": ["535"]}, 'branch = ["535"] (a list): expected a string (Driver branch)'),
    ("a-boolean-for-a-string", {"branch": True}, "branch = true (a boolean): expected a string (Driver branch)"),
    ("not-a-choice", {"method": "magic"}, 'method = "magic" (a string): expected one of distro, runfile'),
    ("not-a-boolean", {"reboot": "maybe"}, 'reboot = "maybe" (a string): expected true or false'),
    ("not-a-whole-number", {"timeout": "soon"}, 'timeout = "soon" (a string): expected a whole number'),
    ("a-boolean-for-a-number", {"timeout": True}, "timeout = true (a boolean): expected a whole number"),
    ("a-list-for-a-mapping", {"options": [1]}, "options = [1] (a list): expected a mapping"),
    ("a-relative-path", {"prefix": "anaconda"}, 'prefix = "anaconda" (a string): expected an absolute path (a string)'),
    ("missing-required", {"token": None}, "token is required: expected a string"),
    ("missing-required-key", {"libraries": [{"name": "a.jar"}]}, "libraries[0].sha256 is required: expected a string"),
    ("unknown-key", {"libraries": [{"name": "a.jar", "sha256": "x", "url2": "u"}]},
     "libraries[0].url2 is not a known key: expected only name, sha256"),
]


def test_good_values_give_no_problem():
    assert check_variables(SPEC, GOOD) == []


def test_an_int_is_a_string_and_a_missing_optional_is_fine():
    values = dict(GOOD, branch=535)
    del values["reboot"]
    assert check_variables(SPEC, values) == []


@pytest.mark.parametrize("change,line", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_is_one_line_naming_variable_value_and_what_is_accepted(change, line):
    problems = check_variables(SPEC, dict(GOOD, **change))
    assert problems == [line]


def test_a_missing_required_variable_is_named():
    values = dict(GOOD)
    del values["token"]
    problems = check_variables(SPEC, values)
    assert problems == ["token is required: expected a string"]


def test_several_problems_give_one_line_each_in_spec_order():
    problems = check_variables(SPEC, dict(GOOD, method="x", timeout="y"))
    assert [line.split(" = ")[0] for line in problems] == ["method", "timeout"]


def test_expected_strips_markup_and_keeps_the_first_sentence():
    assert expected({"type": "str", "description": ["Use O(x) with V(y). Then more."]}) == "a string (Use x with y)"
