"""Report benchmark on DynamoDB Local: dashboard views at 1,000 and 100,000 work orders, and the
extra DynamoDB cost per record write that the incremental aggregates add.

    .venv/bin/python -m bench.reports [--sizes 1000 100000] [--views 20] [--writes 100] [--no-retire]

Per size: realistic work-order items (regions, priorities, states, engineers, parts lines, dates over
two years) are bulk-loaded with BatchWriteItem together with the group aggregates a backfill builds
(the same engine computes them), the tenant's registry marks each shipped report as serving, and then:
- the `service_overview` and `engineers_and_parts` dashboards are viewed `--views` times (all charts,
  permissions applied, Vega-Lite built): group items read, requests, RCU, and time per view;
- `--writes` new orders are created through the service and then updated (priority + region: moves
  them between groups); each write's stream record is processed by the report stream handler on its
  own (batch of one, the worst case) and metered separately from the record write itself, with the
  items it writes and what DynamoDB would charge for them (`wcu_priced`: 2 per item in a transaction,
  1 alone; DynamoDB Local reports 2 per transaction whatever it holds);
- retiring one replaced version of `orders_by_region_status` (its group items plus one contribution
  state per order, seeded as the stream would have left them) through the scheduled retirement step:
  requests, WCU/RCU and time for the N orders, and how many 20-second schedule runs that takes.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import _env  # noqa: E402

REGIONS = ["north", "south", "east", "west"]


def _order(rng, n: int, engineers: list[str], parts: list[str], customers: list[str]):
    from bench.report_backfill import order_data  # one generator for both benches
    from chalicelib import ids
    from chalicelib.storage.records import StoredRecord
    data, workflow, created = order_data(rng, n, engineers, parts, customers)
    return StoredRecord(tenant="demo", id=ids.new_id(), form="work_order", form_version=1, version=3, data=data,
                        created_at=created, created_by="agent.li", updated_at=created, updated_by="agent.li",
                        number=data["order_no"], workflow=workflow)


def load(n: int, seed: int = 1) -> float:
    """Bulk-load n work orders plus the aggregates of every shipped report; returns seconds taken."""
    from chalicelib.reports.contribution import contribution, merge_into
    from chalicelib.services import definitions
    from chalicelib.storage import reports as store
    from chalicelib.storage.models import RecordItem
    from chalicelib.storage.records import WritePlan, _to_item
    rng = random.Random(seed)
    engineers = [f"eng.{i:03d}" for i in range(40)]
    parts = [f"part-{i:03d}" for i in range(60)]
    customers = [f"cust-{i:04d}" for i in range(500)]
    registry, rev = store.get_registry("demo")
    reports = {name: definitions.version_of("demo", "report", name, entry["serving"]) for name, entry in registry.items()}
    totals = {name: {} for name in reports}
    start = time.perf_counter()
    chunk = 2000

    def write(items):
        with RecordItem.batch_write() as batch:
            for item in items:
                batch.save(item)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = []
        for offset in range(0, n, chunk):
            items = []
            for i in range(offset, min(n, offset + chunk)):
                rec = _order(rng, i, engineers, parts, customers)
                d = rec.data
                items.append(_to_item(rec, WritePlan(shards=4, index_values={1: d["region"], 2: d.get("assigned_engineer"),
                                                                             3: d["customer"], 4: d["priority"]})))
                view = {"data": json.loads(json.dumps(d, default=str), parse_float=Decimal), "workflow": rec.workflow,
                        "created_at": rec.created_at, "updated_at": rec.updated_at}
                for name, report in reports.items():
                    merge_into(totals[name], contribution(report, view))
            futures.append(pool.submit(write, items))
        for f in futures:
            f.result()
    # the aggregates a backfill would have built (group items replaced: the stream added nothing yet)
    for name, report in reports.items():
        store.put_groups("demo", name, registry[name]["serving"], totals[name])
    return time.perf_counter() - start


def view(meter, runs: int) -> dict:
    from chalicelib.services import reports as service
    from chalicelib.services.caller import Caller
    manager = Caller(tenant="demo", user_id="mgr.zhao", roles=frozenset({"manager"}))
    out = {}
    for board in ("service_overview", "engineers_and_parts"):
        times, groups = [], 0
        service.dashboard(manager, board)  # warm the definition cache
        meter.reset()
        for _ in range(runs):
            t = time.perf_counter()
            result = service.dashboard(manager, board)
            times.append((time.perf_counter() - t) * 1000)
            groups = result["groups_read"]
        per_report = {n: {"group_items": g, "rows": next(len(c.get("rows", [])) for c in result["charts"] if c["report"] == n)}
                      for n, g in result["groups_read_by_report"].items()}
        out[board] = {"charts": len(result["charts"]), "group_items_read": groups, "by_report": per_report,
                      "requests_per_view": {k: v / runs for k, v in sorted(meter.requests.items())},
                      "rcu_per_view": round(meter.read_units / runs, 2),
                      "ms_p50": round(statistics.median(times), 1), "ms_max": round(max(times), 1)}
    return out


def writes(meter, count: int) -> dict:
    """Create then update `count` orders through the service; meter the record writes and, apart,
    the report maintenance their stream records cause."""
    from chalicelib.services import records
    from chalicelib.services import reports as service
    from chalicelib.services.caller import Caller
    from chalicelib.storage.models import RecordItem
    agent = Caller(tenant="demo", user_id="agent.li", roles=frozenset({"agent"}))
    customer, _ = records.create(agent, "customer", {"data": {"name": "Bench Hotel", "phone": "13800138000"}}, None)
    conn = RecordItem._get_connection().connection

    def event(rid):
        item = conn._make_api_call("GetItem", {"TableName": RecordItem.Meta.table_name, "ConsistentRead": True,
                                               "Key": {"pk": {"S": f"T#demo#R#{rid}"}, "sk": {"S": "R"}}})["Item"]
        return [{"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": item["pk"], "sk": item["sk"]}, "NewImage": item}}]

    result = {}
    ids = []
    for phase in ("create", "update"):
        events, record_cost, report_cost = [], {"requests": 0, "wcu": 0.0, "rcu": 0.0}, {"requests": 0, "wcu": 0.0, "rcu": 0.0}
        for i in range(count):
            meter.reset()
            if phase == "create":
                rec, _ = records.create(agent, "work_order", {"data": {
                    "customer": customer["id"], "fault_description": "noise", "service_address": "1 Road",
                    "region": REGIONS[i % 4], "priority": "normal", "reported_at": "2026-11-20T08:00:00Z"}}, None)
                ids.append(rec["id"])
            else:
                # the order waits in Review, where its region's supervisor (the assignee) edits it
                editor = Caller(tenant="demo", user_id=f"sup.{REGIONS[i % 4]}", roles=frozenset({"supervisor"}))
                rec = records.update(editor, "work_order", ids[i], {"version": 1, "data": {"priority": "urgent", "region": REGIONS[(i + 1) % 4]}}, None)
            record_cost["requests"] += sum(meter.requests.values())
            record_cost["wcu"] += meter.write_units
            record_cost["rcu"] += meter.read_units
            events.append(event(ids[i]))
        written = {"items": 0, "transactional_items": 0, "wcu_priced": 0, "largest_item_bytes": 0}
        for batch in events:
            meter.reset()
            with _items_written(written):
                service.process_stream(batch)
            report_cost["requests"] += sum(meter.requests.values())
            report_cost["wcu"] += meter.write_units
            report_cost["rcu"] += meter.read_units
            ops = dict(meter.requests)
        result[phase] = {"record_write": {k: round(v / count, 2) for k, v in record_cost.items()},
                         "report_maintenance": {k: round(v / count, 2) for k, v in report_cost.items()},
                         "maintenance_items_written": {k: (v if k == "largest_item_bytes" else round(v / count, 2))
                                                       for k, v in written.items()},
                         "maintenance_requests_last": ops}
    return result


@contextmanager
def _items_written(totals: dict):
    """Items the report maintenance writes, and what DynamoDB would charge for them: 1 WCU per item
    (per KB) written alone, 2 inside a TransactWriteItems (DynamoDB Local reports 2 per transaction
    whatever it holds, so its WCU figure understates transactions). Item size estimated from the request."""
    from chalicelib.storage import reports as store
    original = store._call

    def counting(operation, request):
        if operation == "TransactWriteItems":
            ops = [next(iter(entry.values())) for entry in request["TransactItems"]]
            factor = 2
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            ops, factor = [request], 1
        else:
            ops, factor = [], 0
        for op in ops:
            size = len(json.dumps(op.get("Item") or op.get("ExpressionAttributeValues") or {}))
            totals["items"] += 1
            totals["transactional_items"] += factor == 2
            totals["wcu_priced"] += factor * max(1, -(-size // 1024))
            totals["largest_item_bytes"] = max(totals["largest_item_bytes"], size)
        return original(operation, request)

    store._call = counting
    try:
        yield
    finally:
        store._call = original


def retire(meter) -> dict:
    """Seed a replaced version (v0) of orders_by_region_status — the serving version's group items and one
    state per order — queue it for retirement and run the retirement step until it is gone."""
    from chalicelib.reports.contribution import contribution
    from chalicelib.services import definitions
    from chalicelib.services import reports as service
    from chalicelib.services.clock import utc_now
    from chalicelib.storage import reports as store
    name, old = "orders_by_region_status", 0
    entry = store.get_registry("demo")[0][name]
    report = definitions.version_of("demo", "report", name, entry["serving"])
    groups, _ = store.read_groups("demo", name, entry["serving"])
    store.put_groups("demo", name, old, {json.dumps(g): parts for g, parts in groups})
    shards = definitions.published("demo", "form", report.form)[1].storage.shards
    ids = []
    for shard in range(shards):
        position = None
        while True:
            page, position = store.page_record_ids("demo", report.form, shard, position, 1000)
            ids += page
            if not position:
                break
    sample = contribution(report, {"data": {"region": "north", "priority": "urgent"}, "deleted": False,
                                   "workflow": {"state": "Closed"}, "created_at": utc_now(), "updated_at": utc_now()})
    with ThreadPoolExecutor(max_workers=4) as pool:
        chunks = [ids[i:i + 2000] for i in range(0, len(ids), 2000)]
        list(pool.map(lambda chunk: store.batch_write(store.state_items("demo", name, old, {r: (3, sample) for r in chunk})), chunks))
    service.RETIRE_GRACE_SECONDS = 0
    queued = {"0": utc_now()}
    service._registry_update("demo", lambda r: {**r, name: {**r[name], "retiring": queued}})
    service._queue_retirements("demo", name, {**entry, "retiring": queued})
    meter.reset()
    start, runs = time.perf_counter(), 0
    while True:
        runs += 1
        if service.run_backfills().get("retired"):
            break
    seconds = time.perf_counter() - start
    requests, wcu, rcu = dict(sorted(meter.requests.items())), meter.write_units, meter.read_units
    left = len(store.group_keys("demo", name, old, 10)) + sum(1 for s in store.get_states("demo", [(r, name, old) for r in ids[:100]]).values() if s)
    return {"orders": len(ids), "group_items": len(groups), "requests": requests, "wcu": round(wcu, 1),
            "rcu": round(rcu, 1), "seconds": round(seconds, 1), "schedule_runs": runs,
            "wcu_per_order": round(wcu / max(1, len(ids)), 3), "left": left}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--views", type=int, default=20)
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--no-retire", dest="retire", action="store_false", help="skip the retirement figure")
    args = parser.parse_args()
    from bench.meter import metered
    from tools.ddb_local import DynamoDBLocal
    report = {}
    with DynamoDBLocal() as ddb:
        for size in args.sizes:
            _env(ddb.endpoint)
            from chalicelib.config import reset_settings
            from chalicelib.services import definitions
            reset_settings()
            definitions.clear_caches()
            from chalicelib.api import common
            common._configured = False
            from chalicelib.seed import install_app, install_demo_data
            from chalicelib.storage import configure_models, create_tables
            configure_models()
            create_tables()
            install_app("demo")
            install_demo_data("demo")
            seconds = load(size)
            with metered() as meter:
                views = view(meter, args.views)
                cost = writes(meter, args.writes)
                retired = retire(meter) if args.retire else None
            report[size] = {"load_seconds": round(seconds, 1), "dashboards": views, "per_record_write": cost,
                            **({"retire_one_version": retired} if retired else {})}
            print(json.dumps({size: report[size]}, indent=2), flush=True)
    sizes = sorted(report)
    if len(sizes) >= 2:
        for board in ("service_overview", "engineers_and_parts"):
            a, b = report[sizes[0]]["dashboards"][board], report[sizes[-1]]["dashboards"][board]
            print(f"{board}: {a['group_items_read']} group items at {sizes[0]:,} orders vs {b['group_items_read']} at "
                  f"{sizes[-1]:,}; {a['ms_p50']} ms vs {b['ms_p50']} ms per view")


if __name__ == "__main__":
    os.environ.setdefault("DEFINITION_CACHE_SECONDS", "5")
    main()
