# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records an ansible.builtin.package call (name, state, as ansible.builtin.package documents them)."""

from __future__ import annotations

import json
import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(name=dict(type="list", elements="str", required=True), state=dict(type="str")),
        supports_check_mode=True,
    )
    with open(os.environ["DLSTACK_TEST_RECORD"], "a") as record:
        record.write(json.dumps({"module": "package", "check_mode": module.check_mode, **module.params}) + "\n")
    module.exit_json(changed=True)


if __name__ == "__main__":
    main()
