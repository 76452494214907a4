#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_image_info
short_description: Ask a container registry whether it serves an image tag, with Basic or token authentication
version_added: "0.1.0"
description:
  - Sends C(HEAD /v2/<name>/manifests/<tag>) to a registry that speaks the Docker/OCI
    distribution HTTP API V2 and reports whether the tag exists, and its digest.
  - "Authentication follows the registry's C(401) challenge (distribution's HTTP API V2 spec,
    Authentication): C(Basic) registries (htpasswd) get the credentials as HTTP Basic;
    C(Bearer realm=...,service=...,scope=...) registries (Harbor, Quay, the Docker registry's
    token mode) get a token from the realm as the Token Authentication Specification
    describes (C(GET <realm>?service=...&scope=repository:<name>:pull) with the credentials),
    and the request is repeated with C(Authorization: Bearer <token>)."
  - "Fails with the registry's own message when it refuses: wrong credentials (the registry
    or its token service answers 401), a repository the token does not grant
    (C(insufficient_scope)), or access denied (403). A missing tag is not an error: C(exists=false)."
  - Only reads; nothing on the registry changes.
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
options:
  registry:
    description:
      - The registry as C(host[:port]), without scheme or path, for example C(registry.example.com:5000).
    type: str
    required: true
  scheme:
    description:
      - Protocol of the registry API.
    type: str
    choices: [http, https]
    default: https
  name:
    description:
      - Repository path in the registry, for example C(dlstack/cdsw-engine-gpu).
    type: str
    required: true
  tag:
    description:
      - Tag to look for.
    type: str
    required: true
  username:
    description:
      - User for Basic authentication or for the token service. Anonymous when empty.
    type: str
    default: ""
  password:
    description:
      - Password (or robot/service account token) of O(username).
    type: str
    default: ""
  labels:
    description:
      - Also read the image configuration's labels (its manifest, or the C(linux/amd64) one of an
        image index, then the configuration blob), for example a CML ML Runtime base's
        C(com.cloudera.ml.runtime.*) metadata.
    type: bool
    default: false
extends_documentation_fragment:
  - dlstack.cdh.attributes
  - dlstack.cdh.http_api
  - dlstack.cdh.attributes.INFO_MODULE
seealso:
  - name: HTTP API V2 (distribution)
    description: Manifest requests and the authentication challenge.
    link: https://distribution.github.io/distribution/spec/api/
  - name: Token Authentication Specification (distribution)
    description: The Bearer challenge, the token request and its answer.
    link: https://distribution.github.io/distribution/spec/auth/token/
"""

EXAMPLES = r"""
- name: Ask the registry whether the engine image tag is there
  dlstack.cdh.registry_image_info:
    registry: registry.example.com:5000
    name: dlstack/cdsw-engine-gpu
    tag: 3f2a9c0d1e4b5a67
    username: robot$dlstack
    password: "{{ vault_registry_token }}"
  register: engine_tag
  no_log: true

- name: Build only when it is missing
  ansible.builtin.debug:
    msg: "build {{ engine_tag.reference }}"
  when: not engine_tag.exists
"""

RETURN = r"""
exists:
  description: Whether the registry serves the tag.
  returned: success
  type: bool
digest:
  description: The manifest digest the registry reports (C(Docker-Content-Digest)); empty when the tag is missing.
  returned: success
  type: str
  sample: sha256:0f5a0e3c5d2ba4f0c63b1bb9c6a0f0e4b1cf7e2a7d9a1f2e3d4c5b6a7980abcd
media_type:
  description: Content type of the manifest; empty when the tag is missing.
  returned: success
  type: str
  sample: application/vnd.docker.distribution.manifest.v2+json
auth_scheme:
  description: How the registry wanted to be authenticated to.
  returned: success
  type: str
  choices: [none, basic, bearer]
labels:
  description: The image configuration's labels (C(config.Labels)).
  returned: when labels is true and the tag exists
  type: dict
  sample: {"com.cloudera.ml.runtime.kernel": "Python 3.10", "com.cloudera.ml.runtime.edition": "Nvidia GPU"}
reference:
  description: The image reference, C(<registry>/<name>:<tag>).
  returned: always
  type: str
  sample: registry.example.com:5000/dlstack/cdsw-engine-gpu:3f2a9c0d1e4b5a67
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlstack.cdh.plugins.module_utils.errors import InvalidInput, failure_boundary
from ansible_collections.dlstack.cdh.plugins.module_utils.registry_api import RegistryClient


def run(module, result):
    params = module.params
    if params["timeout"] <= 0:
        raise InvalidInput("timeout must be a positive number of seconds")
    client = RegistryClient(module, params["registry"].strip(), scheme=params["scheme"],
                            username=params["username"], password=params["password"],
                            timeout=params["timeout"])
    exists, digest, media_type = client.manifest(params["name"].strip(), params["tag"].strip())
    result.update(exists=exists, digest=digest, media_type=media_type, auth_scheme=client.auth_scheme)
    if exists and params["labels"]:
        result["labels"] = client.labels(params["name"].strip(), params["tag"].strip())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            registry=dict(type="str", required=True),
            scheme=dict(type="str", choices=["http", "https"], default="https"),
            name=dict(type="str", required=True),
            tag=dict(type="str", required=True),
            username=dict(type="str", default=""),
            password=dict(type="str", default="", no_log=True),
            labels=dict(type="bool", default=False),
            timeout=dict(type="int", default=30),
            validate_certs=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = dict(changed=False, reference="%s/%s:%s" % (params["registry"], params["name"], params["tag"]))
    with failure_boundary(module, result):
        run(module, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
