"""Fixtures for the reliability tests: fresh podman containers and state digests.

These tests run real playbooks against real containers built from the local
Debian 12 image (`make image`), through the podman connection. Run with
`make reliability` (pytest from .venv, as root).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import uuid

import pytest
from node_digest import DIGEST_SCRIPT

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
IMAGE = os.environ.get("DLSTACK_TEST_IMAGE", "localhost/dlstack/debian:12")
# tests/connection_plugins/podman_pipelined.py: one `podman exec -i` per module.
CONNECTION = "ansible_connection=podman_pipelined ansible_python_interpreter=/usr/bin/python3"


def ansible_env(**extra):
    """The environment every ansible command of these tests runs with."""
    return dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                ANSIBLE_CONNECTION_PLUGINS=str(ROOT / "tests" / "connection_plugins"), **extra)


class Node(object):
    """A running test container and the commands the tests need on it."""

    def __init__(self, name):
        self.name = name

    def sh(self, script, check=True):
        return subprocess.run(["podman", "exec", self.name, "sh", "-c", script],
                              check=check, capture_output=True, text=True)

    def digest(self):
        return self.sh(DIGEST_SCRIPT).stdout.split()

    def file_list(self):
        self.digest()
        return self.sh("cat /run/dlstack-digest.files").stdout.splitlines()

    def inventory(self, tmp_path, group="gpu_workers"):
        path = tmp_path / ("%s.ini" % self.name)
        path.write_text("[%s]\n%s %s\n" % (group, self.name, CONNECTION))
        return path


@pytest.fixture
def node():
    name = "dlstack-rel-%s" % uuid.uuid4().hex[:8]
    subprocess.run(["podman", "run", "-d", "--name", name, "--network", "host", IMAGE, "/bin/sleep", "infinity"],
                   check=True, capture_output=True)
    try:
        yield Node(name)
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", name], capture_output=True, check=False)


def ansible_playbook(*args, env=None, timeout=1800):
    """Run the venv's ansible-playbook from the checkout; returns the CompletedProcess."""
    full_env = ansible_env(PYTHONDONTWRITEBYTECODE="1")
    full_env.update(env or {})
    return subprocess.run([str(BIN / "ansible-playbook"), *map(str, args)], cwd=str(ROOT), env=full_env,
                          capture_output=True, text=True, timeout=timeout, check=False)
