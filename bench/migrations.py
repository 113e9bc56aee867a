"""Record migration on DynamoDB Local: N shipped work orders (default 10,000, every one running the
shipped workflow) moved to a new work-order form version and a new workflow version (a state renamed,
mapped), with the job stopped part-way and its progress then lost once (the stored position set back),
so the restart walks pages it had already done. Prints records/s, requests and WCU per record moved,
and the check that no record was moved twice (its history holds one `migrate` entry) — for every
record.

    .venv/bin/python -m bench.migrations [--records 10000]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import demo_stack  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10000)
    args = parser.parse_args()
    with demo_stack():
        from bench.meter import metered
        from chalicelib.services import definitions, migrations, records
        from chalicelib.services.caller import Caller
        from chalicelib.storage import migrations as store
        admin = Caller(tenant="demo", user_id="admin", roles=frozenset({"admin"}))
        agent = Caller(tenant="demo", user_id="agent.li", roles=frozenset({"agent"}))
        customer = records.create(agent, "customer", {"data": {"name": "Bench", "phone": "13800138000", "region": "north"}}, None)[0]
        began = time.perf_counter()

        def make(i: int) -> None:
            records.create(agent, "work_order", {"data": {"customer": customer["id"], "fault_description": f"fault {i}",
                                                          "service_address": "1 Road", "region": "north"}}, None)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(make, range(args.records)))
        print(f"({args.records} work orders stored in {time.perf_counter() - began:.0f} s)")

        form = json.loads((ROOT / "definitions/after_sales/forms/work_order.json").read_text())
        form["fields"].append({"name": "contract_ref", "type": "text", "label": "Contract reference"})
        definitions.upload(admin, "form", "work_order", form, publish=True)
        flow = json.loads((ROOT / "definitions/after_sales/workflows/work_order.json").read_text())
        renamed = json.dumps(flow).replace('"Review"', '"Triage"')  # the state every new order rests in, renamed
        definitions.upload(admin, "workflow", "work_order", json.loads(renamed), publish=True)

        migrations.INLINE_SECONDS = 2.0  # the POST stops early: the rest is the schedule's
        with metered() as meter:
            started = time.perf_counter()
            job = migrations.start(admin, "work_order", {"state_map": {"Review": "Triage"}})
            first = job["counts"]["seen"]
            stored = store.get_job("demo", job["id"])
            body = {k: v for k, v in stored.items() if k not in ("id", "form", "status", "rev", "created_at")}
            # the progress of everything done so far is lost once: the restart walks those pages again
            store.save_job("demo", job["id"], "work_order", "running", {**body, "cursor": None}, stored["created_at"],
                           rev=stored["rev"])
            while store.get_job("demo", job["id"])["status"] == "running":
                migrations.continue_running(budget_seconds=30.0)
            wall = time.perf_counter() - started
        done = migrations.get(admin, "work_order", job["id"])
        counts = done["counts"]
        moved = counts["moved"]
        requests = sum(meter.requests.values())
        print(f"job: seen {counts['seen']} (the first {first} twice), moved {moved}, already {counts['already']}, "
              f"needs_values {counts['needs_values']}, needs_state {counts['needs_state']}, conflict {counts['conflict']}")
        print(f"  by state {done['by_state']}")
        print(f"  {moved / wall:.0f} records/s ({wall:.0f} s wall, 2 shared cores, DynamoDB Local)")
        print(f"  {requests} requests {dict(sorted(meter.requests.items()))}; per record moved {requests / max(moved, 1):.2f} "
              f"requests, {meter.write_units / max(moved, 1):.1f} WCU, {meter.read_units / max(moved, 1):.1f} RCU")
        from chalicelib.storage import listing, workflow as wf_store
        published = definitions.published("demo", "form", "work_order")[1]
        twice = wrong = 0
        cursor, checked = None, 0
        while True:
            page, cursor = listing.list_records("demo", "work_order", published.storage.shards, primary=None, extra=[],
                                                limit=100, cursor=cursor)
            for rec in page:
                entries = wf_store.list_history("demo", rec.id, limit=50)
                twice += sum(1 for e in entries if e.get("kind") == "migrate") > 1
                wrong += rec.form_version != done["to_version"] or rec.workflow["state"] == "Review"
                checked += 1
            if cursor is None:
                break
        print(f"  checked {checked} records: moved twice {twice}, not at the new versions {wrong}")


if __name__ == "__main__":
    main()
