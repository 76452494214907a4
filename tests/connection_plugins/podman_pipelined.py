# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection the tests reach their podman containers with (molecule and tests/reliability).

containers.podman.podman runs `podman exec` without `-i`, so it cannot pipeline: each module
costs a `podman exec` for the home directory, the temporary directory, its permissions, the run
and the clean-up (150 for 30 tasks, about 1.5 CPU seconds a task here). With `-i` the module goes
to the container's Python on stdin, one `podman exec` per module, as over SSH with pipelining
(which the collection's ansible.cfg turns on). Async tasks and file transfers keep the parent's
path.
"""

from __future__ import annotations

DOCUMENTATION = """
name: podman_pipelined
short_description: Run modules in a podman container over one C(podman exec -i) each
description:
  - The containers.podman.podman connection with pipelining, for the test containers.
options:
  remote_addr:
    description: The name or ID of the container.
    default: inventory_hostname
    vars:
      - name: ansible_host
      - name: inventory_hostname
      - name: ansible_podman_host
  remote_user:
    description: The user commands run as inside the container.
    ini:
      - section: defaults
        key: remote_user
    env:
      - name: ANSIBLE_REMOTE_USER
    vars:
      - name: ansible_user
  podman_extra_args:
    description: Extra arguments to the podman command line.
    default: ''
    ini:
      - section: defaults
        key: podman_extra_args
    vars:
      - name: ansible_podman_extra_args
    env:
      - name: ANSIBLE_PODMAN_EXTRA_ARGS
  podman_executable:
    description: The podman executable.
    default: podman
    vars:
      - name: ansible_podman_executable
    env:
      - name: ANSIBLE_PODMAN_EXECUTABLE
  pipelining:
    description: Send modules on stdin (one C(podman exec -i) per module); on unless turned off.
    type: boolean
    default: true
    ini:
      - section: defaults
        key: pipelining
      - section: connection
        key: pipelining
    env:
      - name: ANSIBLE_PIPELINING
    vars:
      - name: ansible_pipelining
"""

import shlex

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.connection import ensure_connect
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection


class Connection(PodmanConnection):
    transport = "podman_pipelined"
    has_pipelining = True

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        if in_data is None:
            return super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        # -i: podman exec gives the process no stdin without it.
        args = ["exec", "-i"] + (["--user", self.user] if self.user else [])
        rc, stdout, stderr = self._podman(args, shlex.split(to_native(cmd, errors="surrogate_or_strict")), in_data)
        # podman's own failure (no such container, not running): the host is unreachable, as when
        # ssh fails; without pipelining the temporary directory's command would have said so.
        if rc == 125 and stderr.startswith(b"Error: "):
            raise AnsibleConnectionFailure("podman exec in %s failed: %s" % (self._container_id, to_native(stderr).strip()))
        return rc, stdout, stderr
