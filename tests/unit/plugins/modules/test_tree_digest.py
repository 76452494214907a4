# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for dlstack.cdh.tree_digest, on real files in a temporary directory.

The expected digests are computed here from the documented definition (sorted
"<name> <sha256>" lines, joined with newlines; settings as sorted compact JSON after
a NUL), the same definition molecule/cdsw_engine's verifier uses for the image tag.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile

from ansible_collections.dlstack.cdh.plugins.modules import tree_digest
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleExitJson,
    AnsibleFailJson,
    ModuleTestCase,
    set_module_args,
)


def sha(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def expected(lines, settings=None):
    data = "\n".join(sorted(lines))
    if settings:
        data += "\n\0settings " + json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return sha(data)


class TestTreeDigest(ModuleTestCase):

    def setUp(self):
        super(TestTreeDigest, self).setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.root = self.tree("src")

    def tree(self, name):
        root = os.path.join(self.tmp, name)
        for rel, text in [("pom.xml", "<project/>\n"), ("src/Main.java", "class Main {}\n"),
                          ("target/out.jar", "jar"), ("src/target/Keep.java", "keep\n"),
                          (".git/HEAD", "ref\n"), ("pkg/__pycache__/m.pyc", "pyc")]:
            self.write(os.path.join(root, rel), text)
        return root

    def write(self, path, text):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)

    def run_module(self, args, check_mode=False):
        args = dict(args)
        if check_mode:
            args["_ansible_check_mode"] = True
        with self.assertRaises((AnsibleExitJson, AnsibleFailJson)) as ctx:
            with set_module_args(args):
                tree_digest.main()
        return ctx.exception.result

    def test_digest_follows_the_documented_definition(self):
        result = self.run_module(dict(root=self.root, paths=["."], excludes=["./target", ".git", "__pycache__"]))
        lines = ["pom.xml %s" % sha("<project/>\n"), "src/Main.java %s" % sha("class Main {}\n"),
                 "src/target/Keep.java %s" % sha("keep\n")]
        self.assertFalse(result["changed"])
        self.assertEqual(result["digest"], expected(lines))
        self.assertEqual(result["count"], 3)
        self.assertNotIn("current", result)

    def test_the_same_tree_elsewhere_gives_the_same_digest(self):
        args = dict(paths=["."], excludes=["./target", ".git"])
        first = self.run_module(dict(args, root=self.root))["digest"]
        second = self.run_module(dict(args, root=self.tree("copy")))["digest"]
        self.assertEqual(first, second)

    def test_a_changed_byte_an_added_file_and_a_setting_change_the_digest(self):
        args = dict(root=self.root, paths=["."], excludes=["./target", ".git"], settings={"argv": ["mvn", "-B"]})
        digests = [self.run_module(args)["digest"]]
        self.write(os.path.join(self.root, "src/Main.java"), "class Main { }\n")
        digests.append(self.run_module(args)["digest"])
        self.write(os.path.join(self.root, "src/Other.java"), "")
        digests.append(self.run_module(args)["digest"])
        digests.append(self.run_module(dict(args, settings={"argv": ["mvn", "-B", "-o"]}))["digest"])
        digests.append(self.run_module(dict(args, settings={"argv": ["mvn", "-B", "-o"], "jobs": "2"}))["digest"])
        digests.append(self.run_module(dict(args, settings={"argv": ["mvn", "-B", "-o"], "jobs": 2}))["digest"])
        self.assertEqual(len(set(digests)), len(digests))
        # Excluded files do not count.
        self.write(os.path.join(self.root, "target/out.jar"), "other jar")
        self.assertEqual(self.run_module(dict(args, settings={"argv": ["mvn", "-B", "-o"], "jobs": 2}))["digest"],
                         digests[-1])

    def test_excludes_with_a_slash_match_from_the_root_only(self):
        result = self.run_module(dict(root=self.root, paths=["src", "pom.xml"], excludes=["./src/target"]))
        self.assertEqual(result["count"], 2)
        result = self.run_module(dict(root=self.root, paths=["src"], excludes=["target"]))
        self.assertEqual(result["count"], 1)

    def test_globs_and_names_outside_root(self):
        outside = os.path.join(self.tmp, "settings.xml")
        self.write(outside, "<settings/>")
        result = self.run_module(dict(root=self.root, paths=["src/*.java", outside, "nothing*"]))
        self.assertEqual(result["digest"], expected(["src/Main.java %s" % sha("class Main {}\n"),
                                                     "%s %s" % (outside, sha("<settings/>"))]))

    def test_symlinks_in_a_tree_count_as_their_target(self):
        os.symlink("Main.java", os.path.join(self.root, "src/Link.java"))
        result = self.run_module(dict(root=self.root, paths=["src"], excludes=["target"]))
        self.assertEqual(result["digest"], expected(["src/Main.java %s" % sha("class Main {}\n"),
                                                     "src/Link.java -> Main.java"]))

    def test_files_and_contents_give_the_build_context_hash(self):
        lib = os.path.join(self.tmp, "libfoo.so.1.2")
        self.write(lib, "ELF")
        link = os.path.join(self.tmp, "libfoo.so.1")
        os.symlink(lib, link)
        dockerfile = "FROM debian:12\nCOPY lib/ /usr/local/lib/\n"
        result = self.run_module(dict(files={"lib/libfoo.so.1": link}, contents={"Dockerfile": dockerfile}))
        self.assertEqual(result["digest"], expected(["lib/libfoo.so.1 %s" % sha("ELF"),
                                                     "Dockerfile %s" % sha(dockerfile)]))

    def test_missing_inputs_fail_and_are_all_named(self):
        result = self.run_module(dict(paths=[os.path.join(self.tmp, "gone")],
                                      files={"lib/a": os.path.join(self.tmp, "a"), "lib/d": self.root}))
        self.assertTrue(result["failed"])
        for name in ("gone", "/a", self.root):
            self.assertIn(name, result["msg"])

    def test_allow_missing_records_the_missing_name(self):
        gone = os.path.join(self.tmp, "gone")
        result = self.run_module(dict(paths=[gone], allow_missing=True))
        self.assertEqual(result["missing"], [gone])
        self.assertEqual(result["digest"], expected(["%s missing" % gone]))

    def test_stamp_round_trip(self):
        stamp = os.path.join(self.root, ".dlstack-build-stamp")
        args = dict(root=self.root, paths=["."], excludes=["./target", ".git"], stamp=stamp, outputs=["target/*.jar"])
        first = self.run_module(args)
        self.assertEqual((first["previous"], first["current"], first["changed"]), ("", False, False))
        self.assertFalse(os.path.exists(stamp))

        written = self.run_module(dict(args, write_stamp=True, mode="0640"))
        self.assertTrue(written["changed"])
        self.assertEqual(written["diff"]["after"], first["digest"] + "\n")
        with open(stamp) as handle:
            self.assertEqual(handle.read(), first["digest"] + "\n")
        self.assertEqual(os.stat(stamp).st_mode & 0o777, 0o640)

        # The stamp inside the tree is not an input of itself.
        again = self.run_module(dict(args, write_stamp=True, mode="0640"))
        self.assertEqual((again["digest"], again["current"], again["changed"]), (first["digest"], True, False))

        os.remove(os.path.join(self.root, "target/out.jar"))
        gone = self.run_module(args)
        self.assertEqual((gone["current"], gone["missing_outputs"]), (False, ["target/*.jar"]))

    def test_check_mode_reports_the_stamp_change_without_writing(self):
        stamp = os.path.join(self.tmp, "stamp")
        result = self.run_module(dict(settings={"a": 1}, stamp=stamp, write_stamp=True), check_mode=True)
        self.assertTrue(result["changed"])
        self.assertFalse(os.path.exists(stamp))
        self.run_module(dict(settings={"a": 1}, stamp=stamp, write_stamp=True))
        result = self.run_module(dict(settings={"a": 1}, stamp=stamp, write_stamp=True), check_mode=True)
        self.assertFalse(result["changed"])
        self.assertTrue(result["current"])

    def test_write_stamp_needs_a_stamp_and_an_existing_directory(self):
        result = self.run_module(dict(settings={"a": 1}, write_stamp=True))
        self.assertIn("write_stamp needs stamp", result["msg"])
        result = self.run_module(dict(settings={"a": 1}, stamp=os.path.join(self.tmp, "no/dir/stamp"), write_stamp=True))
        self.assertIn("is not a directory", result["msg"])

    def test_root_must_be_a_directory(self):
        result = self.run_module(dict(root=os.path.join(self.tmp, "nope"), paths=["."]))
        self.assertTrue(result["failed"])
        self.assertIn("root", result["msg"])
