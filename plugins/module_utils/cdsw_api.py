# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small HTTP client for the Cloudera Data Science Workbench (CDSW) API v1.

Cloudera documents only the Jobs API of v1 ("Cloudera Data Science Workbench Jobs API",
https://docs.cloudera.com/documentation/data-science-workbench/1-8-x/topics/cdsw_rest_apis.html);
the administration endpoints below are the ones CDSW's own web UI calls, and the sources are
public provisioning code that drives them. Each endpoint names its source:

``POST /api/v1/authenticate``
    Body ``{"login": <user>, "password": <password>}``; the answer's ``auth_token`` is sent as
    ``Authorization: Bearer <auth_token>`` on every later call. Sources: the ``api`` property of
    ``setup/terraform/resources/cdsw_setup.py`` in asdaraujo/edge2ai-workshop, and the
    ``cdsw_api_login`` function of a CDSW workshop provisioning script. Every public example of an
    administration write (engine images, site configuration) uses this session token, not the
    Jobs API's API-key Basic authentication.
``GET /api/v1/engine-images``
    The site's engine images as a JSON array of ``{id, repository, tag, description, ...}``
    (edge2ai ``cdsw_get_engine_image``, which matches on repository and tag).
``POST /api/v1/engine-images``
    Body ``{"engineImage": {"description", "repository", "tag"}}``; 200 with the stored image and
    its ``id`` (edge2ai ``cdsw_create_engine_image``; the workshop script's
    ``cdsw_api_add_engine_image``).
``GET``/``PATCH /api/v1/projects/<owner>/<project>/engine-images``
    The project's engine image (an object with ``id``) / select one with ``{"engineImageId": <id>}``
    (edge2ai ``cdsw_get_project_engine_image`` and ``create_user``; fastforwardlabs/cmlbootstrap
    ``get_default_engine``).
``GET``/``PATCH /api/v1/site/config``
    The site settings as one flat object; a PATCH sends the changed fields and answers 200 with
    the settings (edge2ai ``cdsw_get_site_config`` / ``cdsw_patch_site_config``).
    ``max_gpu_per_engine`` is Admin > Engines "Maximum GPUs per Session/Job": CML's published
    helper scripts read it to tell whether GPUs are enabled; writing it with the same PATCH as
    the other fields is this collection's inference, not a published example.
``GET``/``PUT /api/v1/projects/<owner>/<project>/environment``
    The project's environment variables as an object / replace them all (answers 204), so a
    caller merges before it writes (cmlbootstrap ``get_environment_variables`` and
    ``create_environment_variable``).
"""

from __future__ import annotations

import json

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.dlstack.cdh.plugins.module_utils import http_api
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import InvalidInput, ModuleError

AUTHENTICATE_PATH = "/api/v1/authenticate"
ENGINE_IMAGES_PATH = "/api/v1/engine-images"
SITE_CONFIG_PATH = "/api/v1/site/config"


class CdswApiError(ModuleError):
    """A CDSW API call failed; ``status`` is the HTTP status (-1: no answer)."""

    def __init__(self, msg, status=None, body=None, url=None, method=None):
        super().__init__(msg, status=status, url=url)
        self.status = status
        self.body = body
        self.method = method


def validate_api_url(api_url):
    """Return the base URL without a trailing slash, or raise InvalidInput."""
    if not api_url or not api_url.strip():
        raise InvalidInput("api_url is empty; give the CDSW web address, e.g. https://cdsw.example.com")
    try:
        return http_api.base_url(api_url, "api_url", "https://cdsw.example.com")
    except ValueError as exc:
        raise InvalidInput(str(exc))


def project_path(owner, project, leaf):
    """``/api/v1/projects/<owner>/<project>/<leaf>`` with owner and project URL-quoted."""
    return "/api/v1/projects/%s/%s/%s" % (quote(owner, safe=""), quote(project, safe=""), leaf)


class CdswClient:
    """JSON requests against one CDSW site as one user, with the session token of /authenticate."""

    def __init__(self, module, api_url, username, password, timeout=30):
        self.module = module
        self.base_url = validate_api_url(api_url)
        if not username or not password:
            raise InvalidInput("give the CDSW user name and password of a site administrator: CDSW's "
                               "administration endpoints take the session token of POST %s" % AUTHENTICATE_PATH)
        self.username = username
        self.password = password
        self.timeout = timeout
        self._token = None

    def login(self):
        """POST /api/v1/authenticate once; later requests send its auth_token."""
        if self._token is None:
            dummy, data = self._send("POST", AUTHENTICATE_PATH, {"login": self.username, "password": self.password},
                                     ok=(200, 201), authorization=None)
            token = data.get("auth_token") if isinstance(data, dict) else None
            if not token:
                raise CdswApiError("CDSW answered POST %s%s without an auth_token" % (self.base_url, AUTHENTICATE_PATH),
                                   url=self.base_url + AUTHENTICATE_PATH, method="POST")
            self._token = token
        return self._token

    def request(self, method, path, payload=None, ok=(200,)):
        """Send one authenticated request; return ``(status, decoded JSON or None)``.

        Statuses in ``ok`` return; any other raises CdswApiError with the server's own message.
        """
        return self._send(method, path, payload, ok, authorization="Bearer %s" % self.login())

    def _send(self, method, path, payload, ok, authorization):
        url = self.base_url + path
        headers = {"Accept": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        data = None
        if payload is not None:
            data = json.dumps(payload, sort_keys=True)
            headers["Content-Type"] = "application/json"
        status, info, body = http_api.send(self.module, url, method, headers, data, self.timeout)
        if status not in ok:
            raise self._error(method, url, status, info, body)
        try:
            return status, http_api.json_body(body)
        except ValueError:
            raise CdswApiError("CDSW answered %s with something that is not JSON: %r"
                               % (url, http_api.text(body)[:200]), url=url)

    def _error(self, method, url, status, info, body):
        detail = http_api.error_message(body) or info.get("msg", "")
        if status == -1:
            msg = info.get("msg", "")
            if "timed out" in msg.lower():
                text = "CDSW at %s did not answer in time (%s)" % (url, msg)
            else:
                text = "Cannot reach CDSW at %s: %s" % (url, msg)
        elif status == 401 and url.endswith(AUTHENTICATE_PATH):
            text = "CDSW refused the login of %s (401 Unauthorized): %s" % (self.username, detail)
        elif status == 401:
            text = "CDSW refused the session of %s for %s %s (401 Unauthorized): %s" % (
                self.username, method, url, detail)
        elif status == 403:
            text = "CDSW user %s may not %s %s (403 Forbidden; a site administrator is needed): %s" % (
                self.username, method, url, detail)
        elif status == 404:
            text = "CDSW has no %s (404 Not Found): %s" % (url, detail)
        else:
            text = "CDSW answered %s %s with HTTP %s: %s" % (method, url, status, detail)
        return CdswApiError(text, status=status, body=detail, url=url, method=method)
