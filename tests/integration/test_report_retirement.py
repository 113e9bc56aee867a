"""Report version retirement on DynamoDB Local: a building version superseded by a newer publish and the
version replaced by the finished backfill are both deleted by concurrent workers in small pages (real
BatchWriteItem, conditional job saves, the by_owner due-time query); the serving version matches a full
recomputation and the other tenant's items of the same report are untouched."""
import json
import random
import time as real_time
import types
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.errors import Conflict
from chalicelib.reports import finish, merge_groups, recompute
from chalicelib.seed import install_app, install_demo_data
from chalicelib.services import definitions, records
from chalicelib.services import reports as service
from chalicelib.services.caller import Caller
from chalicelib.storage import reports as store
from tests.api.test_report_retirement import _groups, _states
from tests.api.test_reports_api import stream_event
from tests.integration.test_report_aggregates import _views

REPORT = "orders_by_region_status"


def _admin(tenant):
    return Caller(tenant=tenant, user_id="admin", roles=frozenset({"admin"}))


def _orders(tenant, n, rng):
    customer, _ = records.create(_admin(tenant), "customer", {"data": {"name": "ACME", "phone": "13800138000"}}, None)
    return [records.create(_admin(tenant), "work_order", {"data": {
        "customer": customer["id"], "fault_description": "noise", "service_address": "1 Road",
        "region": rng.choice(["north", "south", "east"]), "priority": rng.choice(["urgent", "high", "normal"])}}, None)[0]["id"]
        for _ in range(n)]


def _publish(title):
    raw = json.loads(open(f"definitions/after_sales/reports/{REPORT}.json").read())
    definitions.upload(_admin("demo"), "report", REPORT, {**raw, "title": title}, publish=True)


@pytest.mark.ddblocal
def test_concurrent_workers_retire_superseded_and_replaced_versions(ddblocal_backend, monkeypatch):
    rng = random.Random(3)
    install_app("demo")
    install_demo_data("demo", forms={"region"})
    install_app("other")
    ids = _orders("demo", 23, rng)
    other = _orders("other", 4, rng)
    service.process_stream(stream_event("demo", ids)["Records"])
    service.process_stream(stream_event("other", other)["Records"])
    other_groups = _groups("other", 1)
    _publish("v2")  # building; the stream gives it part of the data
    for rid in ids[:5]:
        region = records.get(_admin("demo"), "work_order", rid)["data"]["region"]
        records.update(Caller(tenant="demo", user_id=f"sup.{region}", roles=frozenset({"supervisor"})),  # Review's assignee
                       "work_order", rid, {"version": 1, "data": {"region": "west"}}, None)
    service.process_stream(stream_event("demo", ids[:5])["Records"])
    assert len(_states("demo", 2)) == 5
    _publish("v3")
    assert store.get_registry("demo")[0][REPORT]["retiring"].keys() == {"2"}
    service.run_backfills()
    entry = store.get_registry("demo")[0][REPORT]
    assert (entry["serving"], entry["building"], sorted(entry["retiring"])) == (3, None, ["1", "2"])

    monkeypatch.setattr(service, "RETIRE_PAGE", 4)
    monkeypatch.setattr(service, "time", types.SimpleNamespace(
        time=lambda: real_time.time() + service.RETIRE_GRACE_SECONDS + 1, monotonic=real_time.monotonic))
    assert sorted(v for _t, _r, v in store.due_retirements(service.time.time())) == [1, 2]

    def worker(version):
        conflicts = 0
        while True:
            try:
                result = service.advance_retirement("demo", REPORT, version, budget_seconds=0)
            except Conflict:
                conflicts += 1
                continue
            if result["status"] in ("done", "gone", "dropped"):
                return conflicts

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(worker, [1, 2, 1, 2]))
    for version in (1, 2):
        assert _groups("demo", version) == [] and _states("demo", version) == []
        assert store.get_job("demo", REPORT, version) is None and store.get_retirement("demo", REPORT, version) is None
    assert store.get_registry("demo")[0][REPORT] == {"form": "work_order", "serving": 3, "building": None}
    assert store.due_retirements(service.time.time()) == []
    assert _groups("other", 1) == other_groups and len(_states("other", 1)) == len(other)
    assert len(_states("demo", 3)) == len(ids)
    report = definitions.version_of("demo", "report", REPORT, 3)
    groups, _ = store.read_groups("demo", REPORT, 3)
    expected = recompute(report, _views(ids))
    assert finish(report, merge_groups(report, groups)) == \
        finish(report, merge_groups(report, [(json.loads(k), p) for k, p in expected.items()]))
