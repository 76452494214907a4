# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test double for the CDSW API v1 endpoints an engine-image setup uses.

CDSW itself cannot run here (it needs a licensed Cloudera install on Kubernetes). Cloudera
documents only the Jobs API of v1, so the shapes below come from public provisioning code that
drives a real CDSW, not from dlstack.cdh's module:

* ``POST /api/v1/authenticate`` ``{"login", "password"}`` -> 200 ``{"auth_token": ...}``; every
  other endpoint wants ``Authorization: Bearer <auth_token>`` (asdaraujo/edge2ai-workshop,
  ``setup/terraform/resources/cdsw_setup.py``, the ``api`` property; a CDSW workshop
  provisioning script's ``cdsw_api_login``). A wrong login is 401.
* ``GET /api/v1/engine-images`` -> a JSON array of ``{id, repository, tag, description}``;
  ``POST`` ``{"engineImage": {"description", "repository", "tag"}}`` -> 200 with the stored
  image and its ``id`` (edge2ai ``cdsw_get_engine_image`` / ``cdsw_create_engine_image``). The
  sources show no duplicate check, so a second POST of the same image adds a second entry, as
  the UI's list would.
* ``GET``/``PATCH /api/v1/projects/<owner>/<project>/engine-images`` -> the project's engine
  image / ``{"engineImageId": <id>}`` selects one (edge2ai ``cdsw_get_project_engine_image``,
  ``create_user``; fastforwardlabs/cmlbootstrap ``get_default_engine``). An unknown id is 400.
* ``GET``/``PATCH /api/v1/site/config`` -> one flat object; a PATCH merges the fields sent and
  answers 200 with the settings; ``environment`` is a JSON-encoded string there (edge2ai
  ``cdsw_get_site_config`` / ``cdsw_patch_site_config``). ``max_gpu_per_engine`` (read by CML's
  helper scripts) must be a non-negative integer.
* ``GET``/``PUT /api/v1/projects/<owner>/<project>/environment`` -> the variables as an object /
  replace them all, 204 (cmlbootstrap ``get_environment_variables`` /
  ``create_environment_variable``); values must be strings.

An unknown project is 404 on every project path; an unknown path is 404, a known path with
another method 405. Each request (method, path, JSON body, status, the JSON answered) is appended as one JSON
line to the --log file, which the verifier reads; the login's password is not logged.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AUTHENTICATE = "/api/v1/authenticate"
ENGINE_IMAGES = "/api/v1/engine-images"
SITE_CONFIG = "/api/v1/site/config"
PROJECT = re.compile(r"^/api/v1/projects/([^/]+)/([^/]+)/(engine-images|environment)$")


class State:
    def __init__(self, login, password, owner, project, log_path):
        self.login = login
        self.password = password
        self.owner = owner
        self.project = project
        self.log_path = log_path
        self.tokens = set()
        # A fresh site: the built-in engine only, GPUs off.
        self.images = [{"id": 1, "repository": "docker.repository.cloudera.com/cdsw/engine", "tag": "8",
                        "description": "Default engine image"}]
        self.site_config = {"max_gpu_per_engine": 0, "environment": json.dumps({}),
                            "allow_unauthenticated_access_to_app": False}
        self.project_engine_image_id = 1
        self.environment = {"EXISTING_VAR": "kept"}
        self.lock = threading.Lock()


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        server_version = "fake-cdsw/2"

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
                                          "body": body, "status": status, "answer": payload,
                                          "authorization": self.headers.get("Authorization", "").split(" ")[0]})
                              + "\n")
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
            scheme, _sep, token = self.headers.get("Authorization", "").partition(" ")
            return scheme.lower() == "bearer" and token in state.tokens

        def _authenticate(self, body):
            if self.command != "POST":
                return self._send(405, {"message": "method not allowed"}, body)
            if not isinstance(body, dict) or (body.get("login"), body.get("password")) != (state.login, state.password):
                return self._send(401, {"message": "Invalid login or password"}, {"login": (body or {}).get("login")})
            token = secrets.token_hex(16)
            state.tokens.add(token)
            return self._send(200, {"auth_token": token, "user": {"username": state.login, "admin": True}},
                              {"login": body["login"]})

        def _engine_images(self, body):
            if self.command == "GET":
                return self._send(200, state.images, body)
            if self.command != "POST":
                return self._send(405, {"message": "method not allowed"}, body)
            image = body.get("engineImage") if isinstance(body, dict) else None
            if not isinstance(image, dict) or not image.get("repository") or not image.get("tag"):
                return self._send(400, {"message": "engineImage.repository and engineImage.tag are required"}, body)
            stored = {"id": max(i["id"] for i in state.images) + 1, "repository": image["repository"],
                      "tag": image["tag"], "description": image.get("description", "")}
            state.images.append(stored)
            return self._send(200, stored, body)

        def _site_config(self, body):
            if self.command == "GET":
                return self._send(200, state.site_config, body)
            if self.command != "PATCH":
                return self._send(405, {"message": "method not allowed"}, body)
            if not isinstance(body, dict) or not body:
                return self._send(400, {"message": "no settings to change"}, body)
            gpus = body.get("max_gpu_per_engine", 0)
            if not isinstance(gpus, int) or isinstance(gpus, bool) or gpus < 0:
                return self._send(400, {"message": "max_gpu_per_engine must be a non-negative integer"}, body)
            if "environment" in body and not isinstance(body["environment"], str):
                return self._send(400, {"message": "environment must be a JSON string"}, body)
            state.site_config.update(body)
            return self._send(200, state.site_config, body)

        def _project(self, leaf, body):
            if leaf == "engine-images":
                if self.command == "GET":
                    current = [i for i in state.images if i["id"] == state.project_engine_image_id][0]
                    return self._send(200, current, body)
                if self.command != "PATCH":
                    return self._send(405, {"message": "method not allowed"}, body)
                wanted = body.get("engineImageId") if isinstance(body, dict) else None
                if wanted not in [i["id"] for i in state.images]:
                    return self._send(400, {"message": "engine image %r does not exist" % (wanted,)}, body)
                state.project_engine_image_id = wanted
                current = [i for i in state.images if i["id"] == wanted][0]
                return self._send(200, current, body)
            if self.command == "GET":
                return self._send(200, state.environment, body)
            if self.command != "PUT":
                return self._send(405, {"message": "method not allowed"}, body)
            if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
                return self._send(400, {"message": "environment must be an object of strings"}, body)
            state.environment = dict(body)
            return self._send(204, None, body)

        def _dispatch(self):
            body = self._body() if self.command in ("POST", "PUT", "PATCH") else None
            if self.path == AUTHENTICATE:
                return self._authenticate(body)
            if not self._authorized():
                return self._send(401, {"message": "Unauthorized"}, body)
            if self.path == ENGINE_IMAGES:
                return self._engine_images(body)
            if self.path == SITE_CONFIG:
                return self._site_config(body)
            match = PROJECT.match(self.path)
            if match:
                if (match.group(1), match.group(2)) != (state.owner, state.project):
                    return self._send(404, {"message": "Project %s/%s not found" % (match.group(1), match.group(2))},
                                      body)
                return self._project(match.group(3), body)
            return self._send(404, {"message": "not found"}, body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    return Handler


def server(bind, port, state):
    return ThreadingHTTPServer((bind, port), make_handler(state))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--login", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--owner", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    state = State(args.login, args.password, args.owner, args.project, args.log)
    # PID 1 in its container: exit on SIGTERM instead of waiting for podman's SIGKILL.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    server(args.bind, args.port, state).serve_forever()


if __name__ == "__main__":
    main()
