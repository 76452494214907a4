# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where playbooks/smoke_test.yml finds nvcc and tfspark-submit on a node.

Runs the real ``ansible-playbook`` (the one beside this Python) against localhost with
every check deselected: the lookups run, no framework check does. A wrapper play after
the smoke play writes what it found. Fake ``nvcc`` and ``tfspark-submit`` are empty
executables in a temporary directory; only their paths are looked at.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

COLLECTION = pathlib.Path(__file__).resolve().parents[3]
SMOKE = COLLECTION / "playbooks" / "smoke_test.yml"


def _ansible_playbook():
    beside = pathlib.Path(sys.executable).parent / "ansible-playbook"
    if beside.exists():
        return str(beside)
    return shutil.which("ansible-playbook")


ANSIBLE_PLAYBOOK = _ansible_playbook()
pytestmark = pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible-playbook is not installed")


def _collections_path():
    # ansible-test copies the collection to .../ansible_collections/dlstack/cdh; a plain
    # checkout has ansible_collections/dlstack/cdh linked inside it (make link).
    if COLLECTION.parent.parent.name == "ansible_collections":
        return str(COLLECTION.parent.parent.parent)
    return str(COLLECTION)


def _executable(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return str(path)


def _found(tmp_path, path_dirs, **extra_vars):
    """Run the smoke play on localhost; return its _smoke_nvcc and _smoke_has."""
    out = tmp_path / "found.json"
    wrapper = tmp_path / "wrapper.yml"
    wrapper.write_text(
        "- name: Smoke\n"
        "  ansible.builtin.import_playbook: %s\n"
        "- name: Write what it found\n"
        "  hosts: localhost\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - name: Found\n"
        "      ansible.builtin.copy:\n"
        "        dest: %s\n"
        "        content: \"{{ {'nvcc': _smoke_nvcc, 'has': _smoke_has} | to_json }}\"\n" % (SMOKE, out))
    vars_file = tmp_path / "extra_vars.json"
    vars_file.write_text(json.dumps(dict(
        extra_vars, dlstack_smoke_hosts="localhost", dlstack_smoke_checks=[],
        ansible_connection="local", ansible_python_interpreter=sys.executable)))
    env = dict(os.environ)
    env.pop("ANSIBLE_CONFIG", None)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=_collections_path(),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "local"),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / "remote"),
        ANSIBLE_RETRY_FILES_ENABLED="false",
        # Pipelining: one process per module.
        ANSIBLE_PIPELINING="1",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        # The PATH the lookup's shell sees: only the test's directories and the base system's.
        PATH=os.pathsep.join([str(d) for d in path_dirs] + ["/usr/bin", "/bin"]),
    )
    run = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", "-e", "@%s" % vars_file, str(wrapper)],
                         env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return json.loads(out.read_text())


def _homes(tmp_path):
    # Stand-ins for /usr/local/cuda and /usr/lib/cuda, so the host's own CUDA plays no part.
    return [str(tmp_path / "usr-local-cuda"), str(tmp_path / "usr-lib-cuda")]


def test_nvcc_of_the_converge_cuda_home_comes_first(tmp_path):
    nvcc = _executable(tmp_path / "home" / "bin" / "nvcc")
    _executable(tmp_path / "usr-local-cuda" / "bin" / "nvcc")
    _executable(tmp_path / "path" / "nvcc")
    found = _found(tmp_path, [tmp_path / "path"], dlstack_cuda_home=str(tmp_path / "home"),
                   dlstack_smoke_cuda_homes=_homes(tmp_path))
    assert found["nvcc"] == nvcc
    assert found["has"]["nvcc"] is True


def test_standalone_run_finds_the_distro_home(tmp_path):
    # No dlstack_cuda_home (a run after the converge), cuda_method distro: only /usr/lib/cuda.
    nvcc = _executable(tmp_path / "usr-lib-cuda" / "bin" / "nvcc")
    found = _found(tmp_path, [], dlstack_smoke_cuda_homes=_homes(tmp_path))
    assert found["nvcc"] == nvcc
    assert found["has"]["nvcc"] is True


def test_standalone_run_finds_nvcc_on_path(tmp_path):
    # The distro package's nvcc is /usr/bin/nvcc; the home's link to it is dangling here.
    nvcc = _executable(tmp_path / "path" / "nvcc")
    (tmp_path / "usr-lib-cuda" / "bin").mkdir(parents=True)
    (tmp_path / "usr-lib-cuda" / "bin" / "nvcc").symlink_to(tmp_path / "gone" / "nvcc")
    found = _found(tmp_path, [tmp_path / "path"], dlstack_smoke_cuda_homes=_homes(tmp_path))
    assert found["nvcc"] == nvcc
    assert found["has"]["nvcc"] is True


def test_no_nvcc_anywhere(tmp_path):
    if shutil.which("nvcc", path="/usr/bin:/bin"):
        pytest.skip("this host has nvcc in /usr/bin or /bin")
    found = _found(tmp_path, [], dlstack_smoke_cuda_homes=_homes(tmp_path))
    assert found["nvcc"] == ""
    assert found["has"]["nvcc"] is False


def test_tfspark_submit_from_the_roles_scripts_dir(tmp_path):
    _executable(tmp_path / "scripts" / "tfspark-submit")
    found = _found(tmp_path, [], dlstack_smoke_cuda_homes=_homes(tmp_path),
                   tensorflow_hadoop_scripts_dir=str(tmp_path / "scripts"),
                   tensorflow_hadoop_work_dir=str(tmp_path / "work"))
    assert found["has"]["tfspark"] is True


def test_tfspark_submit_under_the_work_dir_without_scripts_dir(tmp_path):
    _executable(tmp_path / "work" / "bin" / "tfspark-submit")
    found = _found(tmp_path, [], dlstack_smoke_cuda_homes=_homes(tmp_path),
                   tensorflow_hadoop_work_dir=str(tmp_path / "work"))
    assert found["has"]["tfspark"] is True
