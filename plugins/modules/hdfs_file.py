#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hdfs_file
short_description: Upload files to, create directories in and remove paths from HDFS, idempotently
version_added: "0.1.0"
description:
  - Manages one path in HDFS (or any Hadoop-compatible filesystem the client is configured for) through
    the Hadoop file-system shell (C(hdfs dfs) or C(hadoop fs)) on the managed node.
  - O(state=file) uploads O(src) when the HDFS copy is missing or differs; O(state=directory) creates the
    directory with its parents; O(state=absent) removes the path (recursively for directories).
  - "Sameness of a file is decided in two steps: the length from C(-ls -d) first (a different length is a
    change, nothing is downloaded), then, when the lengths are equal and O(compare=content), the HDFS copy is
    fetched with C(-get) into the module's temporary directory and its SHA-256 compared with O(src)'s.
    C(hdfs dfs -checksum) is not used because its MD5-of-MD5-of-CRC32C value depends on the file's block size
    and bytes-per-checksum (two identical files written with different settings differ) and non-HDFS
    filesystems (C(file://), C(viewfs://) over local, object stores) answer C(NONE); a sidecar C(.sha256)
    file would go stale when anything else writes the path and would show up in directory listings that
    Spark and YARN consume (for example a C(spark.jars) glob). The download costs one read of the file per
    run, which is small for the jars and zips this collection ships; use O(compare=size) for large files."
  - Supports check mode and diff mode.
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
extends_documentation_fragment:
  - dlstack.cdh.attributes
attributes:
  check_mode:
    support: full
    details: Reads the HDFS state (and downloads for comparison) but changes nothing.
  diff_mode:
    support: full
    details: Shows state, length, mode and the SHA-256 an upload would give.
options:
  path:
    description:
      - The HDFS path. A relative path is relative to the HDFS home directory of the user the module runs as
        (normally C(/user/<name>)); a URI such as C(hdfs://nameservice1/user/etl/jars) is passed through.
    type: str
    required: true
  src:
    description:
      - Local file on the managed node to upload. Required when O(state=file).
    type: path
  state:
    description:
      - V(file) makes O(path) a copy of O(src); V(directory) makes it a directory (parents included);
        V(absent) removes it, recursively when it is a directory (into the trash when the cluster has it on).
    type: str
    choices: [file, directory, absent]
    default: file
  hdfs_command:
    description:
      - The Hadoop client on the managed node, a name looked up on E(PATH) or an absolute path.
      - When its base name is C(hadoop) the file-system shell is C(hadoop fs), otherwise C(<command> dfs).
    type: str
    default: hdfs
  mode:
    description:
      - Octal permissions for O(path), for example V('0644') or V('1777'). Quote it in YAML.
      - Left as the filesystem made it when not given.
    type: str
  force:
    description:
      - With O(state=file), replace an existing HDFS file whose content differs from O(src).
      - When V(false) an existing file is kept as it is, like M(ansible.builtin.copy) with C(force=false).
    type: bool
    default: true
  hdfs_user:
    description:
      - The HDFS user to act as on a cluster with simple authentication (C(hadoop.security.authentication=simple)).
        The client runs with E(HADOOP_USER_NAME) set to it, so files belong to that user and relative paths are
        in its home, whoever Ansible connects or becomes as.
      - Unset, the client acts as the user the module runs as (or an E(HADOOP_USER_NAME) already in its environment).
      - Ignored by Kerberos clusters, which take the identity from the ticket; use O(kerberos_principal) there.
    type: str
  kerberos_principal:
    description:
      - On a Kerberos cluster, the principal to act as. The module runs C(kinit -k -t <kerberos_keytab>) into a
        ticket cache of its own (in its temporary directory, removed at the end), so the user's own cache is
        neither used nor changed, and every HDFS call runs with E(KRB5CCNAME) pointing at it.
    type: str
  kerberos_keytab:
    description:
      - Keytab on the managed node holding O(kerberos_principal)'s key. Required with O(kerberos_principal).
    type: path
  kinit_command:
    description:
      - The Kerberos C(kinit) on the managed node, a name looked up on E(PATH) or an absolute path.
    type: str
    default: kinit
  compare:
    description:
      - How an existing HDFS file of the same length as O(src) is compared.
      - V(content) downloads it and compares SHA-256 digests (exact, one read per run).
      - V(size) trusts an equal length (no download; misses same-length edits).
    type: str
    choices: [content, size]
    default: content
notes:
  - The module runs on the managed node and needs a working Hadoop client there (configured C(core-site.xml),
    and a Kerberos ticket on secured clusters).
  - Owner and group are not managed; the uploading user owns what it writes (see O(hdfs_user) and
    O(kerberos_principal) for who that is).
  - When HDFS refuses an operation for lack of permission the module fails before writing anything, naming the
    user HDFS saw and the path; C(-put) writes C(<path>._COPYING_) and renames it, so a refused or interrupted
    upload leaves no partial file under O(path).
seealso:
  - name: HDFS file system shell
    description: The commands this module runs.
    link: https://hadoop.apache.org/docs/stable/hadoop-project-dist/hadoop-common/FileSystemShell.html
"""

EXAMPLES = r"""
- name: Create the jar directory in the run user's HDFS home
  dlstack.cdh.hdfs_file:
    path: jars
    state: directory
    mode: "0755"

- name: Upload the TensorFlow Hadoop input format jar
  dlstack.cdh.hdfs_file:
    path: jars/tensorflow-hadoop-1.10.0.jar
    src: /opt/dlstack/src/ecosystem/hadoop/target/tensorflow-hadoop-1.10.0.jar
    mode: "0644"

- name: Upload a large archive, compared by length only
  dlstack.cdh.hdfs_file:
    path: /user/etl/archives/model.tar
    src: /data/model.tar
    compare: size
    hdfs_command: /opt/cloudera/parcels/CDH/bin/hadoop

- name: Upload as the etl user on a cluster with simple authentication
  dlstack.cdh.hdfs_file:
    path: /user/etl/jars/udfs.jar
    src: /opt/etl/udfs.jar
    hdfs_user: etl

- name: Upload with a keytab on a Kerberos cluster
  dlstack.cdh.hdfs_file:
    path: /user/etl/jars/udfs.jar
    src: /opt/etl/udfs.jar
    kerberos_principal: etl@EXAMPLE.COM
    kerberos_keytab: /etc/security/keytabs/etl.keytab

- name: Remove an old jar
  dlstack.cdh.hdfs_file:
    path: jars/tensorflow-hadoop-1.0-SNAPSHOT.jar
    state: absent
"""

RETURN = r"""
path:
  description: The HDFS path as given.
  returned: always
  type: str
  sample: jars/tensorflow-hadoop-1.10.0.jar
state:
  description: The state of O(path) after the run (in check mode, the state it would have).
  returned: always
  type: str
  sample: file
size:
  description: Length in bytes of the HDFS file after the run.
  returned: when O(state=file)
  type: int
  sample: 129837
checksum:
  description: SHA-256 of O(src), which the HDFS file matches after the run.
  returned: when O(state=file)
  type: str
  sample: 0f343b0931126a20f133d67c2b018a3b1d4b4a2f0e0d5e7c8b3d8d6c0a6f4b1e
mode:
  description: Octal permissions of O(path) after the run.
  returned: when O(path) exists after the run
  type: str
  sample: "0644"
actions:
  description: The file-system shell commands that were run (or, in check mode, would have been run) to change O(path).
  returned: always
  type: list
  elements: list
  sample: [["hdfs", "dfs", "-put", "-f", "/tmp/a.jar", "jars/a.jar"], ["hdfs", "dfs", "-chmod", "644", "jars/a.jar"]]
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlstack.cdh.plugins.module_utils.command import execute, hdfs_runner, resolve_binary
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import (
    CommandFailed, InvalidInput, ModuleError, UnexpectedOutput, failure_boundary,
)

# `-ls -d` prints: permissions, replication (or -), owner, group, length, date, time, path.
_LS_RE = re.compile(
    r"^(?P<perms>[dl-][rwxsStT-]{9})[+.@]?\s+(?P<repl>\S+)\s+(?P<owner>\S+)\s+(?P<group>\S+)\s+"
    r"(?P<size>\d+)\s+(?P<date>\S+)\s+(?P<time>\S+)\s+(?P<name>.*)$"
)
_MODE_RE = re.compile(r"^0?[0-7]{3,4}$")
_MISSING = "No such file or directory"
_DENIED = "Permission denied"
# The Hadoop client's exceptions for a NameNode it cannot reach (refused, filtered, unresolvable).
_SHELL_LINE = re.compile(r"^-?[a-zA-Z]+: ")
_UNREACHABLE = ("java.net.ConnectException", "java.net.NoRouteToHostException", "java.net.UnknownHostException",
                "org.apache.hadoop.net.ConnectTimeoutException", "java.net.SocketTimeoutException")


def perms_to_mode(perms):
    """'drwxr-xr-t' -> '1755' as FsPermission prints it: sticky shows in the others' execute slot."""
    bits = perms[1:10]
    value = 0
    for index, char in enumerate(bits):
        shift = 8 - index
        if char in "rwx":
            value |= 1 << shift
        elif char == "t":
            value |= 1 << shift
            value |= 0o1000
        elif char == "T":
            value |= 0o1000
        elif char in "sS":
            # HDFS has no setuid/setgid; other filesystems may show them.
            value |= (1 << shift) if char == "s" else 0
            value |= 0o4000 if index == 2 else 0o2000
    return "%04o" % value


def normalize_mode(mode):
    return "%04o" % int(mode, 8)


class HdfsShell:
    """The Hadoop file-system shell, one command per call, through its runner."""

    # The options of each FsShell command, in argv order (module_utils.command.hdfs_runner).
    COMMANDS = {
        "-ls": "op directory paths",
        "-put": "op force paths",
        "-get": "op paths",
        "-mkdir": "op parents paths",
        "-rm": "op recursive paths",
        "-chmod": "op mode paths",
    }

    def __init__(self, module, command, environ=None):
        self.module = module
        self.runner = hdfs_runner(module, command)
        # HADOOP_USER_NAME / KRB5CCNAME: who HDFS sees (see the identity options).
        self.runner.environ_update.update(environ or {})
        # Shown in `actions` the way the user named the command.
        self.display_prefix = [command] + self.runner.base_args

    def command(self, op, check_rc=False, what=None):
        return self.runner(self.COMMANDS[op], check_rc=check_rc, what=what)

    def display(self, op, **values):
        return self.display_prefix + self.command(op).args(op=op, **values)

    def stat(self, path):
        """None when missing, else dict(type, size, mode) parsed from `-ls -d`."""
        result = self.command("-ls").run(op="-ls", directory=True, paths=[path])
        if result.rc != 0:
            if _MISSING in result.stderr:
                return None
            self.denied("read", path, result)
            self.unreachable(path, result)
            raise CommandFailed(
                "Cannot read %s from HDFS (rc=%d): %s" % (path, result.rc, result.stderr.strip() or result.stdout.strip()),
                rc=result.rc, cmd=result.argv, stdout=result.stdout, stderr=result.stderr)
        for line in result.stdout.splitlines():
            match = _LS_RE.match(line.strip())
            if match:
                perms = match.group("perms")
                kind = {"d": "directory", "l": "link"}.get(perms[0], "file")
                return {"state": kind, "size": int(match.group("size")), "mode": perms_to_mode(perms)}
        raise UnexpectedOutput("Unexpected `-ls -d %s` output: %r" % (path, result.stdout), cmd=result.argv)

    def change(self, what, op, **values):
        shown = " ".join(self.display(op, **values))
        result = self.command(op).run(op=op, **values)
        if result.rc != 0:
            self.denied(what.lower(), values["paths"][-1], result)
            detail = (result.stderr or result.stdout or "").strip()
            raise CommandFailed("%s (%s) failed (rc=%d): %s" % (what, shown, result.rc, detail or "no output"),
                                rc=result.rc, cmd=result.argv, stdout=result.stdout, stderr=result.stderr)

    @staticmethod
    def unreachable(path, result):
        """Raise with the client's own line when the NameNode cannot be reached."""
        # FsShell's own result line ("ls: ...", "-ls: ..."), not the client's log lines (an HA client logs a
        # failover to another NameNode with the same exceptions).
        lines = [line.strip() for line in (result.stderr or "").splitlines()
                 if _SHELL_LINE.match(line) and any(name in line for name in _UNREACHABLE)]
        if not lines:
            return
        raise CommandFailed(
            "Cannot reach the NameNode for %s: %s. Nothing was changed; check the NameNode address (fs.defaultFS of the "
            "Hadoop client configuration in HADOOP_CONF_DIR, or the path's hdfs://host:port) and that it runs."
            % (path, lines[-1]), rc=result.rc, cmd=result.argv, stdout=result.stdout, stderr=result.stderr)

    @staticmethod
    def denied(what, path, result):
        """Raise with HDFS's own AccessControlException line, saying who was refused."""
        lines = [line.strip() for line in (result.stderr or "").splitlines() if _DENIED in line]
        if not lines:
            return
        user = re.search(r"user=([^,\s]+)", lines[0])
        raise CommandFailed(
            "HDFS refused to %s %s for user %s: %s. Nothing was written; act as a user with the rights "
            "(hdfs_user on simple authentication, kerberos_principal and kerberos_keytab on Kerberos)."
            % (what, path, user.group(1) if user else "(unknown)", lines[0]),
            rc=result.rc, cmd=result.argv, stdout=result.stdout, stderr=result.stderr)

    def fetch_sha256(self, path):
        target = os.path.join(self.module.tmpdir, "hdfs_file.download")
        if os.path.exists(target):
            os.unlink(target)
        # -ignoreCrc is not passed: the client verifies HDFS's block checksums while reading.
        self.change("Download for comparison", "-get", paths=[path, target])
        try:
            return self.module.sha256(target)
        finally:
            os.unlink(target)


def identity_environ(module):
    """The environment that makes the HDFS client act as the configured user."""
    params = module.params
    if params["hdfs_user"] is not None:
        user = params["hdfs_user"].strip()
        if not user or re.search(r"[\s/:]", user):
            raise InvalidInput("hdfs_user %r is not a user name" % params["hdfs_user"])
        return {"HADOOP_USER_NAME": user}
    if params["kerberos_principal"] is None:
        return None
    keytab = params["kerberos_keytab"]
    if not os.path.isfile(keytab) or not os.access(keytab, os.R_OK):
        raise InvalidInput("kerberos_keytab %s is not a readable file on the managed node" % keytab)
    kinit = resolve_binary(module, params["kinit_command"], what="kinit_command",
                           hint="install the Kerberos client (krb5-user / krb5-workstation)")
    # A cache of the module's own: the connecting user's tickets are neither used nor replaced.
    cache = "FILE:" + os.path.join(module.tmpdir, "krb5cc_hdfs_file")
    execute(module, [kinit, "-k", "-t", keytab, "-c", cache, params["kerberos_principal"]], check_rc=True,
            what="kinit as %s with %s" % (params["kerberos_principal"], keytab))
    return {"KRB5CCNAME": cache}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="str", required=True),
            src=dict(type="path"),
            state=dict(type="str", default="file", choices=["file", "directory", "absent"]),
            hdfs_command=dict(type="str", default="hdfs"),
            mode=dict(type="str"),
            force=dict(type="bool", default=True),
            compare=dict(type="str", default="content", choices=["content", "size"]),
            hdfs_user=dict(type="str"),
            kerberos_principal=dict(type="str"),
            kerberos_keytab=dict(type="path"),
            kinit_command=dict(type="str", default="kinit"),
        ),
        required_if=[("state", "file", ["src"])],
        required_together=[("kerberos_principal", "kerberos_keytab")],
        mutually_exclusive=[("hdfs_user", "kerberos_principal")],
        supports_check_mode=True,
    )
    with failure_boundary(module):
        result = run_module(module)
    module.exit_json(**result)


def run_module(module):
    params = module.params
    path = params["path"].strip()
    state = params["state"]
    mode = params["mode"]

    # Validate everything before touching HDFS.
    if not path:
        raise InvalidInput("path must not be empty")
    if mode is not None:
        if not _MODE_RE.match(mode):
            raise InvalidInput("mode %r is not an octal mode such as '0644' (symbolic modes are not supported)" % mode)
        mode = normalize_mode(mode)
        if state == "absent":
            raise InvalidInput("mode cannot be set with state=absent")
    src = None
    if state == "file":
        src = os.path.abspath(params["src"])
        if not os.path.isfile(src):
            raise InvalidInput("src %s is not a regular file on the managed node" % src)
        if not os.access(src, os.R_OK):
            raise InvalidInput("src %s is not readable" % src)
    elif params["src"]:
        raise InvalidInput("src is only used with state=file")

    environ = identity_environ(module)
    shell = HdfsShell(module, params["hdfs_command"], environ)
    before = shell.stat(path)
    before_state = before["state"] if before else "absent"
    plan = []  # (description, FsShell command, its option values) run in order unless in check mode
    result = dict(changed=False, path=path, state=state)

    if state == "absent":
        if before:
            plan.append(("Remove", "-rm", dict(recursive=True, paths=[path])))
        after = None
    elif state == "directory":
        if before and before_state != "directory":
            raise ModuleError("%s exists and is a %s, not a directory" % (path, before_state))
        if not before:
            plan.append(("Create directory", "-mkdir", dict(parents=True, paths=[path])))
        after = {"state": "directory", "mode": before["mode"] if before else None}
    else:
        if before and before_state != "file":
            raise ModuleError("%s exists and is a %s; state=file needs a file or nothing there" % (path, before_state))
        size = os.path.getsize(src)
        checksum = module.sha256(src)
        result.update(size=size, checksum=checksum)
        upload = False
        if not before:
            upload = True
        elif params["force"]:
            if before["size"] != size:
                upload = True
            elif params["compare"] == "content":
                upload = shell.fetch_sha256(path) != checksum
        elif before["size"] != size or params["compare"] == "content" and shell.fetch_sha256(path) != checksum:
            # force=false keeps the file; report its real length so callers are not misled.
            module.warn("%s differs from %s and was kept because force=false" % (path, src))
            result["size"] = before["size"]
            result.pop("checksum")
        if upload:
            # -put writes <path>._COPYING_ and renames it, so readers never see half a file.
            plan.append(("Upload", "-put", dict(force=True, paths=[src, path])))
        after = {"state": "file", "size": result["size"], "mode": before["mode"] if before and not upload else None}

    if after is not None and mode is not None and (after["mode"] != mode):
        # A fresh upload or directory gets the umask's mode: set ours whenever it might differ.
        plan.append(("Set mode", "-chmod", dict(mode=mode.lstrip("0") or "0", paths=[path])))
        after["mode"] = mode

    if not module.check_mode:
        for what, op, values in plan:
            shell.change(what, op, **values)
        if after is not None and after.get("mode") is None:
            after["mode"] = (shell.stat(path) or {}).get("mode")
    result["changed"] = bool(plan)
    result["actions"] = [shell.display(op, **values) for dummy, op, values in plan]
    if after is not None and after.get("mode"):
        result["mode"] = after["mode"]
    if module._diff:
        def view(info, kind):
            if not info:
                return {"path": path, "state": "absent"}
            shown = {"path": path, "state": kind}
            # A directory's length is filesystem noise (0 on HDFS, 4096 on ext4).
            for key in ("size", "mode") if kind == "file" else ("mode",):
                if info.get(key) is not None:
                    shown[key] = info[key]
            return shown
        after_view = view(after, state) if after else {"path": path, "state": "absent"}
        if state == "file" and any(op == "-put" for dummy, op, values in plan):
            after_view["sha256"] = result["checksum"]
        result["diff"] = dict(before=view(before, before_state), after=after_view)
    return result


if __name__ == "__main__":
    main()
