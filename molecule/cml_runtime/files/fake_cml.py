# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test double for the Runtime Catalog of the Cloudera Machine Learning (CML) API v2.

A CML workspace cannot run here (it needs a licensed Cloudera install on Kubernetes). This
serves the two operations of the CML API v2 specification (each workspace publishes it at
``/api/v2/swagger.json``; Cloudera's "CML API v2" page documents the Bearer API v2 key) that
add a custom runtime, with the request and response shapes of that specification:

* ``GET /api/v2/runtimes`` (ListRuntimes): ``search_filter`` (a JSON object whose values are
  matched as substrings), ``page_size``, ``page_token`` -> ``{"runtimes": [Runtime],
  "next_page_token"}``; a Runtime is ``{image_identifier, editor, kernel, edition, description,
  full_version, status, register_user_id}``.
* ``POST /api/v2/runtimes`` (RegisterCustomRuntime) ``{"url", "docker_credential_id"}`` -> 200
  ``{"validation_success", "insert_success", "reason", "reason_data", "details"}``. Like CML,
  it reads the image from its registry (HTTP API V2: the manifest, then the configuration blob)
  and validates the ``com.cloudera.ml.runtime.*`` labels as "Metadata for Custom ML Runtimes"
  states them: edition, editor, kernel, short version and an integer maintenance version must
  be there, every ``ML_RUNTIME_*`` variable must agree with its label, and the user-facing
  combination (editor, edition, kernel, version, maintenance version) must be new in the
  catalog. A refusal is a 200 whose flags are false, with the reason.
* Errors (a missing or wrong key, a bad request): the grpc-gateway body ``{"error", "code",
  "message", "details"}`` with 401 / 400.

Each request is appended as a JSON line (method, path, query, body, status) to --log.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

RUNTIMES = "/api/v2/runtimes"
LABEL = "com.cloudera.ml.runtime."
MANIFEST_TYPES = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
# Label suffix -> Runtime field; the rest of the labels are checked, not listed.
RUNTIME_FIELDS = {"editor": "editor", "kernel": "kernel", "edition": "edition", "description": "description",
                  "full-version": "full_version"}
REQUIRED = ("edition", "editor", "kernel", "short-version", "maintenance-version")


class State:
    def __init__(self, api_key, registry_scheme, log_path):
        self.api_key = api_key
        self.registry_scheme = registry_scheme
        self.log_path = log_path
        # A workspace's own runtimes (Cloudera's 2024.02.1 PBJ Workbench Python 3.10, Standard and
        # Nvidia GPU), so paging has more than one entry and a custom runtime that does not set an
        # edition of its own collides with the GPU one.
        prefix = "docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-pbj-workbench-python3.10-"
        self.runtimes = [{"image_identifier": prefix + edition_tag + ":2024.02.1-b4",
                          "editor": "PBJ Workbench", "kernel": "Python 3.10", "edition": edition,
                          "description": "Python runtime provided by Cloudera", "full_version": "2024.02.1-b4",
                          "status": "ENABLED", "register_user_id": 0,
                          "_short_version": "2024.02", "_maintenance_version": 1}
                         for edition, edition_tag in (("Standard", "standard"), ("Nvidia GPU", "cuda"))]
        self.lock = threading.Lock()


def image_config(scheme, reference):
    """The image configuration of ``<registry>/<name>:<tag>``, read as a registry client would."""
    match = re.match(r"^([^/]+)/(.+):([^:/]+)$", reference)
    if not match:
        raise ValueError("%r is not <registry>/<name>:<tag>" % reference)
    registry, name, tag = match.groups()
    base = "%s://%s/v2/%s" % (scheme, registry, name)
    request = urllib.request.Request("%s/manifests/%s" % (base, tag), headers={"Accept": MANIFEST_TYPES})
    with urllib.request.urlopen(request, timeout=30) as response:
        manifest = json.loads(response.read())
    with urllib.request.urlopen("%s/blobs/%s" % (base, manifest["config"]["digest"]), timeout=30) as response:
        return json.loads(response.read())


def validate(config):
    """``(problem, labels)``: the first reason CML would refuse the labels, or ''."""
    labels = (config.get("config") or {}).get("Labels") or {}
    env = dict(line.split("=", 1) for line in (config.get("config") or {}).get("Env") or [] if "=" in line)
    for key in REQUIRED:
        if not labels.get(LABEL + key):
            return "missing required label %s%s" % (LABEL, key), labels
    if not re.match(r"^[0-9]+$", labels[LABEL + "maintenance-version"]):
        return "%smaintenance-version must be an integer" % LABEL, labels
    for name, value in labels.items():
        if name.startswith(LABEL):
            variable = "ML_RUNTIME_" + name[len(LABEL):].upper().replace("-", "_")
            if variable == "ML_RUNTIME_RUNTIME_METADATA_VERSION":
                variable = "ML_RUNTIME_METADATA_VERSION"
            if variable in env and env[variable] != value:
                return "label %s (%s) and variable %s (%s) differ" % (name, value, variable, env[variable]), labels
    return "", labels


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        server_version = "fake-cml/1"

        def log_message(self, fmt, *args):
            pass

        def _send(self, status, payload, query=None, body=None):
            url = urlparse(self.path)
            with state.lock, open(state.log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps({"method": self.command, "path": url.path, "query": query, "body": body,
                                      "status": status}, sort_keys=True) + "\n")
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status, code, message, query=None, body=None):
            return self._send(status, {"error": message, "code": code, "message": message, "details": []},
                              query, body)

        def _list(self, query):
            try:
                search = json.loads(query.get("search_filter", ["{}"])[0] or "{}")
                page_size = int(query.get("page_size", ["10"])[0])
                start = int(query.get("page_token", ["0"])[0] or 0)
            except ValueError:
                return self._error(400, 3, "invalid search_filter, page_size or page_token", query)
            keys = {"image_identifier", "editor", "kernel", "edition", "description", "full_version"}
            if not isinstance(search, dict) or set(search) - keys:
                return self._error(400, 3, "unknown search_filter key", query)
            found = [r for r in state.runtimes if all(str(v) in str(r.get(k, "")) for k, v in search.items())]
            page = [{k: v for k, v in r.items() if not k.startswith("_")} for r in found[start:start + page_size]]
            token = str(start + page_size) if start + page_size < len(found) else ""
            return self._send(200, {"runtimes": page, "next_page_token": token}, query)

        def _register(self, body):
            if not isinstance(body, dict) or not isinstance(body.get("url"), str) or not body["url"]:
                return self._error(400, 3, "url is required", body=body)
            refused = {"validation_success": False, "insert_success": False, "reason_data": body["url"]}
            try:
                config = image_config(state.registry_scheme, body["url"])
            except (ValueError, KeyError, urllib.error.URLError) as exc:
                return self._send(200, dict(refused, reason="cannot read the image: %s" % exc), body=body)
            problem, labels = validate(config)
            if problem:
                return self._send(200, dict(refused, reason=problem), body=body)

            def label(key):
                return labels.get(LABEL + key, "")
            details = {"registry": body["url"].split("/", 1)[0], "editor": label("editor"),
                       "kernel": label("kernel"), "edition": label("edition"), "version": label("short-version"),
                       "maintenance_version": int(label("maintenance-version")), "description": label("description")}
            combination = (details["editor"], details["edition"], details["kernel"], details["version"],
                           details["maintenance_version"])
            for known in state.runtimes:
                if (known["editor"], known["edition"], known["kernel"], known["_short_version"],
                        known["_maintenance_version"]) == combination:
                    return self._send(200, dict(refused, validation_success=True, details=details,
                                                reason="a runtime with the same editor, edition, kernel, version "
                                                       "and maintenance version exists: %s"
                                                       % known["image_identifier"]), body=body)
            runtime = {"image_identifier": body["url"], "status": "ENABLED", "register_user_id": 1,
                       "_short_version": details["version"], "_maintenance_version": details["maintenance_version"]}
            runtime.update((field, label(key)) for key, field in RUNTIME_FIELDS.items())
            state.runtimes.append(runtime)
            return self._send(200, {"validation_success": True, "insert_success": True, "reason": "",
                                    "reason_data": "", "details": details}, body=body)

        def _dispatch(self):
            url = urlparse(self.path)
            query = parse_qs(url.query)
            body = None
            if self.command == "POST":
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    return self._error(400, 3, "request body is not JSON")
            scheme, _sep, key = self.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or key != state.api_key:
                return self._error(401, 16, "invalid or missing API v2 key", query, body)
            if url.path != RUNTIMES:
                return self._error(404, 5, "Not Found", query, body)
            if self.command == "GET":
                return self._list(query)
            if self.command == "POST":
                return self._register(body)
            return self._error(405, 12, "Method Not Allowed", query, body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    return Handler


def server(bind, port, state):
    return ThreadingHTTPServer((bind, port), make_handler(state))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--registry-scheme", default="https", choices=["http", "https"])
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    state = State(args.api_key, args.registry_scheme, args.log)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    server(args.bind, args.port, state).serve_forever()


if __name__ == "__main__":
    main()
