# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster profile a name stands for (dlstack_cluster_profile), for the roles' defaults."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.dlstack.cdh.plugins.module_utils.cluster_profiles import UnknownProfile, profile


def cluster_profile(name):
    try:
        return profile(name)
    except UnknownProfile as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"cluster_profile": cluster_profile}
