"""Bad input: every case fails with a clear message, and the node is left exactly as it was.

Each case runs for real (not in check mode) against the same fresh container; the
node's file tree and package database digests are compared before and after.
Module cases run as ad-hoc commands, role cases as playbooks with the bad variables
given as extra vars.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import BIN, ROOT, ansible_playbook

MODULE_CASES = [
    ("compat-garbage-version", "dlstack.cdh.dl_stack_compat", {"cuda_version": "banana"},
     "cuda_version 'banana' is not a version (expected dotted numbers such as 11.8)"),
    ("compat-cuda-too-new-for-driver", "dlstack.cdh.dl_stack_compat", {"driver_version": "470.57.02", "cuda_version": "12.4"},
     "CUDA 12.4 needs driver >= 550.54.14"),
    ("compat-cudnn-major-mismatch", "dlstack.cdh.dl_stack_compat", {"cuda_version": "10.2", "cudnn_version": "9.0.0"},
     "cuDNN 9.0.0"),
    ("libraries-bad-regex", "dlstack.cdh.shared_library_info", {"patterns": ["libcud(nn"]},
     "patterns[0] 'libcud(nn' is not a valid regular expression"),
    ("gpu-info-unknown-method", "dlstack.cdh.nvidia_gpu_info", {"method": "cuda"},
     "value of method must be one of: auto, nvml, nvidia_smi, got: cuda"),
    ("compliance-bad-mode", "dlstack.cdh.node_compliance", {"files": [{"path": "/etc/x.conf", "mode": "rw-r--r--"}]},
     "files: mode 'rw-r--r--' of /etc/x.conf is not an octal permission such as '0644'"),
    ("compliance-relative-path", "dlstack.cdh.node_compliance", {"files": [{"path": "etc/x.conf"}]},
     "files: 'etc/x.conf' is not an absolute path"),
]

# (id, role, extra vars, message): filled in as roles validate their input.
ROLE_CASES = []


@pytest.fixture(scope="module")
def shared_node(request):
    from conftest import IMAGE, Node
    name = "dlstack-rel-badinput"
    subprocess.run(["podman", "rm", "-f", "-t", "0", name], capture_output=True, check=False)
    subprocess.run(["podman", "run", "-d", "--name", name, "--network", "host", IMAGE, "/bin/sleep", "infinity"],
                   check=True, capture_output=True)
    request.addfinalizer(lambda: subprocess.run(["podman", "rm", "-f", "-t", "0", name], capture_output=True, check=False))
    return Node(name)


@pytest.fixture(scope="module")
def inventory(shared_node, tmp_path_factory):
    path = shared_node.inventory(tmp_path_factory.mktemp("inv"))
    warm = ansible_playbook("-i", path, ROOT / "tests" / "reliability" / "playbooks" / "ping.yml")
    assert warm.returncode == 0, warm.stdout[-2000:]
    return path


def test_table_is_large_enough():
    assert len(MODULE_CASES) + len(ROLE_CASES) >= 15


@pytest.mark.parametrize("module,args,message", [c[1:] for c in MODULE_CASES], ids=[c[0] for c in MODULE_CASES])
def test_module_rejects_bad_input(shared_node, inventory, module, args, message):
    before = shared_node.digest()
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    run = subprocess.run([str(BIN / "ansible"), "all", "-i", str(inventory), "-m", module, "-a", json.dumps(args)],
                         cwd=str(ROOT), env=env, capture_output=True, text=True, check=False)
    assert run.returncode != 0
    assert message in run.stdout, run.stdout[-3000:]
    assert shared_node.digest() == before


@pytest.mark.parametrize("role,extra_vars,message", [c[1:] for c in ROLE_CASES], ids=[c[0] for c in ROLE_CASES])
def test_role_rejects_bad_input_before_any_change(shared_node, inventory, role, extra_vars, message):
    before = shared_node.digest()
    run = ansible_playbook("-i", inventory, "-e", json.dumps(dict(extra_vars, bad_input_role=role)),
                           ROOT / "tests" / "reliability" / "playbooks" / "role.yml")
    assert run.returncode != 0
    assert message in run.stdout, run.stdout[-4000:]
    assert "changed=0" in run.stdout
    assert shared_node.digest() == before
