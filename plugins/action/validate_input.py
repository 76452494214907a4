# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a role's input on the controller and report only what is wrong, one line each.

Documentation: plugins/modules/validate_input.py. Rules are kept as written (not
templated with the task's other arguments) so that a rule which cannot be evaluated
for a value of the wrong kind becomes that rule's line, not a templating error that
hides every other line.
"""

from __future__ import annotations

import os

import yaml

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.dlstack.cdh.plugins.plugin_utils.input_check import check_variables, kind, shown

RAW_ARGS = ("rules",)
RULE_KEYS = {"that", "var", "expect", "value", "when"}


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _error_text(error):
    text = " ".join(to_text(getattr(error, "message", None) or error).split())
    return text if len(text) <= 160 else text[:157] + "..."


class ActionModule(ActionBase):
    """Validate role variables against the role's argument spec and its own rules."""

    TRANSFERS_FILES = False
    _requires_connection = False

    @classmethod
    def finalize_task_arg(cls, name, value, templar, context):
        if name in RAW_ARGS:
            # rules: "{{ some_list }}" gives the list; the rules inside stay as written.
            return templar.resolve_to_container(value) if isinstance(value, str) else value
        return super().finalize_task_arg(name, value, templar, context)

    def _role_spec(self, entry_point):
        role = self._task._role
        if role is None:
            raise AnsibleActionFail("argument_spec needs the task to be part of a role")
        path = os.path.join(role._role_path, "meta", "argument_specs.yml")
        try:
            with open(path, "rb") as handle:
                specs = yaml.safe_load(handle) or {}
        except (OSError, yaml.YAMLError) as error:
            raise AnsibleActionFail("cannot read %s: %s" % (path, error))
        try:
            return specs["argument_specs"][entry_point].get("options") or {}
        except (KeyError, TypeError, AttributeError):
            raise AnsibleActionFail("%s has no entry point %s" % (path, entry_point))

    def _variable(self, task_vars, name):
        """(found, value) of one variable, templated on its own so one broken value breaks only its line."""
        if name not in task_vars:
            return False, None
        return True, self._templar.template(task_vars[name])

    def _spec_problems(self, entry_point, task_vars):
        options = self._role_spec(entry_point)
        given, derived, unresolved = {}, {}, []
        for name in options:
            if name not in task_vars:
                continue
            # A value built from other variables (a default such as "{{ other }}") is wrong when they are.
            target = derived if self._templar.is_template(task_vars[name]) else given
            try:
                target[name] = self._variable(task_vars, name)[1]
            except Exception as error:  # pylint: disable=broad-except
                unresolved.append("%s cannot be worked out: %s" % (name, _error_text(error)))
        problems = check_variables({name: option for name, option in options.items() if name not in derived}, given)
        if problems:
            return problems
        return check_variables({name: options[name] for name in derived}, derived) or unresolved

    def _applies(self, rule):
        return all(self._templar.evaluate_conditional(condition) for condition in _as_list(rule.get("when", [])))

    def _rule_problem(self, rule, task_vars):
        """The rule's line when it fails (or cannot be evaluated), else None."""
        name = rule["var"]
        try:
            if not self._applies(rule):
                return None
            failing = [that for that in _as_list(rule["that"]) if not self._templar.evaluate_conditional(that)]
            reason = None
        except Exception as error:  # pylint: disable=broad-except
            failing, reason = True, _error_text(error)
        if not failing:
            return None
        try:
            if "value" in rule:
                value = self._templar.evaluate_expression(rule["value"])
            else:
                value = self._variable(task_vars, name)[1]
            given = "%s = %s (%s)" % (name, shown(value), kind(value))
        except Exception:  # pylint: disable=broad-except
            given = name
        try:
            accepted = self._templar.template(rule["expect"])
        except Exception:  # pylint: disable=broad-except
            accepted = rule["expect"]
        line = "%s: expected %s" % (given, " ".join(to_text(accepted).split()))
        return line + (" (the check could not run: %s)" % reason if reason else "")

    def _check_rules(self, rules):
        if not isinstance(rules, list):
            raise AnsibleActionFail("rules must be a list of {that, var, expect} mappings")
        for index, rule in enumerate(rules):
            if not isinstance(rule, dict) or not {"that", "var", "expect"} <= set(rule) or set(rule) - RULE_KEYS:
                raise AnsibleActionFail("rules[%d] must have that, var and expect (and optionally value, when); got %s"
                                        % (index, sorted(rule) if isinstance(rule, dict) else rule))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        unknown = set(args) - {"argument_spec", "rules", "prefix"}
        if unknown:
            raise AnsibleActionFail("unsupported parameters: %s" % ", ".join(sorted(unknown)))
        rules = args.get("rules", [])
        self._check_rules(rules)
        role = self._task._role
        prefix = args.get("prefix") or (role.get_name(include_role_fqcn=False) if role else "input")

        problems = self._spec_problems(args["argument_spec"], task_vars) if args.get("argument_spec") else []
        # Rules assume the kinds the spec promises; with a kind wrong they would only repeat it.
        if not problems:
            problems = [line for line in (self._rule_problem(rule, task_vars) for rule in rules) if line]

        result.update(changed=False, problems=["%s: %s" % (prefix, line) for line in problems])
        if problems:
            result.update(failed=True, msg="\n".join(result["problems"]))
        else:
            result["msg"] = "%s: input accepted" % prefix
        return result
