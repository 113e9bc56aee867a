"""Retiring report versions that no longer serve: after the switch to a new version (or when a building
version is superseded by a newer publish), the schedule deletes the old version's group items and every
record's contribution state for it — checked on the table itself — without touching the serving
version or another tenant; an interrupted retirement continues where it stopped; the stream handler
writes only the serving and building versions; the status route shows the progress."""
import json
import time as real_time
import types

import pytest

from chalicelib.services import reports as service
from chalicelib.storage import reports as store

from .helpers import MANAGER, new_customer, work_order_data
from .test_reports_api import deliver, stream_event

ADMIN = dict(user="admin", roles=["admin"])
REPORT = "orders_by_region_status"


def _conn():
    from chalicelib.storage.models import RecordItem
    return RecordItem._get_connection().connection, RecordItem.Meta.table_name


def _query(pk):
    conn, table = _conn()
    items, start = [], None
    while True:
        request = {"TableName": table, "KeyConditionExpression": "pk = :pk", "ConsistentRead": True,
                   "ExpressionAttributeValues": {":pk": {"S": pk}}}
        if start:
            request["ExclusiveStartKey"] = start
        response = conn._make_api_call("Query", request)
        items += response.get("Items", [])
        start = response.get("LastEvaluatedKey")
        if not start:
            return items


def _states(tenant, version, report=REPORT):
    """Every contribution state item of (tenant, report, version) in the table (a full scan: tests only)."""
    conn, table = _conn()
    found, start = [], None
    while True:
        request = {"TableName": table, "ConsistentRead": True}
        if start:
            request["ExclusiveStartKey"] = start
        response = conn._make_api_call("Scan", request)
        found += [i for i in response.get("Items", []) if i["pk"]["S"].startswith(f"T#{tenant}#R#")
                  and i["sk"]["S"] == f"RC#{report}#v{version}"]
        start = response.get("LastEvaluatedKey")
        if not start:
            return found


def _groups(tenant, version, report=REPORT):
    return _query(store.group_pk(tenant, report, version))


def _order(api, customer, tenant="demo", **data):
    response = api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer["id"], **data)},
                        tenant=tenant, **ADMIN)
    assert response.status_code == 201, response.json
    return response.json["id"]


def _publish_new_version(api, title):
    raw = json.loads(open(f"definitions/after_sales/reports/{REPORT}.json").read())
    raw["measures"].append({"name": "high", "op": "count", "where": "priority == 'high'"})
    raw["title"] = title
    r = api.call("POST", f"/definitions/report/{REPORT}/versions", body=raw, **ADMIN)
    assert r.status_code == 201, r.json
    return r


def _later(monkeypatch, seconds=service.RETIRE_GRACE_SECONDS + 1):
    """The service's clock moved past the grace period (monotonic time, the budget, is left alone)."""
    fake = types.SimpleNamespace(time=lambda: real_time.time() + seconds, monotonic=real_time.monotonic,
                                 sleep=real_time.sleep)
    monkeypatch.setattr(service, "time", fake)


def _status(api):
    r = api.call("GET", f"/reports/{REPORT}/status", **MANAGER)
    assert r.status_code == 200, r.json
    return r.json


def _rows(api):
    report = api.call("GET", f"/reports/{REPORT}", **MANAGER).json
    return report["version"], report["rows"]


@pytest.fixture
def two_tenants(demo_api):
    """demo and other, both with the shipped app (every report built, v1 serving) and some orders whose
    stream records have been delivered."""
    from chalicelib.seed import install_app
    install_app("other")
    api = demo_api
    demo_customer, other_customer = new_customer(api), new_customer(api, tenant="other")
    priorities = ["urgent", "high", "high", "normal", "low", "high", "normal"]
    ids = [_order(api, demo_customer, priority=p, region=["north", "south", "east"][n % 3]) for n, p in enumerate(priorities)]
    other = [_order(api, other_customer, tenant="other", priority="high") for _ in range(3)]
    deliver(stream_event("demo", ids))
    deliver(stream_event("other", other))
    assert len(_states("demo", 1)) == len(ids) and len(_states("other", 1)) == len(other)
    return api, demo_customer, ids, other


def test_switch_retires_the_old_version_after_the_grace_period(two_tenants, monkeypatch):
    api, customer, ids, other = two_tenants
    other_groups = _groups("other", 1)
    assert len(_states("demo", 1, "sla_compliance")) == len(ids)
    _publish_new_version(api, "v2")
    assert _status(api)["building"] == 2 and _status(api)["retiring"] == []
    # while v2 builds the stream keeps both versions
    ids.append(_order(api, customer, priority="high", region="west"))
    deliver(stream_event("demo", ids[-1:]))
    assert len(_states("demo", 1)) == len(ids) and len(_states("demo", 2)) == 1

    result = service.run_backfills()
    assert result == {"advanced": 1}  # v1 is queued; its grace period has not passed
    status = _status(api)
    assert status["serving"] == 2 and status["building"] is None
    assert [(r["version"], r["status"], r["phase"]) for r in status["retiring"]] == [(1, "waiting", "groups")]
    # from the switch on the stream maintains v2 only: a new order gets no v1 state
    ids.append(_order(api, customer, priority="urgent", region="north"))
    deliver(stream_event("demo", ids[-1:]))
    assert len(_states("demo", 1)) == len(ids) - 1 and len(_states("demo", 2)) == len(ids)
    assert service.advance_retirement("demo", REPORT, 1)["status"] == "waiting"  # not yet: nothing deleted
    assert _groups("demo", 1)

    _later(monkeypatch)
    result = service.run_backfills()
    assert result == {"advanced": 0, "retiring": 1, "retired": 1}
    assert _groups("demo", 1) == [] and _states("demo", 1) == []
    assert store.get_job("demo", REPORT, 1) is None and store.get_retirement("demo", REPORT, 1) is None
    registry, _ = store.get_registry("demo")
    assert registry[REPORT] == {"form": "work_order", "serving": 2, "building": None}
    assert _status(api)["retiring"] == []
    # the serving version, other reports and the other tenant's v1 are untouched
    assert len(_states("demo", 2)) == len(ids)
    assert len(_states("demo", 1, "sla_compliance")) == len(ids)  # another report's v1 serves on
    assert _groups("other", 1) == other_groups and len(_states("other", 1)) == len(other)
    assert store.get_registry("other")[0][REPORT]["serving"] == 1
    version, rows = _rows(api)
    assert version == 2 and sum(r["orders"] for r in rows) == len(ids)
    assert sum(r["high"] for r in rows) == 4
    assert service.run_backfills() == {"advanced": 0}  # nothing left
    # the stream goes on with v2 alone
    r = api.call("PATCH", f"/forms/work_order/records/{ids[0]}", body={"version": 1, "data": {"priority": "high"}}, **ADMIN)
    assert r.status_code == 200, r.json
    deliver(stream_event("demo", ids[:1]))
    assert sum(r["high"] for r in _rows(api)[1]) == 5 and _states("demo", 1) == []


def test_a_deleted_records_state_expires(two_tenants):
    """A deleted record leaves the list index, so no retirement would find its states: once deleted, the
    state (which adds nothing any more) carries the table's TTL attribute, set past the stream's 24 h."""
    api, customer, ids, other = two_tenants
    r = api.call("DELETE", f"/forms/work_order/records/{ids[1]}?version=1", **ADMIN)
    assert r.status_code in (200, 204), r.json
    deliver(stream_event("demo", ids[:3]))
    by_record = {i["pk"]["S"].rsplit("#", 1)[1]: i for i in _states("demo", 1)}
    assert set(by_record) == set(ids)
    expires = int(by_record[ids[1]]["expires_at"]["N"])
    assert real_time.time() + 6 * 86400 < expires < real_time.time() + 8 * 86400
    assert json.loads(by_record[ids[1]]["c"]["S"]) == {}
    assert all("expires_at" not in by_record[i] for i in ids if i != ids[1])
    assert sum(r["orders"] for r in _rows(api)[1]) == len(ids) - 1


def test_an_interrupted_retirement_continues_where_it_stopped(two_tenants, monkeypatch):
    api, customer, ids, other = two_tenants
    monkeypatch.setattr(service, "RETIRE_PAGE", 2)
    _publish_new_version(api, "v2")
    service.advance_backfill("demo", REPORT, 2)
    groups_before = len(_groups("demo", 1))
    assert groups_before >= 3
    _later(monkeypatch)
    view = service.advance_retirement("demo", REPORT, 1, budget_seconds=0)  # one page
    assert (view["status"], view["phase"], view["groups_deleted"]) == ("running", "groups", 2)
    shown = _status(api)["retiring"]
    assert [(r["version"], r["phase"], r["groups_deleted"], r["shards"]) for r in shown] == [(1, "groups", 2, view["shards"])]
    assert len(_groups("demo", 1)) == groups_before - 2

    # a worker dies after deleting a page of states but before saving its position
    while service.advance_retirement("demo", REPORT, 1, budget_seconds=0)["phase"] == "groups":
        pass
    assert _groups("demo", 1) == [] and len(_states("demo", 1)) == len(ids)
    pages, real_put, real_delete = [], store.put_retirement, store.delete_states

    def counting_delete(*args):
        deleted = real_delete(*args)
        pages.extend([deleted] if deleted else [])
        return deleted

    def crash_after_second_page(*args, **kwargs):
        if len(pages) == 2:  # two non-empty pages deleted, the second one's position not saved
            raise RuntimeError("worker killed")
        return real_put(*args, **kwargs)

    monkeypatch.setattr(store, "delete_states", counting_delete)
    monkeypatch.setattr(store, "put_retirement", crash_after_second_page)
    with pytest.raises(RuntimeError):
        service.advance_retirement("demo", REPORT, 1, budget_seconds=5)
    monkeypatch.setattr(store, "put_retirement", real_put)
    monkeypatch.setattr(store, "delete_states", real_delete)
    assert 0 < len(_states("demo", 1)) == len(ids) - sum(pages)
    # a second worker holding a stale revision cannot save over the first one's progress
    job = store.get_retirement("demo", REPORT, 1)
    with pytest.raises(service.Conflict):
        store.put_retirement("demo", REPORT, 1, {**job, "positions": {s: "" for s in job["positions"]}}, job["rev"] - 1)

    status = _status(api)["retiring"][0]
    assert status["phase"] == "states" and status["states_deleted"] == pages[0]  # the saved position
    while service.run_backfills(budget_seconds=0.5).get("retired", 0) == 0:
        pass
    assert _groups("demo", 1) == [] and _states("demo", 1) == []
    assert len(_states("demo", 2)) == len(ids) and len(_states("other", 1)) == len(other)
    version, rows = _rows(api)
    assert version == 2 and sum(r["orders"] for r in rows) == len(ids) and sum(r["high"] for r in rows) == 3
    assert _status(api)["retiring"] == []


def test_a_building_version_superseded_by_a_newer_publish_is_retired_too(two_tenants, monkeypatch):
    api, customer, ids, other = two_tenants
    _publish_new_version(api, "v2")
    # v2 is building: the stream gives it partial data (two orders change)
    for rid in ids[:2]:
        r = api.call("PATCH", f"/forms/work_order/records/{rid}", body={"version": 1, "data": {"region": "west"}}, **ADMIN)
        assert r.status_code == 200, r.json
    deliver(stream_event("demo", ids[:2]))
    assert len(_states("demo", 2)) == 2 and _groups("demo", 2)
    _publish_new_version(api, "v3")
    status = _status(api)
    assert (status["serving"], status["building"]) == (1, 3)
    assert [r["version"] for r in status["retiring"]] == [2]
    # the stream now writes v1 (serving) and v3 (building), never v2
    deliver(stream_event("demo", ids[2:3]))
    r = api.call("PATCH", f"/forms/work_order/records/{ids[2]}", body={"version": 1, "data": {"region": "west"}}, **ADMIN)
    deliver(stream_event("demo", ids[2:3]))
    assert len(_states("demo", 2)) == 2 and len(_states("demo", 3)) == 1

    result = service.run_backfills()  # v2's job stops as superseded; v3 finishes; v1 is queued
    assert result["advanced"] == 2
    assert store.get_job("demo", REPORT, 2)["status"] == "superseded"
    assert [r["version"] for r in _status(api)["retiring"]] == [1, 2]
    _later(monkeypatch)
    result = service.run_backfills()
    assert result["retired"] == 2
    for version in (1, 2):
        assert _groups("demo", version) == [] and _states("demo", version) == []
        assert store.get_job("demo", REPORT, version) is None
    assert store.get_registry("demo")[0][REPORT] == {"form": "work_order", "serving": 3, "building": None}
    assert len(_states("demo", 3)) == len(ids) and len(_states("other", 1)) == len(other) and _groups("other", 1)
    version, rows = _rows(api)
    assert version == 3 and sum(r["orders"] for r in rows) == len(ids)
    assert {r["region"]: r["orders"] for r in rows if r["region"] == "west"} == {"west": 3}


def test_a_version_published_again_while_it_is_retired_is_built_afresh_afterwards(two_tenants, monkeypatch):
    api, customer, ids, other = two_tenants
    _publish_new_version(api, "v2")
    service.run_backfills()
    assert _status(api)["serving"] == 2
    # roll back to v1 while v1 is still queued for retirement: it is not rebuilt on top of data being deleted
    r = api.call("POST", f"/definitions/report/{REPORT}/versions/1/publish", **ADMIN)
    assert r.status_code == 200, r.json
    assert store.get_registry("demo")[0][REPORT]["building"] is None
    assert api.call("POST", f"/reports/{REPORT}/rebuild", **ADMIN).status_code == 409
    _later(monkeypatch)
    assert service.run_backfills()["retired"] == 1  # retired, then v1 starts building again from nothing
    status = _status(api)
    assert (status["serving"], status["building"], status["retiring"]) == (2, 1, [])
    service.run_backfills()
    assert _status(api)["serving"] == 1
    version, rows = _rows(api)
    assert version == 1 and sum(r["orders"] for r in rows) == len(ids)
    assert len(_states("demo", 1)) == len(ids)
    assert service.run_backfills() == {"advanced": 0}  # v2 waits for its own grace period
    _later(monkeypatch, 2 * (service.RETIRE_GRACE_SECONDS + 1))
    assert service.run_backfills()["retired"] == 1
    assert _groups("demo", 2) == [] and _states("demo", 2) == []
