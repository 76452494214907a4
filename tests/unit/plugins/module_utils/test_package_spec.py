# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The requirement-spec matcher conda_env and python_venv decide 'nothing to do' with."""

from __future__ import annotations

import pytest

from ansible_collections.dlstack.cdh.plugins.module_utils import package_spec as ps


@pytest.mark.parametrize("text, key, specs, extras", [
    ("tensorflow-cpu==2.18.1", "tensorflow-cpu", (("==", "2.18.1"),), ()),
    ("Tensorflow_CPU == 2.18.1", "tensorflow-cpu", (("==", "2.18.1"),), ()),
    ("numpy>=1.26,<2.1", "numpy", ((">=", "1.26"), ("<", "2.1")), ()),
    ("pyspark", "pyspark", (), ()),
    ("tensorflow[and-cuda]==2.18.1", "tensorflow", (("==", "2.18.1"),), ("and-cuda",)),
    ("keras~=3.5", "keras", (("~=", "3.5"),), ()),
])
def test_parse_pip(text, key, specs, extras):
    requirement = ps.parse_pip(text)
    assert (requirement.key, requirement.specifiers, requirement.extras) == (key, specs, extras)
    assert requirement.raw == text.strip()


@pytest.mark.parametrize("text", [
    "", "numpy=1.26", "numpy 1.26", "pkg @ https://example.com/pkg.whl", "numpy; python_version<'3.12'",
    "-r requirements.txt", "./local/path", "numpy==",
])
def test_parse_pip_rejects(text):
    with pytest.raises(ps.SpecError):
        ps.parse_pip(text)


@pytest.mark.parametrize("text, key, specs, build, channel", [
    ("python=3.11", "python", (("=", "3.11"),), None, None),
    ("numpy==1.26.4", "numpy", (("==", "1.26.4"),), None, None),
    ("conda-forge::opencv>=4.8,<5", "opencv", ((">=", "4.8"), ("<", "5")), None, "conda-forge"),
    ("numpy 1.26.* py311*", "numpy", (("=", "1.26.*"),), "py311*", None),
    ("numpy=1.26.4=py311h08b1b3b_0", "numpy", (("=", "1.26.4"),), "py311h08b1b3b_0", None),
    ("numpy[version='>=1.26']", "numpy", ((">=", "1.26"),), None, None),
    ("pip", "pip", (), None, None),
])
def test_parse_conda(text, key, specs, build, channel):
    requirement = ps.parse_conda(text)
    assert (requirement.key, requirement.specifiers, requirement.build, requirement.channel) == (
        key, specs, build, channel)


@pytest.mark.parametrize("text", ["", "numpy=1=2=3", "numpy >=1.2|<0.5", "numpy 1.2 b c"])
def test_parse_conda_rejects(text):
    with pytest.raises(ps.SpecError):
        ps.parse_conda(text)


@pytest.mark.parametrize("installed, op, wanted, kind, expected", [
    ("2.18.1", "==", "2.18.1", "pip", True),
    ("2.18.0", "==", "2.18.1", "pip", False),
    ("2.18", "==", "2.18.0", "pip", True),           # release padded with zeros
    ("1.26.4", ">=", "1.26", "pip", True),
    ("2.1.0", "<", "2.1", "pip", False),
    ("2.0rc1", "<", "2.0", "pip", True),            # pre-release before final
    ("2.0.post1", ">", "2.0", "pip", True),
    ("2.0.dev3", "<", "2.0a1", "pip", True),
    ("3.5.7", "~=", "3.5", "pip", True),
    ("4.0.0", "~=", "3.5", "pip", False),
    ("3.5.7", "~=", "3.5.2", "pip", True),
    ("3.6.0", "~=", "3.5.2", "pip", False),
    ("1.26.4", "==", "1.26.*", "pip", True),
    ("1.27.0", "!=", "1.26.*", "pip", True),
    ("2.18.1+cpu", "==", "2.18.1", "pip", True),     # local version ignored unless asked for
    ("2.18.1+cpu", "==", "2.18.1+cu121", "pip", False),
    ("1.0", "===", "1.0", "pip", True),
    ("1.0.0", "===", "1.0", "pip", False),
    ("3.11.9", "=", "3.11", "conda", True),          # conda: name=3.11 is 3.11.*
    ("3.110", "=", "3.11", "conda", False),
    ("3.12.1", "=", "3.11", "conda", False),
    ("1.26.4", "==", "1.26", "conda", False),       # conda: == is exact
    ("1.26.0", "==", "1.26", "conda", True),
    ("1.1.1w", ">=", "1.1.1", "conda", True),        # not PEP 440: token order
    ("1.1.1v", ">=", "1.1.1w", "conda", False),
    ("2.1_4", "=", "2.1_4", "conda", True),
    ("1.26.4", "=", "1.26.*", "conda", True),
])
def test_specifier_holds(installed, op, wanted, kind, expected):
    assert ps.specifier_holds(installed, op, wanted, kind) is expected


def test_compatible_release_needs_two_components():
    with pytest.raises(ps.SpecError):
        ps.specifier_holds("3.0", "~=", "3")


def test_unsatisfied_reports_missing_and_wrong_versions_in_order():
    installed = ps.index_installed([
        {"name": "Tensorflow_CPU", "version": "2.17.0"},
        {"name": "protobuf", "version": "5.29.5"},
    ])
    wanted = [ps.parse_pip(s) for s in ("tensorflow-cpu==2.18.1", "protobuf==5.29.5", "pyspark==3.5.7")]
    missing = ps.unsatisfied(wanted, installed)
    assert [(m.requirement.raw, m.reason) for m in missing] == [
        ("tensorflow-cpu==2.18.1", "installed 2.17.0 does not satisfy ==2.18.1"),
        ("pyspark==3.5.7", "not installed"),
    ]


def test_build_glob_checked():
    installed = ps.index_installed([{"name": "numpy", "version": "1.26.4", "build_string": "py311h08b1b3b_0"}])
    assert ps.unsatisfied([ps.parse_conda("numpy 1.26.* py311*")], installed) == []
    (miss,) = ps.unsatisfied([ps.parse_conda("numpy=1.26=py312*")], installed)
    assert "build" in miss.reason


def test_duplicates_refused():
    with pytest.raises(ps.SpecError, match="twice"):
        ps.check_unique([ps.parse_pip("numpy==1.26.4"), ps.parse_pip("NumPy>=1")], "packages")
