"""The caffe_build role refuses bad input before it changes anything.

Each case runs the real role with ansible-playbook in check mode against
localhost (connection local) and asserts the failure names the problem. The
role fails in its validation tasks, before the package step, so the host is
not touched (check mode would not touch it anyway).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

COLLECTION_ROOT = Path(__file__).resolve().parents[3]
ROLE_DIR = COLLECTION_ROOT / "roles" / "caffe_build"


def _collections_path():
    # ansible-test copies the collection to .../ansible_collections/dlstack/cdh;
    # a checkout has `make link`'s ansible_collections/dlstack/cdh inside it.
    parts = COLLECTION_ROOT.parts
    if len(parts) > 3 and parts[-3] == "ansible_collections":
        return str(COLLECTION_ROOT.parents[2])
    return str(COLLECTION_ROOT)


def _ansible_playbook():
    # The ansible-playbook installed next to the Python running the tests (the
    # project's .venv); the module form works where only the package is there.
    candidate = Path(sys.executable).parent / "ansible-playbook"
    if candidate.exists():
        return [str(candidate)]
    return [sys.executable, "-c", "import sys; from ansible.cli.playbook import main; sys.exit(main())"]


def run_playbook(tmp_path, playbook, variables, check=True):
    variables = dict(variables, ansible_python_interpreter=sys.executable)
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": _collections_path(),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            # Pipelining: one process per module.
            "ANSIBLE_PIPELINING": "1",
            "ANSIBLE_STDOUT_CALLBACK": "default",
        }
    )
    env.pop("ANSIBLE_CONFIG", None)
    result = subprocess.run(
        _ansible_playbook()
        + (["--check"] if check else [])
        + ["-i", "localhost,", str(playbook), "-e", json.dumps(variables)],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def run_role(tmp_path, extra_vars):
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: localhost\n"
        "  connection: local\n"
        "  gather_facts: true\n"
        "  gather_subset: [min]\n"
        "  roles:\n"
        "    - role: dlstack.cdh.caffe_build\n"
    )
    variables = {
        # Nothing may land in the real /opt even if validation let a case through.
        "caffe_build_work_dir": str(tmp_path / "work"),
        "caffe_build_install_prefix": str(tmp_path / "prefix"),
    }
    variables.update(extra_vars)
    return run_playbook(tmp_path, playbook, variables)


def _failed_task(output):
    # The task that failed: the last TASK banner before the `fatal:` line.
    before = output.split("fatal: [localhost]")[0]
    return before.rsplit("TASK [", 1)[-1].split("]", 1)[0]


def test_archive_without_checksum_is_refused(tmp_path):
    archive = tmp_path / "caffe.tar.gz"
    archive.write_bytes(b"not checked")
    rc, output = run_role(tmp_path, {"caffe_build_source": "archive", "caffe_build_archive": str(archive)})
    assert rc == 2, output
    assert "(a string): expected the archive's sha256, 64 hex digits, required with caffe_build_source=archive" in output
    assert "Validate | The source, the build options and the patches fit together" in _failed_task(output)
    assert not (tmp_path / "work").exists()


def test_malformed_checksum_is_refused(tmp_path):
    rc, output = run_role(
        tmp_path,
        {
            "caffe_build_source": "archive",
            "caffe_build_archive": "https://example.invalid/caffe.tar.gz",
            "caffe_build_archive_sha256": "md5:abc",
        },
    )
    assert rc == 2, output
    assert 'caffe_build_archive_sha256 = \\"md5:abc\\" (a string): expected the archive\'s sha256, 64 hex digits' in output


def test_cuda_build_without_cuda_is_refused(tmp_path):
    cuda_dir = tmp_path / "no-cuda"
    rc, output = run_role(tmp_path, {"caffe_build_cpu_only": False, "caffe_build_cuda_dir": str(cuda_dir)})
    assert rc == 2, output
    assert "A CUDA build (caffe_build_cpu_only=false) needs the CUDA toolkit" in output
    assert "%s/bin/nvcc does not exist" % cuda_dir in output
    assert "Toolkit | Require CUDA for a CUDA build" in _failed_task(output)


def test_cuda_build_with_cudnn_and_cpu_only_is_refused(tmp_path):
    rc, output = run_role(tmp_path, {"caffe_build_cpu_only": True, "caffe_build_use_cudnn": True})
    assert rc == 2, output
    assert "caffe_build_use_cudnn = true (a boolean): expected false with caffe_build_cpu_only=true" in output


@pytest.mark.parametrize("blas", ["openblas", "netlib"])
def test_unknown_blas_is_refused(tmp_path, blas):
    rc, output = run_role(tmp_path, {"caffe_build_blas": blas})
    assert rc == 2, output
    # The role's argument spec stops it before its first task.
    assert "value of caffe_build_blas must be one of: atlas, mkl, open, got: %s" % blas in output
    assert "Validating arguments against arg spec 'main'" in _failed_task(output)


def test_missing_patch_is_refused(tmp_path):
    rc, output = run_role(tmp_path, {"caffe_build_patches": ["0001-protobuf-single-argument-SetTotalBytesLimit.patch", "9999-nope.patch"]})
    assert rc == 2, output
    assert "files/patches/9999-nope.patch" in output
    assert "Validate | The source, the build options and the patches fit together" in _failed_task(output)


def run_source_tasks(tmp_path, extra_vars):
    # Only tasks/source.yml: the archive check comes after the package step the full role would run.
    playbook = tmp_path / "source.yml"
    playbook.write_text(
        "- hosts: localhost\n"
        "  connection: local\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - name: Fetch the source\n"
        "      ansible.builtin.include_role:\n"
        "        name: dlstack.cdh.caffe_build\n"
        "        tasks_from: source.yml\n"
    )
    variables = {"caffe_build_work_dir": str(tmp_path / "work"), "caffe_build_source": "archive"}
    variables.update(extra_vars)
    return run_playbook(tmp_path, playbook, variables)


def test_local_archive_with_a_wrong_sha256_is_refused(tmp_path):
    archive = tmp_path / "caffe.tar.gz"
    archive.write_bytes(b"not the pinned archive")
    rc, output = run_source_tasks(
        tmp_path, {"caffe_build_archive": str(archive), "caffe_build_archive_sha256": "A" * 64})
    assert rc == 2, output
    # The check is dlstack.cdh._common's, the one every role's verified fetch goes through.
    assert "_common : Fetch verified | Require the node file to match its sha256" in _failed_task(output)
    actual = hashlib.sha256(b"not the pinned archive").hexdigest()
    assert "%s has sha256 %s, expected %s." % (archive, actual, "a" * 64) in output
    assert not (tmp_path / "work").exists()
