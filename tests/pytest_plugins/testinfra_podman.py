# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest plugin of the molecule verifiers: a test's commands reach its container with `podman exec`.

testinfra's ansible backend runs a host's commands with testinfra's own backend for the host's
connection when it knows that connection (ssh, local, docker, ...) and otherwise starts the
`ansible` command line for each command, a few CPU seconds apiece. It does not know the podman
connections, so for hosts on podman_pipelined (tests/connection_plugins) or containers.podman
this plugin hands commands to testinfra's podman backend. `host.ansible()` still runs modules
through Ansible, over the inventory's connection.
"""

from __future__ import annotations

import testinfra
from testinfra.utils import ansible_runner

PODMAN_CONNECTIONS = ("podman_pipelined", "podman", "containers.podman.podman")
# Settings testinfra's podman backend would not honour: such hosts keep the ansible command line.
OTHER_WAYS_IN = ("ansible_user", "ansible_become", "ansible_become_user", "ansible_podman_executable",
                 "ansible_podman_extra_args")
_get_ansible_host = ansible_runner.get_ansible_host


def get_ansible_host(config, inventory, host, *args, **kwargs):
    hostvars = inventory.get("_meta", {}).get("hostvars", {}).get(host, {})
    if (hostvars.get("ansible_connection") in PODMAN_CONNECTIONS and not any(hostvars.get(k) for k in OTHER_WAYS_IN)
            and not config.get("defaults", "remote_user", fallback=None)):
        return testinfra.get_host("podman://%s" % hostvars.get("ansible_host", host))
    return _get_ansible_host(config, inventory, host, *args, **kwargs)


ansible_runner.get_ansible_host = get_ansible_host
