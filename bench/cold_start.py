"""Benchmark: cold start of a Lambda process, `import app` next to the bare libraries alone.

Every Lambda of the app imports the whole route table (`import app`). This prints, in one run, the
cost of a fresh process that imports the app and of one that imports only the libraries it stands
on (chalice, pydantic, pynamodb, boto3), and the difference. Two figures per case, each the minimum
over fresh processes (alternating, so both cases see the same machine state):

  wall      `time.perf_counter` around the whole child process (interpreter start included)
  imports   the sum of -X importtime's cumulative figures for the top-level imports

Usage: python -m bench.cold_start [--runs 5] [--modules]
  --modules also lists the app's own modules by cumulative import time (one -X importtime run).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE = "import chalice, pydantic, pynamodb.models, boto3"
APP = "import chalice, pydantic, pynamodb.models, boto3, app"
OWN_PREFIXES = ("app", "chalicelib")


def _env() -> dict:
    return {**os.environ, "AUTH_MODE": "local", "PYTHONDONTWRITEBYTECODE": "1"}


def _parse(stderr: str) -> tuple[float, list[tuple[int, int, str]]]:
    """(µs summed over top-level imports, [(self µs, cumulative µs, module)])."""
    total, rows = 0, []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3:
            continue
        try:
            self_us, cum_us = int(parts[0]), int(parts[1])
        except ValueError:
            continue  # the header line
        name = parts[2]
        if name.startswith(" ") and not name.startswith("  "):
            total += cum_us
        rows.append((self_us, cum_us, name.strip()))
    return total, rows


def one(code: str) -> tuple[float, float, list[tuple[int, int, str]]]:
    """(wall ms of the child process, -X importtime top-level total ms, rows)."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True,
                         text=True, env=_env())
    wall = (time.perf_counter() - start) * 1000
    if out.returncode:
        raise SystemExit(f"{code!r} failed:\n{out.stderr[-2000:]}")
    total, rows = _parse(out.stderr)
    return wall, total / 1000, rows


def measure(runs: int = 5) -> dict:
    one(BARE), one(APP)  # warm the OS file cache and any .pyc writes before timing
    bare, app = [], []
    for _ in range(runs):
        bare.append(one(BARE)[:2])
        app.append(one(APP)[:2])
    b_wall, b_imp = min(w for w, _ in bare), min(i for _, i in bare)
    a_wall, a_imp = min(w for w, _ in app), min(i for _, i in app)
    return {"runs": runs,
            "bare_wall_ms": round(b_wall, 1), "app_wall_ms": round(a_wall, 1), "wall_extra_ms": round(a_wall - b_wall, 1),
            "bare_imports_ms": round(b_imp, 1), "app_imports_ms": round(a_imp, 1),
            "imports_extra_ms": round(a_imp - b_imp, 1)}


def own_modules(limit: int = 25) -> list[tuple[int, int, str]]:
    _, _, rows = one(APP)
    own = [r for r in rows if r[2].split(".")[0] in OWN_PREFIXES]
    return sorted(own, key=lambda r: -r[1])[:limit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--modules", action="store_true")
    args = parser.parse_args()
    r = measure(args.runs)
    print(f"cold start, min of {r['runs']} fresh processes each ({sys.executable})")
    print(f"{'':22} {'wall ms':>10} {'imports ms':>12}")
    print(f"{'bare libraries':22} {r['bare_wall_ms']:>10} {r['bare_imports_ms']:>12}")
    print(f"{'import app':22} {r['app_wall_ms']:>10} {r['app_imports_ms']:>12}")
    print(f"{'app adds':22} {r['wall_extra_ms']:>+10} {r['imports_extra_ms']:>+12}")
    if args.modules:
        print("\nown modules by cumulative import time (one run):")
        for self_us, cum_us, name in own_modules():
            print(f"  {cum_us / 1000:8.1f} ms cumulative {self_us / 1000:7.1f} ms self  {name}")


if __name__ == "__main__":
    main()
