"""The local stack's console server: the local mail inbox (MAIL_MODE=log with MAIL_DIR) lists what the
platform sent, shows each message with its links clickable and escaped, serves a mail's own HTML with
no script, and refuses names that are not message ids; the stage environment reaches every process;
the installable console's files (service worker, Workbox runtime, manifest) go out with their content
types, revalidated every time, the hashed assets cached for a year."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

import pytest

from chalicelib.config import get_settings
from chalicelib.storage import mail
from tools import console_server, devstack


@pytest.fixture
def server(tmp_path):
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>console</title>")
    folder = tmp_path / "mail"
    handler = console_server.make_handler("http://127.0.0.1:9", [], dist=dist, mail_dir=folder)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", folder
    httpd.shutdown()


def fetch(url: str, language: str = "en"):
    request = urllib.request.Request(url, headers={"Accept-Language": language})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.headers, response.read().decode()


@pytest.fixture
def log_mode(monkeypatch, tmp_path):
    monkeypatch.setenv("MAIL_MODE", "log")
    monkeypatch.setenv("MAIL_DIR", str(tmp_path / "mail"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_sent_mail_is_listed_and_its_links_are_clickable_and_escaped(server, log_mode):
    base, folder = server
    status, _h, page = fetch(f"{base}/local-mail")
    assert status == 200 and "No mail yet." in page
    first = mail.send("a@example.com", "Rate us <b>now</b>", "<p>hi</p>", "Hello <you>,\nrate: http://127.0.0.1:8000/surveys/tok?lang=en")
    second = mail.send("b@example.com", "您的服务单已完成", "<p>你好</p>", "链接：http://127.0.0.1:8000/surveys/t2")
    assert sorted(p.name for p in folder.glob("*.json")) == sorted([f"{first}.json", f"{second}.json"])
    _s, _h, listing = fetch(f"{base}/local-mail", "zh-CN,zh;q=0.9")
    assert 'lang="zh-CN"' in listing and "本地邮件" in listing
    assert listing.index("b@example.com") < listing.index("a@example.com")  # newest first
    assert "Rate us &lt;b&gt;now&lt;/b&gt;" in listing and "<b>now</b>" not in listing
    _s, headers, message = fetch(f"{base}/local-mail/{first}?lang=en")
    assert '<a href="http://127.0.0.1:8000/surveys/tok?lang=en">' in message
    assert "Hello &lt;you&gt;" in message and "script-src 'self';" in headers["Content-Security-Policy"]  # no eval
    _s, headers, own = fetch(f"{base}/local-mail/{first}/html")
    assert own == "<p>hi</p>" and headers["Content-Security-Policy"].startswith("sandbox")  # no script, opaque origin


@pytest.mark.parametrize("path", ["/local-mail/../../etc/passwd", "/local-mail/local-x", "/local-mail/local-01ARZ3NDEKTSV4RRFFQ69G5FAV",
                                  "/local-mail/local-01ARZ3NDEKTSV4RRFFQ69G5FAV/raw"])
def test_only_kept_message_ids_are_served(server, path):
    base, _folder = server
    with pytest.raises(urllib.error.HTTPError) as raised:
        fetch(base + path)
    assert raised.value.code == 404


def test_the_login_page_learns_where_local_mail_is(server):
    base, _folder = server
    _s, _h, body = fetch(f"{base}/config.json")
    assert json.loads(body)["mail"] == "/local-mail"


def test_every_process_of_the_stack_gets_the_local_stage_environment():
    env = devstack.stage_env("local")
    assert env["MAIL_MODE"] == "log" and env["STAGE"] == "local" and "MAX_BODY_BYTES" in env  # stage + top level


def test_the_local_csp_and_the_deployed_one_say_the_same_but_for_where_the_api_is():
    """The policy is written twice (this server, the CloudFront headers policy): same directives, same
    rules for scripts, plugins, framing and base; only the API/file-store/Cognito sources differ."""
    def directives(policy: str) -> dict[str, str]:
        return {d.split()[0]: " ".join(d.split()[1:]) for d in policy.split(";") if d.strip()}
    local = directives(console_server.csp("http://127.0.0.1:8000", "http://127.0.0.1:8002"))
    for stage in ("dev", "prod"):
        resources = json.loads((console_server.ROOT / ".chalice" / f"resources-{stage}.json").read_text())["Resources"]
        deployed = directives(resources["ConsoleHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
                              ["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"])
        assert set(deployed) == set(local)
        for name in ("default-src", "script-src", "style-src", "object-src", "worker-src", "manifest-src", "base-uri",
                     "frame-ancestors"):
            assert deployed[name] == local[name], name


@pytest.fixture
def pwa(tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>console</title>")
    (dist / "sw.js").write_text("importScripts('./workbox-774a133b.js')")
    (dist / "workbox-774a133b.js").write_text("self.workbox = {}")
    (dist / "manifest.webmanifest").write_text('{"name": "After-sales console"}')
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    handler = console_server.make_handler("http://127.0.0.1:9", [], dist=dist)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize("path, kind, cache", [
    ("/sw.js", "text/javascript", "no-cache"),
    ("/workbox-774a133b.js", "text/javascript", "no-cache"),
    ("/manifest.webmanifest", "application/manifest+json", "no-cache"),
    ("/index.html", "text/html; charset=utf-8", "no-cache"),
    ("/inbox", "text/html; charset=utf-8", "no-cache"),  # the single-page fallback
    ("/assets/index-abc123.js", "text/javascript", "public, max-age=31536000, immutable"),
])
def test_the_installable_console_files_go_out_with_their_types_and_caching(pwa, path, kind, cache):
    _s, headers, _body = fetch(pwa + path)
    assert headers["Content-Type"] == kind and headers["Cache-Control"] == cache


def test_the_csp_lets_the_console_register_its_service_worker_and_manifest_only_from_itself(pwa):
    _s, headers, _body = fetch(pwa + "/sw.js")
    policy = headers["Content-Security-Policy"]
    assert "worker-src 'self';" in policy and "manifest-src 'self';" in policy and "script-src 'self';" in policy
