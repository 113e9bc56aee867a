"""Benchmark: what the installable console costs on the wire, first visit and repeat visit, and that
it opens offline (issue 14). Starts the local stack (tools.localstack), gives the engineer one work
order through the API, then runs bench/console_bytes.mjs (Debian's chromium, playwright-core): bytes
received by the page (shell vs API), by the service worker (its precache), on a first and a repeat
visit, and an offline reload that still draws the inbox. Needs `make console`.
Usage: python -m bench.console_bytes   (against `make run` instead: node bench/console_bytes.mjs)
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
                                   {"data": {"name": "Bench Hotel", "phone": "13800138000", "region": "north"}})
        order = localstack.call(stack, "POST", "/forms/work_order/records", "agent.li", {"data": {
            "customer": customer["id"], "fault_description": "bench", "service_address": "1 Road", "region": "north",
            "product_line": "hvac"}})
        localstack.call(stack, "POST", f"/forms/work_order/records/{order['id']}/actions/assign", "sup.north",
                        {"version": order["version"], "data": {"assigned_engineer": "eng.zhang"}})
        run = subprocess.run(["node", "bench/console_bytes.mjs"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                             env={**os.environ, "CONSOLE_URL": stack.console})
        if run.returncode:
            raise SystemExit(run.stdout + run.stderr)
        figures = json.loads(run.stdout)
        print(json.dumps(figures, indent=2))
        first, repeat, kb = figures["first_visit"], figures["repeat_visit"], lambda n: f"{n / 1024:.0f} KB"
        print(f"\nprecache: {figures['precache']['entries']} files, {kb(figures['precache']['bytes'])}")
        print(f"first visit: shell {kb(first['shell_network']['bytes'])} ({kb(first['shell_network']['bytes_gzip'])} gzipped) "
              f"+ service worker {kb(first['service_worker_network']['bytes'])} ({kb(first['service_worker_network']['bytes_gzip'])} gzipped), "
              f"API {kb(first['api_network']['bytes'])}; inbox in {figures['first_visit_inbox_ms']} ms")
        print(f"repeat visit: shell {kb(repeat['shell_network']['bytes'])} on the network ({repeat['shell_from_service_worker']['requests']} "
              f"from the service worker) + service worker {kb(repeat['service_worker_network']['bytes'])}, API {kb(repeat['api_network']['bytes'])}; "
              f"inbox in {figures['repeat_visit_inbox_ms']} ms")
        offline = figures["offline_reload"]
        print(f"offline reload: inbox drawn with {offline['rows']} row(s), {offline['errors_shown']} error(s), {offline['ms']} ms")


if __name__ == "__main__":
    main()
