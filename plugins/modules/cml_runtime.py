#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cml_runtime
short_description: Add a custom ML Runtime image to the Runtime Catalog of Cloudera Machine Learning
version_added: "0.1.0"
description:
  - Looks the image up in the Runtime Catalog of a Cloudera Machine Learning (CML) workspace and,
    when it is not there, registers it, through the CML API v2 with an API v2 key.
  - "Calls (CML API v2, the OpenAPI specification each workspace serves at C(/api/v2/swagger.json);
    Cloudera's CML API v2 page documents the C(Authorization: Bearer) key):
    C(GET /api/v2/runtimes) with C(search_filter={\"image_identifier\": <image>}) and
    C(page_token) (ListRuntimes), then C(POST /api/v2/runtimes) with C({\"url\": <image>,
    \"docker_credential_id\": <id>}) (RegisterCustomRuntime), whose 200 answer must carry
    C(validation_success) and C(insert_success); otherwise the module fails with CML's C(reason)."
  - CML validates the image's C(com.cloudera.ml.runtime.*) labels when it registers it
    (Metadata for Custom ML Runtimes); the C(dlstack.cdh.cdsw_engine) role writes them.
  - Idempotent; supports check mode and diff. Check mode only lists.
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
options:
  api_url:
    description:
      - Web address of the CML workspace, for example C(https://ml-1234.example.com).
    type: str
    required: true
  api_key:
    description:
      - API v2 key of a workspace administrator (User Settings > API Keys).
    type: str
    required: true
  image:
    description:
      - Full image reference CML pulls, C(<registry>/<name>:<tag>).
    type: str
    required: true
  docker_credential_id:
    description:
      - Id of the workspace's registry credential for a private registry (Site Administration >
        Runtime > Docker credentials).
    type: str
extends_documentation_fragment:
  - dlstack.cdh.attributes
  - dlstack.cdh.http_api
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
seealso:
  - name: CML API v2
    description: API v2 keys and where a workspace serves its specification.
    link: https://docs.cloudera.com/machine-learning/1.5.4/api/topics/ml-api-v2.html
  - name: Metadata for Custom ML Runtimes
    description: The labels a custom runtime image carries.
    link: https://docs.cloudera.com/machine-learning/cloud/runtimes/topics/ml-metadata-for-custom-runtimes.html
"""

EXAMPLES = r"""
- name: Add the GPU runtime to the Runtime Catalog
  dlstack.cdh.cml_runtime:
    api_url: https://ml-1234.example.com
    api_key: "{{ vault_cml_api_v2_key }}"
    image: registry.example.com:5000/dlstack/cml-runtime-gpu:3f2a9c0d1e4b5a67
    docker_credential_id: "3"
"""

RETURN = r"""
runtime:
  description: The runtime as the catalog lists it (as CML parsed it at registration, or the image alone in check mode).
  returned: success
  type: dict
  sample: {"image_identifier": "registry.example.com:5000/dlstack/cml-runtime-gpu:3f2a9c0d1e4b5a67",
           "edition": "Nvidia GPU", "kernel": "Python 3.10", "editor": "PBJ Workbench", "status": "ENABLED"}
registered:
  description: Whether this run added the runtime (or would, in check mode).
  returned: success
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlstack.cdh.plugins.module_utils.cml_api import CmlApiError, CmlClient
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import InvalidInput, failure_boundary


def run(module, result):
    params = module.params
    image = params["image"].strip()
    if not image or ":" not in image.rsplit("/", 1)[-1] or "/" not in image:
        raise InvalidInput("image %r is not a full reference <registry>/<name>:<tag>" % params["image"])
    if params["timeout"] <= 0:
        raise InvalidInput("timeout must be a positive number of seconds")
    client = CmlClient(module, params["api_url"], params["api_key"], timeout=params["timeout"])
    runtime = client.find_runtime(image)
    registered = runtime is None
    result.update(changed=registered, registered=registered, runtime=runtime or {"image_identifier": image})
    if registered and not module.check_mode:
        answer = client.register_runtime(image, params["docker_credential_id"])
        # What CML parsed from the labels; the catalog's own entry when it lists it already.
        result["runtime"] = dict(answer.get("details") or {}, image_identifier=image)
        try:
            result["runtime"] = client.find_runtime(image) or result["runtime"]
        except CmlApiError as exc:
            module.warn("The runtime was added, but listing it again failed: %s" % exc.msg)
    if module._diff:
        result["diff"] = dict(before={"runtime": None if registered else image}, after={"runtime": image})


def main():
    module = AnsibleModule(
        argument_spec=dict(
            api_url=dict(type="str", required=True),
            api_key=dict(type="str", required=True, no_log=True),
            image=dict(type="str", required=True),
            docker_credential_id=dict(type="str"),
            timeout=dict(type="int", default=30),
            validate_certs=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    result = dict(changed=False, registered=False)
    with failure_boundary(module, result):
        run(module, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
