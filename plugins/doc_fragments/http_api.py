# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # The options of the modules that talk to an HTTP API through module_utils/http_api.py.
    DOCUMENTATION = r"""
options:
  timeout:
    description:
      - Seconds to wait for each answer of the service (and of a token service it names).
    type: int
    default: 30
  validate_certs:
    description:
      - Verify the service's TLS certificates (and those of a token service it names).
    type: bool
    default: true
"""
