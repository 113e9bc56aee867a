"""Benchmark: the console in headless Debian chromium on the local stack (issue 13 quality bars).

Starts the local stack (tools.localstack), creates 30 work orders through the API so the list pages,
then runs console/e2e/bench.mjs: first-load JavaScript (gzipped), the inbox's first render after
sign-in (median of 5), and the list route calls per page of records. Needs `make console`.
Usage: python -m bench.console
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from tools import localstack
    with tempfile.TemporaryDirectory() as folder, localstack.running(Path(folder)) as stack:
        customer = localstack.call(stack, "POST", "/forms/customer/records", "agent.li",
                                   {"data": {"name": "Bench Hotel", "phone": "13800138000"}})
        for i in range(30):
            localstack.call(stack, "POST", "/forms/work_order/records", "agent.li",
                            {"data": {"customer": customer["id"], "fault_description": f"bench {i}", "service_address": "1 Road",
                                      "region": "north"}})
        run = subprocess.run(["node", "e2e/bench.mjs"], cwd=ROOT / "console", capture_output=True, text=True, timeout=600,
                             env={**os.environ, "CONSOLE_URL": stack.console, "TOKEN": stack.tokens["sup.north"]})
        if run.returncode:
            raise SystemExit(run.stderr)
        figures = json.loads(run.stdout)
        print(json.dumps(figures, indent=2))
        load = figures["first_load"]
        print(f"\nfirst load: {load['scripts']} script(s), {load['js_bytes'] / 1024:.0f} KB, "
              f"{load['js_gzip_bytes'] / 1024:.0f} KB gzipped (bar: 250 KB)")
        print(f"inbox first render: median {figures['inbox_first_render_median_ms']} ms of {figures['inbox_first_render_ms']} (bar: 1 s)")
        page = figures["list_page"]
        print(f"list page: {page['rows_shown']} rows, {page['list_calls_first_page']} list call(s) for the first page, "
              f"{page['list_calls_next_page']} for the next, {page['per_row_calls']} per-row calls")


if __name__ == "__main__":
    main()
