# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Installed package versions and holds/version locks, with one command per host.

Debian/Ubuntu: one ``dpkg-query`` call gives version, install state and whether the
package is held (``db:Status-Want`` = hold, which is what ``apt-mark hold`` and
``dpkg_selections`` set). RHEL: one ``rpm -q`` call, and the versionlock plugin's list
file read directly (yum: /etc/yum/pluginconf.d/versionlock.list, dnf: /etc/dnf/plugins/); a package
counts as held only when an entry of exactly its name locks its installed version.
"""

from __future__ import annotations

import fnmatch
import os

from ansible_collections.dlstack.cdh.plugins.module_utils.command import find_binary, run

VERSIONLOCK_LISTS = (
    "/etc/dnf/plugins/versionlock.list",
    "/etc/yum/pluginconf.d/versionlock.list",
)

DPKG_FORMAT = "${Package}\\t${Version}\\t${db:Status-Abbrev}\\t${db:Status-Want}\\n"
RPM_FORMAT = "%{NAME}\\t%{VERSION}-%{RELEASE}\\n"


def package_manager(module):
    """'dpkg' or 'rpm' (whichever this host has), or None."""
    for tool in ("dpkg-query", "rpm"):
        if find_binary(module, tool):
            return "dpkg" if tool == "dpkg-query" else "rpm"
    return None


def parse_dpkg_query(text):
    """dpkg-query output in DPKG_FORMAT -> {name: {version, installed, held}}."""
    packages = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 4:
            continue
        name, version, abbrev, want = fields
        # 'ii ' is installed; 'hi ' is installed and held; 'un ' / 'rc ' are not installed.
        installed = len(abbrev) > 1 and abbrev[1] == "i"
        packages[name.split(":")[0]] = {
            "version": version if installed else None,
            "installed": installed,
            "held": want == "hold" or abbrev[:1] == "h",
        }
    return packages


def parse_rpm_query(text):
    """`rpm -q --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\n'` output -> {name: {version, installed}}."""
    packages = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) == 2:
            packages[fields[0]] = {"version": fields[1], "installed": True, "held": False}
    return packages


# What may follow VERSION-RELEASE in a lock entry: an architecture or dnf's '*'.
LOCK_ARCH_SUFFIXES = (".*", ".x86_64", ".aarch64", ".ppc64le", ".noarch", ".i686", ".src")


def parse_versionlock(text):
    """A yum/dnf versionlock list -> {name: [VERSION-RELEASE patterns]}.

    yum writes 'EPOCH:NAME-VERSION-RELEASE.ARCH', dnf 'NAME-EPOCH:VERSION-RELEASE.*'; names may
    hold dashes and digits (cuda-toolkit-12-4), versions and releases hold none, so the entry is
    split at its last two dashes. Lines starting with '!' are excludes, not locks.
    """
    locks = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        head = line.split(":", 1)
        if head[0].isdigit() and len(head) == 2:
            line = head[1]
        parts = line.rsplit("-", 2)
        if len(parts) != 3:
            continue
        name, version, release = parts
        version = version.split(":", 1)[-1]
        for suffix in LOCK_ARCH_SUFFIXES:
            if release.endswith(suffix):
                release = release[:-len(suffix)]
                break
        locks.setdefault(name, []).append("%s-%s" % (version, release))
    return locks


def versionlocked(text, installed):
    """Which packages the list locks at their installed version.

    ``installed`` maps a name to its installed VERSION-RELEASE (rpm's), None when not installed.
    The name must match exactly: 'cuda-toolkit-12-4-0:12.4.1-1.*' does not lock cuda-toolkit-12.
    """
    locks = parse_versionlock(text)
    return {
        name for name, version in installed.items()
        if version and any(fnmatch.fnmatchcase(version, pattern) for pattern in locks.get(name, []))
    }


def is_pattern(name):
    """A shell-style pattern (cuda-*-12-4) rather than a package name."""
    return any(char in name for char in "*?[")


def query_packages(module, names):
    """{name: {version, installed, held}} for ``names``; absent packages are reported as not installed.

    A name may be a shell-style pattern (cuda-*-12-4): every package it matches is in the result
    under its own name, the pattern itself is not. dpkg-query takes patterns as they are; rpm
    needs ``-qa`` for them, a second command only when there are patterns.
    """
    patterns = [name for name in names if is_pattern(name)]
    exact = [name for name in names if not is_pattern(name)]
    result = {name: {"version": None, "installed": False, "held": False} for name in exact}
    if not names:
        return result, None

    def wanted(name):
        return name in result or any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)

    manager = package_manager(module)
    if manager == "dpkg":
        # rc is 1 when some names are unknown; the known ones are still printed.
        out = run(module, ["dpkg-query", "-W", "-f=" + DPKG_FORMAT] + list(names)).stdout
        result.update({k: v for k, v in parse_dpkg_query(out).items() if wanted(k)})
    elif manager == "rpm":
        found = {}
        if exact:
            found.update(parse_rpm_query(run(module, ["rpm", "-q", "--qf", RPM_FORMAT] + exact).stdout))
        if patterns:
            found.update(parse_rpm_query(run(module, ["rpm", "-qa", "--qf", RPM_FORMAT] + patterns).stdout))
        result.update({k: v for k, v in found.items() if wanted(k)})
        locked = set()
        installed = {name: info["version"] for name, info in result.items() if info["installed"]}
        for path in VERSIONLOCK_LISTS:
            if os.path.isfile(path):
                with open(path) as handle:
                    locked |= versionlocked(handle.read(), installed)
        for name, info in result.items():
            info["held"] = info["installed"] and name in locked
    return result, manager
