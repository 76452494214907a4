#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: validate_input
short_description: Check a role's variables and report only what is wrong, one line per problem
version_added: "0.3.0"
description:
  - Runs on the controller (an action plugin); nothing on the target is read or changed.
  - With O(argument_spec), checks the variables of the role the task belongs to against that entry point of the
    role's C(meta/argument_specs.yml), strictly, as the role will use them (a number where a list or string is
    expected, a string where a list is expected, a value outside the choices, a relative path, an unknown or missing
    key of a list of mappings). Unlike the automatic role argument validation, nothing is converted first (a number
    given for a list is refused, not turned into a one-element list; a float given for a version is refused, since
    YAML has already turned C(11.10) into C(11.1)).
  - Then, if the spec check found nothing, evaluates O(rules) and reports each failing rule.
  - "Each problem is one line, C(<role>: <variable> = <value given> (<its kind>): expected <what is accepted>), and
    only problems are reported, never the rules that passed. A rule that cannot be evaluated becomes that rule's line,
    not a templating error."
  - Every dlstack.cdh role calls it from its C(validate.yml), which C(site.yml) runs for every role of every host
    before any role changes anything.
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
attributes:
  action:
    description: Runs as an action plugin on the controller.
    support: full
  async:
    description: Runs on the controller, nothing to run asynchronously.
    support: none
  check_mode:
    support: full
    details: The same checks run in check mode; nothing is changed in either mode.
  diff_mode:
    support: none
  platform:
    description: Runs on the controller only.
    support: full
    platforms: all
extends_documentation_fragment:
  - dlstack.cdh.attributes
options:
  argument_spec:
    description:
      - Entry point of the calling role's C(meta/argument_specs.yml) to check the role's variables against, usually
        V(main). Omit to evaluate O(rules) only.
    type: str
  rules:
    description:
      - Semantic rules, evaluated in order after the spec check found nothing. They are kept as written (not
        templated beforehand), like the conditions of M(ansible.builtin.assert).
    type: list
    elements: dict
    default: []
    suboptions:
      that:
        description: Condition (or list of conditions, all of which must hold), written as for C(when).
        type: raw
        required: true
      var:
        description: The variable the rule is about; named in the problem line with its value.
        type: str
        required: true
      expect:
        description: What is accepted, in words (may use Jinja); completes "expected ...".
        type: str
        required: true
      value:
        description: Expression whose value is shown instead of O(rules[].var)'s (for example the bad items of a list).
        type: str
      when:
        description: Condition (or list of conditions) under which the rule applies.
        type: raw
  prefix:
    description: Start of each problem line. Defaults to the calling role's short name.
    type: str
notes:
  - Unknown variables (typos in a variable name) are not reported; Ansible has no list of the variables a host was
    given on purpose.
seealso:
  - module: ansible.builtin.validate_argument_spec
"""

EXAMPLES = r"""
- name: Validate | The role's variables have the kinds its argument spec promises
  dlstack.cdh.validate_input:
    argument_spec: main

- name: Validate | Settings that depend on each other
  dlstack.cdh.validate_input:
    rules:
      - var: cuda_versions
        that: cuda_method != 'distro' or cuda_versions | length == 1
        expect: exactly one version with cuda_method=distro (the distribution packages one toolkit)
      - var: cuda_versions
        value: cuda_versions | map('string') | reject('match', '^[0-9]+[.][0-9]+$') | list
        that: cuda_versions | map('string') | reject('match', '^[0-9]+[.][0-9]+$') | list | length == 0
        expect: major.minor versions such as 11.8
"""

RETURN = r"""
problems:
  description: One line per problem, as in RV(msg); empty when the input is accepted.
  returned: always
  type: list
  elements: str
  sample:
    - "cuda: cuda_versions = 11.8 (a number): expected a list of strings (CUDA toolkits to install, as major.minor)"
msg:
  description: The problems joined by newlines, or that the input was accepted.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    # Only reached when the action plugin is bypassed; the checks need the controller's variables.
    rule = dict(that=dict(type="raw", required=True), var=dict(type="str", required=True),
                expect=dict(type="str", required=True), value=dict(type="str"), when=dict(type="raw"))
    module = AnsibleModule(argument_spec=dict(argument_spec=dict(type="str"), prefix=dict(type="str"),
                                              rules=dict(type="list", elements="dict", default=[], options=rule)),
                           supports_check_mode=True)
    module.fail_json(msg="dlstack.cdh.validate_input runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
