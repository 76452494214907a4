"""Verify the GPU stack the roles converged, with the real tools and the collection's modules."""

import re

import pytest

testinfra_hosts = ["ansible://all"]

CUDA_HOME = "/usr/lib/cuda"


@pytest.fixture(scope="module")
def libs(host):
    # The collection's own reader of the linker cache, CUDA homes and cuDNN headers.
    return host.ansible(
        "dlstack.cdh.shared_library_info",
        "names=libcudnn,libcudnn_ops,libcudart,libnvidia-ml cuda_homes=%s cudnn_include_dirs=%s/include"
        % (CUDA_HOME, CUDA_HOME),
        check=False,
    )


def test_nvcc_is_cuda_11_8(host):
    out = host.check_output("nvcc --version")
    assert re.search(r"release 11\.8, V11\.8\.\d+", out), out
    # Also as $CUDA_HOME/bin/nvcc, where build tools look for it.
    assert host.file("%s/bin/nvcc" % CUDA_HOME).linked_to == "/usr/bin/nvcc"


def test_ld_so_conf_lists_lib64_not_lib(host):
    conf = host.file("/etc/ld.so.conf.d/cuda-11-8.conf")
    assert conf.exists and conf.mode == 0o644
    lines = [l for l in conf.content_string.splitlines() if l and not l.startswith("#")]
    assert lines == ["%s/lib64" % CUDA_HOME]
    # cudnn did not add a second entry for the same directory.
    assert not host.file("/etc/ld.so.conf.d/cudnn.conf").exists


def test_profile_script_sets_cuda_home_path_and_library_path(host):
    assert host.file("/etc/profile.d/cuda.sh").exists
    env = host.check_output("bash -lc 'echo $CUDA_HOME; echo $PATH; echo $LD_LIBRARY_PATH'").splitlines()
    assert env[0] == CUDA_HOME
    assert "%s/bin" % CUDA_HOME in env[1].split(":")
    assert env[2].split(":")[0] == "%s/lib64" % CUDA_HOME


def test_cudnn_libraries_are_in_the_linker_cache(host, libs):
    listed = host.check_output("ldconfig -p")
    assert re.search(r"libcudnn\.so\.9 .*=> %s/lib64/libcudnn\.so\.9" % CUDA_HOME, listed), listed
    found = libs["libraries"]["libcudnn"]
    assert any(e["name"] == "libcudnn.so.9" and e["path"] == "%s/lib64/libcudnn.so.9" % CUDA_HOME for e in found)
    assert "libcudnn" not in libs["missing"] and "libcudnn_ops" not in libs["missing"]
    # The development link the wheel lacks was added.
    assert host.file("%s/lib64/libcudnn.so" % CUDA_HOME).linked_to == "%s/lib64/libcudnn.so.9" % CUDA_HOME


def test_cudnn_header_is_the_wanted_version(host, libs):
    header = host.file("%s/include/cudnn_version.h" % CUDA_HOME).content_string
    numbers = {k: int(v) for k, v in re.findall(r"#define CUDNN_(MAJOR|MINOR|PATCHLEVEL)\s+(\d+)", header)}
    assert (numbers["MAJOR"], numbers["MINOR"], numbers["PATCHLEVEL"]) == (9, 10, 2)
    assert libs["cudnn"]["version"] == "9.10.2"
    assert libs["cudnn"]["header"] == "%s/include/cudnn_version.h" % CUDA_HOME


def test_module_sees_the_toolkit_and_cudart(libs):
    assert any(c["version"].startswith("11.8") for c in libs["cuda"]), libs["cuda"]
    assert any(e["name"].startswith("libcudart.so.11") for e in libs["libraries"]["libcudart"])


def test_driver_and_toolkit_pins_hold(host):
    held = set(host.check_output("apt-mark showhold").split())
    assert {"nvidia-smi", "libnvidia-ml1", "libcuda1", "nvidia-cuda-toolkit"} <= held, held
    # Kernel-side packages were not installed, so nothing of them is held.
    assert "nvidia-kernel-dkms" not in held


def test_kernel_side_was_skipped_in_the_container(host):
    assert not host.package("nvidia-kernel-dkms").is_installed
    assert not host.package("dkms").is_installed
    assert not host.file("/etc/modprobe.d/blacklist-nouveau.conf").exists
    assert not host.file("/etc/modprobe.d/nvidia.conf").exists
    gpu = host.ansible("dlstack.cdh.nvidia_gpu_info", check=False)
    assert gpu["in_container"] is True
    assert gpu["pci_devices"] == []
    assert gpu["status"] == "driver_not_loaded"


def test_userland_is_the_held_driver_version(host):
    smi = host.package("nvidia-smi")
    assert smi.is_installed
    assert host.package("libnvidia-ml1").version == smi.version
    assert host.package("libcuda1").version == smi.version
