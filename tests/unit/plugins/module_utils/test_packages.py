"""Package state parsing: real dpkg-query output (Debian 12 host) and versionlock lists."""

from __future__ import annotations

from unittest.mock import MagicMock, patch

from ansible_collections.dlstack.cdh.plugins.module_utils import packages as packages_module
from ansible_collections.dlstack.cdh.plugins.module_utils.packages import (
    parse_dpkg_query,
    query_packages,
    parse_rpm_query,
    versionlocked,
)

# Captured on Debian 12 with packages.DPKG_FORMAT, podman held with `apt-mark hold`,
# nano known to dpkg but not installed.
DPKG_OUTPUT = (
    "bash\t5.2.15-2+b8\tii \tinstall\n"
    "libc6\t2.36-9+deb12u14\tii \tinstall\n"
    "podman\t4.3.1+ds1-8+deb12u1+b3\thi \thold\n"
    "nano\t\tun \tunknown\n"
)


def test_dpkg_installed_held_and_unknown():
    packages = parse_dpkg_query(DPKG_OUTPUT)
    assert packages["bash"] == {"version": "5.2.15-2+b8", "installed": True, "held": False}
    assert packages["podman"] == {"version": "4.3.1+ds1-8+deb12u1+b3", "installed": True, "held": True}
    assert packages["nano"] == {"version": None, "installed": False, "held": False}


def test_dpkg_multiarch_names_are_reduced_to_the_package():
    packages = parse_dpkg_query("libnvidia-ml1:amd64\t535.183.01-1~deb12u1\tii \tinstall\n")
    assert packages["libnvidia-ml1"]["version"] == "535.183.01-1~deb12u1"


def test_rpm_query():
    packages = parse_rpm_query("nvidia-driver\t535.104.05-1.el8\nkernel\t4.18.0-477.10.1.el8_8\n")
    assert packages["nvidia-driver"] == {"version": "535.104.05-1.el8", "installed": True, "held": False}


def test_versionlock_yum_and_dnf_formats():
    # yum (EL7): EPOCH:NAME-VERSION-RELEASE.ARCH; dnf (EL8/9): NAME-EPOCH:VERSION-RELEASE.*
    text = (
        "# Added locks on Mon\n"
        "0:nvidia-driver-535.104.05-1.el7.x86_64\n"
        "nvidia-driver-cuda-3:535.104.05-1.el8.*\n"
        "!kernel-4.18.0-477.el8.*\n"
    )
    installed = {"nvidia-driver": "535.104.05-1.el7", "nvidia-driver-cuda": "535.104.05-1.el8",
                 "kernel": "4.18.0-477.el8", "nvidia-driver-libs": "535.104.05-1.el8"}
    assert versionlocked(text, installed) == {"nvidia-driver", "nvidia-driver-cuda"}


def test_versionlock_names_match_exactly():
    # The toolkit's lock names cuda-toolkit-12-4; it does not lock the cuda-toolkit-12 meta package.
    text = "cuda-toolkit-12-4-0:12.4.1-1.*\n"
    assert versionlocked(text, {"cuda-toolkit-12": "12.4.1-1"}) == set()
    assert versionlocked(text, {"cuda-toolkit-12-4": "12.4.1-1"}) == {"cuda-toolkit-12-4"}


def test_versionlock_at_another_version_does_not_hold_the_installed_one():
    text = "nvidia-driver-3:535.104.05-1.el8.*\n"
    assert versionlocked(text, {"nvidia-driver": "535.183.01-1.el8"}) == set()
    assert versionlocked(text, {"nvidia-driver": None}) == set()


# dpkg-query -W with a pattern prints every package dpkg knows that matches, installed or not.
DPKG_PATTERN_OUTPUT = (
    "cuda-nvcc-12-4\t12.4.131-1\thi \thold\n"
    "cuda-cudart-12-4\t12.4.127-1\tii \tinstall\n"
    "cuda-gdb-12-4\t\tun \tunknown\n"
    "libc6\t2.36-9+deb12u14\tii \tinstall\n"
)


def test_patterns_return_every_match_under_its_own_name():
    module = MagicMock()
    module.run_command.return_value = (0, DPKG_PATTERN_OUTPUT, "")
    with patch.object(packages_module, "package_manager", return_value="dpkg"):
        found, manager = query_packages(module, ["cuda-*-12-4", "libc6"])
    assert manager == "dpkg"
    argv = module.run_command.call_args[0][0]
    assert argv[0].endswith("dpkg-query") or argv[0] == "dpkg-query"
    assert argv[-2:] == ["cuda-*-12-4", "libc6"]
    assert sorted(found) == ["cuda-cudart-12-4", "cuda-gdb-12-4", "cuda-nvcc-12-4", "libc6"]
    assert "cuda-*-12-4" not in found
    assert found["cuda-nvcc-12-4"]["held"] is True and found["cuda-gdb-12-4"]["installed"] is False


def test_rpm_patterns_are_queried_with_qa():
    module = MagicMock()
    module.run_command.side_effect = [(0, "nvidia-driver\t550.90.07-1.el9\n", ""),
                                      (0, "cuda-nvcc-12-4\t12.4.131-1\nlibcublas-12-4\t12.4.5.8-1\n", "")]
    with patch.object(packages_module, "package_manager", return_value="rpm"), \
            patch.object(packages_module.os.path, "isfile", return_value=False):
        found, _manager = query_packages(module, ["nvidia-driver", "cuda-*-12-4"])
    calls = [c[0][0] for c in module.run_command.call_args_list]
    assert calls[0][1] == "-q" and calls[0][-1] == "nvidia-driver"
    assert calls[1][1] == "-qa" and calls[1][-1] == "cuda-*-12-4"
    assert sorted(found) == ["cuda-nvcc-12-4", "nvidia-driver"]
