"""A converge killed half-way through a pip install completes on the next run.

The playbook is killed (SIGKILL, like a lost controller) together with the pip
process inside the node (like a node reboot), while pip is installing packages.
The rerun must finish with a working environment, and a third run changes nothing.

Where in pip's work the kill lands depends on timing. The state that once broke the
rerun (pip killed after numpy's METADATA but before its RECORD, a half-written
extension module) is then also made on purpose, by removing the RECORD and
truncating the module, so every run covers it.
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import time

from conftest import BIN, ROOT, ansible_env, ansible_playbook

PLAYBOOK = ROOT / "tests" / "reliability" / "playbooks" / "python_env.yml"
PYTHON = "/usr/anaconda/envs/pycaffe/bin/python"


def trust_host_cas(node):
    # Where HTTPS goes through an intercepting proxy the host trusts its CA; the node needs it too.
    for cert in glob.glob("/usr/local/share/ca-certificates/*.crt"):
        subprocess.run(["podman", "cp", cert, "%s:/usr/local/share/ca-certificates/" % node.name], check=True)
    node.sh("apt-get update -qq && apt-get install -y -qq ca-certificates >/dev/null && update-ca-certificates >/dev/null")


def wait_for_unpacking(node, proc, timeout=900):
    """Returns once pip has started writing packages into the env (numpy, the first one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("the converge ended (rc %s) before pip wrote any package" % proc.returncode)
        if node.sh("ls -d /usr/anaconda/envs/pycaffe/lib/python3*/site-packages/numpy", check=False).returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError("pip never started installing")


def test_converge_killed_during_pip_install_completes_on_rerun(node, tmp_path):
    trust_host_cas(node)
    inventory = node.inventory(tmp_path)
    proc = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", str(inventory), str(PLAYBOOK)], cwd=str(ROOT), env=ansible_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_unpacking(node, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    node.sh("pkill -9 -f 'pip install' || true", check=False)
    # Half-installed: the env exists, scikit-image (installed after numpy) is not there yet.
    assert node.sh("test -x %s" % PYTHON, check=False).returncode == 0
    broken = node.sh("%s -c 'import numpy, skimage, google.protobuf'" % PYTHON, check=False)
    assert broken.returncode != 0

    rerun = ansible_playbook("-i", inventory, PLAYBOOK)
    assert rerun.returncode == 0, rerun.stdout[-5000:]
    versions = node.sh("%s -c 'import numpy, skimage, google.protobuf as p; print(numpy.__version__, skimage.__version__, p.__version__)'"
                       % PYTHON).stdout.split()
    assert versions == ["1.26.4", "0.24.0", "4.21.12"]
    assert node.sh("%s -m pip check" % PYTHON, check=False).returncode == 0

    again = ansible_playbook("-i", inventory, PLAYBOOK)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-3000:]

    # What a kill between numpy's files and its RECORD leaves behind.
    site = "/usr/anaconda/envs/pycaffe/lib/python3.11/site-packages"
    extension = "%s/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so" % site
    node.sh("rm %s/numpy-1.26.4.dist-info/RECORD && test -s %s && truncate -s 4096 %s" % (site, extension, extension))
    assert node.sh("%s -c 'import numpy'" % PYTHON, check=False).returncode != 0
    repaired = ansible_playbook("-i", inventory, PLAYBOOK)
    assert repaired.returncode == 0 and "changed=1" in repaired.stdout, repaired.stdout[-3000:]
    assert node.sh("%s -c 'import numpy; print(numpy.__version__)'" % PYTHON).stdout.split() == ["1.26.4"]
    assert node.sh("test -s %s/numpy-1.26.4.dist-info/RECORD" % site, check=False).returncode == 0
