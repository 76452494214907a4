# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pip inside one environment (a venv or a conda env): what it has, and installing what is missing.

Shared by ``python_venv`` and ``conda_env`` so both read ``pip list`` and build
``pip install`` the same way.
"""

from __future__ import annotations

import json

from ansible_collections.dlstack.cdh.plugins.module_utils.command import run
from ansible_collections.dlstack.cdh.plugins.module_utils import package_spec

# pip must not ask questions, and its version nag would pollute stderr.
PIP_ENV = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def parse_requirements(module, packages, what):
    """Parse pip requirement strings, failing the module on the first bad one."""
    try:
        requirements = [package_spec.parse_pip(p) for p in packages or []]
        package_spec.check_unique(requirements, what)
    except package_spec.SpecError as exc:
        module.fail_json(msg="%s: %s" % (what, exc))
    return requirements


def installed_packages(module, python):
    """{canonical name: {'name', 'version', 'build'}} from ``python -m pip list --format=json``."""
    result = run(module, [python, "-m", "pip", "list", "--format=json"], check_rc=True,
                 environ_update=PIP_ENV, what="pip list")
    try:
        records = json.loads(result.stdout or "[]")
    except ValueError as exc:
        module.fail_json(msg="pip list --format=json printed something that is not JSON: %s" % exc,
                         stdout=result.stdout, cmd=result.argv)
    return package_spec.index_installed(records)


def install_argv(python, specs, index_url=None, extra_index_urls=None, extra_args=None):
    """argv for ``python -m pip install`` of ``specs`` (requirement strings)."""
    argv = [python, "-m", "pip", "install"]
    if index_url:
        argv += ["--index-url", index_url]
    for url in extra_index_urls or []:
        argv += ["--extra-index-url", url]
    argv += list(extra_args or [])
    argv += list(specs)
    return argv


def describe(mismatches):
    """Mismatch tuples -> list of dicts for the module's return value."""
    return [
        {
            "name": m.requirement.name,
            "spec": m.requirement.raw,
            "installed": (m.installed or {}).get("version"),
            "reason": m.reason,
        }
        for m in mismatches
    ]


def diff_lines(requirements, installed_index, would_install):
    """before/after texts for --diff: one 'spec: version' line per requested package."""
    targets = set(m.requirement.key for m in would_install)
    before, after = [], []
    for requirement in requirements:
        have = installed_index.get(requirement.key)
        before.append("%s %s\n" % (requirement.name, have["version"] if have else "(absent)"))
        after.append("%s %s\n" % (requirement.name, requirement.raw if requirement.key in targets
                                  else (have["version"] if have else "(absent)")))
    return "".join(before), "".join(after)
