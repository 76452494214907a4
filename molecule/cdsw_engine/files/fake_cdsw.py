# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test double for the few CDSW API v1 endpoints dlstack.cdh.cdsw_engine_image uses.

CDSW itself cannot run here (it needs a licensed Cloudera install on Kubernetes), so
this server stands in for it in the molecule scenario. It implements ONLY:

* HTTP Basic authentication with the API key as user name and an empty password
  (401 with a JSON message otherwise), as CDSW documents for API keys;
* ``GET /api/v1/engine-images`` -> JSON list of {id, repository, tag, description}
  (the one endpoint not confirmed by a source; see module_utils/cdsw_api.py);
* ``POST /api/v1/engine-images`` with ``{"engineImage": {...}}`` -> 201 and the
  stored image; 409 ``{"message": "engine image already exists"}`` on a duplicate;
* ``GET`` / ``PUT /api/v1/projects/<owner>/<project>/environment`` -> the project's
  variables as a JSON object / replace them all, 204, for the one configured project
  (404 for any other project).

Every other path or method is rejected (404 / 405), so a client that calls anything
undocumented fails the test. Each request (method, path, JSON body, status) is
appended as one JSON line to the --log file, which the verifier reads.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENGINE_IMAGES = "/api/v1/engine-images"
ENVIRONMENT = re.compile(r"^/api/v1/projects/([^/]+)/([^/]+)/environment$")


class State:
    def __init__(self, api_key, owner, project, log_path):
        self.api_key = api_key
        self.owner = owner
        self.project = project
        self.log_path = log_path
        self.images = []
        self.environment = {"EXISTING_VAR": "kept"}
        self.lock = threading.Lock()


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        server_version = "fake-cdsw/1"

        def log_message(self, fmt, *args):  # keep stderr quiet; the JSON log is the record
            pass

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw:
                return None
            try:
                return json.loads(raw)
            except ValueError:
                return {"_unparsable": raw.decode("utf-8", "replace")}

        def _send(self, status, payload=None, body=None):
            with state.lock:
                with open(state.log_path, "a", encoding="utf-8") as log:
                    log.write(json.dumps({"method": self.command, "path": self.path,
                                          "body": body, "status": status}) + "\n")
            self.send_response(status)
            data = b""
            if payload is not None:
                data = json.dumps(payload).encode("utf-8")
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)

        def _authorized(self):
            expected = "Basic " + base64.b64encode((state.api_key + ":").encode()).decode()
            return self.headers.get("Authorization") == expected

        def _dispatch(self):
            body = self._body() if self.command in ("POST", "PUT") else None
            if not self._authorized():
                return self._send(401, {"message": "Unauthorized"}, body)
            match = ENVIRONMENT.match(self.path)
            if self.path == ENGINE_IMAGES:
                if self.command == "GET":
                    return self._send(200, state.images, body)
                if self.command == "POST":
                    image = (body or {}).get("engineImage") if isinstance(body, dict) else None
                    if not isinstance(image, dict) or not image.get("repository") or not image.get("tag"):
                        return self._send(400, {"message": "engineImage.repository and tag are required"}, body)
                    for known in state.images:
                        if (known["repository"], known["tag"]) == (image["repository"], image["tag"]):
                            return self._send(409, {"message": "engine image already exists"}, body)
                    stored = {"id": len(state.images) + 1, "repository": image["repository"],
                              "tag": image["tag"], "description": image.get("description", "")}
                    state.images.append(stored)
                    return self._send(201, stored, body)
                return self._send(405, {"message": "method not allowed"}, body)
            if match:
                if (match.group(1), match.group(2)) != (state.owner, state.project):
                    return self._send(404, {"message": "project not found"}, body)
                if self.command == "GET":
                    return self._send(200, state.environment, body)
                if self.command == "PUT":
                    if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
                        return self._send(400, {"message": "environment must be an object of strings"}, body)
                    state.environment = dict(body)
                    return self._send(204, None, body)
                return self._send(405, {"message": "method not allowed"}, body)
            return self._send(404, {"message": "not implemented by the test double"}, body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--owner", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    state = State(args.api_key, args.owner, args.project, args.log)
    # PID 1 in its container: exit on SIGTERM instead of waiting for podman's SIGKILL.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    ThreadingHTTPServer((args.bind, args.port), make_handler(state)).serve_forever()


if __name__ == "__main__":
    main()
