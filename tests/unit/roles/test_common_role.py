# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The internal role dlstack.cdh._common, on paths molecule cannot converge here.

Runs the real ``ansible-playbook`` against localhost with every path under a temporary
directory: NVIDIA's repository for apt (Debian, Ubuntu) and dnf (EL 8/9) written as
nvidia_driver and then cuda write it (the second call must find it in place), the apt hold in
check mode (dpkg is only read), verified fetches of URLs and node files, the one OS-vars list and
the refusal of direct use. Nothing outside tmp_path is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.dlstack.cdh.tests.unit.roles.test_gpu_stack_roles import ANSIBLE_PLAYBOOK, HERE, MIRROR, _env, _facts, _run

pytestmark = pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible-playbook is not installed")


def _repo(tmp_path, facts, **role_vars):
    out = tmp_path / "out"
    out.mkdir()
    keyring = tmp_path / "fixture-keyring.gpg"
    keyring.write_bytes(b"not a real keyring, only its bytes are copied")
    extra = {
        "test_facts": facts, "out_dir": str(out),
        "_common_apt_sources_dir": str(out), "_common_apt_keyring_dir": str(out), "_common_yum_reposdir": str(out),
        "nvidia_driver_repo_base_url": MIRROR, "nvidia_driver_method": "nvidia_repo", "cuda_method": "nvidia_repo",
        "cuda_versions": ["12.4"],
    }
    if facts["os_family"] == "Debian":
        extra["nvidia_driver_repo_gpgkey_url"] = "file://%s" % keyring
    extra.update(role_vars)
    result = _run(tmp_path, HERE / "playbooks" / "common_repo.yml", extra)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((out / "calls.json").read_text()), out


@pytest.mark.parametrize("facts, repo_dir", [
    (_facts("Debian", "12.5", "Debian", "bookworm"), "debian12"),
    (_facts("Ubuntu", "22.04", "Debian", "jammy"), "ubuntu2204"),
])
def test_apt_repository_is_written_once_for_both_roles(tmp_path, facts, repo_dir):
    calls, out = _repo(tmp_path, facts)
    # nvidia_driver writes it, cuda finds the same file in place.
    assert calls == [True, False]
    deb_lines = [line for line in (out / "cuda.list").read_text().splitlines() if line.startswith("deb ")]
    assert deb_lines == [
        "deb [signed-by=%s/cuda-archive-keyring.gpg arch=amd64] %s%s/x86_64/ /" % (out, MIRROR, repo_dir)]
    assert (out / "cuda-archive-keyring.gpg").read_bytes() == b"not a real keyring, only its bytes are copied"


ARMORED = b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGJYmlEBEAC6nJmeqByeReM+MSy4palACCnfOg==\n-----END PGP PUBLIC KEY BLOCK-----\n"


def test_an_armored_key_is_kept_as_asc_and_signs_the_source(tmp_path):
    key = tmp_path / "3bf863cc.pub"
    key.write_bytes(ARMORED)
    calls, out = _repo(tmp_path, _facts("Debian", "12.5", "Debian", "bookworm"),
                       nvidia_driver_repo_gpgkey_url="file://%s" % key)
    deb_lines = [line for line in (out / "cuda.list").read_text().splitlines() if line.startswith("deb ")]
    assert deb_lines == ["deb [signed-by=%s/cuda-archive-keyring.asc arch=amd64] %sdebian12/x86_64/ /" % (out, MIRROR)]
    assert (out / "cuda-archive-keyring.asc").read_bytes() == ARMORED
    assert not (out / "cuda-archive-keyring.gpg").exists()


def test_an_armored_key_under_a_gpg_name_is_refused(tmp_path):
    key = tmp_path / "cuda-archive-keyring.gpg"
    key.write_bytes(ARMORED)
    out = tmp_path / "out"
    out.mkdir()
    result = _run(tmp_path, HERE / "playbooks" / "common_repo.yml", {
        "test_facts": _facts("Debian", "12.5", "Debian", "bookworm"), "out_dir": str(out),
        "_common_apt_sources_dir": str(out), "_common_apt_keyring_dir": str(out), "_common_yum_reposdir": str(out),
        "nvidia_driver_repo_base_url": MIRROR, "nvidia_driver_method": "nvidia_repo", "cuda_method": "nvidia_repo",
        "cuda_versions": ["12.4"], "nvidia_driver_repo_gpgkey_url": "file://%s" % key})
    assert result.returncode == 2
    assert "is ASCII-armored, but its URL says binary" in " ".join(result.stdout.split())
    assert not (out / "cuda.list").exists()
    # The refused key never became the keyring apt reads.
    assert not (out / "cuda-archive-keyring.gpg").exists()


@pytest.mark.parametrize("version, repo_dir", [("9.4", "rhel9"), ("8.10", "rhel8")])
def test_yum_repository_is_written_once_for_both_roles(tmp_path, version, repo_dir):
    calls, out = _repo(tmp_path, _facts("RedHat", version, "RedHat"))
    assert calls == [True, False]
    repo = (out / "cuda.repo").read_text()
    assert "[cuda-%s-x86_64]" % repo_dir in repo
    assert "baseurl = %s%s/x86_64/" % (MIRROR, repo_dir) in repo
    assert "gpgkey = %s%s/x86_64/D42D0685.pub" % (MIRROR, repo_dir) in repo
    assert "gpgcheck = 1" in repo
    # One repository section: the second call did not add another.
    assert repo.count("[cuda-") == 1


def _play(tmp_path, tasks, extra_vars, check=False):
    """A play on localhost with the given tasks; the last of them may write out/result.json."""
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n" + tasks)
    result = _run(tmp_path, playbook, dict(extra_vars, out_dir=str(out)), *(["--check"] if check else []))
    output = result.stdout + result.stderr
    data = json.loads((out / "result.json").read_text()) if (out / "result.json").exists() else None
    return result.returncode, output, data


FETCH = """\
    - name: Fetch
      ansible.builtin.include_role:
        name: dlstack.cdh._common
        tasks_from: fetch_verified
      vars:
        _common_fetch_src: "{{ test_src }}"
        _common_fetch_sha256: "{{ test_sha256 }}"
        _common_fetch_dest: "{{ out_dir }}/downloads/payload.bin"
        _common_fetch_fact: test_local
    - name: Result
      ansible.builtin.copy:
        dest: "{{ out_dir }}/result.json"
        mode: "0644"
        content: "{{ {'local': test_local, 'fetched': _common_fetched} | to_json }}"
"""

PAYLOAD = b"the payload the sha256 names"
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_fetch_downloads_a_url_and_compares_the_sha256_in_any_case(tmp_path):
    src = tmp_path / "payload.bin"
    src.write_bytes(PAYLOAD)
    rc, output, data = _play(tmp_path, FETCH, {"test_src": "file://%s" % src, "test_sha256": PAYLOAD_SHA.upper()})
    assert rc == 0, output
    dest = tmp_path / "out" / "downloads" / "payload.bin"
    assert data == {"local": str(dest), "fetched": {str(dest): True}}
    assert dest.read_bytes() == PAYLOAD


def test_fetch_refuses_a_download_with_another_sha256(tmp_path):
    src = tmp_path / "payload.bin"
    src.write_bytes(PAYLOAD)
    rc, output, data = _play(tmp_path, FETCH, {"test_src": "file://%s" % src, "test_sha256": "0" * 64})
    assert rc == 2, output
    assert "Fetch verified | Download the file, refused unless its sha256 matches" in output
    assert not (tmp_path / "out" / "downloads" / "payload.bin").exists()
    assert data is None


def test_fetch_in_check_mode_reports_a_download_it_does_not_make(tmp_path):
    src = tmp_path / "payload.bin"
    src.write_bytes(PAYLOAD)
    rc, output = _play(tmp_path, FETCH, {"test_src": "file://%s" % src, "test_sha256": PAYLOAD_SHA}, check=True)[:2]
    assert rc == 0, output
    assert not (tmp_path / "out" / "downloads").exists()
    # Check mode writes no result file: the tasks' own lines say what happened.
    assert "changed: [localhost]" in output.split("Fetch verified | Create the download directory")[1].split("TASK [")[0]
    assert "skipping: [localhost]" in output.split("Fetch verified | Download the file")[1].split("TASK [")[0]


def test_fetch_takes_a_node_file_in_place_with_an_upper_case_sha256(tmp_path):
    src = tmp_path / "payload.bin"
    src.write_bytes(PAYLOAD)
    rc, output, data = _play(tmp_path, FETCH, {"test_src": str(src), "test_sha256": PAYLOAD_SHA.upper()})
    assert rc == 0, output
    assert data == {"local": str(src), "fetched": {str(src): True}}
    assert not (tmp_path / "out" / "downloads").exists()


@pytest.mark.parametrize("check", [False, True])
def test_fetch_refuses_a_node_file_that_is_missing_or_differs_in_every_mode(tmp_path, check):
    src = tmp_path / "payload.bin"
    src.write_bytes(b"another payload")
    rc, output = _play(tmp_path, FETCH, {"test_src": str(src), "test_sha256": PAYLOAD_SHA.upper()}, check=check)[:2]
    assert rc == 2, output
    actual = hashlib.sha256(b"another payload").hexdigest()
    assert "%s has sha256 %s, expected %s." % (src, actual, PAYLOAD_SHA) in output
    missing = {"test_src": str(tmp_path / "nope.bin"), "test_sha256": PAYLOAD_SHA}
    rc, output = _play(tmp_path, FETCH, missing, check=check)[:2]
    assert rc == 2, output
    assert "%s is not a regular file on the node." % (tmp_path / "nope.bin") in output


HOLD = """\
    - name: Hold
      ansible.builtin.include_role:
        name: dlstack.cdh._common
        tasks_from: hold
      vars:
        _common_hold_names: [bash, dlstack-test-not-installed]
        _common_hold_pkg_mgr: apt
        _common_hold_state: "{{ test_state }}"
"""


@pytest.mark.parametrize("state", ["held", "released"])
def test_apt_hold_in_check_mode_touches_only_installed_packages(tmp_path, state):
    # dpkg_selections only reads the selections in check mode. bash is installed on this host
    # (dpkg_selections refuses a package dpkg does not know); the other name is not.
    packages = {"bash": [{"name": "bash", "version": "5.2.15-2+b7", "source": "apt"}]}
    rc, output = _play(
        tmp_path,
        "    - name: Known packages\n      ansible.builtin.set_fact:\n"
        "        ansible_facts: {packages: \"{{ test_packages }}\"}\n" + HOLD,
        {"test_state": state, "test_packages": packages}, check=True)[:2]
    assert rc == 0, output
    selections = output.split("TASK [dlstack.cdh._common : Hold | Set the dpkg selections]")[1].split("TASK [")[0]
    assert "(item=bash)" in selections
    assert "dlstack-test-not-installed" not in selections


def test_apt_hold_runs_dpkg_selections_only_for_packages_whose_selection_differs(tmp_path):
    # One dpkg-query read for all names: bash is "install" on this host (not held), so releasing
    # it needs no dpkg_selections call (a skipped item) while holding it does (check mode: changed).
    packages = {"bash": [{"name": "bash", "version": "5.2.15-2+b7", "source": "apt"}]}
    known = "    - name: Known packages\n      ansible.builtin.set_fact:\n" \
            "        ansible_facts: {packages: \"{{ test_packages }}\"}\n"
    outputs = {}
    for state in ("released", "held"):
        rc, output = _play(tmp_path, known + HOLD, {"test_state": state, "test_packages": packages}, check=True)[:2]
        assert rc == 0, output
        outputs[state] = output.split("TASK [dlstack.cdh._common : Hold | Set the dpkg selections]")[1].split("TASK [")[0]
    assert "skipping: [localhost] => (item=bash)" in outputs["released"]
    assert "changed: [localhost] => (item=bash)" in outputs["held"]


def test_direct_use_is_refused(tmp_path):
    playbook = tmp_path / "direct.yml"
    playbook.write_text("- hosts: localhost\n  connection: local\n  gather_facts: false\n"
                        "  roles:\n    - role: dlstack.cdh._common\n")
    result = _run(tmp_path, playbook, {})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "dlstack.cdh._common is internal to the dlstack.cdh roles" in result.stdout


OS_VARS = """\
    - name: Pretend to be the OS under test
      ansible.builtin.set_fact:
        ansible_facts: "{{ test_facts }}"
    - name: Load cudnn's OS data as the role does
      ansible.builtin.include_role:
        name: dlstack.cdh.cudnn
        tasks_from: vars.yml
        public: true
      vars:
        cudnn_cuda_version: "12.4"
    - name: Result
      ansible.builtin.copy:
        dest: "{{ out_dir }}/result.json"
        mode: "0644"
        content: "{{ {'pkg_mgr': _cudnn_pkg_mgr, 'held': _cudnn_repo_held['9']} | to_json }}"
"""


@pytest.mark.parametrize("facts, pkg_mgr", [
    (_facts("Rocky", "8.10", "RedHat"), "dnf"),
    (_facts("RedHat", "9.4", "RedHat"), "dnf"),
    (_facts("Ubuntu", "24.04", "Debian", "noble"), "apt"),
])
def test_os_vars_falls_back_through_the_one_file_list(tmp_path, facts, pkg_mgr):
    rc, output, data = _play(tmp_path, OS_VARS, {"test_facts": facts})
    assert rc == 0, output
    assert data["pkg_mgr"] == pkg_mgr


def test_os_vars_fallback_does_not_widen_the_supported_els(tmp_path):
    rc, output = _play(tmp_path, OS_VARS, {"test_facts": _facts("Rocky", "10.0", "RedHat")})[:2]
    assert rc == 2, output
    assert "cudnn supports Debian 12/13, Ubuntu 22.04/24.04 and EL 8/9; Rocky 10.0 is not one of them." in output


def test_os_vars_refuses_el7_with_the_reason(tmp_path):
    rc, output = _play(tmp_path, OS_VARS, {"test_facts": _facts("CentOS", "7.9", "RedHat")})[:2]
    assert rc == 2, output
    assert ("cudnn: CentOS 7.9 is not supported: ansible-core 2.19 manages targets with Python 3.8 or later, "
            "and EL 7 ships Python 3.6; the collection supports EL 8 and 9.") in " ".join(output.split())


DOUBLES = HERE / "doubles"


def _hold_rpm(tmp_path, pkg_mgr, state, names):
    playbook = tmp_path / "hold.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n" + HOLD.replace(
            "[bash, dlstack-test-not-installed]", "\"{{ test_names }}\"").replace(
            "_common_hold_pkg_mgr: apt", "_common_hold_pkg_mgr: \"{{ test_pkg_mgr }}\""))
    return _run_with_doubles(tmp_path, playbook, {"test_names": names, "test_pkg_mgr": pkg_mgr, "test_state": state})


def _run_with_doubles(tmp_path, playbook, variables):
    """Run playbook with the doubles first: community.general's dnf modules and a package manager
    for ansible.builtin.package, as this host has no dnf. Returns the calls they recorded."""
    record = tmp_path / "record.jsonl"
    env = _env(tmp_path)
    env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join([str(DOUBLES), env["ANSIBLE_COLLECTIONS_PATH"]])
    env["DLSTACK_TEST_RECORD"] = str(record)
    variables = dict(variables, ansible_package_use="dlstack_test.doubles.package_record",
                     ansible_python_interpreter=sys.executable)
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(variables))
    result = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", "-e", "@%s" % vars_file, str(playbook)],
                            env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in record.read_text().splitlines()]


@pytest.mark.parametrize("pkg_mgr, plugin, module", [
    ("dnf", "python3-dnf-plugin-versionlock", "dnf_versionlock"),
])
@pytest.mark.parametrize("state, lock_state", [("held", "present"), ("released", "absent")])
def test_rpm_hold_installs_the_plugin_then_sets_every_lock_with_the_module(tmp_path, pkg_mgr, plugin, module,
                                                                           state, lock_state):
    # nvidia_driver's locks for a pinned driver: name-version patterns.
    names = ["nvidia-driver-cuda-libs-535.183.01*", "nvidia-driver-535.183.01*"]
    calls = _hold_rpm(tmp_path, pkg_mgr, state, names)
    assert [call["module"] for call in calls] == ["package", module]
    assert calls[0]["name"] == [plugin] and calls[0]["state"] == "present"
    assert calls[1]["name"] == names and calls[1]["state"] == lock_state


def _epel(tmp_path, facts, release):
    playbook = tmp_path / "epel.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
        "    - name: Pretend to be the OS under test\n      ansible.builtin.set_fact:\n"
        "        ansible_facts: \"{{ test_facts }}\"\n"
        "    - name: EPEL as a role enables it\n      ansible.builtin.include_role:\n"
        "        name: dlstack.cdh._common\n        tasks_from: epel\n      vars:\n"
        "        _common_epel_release: \"{{ test_release }}\"\n")
    return _run_with_doubles(tmp_path, playbook, {"test_facts": dict(facts, architecture="x86_64"),
                                                  "test_release": release})


@pytest.mark.parametrize("facts, release, crb", [
    (_facts("Rocky", "8.10", "RedHat"), "epel-release", "powertools"),
    (_facts("Rocky", "9.4", "RedHat"), "epel-release", "crb"),
    # RHEL carries no epel-release: the rpm's URL, and CodeReady Builder.
    (_facts("RedHat", "9.4", "RedHat"), "https://dl.fedoraproject.org/pub/epel/epel-release-latest-9.noarch.rpm",
     "codeready-builder-for-rhel-9-x86_64-rpms"),
])
def test_epel_installs_its_release_package_then_enables_the_build_repository(tmp_path, facts, release, crb):
    calls = _epel(tmp_path, facts, release)
    assert [c["module"] for c in calls] == ["package", "dnf_config_manager"], calls
    assert calls[0]["name"] in (release, [release]) and calls[0]["state"] == "present"
    assert calls[1]["name"] == [crb] and calls[1]["state"] == "enabled"
