# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CUDA plan: what the cuda role's variables say about versions, homes and files.

The cuda role, site.yml's compatibility check, the compliance expectations and the
defaults of the roles that build on CUDA all need the same few answers (the default
toolkit, where it lives, the cuDNN version the header declares, the linker files the
role writes). They take them from this one filter instead of repeating the rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

DEFAULT_LOCAL_PREFIX = "/usr/local"
DEFAULT_LD_SO_CONF_DIR = "/etc/ld.so.conf.d"
KNOWN_KEYS = (
    "cuda_versions", "cuda_default_version", "cuda_method", "cudnn_version",
    "dlstack_cuda_home", "local_prefix", "distro_home", "ld_so_conf_dir",
)


def _describe(value):
    if isinstance(value, bool):
        return "the boolean %s" % value
    if isinstance(value, (int, float)):
        return "the number %s" % value
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, str):
        return "the string '%s'" % value
    if isinstance(value, Sequence):
        return "a list"
    return "a %s" % type(value).__name__


def _scalar(name, value):
    """A version or path given as a string, or as a YAML number (11.8) for versions."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise AnsibleFilterError(
            "cuda_plan: %s must be a string, got %s" % (name, _describe(value)))
    return str(value).strip()


def _versions(value):
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise AnsibleFilterError(
            "cuda_plan: cuda_versions must be a list of versions such as ['11.8', '12.4'], got %s%s"
            % (_describe(value),
               "; write it as a YAML list of quoted strings" if isinstance(value, (str, int, float)) else ""))
    versions = []
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise AnsibleFilterError(
                "cuda_plan: cuda_versions[%d] must be a version string such as '11.8', got %s"
                % (index, _describe(item)))
        versions.append(str(item).strip())
    return versions


def _ld_so_conf_name(version):
    # The role writes one file per toolkit: 11.8 -> cuda-11-8.conf.
    return "cuda-%s.conf" % version.replace(".", "-")


def cuda_plan(role_vars):
    """Return the plan for a mapping of the cuda role's variables (missing keys: role defaults)."""
    if role_vars is None:
        role_vars = {}
    if not isinstance(role_vars, Mapping):
        raise AnsibleFilterError(
            "cuda_plan: the input must be a mapping of the cuda role's variables "
            "(cuda_versions, cuda_default_version, ...), got %s" % _describe(role_vars))
    unknown = sorted(str(key) for key in role_vars if key not in KNOWN_KEYS)
    if unknown:
        raise AnsibleFilterError(
            "cuda_plan: unknown keys %s; known are %s" % (", ".join(unknown), ", ".join(KNOWN_KEYS)))

    versions = _versions(role_vars.get("cuda_versions"))
    default_version = _scalar("cuda_default_version", role_vars.get("cuda_default_version")) or (
        versions[-1] if versions else "")
    method = _scalar("cuda_method", role_vars.get("cuda_method"))
    local_prefix = (_scalar("local_prefix", role_vars.get("local_prefix")) or DEFAULT_LOCAL_PREFIX).rstrip("/")
    distro_home = _scalar("distro_home", role_vars.get("distro_home")).rstrip("/")
    ld_so_conf_dir = (_scalar("ld_so_conf_dir", role_vars.get("ld_so_conf_dir"))
                      or DEFAULT_LD_SO_CONF_DIR).rstrip("/")
    link = local_prefix + "/cuda"
    if method == "distro":
        # Empty where the OS ships no toolkit; the cuda role refuses that case with its own message.
        homes = dict((version, distro_home) for version in versions)
        home = distro_home
    else:
        homes = dict((version, "%s/cuda-%s" % (local_prefix, version)) for version in versions)
        home = link
    # cudnn_version may carry a build number (9.10.2.21); cudnn_version.h declares three parts.
    cudnn_version = _scalar("cudnn_version", role_vars.get("cudnn_version"))
    return {
        "versions": versions,
        "default_version": default_version,
        "homes": homes,
        "link": link,
        "home": _scalar("dlstack_cuda_home", role_vars.get("dlstack_cuda_home")) or home,
        "cudnn_header_version": ".".join(cudnn_version.split(".")[:3]) if cudnn_version else "",
        "ld_so_conf_files": ["%s/%s" % (ld_so_conf_dir, _ld_so_conf_name(v)) for v in versions],
        # lib64, not lib: the toolkits' libraries live there (lib is 32-bit or absent).
        "ld_so_conf_lines": ["%s/lib64" % homes[v] for v in versions],
        # Where the role points the link; it makes none for the distribution's single toolkit.
        "link_target": homes.get(default_version, "") if method != "distro" else "",
    }


class FilterModule:
    def filters(self):
        return {"cuda_plan": cuda_plan}
