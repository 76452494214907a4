# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""shared_library_info against real caches, real ldd/nvcc output and real CUDA/cuDNN files.

run_command is patched where the real tool cannot give the wanted answer here: there is
no CUDA toolkit at a known place and no binary with a missing dependency on this host, so
ldd and nvcc answers are the captured real outputs under fixtures/ (see their READMEs).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from unittest.mock import patch

from ansible.module_utils import basic

from ansible_collections.dlstack.cdh.plugins.module_utils import compat, ldcache, library_state
from ansible_collections.dlstack.cdh.plugins.modules import shared_library_info
from ansible_collections.dlstack.cdh.tests.unit.plugins.module_utils.cache_builder import build_new
from ansible_collections.dlstack.cdh.tests.unit.plugins.modules.utils import (
    AnsibleExitJson, AnsibleFailJson, ModuleTestCase, set_module_args,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def host_library(name):
    """A real library file this host's ld cache lists under ``name``, or None."""
    try:
        entries = ldcache.read_cache("/etc/ld.so.cache").entries
    except (OSError, ldcache.LdCacheError):
        return None
    return next((e.path for e in entries if e.name == name and os.path.isfile(e.path)), None)


def fixture(*parts):
    return os.path.join(FIXTURES, *parts)


def fixture_text(*parts):
    with open(fixture(*parts)) as handle:
        return handle.read()


class SharedLibraryInfoCase(ModuleTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        # Keep the host's own /usr/lib/cuda, cuDNN headers and ld.so.conf.d out of the results.
        debian_home = patch.object(library_state, "DEBIAN_CUDA_HOME", os.path.join(self.tmp, "no-debian-cuda"))
        debian_home.start()
        self.addCleanup(debian_home.stop)
        self.conf_dir = self.mkdir("ld.so.conf.d")
        self.commands = []

    def mkdir(self, *parts):
        path = os.path.join(self.tmp, *parts)
        os.makedirs(path, exist_ok=True)
        return path

    def write(self, path, content, mode=None):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb" if isinstance(content, bytes) else "w") as handle:
            handle.write(content)
        if mode:
            os.chmod(path, mode)
        return path

    def args(self, **kwargs):
        kwargs.setdefault("cache_path", fixture("ldcache", "container-debian12-new.cache"))
        kwargs.setdefault("cuda_homes", [])
        kwargs.setdefault("cudnn_include_dirs", [])
        kwargs.setdefault("ld_so_conf_dir", self.conf_dir)
        return kwargs

    def run_module(self, args, answers=None, expect=AnsibleExitJson):
        """Run main(); ``answers`` maps argv[1:] tuples to (rc, stdout, stderr)."""
        answers = answers or {}

        def run_command(module, argv, **kwargs):
            self.commands.append(list(argv))
            return answers[tuple(argv[1:])]

        with set_module_args(args):
            with patch.object(basic.AnsibleModule, "run_command", autospec=True, side_effect=run_command):
                with self.assertRaises(expect) as ctx:
                    shared_library_info.main()
        return ctx.exception.result


class TestLibraries(SharedLibraryInfoCase):
    def test_names_globs_and_patterns_on_the_container_cache(self):
        result = self.run_module(self.args(
            names=["libcudart", "libnvidia-ml", "libboost_*", "libcudnn*", "libopenblas"],
            patterns=[r"^libc\.so\.\d$", "caffe"],
        ))

        self.assertEqual(self.commands, [])
        self.assertFalse(result["changed"])
        self.assertEqual(result["cache_format"], "new")
        self.assertEqual(result["entry_count"], 127)
        self.assertEqual(result["missing"], ["libcudnn*", "caffe"])
        libs = result["libraries"]
        self.assertEqual([e["name"] for e in libs["libcudart"]], ["libcudart.so.11.0"])
        cudart = libs["libcudart"][0]
        self.assertEqual(cudart["path"], "/lib/x86_64-linux-gnu/libcudart.so.11.0")
        self.assertEqual((cudart["arch"], cudart["machine"], cudart["hwcap"]), ("libc6,x86-64", "x86-64", None))
        if not os.path.exists(cudart["path"]):
            # Not installed on this host: version from the cached name, no real path.
            self.assertEqual((cudart["version"], cudart["real_path"]), ("11.0", None))
        self.assertEqual([e["name"] for e in libs["libnvidia-ml"]], ["libnvidia-ml.so.1"])
        self.assertEqual([e["name"] for e in libs["libboost_*"]], ["libboost_system.so.1.74.0"])
        self.assertEqual([e["name"] for e in libs["libopenblas"]], ["libopenblas.so.0"])
        # Both ABIs of libc, 64-bit first as in the cache.
        self.assertEqual([(e["arch"], e["path"]) for e in libs[r"^libc\.so\.\d$"]], [
            ("libc6,x86-64", "/lib/x86_64-linux-gnu/libc.so.6"),
            ("libc6", "/lib/i386-linux-gnu/libc.so.6"),
        ])

    def test_a_name_with_so_is_its_own_glob(self):
        result = self.run_module(self.args(names=["libcudart.so.11.0", "libcudart.so.12", "libnvidia-*.so.1"]))
        self.assertEqual([e["name"] for e in result["libraries"]["libcudart.so.11.0"]], ["libcudart.so.11.0"])
        self.assertEqual([e["name"] for e in result["libraries"]["libnvidia-*.so.1"]], ["libnvidia-ml.so.1"])
        self.assertEqual(result["missing"], ["libcudart.so.12"])

    def test_real_path_and_version_come_from_the_resolved_file(self):
        lib_dir = self.mkdir("lib")
        self.write(os.path.join(lib_dir, "libcudnn.so.8.9.7"), b"\x7fELF")
        os.symlink("libcudnn.so.8.9.7", os.path.join(lib_dir, "libcudnn.so.8"))
        cache = self.write(os.path.join(self.tmp, "ld.so.cache"), build_new([
            ("libcudnn.so.8", os.path.join(lib_dir, "libcudnn.so.8"), 0x0303, 0),
            ("libcudnn_ops.so.8", os.path.join(lib_dir, "libcudnn_ops.so.8"), 0x0303, 0),
            ("libjvm.so", "/usr/lib/jvm/java-8-openjdk-amd64/jre/lib/amd64/server/libjvm.so", 0x0303, 0),
        ]))

        result = self.run_module(self.args(cache_path=cache, names=["libcudnn", "libcudnn*", "libjvm", "libhdfs"]))

        self.assertEqual(result["missing"], ["libhdfs"])
        cudnn = result["libraries"]["libcudnn"]
        self.assertEqual(len(cudnn), 1)
        self.assertEqual(cudnn[0]["real_path"], os.path.join(lib_dir, "libcudnn.so.8.9.7"))
        self.assertEqual(cudnn[0]["version"], "8.9.7")
        self.assertEqual([e["name"] for e in result["libraries"]["libcudnn*"]], ["libcudnn.so.8", "libcudnn_ops.so.8"])
        # Dangling cache entry: no real path, version from the cached name.
        ops = result["libraries"]["libcudnn*"][1]
        self.assertEqual((ops["real_path"], ops["version"]), (None, "8"))
        self.assertEqual(result["libraries"]["libjvm"][0]["version"], None)

    def test_stale_cache_entries_are_reported_with_the_remedy(self):
        libc = host_library("libc.so.6")
        if libc is None:
            self.skipTest("no libc.so.6 in this host's ld cache")
        lib_dir = self.mkdir("lib")
        # A real shared object (SONAME libc.so.6) stands in for every library file.
        shutil.copy(libc, os.path.join(lib_dir, "libc.so.6"))
        os.symlink("libc.so.6", os.path.join(lib_dir, "libcudnn.so.8"))        # replaced: another library
        os.symlink("libcudnn_ops.so.9.1.0", os.path.join(lib_dir, "libcudnn_ops.so.9"))  # target deleted
        os.symlink("libc.so.6", os.path.join(lib_dir, "libc.so"))              # link-time name: any SONAME
        self.mkdir("lib", "libcudnn_adv.so.9")
        gone = os.path.join(lib_dir, "libcudnn.so.9")                          # deleted, cache not rebuilt
        cache = self.write(os.path.join(self.tmp, "ld.so.cache"), build_new([
            (name, os.path.join(lib_dir, name), 0x0303, 0)
            for name in ("libcudnn.so.9", "libcudnn_ops.so.9", "libcudnn_adv.so.9", "libcudnn.so.8", "libc.so.6", "libc.so")
        ]))

        result = self.run_module(self.args(cache_path=cache, names=["libcudnn", "libcudnn*", "libc"]))

        self.assertEqual(result["missing"], [])
        by_name = {e["name"]: e for e in result["libraries"]["libcudnn*"] + result["libraries"]["libc"]}
        self.assertEqual({n: e["stale"] for n, e in by_name.items()}, {
            "libcudnn.so.9": True, "libcudnn_ops.so.9": True, "libcudnn_adv.so.9": True, "libcudnn.so.8": True,
            "libc.so.6": False, "libc.so": False,
        })
        self.assertEqual(by_name["libcudnn.so.9"]["stale_reason"],
                         "stale ld cache entry: %s does not exist (run ldconfig)" % gone)
        self.assertEqual(by_name["libcudnn_ops.so.9"]["stale_reason"],
                         "stale ld cache entry: %s/libcudnn_ops.so.9 is a dangling symlink (to libcudnn_ops.so.9.1.0) "
                         "(run ldconfig)" % lib_dir)
        self.assertEqual(by_name["libcudnn_adv.so.9"]["stale_reason"],
                         "stale ld cache entry: %s/libcudnn_adv.so.9 is not a file (run ldconfig)" % lib_dir)
        self.assertEqual(by_name["libcudnn.so.8"]["stale_reason"],
                         "stale ld cache entry: %s/libcudnn.so.8 is now libc.so.6 (its SONAME), not libcudnn.so.8 "
                         "(run ldconfig)" % lib_dir)
        self.assertEqual(by_name["libcudnn.so.8"]["soname"], "libc.so.6")
        self.assertEqual((by_name["libc.so.6"]["soname"], by_name["libc.so.6"]["stale_reason"]), ("libc.so.6", None))
        self.assertEqual(by_name["libc.so"]["soname"], "libc.so.6")
        # Each stale entry once, though two queries match libcudnn.so.9 and .8; in query order.
        self.assertEqual([e["name"] for e in result["stale_entries"]],
                         ["libcudnn.so.9", "libcudnn.so.8", "libcudnn_ops.so.9", "libcudnn_adv.so.9"])
        self.assertEqual(result["stale_entries"][0],
                         {"name": "libcudnn.so.9", "path": gone, "reason": by_name["libcudnn.so.9"]["stale_reason"]})

    def test_old_and_compat_caches_report_their_format(self):
        for name, fmt in (("container-debian12-old.cache", "old"), ("container-debian12-compat.cache", "old+new")):
            result = self.run_module(self.args(cache_path=fixture("ldcache", name), names=["libnvidia-ml"]))
            self.assertEqual(result["cache_format"], fmt)
            self.assertEqual(result["entry_count"], 127)
            self.assertEqual([e["path"] for e in result["libraries"]["libnvidia-ml"]],
                             ["/lib/x86_64-linux-gnu/libnvidia-ml.so.1"])

    def test_invalid_regex_fails_before_reading_anything(self):
        result = self.run_module(self.args(patterns=["^libcud", "libcudnn(.so"], cache_path="/nonexistent"),
                                 expect=AnsibleFailJson)

        self.assertIn("patterns[1] 'libcudnn(.so' is not a valid regular expression", result["msg"])
        self.assertEqual(self.commands, [])


class TestFallback(SharedLibraryInfoCase):
    def test_unparsable_cache_falls_back_to_ldconfig_p(self):
        bad = self.write(os.path.join(self.tmp, "ld.so.cache"), b"\0" * 64)
        ldconfig_out = fixture_text("ldcache", "host-debian12.ldconfig-p.txt")

        result = self.run_module(self.args(cache_path=bad, names=["libz", "libstdc++"]),
                                 answers={("-p", "-C", bad): (0, ldconfig_out, "")})

        self.assertEqual(len(self.commands), 1)
        self.assertTrue(self.commands[0][0].endswith("ldconfig"))
        self.assertEqual(result["cache_format"], "ldconfig")
        self.assertIn("not an ld.so.cache", result["cache_error"])
        # The fallback sees exactly what the parser sees in the same cache.
        parsed = ldcache.read_cache(fixture("ldcache", "host-debian12.cache"))
        self.assertEqual(result["entry_count"], len(parsed.entries))
        self.assertEqual([e["path"] for e in result["libraries"]["libz"]],
                         [e.path for e in parsed.entries if e.name.startswith("libz.so")])
        self.assertEqual(result["libraries"]["libstdc++"][0]["name"], "libstdc++.so.6")

    def test_fallback_failure_names_both_problems(self):
        missing = os.path.join(self.tmp, "absent.cache")

        result = self.run_module(self.args(cache_path=missing), expect=AnsibleFailJson,
                                 answers={("-p", "-C", missing): (1, "", "ldconfig: Can't open cache file %s\n" % missing)})

        self.assertIn("No such file or directory", result["msg"])
        self.assertIn("ldconfig -p failed (rc=1): ldconfig: Can't open cache file", result["msg"])


class TestCudaAndCudnn(SharedLibraryInfoCase):
    def test_cuda_versions_from_json_txt_and_nvcc(self):
        json_home = self.mkdir("cuda-12.8")
        shutil.copy(fixture("cuda", "version.json"), json_home)
        os.symlink(json_home, os.path.join(self.tmp, "cuda"))
        txt_home = self.mkdir("cuda-10.2")
        shutil.copy(fixture("cuda", "version.txt"), txt_home)
        nvcc_home = self.mkdir("cuda-13.0")
        nvcc = self.write(os.path.join(nvcc_home, "bin", "nvcc"), "#!/bin/sh\n", mode=stat.S_IRWXU)
        empty_home = self.mkdir("cuda-empty")

        result = self.run_module(
            self.args(cuda_homes=[os.path.join(self.tmp, "cuda"), json_home, txt_home, nvcc_home, empty_home,
                                  os.path.join(self.tmp, "absent")]),
            answers={("--version",): (0, fixture_text("cuda", "nvcc-version.txt"), "")})

        self.assertEqual(self.commands, [[nvcc, "--version"]])
        self.assertEqual(result["cuda"], [
            # The symlink and its target are one toolkit: reported once, under the first name.
            {"home": os.path.join(self.tmp, "cuda"), "real_home": json_home, "version": "12.8.2", "source": "version.json"},
            {"home": txt_home, "real_home": txt_home, "version": "10.2.89", "source": "version.txt"},
            {"home": nvcc_home, "real_home": nvcc_home, "version": "13.0.88", "source": "nvcc"},
        ])

    def test_version_json_prefers_the_release_over_cudart(self):
        # CUDA 12.4 Update 1 (driver >= 550.54.15) and 12.4 GA (>= 550.54.14): only "cuda" tells them apart.
        home = self.mkdir("cuda")
        self.write(os.path.join(home, "version.json"),
                   '{"cuda": {"name": "CUDA SDK", "version": "12.4.1"},'
                   ' "cuda_cudart": {"name": "CUDA Runtime (cudart)", "version": "12.4.127"}}')
        result = self.run_module(self.args(cuda_homes=[home]))
        self.assertEqual([c["version"] for c in result["cuda"]], ["12.4.1"])
        # The version read is what dl_stack_compat judges: 550.54.14 no longer counts as enough.
        check = compat.check_stack({"driver_version": "550.54.14", "cuda_version": result["cuda"][0]["version"]})
        driver_cuda = [c for c in check["checks"] if c["pair"] == "driver/cuda"][0]
        self.assertEqual(driver_cuda["status"], "minor_version_compat")
        self.assertIn("needs driver >= 550.54.15 (CUDA 12.4 Update 1)", driver_cuda["reason"])

    def test_version_json_without_the_release_uses_cudart(self):
        home = self.mkdir("cuda")
        self.write(os.path.join(home, "version.json"), '{"cuda_cudart": {"name": "CUDA Runtime (cudart)", "version": "11.8.89"}}')
        result = self.run_module(self.args(cuda_homes=[home]))
        self.assertEqual([(c["version"], c["source"]) for c in result["cuda"]], [("11.8.89", "version.json")])

    def test_version_json_without_cudart_uses_the_sdk_key(self):
        home = self.mkdir("cuda")
        self.write(os.path.join(home, "version.json"), '{"cuda": {"name": "CUDA SDK", "version": "11.8.0"}}')
        result = self.run_module(self.args(cuda_homes=[home]))
        self.assertEqual([(c["version"], c["source"]) for c in result["cuda"]], [("11.8.0", "version.json")])

    def test_cudnn_version_header_from_the_wheel(self):
        include = self.mkdir("cuda", "include")
        shutil.copy(fixture("cudnn", "cudnn_version.h"), include)
        result = self.run_module(self.args(cudnn_include_dirs=[self.mkdir("empty"), include]))
        self.assertEqual(result["cudnn"], {"version": "9.27.0", "header": os.path.join(include, "cudnn_version.h")})

    def test_default_include_dirs_follow_the_cuda_homes(self):
        home = self.mkdir("cuda")
        shutil.copy(fixture("cudnn", "cudnn_version.h"), self.mkdir("cuda", "include"))
        args = self.args(cuda_homes=[home])
        del args["cudnn_include_dirs"]
        result = self.run_module(args)
        self.assertEqual(result["cudnn"]["header"], os.path.join(home, "include", "cudnn_version.h"))

    def test_cudnn7_macros_in_cudnn_h(self):
        include = self.mkdir("include")
        # cuDNN 7 kept the version macros in cudnn.h itself.
        self.write(os.path.join(include, "cudnn.h"),
                   "#if !defined(CUDNN_H_)\n#define CUDNN_H_\n\n#define CUDNN_MAJOR 7\n#define CUDNN_MINOR 6\n"
                   "#define CUDNN_PATCHLEVEL 5\n\n#define CUDNN_VERSION (CUDNN_MAJOR * 1000 + CUDNN_MINOR * 100 + "
                   "CUDNN_PATCHLEVEL)\n")
        result = self.run_module(self.args(cudnn_include_dirs=[include]))
        self.assertEqual(result["cudnn"], {"version": "7.6.5", "header": os.path.join(include, "cudnn.h")})

    def test_cudnn8_cudnn_h_without_macros_is_skipped(self):
        include = self.mkdir("include")
        self.write(os.path.join(include, "cudnn.h"), '#include "cudnn_version.h"\n')
        result = self.run_module(self.args(cudnn_include_dirs=[include]))
        self.assertIsNone(result["cudnn"])


class TestBinariesAndConf(SharedLibraryInfoCase):
    def test_ldd_missing_static_and_not_elf(self):
        openblas = self.write(os.path.join(self.tmp, "libopenblas.so.0"), b"\x7fELF")
        static = self.write(os.path.join(self.tmp, "ldconfig"), b"\x7fELF")
        text = self.write(os.path.join(self.tmp, "hostname"), "box\n")
        absent = os.path.join(self.tmp, "absent")

        result = self.run_module(self.args(binaries=[openblas, static, text, absent]), answers={
            (openblas,): (0, fixture_text("ldd", "ldd-openblas-not-found.txt"), ""),
            (static,): (0, fixture_text("ldd", "ldd-ldconfig-static.txt"), ""),
            (text,): (1, "", fixture_text("ldd", "ldd-not-elf.txt")),
        })

        self.assertEqual([c[1:] for c in self.commands], [[openblas], [static], [text]])
        self.assertTrue(self.commands[0][0].endswith("ldd"))
        self.assertEqual(result["binaries"], {
            openblas: {"ok": False, "missing": ["libgfortran.so.5"], "dynamic": True},
            static: {"ok": True, "missing": [], "dynamic": False},
            text: {"ok": False, "missing": [], "dynamic": False, "error": "not a dynamic executable"},
            absent: {"ok": False, "missing": [], "dynamic": None, "error": "file does not exist"},
        })

    def test_ldd_runs_in_the_c_locale_whatever_the_node_uses(self):
        # ldd prints "not a dynamic executable" through gettext; the match above needs the C text.
        text = self.write(os.path.join(self.tmp, "hostname"), "box\n")
        environments = []

        def run_command(module, argv, environ_update=None, **kwargs):
            if os.path.basename(argv[0]) == "locale":  # AnsibleModule itself, checking the unknown de_DE
                return 0, "C\nC.utf8\nPOSIX\n", ""
            environments.append(environ_update)
            return 1, "", fixture_text("ldd", "ldd-not-elf.txt")

        with set_module_args(self.args(binaries=[text])), patch.dict(os.environ, {"LANGUAGE": "de", "LC_ALL": "de_DE.UTF-8"}):
            with patch.object(basic.AnsibleModule, "run_command", autospec=True, side_effect=run_command):
                with self.assertRaises(AnsibleExitJson) as ctx:
                    shared_library_info.main()
        self.assertEqual(environments, [{"LANGUAGE": "C", "LC_ALL": "C"}])
        self.assertEqual(ctx.exception.result["binaries"][text]["error"], "not a dynamic executable")

    def test_ldd_error_is_reported_per_binary(self):
        prog = self.write(os.path.join(self.tmp, "prog"), b"\x7fELF")
        result = self.run_module(self.args(binaries=[prog]), answers={(prog,): (1, "", "ldd: prog: Permission denied\n")})
        self.assertEqual(result["binaries"][prog]["error"], "ldd failed (rc=1): ldd: prog: Permission denied")
        self.assertFalse(result["binaries"][prog]["ok"])

    def test_ld_so_conf_and_stale_dirs(self):
        present = self.mkdir("usr", "local", "cuda-11.8", "lib64")
        stale = os.path.join(self.tmp, "usr", "local", "cuda-10.0", "lib64")
        cuda_conf = self.write(os.path.join(self.conf_dir, "cuda.conf"),
                               "# CUDA from the runfile\n%s\n\n%s  # removed with 10.0\n" % (present, stale))
        extra = self.write(os.path.join(self.tmp, "extra.d", "jvm.conf"), "/usr/lib/jvm/absent/server\n")
        include_conf = self.write(os.path.join(self.conf_dir, "include.conf"),
                                  "include %s\n" % os.path.join(self.tmp, "extra.d", "*.conf"))
        self.write(os.path.join(self.conf_dir, "README"), "/not/a/conf/file\n")

        result = self.run_module(self.args())

        self.assertEqual(result["ld_so_conf"], {
            cuda_conf: [present, stale],
            include_conf: ["/usr/lib/jvm/absent/server"],
        })
        self.assertNotIn(extra, result["ld_so_conf"])
        self.assertEqual(result["stale_ld_so_conf_dirs"], sorted([stale, "/usr/lib/jvm/absent/server"]))

    def test_check_mode_reports_the_same(self):
        args = self.args(names=["libopenblas"], _ansible_check_mode=True)
        result = self.run_module(args)
        self.assertFalse(result["changed"])
        self.assertEqual(result["libraries"]["libopenblas"][0]["name"], "libopenblas.so.0")
