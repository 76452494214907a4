# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Version strings of the stack (drivers, CUDA, cuDNN, frameworks) as comparable tuples."""

from __future__ import annotations

import re

_VERSION_RE = re.compile(r"^\s*v?(\d+(?:\.\d+)*)")


class VersionError(ValueError):
    """A version string that is not dotted numbers."""


def parse_version(text, field="version"):
    """'535.183.01' -> (535, 183, 1); '11.8' -> (11, 8). Raises VersionError on garbage.

    Trailing text after the numeric part (e.g. '2.15.0rc1', '8.9.7.29-1') is ignored;
    anything that does not start with a number is rejected with the field's name.
    """
    if text is None:
        raise VersionError("%s is missing" % field)
    match = _VERSION_RE.match(str(text))
    if not match:
        raise VersionError("%s %r is not a version (expected dotted numbers such as 11.8)" % (field, text))
    return tuple(int(part) for part in match.group(1).split("."))


def version_text(parts):
    """(11, 8) -> '11.8'."""
    return ".".join(str(p) for p in parts)


def same_prefix(version, prefix):
    """True when ``version`` starts with every component of ``prefix`` ((11, 8, 89) vs (11, 8))."""
    return tuple(version[: len(prefix)]) == tuple(prefix)
