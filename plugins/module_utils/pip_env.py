# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pip inside one environment (a venv or a conda env): what it has, and installing what is missing.

Shared by ``python_venv`` and ``conda_env`` so both read ``pip list`` and build
``pip install`` the same way.
"""

from __future__ import annotations

import csv
import glob
import json
import os

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


def _metadata_field(path, field):
    """First ``field:`` header of a METADATA file, or None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    break  # the headers end at the first blank line
                key, sep, value = line.partition(":")
                if sep and key.strip().lower() == field.lower():
                    return value.strip()
    except (IOError, OSError):
        return None
    return None


def _record_problem(site_dir, record):
    """Why the files of one distribution do not match its RECORD, or None when they do."""
    try:
        with open(record, encoding="utf-8", errors="replace", newline="") as handle:
            rows = list(csv.reader(handle))
    except (IOError, OSError, csv.Error) as exc:
        return "RECORD unreadable: %s" % exc
    for row in rows:
        if len(row) < 3 or not row[0] or not row[2]:
            continue  # RECORD lists itself (and some generated files) without a size
        relative, size = row[0], row[2]
        if relative.endswith(".pyc"):
            continue  # Python rewrites byte code of its own accord
        target = os.path.normpath(os.path.join(site_dir, relative))
        try:
            actual = os.path.getsize(target)
        except OSError:
            return "%s is missing" % relative
        if str(actual) != size:
            return "%s is %d bytes, RECORD says %s" % (relative, actual, size)
    return None


def damaged_distributions(prefix):
    """Distributions in ``prefix``'s site-packages whose install did not finish or was damaged.

    pip writes a distribution's files, then INSTALLER and RECORD last; a pip killed half-way
    leaves a dist-info that ``pip list`` reports as installed, files that may be truncated, and
    no RECORD, which also stops pip from uninstalling it. Checks every dist-info for METADATA and
    RECORD and every file RECORD lists for its size (cheap: stat only, no hashing).
    Returns [{'name', 'version', 'dist_info', 'problem'}], sorted by name.
    """
    damaged = []
    for site_dir in sorted(glob.glob(os.path.join(prefix, "lib", "python*", "site-packages"))):
        for dist_info in sorted(glob.glob(os.path.join(site_dir, "*.dist-info"))):
            stem = os.path.basename(dist_info)[:-len(".dist-info")]
            name_from_dir, _sep, version_from_dir = stem.partition("-")
            metadata = os.path.join(dist_info, "METADATA")
            name = _metadata_field(metadata, "Name") or name_from_dir
            version = _metadata_field(metadata, "Version") or version_from_dir
            if not os.path.isfile(metadata):
                problem = "no METADATA (install interrupted)"
            elif not os.path.isfile(os.path.join(dist_info, "RECORD")):
                problem = "no RECORD (install interrupted)"
            else:
                problem = _record_problem(site_dir, os.path.join(dist_info, "RECORD"))
            if problem:
                damaged.append({"name": name, "version": version, "dist_info": dist_info, "problem": problem})
    return sorted(damaged, key=lambda d: package_spec.canonical_name(d["name"]))
