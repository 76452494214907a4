# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nvidia_driver, cuda and cudnn roles on the OS paths molecule cannot converge here.

Runs the real ``ansible-playbook`` (the one beside this Python) against localhost:

* ``playbooks/plan.yml`` loads each role's ``vars/`` for another OS (Debian, Ubuntu,
  EL 8/9 facts set in place of gathered ones), runs the roles' own validation and
  planning tasks, renders their templates and the yum repository into a temporary
  directory, and the tests assert package names, versions, pins and file contents.
* ``playbooks/run_role.yml`` runs a whole role in check mode with bad input and the
  tests assert it fails with a clear message before any task changed anything.
* Every tasks file is syntax-checked.

Skipped only when ansible-playbook is not installed beside the interpreter.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
COLLECTION = HERE.parents[2]
ROLES = ("nvidia_driver", "cuda", "cudnn")


def _ansible_playbook():
    beside = pathlib.Path(sys.executable).parent / "ansible-playbook"
    if beside.exists():
        return str(beside)
    return shutil.which("ansible-playbook")


ANSIBLE_PLAYBOOK = _ansible_playbook()
pytestmark = pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible-playbook is not installed")


def _collections_path():
    # ansible-test copies the collection to .../ansible_collections/dlstack/cdh; a plain
    # checkout has ansible_collections/dlstack/cdh linked inside it (make link).
    if COLLECTION.parent.parent.name == "ansible_collections":
        return str(COLLECTION.parent.parent.parent)
    return str(COLLECTION)


def _env(tmp_path):
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=_collections_path(),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "local"),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / "remote"),
        ANSIBLE_RETRY_FILES_ENABLED="false",
        # Pipelining: one process per module.
        ANSIBLE_PIPELINING="1",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_STDOUT_CALLBACK="default",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        PATH=os.pathsep.join([str(pathlib.Path(sys.executable).parent), env.get("PATH", "")]),
    )
    env.pop("ANSIBLE_CONFIG", None)
    return env


def _run(tmp_path, playbook, extra_vars, *args):
    vars_file = tmp_path / "extra_vars.json"
    # Modules on localhost run under this interpreter, not whatever discovery finds.
    vars_file.write_text(json.dumps(dict(extra_vars, ansible_python_interpreter=sys.executable)))
    argv = [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-e", "@%s" % vars_file, *args, str(playbook)]
    return subprocess.run(argv, env=_env(tmp_path), cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False)


def _facts(distribution, version, os_family, release=""):
    return {
        "distribution": distribution,
        "distribution_version": version,
        "distribution_major_version": version.split(".")[0],
        "distribution_release": release,
        "os_family": os_family,
        "kernel": "5.14.0-427.13.1.el9_4.x86_64" if os_family == "RedHat" else "6.8.0-31-generic",
        "architecture": "x86_64",
    }


def _plan(tmp_path, facts, **role_vars):
    out = tmp_path / "out"
    out.mkdir()
    extra = {"test_facts": facts, "out_dir": str(out), "_common_yum_reposdir": str(out)}
    extra.update(role_vars)
    result = _run(tmp_path, HERE / "playbooks" / "plan.yml", extra)
    assert result.returncode == 0, result.stdout + result.stderr
    plan = json.loads((out / "plan.json").read_text())
    files = {p.name: p.read_text() for p in out.iterdir() if p.name != "plan.json"}
    return plan, files


MIRROR = "http://mirror.example.internal/cuda/repos/"


def test_debian12_distro_driver_pins_every_driver_package(tmp_path):
    plan, files = _plan(
        tmp_path, _facts("Debian", "12.5", "Debian", "bookworm"),
        nvidia_driver_method="distro", nvidia_driver_version="535.183.01",
        nvidia_driver_module_options={"NVreg_PreserveVideoMemoryAllocations": 1, "NVreg_EnableGpuFirmware": 0},
        cuda_method="distro", cuda_versions=["11.8"], cudnn_cuda_version="11.8", cudnn_version="8.9.5.29",
        cudnn_source="wheel",
    )
    driver = plan["nvidia_driver"]
    assert driver["pkg_mgr"] == "apt"
    for name in ("nvidia-driver", "nvidia-kernel-dkms", "nvidia-smi", "libnvidia-ml1"):
        assert "%s=535.183.01-*" % name in driver["install"]
        assert name in driver["held"]
    # Companions with versions of their own are installed but not pinned to the driver's.
    assert "firmware-misc-nonfree" in driver["install"]
    assert "firmware-misc-nonfree" not in driver["held"]
    assert "linux-headers-6.8.0-31-generic" in driver["install"] and "dkms" in driver["install"]
    assert driver["initramfs"] == ["update-initramfs", "-u"]
    # Debian's nvidia-kernel-dkms is registered as nvidia-current, so that is what dkms status asks for.
    assert driver["dkms_name"] == "nvidia-current"
    # Debian's persistenced unit turns persistence mode on by itself: no drop-in.
    assert "nvidia-persistenced.conf" not in files
    assert files["nvidia.conf"].splitlines()[-1] == (
        "options nvidia NVreg_EnableGpuFirmware=0 NVreg_PreserveVideoMemoryAllocations=1")
    assert "blacklist nouveau" in files["blacklist-nouveau.conf"].splitlines()
    assert "options nouveau modeset=0" in files["blacklist-nouveau.conf"].splitlines()
    assert plan["cuda"]["home"] == "/usr/lib/cuda"
    assert plan["cuda"]["distro_package"] == "nvidia-cuda-toolkit"
    assert plan["cudnn"]["wheel"] == "nvidia-cudnn-cu11"
    assert plan["cudnn"]["lib_dir"] == "/usr/lib/cuda/lib64"
    assert plan["cudnn"]["wanted"] == "8.9.5"


def test_ubuntu2204_nvidia_repo_signed_by_keyring_and_branch_packages(tmp_path):
    plan, files = _plan(
        tmp_path, _facts("Ubuntu", "22.04", "Debian", "jammy"),
        nvidia_driver_method="nvidia_repo", nvidia_driver_branch="550", nvidia_driver_version="550.54.15",
        nvidia_driver_repo_base_url=MIRROR,
        cuda_method="nvidia_repo", cuda_versions=["12.4"], cudnn_source="repo", cudnn_cuda_version="12.4",
        cudnn_version="9.10.2.21",
    )
    driver = plan["nvidia_driver"]
    assert driver["repo_url"] == "http://mirror.example.internal/cuda/repos/ubuntu2204/x86_64"
    deb_lines = [line for line in files["cuda.list"].splitlines() if line.startswith("deb ")]
    assert deb_lines == [
        "deb [signed-by=/usr/share/keyrings/cuda-archive-keyring.gpg arch=amd64] "
        "http://mirror.example.internal/cuda/repos/ubuntu2204/x86_64/ /"
    ]
    assert "cuda-drivers-550=550.54.15-*" in driver["install"]
    assert "nvidia-utils-550=550.54.15-*" in driver["install"]
    assert "nvidia-driver-550" in driver["held"]
    assert driver["dkms_name"] == "nvidia"
    # Ubuntu's unit runs nvidia-persistenced --no-persistence-mode: the drop-in replaces ExecStart.
    assert files["nvidia-persistenced.conf"].splitlines()[-3:] == [
        "[Service]", "ExecStart=",
        "ExecStart=/usr/bin/nvidia-persistenced --user nvidia-persistenced --persistence-mode --verbose"]
    assert plan["cuda"]["repo_packages"] == ["cuda-toolkit-12-4"]
    assert plan["cuda"]["home"] == "/usr/local/cuda"
    assert plan["cudnn"]["repo_packages"][0] == "cudnn9-cuda-12=9.10.2.21-1"
    assert plan["cudnn"]["repo_held"][0] == "cudnn9-cuda-12"
    assert plan["cudnn"]["include_dir"] == "/usr/include"


def test_ubuntu2404_distro_names_packages_by_branch(tmp_path):
    plan = _plan(
        tmp_path, _facts("Ubuntu", "24.04", "Debian", "noble"),
        nvidia_driver_method="distro", nvidia_driver_branch="550",
        cuda_method="distro", cuda_versions=["12.0"], cudnn_cuda_version="12.0", cudnn_version="9.10.2.21",
    )[0]
    driver = plan["nvidia_driver"]
    # No exact version: plain names, held at whatever gets installed.
    assert driver["install"][:2] == ["nvidia-utils-550", "libnvidia-compute-550"]
    assert "nvidia-driver-550" in driver["install"]
    assert driver["held"] == ["nvidia-utils-550", "libnvidia-compute-550", "nvidia-driver-550", "nvidia-dkms-550"]
    assert plan["cudnn"]["wheel"] == "nvidia-cudnn-cu12"


@pytest.mark.parametrize("major", ["8", "9"])
def test_el8_el9_repo_module_stream_versionlock_and_yum_repo(tmp_path, major):
    plan, files = _plan(
        tmp_path, _facts("Rocky", "%s.9" % major, "RedHat"),
        nvidia_driver_method="nvidia_repo", nvidia_driver_branch="535", nvidia_driver_version="535.183.01",
        nvidia_driver_repo_base_url=MIRROR,
        cuda_method="nvidia_repo", cuda_versions=["11.8", "12.2"], cuda_default_version="12.2",
        cudnn_source="repo", cudnn_cuda_version="12.2", cudnn_version="8.9.5.29",
    )
    driver = plan["nvidia_driver"]
    assert driver["pkg_mgr"] == "dnf"
    assert driver["module_stream"] == "nvidia-driver:535-dkms"
    assert "nvidia-driver-535.183.01" in driver["install"]
    assert "kmod-nvidia-latest-dkms-535.183.01" in driver["install"]
    assert "nvidia-driver-cuda-535.183.01*" in driver["locks"]
    assert "kernel-devel-5.14.0-427.13.1.el9_4.x86_64" in driver["install"]
    assert driver["initramfs"] == ["dracut", "-f"]
    assert driver["dkms_name"] == "nvidia"
    repo = files["cuda.repo"]
    assert "[cuda-rhel%s-x86_64]" % major in repo
    assert "baseurl = http://mirror.example.internal/cuda/repos/rhel%s/x86_64/" % major in repo
    assert "gpgcheck = 1" in repo
    assert "gpgkey = http://mirror.example.internal/cuda/repos/rhel%s/x86_64/D42D0685.pub" % major in repo
    cuda = plan["cuda"]
    assert cuda["repo_packages"] == ["cuda-toolkit-11-8", "cuda-toolkit-12-2"]
    # Every component of those toolkits is held, not only the meta packages; nothing shared between versions.
    component = re.compile(cuda["component_regex"])
    for name in ("cuda-nvcc-12-2", "libcublas-12-2", "libcufft-devel-11-8", "libnpp-11-8", "libnvjitlink-12-2",
                 "cuda-toolkit-12-2", "gds-tools-12-2"):
        assert component.match(name), name
    for name in ("cuda-toolkit-12-config-common", "libnvidia-compute-550", "cuda-nvcc-12-1", "cuda-drivers"):
        assert not component.match(name), name
    assert cuda["component_patterns"][:2] == ["cuda-*-11-8", "cuda-*-12-2"]
    assert cuda["homes"] == {"11.8": "/usr/local/cuda-11.8", "12.2": "/usr/local/cuda-12.2"}
    assert "export CUDA_HOME=/usr/local/cuda" in files["cuda.sh"].splitlines()
    assert '${CUDA_HOME}/lib64' in files["cuda.sh"]
    assert plan["cudnn"]["repo_packages"] == [
        "libcudnn8-8.9.5.29-1.cuda12.2", "libcudnn8-devel-8.9.5.29-1.cuda12.2"]


def test_el7_is_refused_before_anything_with_the_reason(tmp_path):
    """ansible-core 2.19 cannot manage EL 7's Python 3.6: every GPU role refuses it in its OS data step."""
    with pytest.raises(AssertionError) as refused:
        _plan(tmp_path, _facts("CentOS", "7.9", "RedHat"), nvidia_driver_method="nvidia_repo",
              nvidia_driver_branch="535", nvidia_driver_version="535.183.01")
    assert "CentOS 7.9 is not supported: ansible-core 2.19 manages targets with Python 3.8 or later" in \
        " ".join(str(refused.value).split())


BAD_INPUT = [
    pytest.param("nvidia_driver", {"nvidia_driver_method": "magic"},
                 r"nvidia_driver_method.*magic", id="driver-unknown-method"),
    pytest.param("nvidia_driver", {"nvidia_driver_method": "runfile", "nvidia_driver_version": "535.183.01",
                                   "nvidia_driver_runfile_src": "https://example.invalid/NVIDIA.run"},
                 r"nvidia_driver_runfile_sha256 = .{0,6} \(a string\): expected the runfile's sha256, 64 hex digits",
                 id="driver-runfile-without-sha256"),
    pytest.param("nvidia_driver", {"nvidia_driver_version": "latest-and-greatest"},
                 r"nvidia_driver_version = .{0,2}latest-and-greatest.{0,2} \(a string\): expected empty or dotted numbers",
                 id="driver-version-garbage"),
    pytest.param("nvidia_driver", {"nvidia_driver_version": "550.54.15", "nvidia_driver_branch": "535"},
                 r"expected a version of nvidia_driver_branch 535, such as 535\.183\.01", id="driver-version-other-branch"),
    pytest.param("cuda", {"cuda_method": "nvidia_repo", "cuda_versions": ["12.4"], "cuda_driver_version": "470.57.02"},
                 r"refusing CUDA 12\.4 with driver 470\.57\.02: CUDA 12\.4 needs driver >= 550", id="cuda-newer-than-driver"),
    pytest.param("cuda", {"cuda_method": "teleport"}, r"cuda_method.*teleport", id="cuda-unknown-method"),
    pytest.param("cuda", {"cuda_versions": ["eleven"]},
                 r"cuda_versions = \[.{0,2}eleven.{0,2}\] \(a list\): expected major\.minor versions such as 11\.8 \(these are not\)",
                 id="cuda-version-garbage"),
    pytest.param("cuda", {"cuda_method": "runfile", "cuda_versions": ["12.4"], "cuda_driver_version": "550.54.15",
                          "cuda_runfiles": [{"version": "12.4", "src": "https://example.invalid/cuda.run", "sha256": ""}]},
                 r"cuda_runfiles = \[.{0,2}12\.4.{0,2}\] \(a list\): expected an entry \{version, src,"
                 r" sha256 \(64 hex digits\)\} for every version",
                 id="cuda-runfile-without-sha256"),
    pytest.param("cudnn", {"cudnn_cuda_version": "10.2", "cudnn_version": "9.10.2.21", "cudnn_source": "tarball",
                           "cudnn_tarball_src": "/srv/cudnn.tar.xz", "cudnn_tarball_sha256": "b" * 64},
                 r"cudnn_version = .{0,2}9\.10\.2\.21.{0,2} \(a string\): expected a cuDNN"
                 r" release that supports CUDA 10\.2 \(.*not 10\.2",
                 id="cudnn-major-mismatch"),
    pytest.param("cudnn", {"cudnn_cuda_version": "11.8", "cudnn_version": "7.6.5", "cudnn_source": "tarball",
                           "cudnn_tarball_src": "/srv/cudnn.tgz", "cudnn_tarball_sha256": "c" * 64},
                 r"cudnn_version = .{0,2}7\.6\.5.{0,2} \(a string\): expected a cuDNN release that"
                 r" supports CUDA 11\.8 \(.*11\.8 is not among them",
                 id="cudnn-too-old-for-cuda"),
    pytest.param("cudnn", {"cudnn_cuda_version": "11.8", "cudnn_source": "tarball"},
                 r"cudnn_tarball_src = .{0,6} \(a string\): expected the tarball's URL or path on the target", id="cudnn-tarball-without-sha256"),
    pytest.param("cudnn", {"cudnn_cuda_version": "11.8", "cudnn_version": "9.x"},
                 r"cudnn_version = .{0,2}9\.x.{0,2} \(a string\): expected three or four dotted numbers", id="cudnn-version-garbage"),
    pytest.param("cudnn", {"cudnn_cuda_version": "12.4", "cudnn_wheel_package": "nvidia-cudnn-cu11"},
                 r"cudnn_wheel_package = .{0,2}nvidia-cudnn-cu11.{0,2} \(a string\): expected"
                 r" nvidia-cudnn-cu12, the wheel built for CUDA 12\.x",
                 id="cudnn-wheel-other-cuda-major"),
    pytest.param("cudnn", {"cudnn_source": "conda", "cudnn_cuda_version": "11.8"},
                 r"cudnn_source.*conda", id="cudnn-unknown-source"),
]


@pytest.mark.parametrize("role, role_vars, message", BAD_INPUT)
def test_bad_input_fails_clearly_before_any_change(tmp_path, role, role_vars, message):
    extra = {"test_role": role}
    extra.update(role_vars)
    result = _run(tmp_path, HERE / "playbooks" / "run_role.yml", extra, "--check")
    output = re.sub(r"\s+", " ", result.stdout + result.stderr)
    assert result.returncode != 0, output
    assert re.search(message, output), output
    recap = re.search(r"localhost\s*:\s*ok=\d+\s+changed=(\d+)", result.stdout)
    assert recap and recap.group(1) == "0", result.stdout


@pytest.mark.parametrize("role", ROLES)
def test_every_tasks_file_passes_syntax_check(tmp_path, role):
    tasks = sorted(p.name for p in (COLLECTION / "roles" / role / "tasks").glob("*.yml"))
    assert "main.yml" in tasks
    playbook = tmp_path / "syntax.yml"
    playbook.write_text(json.dumps([{
        "name": "Syntax of every tasks file of %s" % role,
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [{"name": name, "ansible.builtin.import_role": {"name": "dlstack.cdh.%s" % role, "tasks_from": name}}
                  for name in tasks],
    }]))
    result = _run(tmp_path, playbook, {}, "--syntax-check")
    assert result.returncode == 0, result.stdout + result.stderr


GPU_PCI = [{"address": "0000:18:00.0", "device_id": "0x2330", "class": "0x030200", "driver": "nvidia"}]


def _gpu_info(loaded, in_container=False):
    """nvidia_gpu_info's answer on a GPU host whose loaded module (and NVML) is ``loaded``."""
    return {"status": "ok", "driver_version": loaded, "kernel_module_version": loaded, "nvidia_module_loaded": bool(loaded),
            "nouveau_loaded": False, "pci_devices": GPU_PCI, "in_container": in_container}


def _driver_state(tmp_path, facts, gpu_info, packages=None, nvml_files=(), **role_vars):
    out = tmp_path / "out"
    out.mkdir()
    extra = {"test_facts": dict(facts, packages=packages or {}), "test_gpu_info": gpu_info,
             "test_nvml_files": [{"path": p} for p in nvml_files], "out_dir": str(out)}
    extra.update(role_vars)
    result = _run(tmp_path, HERE / "playbooks" / "driver_state.yml", extra)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((out / "state.json").read_text()), result.stdout


def _dkms_state(tmp_path, facts, status_lines, kernels=("6.8.0-31-generic",), **role_vars):
    """kernel.yml against a `dkms` that prints status_lines, with these kernels installed;
    (the role's state: missing and kernels, argv dkms got, output)."""
    out, fake_bin, boot = tmp_path / "out", tmp_path / "bin", tmp_path / "boot"
    out.mkdir()
    fake_bin.mkdir()
    boot.mkdir()
    for kernel in kernels:
        (boot / ("vmlinuz-" + kernel)).write_text("not a kernel image")
    # A leftover modules directory of a removed kernel is in /lib/modules, not /boot: no image here.
    (boot / "config-6.9.0-99-generic").write_text("")
    dkms = fake_bin / "dkms"
    dkms.write_text("#!/bin/sh\necho \"$*\" >> %s/dkms-argv\nprintf '%%s' '%s'\n" % (
        out, "".join(line + "\n" for line in status_lines)))
    dkms.chmod(0o755)
    extra = {"test_facts": facts, "out_dir": str(out), "fake_bin": str(fake_bin),
             "ansible_env_path": os.environ["PATH"], "_nvidia_driver_boot_dir": str(boot)}
    extra.update(role_vars)
    result = _run(tmp_path, HERE / "playbooks" / "dkms_state.yml", extra)
    assert result.returncode == 0, result.stdout + result.stderr
    state = json.loads((out / "state.json").read_text())
    return state, (out / "dkms-argv").read_text().split(), re.sub(r"\s+", " ", result.stdout)


@pytest.mark.parametrize("lines, missing", [
    (["nvidia-current/535.183.01, 6.8.0-31-generic, x86_64: installed"], False),
    (["nvidia-current, 535.183.01, 6.8.0-31-generic, x86_64: installed"], False),
    # Built for the old kernel only: the running one lacks it.
    (["nvidia-current/535.183.01, 6.8.0-30-generic, x86_64: installed"], True),
    # Not registered with DKMS at all.
    ([], True),
])
def test_debian_dkms_status_asks_for_nvidia_current(tmp_path, lines, missing):
    state, argv, output = _dkms_state(tmp_path, _facts("Debian", "12.5", "Debian", "bookworm"), lines,
                                      nvidia_driver_method="distro")
    assert argv == ["status", "nvidia-current"]
    assert state["missing"] is missing
    if missing:
        assert "DKMS has no nvidia-current module for kernel 6.8.0-31-generic (running 6.8.0-31-generic," in output


def test_a_newer_kernel_booted_next_needs_the_module_too(tmp_path):
    # Built for the running kernel only; a kernel update is installed and boots next.
    state, argv, output = _dkms_state(
        tmp_path, _facts("Ubuntu", "24.04", "Debian", "noble"),
        ["nvidia/550.54.15, 6.8.0-31-generic, x86_64: installed"],
        kernels=("6.8.0-31-generic", "6.8.0-40-generic", "6.8.0-9-generic"), nvidia_driver_method="distro")
    assert argv == ["status", "nvidia"]
    assert state["missing"] is True and state["kernels"] == ["6.8.0-40-generic"]
    assert ("DKMS has no nvidia module for kernel 6.8.0-40-generic (running 6.8.0-31-generic, "
            "booted next 6.8.0-40-generic;") in output


def test_runfile_dkms_module_is_nvidia_on_every_os(tmp_path):
    state, argv, dummy = _dkms_state(tmp_path, _facts("Debian", "12.5", "Debian", "bookworm"),
                                     ["nvidia/535.183.01, 6.8.0-31-generic, x86_64: installed"],
                                     nvidia_driver_method="runfile")
    assert argv == ["status", "nvidia"] and state["missing"] is False


@pytest.mark.parametrize("enabled, calls", [
    # Another branch enabled: reset, then enable the wanted one.
    (["nvidia-driver  535-dkms [e]  default [d], fm, ks, src  Nvidia driver for 535-dkms branch"],
     ["-q module list --enabled nvidia-driver", "-y module reset nvidia-driver",
      "-y module enable nvidia-driver:550-dkms"]),
    # The module's default stream enabled ("[d][e]"): reset too.
    (["nvidia-driver  latest-dkms [d][e]  default [d], fm, ks, src  Nvidia driver for latest-dkms branch"],
     ["-q module list --enabled nvidia-driver", "-y module reset nvidia-driver",
      "-y module enable nvidia-driver:550-dkms"]),
    # Nothing enabled yet: enable only.
    ([], ["-q module list --enabled nvidia-driver", "-y module enable nvidia-driver:550-dkms"]),
    # The wanted stream is enabled already: nothing to do.
    (["nvidia-driver  550-dkms [e]  default [d], fm, ks, src  Nvidia driver for 550-dkms branch"],
     ["-q module list --enabled nvidia-driver"]),
])
def test_el_branch_change_resets_the_module_before_enabling_the_stream(tmp_path, enabled, calls):
    out, fake_bin = tmp_path / "out", tmp_path / "bin"
    out.mkdir()
    fake_bin.mkdir()
    dnf = fake_bin / "dnf"
    dnf.write_text("#!/bin/sh\necho \"$*\" >> %s/dnf-argv\ncase \"$*\" in *list*) printf '%%s' '%s';; esac\n" % (
        out, "".join(line + "\n" for line in enabled)))
    dnf.chmod(0o755)
    result = _run(tmp_path, HERE / "playbooks" / "module_stream.yml", {
        "test_facts": _facts("Rocky", "9.4", "RedHat"), "fake_bin": str(fake_bin),
        "ansible_env_path": os.environ["PATH"], "nvidia_driver_method": "nvidia_repo", "nvidia_driver_branch": "550"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert (out / "dnf-argv").read_text().splitlines() == calls


def _runfile(tmp_path, nouveau_loaded, **role_vars):
    """runfile.yml with a recording installer; (returncode, installer argv or None, output)."""
    out, modules = tmp_path / "out", tmp_path / "sys-module"
    out.mkdir()
    (modules / ("nouveau" if nouveau_loaded else "nvidia_uvm")).mkdir(parents=True)
    installer = tmp_path / "NVIDIA-Linux-x86_64-550.54.15.run"
    installer.write_text('echo "$@" > %s/installer-argv\n' % out)
    sha256 = hashlib.sha256(installer.read_bytes()).hexdigest()
    extra = {"test_facts": _facts("Debian", "12.5", "Debian", "bookworm"), "nvidia_driver_method": "runfile",
             "nvidia_driver_branch": "550", "nvidia_driver_version": "550.54.15",
             "nvidia_driver_runfile_src": str(installer),
             "nvidia_driver_runfile_sha256": sha256, "nvidia_driver_download_dir": str(tmp_path / "dl"),
             "_nvidia_driver_sys_module_dir": str(modules),
             # The build dependencies cannot be installed here; the package task gets none.
             "_nvidia_driver_userland_extra": [], "_nvidia_driver_header_packages": [], "_nvidia_driver_kernel_extra": []}
    extra.update(role_vars)
    result = _run(tmp_path, HERE / "playbooks" / "runfile.yml", extra)
    argv = out / "installer-argv"
    return result.returncode, argv.read_text().split() if argv.exists() else None, re.sub(r"\s+", " ", result.stdout)


def test_runfile_gets_a_persistenced_unit_of_its_own(tmp_path):
    plan, files = _plan(
        tmp_path, _facts("Debian", "12.5", "Debian", "bookworm"),
        nvidia_driver_method="runfile", nvidia_driver_branch="550", nvidia_driver_version="550.54.15",
        nvidia_driver_runfile_src="https://example.invalid/NVIDIA-Linux-x86_64-550.54.15.run",
        nvidia_driver_runfile_sha256="a" * 64,
        cuda_method="distro", cuda_versions=["11.8"], cudnn_cuda_version="11.8", cudnn_version="8.9.5.29",
        cudnn_source="wheel",
    )
    unit = files["nvidia-persistenced.service"].splitlines()
    assert "ExecStart=/usr/bin/nvidia-persistenced --user root --persistence-mode --verbose" in unit
    assert "WantedBy=multi-user.target" in unit
    assert plan["nvidia_driver"]["dkms_name"] == "nvidia"


def test_runfile_installer_runs_once_nouveau_is_not_loaded(tmp_path):
    rc, argv, output = _runfile(tmp_path, nouveau_loaded=False)
    assert rc == 0, output
    assert argv == ["--silent", "--dkms"]


def test_runfile_installer_is_not_run_while_nouveau_is_loaded(tmp_path):
    rc, argv, output = _runfile(tmp_path, nouveau_loaded=True)
    assert rc == 2 and argv is None, output
    assert "the nouveau module is loaded, and NVIDIA's installer cannot build its module" in output
    assert "set nvidia_driver_reboot to true" in output


def test_ubuntu_unpinned_branch_change_releases_the_old_branchs_packages(tmp_path):
    installed = {name: [{"version": "535.183.01-0ubuntu1"}] for name in (
        "nvidia-utils-535", "libnvidia-compute-535", "nvidia-driver-535", "nvidia-dkms-535", "nvidia-settings")}
    state, dummy = _driver_state(
        tmp_path, _facts("Ubuntu", "24.04", "Debian", "noble"), _gpu_info("535.183.01"), packages=installed,
        nvidia_driver_method="distro", nvidia_driver_branch="550", nvidia_driver_version="")
    # The old branch's packages (nvidia-settings is not one of them) are released before 550 goes in.
    assert state["other_branch_held"] == ["libnvidia-compute-535", "nvidia-dkms-535", "nvidia-driver-535",
                                          "nvidia-utils-535"]
    (tmp_path / "same").mkdir()
    same, dummy = _driver_state(
        tmp_path / "same", _facts("Ubuntu", "24.04", "Debian", "noble"), _gpu_info("535.183.01"),
        packages=installed, nvidia_driver_method="distro", nvidia_driver_branch="535", nvidia_driver_version="")
    assert same["other_branch_held"] == []


def test_installed_version_is_the_package_not_the_loaded_module(tmp_path):
    # EL host, pin installed, old module still loaded (reboot pending): no "version change"
    # (which released the versionlocks every run), but the reboot is still reported.
    state, output = _driver_state(
        tmp_path, _facts("Rocky", "9.4", "RedHat"), _gpu_info("535.161.08"),
        packages={"nvidia-driver-cuda-libs": [{"version": "535.183.01", "release": "1.el9"}],
                  "nvidia-driver": [{"version": "535.183.01", "release": "1.el9"}]},
        nvidia_driver_method="nvidia_repo", nvidia_driver_version="535.183.01",
    )
    assert state["installed_version"] == "535.183.01"
    assert state["version_change"] is False
    assert state["reboot_pending"] is True
    assert "loaded module 535.161.08, installed 535.183.01" in re.sub(r"\s+", " ", output)


def test_runfile_installed_version_is_the_library_file_in_a_container(tmp_path):
    # A container on a GPU host sees the host's module; the runfile's userland on disk decides.
    state = _driver_state(
        tmp_path, _facts("Debian", "12.5", "Debian", "bookworm"), _gpu_info("550.54.15", in_container=True),
        nvml_files=["/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.535.104.05",
                    "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.535.183.01"],
        nvidia_driver_method="runfile", nvidia_driver_version="535.183.01",
        nvidia_driver_runfile_src="/srv/NVIDIA-Linux-x86_64-535.183.01.run", nvidia_driver_runfile_sha256="d" * 64,
    )[0]
    assert state["kernel_enabled"] is False
    # runfile.yml runs the installer only when this differs from the pin.
    assert state["installed_version"] == "535.183.01"


@pytest.mark.parametrize("pin, packages, exported", [
    # Unpinned: the cuda role checks against what is installed, not the loaded module.
    ("", {"nvidia-smi": [{"version": "535.183.01-1~deb12u1"}]}, "535.183.01"),
    # Pinned: the pin, also before a first install.
    ("535.183.01", {}, "535.183.01"),
    # Unpinned and nothing installed yet: not known, the cuda role reads the host itself.
    ("", {}, ""),
])
def test_the_driver_version_is_exported_for_the_cuda_role(tmp_path, pin, packages, exported):
    state = _driver_state(
        tmp_path, _facts("Debian", "12.5", "Debian", "bookworm"), _gpu_info("535.104.05"),
        packages=packages, nvidia_driver_version=pin,
    )[0]
    assert state["exported_version"] == exported


@pytest.mark.parametrize("module_conf_changed, pending", [(False, False), (True, True)])
def test_changed_module_options_make_a_reboot_pending(tmp_path, module_conf_changed, pending):
    state = _driver_state(
        tmp_path, _facts("Debian", "12.5", "Debian", "bookworm"), _gpu_info("535.183.01"),
        packages={"nvidia-smi": [{"version": "535.183.01-1~deb12u1"}]},
        nvidia_driver_version="535.183.01", test_module_conf_changed=module_conf_changed,
    )[0]
    assert state["installed_version"] == "535.183.01"
    assert state["reboot_pending"] is pending


def test_cuda_repository_follows_the_driver_mirror(tmp_path):
    plan = _plan(
        tmp_path, _facts("Rocky", "9.4", "RedHat"),
        nvidia_driver_method="nvidia_repo", nvidia_driver_version="535.183.01", nvidia_driver_repo_base_url=MIRROR,
        nvidia_driver_repo_gpgkey_url="http://mirror.example.internal/keys/cuda.pub",
        cuda_method="nvidia_repo", cuda_versions=["12.2"], cudnn_source="repo", cudnn_cuda_version="12.2",
        cudnn_version="8.9.5.29",
    )[0]
    # Both roles write /etc/yum.repos.d/cuda.repo; the same mirror and key keep them from fighting.
    assert plan["cuda"]["repo_url"] == plan["nvidia_driver"]["repo_url"] == (
        "http://mirror.example.internal/cuda/repos/rhel9/x86_64")
    assert plan["cuda"]["repo_gpgkey_url"] == "http://mirror.example.internal/keys/cuda.pub"


def _expectations(tmp_path, facts, **role_vars):
    out = tmp_path / "out"
    out.mkdir()
    result = _run(tmp_path, HERE / "playbooks" / "expectations.yml", dict(role_vars, test_facts=facts, out_dir=str(out)))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((out / "expectations.json").read_text())


def _by_name(entries, key):
    return {entry[key]: entry for entry in entries}


def test_expectations_of_a_debian_distro_worker_are_what_the_roles_apply(tmp_path):
    expected = _expectations(
        tmp_path, _facts("Debian", "12.5", "Debian", "bookworm"),
        nvidia_driver_method="distro", cuda_method="distro", cuda_versions=["11.8"],
        cudnn_source="wheel", cudnn_version="9.10.2.21", anaconda_env_manager="venv",
        nvidia_driver_module_options={"NVreg_PreserveVideoMemoryAllocations": 1})
    driver = _by_name(expected["nvidia_driver"]["packages"], "name")
    # Debian's names carry no branch and nothing is pinned: held, at whatever version the archive has.
    for name in ("nvidia-smi", "libnvidia-ml1", "libcuda1"):
        assert driver[name] == {"name": name, "held": True, "present": True}
    for name in ("nvidia-driver", "nvidia-kernel-dkms"):
        assert driver[name]["kernel_side"] is True and driver[name]["held"] is True
    assert driver["nvidia-persistenced"] == {"name": "nvidia-persistenced", "kernel_side": True}
    assert expected["nvidia_driver"]["driver_version"] == ""
    assert expected["nvidia_driver"]["persistence_mode"] is True
    files = _by_name(expected["nvidia_driver"]["files"], "path")
    assert files["/etc/modprobe.d/nvidia.conf"]["contains"] == ["options nvidia NVreg_PreserveVideoMemoryAllocations=1"]
    assert files["/etc/modprobe.d/blacklist-nouveau.conf"]["kernel_side"] is True

    files = _by_name(expected["nvidia_driver"]["files"], "path")
    assert files["/etc/modprobe.d/blacklist-nouveau.conf"]["contains"] == ["blacklist nouveau", "options nouveau modeset=0"]
    cuda = expected["cuda"]
    assert cuda["packages"] == [{"name": "nvidia-cuda-toolkit", "version": "11.8", "held": True}]
    files = _by_name(cuda["files"], "path")
    assert files["/etc/ld.so.conf.d/cuda-11-8.conf"] == {
        "path": "/etc/ld.so.conf.d/cuda-11-8.conf", "mode": "0644", "contains": ["/usr/lib/cuda/lib64"]}
    assert files["/usr/lib/cuda/bin/nvcc"] == {"path": "/usr/lib/cuda/bin/nvcc", "state": "link", "link_target": "/usr/bin/nvcc"}
    assert files["/etc/profile.d/cuda.sh"]["contains"] == ["export CUDA_HOME=/usr/lib/cuda"]
    # The distribution's single toolkit gets no /usr/local/cuda link.
    assert "/usr/local/cuda" not in files
    assert cuda["cuda_version"] == "11.8" and cuda["libraries"] == [{"name": "libcudart", "version": "11"}]
    assert expected["cudnn"] == {"packages": [], "cudnn_version": "9.10.2", "libraries": [{"name": "libcudnn", "version": "9"}]}
    envs = _by_name(expected["anaconda_env"]["python_envs"], "path")
    assert envs["/usr/anaconda/envs/tensorflow"]["packages"][:3] == ["tensorflow-cpu==2.17.1", "protobuf==4.25.8", "tensorflow-io==0.37.1"]
    assert "/usr/anaconda/envs/pycaffe" in envs


def test_expectations_of_an_el9_repo_worker_pin_the_branch_the_link_and_the_cudnn8_packages(tmp_path):
    expected = _expectations(
        tmp_path, _facts("Rocky", "9.4", "RedHat"),
        nvidia_driver_method="nvidia_repo", nvidia_driver_branch="550", nvidia_driver_version="550.90.07",
        cuda_method="nvidia_repo", cuda_versions=["11.8", "12.4"], cuda_hold=False, cuda_profile_script=False,
        # 8.9.7's support matrix stops at CUDA 12.2; minor-version compatibility runs it on 12.4.
        cudnn_source="repo", cudnn_version="8.9.7.29", cudnn_compat_strict=False,
        anaconda_env_manager="venv", anaconda_env_prefix="/opt/dl",
        anaconda_env_environments=[{"name": "tf", "pip_packages": ["tensorflow==2.16.2"]}, {"name": "old", "state": "absent"}])
    assert expected["anaconda_env"]["python_envs"] == [{"path": "/opt/dl/envs/tf", "packages": ["tensorflow==2.16.2"]}]
    driver = _by_name(expected["nvidia_driver"]["packages"], "name")
    assert driver["nvidia-driver-cuda-libs"]["version"] == "550.90.07" and driver["nvidia-driver-cuda-libs"]["held"] is True
    assert driver["kmod-nvidia-latest-dkms"]["kernel_side"] is True
    assert expected["nvidia_driver"]["driver_version"] == "550.90.07"
    cuda = expected["cuda"]
    # cuda_hold=false: no hold is expected (nor its absence: the role releases none).
    assert cuda["packages"][:2] == [{"name": "cuda-toolkit-11-8", "version": "11.8"},
                                    {"name": "cuda-toolkit-12-4", "version": "12.4"}]
    assert {"name": "gds-tools*-12-4"} in cuda["packages"] and len(cuda["packages"]) == 12
    files = _by_name(cuda["files"], "path")
    assert files["/usr/local/cuda"] == {"path": "/usr/local/cuda", "state": "link", "link_target": "/usr/local/cuda-12.4"}
    assert files["/etc/ld.so.conf.d/cuda-11-8.conf"]["contains"] == ["/usr/local/cuda-11.8/lib64"]
    assert files["/etc/profile.d/cuda.sh"] == {"path": "/etc/profile.d/cuda.sh", "state": "absent"}
    # cuDNN 8.9.7 is published for CUDA 12 only as +cuda12.2; a CUDA 12.4 host installs that build.
    assert expected["cudnn"]["packages"] == [
        {"name": "libcudnn8", "version": "8.9.7.29", "held": True},
        {"name": "libcudnn8-devel", "version": "8.9.7.29", "held": True}]


@pytest.mark.parametrize("cuda, cudnn, suffix", [
    ("12.4", "8.9.7.29", "12.2"),
    ("12.1", "8.9.7.29", "12.2"),
    ("11.2", "8.9.7.29", "11.8"),
    ("12.1", "8.9.2.26", "12.1"),
    ("11.2", "8.1.1.33", "11.2"),
    ("11.0", "8.0.5.39", "11.0"),
    ("11.1", "8.0.5.39", "11.1"),
])
def test_cudnn8_repo_packages_are_named_after_the_build_nvidia_publishes(tmp_path, cuda, cudnn, suffix):
    plan, _files = _plan(
        tmp_path, _facts("Ubuntu", "22.04", "Debian", "jammy"),
        nvidia_driver_method="nvidia_repo", nvidia_driver_branch="550",
        cuda_method="nvidia_repo", cuda_versions=[cuda], cudnn_source="repo", cudnn_version=cudnn, cudnn_compat_strict=False)
    assert plan["cudnn"]["repo_packages"] == [
        "libcudnn8=%s-1+cuda%s" % (cudnn, suffix), "libcudnn8-dev=%s-1+cuda%s" % (cudnn, suffix)]
    assert plan["cudnn"]["repo_held"] == ["libcudnn8", "libcudnn8-dev"]
