"""The nightly compliance run against the converged node, then against the same node broken ten ways.

Runs after test_gpu_stack.py (pytest takes the files in name order). The breaks are not undone:
a second `molecule verify` needs a `molecule converge` before it.
compliance.yml gets the converge's input (vars/stack.yml) and derives every expectation from the
roles; nothing here lists a package, file or library to check. Each planted break must be named by
its own failed check in the JSON, JUnit and HTML reports, and the check-mode run must leave the
broken node exactly as it found it.
"""

import json
import os
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
# What the report template's `| e` does, so a reason is found in the HTML as the template wrote it.
from markupsafe import escape

testinfra_hosts = ["ansible://all"]

ROOT = pathlib.Path(__file__).resolve().parents[3]
STACK_VARS = ROOT / "molecule" / "gpu_stack" / "vars" / "stack.yml"
sys.path.insert(0, str(ROOT / "tests" / "reliability"))
from node_digest import DIGEST_SCRIPT  # noqa: E402  pylint: disable=wrong-import-position

LIB64 = "/usr/lib/cuda/lib64"
CUDA_CONF = "/etc/ld.so.conf.d/cuda-11-8.conf"
MULTIARCH = "/usr/lib/x86_64-linux-gnu"

# (what is done to the node, the check that must name it, a phrase its reason must hold).
# The package removal comes first: dpkg's trigger runs ldconfig, which would forget the libraries
# deleted before it.
BREAKS = [
    ("dpkg --force-depends -r libcuda1",
     "package libcuda1 installed", "libcuda1 is not installed"),
    ("rm -f %s/libcudnn.so.9" % LIB64,
     "library libcudnn found", "libcudnn.so.9 does not exist (run ldconfig)"),
    ("printf '# Managed by dlstack.cdh.cuda\\n/usr/lib/cuda/lib\\n' > %s" % CUDA_CONF,
     "%s contains '%s'" % (CUDA_CONF, LIB64), "lacks the line"),
    ("chmod 0600 %s" % CUDA_CONF,
     "%s mode" % CUDA_CONF, "has mode 0600, 0644 is wanted"),
    ("apt-mark unhold nvidia-smi",
     "package nvidia-smi held", "nvidia-smi is not held"),
    ("rm -f /etc/profile.d/cuda.sh",
     "/etc/profile.d/cuda.sh is file", "/etc/profile.d/cuda.sh is missing, file is wanted"),
    ("rm -f /usr/lib/cuda/bin/nvcc",
     "/usr/lib/cuda/bin/nvcc is link", "/usr/lib/cuda/bin/nvcc is missing, link is wanted"),
    ("sed -i 's/^#define CUDNN_MINOR .*/#define CUDNN_MINOR 9/' /usr/lib/cuda/include/cudnn_version.h",
     "cuDNN version", "the header says 9.9.2"),
    # The file the cache lists as libcudart.so.11.0 replaced by another library.
    ("cp -f %s/libz.so.1 \"$(readlink -f %s/libcudart.so.11.0)\"" % (MULTIARCH, MULTIARCH),
     "library libcudart found", "(its SONAME), not libcudart.so.11.0"),
    ("rm -f \"$(readlink -f %s/libnvidia-ml.so.1)\"" % MULTIARCH,
     "library libnvidia-ml found", "libnvidia-ml.so.1 is a dangling symlink"),
]

# Follows from a break above: without $CUDA_HOME/bin/nvcc no toolkit version can be read.
CONSEQUENCES = {"CUDA toolkit version": "CUDA 11.8 is wanted; found none"}


def run_compliance(hostname, report_dir, tmp_path):
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("[gpu_workers]\n%s ansible_connection=podman_pipelined ansible_python_interpreter=/usr/bin/python3\n"
                         % hostname)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(ROOT),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", DLSTACK_COMPLIANCE_REPORT_DIR=str(report_dir))
    return subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory), "--check",
                           "-e", "@%s" % STACK_VARS, str(ROOT / "playbooks" / "compliance.yml")],
                          cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=900, check=False)


def reports(report_dir):
    data = json.loads((report_dir / "compliance.json").read_text())
    junit = ET.parse(str(report_dir / "compliance.junit.xml")).getroot()
    html = (report_dir / "compliance.html").read_text()
    return data, junit, html


def digest(host):
    return host.check_output("sh -c %s", DIGEST_SCRIPT).split()


@pytest.fixture(scope="module")
def hostname(host):
    return host.backend.get_hostname()


def test_converged_node_is_compliant_with_what_the_roles_derive(host, hostname, tmp_path):
    run = run_compliance(hostname, tmp_path / "report", tmp_path)
    assert run.returncode == 0, run.stdout[-4000:]
    data, junit, _html = reports(tmp_path / "report")
    [record] = data["hosts"]
    names = {check["name"] for check in record["checks"]}
    # Derived from the roles, not from a hand-written list: the driver's userland packages and
    # their holds, the toolkit's, the linker file's content, the compiler link, the libraries.
    assert len(names) == len(record["checks"]), "a check is reported twice"
    for name in ("package nvidia-smi held", "package libnvidia-ml1 held", "package libcuda1 held",
                 "package nvidia-cuda-toolkit held", "%s contains '%s'" % (CUDA_CONF, LIB64),
                 "/usr/lib/cuda/bin/nvcc target", "/etc/profile.d/cuda.sh contains 'export CUDA_HOME=/usr/lib/cuda'",
                 "library libcudnn version", "library libnvidia-ml found", "cuDNN version", "CUDA toolkit version"):
        assert name in names, sorted(names)
    # The kernel side (modprobe files, DKMS packages) does not apply in a container.
    assert not [n for n in names if "modprobe" in n or "dkms" in n]
    assert record["compliant"] is True and junit.get("failures") == "0"


def test_every_planted_break_is_named_in_all_three_reports(host, hostname, tmp_path):
    for command, _check, _phrase in BREAKS:
        host.run_expect([0], "sh -c %s", command)
    before = digest(host)
    run = run_compliance(hostname, tmp_path / "report", tmp_path)
    after = digest(host)

    assert run.returncode == 2, run.stdout[-4000:]
    assert re.search(r"^%s\s*:.*changed=0\s+unreachable=0\s+failed=1" % re.escape(hostname), run.stdout, re.M), run.stdout[-3000:]
    assert after == before, "the check-mode compliance run changed the node"

    data, junit, html = reports(tmp_path / "report")
    [record] = data["hosts"]
    assert len({check["name"] for check in record["checks"]}) == len(record["checks"]), "a check is reported twice"
    failed = {check["name"]: check["reason"] for check in record["checks"] if not check["ok"]}
    junit_failures = {case.get("name"): case.find("failure").get("message")
                      for case in junit.iter("testcase") if case.find("failure") is not None}
    # Nothing else failed: every failed check is a planted break or follows from one.
    assert sorted(failed) == sorted([check for _command, check, _phrase in BREAKS] + list(CONSEQUENCES)), failed
    for check, reason in CONSEQUENCES.items():
        assert failed[check] == reason
    for _command, check, phrase in BREAKS:
        assert phrase in failed[check], (check, failed[check])
        assert junit_failures.get(check) == failed[check], (check, junit_failures)
        assert str(escape(failed[check])) in html, check
    assert record["compliant"] is False
