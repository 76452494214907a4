#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: conda_env
short_description: A conda environment with the conda and pip packages it needs
version_added: 0.1.0
description:
  - Creates (or removes) a conda environment by name or prefix and installs the conda specs and
    pip requirements it does not already satisfy.
  - Compares C(conda list --json) and the pip-installed distributions of the environment (read as
    M(dlstack.cdh.python_venv) reads them) with the specs
    first; an environment that satisfies every spec is left alone (no solver run, no change).
  - Check mode asks conda itself what it would do (C(conda create/install --dry-run --json)) and
    returns that plan.
options:
  name:
    description: Environment name (looked up in C(conda info --json) C(envs), created in the first C(envs_dirs) entry).
    type: str
  prefix:
    description: Environment prefix (directory). Mutually exclusive with O(name).
    type: path
  state:
    description: V(present) creates and installs, V(absent) removes the environment.
    type: str
    choices: [present, absent]
    default: present
  python:
    description: Python version spec for the environment, e.g. V(3.11) (becomes C(python=3.11)).
    type: str
  packages:
    description:
      - conda package specs (MatchSpec subset), e.g. V(numpy=1.26), V(protobuf==4.25.3),
        V(conda-forge::opencv>=4.8), V(numpy 1.26.* py311*).
    type: list
    elements: str
    default: []
  pip_packages:
    description:
      - pip requirement specs installed with the environment's own pip after the conda packages,
        e.g. V(tensorflow-cpu==2.18.1). C(pip) is added to the conda specs when this is not empty.
    type: list
    elements: str
    default: []
  channels:
    description: Channels, in priority order (C(-c) each).
    type: list
    elements: str
    default: []
  override_channels:
    description: Ignore channels from C(.condarc) and C(defaults) (C(--override-channels)), for mirrors.
    type: bool
    default: false
  pip_index_url:
    description: pip C(--index-url) for O(pip_packages).
    type: str
  pip_extra_args:
    description: Further C(pip install) arguments.
    type: list
    elements: str
    default: []
  executable:
    description:
      - Path of the conda (or mamba) executable. Default is C(conda) on E(PATH), then
        C(/usr/anaconda/bin), C(/opt/conda/bin), C(/opt/miniforge3/bin).
    type: path
notes:
  - Packages not named are never removed; a spec an installed package already satisfies is not reinstalled.
  - Only the conda specs that are not satisfied are passed to C(conda install), so conda's solver
    keeps everything else as it is.
extends_documentation_fragment:
  - dlstack.cdh.attributes
attributes:
  check_mode:
    support: full
    details: Runs C(conda create/install --dry-run --json) and returns conda's plan in RV(plan); pip is not run.
  diff_mode:
    support: full
    details: One line per requested package, installed version before, requested spec after.
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
seealso:
  - module: dlstack.cdh.python_venv
"""

EXAMPLES = r"""
- name: TensorFlow environment in the Anaconda CDSW mounts
  dlstack.cdh.conda_env:
    prefix: /usr/anaconda/envs/tensorflow
    python: "3.11"
    packages:
      - protobuf=5.29
    pip_packages:
      - tensorflow-cpu==2.18.1
      - tensorflowonspark==2.2.5
    executable: /usr/anaconda/bin/conda

- name: From an internal mirror only
  dlstack.cdh.conda_env:
    name: pycaffe
    python: "3.11"
    packages: [numpy=1.26, scikit-image]
    channels: [https://conda.example.com/conda-forge]
    override_channels: true

- name: Remove an environment
  dlstack.cdh.conda_env:
    name: old
    state: absent
"""

RETURN = r"""
prefix:
  description: The environment's prefix.
  returned: always
  type: str
  sample: /usr/anaconda/envs/tensorflow
python:
  description: The environment's interpreter.
  returned: always
  type: str
  sample: /usr/anaconda/envs/tensorflow/bin/python
created:
  description: Whether the environment was (or would be) created.
  returned: always
  type: bool
installed:
  description: conda specs that were (or would be) passed to C(conda create/install).
  returned: always
  type: list
  elements: str
  sample: [python=3.11, protobuf=5.29]
pip_installed:
  description: pip specs that were (or would be) installed.
  returned: always
  type: list
  elements: str
  sample: [tensorflow-cpu==2.18.1]
unsatisfied:
  description: Why each conda and pip spec was needed (before installation).
  returned: always
  type: list
  elements: dict
plan:
  description:
    - conda's transaction, from the C(actions) of its JSON output. C(link) are the packages conda
      links (installs), C(unlink) the ones it removes, each as C(name), C(version), C(build), C(channel).
  returned: when conda ran
  type: dict
  sample: {link: [{name: libzlib, version: 1.3.2, build: h25fd6f3_2, channel: conda-forge}], unlink: []}
cmd:
  description: The last conda command run.
  returned: when conda ran
  type: list
  elements: str
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlstack.cdh.plugins.module_utils import package_spec, pip_env
from ansible_collections.dlstack.cdh.plugins.module_utils.command import conda_runner
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import (
    CommandFailed, InvalidInput, UnexpectedOutput, failure_boundary,
)


def load_json(result, what):
    """conda prints JSON on stdout even on failure ({"error": ..., "exception_name": ...})."""
    try:
        data = json.loads(result.stdout or "")
    except ValueError:
        raise UnexpectedOutput("%s did not print JSON (rc=%d): %s" % (
            what, result.rc, (result.stderr or result.stdout or "").strip()[-2000:]), cmd=result.argv)
    if result.rc != 0 or (isinstance(data, dict) and (data.get("error") or data.get("success") is False)):
        message = data.get("message") or data.get("error") if isinstance(data, dict) else None
        raise CommandFailed("%s failed (rc=%d): %s" % (what, result.rc, message or (result.stderr or "").strip()),
                            exception_name=data.get("exception_name") if isinstance(data, dict) else None,
                            cmd=result.argv)
    return data


class Conda:
    """conda through its runner; every command with --json (no prompts, machine-readable errors)."""

    def __init__(self, module, executable):
        self.runner = conda_runner(module, executable)

    def json(self, args_order, what, **values):
        result = self.runner(args_order + " json").run(**values)
        return load_json(result, what), result.argv

    def resolve_prefix(self, name, prefix):
        """(prefix, exists) for a name or prefix."""
        if prefix:
            prefix = os.path.abspath(prefix)
            return prefix, os.path.isdir(os.path.join(prefix, "conda-meta"))
        info, _argv = self.json("verb", "conda info", verb="info")
        if name == "base":
            return info["root_prefix"], True
        for env in info.get("envs") or []:
            if os.path.basename(env.rstrip("/")) == name and env != info.get("root_prefix"):
                return env, os.path.isdir(os.path.join(env, "conda-meta"))
        envs_dirs = info.get("envs_dirs") or [os.path.join(info["root_prefix"], "envs")]
        return os.path.join(envs_dirs[0], name), False


def transaction_plan(data):
    """The LINK/UNLINK actions of conda's JSON as short dicts."""
    actions = data.get("actions") or {}
    if isinstance(actions, list):  # conda < 4.4 printed a list of action groups
        merged = {}
        for group in actions:
            for key in ("LINK", "UNLINK"):
                merged.setdefault(key, []).extend(group.get(key) or [])
        actions = merged

    def short(record):
        if isinstance(record, str):  # very old conda: "channel::name-version-build"
            return {"name": record, "version": None, "build": None, "channel": None}
        return {"name": record.get("name"), "version": record.get("version"),
                "build": record.get("build_string") or record.get("build"), "channel": record.get("channel")}

    return {"link": [short(r) for r in actions.get("LINK") or []],
            "unlink": [short(r) for r in actions.get("UNLINK") or []]}


def requested_specs(params):
    """(conda requirements, pip requirements), or InvalidInput before anything runs."""
    conda_specs = list(params["packages"])
    if params["python"]:
        conda_specs.insert(0, "python=%s" % params["python"])
    try:
        requirements = [package_spec.parse_conda(s) for s in conda_specs]
        # pip_packages need the env's own pip, not one found on PATH.
        if params["pip_packages"] and "pip" not in [r.key for r in requirements]:
            requirements.append(package_spec.parse_conda("pip"))
        package_spec.check_unique(requirements, "packages")
    except package_spec.SpecError as exc:
        raise InvalidInput("packages: %s" % exc)
    return requirements, pip_env.parse_requirements(params["pip_packages"], "pip_packages")


def remove(module, conda, result, exists):
    if exists:
        result["changed"] = True
        result["diff"] = dict(before="%s\n" % result["prefix"], after="")
        if not module.check_mode:
            _data, result["cmd"] = conda.json("verb all yes prefix", "conda remove --all",
                                              verb="remove", prefix=result["prefix"])


def ensure(module, conda, result, exists, requirements, pip_requirements):
    params = module.params
    prefix = result["prefix"]
    if exists:
        listing, _argv = conda.json("verb prefix", "conda list", verb="list", prefix=prefix)
        installed_index = package_spec.index_installed(listing)
        todo = package_spec.unsatisfied(requirements, installed_index)
    else:
        installed_index = {}
        todo = package_spec.unsatisfied(requirements, {})
        result["created"] = True

    result["installed"] = [m.requirement.raw for m in todo]
    result["unsatisfied"] = pip_env.describe(todo)
    before, after = pip_env.diff_lines(requirements, installed_index, todo)
    if todo:
        result["changed"] = True
        verb = "install" if exists else "create"
        # Check mode asks conda for its plan (--dry-run) rather than skipping the command.
        data, result["cmd"] = conda.json(
            "verb yes prefix override_channels channels dry_run specs", "conda %s" % verb,
            verb=verb, prefix=prefix, override_channels=params["override_channels"], channels=params["channels"],
            dry_run=module.check_mode, specs=result["installed"])
        result["plan"] = transaction_plan(data)

    # pip runs after conda so it sees the env's final python; pip's view, not conda's, decides.
    if pip_requirements:
        pip = pip_env.Pip(module, result["python"])
        pip_index = {} if module.check_mode and result["created"] else pip.installed_packages()
        pip_todo = package_spec.unsatisfied(pip_requirements, pip_index)
        result["pip_installed"] = [m.requirement.raw for m in pip_todo]
        result["unsatisfied"] += pip_env.describe(pip_todo)
        pip_before, pip_after = pip_env.diff_lines(pip_requirements, pip_index, pip_todo)
        before, after = before + pip_before, after + pip_after
        if pip_todo:
            result["changed"] = True
            if not module.check_mode:
                pip.install(result["pip_installed"], index_url=params["pip_index_url"],
                            extra_args=params["pip_extra_args"])
    if result["created"]:
        before = "(no environment at %s)\n%s" % (prefix, before)
    result["diff"] = dict(before=before, after=after)


def run_module(module):
    params = module.params
    if params["override_channels"] and not params["channels"]:
        raise InvalidInput("override_channels needs at least one channel in channels")
    if params["state"] == "present":
        requirements, pip_requirements = requested_specs(params)
    conda = Conda(module, params["executable"])
    prefix, exists = conda.resolve_prefix(params["name"], params["prefix"])
    result = dict(changed=False, prefix=prefix, python=os.path.join(prefix, "bin", "python"), created=False,
                  installed=[], pip_installed=[], unsatisfied=[])
    if params["state"] == "absent":
        remove(module, conda, result, exists)
    else:
        ensure(module, conda, result, exists, requirements, pip_requirements)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str"),
            prefix=dict(type="path"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            python=dict(type="str"),
            packages=dict(type="list", elements="str", default=[]),
            pip_packages=dict(type="list", elements="str", default=[]),
            channels=dict(type="list", elements="str", default=[]),
            override_channels=dict(type="bool", default=False),
            pip_index_url=dict(type="str"),
            pip_extra_args=dict(type="list", elements="str", default=[]),
            executable=dict(type="path"),
        ),
        required_one_of=[["name", "prefix"]],
        mutually_exclusive=[["name", "prefix"]],
        supports_check_mode=True,
    )
    with failure_boundary(module):
        result = run_module(module)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
