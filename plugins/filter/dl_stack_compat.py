# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters dl_stack_compat, cuda_min_driver and cudnn_cuda_majors (docs in the .yml files beside this one)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.dlstack.cdh.plugins.module_utils.compat import (
    CompatInputError,
    CompatLookupError,
    check_stack,
    cuda_min_driver as _cuda_min_driver,
    cudnn_cuda_majors as _cudnn_cuda_majors,
)


def dl_stack_compat(versions, strict=False):
    """The module's result dict; incompatibility is data here, only unreadable input raises."""
    if not isinstance(strict, bool):
        raise AnsibleFilterError("dl_stack_compat: strict must be a boolean, got %r" % (strict,))
    try:
        return check_stack(versions, strict=strict)
    except CompatInputError as exc:
        raise AnsibleFilterError("dl_stack_compat: %s" % to_native(exc))


def cuda_min_driver(cuda_version):
    try:
        return _cuda_min_driver(cuda_version)
    except (CompatInputError, CompatLookupError) as exc:
        raise AnsibleFilterError("cuda_min_driver: %s" % to_native(exc))


def cudnn_cuda_majors(cudnn_version):
    try:
        return _cudnn_cuda_majors(cudnn_version)
    except (CompatInputError, CompatLookupError) as exc:
        raise AnsibleFilterError("cudnn_cuda_majors: %s" % to_native(exc))


class FilterModule(object):
    def filters(self):
        return {
            "dl_stack_compat": dl_stack_compat,
            "cuda_min_driver": cuda_min_driver,
            "cudnn_cuda_majors": cudnn_cuda_majors,
        }
