#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: python_venv
short_description: A Python virtual environment with pinned pip packages
version_added: 0.1.0
description:
  - Creates a virtual environment with C(python -m venv) and installs the pip packages
    it does not already satisfy.
  - Compares the installed distributions with the requested specs first, so an environment
    that already satisfies every spec is left alone (no C(pip) run, no change). They are read
    from their metadata by the environment's own interpreter (C(importlib.metadata)), giving what
    C(pip list --format=json) gives in a tenth of the time; C(pip list) itself is used when the
    interpreter is older than Python 3.8.
  - Checks the files of every installed distribution against its RECORD (existence and size)
    and reinstalls, at the same version and without touching dependencies, any that an
    interrupted C(pip) left behind half-written; their metadata alone would report them as installed.
  - Same contract as M(dlstack.cdh.conda_env), which does not repair (packages conda installs
    may legitimately have no RECORD). The role C(dlstack.cdh.anaconda_env) uses this module
    for C(anaconda_env_manager=venv).
options:
  path:
    description: Directory of the virtual environment.
    type: path
    required: true
  state:
    description:
      - V(present) creates the environment and installs missing packages.
      - V(absent) removes the environment directory (only if it holds a C(pyvenv.cfg)).
    type: str
    choices: [present, absent]
    default: present
  python:
    description:
      - Interpreter the environment is made from, as a path, a command name on E(PATH),
        or a version such as V(3.11) (meaning C(python3.11)).
      - An existing environment made from another major.minor version is recreated.
    type: str
    default: python3
  packages:
    description:
      - pip requirement specs, e.g. V(tensorflow-cpu==2.18.1), V(numpy>=1.26,<2.1), V(pyspark~=3.5).
      - Only name, extras and version constraints; markers, URLs and paths are refused.
      - With extras (V(tensorflow[and-cuda]==2.18.1)) only the base package's version decides
        whether pip runs; the extras' dependencies are installed with it the first time.
    type: list
    elements: str
    default: []
  index_url:
    description: pip C(--index-url) (a PyPI mirror).
    type: str
  extra_index_urls:
    description: pip C(--extra-index-url) values.
    type: list
    elements: str
    default: []
  extra_args:
    description: Further C(pip install) arguments, e.g. V(--no-cache-dir).
    type: list
    elements: str
    default: []
  system_site_packages:
    description: Give the environment access to the system site-packages (C(--system-site-packages)).
    type: bool
    default: false
notes:
  - On Debian and Ubuntu C(python -m venv) needs the C(python3-venv) package (C(ensurepip)).
  - Packages not named in O(packages) are never removed.
extends_documentation_fragment:
  - dlstack.cdh.attributes
attributes:
  check_mode:
    support: full
    details: Reports what would be created and installed; only reads an existing environment.
  diff_mode:
    support: full
    details:
      - One line per requested package, installed version before, requested spec after,
        and one line per damaged distribution that is (or would be) reinstalled.
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
seealso:
  - module: dlstack.cdh.conda_env
  - module: ansible.builtin.pip
"""

EXAMPLES = r"""
- name: TensorFlow environment for Spark executors
  dlstack.cdh.python_venv:
    path: /usr/anaconda/envs/tensorflow
    python: "3.11"
    packages:
      - tensorflow-cpu==2.18.1
      - protobuf==5.29.5
      - tensorflowonspark==2.2.5
      - pyspark==3.5.7

- name: Same environment from an internal mirror
  dlstack.cdh.python_venv:
    path: /usr/anaconda/envs/tensorflow
    packages:
      - tensorflow-cpu==2.18.1
    index_url: https://pypi.example.com/simple

- name: Remove it
  dlstack.cdh.python_venv:
    path: /usr/anaconda/envs/tensorflow
    state: absent
"""

RETURN = r"""
path:
  description: The environment directory.
  returned: always
  type: str
  sample: /usr/anaconda/envs/tensorflow
python:
  description: The environment's interpreter.
  returned: always
  type: str
  sample: /usr/anaconda/envs/tensorflow/bin/python
python_version:
  description: major.minor of the environment's interpreter (of the base interpreter in check mode before creation).
  returned: when state=present
  type: str
  sample: "3.11"
created:
  description: Whether the environment was (or in check mode would be) created or recreated.
  returned: always
  type: bool
  sample: false
installed:
  description: Requirement specs pip installed (or would install in check mode).
  returned: always
  type: list
  elements: str
  sample: [tensorflow-cpu==2.18.1]
unsatisfied:
  description: Why each installed spec was needed (before installation).
  returned: always
  type: list
  elements: dict
  sample: [{name: tensorflow-cpu, spec: tensorflow-cpu==2.18.1, installed: null, reason: not installed}]
repaired:
  description:
    - Distributions found damaged and reinstalled at their version (or that would be, in check mode),
      with the reason. Damaged means a C(.dist-info) without METADATA or RECORD (pip was killed
      half-way) or a file whose size differs from its RECORD entry.
  returned: when state=present
  type: list
  elements: dict
  sample: [{name: numpy, version: 1.26.4, problem: no RECORD (install interrupted)}]
packages:
  description: Installed versions of the requested packages after the run (name -> version; none in check mode).
  returned: when state=present
  type: dict
  sample: {tensorflow-cpu: 2.18.1}
"""

import os
import re
import shutil

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlstack.cdh.plugins.module_utils import package_spec, pip_env
from ansible_collections.dlstack.cdh.plugins.module_utils.command import python_runner, resolve_binary
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import CommandFailed, ModuleError, failure_boundary

_VERSION_ONLY = re.compile(r"^\d+(\.\d+)*$")


def read_pyvenv_cfg(path):
    """pyvenv.cfg as a dict, or None when ``path`` is not a venv."""
    cfg = os.path.join(path, "pyvenv.cfg")
    if not os.path.isfile(cfg):
        return None
    values = {}
    with open(cfg) as handle:
        for line in handle:
            if "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    return values


def major_minor(text):
    parts = package_spec.release_of(text or "")
    return ".".join(str(p) for p in parts[:2]) if len(parts) >= 2 else None


def base_interpreter(module, python):
    """Absolute path of the interpreter to build from; CommandNotFound when absent."""
    if _VERSION_ONLY.match(python):
        python = "python%s" % python
    return resolve_binary(module, python, what="python interpreter", hint="install it, or give a path")


def interpreter_version(module, python):
    ctx = python_runner(module, python)("version", check_rc=True, what="%s --version" % python)
    return ctx.run().stdout.strip()


def create(module, base, path, system_site_packages):
    result = python_runner(module, base)("venv system_site_packages path").run(
        system_site_packages=system_site_packages, path=path)
    if result.rc != 0:
        detail = (result.stderr or result.stdout or "").strip()
        hint = ""
        if "ensurepip" in detail or "python3-venv" in detail:
            hint = " (on Debian/Ubuntu install the python3-venv package)"
        raise CommandFailed("creating the virtual environment failed%s: %s" % (hint, detail),
                            rc=result.rc, cmd=result.argv)


def repair(pip, damaged, params):
    """Reinstall damaged distributions at the version they claim, dependencies untouched.

    Their dist-info is moved aside first: without a RECORD pip refuses to uninstall (and so to
    reinstall) a distribution, and with it gone pip writes every file afresh. It is deleted only
    once pip has succeeded; until then the next run still finds it (pip_env.REPAIR_SUFFIX).
    """
    asides = []
    for dist in damaged:
        aside = dist["dist_info"]
        if not aside.endswith(pip_env.REPAIR_SUFFIX):
            aside += pip_env.REPAIR_SUFFIX
            if os.path.exists(aside):
                shutil.rmtree(aside)
            os.rename(dist["dist_info"], aside)
        asides.append(aside)
    specs = []
    for dist in damaged:
        spec = "%s==%s" % (dist["name"], dist["version"])
        if spec not in specs:
            specs.append(spec)
    pip.install(specs, params["index_url"], params["extra_index_urls"], params["extra_args"], no_deps=True,
                what="pip install (repairing %s)" % ", ".join(specs))
    for aside in asides:
        shutil.rmtree(aside)


def run_module(module, result):
    """Fills ``result`` in place, so a failure part-way still reports what was found."""
    params = module.params
    path = os.path.abspath(params["path"])
    env_python = os.path.join(path, "bin", "python")
    result.update(changed=False, path=path, python=env_python, created=False, installed=[], unsatisfied=[])

    cfg = read_pyvenv_cfg(path)
    if params["state"] == "absent":
        if os.path.exists(path):
            if cfg is None:
                raise ModuleError("%s exists but is not a virtual environment (no pyvenv.cfg); "
                                  "not removing it" % path)
            result["changed"] = True
            if module.check_mode:
                result["diff"] = dict(before="%s\n" % path, after="")
            else:
                shutil.rmtree(path)
                result["diff"] = dict(before="%s\n" % path, after="")
        return

    requirements = pip_env.parse_requirements(params["packages"], "packages")
    if os.path.exists(path) and cfg is None:
        raise ModuleError("%s exists but is not a virtual environment (no pyvenv.cfg)" % path)

    base = base_interpreter(module, params["python"])
    wanted_version = interpreter_version(module, base)
    result["python_version"] = wanted_version
    recreate = False
    if cfg is not None:
        have_version = major_minor(cfg.get("version") or cfg.get("version_info"))
        broken = not os.access(env_python, os.X_OK)
        recreate = broken or (have_version is not None and have_version != wanted_version)
    if cfg is None or recreate:
        result["created"] = True
        result["changed"] = True
        if not module.check_mode:
            if recreate:
                shutil.rmtree(path)
            create(module, base, path, params["system_site_packages"])

    # A pip killed half-way leaves packages whose metadata says installed but that do not work:
    # repair them first. In check mode the read then shows the versions the repair would restore.
    pip = pip_env.Pip(module, env_python)
    damaged = [] if result["created"] else pip_env.damaged_distributions(path)
    result["repaired"] = [dict((k, d[k]) for k in ("name", "version", "problem")) for d in damaged]
    if damaged:
        result["changed"] = True
        if not module.check_mode:
            repair(pip, damaged, params)
    if module.check_mode and result["created"]:
        installed_index = {}
    else:
        installed_index = pip.installed_packages()
    todo = package_spec.unsatisfied(requirements, installed_index)
    result["unsatisfied"] = pip_env.describe(todo)
    result["installed"] = [m.requirement.raw for m in todo]
    before, after = pip_env.diff_lines(requirements, installed_index, todo)
    if result["created"]:
        before = "(no environment at %s)\n%s" % (path, before)
    before += "".join("%s %s damaged: %s\n" % (d["name"], d["version"], d["problem"]) for d in damaged)
    after += "".join("%s %s reinstalled\n" % (d["name"], d["version"]) for d in damaged)
    result["diff"] = dict(before=before, after=after)

    if todo:
        result["changed"] = True
        if not module.check_mode:
            pip.install(result["installed"], params["index_url"], params["extra_index_urls"], params["extra_args"])
            installed_index = pip.installed_packages()
            still = package_spec.unsatisfied(requirements, installed_index)
            if still:
                # e.g. two specs pip resolved against each other: say which, instead of a false "ok".
                raise ModuleError("after pip install, still unsatisfied: %s" % "; ".join(
                    "%s (%s)" % (m.requirement.raw, m.reason) for m in still))
    if not module.check_mode:
        result["python_version"] = pip.python_version or interpreter_version(module, env_python)
        result["packages"] = dict(
            (r.name, installed_index[r.key]["version"]) for r in requirements if r.key in installed_index)
    else:
        result["packages"] = {}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            python=dict(type="str", default="python3"),
            packages=dict(type="list", elements="str", default=[]),
            index_url=dict(type="str"),
            extra_index_urls=dict(type="list", elements="str", default=[]),
            extra_args=dict(type="list", elements="str", default=[]),
            system_site_packages=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    result = {}
    with failure_boundary(module, result):
        run_module(module, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
