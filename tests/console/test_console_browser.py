"""The console in a real browser on the real local stack (issue 13).

Starts `tools.devstack` in a scratch folder (DynamoDB Local in memory, moto's server, chalice local,
the local worker, the console server on free ports), installs a small second app through the API,
and runs `console/e2e/run.mjs` (playwright-core driving Debian's /usr/bin/chromium): the service desk
creates a customer and an order, the supervisor edits and assigns it in zh-CN, the engineer finds it
in their inbox; axe-core on every page; the second app's form shows in the menu. Needs the console
built (`make console`, which `make test` runs first)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "console"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
REQUIRED = bool(os.environ.get("CI") or os.environ.get("REQUIRE_DDB_LOCAL"))

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

SECOND_APP = {"title": "Asset inspection", "fields": [{"name": "asset_tag", "type": "text", "label": "Asset tag", "required": True},
                                                    {"name": "passed", "type": "checkbox", "label": "Passed"}],
              "permissions": {"create": ["agent"], "read": ["*"], "update": ["agent"]}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, deadline: float, proc: subprocess.Popen) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"devstack exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer")


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; make deps does)"
    if not (CONSOLE / "dist" / "index.html").exists():
        return "console/dist is missing (make console)"
    if not (CONSOLE / "node_modules" / "playwright-core").exists():
        return "console/node_modules is missing (make console)"
    return None


def test_the_shipped_flow_through_the_console(tmp_path):
    missing = _missing()
    if missing:
        if REQUIRED:
            pytest.fail(missing)
        pytest.skip(missing)
    ports = {name: _free_port() for name in ("PORT", "CONSOLE_PORT", "DDB_PORT", "S3_PORT")}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "DEVSTACK_DIR": str(tmp_path), "DEVSTACK_DB": "memory",
           "LOCAL_SCHEDULE_SECONDS": "5"}
    for name in ("DDB_ENDPOINT", "S3_ENDPOINT", "AUTH_MODE", "LOCAL_JWT_SECRET", "RECORDS_TABLE", "DEFINITIONS_TABLE",
                 "UPLOADS_BUCKET", "CONSOLE_ORIGIN"):
        env.pop(name, None)  # the stack sets its own
    log = open(tmp_path / "devstack.log", "w")
    stack = subprocess.Popen([sys.executable, "-m", "tools.devstack"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        api = f"http://127.0.0.1:{ports['PORT']}"
        console = f"http://127.0.0.1:{ports['CONSOLE_PORT']}"
        _wait(f"{api}/health", deadline, stack)
        _wait(f"{console}/config.json", deadline, stack)
        tokens = json.loads((tmp_path / "tokens.json").read_text())
        # a small second app, installed through the API: it must appear with no console change
        request = urllib.request.Request(f"{api}/definitions/form/asset_inspection/versions", method="POST",
                                         data=json.dumps(SECOND_APP).encode(),
                                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {tokens['admin']}"})
        urllib.request.urlopen(request, timeout=30).close()
        run = subprocess.run(["node", "e2e/run.mjs"], cwd=CONSOLE, capture_output=True, text=True, timeout=600,
                             env={**os.environ, "CONSOLE_URL": console, "CHROMIUM": CHROMIUM, "SECOND_APP_TITLE": SECOND_APP["title"]})
        print(run.stdout)
        assert run.returncode == 0, f"{run.stderr[-4000:]}\n--- devstack log ---\n{(tmp_path / 'devstack.log').read_text()[-4000:]}"
        summary = json.loads(run.stdout[run.stdout.index("{"):])
        assert summary["ok"] and all(v["serious_or_critical"] == 0 for v in summary["visited"])
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        try:
            stack.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(tmp_path / "dynamodb", ignore_errors=True)
