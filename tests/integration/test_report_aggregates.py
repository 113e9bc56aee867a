"""Report aggregates on DynamoDB Local: duplicated, shuffled stream batches delivered by concurrent
workers (real transactions, conditions and conflicts) end exactly where a full recomputation does;
a backfill racing the stream does not double-count."""
import json
import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.reports import finish, merge_groups, recompute
from chalicelib.seed import install_app, install_demo_data
from chalicelib.services import definitions, records
from chalicelib.services import reports as service
from chalicelib.services.caller import Caller
from chalicelib.storage import reports as store
from tests.api.test_reports_api import stream_event

ADMIN = Caller(tenant="demo", user_id="admin", roles=frozenset({"admin"}))


def supervisor(region):
    """The region's supervisor: Review's assignee, who edits the order there."""
    return Caller(tenant="demo", user_id=f"sup.{region}", roles=frozenset({"supervisor"}))


def _views(ids):
    out = []
    for rid in ids:
        rec = records.get(ADMIN, "work_order", rid)
        raw = json.loads(stream_event("demo", [rid])["Records"][0]["dynamodb"]["NewImage"]["data"]["S"])
        out.append({"data": raw, "deleted": False, "workflow": {"state": rec["workflow"]["state"]} if rec.get("workflow") else None,
                    "created_at": rec["created_at"], "updated_at": rec["updated_at"]})
    return out


@pytest.mark.ddblocal
def test_concurrent_redelivered_batches_match_recomputation(ddblocal_backend):
    install_app("demo")
    install_demo_data("demo", forms={"region"})
    customer, _ = records.create(ADMIN, "customer", {"data": {"name": "ACME", "phone": "13800138000"}}, None)
    rng = random.Random(7)
    ids = []
    for n in range(24):
        order, _ = records.create(ADMIN, "work_order", {"data": {
            "customer": customer["id"], "fault_description": "noise", "service_address": "1 Road",
            "region": rng.choice(["north", "south", "east"]), "priority": rng.choice(["urgent", "high", "normal"]),
            "reported_at": "2026-10-0%dT02:00:00Z" % (1 + n % 5),
            **({"first_time_fix": n % 3 == 0} if n % 2 else {})}}, None)
        if n % 2:  # completed_at is the platform's (server-owned)
            from chalicelib.services import system_writes
            system_writes.write("demo", order["id"], lambda rec, form, now: ({"completed_at": "2026-10-09T02:00:00Z"},
                                                                            {"kind": "update"}, []), actor="system")
        ids.append(order["id"])
    events = [stream_event("demo", ids[i:i + 5])["Records"] for i in range(0, len(ids), 5)]
    for rid in rng.sample(ids, 8):  # updates move orders between groups
        current = records.get(ADMIN, "work_order", rid)
        records.update(supervisor(current["data"]["region"]), "work_order", rid, {"version": current["version"], "data": {"region": "west", "priority": "urgent"}}, None)
    events.append(stream_event("demo", ids)["Records"])
    batches = events + events  # every batch delivered twice
    rng.shuffle(batches)
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(service.process_stream, batches))
        list(pool.map(service.process_stream, batches[:4]))
    for name in ("orders_by_region_status", "sla_compliance", "first_time_fix"):
        version, report = definitions.published("demo", "report", name)
        groups, _ = store.read_groups("demo", name, version)
        incremental = finish(report, merge_groups(report, groups))
        expected_groups = recompute(report, _views(ids))
        expected = finish(report, merge_groups(report, [(json.loads(k), p) for k, p in expected_groups.items()]))
        assert incremental == expected, name


@pytest.mark.ddblocal
def test_backfill_racing_the_stream_counts_once(ddblocal_backend):
    install_app("demo")
    customer, _ = records.create(ADMIN, "customer", {"data": {"name": "ACME", "phone": "13800138000"}}, None)
    ids = [records.create(ADMIN, "work_order", {"data": {"customer": customer["id"], "fault_description": "x",
                                                         "service_address": "1 Road", "region": "north"}}, None)[0]["id"]
           for _ in range(12)]
    raw = json.loads(open("definitions/after_sales/reports/orders_by_region_status.json").read())
    definitions.upload(ADMIN, "report", "orders_by_region_status", {**raw, "title": "v2"}, publish=True)
    started = service.start_backfill("demo", "orders_by_region_status")
    batch = stream_event("demo", ids)["Records"]
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(service.process_stream, batch),
                   pool.submit(service.advance_backfill, "demo", "orders_by_region_status", started["version"], 30.0),
                   pool.submit(service.process_stream, batch)]
        [f.result() for f in futures]
    registry, _ = store.get_registry("demo")
    assert registry["orders_by_region_status"]["serving"] == 2
    report = definitions.version_of("demo", "report", "orders_by_region_status", 2)
    groups, _ = store.read_groups("demo", "orders_by_region_status", 2)
    rows = finish(report, merge_groups(report, groups))
    assert sum(r["orders"] for r in rows) == 12
