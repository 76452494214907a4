# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only client for a container registry's HTTP API V2 (Docker distribution / OCI).

Sources (the registry side is documented in distribution/distribution, docs/spec/):

* ``HEAD /v2/<name>/manifests/<reference>``: "Existing Manifests" in the HTTP API V2
  spec (``api.md``): 200 with ``Docker-Content-Digest`` when the registry has the tag,
  404 (``MANIFEST_UNKNOWN`` / ``NAME_UNKNOWN``) when it does not.
* ``GET /v2/<name>/manifests/<reference>`` and ``GET /v2/<name>/blobs/<digest>``: "Pulling an
  Image" in the same spec; an image index (OCI) or manifest list (Docker) names one manifest
  per platform, whose ``config`` blob is the image configuration with its ``config.Labels``
  (OCI image spec, ``config.md``).
* Authentication starts with the registry's ``401 Unauthorized`` and its
  ``WWW-Authenticate`` challenge (``api.md``, "Authentication"):

  - ``Basic realm="..."`` (htpasswd): the request is repeated with Basic credentials.
  - ``Bearer realm="...",service="...",scope="..."``: the "Token Authentication
    Specification" (``auth/token.md``): ``GET <realm>?service=<service>&scope=<scope>``
    with Basic credentials (when given), the answer is JSON with ``token`` (or the OAuth2
    alias ``access_token``), and the request is repeated with ``Authorization: Bearer``.
    Scopes are ``repository:<name>:<actions>`` (``auth/scope.md``). A token that does not
    grant the scope gets another 401 with ``error="insufficient_scope"``.

Errors raise :class:`RegistryError` (a ModuleError) with the registry's own message: the
``errors[].message`` of its JSON body, or the challenge's ``error``/``error_description``.
"""

from __future__ import annotations

import base64
import re

from ansible.module_utils.six.moves.urllib.parse import urlencode, urlparse

from ansible_collections.dlstack.cdh.plugins.module_utils import http_api
from ansible_collections.dlstack.cdh.plugins.module_utils.errors import InvalidInput, ModuleError

# Docker v2 and OCI manifests and indexes: ask for all, so a multi-arch tag also answers 200.
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)

# distribution's reference grammar for a repository path (docs/spec/api.md, "Overview").
_NAME = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_CHALLENGE_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*"([^"]*)"')


class RegistryError(ModuleError):
    """The registry (or its token service) refused or failed a request."""


def parse_challenge(header):
    """``(scheme, {param: value})`` of a ``WWW-Authenticate`` header; scheme lower-cased."""
    if not header or not header.strip():
        return "", {}
    scheme, _sep, rest = header.strip().partition(" ")
    return scheme.lower(), dict((k.lower(), v) for k, v in _CHALLENGE_PARAM.findall(rest))


def basic_header(username, password):
    token = base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii")
    return "Basic %s" % token


def registry_message(body, challenge_params=None):
    """The registry's reason: its JSON error body, else the challenge's ``error`` parameters."""
    reason = http_api.error_message(body, limit=300)
    if reason:
        return reason
    params = challenge_params or {}
    return ": ".join(params[k] for k in ("error", "error_description") if params.get(k))


class RegistryClient:
    """One registry, one set of credentials; keeps the last Bearer token and the scope it was for."""

    def __init__(self, module, registry, scheme="https", username="", password="", timeout=30):
        if scheme not in ("http", "https"):
            raise InvalidInput("registry scheme must be http or https, not %r" % scheme)
        if not registry or re.search(r"[/\s]", registry):
            raise InvalidInput("registry %r is not host[:port] (no scheme, no path), such as "
                               "registry.example.com:5000" % registry)
        if bool(username) != bool(password):
            raise InvalidInput("give the registry username and password together")
        self.module = module
        self.base_url = "%s://%s" % (scheme, registry)
        self.username = username
        self.password = password
        self.timeout = timeout
        self.auth_scheme = "none"
        self._authorization = None
        self._answered_scope = None

    def _fetch(self, url, method, headers):
        # Redirects are not followed with the credentials: a blob store elsewhere gets none.
        status, info, body = http_api.send(self.module, url, method, headers, timeout=self.timeout,
                                           follow_redirects=False)
        if status in (301, 302, 303, 307, 308) and info.get("location") and method in ("GET", "HEAD"):
            location = info["location"]
            if location.startswith("/"):
                location = self.base_url + location
            status, info, body = http_api.send(self.module, location, method, {"Accept": headers.get("Accept", "*/*")},
                                               timeout=self.timeout, follow_redirects=True)
        if status == -1:
            raise RegistryError("Cannot reach %s: %s" % (url, info.get("msg", "no answer")), url=url)
        return status, info, body

    def _token(self, params, scope, url):
        realm = params.get("realm", "")
        parsed = urlparse(realm)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise RegistryError("The registry's token challenge names no usable realm (%r) for %s" % (realm, url),
                                url=url)
        if self.username and parsed.scheme == "http" and self.base_url.startswith("https://"):
            raise RegistryError("The registry %s (https) names the token service %s over plain http; the "
                                "credentials are not sent there in clear text" % (self.base_url, realm), url=url)
        query = {}
        if params.get("service"):
            query["service"] = params["service"]
        query["scope"] = params.get("scope") or scope
        if self.username:
            query["account"] = self.username
        token_url = realm + ("&" if "?" in realm else "?") + urlencode(sorted(query.items()))
        headers = {"Accept": "application/json"}
        if self.username:
            headers["Authorization"] = basic_header(self.username, self.password)
        status, info, body = self._fetch(token_url, "GET", headers)
        if status != 200:
            who = "user %s" % self.username if self.username else "anonymous access"
            reason = registry_message(body) or info.get("msg", "")
            raise RegistryError("The registry's token service %s refused %s for scope %s (HTTP %s): %s"
                                % (realm, who, query["scope"], status, reason), status=status, url=realm)
        try:
            data = http_api.json_body(body)
        except ValueError:
            data = None
        token = None
        if isinstance(data, dict):
            # The token spec's field, or its OAuth2-compatible alias.
            token = data.get("token") or data.get("access_token")
        if not token:
            raise RegistryError("The token service %s answered without a token (%s)" % (realm, http_api.text(body)[:200]),
                                url=realm)
        return "Bearer %s" % token

    def request(self, method, path, scope, accept=()):
        """Send one request, answering at most one auth challenge; ``(status, info, body)``."""
        url = self.base_url + path
        headers = {}
        if accept:
            headers["Accept"] = ", ".join(accept)
        if self._authorization:
            headers["Authorization"] = self._authorization
        status, info, body = self._fetch(url, method, headers)
        if status != 401 or (self._authorization and self._answered_scope == scope):
            return status, info, body
        scheme, params = parse_challenge(info.get("www-authenticate", ""))
        if scheme == "basic":
            if not self.username:
                raise RegistryError("The registry %s wants credentials (Basic, realm %r); set the registry "
                                    "username and password" % (self.base_url, params.get("realm", "")),
                                    status=401, url=url)
            self._authorization = basic_header(self.username, self.password)
            self.auth_scheme = "basic"
        elif scheme == "bearer":
            self._authorization = self._token(params, scope, url)
            self.auth_scheme = "bearer"
        else:
            raise RegistryError("The registry answered %s %s with 401 and an authentication scheme this "
                                "client does not know (%r)" % (method, url, info.get("www-authenticate", "")),
                                status=401, url=url)
        self._answered_scope = scope
        headers["Authorization"] = self._authorization
        return self._fetch(url, method, headers)

    def _get_json(self, path, scope, accept=()):
        status, info, body = self.request("GET", path, scope, accept=accept)
        if status != 200:
            raise RegistryError("The registry answered GET %s%s with HTTP %s: %s" % (
                self.base_url, path, status, registry_message(body) or info.get("msg", "")),
                status=status, url=self.base_url + path)
        try:
            return http_api.json_body(body), info.get("content-type", "")
        except ValueError:
            raise RegistryError("The registry answered GET %s%s with something that is not JSON"
                                % (self.base_url, path), url=self.base_url + path)

    def labels(self, name, tag, architecture="amd64", os_name="linux"):
        """The image configuration's labels of ``<name>:<tag>`` (one platform of an index)."""
        scope = "repository:%s:pull" % name
        manifest, media_type = self._get_json("/v2/%s/manifests/%s" % (name, tag), scope, MANIFEST_TYPES)
        if isinstance(manifest, dict) and isinstance(manifest.get("manifests"), list):
            chosen = [m for m in manifest["manifests"] if isinstance(m, dict)
                      and (m.get("platform") or {}).get("architecture") == architecture
                      and (m.get("platform") or {}).get("os") == os_name]
            if not chosen:
                raise RegistryError("%s/%s:%s has no %s/%s image in its index" % (
                    self.base_url, name, tag, os_name, architecture))
            if not chosen[0].get("digest"):
                raise RegistryError("The index of %s:%s names its %s/%s image without a digest" % (
                    name, tag, os_name, architecture))
            manifest, media_type = self._get_json("/v2/%s/manifests/%s" % (name, chosen[0]["digest"]), scope,
                                                  MANIFEST_TYPES)
        config_digest = ((manifest or {}).get("config") or {}).get("digest") if isinstance(manifest, dict) else None
        if not config_digest:
            raise RegistryError("The manifest of %s:%s (%s) names no configuration blob" % (name, tag, media_type))
        config, dummy = self._get_json("/v2/%s/blobs/%s" % (name, config_digest), scope)
        labels = ((config or {}).get("config") or {}).get("Labels") if isinstance(config, dict) else None
        return dict(labels or {})

    def manifest(self, name, tag):
        """``(exists, digest, media_type)`` of ``<name>:<tag>``; refusals raise RegistryError."""
        if not _NAME.match(name or ""):
            raise InvalidInput("image name %r is not a registry repository path (lower-case components "
                               "separated by '/', such as dlstack/cdsw-engine-gpu)" % name)
        if not _TAG.match(tag or ""):
            raise InvalidInput("tag %r is not a valid image tag" % tag)
        scope = "repository:%s:pull" % name
        path = "/v2/%s/manifests/%s" % (name, tag)
        status, info, body = self.request("HEAD", path, scope, accept=MANIFEST_TYPES)
        if status == 200:
            return True, info.get("docker-content-digest", ""), info.get("content-type", "")
        if status == 404:
            return False, "", ""
        url = self.base_url + path
        challenge = parse_challenge(info.get("www-authenticate", ""))[1]
        reason = registry_message(body, challenge) or info.get("msg", "")
        who = "user %s" % self.username if self.username else "anonymous access"
        if status == 401 and self.auth_scheme == "bearer":
            raise RegistryError("The registry does not grant %s (%s) to %s: %s" % (
                scope, self.base_url, who, reason or "401 with a token"), status=status, url=url)
        if status == 401:
            raise RegistryError("The registry %s rejected the credentials of %s (401): %s" % (
                self.base_url, who, reason), status=status, url=url)
        if status == 403:
            raise RegistryError("The registry %s denies %s to %s (403): %s" % (
                self.base_url, scope, who, reason), status=status, url=url)
        raise RegistryError("The registry answered HEAD %s with HTTP %s: %s" % (url, status, reason),
                            status=status, url=url)
