# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for dlstack.cdh.hdfs_file.

No NameNode runs here: ``AnsibleModule.run_command`` is patched with a small in-memory
HDFS whose answers are the real `hdfs dfs` outputs in fixtures/hdfs_dfs_outputs.txt
(the molecule scenario tf_hadoop runs the module against the real Hadoop FsShell).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from unittest.mock import patch

from ansible.module_utils import basic

from ansible_collections.dlstack.cdh.plugins.modules import hdfs_file
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleExitJson,
    AnsibleFailJson,
    ModuleTestCase,
    set_module_args,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "hdfs_dfs_outputs.txt")


def load_outputs():
    """{name: (rc, stdout, stderr)} from the captured FsShell session."""
    outputs = {}
    text = open(FIXTURES).read()
    for block in re.split(r"^### ", text, flags=re.M)[1:]:
        header, body = block.split("\n", 1)
        name, rc = re.match(r"(\S+) rc=(\d+)", header).groups()
        lines = [line for line in body.split("\n") if not line.startswith("# ")]
        stdout, stderr = "\n".join(lines).split("--- stderr\n", 1)
        outputs[name] = (int(rc), stdout, stderr)
    return outputs


OUTPUTS = load_outputs()
LS_FILE_LINE = OUTPUTS["ls_file"][1].strip()  # "-rw-r--r--   1 root root          6 ... jars/a.txt"


class FakeHdfs:
    """Answers `hdfs dfs` argv the way FsShell does, from an in-memory tree {path: entry}."""

    def __init__(self, entries=None, fail_all=None):
        self.entries = dict(entries or {})
        self.fail_all = fail_all
        self.calls = []
        self.environs = []

    def ls_line(self, path):
        entry = self.entries[path]
        if entry["type"] == "directory":
            template = OUTPUTS["ls_dir"][1].strip()
            perms = "d" + entry.get("perms", "rwxr-xr-x")
            size = "4096"
        else:
            template = LS_FILE_LINE
            perms = "-" + entry.get("perms", "rw-r--r--")
            size = str(len(entry["data"]))
        fields = template.split(None, 7)
        fields[0], fields[4], fields[7] = perms, size, path
        return "%s   %s %s %s %10s %s %s %s\n" % tuple(fields)

    def __call__(self, argv, check_rc=False, data=None, environ_update=None, cwd=None, **kwargs):
        self.calls.append(list(argv))
        self.environs.append(environ_update)
        if argv[0].endswith("kinit"):
            return 0, "", ""
        if self.fail_all:
            return OUTPUTS[self.fail_all]
        op, args = argv[2], argv[3:]
        missing = (1, "", "%s: `%s': No such file or directory\n" % (op.lstrip("-"), args[-1]))
        if op == "-ls":
            path = args[-1]
            return (0, self.ls_line(path), "") if path in self.entries else missing
        if op == "-put":
            src, path = args[-2], args[-1]
            with open(src, "rb") as handle:
                self.entries[path] = {"type": "file", "data": handle.read()}
            return 0, "", ""
        if op == "-get":
            path, target = args
            with open(target, "wb") as handle:
                handle.write(self.entries[path]["data"])
            return 0, "", ""
        if op == "-mkdir":
            self.entries[args[-1]] = {"type": "directory"}
            return OUTPUTS["mkdir"]
        if op == "-chmod":
            mode, path = args
            value = int(mode, 8)
            perms = "".join(c if value & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))
            if value & 0o1000:
                perms = perms[:8] + ("t" if perms[8] == "x" else "T")
            self.entries[path]["perms"] = perms
            return OUTPUTS["chmod"]
        if op == "-rm":
            del self.entries[args[-1]]
            return 0, "Deleted %s\n" % args[-1], ""
        raise AssertionError("unexpected command %r" % argv)

    def ops(self):
        return [call[2] for call in self.calls]


class TestHdfsFile(ModuleTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.src = os.path.join(self.tmp, "a.txt")
        with open(self.src, "wb") as handle:
            handle.write(b"hello\n")
        patcher = patch.object(basic.AnsibleModule, "get_bin_path", return_value="/usr/bin/hdfs")
        self.get_bin_path = patcher.start()
        self.addCleanup(patcher.stop)

    def run_module(self, args, fake, check_mode=False, diff=False, expect=AnsibleExitJson):
        args = dict(args)
        if check_mode:
            args["_ansible_check_mode"] = True
        if diff:
            args["_ansible_diff"] = True
        args.setdefault("_ansible_tmpdir", self.tmp)
        with set_module_args(args):
            with patch.object(basic.AnsibleModule, "run_command", side_effect=fake):
                with self.assertRaises(expect) as ctx:
                    hdfs_file.main()
        return ctx.exception.result

    def test_fixture_parses_like_the_module(self):
        match = hdfs_file._LS_RE.match(LS_FILE_LINE)
        self.assertEqual(match.group("size"), "6")
        self.assertEqual(match.group("name"), "jars/a.txt")
        self.assertEqual(OUTPUTS["ls_missing"][0], 1)

    def test_upload_when_missing_sets_mode(self):
        fake = FakeHdfs({"jars": {"type": "directory"}})
        result = self.run_module({"path": "jars/a.txt", "src": self.src, "mode": "0640"}, fake, diff=True)
        self.assertTrue(result["changed"])
        # The mode is known after chmod: no second listing.
        self.assertEqual(fake.ops(), ["-ls", "-put", "-chmod"])
        self.assertEqual(fake.calls[1], ["/usr/bin/hdfs", "dfs", "-put", "-f", self.src, "jars/a.txt"])
        self.assertEqual(fake.calls[2], ["/usr/bin/hdfs", "dfs", "-chmod", "640", "jars/a.txt"])
        self.assertEqual(fake.entries["jars/a.txt"]["data"], b"hello\n")
        self.assertEqual(result["mode"], "0640")
        self.assertEqual(result["size"], 6)
        self.assertEqual(result["diff"]["before"], {"path": "jars/a.txt", "state": "absent"})
        self.assertEqual(result["diff"]["after"]["state"], "file")
        self.assertEqual(result["diff"]["after"]["sha256"], result["checksum"])
        self.assertEqual(result["actions"][0], ["hdfs", "dfs", "-put", "-f", self.src, "jars/a.txt"])

    def test_same_content_is_a_no_op_after_download(self):
        fake = FakeHdfs({"jars/a.txt": {"type": "file", "data": b"hello\n"}})
        result = self.run_module({"path": "jars/a.txt", "src": self.src, "mode": "0644"}, fake)
        self.assertFalse(result["changed"])
        self.assertEqual(fake.ops(), ["-ls", "-get"])
        self.assertEqual(result["mode"], "0644")
        self.assertEqual(result["actions"], [])
        # The download went to the module's tmpdir and was removed.
        self.assertFalse(os.path.exists(fake.calls[1][-1]))

    def test_same_length_other_content_is_replaced(self):
        fake = FakeHdfs({"jars/a.txt": {"type": "file", "data": b"HELLO\n"}})
        result = self.run_module({"path": "jars/a.txt", "src": self.src}, fake, diff=True)
        self.assertTrue(result["changed"])
        self.assertEqual(fake.ops(), ["-ls", "-get", "-put", "-ls"])
        self.assertEqual(fake.entries["jars/a.txt"]["data"], b"hello\n")
        self.assertEqual(result["diff"]["before"]["size"], 6)

    def test_other_length_is_replaced_without_download(self):
        fake = FakeHdfs({"jars/a.txt": {"type": "file", "data": b"longer content\n"}})
        result = self.run_module({"path": "jars/a.txt", "src": self.src}, fake)
        self.assertTrue(result["changed"])
        self.assertEqual(fake.ops(), ["-ls", "-put", "-ls"])

    def test_compare_size_trusts_equal_length(self):
        fake = FakeHdfs({"jars/a.txt": {"type": "file", "data": b"HELLO\n"}})
        result = self.run_module({"path": "jars/a.txt", "src": self.src, "compare": "size"}, fake)
        self.assertFalse(result["changed"])
        self.assertEqual(fake.ops(), ["-ls"])

    def test_force_false_keeps_a_different_file(self):
        fake = FakeHdfs({"jars/a.txt": {"type": "file", "data": b"other data\n"}})
        with patch.object(basic.AnsibleModule, "warn") as warn:
            result = self.run_module({"path": "jars/a.txt", "src": self.src, "force": False}, fake)
        self.assertFalse(result["changed"])
        self.assertEqual(result["size"], 11)
        self.assertNotIn("checksum", result)
        self.assertIn("force=false", warn.call_args[0][0])

    def test_check_mode_reports_but_does_not_upload(self):
        fake = FakeHdfs({})
        result = self.run_module({"path": "jars/a.txt", "src": self.src, "mode": "0644"}, fake, check_mode=True, diff=True)
        self.assertTrue(result["changed"])
        self.assertEqual(fake.ops(), ["-ls"])
        self.assertNotIn("jars/a.txt", fake.entries)
        self.assertEqual([a[2] for a in result["actions"]], ["-put", "-chmod"])
        self.assertEqual(result["diff"]["after"]["mode"], "0644")

    def test_mode_change_only(self):
        fake = FakeHdfs({"jars/a.txt": {"type": "file", "data": b"hello\n"}})
        result = self.run_module({"path": "jars/a.txt", "src": self.src, "mode": "640"}, fake)
        self.assertTrue(result["changed"])
        self.assertEqual(fake.ops(), ["-ls", "-get", "-chmod"])
        self.assertEqual(result["mode"], "0640")

    def test_directory_created_then_idempotent_with_sticky_mode(self):
        fake = FakeHdfs({})
        result = self.run_module({"path": "jars", "state": "directory", "mode": "1755"}, fake)
        self.assertTrue(result["changed"])
        self.assertEqual(fake.ops(), ["-ls", "-mkdir", "-chmod"])
        self.assertEqual(fake.calls[1][3:], ["-p", "jars"])
        # The real listing of a 1755 directory.
        self.assertEqual(fake.ls_line("jars").split()[0], OUTPUTS["ls_dir_sticky"][1].split()[0])
        fake.calls = []
        result = self.run_module({"path": "jars", "state": "directory", "mode": "1755"}, fake, diff=True)
        self.assertFalse(result["changed"])
        self.assertEqual(fake.ops(), ["-ls"])
        self.assertEqual(result["diff"]["before"], result["diff"]["after"])

    def test_directory_over_a_file_fails_before_changing(self):
        fake = FakeHdfs({"jars": {"type": "file", "data": b"x"}})
        result = self.run_module({"path": "jars", "state": "directory"}, fake, expect=AnsibleFailJson)
        self.assertIn("not a directory", result["msg"])
        self.assertEqual(fake.ops(), ["-ls"])

    def test_file_over_a_directory_fails(self):
        fake = FakeHdfs({"jars": {"type": "directory"}})
        result = self.run_module({"path": "jars", "src": self.src}, fake, expect=AnsibleFailJson)
        self.assertIn("is a directory", result["msg"])

    def test_absent_removes_then_is_a_no_op(self):
        fake = FakeHdfs({"jars": {"type": "directory"}})
        result = self.run_module({"path": "jars", "state": "absent"}, fake, diff=True)
        self.assertTrue(result["changed"])
        self.assertEqual(fake.calls[-1], ["/usr/bin/hdfs", "dfs", "-rm", "-r", "jars"])
        self.assertEqual(result["diff"]["after"], {"path": "jars", "state": "absent"})
        fake.calls = []
        result = self.run_module({"path": "jars", "state": "absent"}, fake)
        self.assertFalse(result["changed"])
        self.assertEqual(fake.ops(), ["-ls"])

    def test_unreachable_namenode_fails_with_the_client_message(self):
        fake = FakeHdfs(fail_all="ls_no_namenode")
        result = self.run_module({"path": "jars", "state": "directory"}, fake, expect=AnsibleFailJson)
        self.assertIn("Connection refused", result["msg"])
        self.assertEqual(len(fake.calls), 1)

    def test_failed_put_reports_fsshell_error(self):
        fake = FakeHdfs({})
        real_call = fake.__call__

        def put_fails(argv, **kwargs):
            if argv[2] == "-put":
                fake.calls.append(list(argv))
                return OUTPUTS["put_no_parent"]
            return real_call(argv, **kwargs)

        result = self.run_module({"path": "nodir/a.txt", "src": self.src}, put_fails, expect=AnsibleFailJson)
        self.assertIn("No such file or directory", result["msg"])
        self.assertIn("Upload", result["msg"])

    def test_bad_mode_fails_before_any_command(self):
        fake = FakeHdfs({})
        result = self.run_module({"path": "jars", "state": "directory", "mode": "u+rwx"}, fake, expect=AnsibleFailJson)
        self.assertIn("octal", result["msg"])
        self.assertEqual(fake.calls, [])

    def test_missing_src_fails_before_any_command(self):
        fake = FakeHdfs({})
        result = self.run_module({"path": "jars/a", "src": os.path.join(self.tmp, "nope")}, fake, expect=AnsibleFailJson)
        self.assertIn("not a regular file", result["msg"])
        self.assertEqual(fake.calls, [])

    def test_state_file_requires_src(self):
        result = self.run_module({"path": "jars/a"}, FakeHdfs({}), expect=AnsibleFailJson)
        self.assertIn("src", result["msg"])

    def test_hadoop_command_uses_fs_subcommand(self):
        self.get_bin_path.return_value = "/opt/cloudera/parcels/CDH/bin/hadoop"
        fake = FakeHdfs({"jars": {"type": "directory"}})
        self.run_module({"path": "jars", "state": "directory", "hdfs_command": "hadoop"}, fake)
        self.assertEqual(fake.calls[0][:2], ["/opt/cloudera/parcels/CDH/bin/hadoop", "fs"])

    def test_missing_client_fails_clearly(self):
        self.get_bin_path.return_value = None
        result = self.run_module({"path": "jars", "state": "directory"}, FakeHdfs({}), expect=AnsibleFailJson)
        self.assertIn("not found on PATH", result["msg"])

    def test_hdfs_user_is_the_identity_of_every_call(self):
        fake = FakeHdfs({"jars": {"type": "directory"}})
        self.run_module({"path": "jars/a.txt", "src": self.src, "mode": "0644", "hdfs_user": "etl"}, fake)
        self.assertEqual(fake.ops(), ["-ls", "-put", "-chmod"])
        self.assertEqual([env.get("HADOOP_USER_NAME") for env in fake.environs], ["etl"] * 3)

    def test_no_identity_leaves_the_environment_alone(self):
        fake = FakeHdfs({"jars": {"type": "directory"}})
        self.run_module({"path": "jars", "state": "directory"}, fake)
        self.assertNotIn("HADOOP_USER_NAME", fake.environs[0] or {})
        self.assertNotIn("KRB5CCNAME", fake.environs[0] or {})

    def test_kerberos_kinit_into_an_own_cache_before_hdfs(self):
        kinit = os.path.join(self.tmp, "kinit")
        keytab = os.path.join(self.tmp, "etl.keytab")
        for path in (kinit, keytab):
            with open(path, "w") as handle:
                handle.write("#!/bin/sh\n")
        os.chmod(kinit, 0o755)
        fake = FakeHdfs({"jars": {"type": "directory"}})
        self.run_module({"path": "jars", "state": "directory", "kerberos_principal": "etl@EXAMPLE.COM",
                         "kerberos_keytab": keytab, "kinit_command": kinit}, fake)
        cache = "FILE:" + os.path.join(self.tmp, "krb5cc_hdfs_file")
        self.assertEqual(fake.calls[0], [kinit, "-k", "-t", keytab, "-c", cache, "etl@EXAMPLE.COM"])
        self.assertEqual(fake.ops()[1:], ["-ls"])
        self.assertEqual([env.get("KRB5CCNAME") for env in fake.environs[1:]], [cache])
        self.assertNotIn("KRB5CCNAME", fake.environs[0])

    def test_kerberos_principal_needs_a_keytab(self):
        fake = FakeHdfs({})
        result = self.run_module({"path": "jars", "state": "directory", "kerberos_principal": "etl@EXAMPLE.COM"},
                                 fake, expect=AnsibleFailJson)
        self.assertIn("kerberos_keytab", result["msg"])
        self.assertEqual(fake.calls, [])

    def test_missing_keytab_fails_before_any_command(self):
        fake = FakeHdfs({})
        result = self.run_module({"path": "jars", "state": "directory", "kerberos_principal": "etl@EXAMPLE.COM",
                                  "kerberos_keytab": os.path.join(self.tmp, "none.keytab")}, fake, expect=AnsibleFailJson)
        self.assertIn("not a readable file", result["msg"])
        self.assertEqual(fake.calls, [])

    def test_hdfs_user_and_principal_exclude_each_other(self):
        result = self.run_module({"path": "jars", "state": "directory", "hdfs_user": "etl",
                                  "kerberos_principal": "etl@EXAMPLE.COM", "kerberos_keytab": self.src},
                                 FakeHdfs({}), expect=AnsibleFailJson)
        self.assertIn("mutually exclusive", result["msg"])

    def test_permission_denied_names_the_user_and_writes_nothing(self):
        fake = FakeHdfs({})
        real_call = fake.__call__

        def mkdir_denied(argv, **kwargs):
            if argv[2] == "-mkdir":
                fake.calls.append(list(argv))
                return OUTPUTS["mkdir_denied"]
            return real_call(argv, **kwargs)

        result = self.run_module({"path": "/user/root/jars", "state": "directory"}, mkdir_denied, expect=AnsibleFailJson)
        self.assertIn("HDFS refused to create directory /user/root/jars for user root", result["msg"])
        self.assertIn('inode="/user":hdfs:supergroup:drwxr-xr-x', result["msg"])
        self.assertIn("hdfs_user", result["msg"])
        self.assertEqual(fake.ops(), ["-ls", "-mkdir"])
        self.assertEqual(fake.entries, {})

    def test_unreachable_namenode_is_named_before_any_change(self):
        for name, expected in (("ls_no_route", "java.net.NoRouteToHostException: No route to host"),
                               ("ls_refused", "java.net.ConnectException: Connection refused"),
                               ("ls_unknown_host", "-ls: java.net.UnknownHostException: no-such-namenode")):
            fake = FakeHdfs({})

            def unreachable(argv, name=name, fake=fake, **kwargs):
                del kwargs
                fake.calls.append(list(argv))
                return OUTPUTS[name]

            result = self.run_module({"path": "jars", "state": "directory"}, unreachable, expect=AnsibleFailJson)
            self.assertIn("Cannot reach the NameNode for jars: ", result["msg"])
            self.assertIn(expected, result["msg"])
            self.assertIn("fs.defaultFS", result["msg"])
            self.assertEqual(fake.ops(), ["-ls"])


def test_perms_to_mode():
    assert hdfs_file.perms_to_mode("drwxr-xr-t") == "1755"
    assert hdfs_file.perms_to_mode("-rw-r-----") == "0640"
    assert hdfs_file.perms_to_mode("drwxrwxrwT") == "1776"
    assert hdfs_file.perms_to_mode("-rw-r--r--") == "0644"


def test_ls_line_with_acl_and_spaces():
    match = hdfs_file._LS_RE.match("-rw-r--r--+  3 etl supergroup   129837 2026-11-25 02:57 /user/etl/jars/my file.jar")
    assert match.group("name") == "/user/etl/jars/my file.jar"
    assert match.group("size") == "129837"
