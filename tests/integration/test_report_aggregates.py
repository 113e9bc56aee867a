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


def _matches_recomputation(ids, names=None):
    registry, _ = store.get_registry("demo")
    for name in names or sorted(registry):
        version, report = definitions.published("demo", "report", name)
        groups, _ = store.read_groups("demo", name, version)
        incremental = finish(report, merge_groups(report, groups))
        expected_groups = recompute(report, _views(ids))
        expected = finish(report, merge_groups(report, [(json.loads(k), p) for k, p in expected_groups.items()]))
        assert incremental == expected, name


def _mixed_orders(customer, count, rng):
    """Orders that count in different reports: open ones (backlog, region/status), completed ones with
    and without a first-time fix (SLA, first-time fix, productivity)."""
    from chalicelib.services import system_writes
    ids = []
    for n in range(count):
        order, _ = records.create(ADMIN, "work_order", {"data": {
            "customer": customer["id"], "fault_description": "noise", "service_address": "1 Road",
            "region": rng.choice(["north", "south", "east"]), "priority": rng.choice(["urgent", "high", "normal", "low"]),
            "reported_at": "2026-10-0%dT02:00:00Z" % (1 + n % 5),
            **({"first_time_fix": n % 4 == 1} if n % 2 else {})}}, None)
        if n % 2:
            system_writes.write("demo", order["id"], lambda rec, form, now: ({"completed_at": "2026-10-09T02:00:00Z"},
                                                                            {"kind": "update"}, []), actor="system")
        ids.append(order["id"])
    return ids


@pytest.mark.ddblocal
def test_a_batch_of_many_records_and_reports_costs_two_requests_and_counts_once(ddblocal_backend):
    """One stream batch with orders that count in different reports (every shipped report maintained):
    one BatchGetItem (registry + every state) and one TransactWriteItems (every state and merged group
    delta); delivered again, alone and by concurrent workers, it changes nothing."""
    from bench.meter import metered
    install_app("demo")
    install_demo_data("demo", forms={"region"})
    customer, _ = records.create(ADMIN, "customer", {"data": {"name": "ACME", "phone": "13800138000"}}, None)
    rng = random.Random(11)
    ids = _mixed_orders(customer, 6, rng)
    registry, _ = store.get_registry("demo")
    assert len(registry) >= 5
    service.process_stream(stream_event("demo", ids[:1])["Records"])  # this container learns the registry
    batch = stream_event("demo", ids[1:] + [customer["id"]])["Records"]  # a customer counts in no report
    with metered() as meter:
        first = service.process_stream(batch)
    assert dict(meter.requests) == {"BatchGetItem": 1, "TransactWriteItems": 1}, dict(meter.requests)
    assert first["records"] == 6 and first["applied"] == 5 * len(registry) and first["skipped"] == 0, first
    _matches_recomputation(ids)
    with metered() as meter:
        again = service.process_stream(batch)  # a Lambda retry of the batch
    assert dict(meter.requests) == {"BatchGetItem": 1}, dict(meter.requests)
    assert again["applied"] == 0 and again["skipped"] == 5 * len(registry), again
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(service.process_stream, [batch, stream_event("demo", ids)["Records"], batch, batch]))
    _matches_recomputation(ids)


@pytest.mark.ddblocal
def test_a_batch_split_over_transactions_and_a_lost_condition_count_once(ddblocal_backend, monkeypatch):
    """A batch whose writes exceed one transaction (here 100 items lowered to 12) is sent in several, each
    whole; one that finds a state moved since it was read (a stale read: a concurrent copy of the batch
    got there first) is cancelled, reads those states again and applies only what is left."""
    from bench.meter import metered
    install_app("demo")
    install_demo_data("demo", forms={"region"})
    customer, _ = records.create(ADMIN, "customer", {"data": {"name": "ACME", "phone": "13800138000"}}, None)
    ids = _mixed_orders(customer, 8, random.Random(5))
    # a copy of part of the batch was applied after our read: our read of those states is stale
    real_read = store.read_states
    stale = {"first": True}

    def read_then_race(wanted, registries=()):
        states, regs = real_read(wanted, registries)
        if stale.pop("first", False):
            service.process_stream(stream_event("demo", ids[:3])["Records"])
        return states, regs

    monkeypatch.setattr(store, "read_states", read_then_race)
    monkeypatch.setattr(store, "MAX_TRANSACTION_ITEMS", 12)
    with metered() as meter:
        result = service.process_stream(stream_event("demo", ids)["Records"])
    monkeypatch.setattr(store, "read_states", real_read)
    registry, _ = store.get_registry("demo")
    assert meter.requests["TransactWriteItems"] > 3, dict(meter.requests)  # split (and some cancelled and sent again)
    assert result["applied"] == 5 * len(registry), result  # the three raced records were applied by the other copy
    _matches_recomputation(ids)
    assert service.process_stream(stream_event("demo", ids)["Records"])["applied"] == 0
    _matches_recomputation(ids)
