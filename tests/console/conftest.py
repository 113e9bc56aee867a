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
    if run.returncode != 0:
        try:  # the walk's own account first: the error, where the page was and what it showed
            told = json.loads(run.stdout[run.stdout.index("{"):])
            told = {k: told.get(k) for k in ("error", "page")}
        except ValueError:
            told = run.stdout[-2000:]
        # the worker's idle lines say nothing; the stack's last real lines do
        log = "\n".join(line for line in stack.log.read_text().splitlines()
                        if not line.rstrip().endswith(("INFO handler", "nothing to do")) and "nothing to do (" not in line)
        pytest.fail(f"{script} failed: {json.dumps(told, ensure_ascii=False, indent=1)[:4000]}\n--- stderr ---\n"
                    f"{run.stderr[-2500:]}\n--- local stack ---\n{log[-3000:]}", pytrace=False)
    summary = json.loads(run.stdout[run.stdout.index("{"):])
    assert summary["ok"] and all(v["serious_or_critical"] == 0 for v in summary["visited"])
    return summary
