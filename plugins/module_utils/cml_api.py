# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small HTTP client for the Cloudera Machine Learning (CML) API v2: the Runtime Catalog.

Sources: Cloudera's "CML API v2" page (https://docs.cloudera.com/machine-learning/1.5.4/api/topics/ml-api-v2.html:
``Authorization: Bearer <API v2 key>``; each workspace serves its OpenAPI specification at
``/api/v2/swagger.json``) and the operations of that specification:

``GET /api/v2/runtimes`` (ListRuntimes)
    Query ``search_filter`` (a JSON object; keys ``image_identifier``, ``editor``, ``kernel``,
    ``edition``, ``description``, ``full_version``), ``page_size``, ``page_token``. Answers
    ``{"runtimes": [Runtime], "next_page_token": ""}``; an empty token is the last page. A Runtime
    has ``image_identifier``, ``editor``, ``kernel``, ``edition``, ``description``,
    ``full_version``, ``status`` (ENABLED, DISABLED, DEPRECATED).
``POST /api/v2/runtimes`` (RegisterCustomRuntime)
    Body ``{"url": <image>, "docker_credential_id": <id>}``. Answers 200 with
    ``{"validation_success", "insert_success", "reason", "reason_data", "details"}``: a 200 whose
    flags are false did not add the runtime, and ``reason`` says why (CML reads the image's
    ``com.cloudera.ml.runtime.*`` labels; "Metadata for Custom ML Runtimes",
    https://docs.cloudera.com/machine-learning/cloud/runtimes/topics/ml-metadata-for-custom-runtimes.html).

Errors of every operation: ``{"error", "code", "message", "details"}`` (grpc-gateway's error body).
"""

from __future__ import annotations

import json

from ansible.module_utils.six.moves.urllib.parse import urlencode

from ansible_collections.dlstack.cdh.plugins.module_utils import http_api
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import InvalidInput, ModuleError

RUNTIMES_PATH = "/api/v2/runtimes"
# 100 runtimes a page: a catalog larger than this is not a real workspace's.
MAX_PAGES = 100


class CmlApiError(ModuleError):
    """A CML API call failed; ``status`` is the HTTP status (-1: no answer)."""

    def __init__(self, msg, status=None, url=None):
        super().__init__(msg, status=status, url=url)
        self.status = status


class CmlClient:
    def __init__(self, module, api_url, api_key, timeout=30):
        try:
            self.base_url = http_api.base_url(api_url, "api_url (the workspace's address)",
                                              "https://ml-1234.example.com")
        except ValueError as exc:
            raise InvalidInput(str(exc))
        if not api_key:
            raise InvalidInput("api_key is empty; create an API v2 key under User Settings > API Keys")
        self.module = module
        self.api_key = api_key
        self.timeout = timeout

    def request(self, method, path, query=None, payload=None):
        url = self.base_url + path
        if query:
            url += "?" + urlencode(sorted(query.items()))
        headers = {"Authorization": "Bearer %s" % self.api_key, "Accept": "application/json"}
        data = None
        if payload is not None:
            data = json.dumps(payload, sort_keys=True)
            headers["Content-Type"] = "application/json"
        status, info, body = http_api.send(self.module, url, method, headers, data, self.timeout)
        if status == 200:
            try:
                return http_api.json_body(body) or {}
            except ValueError:
                raise CmlApiError("CML answered %s %s with something that is not JSON" % (method, url), url=url)
        if status == -1:
            raise CmlApiError("Cannot reach CML at %s: %s" % (url, info.get("msg", "")), status=-1, url=url)
        reason = http_api.error_message(body) or info.get("msg", "")
        if status == 401:
            text = "CML rejected the API v2 key (401) for %s %s: %s" % (method, url, reason)
        elif status == 403:
            text = "The API key's user may not %s %s (403; an administrator is needed): %s" % (method, url, reason)
        else:
            text = "CML answered %s %s with HTTP %s: %s" % (method, url, status, reason)
        raise CmlApiError(text, status=status, url=url)

    def find_runtime(self, image):
        """The catalog's runtime with this image identifier, or None (follows next_page_token)."""
        query = {"search_filter": json.dumps({"image_identifier": image}, sort_keys=True), "page_size": 100}
        seen_tokens = set()
        for dummy in range(MAX_PAGES):
            answer = self.request("GET", RUNTIMES_PATH, query)
            runtimes = answer.get("runtimes") if isinstance(answer, dict) else None
            if not isinstance(runtimes, list):
                raise CmlApiError("CML answered GET %s%s without a runtimes list: %r"
                                  % (self.base_url, RUNTIMES_PATH, answer), url=self.base_url + RUNTIMES_PATH)
            for runtime in runtimes:
                # The filter is a search; keep the exact match only.
                if isinstance(runtime, dict) and runtime.get("image_identifier") == image:
                    return runtime
            token = answer.get("next_page_token")
            if not token:
                return None
            if token in seen_tokens:
                raise CmlApiError("CML answered GET %s%s with the page token %r twice" % (
                    self.base_url, RUNTIMES_PATH, token), url=self.base_url + RUNTIMES_PATH)
            seen_tokens.add(token)
            query = dict(query, page_token=token)
        raise CmlApiError("CML listed more than %d pages of runtimes for %s" % (MAX_PAGES, image),
                          url=self.base_url + RUNTIMES_PATH)

    def register_runtime(self, image, docker_credential_id=None):
        payload = {"url": image}
        if docker_credential_id:
            payload["docker_credential_id"] = docker_credential_id
        answer = self.request("POST", RUNTIMES_PATH, payload=payload)
        if not (isinstance(answer, dict) and answer.get("validation_success") and answer.get("insert_success")):
            answer = answer if isinstance(answer, dict) else {}
            step = "validate" if not answer.get("validation_success") else "add"
            raise CmlApiError("CML did not %s the runtime %s: %s%s" % (
                step, image, answer.get("reason") or "no reason given",
                " (%s)" % answer["reason_data"] if answer.get("reason_data") else ""),
                status=200, url=self.base_url + RUNTIMES_PATH)
        return answer
