#!/usr/bin/python
# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cdsw_engine_image
short_description: Whitelist a custom engine image in CDSW, make a project use it, and set GPUs and environment
version_added: "0.1.0"
description:
  - Adds a custom (extensible) engine image to the site-wide engine image list of Cloudera Data
    Science Workbench (CDSW) 1.x, and optionally sets the site's maximum GPUs per session, selects
    the image as one project's engine and sets that project's environment variables (for example
    C(LD_LIBRARY_PATH) for CUDA), through the CDSW API v1 as a site administrator.
  - Reads everything first and writes after, so a wrong login, a project that does not exist or a
    listing CDSW cannot give fails before anything changes.
  - "Cloudera documents only the Jobs API of v1; the endpoints used here are the ones CDSW's web UI
    calls, and each has a public source (see also C(module_utils/cdsw_api.py)):
    C(POST /api/v1/authenticate) with C({\"login\", \"password\"}), whose C(auth_token) is sent as
    C(Authorization: Bearer) (asdaraujo/edge2ai-workshop C(cdsw_setup.py), and a CDSW workshop
    provisioning script's C(cdsw_api_login));
    C(GET /api/v1/engine-images) (a JSON array) and C(POST /api/v1/engine-images) with
    C({\"engineImage\": {\"description\", \"repository\", \"tag\"}}) (edge2ai C(cdsw_get_engine_image),
    C(cdsw_create_engine_image));
    C(GET)/C(PATCH /api/v1/projects/<owner>/<project>/engine-images) with C({\"engineImageId\": <id>})
    (edge2ai C(cdsw_get_project_engine_image), fastforwardlabs/cmlbootstrap C(get_default_engine));
    C(GET)/C(PATCH /api/v1/site/config) (edge2ai C(cdsw_get_site_config), C(cdsw_patch_site_config));
    C(GET)/C(PUT /api/v1/projects/<owner>/<project>/environment), where the PUT replaces the whole
    set and answers 204 (cmlbootstrap C(get_environment_variables), C(create_environment_variable))."
  - "An inference, not a published example: O(max_gpus_per_session) is written as the site
    setting C(max_gpu_per_engine), which CML's published helper scripts read to tell whether GPUs
    are enabled, with the same PATCH that edge2ai uses for other site settings."
  - Not managed, because no public source shows the endpoint - the site's host mounts (Admin >
    Engines > Mounts); configure them in the web UI.
  - Idempotent; supports check mode and diff.
author:
  - dlstack.cdh maintainers (@dlstack-cdh)
options:
  api_url:
    description:
      - Base web address of CDSW, for example C(https://cdsw.example.com). The module appends C(/api/v1/...).
    type: str
    required: true
  username:
    description:
      - Login of a CDSW site administrator (adding engine images and changing site settings need one).
    type: str
    required: true
  password:
    description:
      - Password of O(username), sent once to C(POST /api/v1/authenticate).
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
  max_gpus_per_session:
    description:
      - The site's maximum number of GPUs one session or job may ask for (Admin > Engines,
        "Maximum GPUs per Session/Job"); C(0) disables GPUs. Left as it is when not given.
    type: int
  project_owner:
    description:
      - User or team that owns the project that uses the image.
    type: str
  project:
    description:
      - Project name (slug) that uses the image and gets O(environment).
    type: str
  select_engine:
    description:
      - Make the image the project's engine.
    type: bool
    default: true
  environment:
    description:
      - Variables to set on the project. Variables not listed are kept as they are.
      - Values are sent as strings.
    type: dict
    default: {}
extends_documentation_fragment:
  - dlstack.cdh.attributes
  - dlstack.cdh.http_api
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - CDSW still has to be able to pull the image from its registry; this module only registers it.
  - CDSW's successor, Cloudera Machine Learning, uses ML Runtimes instead of engine images.
seealso:
  - name: Cloudera Data Science Workbench Jobs API
    description: The only part of API v1 that Cloudera documents (API-key Basic authentication).
    link: https://docs.cloudera.com/documentation/data-science-workbench/1-8-x/topics/cdsw_rest_apis.html
  - name: Managing engine images
    description: Site administrators add custom engine images; projects select one.
    link: https://docs.cloudera.com/cdsw/1.10.5/engine-configuration/topics/cdsw-managing-engine-images.html
"""

EXAMPLES = r"""
- name: Whitelist the GPU engine, allow one GPU per session and point the project at CUDA
  dlstack.cdh.cdsw_engine_image:
    api_url: https://cdsw.example.com
    username: admin
    password: "{{ vault_cdsw_admin_password }}"
    repository: registry.example.com:5000/dlstack/cdsw-engine-gpu
    tag: 3f2a9c0d1e4b5a67
    description: CDSW engine with CUDA, cuDNN and Caffe
    max_gpus_per_session: 1
    project_owner: analytics
    project: deep-learning
    environment:
      LD_LIBRARY_PATH: /usr/local/cuda/lib64:/usr/local/lib
      CUDA_HOME: /usr/local/cuda
"""

RETURN = r"""
engine_image:
  description: The whitelisted image as CDSW lists it (as it would be sent, in check mode before it exists).
  returned: always
  type: dict
  sample: {"id": 7, "repository": "registry.example.com:5000/dlstack/cdsw-engine-gpu", "tag": "3f2a9c0d1e4b5a67"}
engine_image_added:
  description: Whether this run added the image to the site's list (or would, in check mode).
  returned: always
  type: bool
max_gpus_per_session:
  description: The site's maximum GPUs per session before and after the run.
  returned: when max_gpus_per_session is given
  type: dict
  sample: {"before": 0, "after": 1}
project_engine_image_id:
  description: The id of the project's engine image after the run (null in check mode before the image exists).
  returned: when project_owner and project are given and select_engine is true
  type: int
project_engine_selected:
  description: Whether this run made the image the project's engine (or would, in check mode).
  returned: always
  type: bool
environment:
  description:
    - The managed variables (the keys of O(environment)) as the project has them after the run (or
      would, in check mode). The project's other variables are kept and not returned, since they
      may hold credentials.
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
    SITE_CONFIG_PATH,
    CdswApiError,
    CdswClient,
    project_path,
)
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import InvalidInput, failure_boundary


def _find_image(images, repository, tag):
    for image in images:
        if isinstance(image, dict) and (str(image.get("repository", "")).strip(),
                                        str(image.get("tag", "")).strip()) == (repository, tag):
            return image
    return None


def _as_int(value):
    """CDSW's setting as a number when it is one (it may come back as a string)."""
    if isinstance(value, bool):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _read_object(client, path, what):
    dummy, data = client.request("GET", path)
    if not isinstance(data, dict):
        raise CdswApiError("CDSW answered GET %s%s with %r, not %s" % (client.base_url, path, data, what),
                           url=client.base_url + path, method="GET")
    return data


class Plan:
    """What the reads found and the writes that follow from them."""

    def __init__(self, params):
        self.params = params
        self.image = None
        self.add_image = False
        self.site_gpus = None
        self.project_image_id = None
        self.environment_before = None
        self.environment_after = None
        self.environment_changed = []


def read_state(client, params):
    plan = Plan(params)
    wanted = {"repository": params["repository"], "tag": params["tag"], "description": params["description"]}
    dummy, images = client.request("GET", ENGINE_IMAGES_PATH)
    if not isinstance(images, list):
        raise CdswApiError("CDSW answered GET %s%s with %r, not a list of engine images"
                           % (client.base_url, ENGINE_IMAGES_PATH, images), url=client.base_url + ENGINE_IMAGES_PATH)
    plan.image = _find_image(images, params["repository"], params["tag"])
    if plan.image is None:
        plan.image, plan.add_image = wanted, True
    if params["max_gpus_per_session"] is not None:
        config = _read_object(client, SITE_CONFIG_PATH, "an object of site settings")
        plan.site_gpus = _as_int(config.get("max_gpu_per_engine"))
    if params["project"]:
        owner, project = params["project_owner"], params["project"]
        if params["select_engine"]:
            current = _read_object(client, project_path(owner, project, "engine-images"), "an engine image")
            plan.project_image_id = current.get("id")
        environment = _read_object(client, project_path(owner, project, "environment"), "an object of variables")
        plan.environment_before = environment
        plan.environment_after = dict(environment, **params["environment"])
        plan.environment_changed = sorted(k for k, v in params["environment"].items() if environment.get(k) != v)
    return plan


def apply(module, client, plan, result):
    """The writes the reads called for; each one sets ``changed`` as soon as it is made, so a
    failure after it still reports the change."""
    params = plan.params
    if plan.add_image and not module.check_mode:
        dummy, created = client.request("POST", ENGINE_IMAGES_PATH, {"engineImage": plan.image}, ok=(200, 201))
        result.update(changed=True, engine_image_added=True)
        if not isinstance(created, dict) or created.get("id") is None:
            raise CdswApiError("CDSW answered POST %s%s without the new image's id (%r)"
                               % (client.base_url, ENGINE_IMAGES_PATH, created), url=client.base_url + ENGINE_IMAGES_PATH)
        plan.image = created
    result.update(engine_image=plan.image, engine_image_added=plan.add_image)

    if params["max_gpus_per_session"] is not None:
        wanted = params["max_gpus_per_session"]
        if plan.site_gpus != wanted and not module.check_mode:
            dummy, config = client.request("PATCH", SITE_CONFIG_PATH, {"max_gpu_per_engine": wanted})
            result["changed"] = True
            if isinstance(config, dict) and "max_gpu_per_engine" in config and \
                    _as_int(config["max_gpu_per_engine"]) != wanted:
                raise CdswApiError("CDSW kept max_gpu_per_engine at %r after PATCH %s%s {\"max_gpu_per_engine\": %d}"
                                   % (config["max_gpu_per_engine"], client.base_url, SITE_CONFIG_PATH, wanted),
                                   url=client.base_url + SITE_CONFIG_PATH, method="PATCH")
        result["max_gpus_per_session"] = dict(before=plan.site_gpus, after=wanted)

    result["project_engine_selected"] = False
    if params["project"] and params["select_engine"]:
        image_id = plan.image.get("id")
        if plan.add_image or plan.project_image_id != image_id:
            result["project_engine_selected"] = True
            if not module.check_mode:
                client.request("PATCH", project_path(params["project_owner"], params["project"], "engine-images"),
                               {"engineImageId": image_id})
                result["changed"] = True
        result["project_engine_image_id"] = image_id

    if params["project"]:
        if plan.environment_changed and not module.check_mode:
            # The PUT replaces the whole set, so the merged dict keeps the variables not managed here.
            client.request("PUT", project_path(params["project_owner"], params["project"], "environment"),
                           plan.environment_after, ok=(200, 204))
            result["changed"] = True
        # Only the variables managed here: a project's others may hold credentials.
        result.update(environment=_managed(plan.environment_after, params),
                      environment_changed=plan.environment_changed)


def diff_of(plan, result):
    params = plan.params
    reference = "%s:%s" % (params["repository"], params["tag"])
    before = {"engine_image": "absent" if plan.add_image else reference}
    after = {"engine_image": reference}
    if "max_gpus_per_session" in result:
        before["max_gpus_per_session"] = plan.site_gpus
        after["max_gpus_per_session"] = params["max_gpus_per_session"]
    if "project_engine_image_id" in result:
        before["project_engine_image_id"] = plan.project_image_id
        after["project_engine_image_id"] = result["project_engine_image_id"]
    if params["project"]:
        before["environment"] = _managed(plan.environment_before, params)
        after["environment"] = _managed(plan.environment_after, params)
    return dict(before=before, after=after)


def _managed(environment, params):
    return dict((k, environment[k]) for k in params["environment"] if k in environment)


def checked_params(module):
    params = dict(module.params)
    params["repository"] = params["repository"].strip()
    params["tag"] = params["tag"].strip()
    if not params["repository"] or not params["tag"]:
        raise InvalidInput("repository and tag must not be empty")
    if ":" in params["tag"] or "/" in params["tag"]:
        raise InvalidInput("tag %r looks like an image reference; give the repository and the bare tag" % params["tag"])
    if params["environment"] and not params["project"]:
        raise InvalidInput("environment needs project_owner and project: CDSW sets variables per project")
    if params["timeout"] <= 0:
        raise InvalidInput("timeout must be a positive number of seconds")
    if params["max_gpus_per_session"] is not None and params["max_gpus_per_session"] < 0:
        raise InvalidInput("max_gpus_per_session must be 0 (no GPUs) or more, not %s" % params["max_gpus_per_session"])
    environment = {}
    for key, value in params["environment"].items():
        if value is None:
            raise InvalidInput("environment variable %s has no value" % key)
        environment[str(key)] = value if isinstance(value, str) else str(value)
    params["environment"] = environment
    return params


def main():
    module = AnsibleModule(
        argument_spec=dict(
            api_url=dict(type="str", required=True),
            username=dict(type="str", required=True),
            password=dict(type="str", required=True, no_log=True),
            repository=dict(type="str", required=True),
            tag=dict(type="str", required=True),
            description=dict(type="str", default=""),
            max_gpus_per_session=dict(type="int"),
            project_owner=dict(type="str"),
            project=dict(type="str"),
            select_engine=dict(type="bool", default=True),
            environment=dict(type="dict", default={}),
            timeout=dict(type="int", default=30),
            validate_certs=dict(type="bool", default=True),
        ),
        required_together=[("project_owner", "project")],
        supports_check_mode=True,
    )
    result = dict(changed=False, engine_image_added=False, project_engine_selected=False, environment_changed=[])
    with failure_boundary(module, result):
        params = checked_params(module)
        client = CdswClient(module, params["api_url"], params["username"], params["password"],
                            timeout=params["timeout"])
        plan = read_state(client, params)
        apply(module, client, plan, result)
        if module._diff:
            result["diff"] = diff_of(plan, result)
    gpus = result.get("max_gpus_per_session") or {}
    result["changed"] = bool(result["changed"] or result["engine_image_added"] or result["project_engine_selected"]
                             or result["environment_changed"] or gpus.get("before") != gpus.get("after"))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
