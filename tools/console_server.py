"""The console's static files on the local stack (`make run`), as a deployed stage's CloudFront serves them.

Serves `console/dist` with the single-page fallback (any path that is not a file gets index.html;
hashed `/assets/*` cached for a year, everything else — index.html, the service worker `sw.js` and its
`workbox-*.js`, `manifest.webmanifest`, the icons — `no-cache`, so a new build shows at once),
`/config.json` (where the API is; how to sign in) and, on the local stack only, `/local-users.json`
(the demo users and their tokens: one click each on the login page) and `/local-mail` (the mail the
platform sent, MAIL_MODE=log: a list, each message with its links clickable, e.g. a survey link). Every response carries the
console's security headers (a strict CSP: scripts only from this origin, API calls only to the API,
no framing; see CONSOLE_CSP). Stdlib only: a thread in devstack."""
from __future__ import annotations

import html
import json
import mimetypes
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
# CONSOLE_DIST: another build of the console to serve (e.g. one made with `vite build --outDir`)
DIST = Path(os.environ.get("CONSOLE_DIST") or ROOT / "console" / "dist")


def csp(api_url: str, files_url: str | None = None) -> str:
    """Scripts only from the console's origin (no inline script, no eval: the record-form validator and
    Vega interpret, they never compile code), data only from the API (and the file store for previews
    and uploads), no plugins, no framing, no foreign form targets."""
    sources = " ".join(s for s in (api_url, files_url) if s)
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob: {sources}; connect-src 'self' {sources}; object-src 'none'; "
            "worker-src 'self'; manifest-src 'self'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")


# what the browser needs to hear, whatever the machine's mime.types says (a service worker must be JavaScript)
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".html": "text/html; charset=utf-8",
         ".webmanifest": "application/manifest+json", ".json": "application/json", ".png": "image/png", ".svg": "image/svg+xml"}
LONG_LIVED = "public, max-age=31536000, immutable"


def content_type(name: str) -> str:
    return TYPES.get(Path(name).suffix.lower()) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def cache_control(path: str) -> str:
    """Hashed assets for ever; the entry points (index.html, sw.js, the manifest, …) revalidated every time."""
    return LONG_LIVED if path.lstrip("/").startswith("assets/") else "no-cache"


MAIL_ID = re.compile(r"local-[0-9A-Za-z]{26}")
URL = re.compile(r"https?://[^\s<>\"']+")
MAIL_WORDS = {
    "en": {"title": "Local mail", "intro": "What the platform sent on this machine (MAIL_MODE=log): nothing left it.",
           "none": "No mail yet.", "when": "Sent", "to": "To", "subject": "Subject", "from": "From",
           "back": "All mail", "html": "HTML version", "caption": "Mail, newest first"},
    "zh-CN": {"title": "本地邮件", "intro": "平台在本机发出的邮件（MAIL_MODE=log）：没有一封真正寄出。",
              "none": "还没有邮件。", "when": "发送时间", "to": "收件人", "subject": "主题", "from": "发件人",
              "back": "全部邮件", "html": "HTML 版本", "caption": "邮件，最新的在前"},
}
MAIL_STYLE = ("body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}"
              "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ccc}"
              "pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f4f4;padding:1rem}a{color:#0645ad}dt{font-weight:600}")


def mail_language(accept: str | None, query: str) -> str:
    if "lang=zh" in query:
        return "zh-CN"
    if "lang=en" in query:
        return "en"
    return "zh-CN" if (accept or "").lower().startswith("zh") else "en"


def read_mail(folder: Path) -> list[dict]:
    """The latest 500 messages, newest first (by sending time; ids order by millisecond only)."""
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("local-*.json"), reverse=True)[:500]:
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # being replaced; the next look shows it
    return sorted(out, key=lambda m: str(m.get("sent_at", "")), reverse=True)


def linkify(text: str) -> str:
    """Escaped text with its http(s) links clickable."""
    parts, last = [], 0
    for match in URL.finditer(text):
        parts.append(html.escape(text[last:match.start()]))
        url = html.escape(match.group(0))
        parts.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def mail_page(language: str, title: str, body: str) -> bytes:
    return (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
            f"<style>{MAIL_STYLE}</style></head><body><main>{body}</main></body></html>").encode()


def _lang(language: str) -> str:
    return "?lang=zh" if language == "zh-CN" else "?lang=en"


def mail_list(folder: Path, language: str) -> bytes:
    words = MAIL_WORDS[language]
    messages = read_mail(folder)
    rows = "".join(
        f"<tr><td>{html.escape(str(m.get('sent_at', ''))[:19].replace('T', ' '))}</td><td>{html.escape(m.get('to', ''))}</td>"
        f"<td><a href=\"/local-mail/{html.escape(m['id'])}{_lang(language)}\">{html.escape(m.get('subject', '') or '—')}</a></td></tr>"
        for m in messages if MAIL_ID.fullmatch(str(m.get("id", ""))))
    table = (f"<table><caption>{words['caption']}</caption><thead><tr><th scope=\"col\">{words['when']}</th>"
             f"<th scope=\"col\">{words['to']}</th><th scope=\"col\">{words['subject']}</th></tr></thead>"
             f"<tbody>{rows}</tbody></table>") if rows else f"<p>{words['none']}</p>"
    return mail_page(language, words["title"], f"<h1>{words['title']}</h1><p>{words['intro']}</p>{table}")


def mail_message(message: dict, language: str) -> bytes:
    words = MAIL_WORDS[language]
    subject = message.get("subject", "") or "—"
    meta = "".join(f"<dt>{words[k]}</dt><dd>{html.escape(str(message.get(field, '')))}</dd>"
                   for k, field in (("from", "from"), ("to", "to"), ("when", "sent_at")))
    html_link = f'<p><a href="/local-mail/{message["id"]}/html">{words["html"]}</a></p>' if message.get("html") else ""
    return mail_page(language, subject, f'<p><a href="/local-mail{_lang(language)}">{words["back"]}</a></p><h1>{html.escape(subject)}</h1>'
                                        f"<dl>{meta}</dl><pre>{linkify(message.get('text', ''))}</pre>{html_link}")


def make_handler(api_url: str, users: list[dict] | None, files_url: str | None = None, dist: Path = DIST,
                 mail_dir: Path | None = None):
    config = json.dumps({"apiUrl": api_url, "auth": "local", **({"mail": "/local-mail"} if mail_dir else {})}).encode()
    listed = json.dumps([{"user": u["user"], "name": u.get("name", ""), "roles": u["roles"], "token": u["token"]}
                         for u in users or []]).encode()
    policy = csp(api_url, files_url)

    class Handler(BaseHTTPRequestHandler):
        server_version = "console"

        def log_message(self, *args) -> None:  # quiet: the API's log is the interesting one
            pass

        def _send(self, status: int, body: bytes, content_type: str, cache: str = "no-cache",
                  security: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache)
            self.send_header("Content-Security-Policy", security or policy)
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
            if mail_dir is not None and (path == "/local-mail" or path.startswith("/local-mail/")):
                return self._mail(path)
            target = (dist / path.lstrip("/")).resolve()
            if dist.resolve() in target.parents and target.is_file():
                return self._send(200, target.read_bytes(), content_type(target.name), cache_control(path))
            index = dist / "index.html"
            if not index.is_file():
                return self._send(503, b"console not built: run `make console`", "text/plain; charset=utf-8")
            self._send(200, index.read_bytes(), "text/html; charset=utf-8")

        def _mail(self, path: str) -> None:
            language = mail_language(self.headers.get("Accept-Language"), urlsplit(self.path).query)
            page = "text/html; charset=utf-8"
            if path.rstrip("/") == "/local-mail":
                return self._send(200, mail_list(mail_dir, language), page)
            name, _, view = path.removeprefix("/local-mail/").partition("/")
            file = mail_dir / f"{name}.json"
            if not MAIL_ID.fullmatch(name) or view not in ("", "html") or not file.is_file():
                return self._send(404, mail_page(language, "404", "<h1>404</h1>"), page)
            message = json.loads(file.read_text(encoding="utf-8"))
            if view == "html":  # the mail's own HTML (a tenant's template): no script, an opaque origin
                return self._send(200, str(message.get("html", "")).encode(), page,
                                  security="sandbox allow-popups allow-top-navigation-by-user-activation; default-src 'none'; "
                                           "img-src data: https:; style-src 'unsafe-inline'")
            self._send(200, mail_message(message, language), page)

    return Handler


def start(port: int, api_url: str, users: list[dict] | None, files_url: str | None = None,
          host: str = "127.0.0.1", mail_dir: Path | None = None) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(api_url, users, files_url, mail_dir=mail_dir))
    threading.Thread(target=server.serve_forever, name="console", daemon=True).start()
    return server
