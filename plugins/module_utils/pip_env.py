# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pip inside one environment (a venv or a conda env): what it has, and installing what is missing.

Shared by ``python_venv`` and ``conda_env`` so both read what is installed and build
``pip install`` the same way. Finding damaged installs (:func:`damaged_distributions`) is
``python_venv``'s only: in a conda env, packages conda installed may have no RECORD at all.
"""

from __future__ import annotations

import csv
import glob
import json
import os

from ansible_collections.dlstack.cdh.plugins.module_utils import package_spec
from ansible_collections.dlstack.cdh.plugins.module_utils.command import env_python_runner, failure, pip_runner
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import InvalidInput, UnexpectedOutput


def parse_requirements(packages, what):
    """Parse pip requirement strings; InvalidInput names the option and the first bad one."""
    try:
        requirements = [package_spec.parse_pip(p) for p in packages or []]
        package_spec.check_unique(requirements, what)
    except package_spec.SpecError as exc:
        raise InvalidInput("%s: %s" % (what, exc))
    return requirements


# Run in the environment's interpreter: what ``pip list --format=json`` reports, read from the
# distributions' metadata without starting pip (a tenth of the time). As pip does, the first
# distribution of a name on sys.path wins, and one without a Name is skipped. sys.path's '' (the
# working directory) is dropped so a stray dist-info there cannot count. Exit 3: no
# importlib.metadata (Python < 3.8), the caller falls back to pip list.
INSTALLED_SCRIPT = """
import json, re, sys
try:
    import importlib.metadata as metadata
except ImportError:
    sys.exit(3)
seen, records = set(), []
for dist in metadata.distributions(path=[p for p in sys.path if p]):
    name = dist.metadata["Name"]
    key = re.sub(r"[-_.]+", "-", name or "").lower()
    if key and key not in seen:
        seen.add(key)
        records.append({"name": name, "version": dist.version})
records.sort(key=lambda record: record["name"].lower())
print(json.dumps({"python": "%d.%d" % sys.version_info[:2], "packages": records}))
"""
NO_IMPORTLIB_METADATA = 3


class Pip:
    """pip of one environment, through its runners (module_utils.command.pip_runner, env_python_runner)."""

    def __init__(self, module, python):
        self.runner = pip_runner(module, python)
        self.python = env_python_runner(module, python)
        # "major.minor" of the environment's interpreter, known after a metadata read.
        self.python_version = None

    def installed_packages(self):
        """{canonical name: {'name', 'version', 'build'}}, as ``pip list --format=json`` reports them."""
        result = self.python("installed", what="reading the installed distributions").run(
            installed=INSTALLED_SCRIPT)
        if result.rc == NO_IMPORTLIB_METADATA:
            return self._pip_list()
        if result.rc != 0:
            raise failure("reading the installed distributions", result.rc, result.stdout, result.stderr,
                          result.argv)
        try:
            answer = json.loads(result.stdout)
            records, self.python_version = answer["packages"], answer["python"]
        except (ValueError, KeyError, TypeError) as exc:
            raise UnexpectedOutput("the installed distributions could not be read: %s" % exc,
                                   stdout=result.stdout, cmd=result.argv)
        return package_spec.index_installed(records)

    def _pip_list(self):
        result = self.runner("list_json", check_rc=True, what="pip list").run()
        try:
            records = json.loads(result.stdout or "[]")
        except ValueError as exc:
            raise UnexpectedOutput("pip list --format=json printed something that is not JSON: %s" % exc,
                                   stdout=result.stdout, cmd=result.argv)
        return package_spec.index_installed(records)

    def install(self, specs, index_url=None, extra_index_urls=None, extra_args=None, no_deps=False,
                what="pip install"):
        """``pip install`` of ``specs`` (requirement strings); CommandFailed when pip fails."""
        ctx = self.runner("install index_url extra_index_urls extra_args no_deps specs", check_rc=True, what=what)
        return ctx.run(index_url=index_url, extra_index_urls=extra_index_urls, extra_args=extra_args,
                       no_deps=no_deps, specs=specs)


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


# A damaged distribution's dist-info is renamed to this while it is being reinstalled: pip cannot
# uninstall a distribution without RECORD, and a rename (not a delete) keeps the damage visible to
# the next run should the reinstall fail or be killed too.
REPAIR_SUFFIX = ".dlstack-repair"


def _metadata_headers(path):
    """The header fields of a METADATA file ({lower-case name: first value}), {} when unreadable."""
    headers = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    break  # the headers end at the first blank line
                key, sep, value = line.partition(":")
                if sep and not key[:1].isspace():
                    headers.setdefault(key.strip().lower(), value.strip())
    except (IOError, OSError):
        pass
    return headers


def _read_record(record):
    """RECORD rows as (path, size) for the rows that have a size, or an error text."""
    try:
        with open(record, encoding="utf-8", errors="replace", newline="") as handle:
            rows = list(csv.reader(handle))
    except (IOError, OSError, csv.Error) as exc:
        return None, "RECORD unreadable: %s" % exc
    # RECORD lists itself without a size; byte code is rewritten by Python of its own accord.
    return [(row[0], row[2]) for row in rows if len(row) >= 3 and row[0] and row[2]
            and not row[0].endswith(".pyc")], None


def _size_problem(site_dir, rows, sizes_by_path):
    """Why the files of one distribution do not match RECORD, or None when they do.

    A file two distributions both ship is fine at either one's recorded size: the one installed
    last wrote it, and judging it by the other would reinstall the two in turn forever.
    """
    for relative, size in rows:
        target = os.path.normpath(os.path.join(site_dir, relative))
        try:
            actual = os.path.getsize(target)
        except OSError:
            return "%s is missing" % relative
        if str(actual) not in sizes_by_path[target]:
            return "%s is %d bytes, RECORD says %s" % (relative, actual, size)
    return None


def damaged_distributions(prefix):
    """Distributions in ``prefix``'s site-packages whose install did not finish or was damaged.

    pip writes a distribution's files, then INSTALLER and RECORD last; a pip killed half-way
    leaves a dist-info that ``pip list`` reports as installed, files that may be truncated, and
    no RECORD, which also stops pip from uninstalling it. Checks every dist-info for METADATA and
    RECORD and every file RECORD lists for its size (cheap: stat only, no hashing); a dist-info
    still renamed by an unfinished repair counts as damaged too.
    Returns [{'name', 'version', 'dist_info', 'problem'}], sorted by name.
    """
    damaged = []
    for site_dir in sorted(glob.glob(os.path.join(prefix, "lib", "python*", "site-packages"))):
        dists, sizes_by_path = [], {}
        for dist_info in sorted(glob.glob(os.path.join(site_dir, "*.dist-info"))
                                + glob.glob(os.path.join(site_dir, "*.dist-info" + REPAIR_SUFFIX))):
            stem = os.path.basename(dist_info).split(".dist-info")[0]
            name_from_dir, _sep, version_from_dir = stem.partition("-")
            metadata = os.path.join(dist_info, "METADATA")
            headers = _metadata_headers(metadata)
            dist = {"name": headers.get("name") or name_from_dir, "version": headers.get("version") or version_from_dir,
                    "dist_info": dist_info, "problem": None}
            rows = []
            if dist_info.endswith(REPAIR_SUFFIX):
                dist["problem"] = "an earlier repair did not finish"
            elif not os.path.isfile(metadata):
                dist["problem"] = "no METADATA (install interrupted)"
            elif not os.path.isfile(os.path.join(dist_info, "RECORD")):
                dist["problem"] = "no RECORD (install interrupted)"
            else:
                rows, dist["problem"] = _read_record(os.path.join(dist_info, "RECORD"))
                for relative, size in rows or []:
                    sizes_by_path.setdefault(os.path.normpath(os.path.join(site_dir, relative)), set()).add(size)
            dists.append((dist, rows or []))
        for dist, rows in dists:
            dist["problem"] = dist["problem"] or _size_problem(site_dir, rows, sizes_by_path)
            if dist["problem"]:
                damaged.append(dist)
    return sorted(damaged, key=lambda d: package_spec.canonical_name(d["name"]))
