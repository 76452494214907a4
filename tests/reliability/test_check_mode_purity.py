"""`site.yml --check` on a fresh node changes nothing: same file tree, same package database."""

from __future__ import annotations

import difflib

from conftest import ROOT, ansible_playbook

# The example inventory's GPU worker settings, so the example itself is what is checked.
EXAMPLE_GPU_WORKERS = ROOT / "playbooks" / "inventory" / "example" / "group_vars" / "gpu_workers.yml"


def test_site_check_mode_changes_nothing(node, tmp_path):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "[gpu_workers]\n{0} ansible_connection=containers.podman.podman ansible_python_interpreter=/usr/bin/python3"
        " dlstack_site_become=false\n"
        "[gateways]\n[cdsw_hosts]\n".format(node.name))
    # A real node has apt's package lists; the debootstrap image ships without them, and
    # without them check mode cannot tell which packages it would install.
    node.sh("apt-get update -qq")
    # Connecting once first: what Ansible's own connection leaves behind is not the playbook's doing.
    warm = ansible_playbook("-i", inventory, ROOT / "tests" / "reliability" / "playbooks" / "ping.yml")
    assert warm.returncode == 0, warm.stdout[-2000:]
    before_files = node.file_list()
    before = node.digest()

    run = ansible_playbook("-i", inventory, "--check", "--diff", "-e", "@%s" % EXAMPLE_GPU_WORKERS,
                           ROOT / "playbooks" / "site.yml")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]

    after = node.digest()
    if after != before:
        changed = "\n".join(difflib.unified_diff(before_files, node.file_list(), lineterm="", n=0))
        raise AssertionError("check mode changed the node:\n%s" % changed[:5000])
