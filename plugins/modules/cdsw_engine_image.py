#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cdsw_engine_image
short_description: Whitelist a custom engine image in CDSW and set project environment variables
version_added: "0.1.0"
description:
  - Adds a custom (extensible) engine image to the site-wide engine image whitelist of
    Cloudera Data Science Workbench (CDSW), and optionally sets environment variables
    (for example C(LD_LIBRARY_PATH) for CUDA) on one project, through the CDSW API v1
    with a user's API key.
  - "Endpoints used and where they are sourced (see also C(module_utils/cdsw_api.py)):
    authentication is HTTP Basic with the API key as user name and an empty password
    (Cloudera docs, Cloudera Data Science Workbench Jobs API, API Key Authentication);
    C(POST /api/v1/engine-images) with C({\"engineImage\": {\"description\", \"repository\", \"tag\"}})
    (a CDSW workshop provisioning script, function C(cdsw_api_add_engine_image));
    C(GET) and C(PUT /api/v1/projects/<owner>/<project>/environment), where the PUT replaces
    the whole variable set and answers 204 (fastforwardlabs/cmlbootstrap,
    C(get_environment_variables) and C(create_environment_variable))."
  - "Not confirmed by any source: listing the whitelist with C(GET /api/v1/engine-images).
    The module tries it first; when CDSW answers 404 or 405 it adds the image without
    listing and treats a 409/422 'already exists' answer as no change. In check mode
    without a listing it reports a change it cannot rule out, and warns."
  - Idempotent; supports check mode and diff.
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
options:
  api_url:
    description:
      - Base web address of CDSW, for example C(https://cdsw.example.com). The module appends C(/api/v1/...).
    type: str
    required: true
  api_key:
    description:
      - API key of a CDSW site administrator (Settings > API Key). Adding to the engine whitelist needs site admin rights.
    type: str
    required: true
  repository:
    description:
      - Image repository as CDSW pulls it, including the registry host, for example
        C(registry.example.com:5000/dlstack/cdsw-engine-gpu).
    type: str
    required: true
  tag:
    description:
      - Image tag, for example the content hash the C(dlstack.cdh.cdsw_engine) role tags with.
    type: str
    required: true
  description:
    description:
      - Text shown for the image in the CDSW engine list.
    type: str
    default: ""
  project_owner:
    description:
      - User or team that owns the project whose environment is set.
    type: str
  project:
    description:
      - Project name (slug) whose environment variables are set.
    type: str
  environment:
    description:
      - Variables to set on the project. Variables not listed are kept as they are.
      - Values are sent as strings.
    type: dict
    default: {}
  timeout:
    description:
      - Seconds to wait for each API answer.
    type: int
    default: 30
  validate_certs:
    description:
      - Verify the CDSW TLS certificate.
    type: bool
    default: true
extends_documentation_fragment:
  - dlstack.cdh.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - CDSW still has to be able to pull the image from its registry; this module only registers it.
seealso:
  - name: Cloudera Data Science Workbench Jobs API (API key authentication)
    description: How CDSW authenticates API keys.
    link: https://docs.cloudera.com/documentation/data-science-workbench/1-6-x/topics/cdsw_rest_apis.html
  - name: Managing engine images
    description: Site administrators whitelist custom engine images.
    link: https://docs.cloudera.com/cdsw/1.10.5/engine-configuration/topics/cdsw-managing-engine-images.html
"""

EXAMPLES = r"""
- name: Whitelist the GPU engine and point the project at CUDA
  dlstack.cdh.cdsw_engine_image:
    api_url: https://cdsw.example.com
    api_key: "{{ vault_cdsw_api_key }}"
    repository: registry.example.com:5000/dlstack/cdsw-engine-gpu
    tag: 3f2a9c0d1e4b5a67
    description: CDSW engine with CUDA, cuDNN and Caffe
    project_owner: analytics
    project: deep-learning
    environment:
      LD_LIBRARY_PATH: /usr/local/cuda/lib64:/usr/local/lib
      CUDA_HOME: /usr/local/cuda
  no_log: true
"""

RETURN = r"""
engine_image:
  description: The whitelisted image as CDSW lists it (or as sent, when the listing is unavailable).
  returned: always
  type: dict
  sample: {"id": 7, "repository": "registry.example.com:5000/dlstack/cdsw-engine-gpu", "tag": "3f2a9c0d1e4b5a67"}
engine_image_added:
  description: Whether this run added the image to the whitelist (or would, in check mode).
  returned: always
  type: bool
listing_supported:
  description: Whether CDSW answered C(GET /api/v1/engine-images) with a list.
  returned: always
  type: bool
environment:
  description: The project's environment variables after the run (or as they would be, in check mode).
  returned: when project_owner and project are given
  type: dict
  sample: {"LD_LIBRARY_PATH": "/usr/local/cuda/lib64:/usr/local/lib"}
environment_changed:
  description: Variables this run set or changed on the project.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlstack.cdh.plugins.module_utils.cdsw_api import (
    ENGINE_IMAGES_PATH,
    CdswApiError,
    CdswClient,
    project_environment_path,
)

# Statuses with which CDSW refuses a duplicate whitelist entry.
_DUPLICATE_STATUSES = (409, 422)


def _image_list(data):
    """The listing as a list of dicts, whatever envelope CDSW puts around it."""
    if isinstance(data, dict):
        for key in ("engineImages", "engine_images", "images", "data"):
            if isinstance(data.get(key), list):
                return data[key]
        return []
    return data if isinstance(data, list) else []


def _find_image(images, repository, tag):
    for image in images:
        if not isinstance(image, dict):
            continue
        if str(image.get("repository", "")).strip() == repository and str(image.get("tag", "")).strip() == tag:
            return image
    return None


def ensure_engine_image(module, client, repository, tag, description):
    """Return (added, image, listing_supported)."""
    wanted = {"repository": repository, "tag": tag, "description": description}
    listing_supported = True
    try:
        dummy, data = client.request("GET", ENGINE_IMAGES_PATH)
    except CdswApiError as exc:
        if exc.status not in (404, 405):
            raise
        listing_supported = False
        data = None
    if listing_supported:
        existing = _find_image(_image_list(data), repository, tag)
        if existing is not None:
            return False, existing, True
        if module.check_mode:
            return True, wanted, True
    elif module.check_mode:
        module.warn("CDSW does not list engine images at GET %s; check mode cannot tell whether %s:%s "
                    "is already whitelisted and reports a change." % (ENGINE_IMAGES_PATH, repository, tag))
        return True, wanted, False

    try:
        dummy, created = client.request("POST", ENGINE_IMAGES_PATH, {"engineImage": wanted}, ok=(200, 201))
    except CdswApiError as exc:
        if exc.status in _DUPLICATE_STATUSES and "exist" in (exc.body or "").lower():
            return False, wanted, listing_supported
        raise
    if isinstance(created, dict):
        created = created.get("engineImage", created)
    return True, created if isinstance(created, dict) and created else wanted, listing_supported


def ensure_environment(module, client, owner, project, wanted):
    """Return (changed_keys, before, after)."""
    path = project_environment_path(owner, project)
    dummy, current = client.request("GET", path)
    if current is None:
        current = {}
    if not isinstance(current, dict):
        module.fail_json(msg="CDSW answered GET %s with %r, not an object of variables" % (path, current))
    after = dict(current)
    after.update(wanted)
    changed_keys = sorted(k for k in wanted if current.get(k) != wanted[k])
    if changed_keys and not module.check_mode:
        # The PUT replaces the whole set, so the merged dict keeps the variables not managed here.
        client.request("PUT", path, after, ok=(200, 204))
    return changed_keys, current, after


def main():
    module = AnsibleModule(
        argument_spec=dict(
            api_url=dict(type="str", required=True),
            api_key=dict(type="str", required=True, no_log=True),
            repository=dict(type="str", required=True),
            tag=dict(type="str", required=True),
            description=dict(type="str", default=""),
            project_owner=dict(type="str"),
            project=dict(type="str"),
            environment=dict(type="dict", default={}),
            timeout=dict(type="int", default=30),
            validate_certs=dict(type="bool", default=True),
        ),
        required_together=[("project_owner", "project")],
        supports_check_mode=True,
    )
    params = module.params
    repository = params["repository"].strip()
    tag = params["tag"].strip()
    if not repository or not tag:
        module.fail_json(msg="repository and tag must not be empty")
    if ":" in tag or "/" in tag:
        module.fail_json(msg="tag %r looks like an image reference; give the repository and the bare tag" % tag)
    if params["environment"] and not params["project"]:
        module.fail_json(msg="environment needs project_owner and project: CDSW sets variables per project")
    if params["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds")
    environment = {}
    for key, value in params["environment"].items():
        if value is None:
            module.fail_json(msg="environment variable %s has no value" % key)
        environment[str(key)] = value if isinstance(value, str) else str(value)

    try:
        client = CdswClient(module, params["api_url"], params["api_key"],
                            timeout=params["timeout"], validate_certs=params["validate_certs"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    result = dict(changed=False, environment_changed=[])
    diff_before = {}
    diff_after = {}
    try:
        added, image, listing_supported = ensure_engine_image(
            module, client, repository, tag, params["description"])
        result.update(engine_image=image, engine_image_added=added, listing_supported=listing_supported)
        reference = "%s:%s" % (repository, tag)
        diff_before["engine_image"] = "absent" if added else reference
        diff_after["engine_image"] = reference
        if params["project"]:
            changed_keys, before, after = ensure_environment(
                module, client, params["project_owner"], params["project"], environment)
            result.update(environment=after, environment_changed=changed_keys)
            diff_before["environment"] = before
            diff_after["environment"] = after
    except CdswApiError as exc:
        module.fail_json(msg=exc.msg, status=exc.status, url=exc.url)

    result["changed"] = bool(result["engine_image_added"] or result["environment_changed"])
    if module._diff:
        result["diff"] = dict(before=diff_before, after=diff_after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
