# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Installed package versions and holds/version locks, with one command per host.

Debian/Ubuntu: one ``dpkg-query`` call gives version, install state and whether the
package is held (``db:Status-Want`` = hold, which is what ``apt-mark hold`` and
``dpkg_selections`` set). RHEL: one ``rpm -q`` call, and the versionlock plugin's list
file read directly (yum: /etc/yum/pluginconf.d/versionlock.list, dnf: /etc/dnf/plugins/).
"""

from __future__ import annotations

import os

from ansible_collections.dlstack.cdh.plugins.module_utils.command import find_binary, run

VERSIONLOCK_LISTS = (
    "/etc/dnf/plugins/versionlock.list",
    "/etc/yum/pluginconf.d/versionlock.list",
)

DPKG_FORMAT = "${Package}\\t${Version}\\t${db:Status-Abbrev}\\t${db:Status-Want}\\n"


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


def versionlocked(text, names):
    """Which of ``names`` the yum/dnf versionlock list locks.

    yum writes 'EPOCH:NAME-VERSION-RELEASE.ARCH', dnf 'NAME-EPOCH:VERSION-RELEASE.*';
    either way the name is followed by '-' and then a digit (epoch or version).
    Lines starting with '!' are excludes, not locks.
    """
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")):
            entries.append(line.split(":", 1)[1] if line.split(":", 1)[0].isdigit() else line)
    return {
        name for name in names
        if any(e.startswith(name + "-") and e[len(name) + 1:][:1].isdigit() for e in entries)
    }


def query_packages(module, names):
    """{name: {version, installed, held}} for ``names``; absent packages are reported as not installed."""
    result = {name: {"version": None, "installed": False, "held": False} for name in names}
    if not names:
        return result, None
    manager = package_manager(module)
    if manager == "dpkg":
        # rc is 1 when some names are unknown; the known ones are still printed.
        out = run(module, ["dpkg-query", "-W", "-f=" + DPKG_FORMAT] + list(names)).stdout
        result.update({k: v for k, v in parse_dpkg_query(out).items() if k in result})
    elif manager == "rpm":
        out = run(module, ["rpm", "-q", "--qf", "%{NAME}\\t%{VERSION}-%{RELEASE}\\n"] + list(names)).stdout
        result.update({k: v for k, v in parse_rpm_query(out).items() if k in result})
        locked = set()
        for path in VERSIONLOCK_LISTS:
            if os.path.isfile(path):
                with open(path) as handle:
                    locked |= versionlocked(handle.read(), names)
        for name, info in result.items():
            info["held"] = info["installed"] and name in locked
    return result, manager
