# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pip_env on real site-packages trees laid out the way pip writes them, and the real interpreter."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from ansible_collections.dlstack.cdh.plugins.module_utils import pip_env


def site_packages(prefix):
    path = prefix / "lib" / "python3.11" / "site-packages"
    path.mkdir(parents=True, exist_ok=True)
    return path


def install(site, name, version, files, record=True, metadata=True, record_rows=None):
    """Writes files and a dist-info like pip's wheel installer; returns the dist-info path."""
    dist_info = site / ("%s-%s.dist-info" % (name, version))
    dist_info.mkdir()
    rows = []
    for relative, content in files.items():
        target = site / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        rows.append("%s,sha256=unused,%d" % (relative, len(content)))
    if metadata:
        (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: %s\n\nlong text: x\n"
                                            % (name, version))
    if record:
        rows += record_rows or []
        rows.append("%s-%s.dist-info/RECORD,," % (name, version))
        (dist_info / "RECORD").write_text("\n".join(rows) + "\n")
    return dist_info


def test_complete_installs_are_not_damaged(tmp_path):
    site = site_packages(tmp_path)
    install(site, "six", "1.16.0", {"six.py": b"x" * 100})
    install(site, "numpy", "1.26.4", {"numpy/__init__.py": b"i", "numpy/core/_multiarray_umath.so": b"\x7fELF" * 50},
            record_rows=["numpy/__pycache__/__init__.cpython-311.pyc,sha256=unused,999"])
    assert pip_env.damaged_distributions(str(tmp_path)) == []


def test_dist_info_without_record_is_an_interrupted_install(tmp_path):
    site = site_packages(tmp_path)
    dist_info = install(site, "numpy", "1.26.4", {"numpy/__init__.py": b"i"}, record=False)
    assert pip_env.damaged_distributions(str(tmp_path)) == [{
        "name": "numpy", "version": "1.26.4", "dist_info": str(dist_info),
        "problem": "no RECORD (install interrupted)"}]


def test_dist_info_without_metadata_is_named_from_its_directory(tmp_path):
    site = site_packages(tmp_path)
    install(site, "scikit_image", "0.24.0", {}, record=False, metadata=False)
    damaged = pip_env.damaged_distributions(str(tmp_path))
    assert [(d["name"], d["version"], d["problem"]) for d in damaged] == [
        ("scikit_image", "0.24.0", "no METADATA (install interrupted)")]


def test_truncated_and_missing_files_are_found(tmp_path):
    site = site_packages(tmp_path)
    install(site, "numpy", "1.26.4", {"numpy/core/_multiarray_umath.so": b"\x7fELF" * 50})
    install(site, "protobuf", "4.21.12", {"google/protobuf/__init__.py": b"p" * 10})
    with open(site / "numpy" / "core" / "_multiarray_umath.so", "r+b") as handle:
        handle.truncate(64)
    os.remove(site / "google" / "protobuf" / "__init__.py")
    damaged = pip_env.damaged_distributions(str(tmp_path))
    assert [(d["name"], d["problem"]) for d in damaged] == [
        ("numpy", "numpy/core/_multiarray_umath.so is 64 bytes, RECORD says 200"),
        ("protobuf", "google/protobuf/__init__.py is missing"),
    ]


def test_files_outside_site_packages_are_checked_relative_to_it(tmp_path):
    site = site_packages(tmp_path)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "f2py").write_text("#!python3\n")
    install(site, "numpy", "1.26.4", {}, record_rows=["../../../bin/f2py,sha256=unused,10"])
    assert pip_env.damaged_distributions(str(tmp_path)) == []
    (tmp_path / "bin" / "f2py").write_text("")
    assert [d["problem"] for d in pip_env.damaged_distributions(str(tmp_path))] == [
        "../../../bin/f2py is 0 bytes, RECORD says 10"]


def test_a_prefix_without_site_packages_has_nothing_damaged(tmp_path):
    assert pip_env.damaged_distributions(str(tmp_path / "nowhere")) == []


def test_a_file_two_distributions_ship_is_fine_at_either_size(tmp_path):
    site = site_packages(tmp_path)
    install(site, "nvidia-cublas-cu11", "11.11.3.6", {"nvidia/__init__.py": b"# cublas\n"})
    # The second wheel ships the same file, shorter; it was installed last, so its copy is on disk.
    install(site, "nvidia-cudnn-cu11", "9.10.2.21", {"nvidia/__init__.py": b""})
    assert pip_env.damaged_distributions(str(tmp_path)) == []


def test_a_dist_info_left_aside_by_an_unfinished_repair_is_damaged(tmp_path):
    site = site_packages(tmp_path)
    dist_info = install(site, "numpy", "1.26.4", {"numpy/__init__.py": b"i"}, record=False)
    aside = str(dist_info) + pip_env.REPAIR_SUFFIX
    os.rename(str(dist_info), aside)
    assert pip_env.damaged_distributions(str(tmp_path)) == [{
        "name": "numpy", "version": "1.26.4", "dist_info": aside, "problem": "an earlier repair did not finish"}]


# ---------------------------------------------------------------- what is installed, without pip

def _read_installed(env=None):
    answer = subprocess.run([sys.executable, "-c", pip_env.INSTALLED_SCRIPT], env=env, check=True,
                            capture_output=True, text=True)
    return json.loads(answer.stdout)


def _pip_list(env=None):
    answer = subprocess.run([sys.executable, "-m", "pip", "list", "--format=json"], env=env,
                            capture_output=True, text=True, check=False)
    if answer.returncode != 0:
        pytest.skip("no pip in this interpreter: %s" % answer.stderr.strip()[-200:])
    return json.loads(answer.stdout)


def _versions(records):
    return dict((re.sub(r"[-_.]+", "-", r["name"]).lower(), r["version"]) for r in records)


def test_metadata_read_gives_what_pip_list_gives_in_this_interpreter():
    answer = _read_installed()
    assert answer["python"] == "%d.%d" % sys.version_info[:2]
    assert len(answer["packages"]) > 5
    assert _versions(answer["packages"]) == _versions(_pip_list())


def test_first_distribution_on_the_path_wins_as_in_pip_list(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    install(first, "dlstack_probe", "2.0", {"dlstack_probe.py": b"x"})
    install(second, "dlstack-probe", "1.0", {"dlstack_probe.py": b"y"})
    env = dict(os.environ, PYTHONPATH="%s:%s" % (first, second))
    records = [r for r in _read_installed(env)["packages"] if "probe" in r["name"]]
    assert records == [{"name": "dlstack_probe", "version": "2.0"}]
    assert _versions(_read_installed(env)["packages"]) == _versions(_pip_list(env))


def test_distribution_without_a_name_is_not_listed(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    dist_info = install(site, "nameless", "1.0", {"nameless.py": b"x"})
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nVersion: 1.0\n")
    env = dict(os.environ, PYTHONPATH=str(site))
    assert [r for r in _read_installed(env)["packages"] if r["version"] == "1.0" and "nameless" in r["name"]] == []
