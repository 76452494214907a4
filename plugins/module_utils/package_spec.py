# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Package requirement specs (pip and conda) matched against what an environment has.

``conda_env`` and ``python_venv`` both decide "is there anything to install?" here,
without importing pip, conda or ``packaging`` (none is guaranteed on the managed
node's Python). Supported:

* pip (PEP 508 subset): ``name``, ``name[extra]==1.2.3``, ``name>=1.0,<2``,
  ``name~=1.4``, ``name==1.2.*``, ``name!=1.3``, ``name===1.0``; environment
  markers and direct references (``name @ url``) are rejected with a clear error.
* conda MatchSpec subset: ``name``, ``channel::name``, ``name=1.2`` (1.2, 1.2.x, ...),
  ``name==1.2.3`` (exact), ``name>=1.0,<2``, ``name 1.2.*``, ``name=1.2.3=py311_0``
  (version and build glob), ``name[version='>=1.2']``.

Versions compare as PEP 440 (release padded with zeros, dev < pre < final < post,
local ignored unless both sides have one); strings that are not PEP 440 (conda's
``1.1.1w``) compare token by token.
"""

from __future__ import annotations

import collections
import fnmatch
import re

Requirement = collections.namedtuple(
    "Requirement", ["name", "key", "extras", "specifiers", "build", "channel", "raw", "kind"])
"""key is the canonical name; specifiers a tuple of (operator, version) that must all hold."""

Mismatch = collections.namedtuple("Mismatch", ["requirement", "installed", "reason"])


class SpecError(ValueError):
    """A requirement string this module cannot evaluate."""


_NAME_RE = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_OPERATORS = ("===", "~=", "==", "!=", ">=", "<=", ">", "<", "=")
_PIP_RE = re.compile(r"^\s*(?P<name>%s)\s*(?:\[(?P<extras>[^\]]*)\])?\s*(?P<spec>.*?)\s*$" % _NAME_RE)
_SPEC_ITEM_RE = re.compile(r"^\s*(===|~=|==|!=|>=|<=|>|<|=)?\s*([^\s,;=<>!~]+)\s*$")


def canonical_name(name):
    """PEP 503 normalisation: 'Tensorflow_CPU' -> 'tensorflow-cpu'."""
    return re.sub(r"[-_.]+", "-", str(name)).lower()


def _split_specifiers(text, raw, allow_bare):
    text = text.strip()
    if not text:
        return ()
    items = []
    for part in text.split(","):
        if not part.strip():
            raise SpecError("%r: empty version constraint" % raw)
        match = _SPEC_ITEM_RE.match(part)
        if not match:
            raise SpecError("%r: cannot read the version constraint %r" % (raw, part.strip()))
        operator, version = match.group(1), match.group(2)
        if operator is None:
            if not allow_bare:
                raise SpecError("%r: a version constraint needs an operator (==, >=, ...)" % raw)
            operator = "="
        items.append((operator, version))
    return tuple(items)


def parse_pip(text):
    """'tensorflow-cpu==2.18.1' -> Requirement (kind 'pip')."""
    raw = str(text).strip()
    if not raw:
        raise SpecError("an empty pip requirement")
    if ";" in raw or " @ " in raw or "://" in raw or raw.startswith(("-", ".", "/")):
        raise SpecError("%r: only 'name[extras]<op>version' requirements are supported "
                        "(no markers, URLs, paths or pip options)" % raw)
    match = _PIP_RE.match(raw)
    if not match:
        raise SpecError("%r is not a pip requirement (expected e.g. 'numpy==1.26.4')" % raw)
    specs = _split_specifiers(match.group("spec"), raw, allow_bare=False)
    if any(op == "=" for op, _version in specs):
        raise SpecError("%r: pip uses '==' for an exact version, not '='" % raw)
    extras = tuple(sorted(canonical_name(e) for e in (match.group("extras") or "").split(",") if e.strip()))
    name = match.group("name")
    return Requirement(name, canonical_name(name), extras, specs, None, None, raw, "pip")


def parse_conda(text):
    """'conda-forge::numpy=1.26' -> Requirement (kind 'conda')."""
    raw = str(text).strip()
    if not raw:
        raise SpecError("an empty conda package spec")
    rest = raw
    channel = None
    if "::" in rest:
        channel, rest = rest.split("::", 1)
        channel = channel.strip() or None
    bracket = re.search(r"\[(.*)\]\s*$", rest)
    bracket_version = None
    if bracket:
        for key, value in re.findall(r"(\w+)\s*=\s*['\"]?([^'\",]+)['\"]?", bracket.group(1)):
            if key == "version":
                bracket_version = value
            elif key == "build":
                pass
            else:
                raise SpecError("%r: only version= is supported inside [...]" % raw)
        rest = rest[:bracket.start()]
    match = re.match(r"^\s*(?P<name>%s)(?P<tail>.*)$" % _NAME_RE, rest)
    if not match:
        raise SpecError("%r is not a conda package spec (expected e.g. 'numpy=1.26')" % raw)
    name, tail = match.group("name"), match.group("tail").strip()
    build = None
    version_text = ""
    if tail:
        if tail[0] in "=<>!~":
            # name=1.2=build, name==1.2, name>=1,<2
            if tail.startswith("=") and not tail.startswith("=="):
                pieces = tail[1:].split("=")
                if len(pieces) > 2:
                    raise SpecError("%r: too many '=' fields" % raw)
                version_text = "=" + pieces[0]
                if len(pieces) == 2:
                    build = pieces[1] or None
            else:
                version_text = tail
        else:
            # 'name 1.2.* build'
            pieces = tail.split()
            if len(pieces) > 2:
                raise SpecError("%r: expected 'name version [build]'" % raw)
            version_text = pieces[0]
            if len(pieces) == 2:
                build = pieces[1]
    if "|" in version_text or (bracket_version and "|" in bracket_version):
        raise SpecError("%r: '|' alternatives are not supported" % raw)
    specs = _split_specifiers(version_text, raw, allow_bare=True)
    if bracket_version:
        specs = specs + _split_specifiers(bracket_version, raw, allow_bare=True)
    return Requirement(name, canonical_name(name), (), specs, build, channel, raw, "conda")


def parse(text, kind):
    """Parse a 'pip' or 'conda' requirement."""
    if kind == "pip":
        return parse_pip(text)
    if kind == "conda":
        return parse_conda(text)
    raise SpecError("unknown requirement kind %r" % kind)


# --------------------------------------------------------------------------- versions

_PEP440_RE = re.compile(
    r"^\s*v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre_l>a|alpha|b|beta|c|rc|pre|preview)[-_.]?(?P<pre_n>\d*))?"
    r"(?:-(?P<post_n1>\d+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>\d*))?"
    r"(?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d*))?"
    r"(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$",
    re.IGNORECASE,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}


def _strip_zeros(release):
    release = list(release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    return tuple(release)


def version_key(text):
    """A sort key: PEP 440 order where the string is PEP 440, else token order.

    The first element tells the two kinds apart so they never compare directly.
    """
    text = str(text).strip()
    match = _PEP440_RE.match(text)
    if match:
        release = _strip_zeros(int(p) for p in match.group("release").split("."))
        epoch = int(match.group("epoch") or 0)
        if match.group("pre_l"):
            pre = (0, _PRE_RANK[match.group("pre_l").lower()], int(match.group("pre_n") or 0))
        elif match.group("dev_l") and not (match.group("post_l") or match.group("post_n1")):
            pre = (-1, 0, 0)  # 1.0.dev1 sorts before 1.0a1
        else:
            pre = (1, 0, 0)
        post_n = match.group("post_n1") or match.group("post_n2")
        post = (1, int(post_n or 0)) if (match.group("post_l") or match.group("post_n1")) else (0, 0)
        dev = (0, int(match.group("dev_n") or 0)) if match.group("dev_l") else (1, 0)
        return (1, epoch, release, pre, post, dev)
    # conda-style fallback: '1.1.1w' -> numbers and words, numbers sorting after words.
    tokens = []
    for token in re.findall(r"\d+|[A-Za-z]+", text):
        tokens.append((1, int(token), "") if token.isdigit() else (0, 0, token.lower()))
    return (0, tuple(tokens))


def release_of(text):
    """The numeric release part as a tuple, e.g. '2.18.1rc0' -> (2, 18, 1); () when none."""
    match = re.match(r"^\s*v?(?:\d+!)?(\d+(?:\.\d+)*)", str(text))
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()


def _without_local(text):
    return str(text).split("+", 1)[0]


def _prefix_match(installed, prefix):
    """'1.26.4' starts with release '1.26' (component-wise, zero padded)."""
    wanted = release_of(prefix)
    have = release_of(installed)
    if not wanted:
        return False
    have = tuple(have) + (0,) * max(0, len(wanted) - len(have))
    return have[: len(wanted)] == wanted


def _glob(version):
    return any(ch in version for ch in "*?[")


def specifier_holds(installed, operator, version, kind="pip"):
    """True when the installed version satisfies one (operator, version) constraint."""
    if operator == "===":
        return str(installed) == version
    if version.endswith(".*") and operator in ("==", "!=", "="):
        result = _prefix_match(installed, version[:-2])
        return not result if operator == "!=" else result
    if operator == "=" and _glob(version):
        return fnmatch.fnmatchcase(str(installed), version)
    if operator == "=":
        # conda's 'name=1.2' is the prefix '1.2.*'; a bare pip-style exact string still matches.
        if kind == "conda":
            return _prefix_match(installed, version)
        operator = "=="
    if operator == "~=":
        release = release_of(version)
        if len(release) < 2:
            raise SpecError("'~=%s' needs at least two release components" % version)
        upper = ".".join(str(p) for p in release[:-1])
        return specifier_holds(installed, ">=", version, kind) and _prefix_match(installed, upper)
    if "+" in version and operator in ("==", "!="):
        # A local label asked for (2.18.1+cu121) must be the installed one.
        same = str(installed).split("+", 1)[-1].lower() == version.split("+", 1)[1].lower() and \
            version_key(_without_local(installed)) == version_key(_without_local(version))
        return not same if operator == "!=" else same
    have = version_key(_without_local(installed))
    want = version_key(_without_local(version))
    if have[0] != want[0]:
        # Mixed kinds (one side not PEP 440): compare the token forms of both.
        have, want = version_key("x" + str(installed)), version_key("x" + version)
    if operator == "==":
        return have == want
    if operator == "!=":
        return have != want
    if operator == ">=":
        return have >= want
    if operator == "<=":
        return have <= want
    if operator == ">":
        return have > want
    if operator == "<":
        return have < want
    raise SpecError("unknown operator %r" % operator)


def satisfied_by(requirement, installed):
    """None when ``installed`` ({'version', 'build'} or None) satisfies the requirement, else the reason."""
    if installed is None:
        return "not installed"
    version = installed.get("version")
    for operator, wanted in requirement.specifiers:
        if version is None or not specifier_holds(version, operator, wanted, requirement.kind):
            return "installed %s does not satisfy %s%s" % (version, operator if operator != "=" else "=", wanted)
    if requirement.build and not fnmatch.fnmatchcase(installed.get("build") or "", requirement.build):
        return "installed build %s does not match %s" % (installed.get("build"), requirement.build)
    return None


def index_installed(records, name_key="name", version_key_name="version", build_key="build_string"):
    """[{'name': 'NumPy', 'version': '1.26.4', ...}] -> {'numpy': {'name', 'version', 'build'}}."""
    index = {}
    for record in records or []:
        if not isinstance(record, dict) or not record.get(name_key):
            continue
        index[canonical_name(record[name_key])] = {
            "name": record[name_key],
            "version": record.get(version_key_name),
            "build": record.get(build_key),
        }
    return index


def unsatisfied(requirements, installed_index):
    """The requirements the installed packages do not satisfy, as Mismatch tuples (input order)."""
    missing = []
    for requirement in requirements:
        installed = installed_index.get(requirement.key)
        reason = satisfied_by(requirement, installed)
        if reason:
            missing.append(Mismatch(requirement, installed, reason))
    return missing


def check_unique(requirements, what):
    """Fail loudly on the same package asked for twice (the second would silently win)."""
    seen = {}
    for requirement in requirements:
        if requirement.key in seen:
            raise SpecError("%s lists %s twice (%r and %r)" % (what, requirement.key, seen[requirement.key], requirement.raw))
        seen[requirement.key] = requirement.raw
