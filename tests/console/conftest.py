"""What the browser tests need, checked once: Debian's chromium, the built console, its node_modules.
Missing → fail under CI (REQUIRE_DDB_LOCAL / CI set, as `make test` does) and skip elsewhere; and the
one way to run a script of console/e2e against a running local stack."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "console"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
REQUIRED = bool(os.environ.get("CI") or os.environ.get("REQUIRE_DDB_LOCAL"))


def missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; make deps does)"
    if not (CONSOLE / "dist" / "index.html").exists():
        return "console/dist is missing (make console)"
    if not (CONSOLE / "node_modules" / "playwright-core").exists():
        return "console/node_modules is missing (make console)"
    return None


@pytest.fixture
def browser_ready():
    problem = missing()
    if problem:
        if REQUIRED:
            pytest.fail(problem)
        pytest.skip(problem)


def run_script(script: str, stack, **env) -> dict:
    """node console/e2e/<script> against `stack`; its JSON summary (the last JSON object it prints)."""
    run = subprocess.run(["node", f"e2e/{script}"], cwd=CONSOLE, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "CONSOLE_URL": stack.console, "CHROMIUM": CHROMIUM, **env})
    print(run.stdout)
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-4000:]}\n--- local stack ---\n{stack.log.read_text()[-4000:]}"
    summary = json.loads(run.stdout[run.stdout.index("{"):])
    assert summary["ok"] and all(v["serious_or_critical"] == 0 for v in summary["visited"])
    return summary
