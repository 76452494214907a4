# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test double of community.general.dnf_versionlock (options and returns from its documentation)."""

from __future__ import annotations

import json
import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="list", elements="str", default=[]),
            raw=dict(type="bool", default=False),
            state=dict(type="str", default="present", choices=["present", "absent", "excluded", "clean"]),
        ),
        supports_check_mode=True,
    )
    with open(os.environ["DLSTACK_TEST_RECORD"], "a") as record:
        record.write(json.dumps({"module": "dnf_versionlock", "check_mode": module.check_mode, **module.params}) + "\n")
    adding = module.params["state"] in ("present", "excluded")
    module.exit_json(changed=True, specs_toadd=module.params["name"] if adding else [],
                     specs_todelete=[] if adding else module.params["name"], locklist_pre=[], locklist_post=[])


if __name__ == "__main__":
    main()
