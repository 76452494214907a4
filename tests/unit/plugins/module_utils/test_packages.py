"""Package state parsing: real dpkg-query output (Debian 12 host) and versionlock lists."""

from __future__ import annotations

from ansible_collections.dlstack.cdh.plugins.module_utils.packages import (
    parse_dpkg_query,
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
