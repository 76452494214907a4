# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Strict checks of role variables against a role's argument spec, one line per problem.

Ansible's own role argument validation converts what it can (a number becomes a
one-element list, a list a comma-joined string) and then validates the converted copy,
while the role goes on with the variable as given. These checks accept only values the
role can use as they are, and describe each problem as
``<variable> = <value given> (<its kind>): expected <what the spec accepts>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from ansible.module_utils.parsing.convert_bool import BOOLEANS

MARKUP = re.compile(r"\b[BCEIMOPRUV]\(([^)]*)\)")
VALUE_WIDTH = 240
DESCRIPTION_WIDTH = 100


def kind(value):
    """What a value is, in the words of someone writing YAML."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a %s" % type(value).__name__


def shown(value):
    """The value as the user would recognise it, cut to one short line."""
    try:
        text = json.dumps(value, default=str, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= VALUE_WIDTH else text[:VALUE_WIDTH - 3] + "..."


def _first_sentence(description):
    if isinstance(description, list):
        description = description[0] if description else ""
    text = MARKUP.sub(r"\1", " ".join(str(description or "").split()))
    sentence = re.split(r"(?<=[A-Za-z0-9)])\. ", text, maxsplit=1)[0].rstrip(".")
    return sentence if len(sentence) <= DESCRIPTION_WIDTH else sentence[:DESCRIPTION_WIDTH - 3] + "..."


TYPE_WORDS = {
    "str": "a string", "path": "an absolute path (a string)", "raw": "any value", "bool": "true or false",
    "int": "a whole number", "float": "a number", "list": "a list", "dict": "a mapping",
}
ELEMENT_WORDS = {"str": "strings", "path": "paths", "int": "whole numbers", "dict": "mappings", "bool": "booleans",
                 "list": "lists", "raw": "values", "float": "numbers"}


def expected(option):
    """What an option accepts, from its spec: choices, or type (and element type) plus its description."""
    if option.get("choices"):
        return "one of " + ", ".join(str(choice) for choice in option["choices"])
    words = TYPE_WORDS.get(option.get("type", "str"), option.get("type", "str"))
    if option.get("type") == "list" and option.get("elements"):
        words = "a list of " + ELEMENT_WORDS.get(option["elements"], option["elements"])
    description = _first_sentence(option.get("description"))
    return "%s (%s)" % (words, description) if description else words


def _type_problem(value, type_name):
    """Why value cannot be used as type_name as it is, or None when it can."""
    if type_name in ("str", "path"):
        if isinstance(value, bool):
            return ""
        if isinstance(value, float):
            # 11.10 read as a float is 11.1: a version must be quoted to survive YAML.
            return "quote it"
        if isinstance(value, (str, int)):
            return None
        return ""
    if type_name == "bool":
        return None if isinstance(value, bool) or (isinstance(value, (str, int)) and value in BOOLEANS) else ""
    if type_name == "int":
        if isinstance(value, bool):
            return ""
        if isinstance(value, int) or (isinstance(value, str) and re.match(r"^-?[0-9]+$", value.strip())):
            return None
        return ""
    if type_name == "float":
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
    if type_name == "list":
        return None if isinstance(value, (list, tuple)) else ""
    if type_name == "dict":
        return None if isinstance(value, Mapping) else ""
    return None


def _line(name, value, accepted, hint=None):
    line = "%s = %s (%s): expected %s" % (name, shown(value), kind(value), accepted)
    if hint == "quote it":
        line += "; quote it in YAML (%s) so it stays a string" % json.dumps(str(value))
    return line


def check_value(name, value, option):
    """Problems of one value against its option spec (recursing into list elements and suboptions)."""
    type_name = option.get("type", "str")
    if value is None:
        return [] if not option.get("required") else ["%s is required: expected %s" % (name, expected(option))]
    hint = _type_problem(value, type_name)
    if hint is not None:
        return [_line(name, value, expected(option), hint)]
    if option.get("choices") and type_name in ("str", "path", "int") and value not in option["choices"] \
            and str(value) not in [str(choice) for choice in option["choices"]]:
        return [_line(name, value, expected(option))]
    if type_name == "path" and isinstance(value, str) and value and not value.startswith(("/", "~")) \
            and "{" not in value:
        return [_line(name, value, expected(option))]
    problems = []
    if type_name == "list":
        element_type = option.get("elements")
        element_spec = {"type": element_type or "raw", "choices": option.get("choices"),
                        "options": option.get("options"), "description": option.get("description")}
        if element_type:
            for index, element in enumerate(value):
                problems.extend(check_value("%s[%d]" % (name, index), element, element_spec))
    elif type_name == "dict" and option.get("options"):
        problems.extend(check_options(name, value, option["options"]))
    return problems


def check_options(prefix, mapping, options):
    """Problems of a mapping of suboptions: unknown keys, missing required ones, bad values."""
    problems = []
    for key in sorted(set(mapping) - set(options)):
        problems.append("%s.%s is not a known key: expected only %s" % (prefix, key, ", ".join(sorted(options))))
    for key, option in options.items():
        problems.extend(check_value("%s.%s" % (prefix, key), mapping.get(key), option))
    return problems


def check_variables(options, values):
    """Problems of the role variables given (values: name -> value; absent names use the defaults)."""
    problems = []
    for name, option in options.items():
        if name in values:
            problems.extend(check_value(name, values[name], option))
        elif option.get("required"):
            problems.append("%s is required: expected %s" % (name, expected(option)))
    return problems
