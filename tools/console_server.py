"""The console's static files on the local stack (`make run`), as a deployed stage's CloudFront serves them.

Serves `console/dist` with the single-page fallback (any path that is not a file gets index.html),
`/config.json` (where the API is; how to sign in) and, on the local stack only, `/local-users.json`
(the demo users and their tokens: one click each on the login page). Every response carries the
console's security headers (a strict CSP: scripts only from this origin, API calls only to the API,
no framing; see CONSOLE_CSP). Stdlib only: a thread in devstack."""
from __future__ import annotations

import json
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "console" / "dist"


def csp(api_url: str, files_url: str | None = None) -> str:
    """Scripts only from the console's origin ('unsafe-eval' for the record-form validator: ajv compiles
    JSON Schemas to functions; no inline script is ever allowed), data only from the API (and the
    file store for previews and uploads), no plugins, no framing, no foreign form targets."""
    sources = " ".join(s for s in (api_url, files_url) if s)
    return ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob: {sources}; connect-src 'self' {sources}; object-src 'none'; "
            "base-uri 'self'; frame-ancestors 'none'; form-action 'self'")


def make_handler(api_url: str, users: list[dict] | None, files_url: str | None = None, dist: Path = DIST):
    config = json.dumps({"apiUrl": api_url, "auth": "local"}).encode()
    listed = json.dumps([{"user": u["user"], "name": u.get("name", ""), "roles": u["roles"], "token": u["token"]}
                         for u in users or []]).encode()
    policy = csp(api_url, files_url)

    class Handler(BaseHTTPRequestHandler):
        server_version = "console"

        def log_message(self, *args) -> None:  # quiet: the API's log is the interesting one
            pass

        def _send(self, status: int, body: bytes, content_type: str, cache: str = "no-cache") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache)
            self.send_header("Content-Security-Policy", policy)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/config.json":
                return self._send(200, config, "application/json")
            if path == "/local-users.json":
                return self._send(200, listed, "application/json") if users is not None else self._send(404, b"[]", "application/json")
            target = (dist / path.lstrip("/")).resolve()
            if dist.resolve() in target.parents and target.is_file():
                kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                immutable = "/assets/" in path  # hashed names: cache for ever
                return self._send(200, target.read_bytes(), kind, "public, max-age=31536000, immutable" if immutable else "no-cache")
            index = dist / "index.html"
            if not index.is_file():
                return self._send(503, b"console not built: run `make console`", "text/plain; charset=utf-8")
            self._send(200, index.read_bytes(), "text/html; charset=utf-8")

    return Handler


def start(port: int, api_url: str, users: list[dict] | None, files_url: str | None = None,
          host: str = "127.0.0.1") -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(api_url, users, files_url))
    threading.Thread(target=server.serve_forever, name="console", daemon=True).start()
    return server
