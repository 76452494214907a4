#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tree_digest
short_description: Name the inputs of a build with one digest and compare it with the last build's stamp
version_added: "0.2.0"
description:
  - Computes a SHA-256 digest over a set of files and directories on the target (O(paths), O(files)), generated
    contents (O(contents)) and a dictionary of settings (O(settings)). The same inputs always give the same digest;
    any changed byte, added or removed file or changed setting gives another.
  - The digest is the SHA-256 of the lines C(<name> <sha256 of the content>), sorted by code point and joined with
    newlines. A symbolic link met while walking a directory contributes C(<name> -> <target>) instead of the content.
    When O(settings) is not empty, a NUL byte, C(settings ) and the settings as compact JSON with sorted keys follow
    the last line. Without settings the digest is exactly that of a build context listed as C(<path> <sha256>) lines.
  - With O(stamp), the module reads the digest recorded there by the last build and says in RV(current) whether
    the inputs are unchanged (and every O(outputs) pattern still matches). With O(write_stamp=true) it records the
    digest; run it right after the step the stamp stands for, with the same inputs.
  - This is the one "rebuild only when the inputs change" mechanism of the collection (Caffe source and build,
    the tensorflow/ecosystem Maven build, tfspark.zip, the CDSW engine image tag).
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
attributes:
  check_mode:
    support: full
    details: Reading is the same in check mode; O(write_stamp=true) reports the change without writing.
  diff_mode:
    support: full
    details: With O(write_stamp=true) the diff shows the old and new stamp.
options:
  root:
    description:
      - Directory that relative O(paths), O(outputs) and O(files) are relative to. Names in the digest are relative to it,
        so the same tree at another place gives the same digest.
      - Without it relative paths are relative to the module's working directory; give absolute paths then.
    type: path
  paths:
    description:
      - Files, directories (walked recursively, empty directories do not count) and glob patterns (C(*), C(?), C([...]))
        to include. A file is named by its path relative to O(root), or by its absolute path when it is outside O(root).
      - A path that does not exist fails the module unless O(allow_missing=true).
    type: list
    elements: path
    default: []
  excludes:
    description:
      - Glob patterns of files and directories to leave out (a directory that matches is not walked).
      - A pattern with a C(/) (for example C(./target)) is matched against the whole name relative to O(root); one without
        (C(.git), C(__pycache__), C(*.pyc)) against the last component, at any depth.
      - The O(stamp) file itself is always left out.
    type: list
    elements: str
    default: []
  files:
    description:
      - Single files to include under a name of your choice, as a dictionary of name to path; symbolic links are followed. For inputs whose
        place in the digest differs from their place on the host (a build context, for example).
      - Each must be a regular file; missing ones fail the module (all are listed) unless O(allow_missing=true).
    type: dict
    default: {}
  contents:
    description: Generated text to include, as a dictionary of name to text; the text is hashed as UTF-8.
    type: dict
    default: {}
  settings:
    description:
      - Anything else the output depends on (versions, command lines, checksums computed elsewhere), as a dictionary.
      - Values are compared as JSON, so V("2") and V(2) are different settings.
    type: dict
    default: {}
  allow_missing:
    description:
      - Whether a missing entry of O(paths) or O(files) is allowed. It then contributes the line C(<name> missing), so its
        appearance later changes the digest. Useful in check mode, where an earlier step may not have written a file yet.
    type: bool
    default: false
  outputs:
    description:
      - Paths or glob patterns (relative to O(root)) that a finished build leaves behind; RV(current) is false while one of
        them matches nothing, so a deleted output is rebuilt even with an unchanged stamp.
    type: list
    elements: path
    default: []
  stamp:
    description: File holding the digest of the last build (one line).
    type: path
  write_stamp:
    description:
      - Record the digest in O(stamp) (atomically, only when it differs). The directory must exist.
      - O(mode), O(owner) and O(group) apply to the stamp file.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.files
  - dlstack.cdh.attributes
notes:
  - Files are read in chunks; a large tree (a source checkout) takes as long as reading it once.
  - File names must be valid in the file system encoding; names are compared as text.
seealso:
  - module: ansible.builtin.stat
"""

EXAMPLES = r"""
- name: Name the Maven build by its source tree, settings and command line
  dlstack.cdh.tree_digest:
    root: /opt/src/ecosystem/hadoop
    paths: [.]
    excludes: [./target, .git]
    settings:
      argv: "{{ mvn_argv }}"
    outputs: [target/*.jar]
    stamp: /opt/src/ecosystem/hadoop/.dlstack-build-stamp
  register: maven_inputs

- name: Build only when the inputs changed
  ansible.builtin.command:
    argv: "{{ mvn_argv }}"
    chdir: /opt/src/ecosystem/hadoop
  when: not maven_inputs.current

- name: Record the inputs of this build
  dlstack.cdh.tree_digest:
    root: /opt/src/ecosystem/hadoop
    paths: [.]
    excludes: [./target, .git]
    settings:
      argv: "{{ mvn_argv }}"
    stamp: /opt/src/ecosystem/hadoop/.dlstack-build-stamp
    write_stamp: true
    mode: "0644"

- name: Tag a build context by its content (host files under other names, generated files)
  dlstack.cdh.tree_digest:
    files:
      lib/libcaffe.so.1.0.0: /usr/local/lib/libcaffe.so.1.0.0
    contents:
      Dockerfile: "{{ lookup('ansible.builtin.template', 'Dockerfile.j2') }}"
  register: context_digest
"""

RETURN = r"""
digest:
  description: SHA-256 (hex) of the inputs.
  returned: always
  type: str
  sample: 0f5e2b7c41d1fa3c6f1c9a1d8e0b7a6f5e4d3c2b1a09f8e7d6c5b4a392817060
count:
  description: Number of files and contents the digest covers.
  returned: always
  type: int
  sample: 42
missing:
  description: Entries of O(paths) and O(files) that do not exist (only with O(allow_missing=true)).
  returned: always
  type: list
  elements: str
  sample: []
previous:
  description: The digest recorded in O(stamp) before this task, empty when there is none.
  returned: when O(stamp) is set
  type: str
  sample: ""
current:
  description: Whether O(stamp) already holds RV(digest) and every O(outputs) pattern matches.
  returned: when O(stamp) is set
  type: bool
  sample: false
missing_outputs:
  description: The O(outputs) patterns that match nothing.
  returned: when O(stamp) is set
  type: list
  elements: str
  sample: [distribute/lib/libcaffe.so]
stamp:
  description: Path of the stamp file.
  returned: when O(stamp) is set
  type: str
  sample: /opt/src/ecosystem/hadoop/.dlstack-build-stamp
"""

import fnmatch
import glob
import hashlib
import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

CHUNK = 1 << 20
GLOB_CHARS = frozenset("*?[")


class TreeDigestError(Exception):
    """An input the digest cannot be computed from; the module fails with its message."""


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class Excludes(object):
    """gitignore-like matching: patterns with a / against the whole name, others against the last component."""

    def __init__(self, patterns, skip_paths):
        self.full = []
        self.base = []
        for pattern in patterns:
            pattern = pattern.rstrip("/")
            if "/" in pattern:
                self.full.append(os.path.normpath(pattern))
            else:
                self.base.append(pattern)
        self.skip = set(os.path.abspath(p) for p in skip_paths)

    def __call__(self, name, path):
        if os.path.abspath(path) in self.skip:
            return True
        base = os.path.basename(name)
        return (any(fnmatch.fnmatchcase(base, p) for p in self.base)
                or any(fnmatch.fnmatchcase(name, p) for p in self.full))


class TreeDigest(object):

    def __init__(self, root=None, excludes=(), skip_paths=(), allow_missing=False):
        self.root = os.path.abspath(root) if root else None
        self.excluded = Excludes(excludes, skip_paths)
        self.allow_missing = allow_missing
        self.lines = {}
        self.missing = []

    def resolve(self, path):
        if not os.path.isabs(path) and self.root:
            path = os.path.join(self.root, path)
        return os.path.normpath(path)

    def name_of(self, path):
        if self.root:
            rel = os.path.relpath(path, self.root)
            if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
                return rel
        return path

    def add(self, name, value):
        line = "%s %s" % (name, value)
        if self.lines.get(name, line) != line:
            raise TreeDigestError("%s is listed twice with different content" % name)
        self.lines[name] = line

    def add_missing(self, name, what):
        self.missing.append(what)
        if self.allow_missing:
            self.add(name, "missing")

    def add_path(self, given):
        if GLOB_CHARS & set(given):
            for path in sorted(glob.glob(self.resolve(given))):
                self.add_tree(path, explicit=False)
            return
        path = self.resolve(given)
        if not os.path.lexists(path):
            self.add_missing(self.name_of(path), given)
            return
        self.add_tree(path, explicit=True)

    def add_tree(self, path, explicit):
        name = self.name_of(path)
        # An explicitly named root ('.') is walked even though its name matches nothing.
        if not explicit and self.excluded(name, path):
            return
        if os.path.isdir(path) and (explicit or not os.path.islink(path)):
            self.walk(path)
        elif os.path.islink(path) and not explicit:
            self.add(name, "-> %s" % os.readlink(path))
        elif os.path.isfile(path):
            self.add(name, file_sha256(path))
        else:
            raise TreeDigestError("%s is neither a file nor a directory" % path)

    def walk(self, top):
        def fail(error):
            raise TreeDigestError("cannot read %s: %s" % (error.filename, error.strerror))

        for dirpath, dirnames, filenames in os.walk(top, onerror=fail):
            kept = []
            for dirname in sorted(dirnames):
                path = os.path.join(dirpath, dirname)
                if self.excluded(self.name_of(path), path):
                    continue
                if os.path.islink(path):
                    self.add(self.name_of(path), "-> %s" % os.readlink(path))
                else:
                    kept.append(dirname)
            dirnames[:] = kept
            for filename in filenames:
                path = os.path.join(dirpath, filename)
                name = self.name_of(path)
                if self.excluded(name, path):
                    continue
                if os.path.islink(path):
                    self.add(name, "-> %s" % os.readlink(path))
                elif os.path.isfile(path):
                    self.add(name, file_sha256(path))
                # Sockets, fifos and devices are not build inputs.

    def add_file(self, name, given):
        path = self.resolve(given)
        if not os.path.isfile(path):
            self.add_missing(name, given)
            return
        self.add(name, file_sha256(path))

    def add_content(self, name, text):
        self.add(name, hashlib.sha256(to_bytes(text, errors="surrogate_or_strict")).hexdigest())

    def hexdigest(self, settings):
        data = "\n".join(sorted(self.lines.values()))
        if settings:
            data += "\n\0settings " + json.dumps(settings, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(to_bytes(data, errors="surrogate_or_strict")).hexdigest()


def read_stamp(path):
    try:
        with open(path, "rb") as handle:
            return to_native(handle.read(), errors="surrogate_or_strict").strip()
    except FileNotFoundError:
        return ""
    except (IOError, OSError) as exc:
        raise TreeDigestError("cannot read the stamp %s: %s" % (path, to_native(exc)))


def write_stamp(module, path, digest):
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise TreeDigestError("cannot write the stamp %s: %s is not a directory" % (path, directory))
    fd, tmp = tempfile.mkstemp(prefix=".tree_digest.", dir=directory)
    with os.fdopen(fd, "wb") as handle:
        handle.write(to_bytes(digest + "\n"))
    module.atomic_move(tmp, path)


def outputs_missing(td, patterns):
    missing = []
    for pattern in patterns:
        path = td.resolve(pattern)
        found = glob.glob(path) if GLOB_CHARS & set(pattern) else ([path] if os.path.lexists(path) else [])
        if not found:
            missing.append(pattern)
    return missing


def run(module):
    params = module.params
    stamp = params["stamp"]
    if params["write_stamp"] and not stamp:
        raise TreeDigestError("write_stamp needs stamp (the file to record the digest in)")
    td = TreeDigest(params["root"], params["excludes"], allow_missing=params["allow_missing"])
    if td.root and not os.path.isdir(td.root):
        raise TreeDigestError("root %s is not a directory" % td.root)
    if stamp:
        stamp = td.resolve(stamp)
        td.excluded.skip.add(stamp)
    for given in params["paths"]:
        td.add_path(given)
    for name, given in sorted(params["files"].items()):
        td.add_file(name, to_native(given))
    if td.missing and not params["allow_missing"]:
        raise TreeDigestError("not found or not a regular file on the target: %s" % ", ".join(td.missing))
    for name, text in sorted(params["contents"].items()):
        td.add_content(name, "" if text is None else to_native(text))
    digest = td.hexdigest(params["settings"])
    result = dict(changed=False, digest=digest, count=len(td.lines), missing=td.missing)
    if not stamp:
        return result

    previous = read_stamp(stamp)
    missing_outputs = outputs_missing(td, params["outputs"])
    result.update(stamp=stamp, previous=previous, missing_outputs=missing_outputs,
                  current=previous == digest and not missing_outputs)
    if params["write_stamp"]:
        if previous != digest:
            result["changed"] = True
            result["diff"] = dict(before_header=stamp, after_header=stamp,
                                  before=previous + "\n" if previous else "", after=digest + "\n")
            if not module.check_mode:
                write_stamp(module, stamp, digest)
        if not module.check_mode or os.path.exists(stamp):
            file_args = module.load_file_common_arguments(params, path=stamp)
            result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path"),
            paths=dict(type="list", elements="path", default=[]),
            excludes=dict(type="list", elements="str", default=[]),
            files=dict(type="dict", default={}),
            contents=dict(type="dict", default={}),
            settings=dict(type="dict", default={}),
            allow_missing=dict(type="bool", default=False),
            outputs=dict(type="list", elements="path", default=[]),
            stamp=dict(type="path"),
            write_stamp=dict(type="bool", default=False),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    try:
        result = run(module)
    except TreeDigestError as exc:
        module.fail_json(msg=to_native(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
