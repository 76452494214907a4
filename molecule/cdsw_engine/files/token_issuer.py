# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small token service for the registry's token authentication mode.

Written from distribution's "Token Authentication Specification" (docs/spec/auth/token.md)
and "Token Authentication Implementation" (docs/spec/auth/jwt.md), so the real
docker-registry can run in token mode in the cdsw_engine scenario:

* ``GET /token?service=<service>&scope=repository:<name>:<actions>[&account=<user>]``
  with HTTP Basic credentials. Wrong or missing credentials: 401 with a JSON
  ``{"details": ...}``. Otherwise 200 and ``{"token", "access_token", "expires_in",
  "issued_at"}``; the token grants the intersection of the requested actions and the
  user's (a repository the user may not use gets a token with no actions: the registry
  then refuses with ``insufficient_scope``, as a real token service makes it do).
* The token is a JWT signed RS256; its JOSE header names the key by ``kid``, the libtrust
  key ID of the public key in the certificate the registry trusts (``rootcertbundle``).
  Claims: ``iss``, ``sub``, ``aud`` (the service), ``exp``, ``nbf``, ``iat``, ``jti``,
  ``access``.

At start it writes a new key and a self-signed certificate for it to ``--cert`` (the
registry's rootcertbundle). Each token request is appended as a JSON line to ``--log``.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import json
import os
import signal
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def libtrust_key_id(public_key):
    """libtrust's key ID: SHA-256 of the DER public key, first 240 bits, base32, 4-char groups."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode("ascii").rstrip("=")
    return ":".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


def new_signing_key(cert_path, issuer):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    tmp = cert_path + ".tmp"
    with open(tmp, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, cert_path)
    return key


def parse_scope(scope):
    """``repository:<name>:<a,b>`` -> (type, name, [actions]); names may not hold ':' here."""
    parts = scope.split(":")
    if len(parts) != 3 or not parts[1]:
        return None
    return parts[0], parts[1], [a for a in parts[2].split(",") if a]


class Issuer:
    def __init__(self, args):
        self.service = args.service
        self.issuer = args.issuer
        self.users = {args.user: args.password}
        # The user may pull and push under this prefix, nothing else.
        self.allowed_prefix = args.allowed_prefix
        self.log_path = args.log
        self.key = new_signing_key(args.cert, args.issuer)
        self.kid = libtrust_key_id(self.key.public_key())
        self.lock = threading.Lock()

    def granted(self, account, scopes):
        access = []
        for scope in scopes:
            parsed = parse_scope(scope)
            if parsed is None or parsed[0] != "repository":
                continue
            kind, name, actions = parsed
            allowed = {"pull", "push"} if name.startswith(self.allowed_prefix) else set()
            access.append({"type": kind, "name": name, "actions": [a for a in actions if a in allowed]})
        return access

    def token(self, account, access):
        now = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        claims = {"iss": self.issuer, "sub": account, "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = ".".join(b64url(json.dumps(part, separators=(",", ":")).encode())
                                 for part in (header, claims))
        signature = self.key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)

    def log(self, entry):
        with self.lock, open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")


def make_handler(issuer):
    class Handler(BaseHTTPRequestHandler):
        server_version = "dlstack-token-issuer/1"

        def log_message(self, fmt, *args):
            pass

        def _send(self, status, payload, extra_headers=()):
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra_headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _account(self):
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return None
            try:
                user, _sep, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            return user if issuer.users.get(user) == password else None

        def do_GET(self):
            url = urlparse(self.path)
            query = parse_qs(url.query)
            scopes = query.get("scope", [])
            entry = {"path": url.path, "service": query.get("service", [""])[0], "scope": scopes}
            if url.path != "/token":
                entry["status"] = 404
                issuer.log(entry)
                return self._send(404, {"details": "not found"})
            if entry["service"] != issuer.service:
                entry["status"] = 400
                issuer.log(entry)
                return self._send(400, {"details": "unknown service %r" % entry["service"]})
            account = self._account()
            if account is None:
                entry["status"] = 401
                issuer.log(entry)
                return self._send(401, {"details": "incorrect username or password"},
                                  [("WWW-Authenticate", 'Basic realm="dlstack-token-issuer"')])
            access = issuer.granted(account, scopes)
            token = issuer.token(account, access)
            entry.update(status=200, account=account, access=access)
            issuer.log(entry)
            issued = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            return self._send(200, {"token": token, "access_token": token, "expires_in": 300,
                                    "issued_at": issued})

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", default=os.environ.get("TOKEN_ISSUER_PASSWORD", ""))
    parser.add_argument("--allowed-prefix", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    if not args.password:
        parser.error("give --password or TOKEN_ISSUER_PASSWORD")
    issuer = Issuer(args)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    ThreadingHTTPServer((args.bind, args.port), make_handler(issuer)).serve_forever()


if __name__ == "__main__":
    main()
