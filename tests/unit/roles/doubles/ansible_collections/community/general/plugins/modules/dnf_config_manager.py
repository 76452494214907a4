# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test double of community.general.dnf_config_manager (options and returns from its documentation)."""

from __future__ import annotations

import json
import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(name=dict(type="list", elements="str", default=[]),
                           state=dict(type="str", default="enabled", choices=["enabled", "disabled"])),
        supports_check_mode=True,
    )
    with open(os.environ["DLSTACK_TEST_RECORD"], "a", encoding="utf-8") as record:
        record.write(json.dumps({"module": "dnf_config_manager", "check_mode": module.check_mode, **module.params}) + "\n")
    module.exit_json(changed=True, changed_repos=module.params["name"], repo_states_pre=[], repo_states_post=[])


if __name__ == "__main__":
    main()
