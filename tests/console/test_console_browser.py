"""The console in a real browser on the real local stack (issue 13).

Starts the local stack (tools.localstack: DynamoDB Local in memory, moto's server, chalice local, the
local worker, the console server on free ports), installs a small second app through the API, and
runs `console/e2e/run.mjs` (playwright-core driving Debian's /usr/bin/chromium): the service desk
creates a customer and an order with a photo, the supervisor edits, dispatches (the explanation on
screen) and finds it on the board in zh-CN, the engineer finds it in their inbox; axe-core on every
page; the second app's form shows in the menu. Needs the console built (`make console`, which
`make test` runs first)."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tools import localstack

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "console"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
REQUIRED = bool(os.environ.get("CI") or os.environ.get("REQUIRE_DDB_LOCAL"))

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

SECOND_APP = {"title": "Asset inspection", "fields": [{"name": "asset_tag", "type": "text", "label": "Asset tag", "required": True},
                                                    {"name": "passed", "type": "checkbox", "label": "Passed"}],
              "permissions": {"create": ["agent"], "read": ["*"], "update": ["agent"]}}


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
    with localstack.running(tmp_path) as stack:
        # a small second app, installed through the API: it must appear with no console change
        localstack.call(stack, "POST", "/definitions/form/asset_inspection/versions", "admin", SECOND_APP)
        run = subprocess.run(["node", "e2e/run.mjs"], cwd=CONSOLE, capture_output=True, text=True, timeout=600,
                             env={**os.environ, "CONSOLE_URL": stack.console, "CHROMIUM": CHROMIUM,
                                  "SECOND_APP_TITLE": SECOND_APP["title"]})
        print(run.stdout)
        assert run.returncode == 0, f"{run.stderr[-4000:]}\n--- local stack ---\n{stack.log.read_text()[-4000:]}"
        summary = json.loads(run.stdout[run.stdout.index("{"):])
        assert summary["ok"] and all(v["serious_or_critical"] == 0 for v in summary["visited"])
