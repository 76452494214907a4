# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small HTTP client for the Cloudera Data Science Workbench (CDSW) API v1.

Only the endpoints below are used; each is listed with where it is documented
or where working client code uses it (CDSW's v1 API is mostly undocumented
outside the Jobs API, so community code is the source for the rest):

Authentication
    HTTP Basic with the user's API key as user name and an empty password
    (``Authorization: Basic base64("<API_KEY>:")``). Source: Cloudera docs,
    "Cloudera Data Science Workbench Jobs API", API Key Authentication,
    https://docs.cloudera.com/documentation/data-science-workbench/1-6-x/topics/cdsw_rest_apis.html

``POST /api/v1/engine-images``
    Adds an engine image to the site whitelist (Admin > Engines). Body
    ``{"engineImage": {"description": ..., "repository": ..., "tag": ...}}``.
    Source: the ``cdsw_api_add_engine_image`` function of a CDSW workshop
    provisioning script (bash, curl) found with the code search of this project.

``GET /api/v1/engine-images``
    NOT confirmed by a source: the listing is assumed to answer on the same
    collection path with a JSON list of ``{id, repository, tag, description}``.
    Callers treat 404/405 here as "listing unavailable" and fall back to the
    POST, where a 409/422 "already exists" answer means no change.

``GET /api/v1/projects/<owner>/<project>/environment``
    Returns the project's environment variables as a JSON object.
``PUT /api/v1/projects/<owner>/<project>/environment``
    Replaces them with the JSON object sent (all variables, not a patch);
    answers 204. Source for both: ``get_environment_variables`` and
    ``create_environment_variable`` in fastforwardlabs/cmlbootstrap
    (cmlbootstrap/CMLBootstrap.py), which GETs, merges and PUTs the whole dict.
"""

from __future__ import annotations

import base64
import json

from ansible.module_utils.six.moves.urllib.parse import quote, urlparse
from ansible.module_utils.urls import fetch_url

ENGINE_IMAGES_PATH = "/api/v1/engine-images"


class CdswApiError(Exception):
    """A CDSW API call failed; ``status`` is the HTTP status (-1: no answer)."""

    def __init__(self, msg, status=None, body=None, url=None, method=None):
        super().__init__(msg)
        self.msg = msg
        self.status = status
        self.body = body
        self.url = url
        self.method = method


def validate_api_url(api_url):
    """Return the base URL without a trailing slash, or raise ValueError."""
    if not api_url or not api_url.strip():
        raise ValueError("api_url is empty; give the CDSW web address, e.g. https://cdsw.example.com")
    parsed = urlparse(api_url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(
            "api_url %r is not an http(s) URL with a host, e.g. https://cdsw.example.com" % api_url
        )
    if parsed.query or parsed.fragment:
        raise ValueError("api_url %r must not carry a query string or fragment" % api_url)
    return api_url.strip().rstrip("/")


def project_environment_path(owner, project):
    """Path of a project's environment; owner and project are URL-quoted."""
    return "/api/v1/projects/%s/%s/environment" % (quote(owner, safe=""), quote(project, safe=""))


def basic_auth_header(api_key):
    """CDSW API key authentication: the key as Basic user name, no password."""
    token = base64.b64encode(("%s:" % api_key).encode("utf-8")).decode("ascii")
    return "Basic %s" % token


def _message_from_body(body):
    """CDSW answers errors as JSON ``{"message": ...}``; fall back to the raw text."""
    if not body:
        return ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:500]
    if isinstance(data, dict):
        for key in ("message", "error", "msg"):
            if data.get(key):
                return str(data[key])
    return body.strip()[:500]


class CdswClient:
    """JSON requests against one CDSW site with one API key."""

    def __init__(self, module, api_url, api_key, timeout=30, validate_certs=True):
        self.module = module
        self.base_url = validate_api_url(api_url)
        if not api_key:
            raise ValueError("api_key is empty; create one under the user's Settings > API Key in CDSW")
        self.api_key = api_key
        self.timeout = timeout
        # fetch_url reads validate_certs from the module's own params.
        self.validate_certs = validate_certs

    def request(self, method, path, payload=None, ok=(200,)):
        """Send one request; return ``(status, decoded JSON or None)``.

        Statuses in ``ok`` return; any other raises CdswApiError with the
        server's own message, so callers can treat e.g. 409 specially.
        """
        url = self.base_url + path
        headers = {
            "Authorization": basic_auth_header(self.api_key),
            "Accept": "application/json",
        }
        data = None
        if payload is not None:
            data = json.dumps(payload, sort_keys=True)
            headers["Content-Type"] = "application/json"
        resp, info = fetch_url(
            self.module, url, data=data, headers=headers, method=method,
            timeout=self.timeout, force=True, use_proxy=True,
        )
        status = info.get("status", -1)
        # On HTTP errors fetch_url has already read the body into info["body"].
        if "body" in info:
            body = info["body"]
        elif resp is not None:
            body = resp.read()
        else:
            body = b""
        if status in ok:
            return status, self._decode(body, url)
        raise self._error(method, url, status, info, body)

    @staticmethod
    def _decode(body, url):
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        if not body or not body.strip():
            return None
        try:
            return json.loads(body)
        except ValueError:
            raise CdswApiError("CDSW answered %s with something that is not JSON: %r" % (url, body[:200]), url=url)

    @staticmethod
    def _error(method, url, status, info, body):
        detail = _message_from_body(body) or info.get("msg", "")
        if status == -1:
            msg = info.get("msg", "")
            if "timed out" in msg.lower():
                text = "CDSW at %s did not answer in time (%s)" % (url, msg)
            else:
                text = "Cannot reach CDSW at %s: %s" % (url, msg)
        elif status == 401:
            text = "CDSW rejected the API key (401 Unauthorized) for %s %s: %s" % (method, url, detail)
        elif status == 403:
            text = "The API key's user may not %s %s (403 Forbidden; site administrator needed?): %s" % (
                method, url, detail)
        elif status == 404:
            text = "CDSW has no %s (404 Not Found): %s" % (url, detail)
        else:
            text = "CDSW answered %s %s with HTTP %s: %s" % (method, url, status, detail)
        return CdswApiError(text, status=status, body=detail, url=url, method=method)
