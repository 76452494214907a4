# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test double of community.general.yum_versionlock (options and returns from its documentation)."""

from __future__ import annotations

import json
import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="list", elements="str", default=[]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    with open(os.environ["DLSTACK_TEST_RECORD"], "a") as record:
        record.write(json.dumps({"module": "yum_versionlock", "check_mode": module.check_mode, **module.params}) + "\n")
    module.exit_json(changed=True, packages=module.params["name"], state=module.params["state"])


if __name__ == "__main__":
    main()
