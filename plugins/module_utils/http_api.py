# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the collection's HTTP API clients (CDSW, CML, container registries) send a request.

One place for the ``fetch_url`` call, for reading the body whether the answer is a success
or an HTTP error, and for finding the server's own reason in an error body, so every client
reports a refusal in the server's words.
"""

from __future__ import annotations

import json

from ansible.module_utils.six.moves.urllib.parse import urlparse
from ansible.module_utils.urls import fetch_url


def send(module, url, method="GET", headers=None, data=None, timeout=30, follow_redirects=True):
    """Send one request; ``(status, info, body as bytes)``, status -1 when nothing answered.

    fetch_url reads ``validate_certs`` (and how to follow redirects) from the module's own
    params. Without ``follow_redirects`` a 3xx answer is returned as it is, with its
    ``location`` in ``info``.
    """
    saved = module.params.get("follow_redirects")
    module.params["follow_redirects"] = "urllib2" if follow_redirects else "none"
    try:
        resp, info = fetch_url(module, url, data=data, headers=dict(headers or {}), method=method,
                               timeout=timeout, force=True, use_proxy=True)
    finally:
        if saved is None:
            module.params.pop("follow_redirects", None)
        else:
            module.params["follow_redirects"] = saved
    # On HTTP errors fetch_url has already read the body into info["body"].
    if "body" in info:
        body = info["body"]
    elif resp is not None and method != "HEAD":
        body = resp.read()
    else:
        body = b""
    return info.get("status", -1), info, body if isinstance(body, bytes) else text(body).encode("utf-8")


def text(body):
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body)


def json_body(body):
    """The decoded JSON of a body, None for an empty one; ValueError when it is not JSON."""
    body = text(body)
    return json.loads(body) if body.strip() else None


def error_message(body, limit=500):
    """The server's reason in an error body, or ''.

    Understands the registry's ``{"errors": [{"code", "message"}]}`` (distribution's HTTP API
    V2), grpc-gateway's ``{"error", "code", "message"}`` (CML API v2) and ``{"message": ...}``
    (CDSW), and falls back to the text itself.
    """
    raw = text(body).strip()
    if not raw:
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw[:limit]
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        parts = [": ".join(str(e[k]) for k in ("code", "message") if e.get(k))
                 for e in data["errors"] if isinstance(e, dict)]
        if any(parts):
            return "; ".join(p for p in parts if p)
    if isinstance(data, dict):
        for key in ("message", "error", "details", "msg"):
            if data.get(key):
                return str(data[key])
    return raw[:limit]


def base_url(url, what, example):
    """``url`` without a trailing slash when it is an http(s) URL with a host; else ValueError."""
    parsed = urlparse((url or "").strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError("%s %r is not an http(s) URL with a host, e.g. %s" % (what, url, example))
    if parsed.query or parsed.fragment:
        raise ValueError("%s %r must not carry a query string or fragment" % (what, url))
    return url.strip().rstrip("/")
