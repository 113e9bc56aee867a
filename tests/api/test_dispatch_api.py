"""Dispatch through the HTTP API (chalice test client + moto, shipped app + demo engineers):
ranked candidates with cost parts and exclusion reasons, the workflow's automatic step driven by the
published policy, reject → re-dispatch without that engineer, capacity from open work, batch dispatch."""
import pytest

from chalicelib.auth import issue_local_token
from chalicelib.dispatch.geo import haversine_m

from .helpers import AGENT, new_customer, work_order_data

SUP = dict(user="sup.north", roles=["supervisor"])
ZHANG = dict(user="eng.zhang", roles=["engineer"])
CHEN_HOME = {"lat": 31.1, "lng": 121.6}


@pytest.fixture
def orders(flow_api):
    customer = new_customer(flow_api)

    def make(**extra):
        response = flow_api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer["id"], **extra)}, **AGENT)
        assert response.status_code == 201, response.json
        return response.json
    return make


def candidates(api, order, who=SUP, expect=200):
    response = api.call("GET", f"/forms/work_order/records/{order['id']}/dispatch/candidates", **who)
    assert response.status_code == expect, response.json
    return response.json


def act(api, order_id, action, version, who=SUP, **body):
    response = api.call("POST", f"/forms/work_order/records/{order_id}/actions/{action}", body={"version": version, **body}, **who)
    assert response.status_code == 200, response.json
    return response.json


def get(api, order_id):
    return api.call("GET", f"/forms/work_order/records/{order_id}", **AGENT).json


def engineer_record(api, user):
    items = api.call("GET", f"/forms/engineer/records?filter.user={user}", **SUP).json["items"]
    return items[0]


def set_capacity(api, user, capacity):
    rec = engineer_record(api, user)
    response = api.call("PATCH", f"/forms/engineer/records/{rec['id']}", body={"version": rec["version"], "data": {"daily_capacity": capacity}}, **SUP)
    assert response.status_code == 200, response.json


def test_candidates_are_ranked_with_score_parts_and_reasons(flow_api, orders):
    order = orders(service_location=CHEN_HOME)
    body = candidates(flow_api, order)
    assert body["policy"] == {"name": "work_order", "version": 1} and body["reason"] is None
    by_user = {c["user"]: c for c in body["candidates"]}
    # the east's engineers (the neighbouring region) are listed too, excluded: none has the hvac skill
    assert body["best"] == body["candidates"][0]["user"] and [c["rank"] for c in body["candidates"]] == [1, 2, None, None]
    assert {c["user"] for c in body["candidates"] if not c["eligible"]} == {"eng.xu", "eng.qian"}
    zhang, chen = by_user["eng.zhang"], by_user["eng.chen"]
    expected_km = haversine_m(31.2304, 121.4737, 31.1, 121.6) / 1000
    assert zhang["parts"]["distance"]["value"] == pytest.approx(expected_km, abs=0.01)
    assert chen["parts"]["distance"]["value"] == 0
    assert (zhang["parts"]["skill"]["value"], chen["parts"]["skill"]["value"]) == (4, 2)
    for c in (zhang, chen):
        assert c["eligible"] and c["excluded"] == [] and c["cost"] == pytest.approx(sum(p["cost"] for p in c["parts"].values()), abs=1e-5)
    medical = candidates(flow_api, orders(product_line="medical"))
    assert medical["best"] == "eng.chen"
    excluded = next(c for c in medical["candidates"] if c["user"] == "eng.zhang")
    assert excluded["eligible"] is False and excluded["rank"] is None
    assert excluded["excluded"] == [{"rule": "skill", "message": "no medical skill; needs level 3"}]


def test_candidates_respect_permissions(flow_api, orders):
    order = orders()
    assert candidates(flow_api, order, AGENT, 403)["error"]["code"] == "forbidden"
    assert candidates(flow_api, order, ZHANG, 403)["error"]["code"] == "forbidden"
    assert candidates(flow_api, order, dict(user="admin", roles=["admin"]))["best"] == "eng.zhang"
    south = issue_local_token("demo", "sup.south", ["supervisor"], attributes={"region": "south"})
    response = flow_api.call("GET", f"/forms/work_order/records/{order['id']}/dispatch/candidates", token=south)
    assert response.status_code == 404  # the row rule hides north orders from the south supervisor
    missing = flow_api.call("GET", "/forms/work_order/records/01ARZ3NDEKTSV4RRFFQ69G5FAV/dispatch/candidates", **SUP)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_published_policy_drives_auto_dispatch(flow_api, orders):
    order = orders(service_location=CHEN_HOME)
    policy = {"weights": {"skill": 0, "distance": 5}, "rules": {"neighbours": {}}}
    uploaded = flow_api.call("POST", "/definitions/dispatch_policy/work_order/versions", body=policy)
    assert uploaded.status_code == 201, uploaded.json
    moved = act(flow_api, order["id"], "auto_dispatch", 1)
    assert moved["record"]["data"]["assigned_engineer"] == "eng.chen"  # nearest now wins
    assert candidates(flow_api, orders(service_location=CHEN_HOME))["policy"]["version"] == uploaded.json["version"]


def _dispatch_and_finish(api, orders, count):
    """Each order is dispatched, then closed (deleted by the admin) before the next arrives."""
    chosen = []
    for _ in range(count):
        order = orders(service_location=CHEN_HOME)
        moved = act(api, order["id"], "auto_dispatch", 1)
        chosen.append(moved["record"]["data"]["assigned_engineer"])
        assert api.call("DELETE", f"/forms/work_order/records/{order['id']}?version={moved['record']['version']}").status_code == 200
    return chosen


def test_rotation_takes_turns_however_fast_orders_complete(flow_api, orders):
    # by distance and skill alone (no fairness or load weight), the engineer nearest the sites wins every order
    by_cost = {"weights": {"fairness": 0, "load": 0}, "rules": {"neighbours": {}}}
    assert flow_api.call("POST", "/definitions/dispatch_policy/work_order/versions", body=by_cost).status_code == 201
    assert _dispatch_and_finish(flow_api, orders, 2) == ["eng.chen", "eng.chen"]
    policy = {"weights": {"fairness": 0, "load": 0}, "rules": {"rotation": True, "neighbours": {}}}
    uploaded = flow_api.call("POST", "/definitions/dispatch_policy/work_order/versions", body=policy)
    assert uploaded.status_code == 201, uploaded.json
    # round robin: whoever was given work least recently goes first (the position is kept with the load)
    chosen = _dispatch_and_finish(flow_api, orders, 6)
    assert chosen == ["eng.zhang", "eng.chen"] * 3
    listed = {c["user"]: c for c in candidates(flow_api, orders(service_location=CHEN_HOME))["candidates"]}
    assert listed["eng.zhang"]["rank"] == 1 and (listed["eng.zhang"]["load"], listed["eng.zhang"]["today"]) == (0, 3)
    # nothing open, but 5 orders given today: the daily capacity (5) counts the day, not the open work
    assert (listed["eng.chen"]["load"], listed["eng.chen"]["today"]) == (0, 5)
    assert listed["eng.chen"]["excluded"] == [{"rule": "capacity", "message": "at capacity (5 today of 5)"}]


def test_policy_upload_is_checked_against_the_forms(flow_api):
    bad = {"order": {"location": "service_address", "skill": "nope"}, "weights": {"load": -1}}
    response = flow_api.call("POST", "/definitions/dispatch_policy/work_order/versions", body=bad)
    assert response.status_code == 422 and response.json["error"]["details"] == [
        {"path": "weights.load", "message": "must be at least 0"}]
    del bad["weights"]
    response = flow_api.call("POST", "/definitions/dispatch_policy/work_order/versions", body=bad)
    paths = {d["path"]: d["message"] for d in response.json["error"]["details"]}
    assert response.status_code == 422 and set(paths) == {"order.location", "order.skill"}
    response = flow_api.call("POST", "/definitions/dispatch_policy/no_such_form/versions", body={})
    assert response.status_code == 422 and response.json["error"]["details"][0]["path"] == "name"
    response = flow_api.call("POST", "/definitions/dispatch_policy/work_order/versions", body={}, **SUP)
    assert response.status_code == 403


def test_daily_capacity_counts_the_day_and_reject_excludes(flow_api, orders):
    set_capacity(flow_api, "eng.zhang", 1)
    first, second = orders(), orders()
    assert act(flow_api, first["id"], "auto_dispatch", 1)["record"]["data"]["assigned_engineer"] == "eng.zhang"
    listed = {c["user"]: c for c in candidates(flow_api, second)["candidates"]}
    assert listed["eng.zhang"]["excluded"] == [{"rule": "capacity", "message": "at capacity (1 today of 1)"}]
    assert listed["eng.chen"]["rank"] == 1
    assert act(flow_api, second["id"], "auto_dispatch", 1)["record"]["data"]["assigned_engineer"] == "eng.chen"
    # zhang declines the first order: it goes back to dispatch without him (and his load drops)
    act(flow_api, first["id"], "reject", 2, ZHANG, comment="too far")
    record = get(flow_api, first["id"])
    assert record["data"]["assigned_engineer"] == "eng.chen" and record["data"]["rejected_engineers"] == "eng.zhang,"
    listed = {c["user"]: c for c in candidates(flow_api, first)["candidates"]}
    assert [r["rule"] for r in listed["eng.zhang"]["excluded"]] == ["excluded"]  # no longer at capacity
    assert listed["eng.zhang"]["today"] == 0  # a declined order leaves his day
    assert (listed["eng.chen"]["load"], listed["eng.chen"]["today"]) == (2, 2)


def set_on_duty(api, user, on_duty):
    rec = engineer_record(api, user)
    response = api.call("PATCH", f"/forms/engineer/records/{rec['id']}", body={"version": rec["version"], "data": {"on_duty": on_duty}}, **SUP)
    assert response.status_code == 200, response.json


def test_nobody_eligible_goes_to_manual_dispatch_with_the_reason(flow_api, orders):
    set_on_duty(flow_api, "eng.chen", False)  # the north's only medical engineer; the east has none
    order = orders(product_line="medical")
    moved = act(flow_api, order["id"], "auto_dispatch", 1)
    assert moved["transition"]["path"][-1] == "ManualDispatch"
    history = flow_api.call("GET", f"/forms/work_order/records/{order['id']}/history", **AGENT).json["items"]
    failed = [e for h in history for e in h.get("events", []) if e.get("type") == "workflow.step_failed"]
    assert failed == [{"type": "workflow.step_failed", "error": "Dispatch.NoCandidate",
                       "cause": REASON}]
    body = candidates(flow_api, order)
    assert body["best"] is None and body["reason"] == REASON


REASON = "no eligible engineer among 4 (excluded by skill: 3, on_duty: 1)"


def batch(api, body, who=SUP, expect=200):
    response = api.call("POST", "/dispatch/batch", body=body, **who)
    assert response.status_code == expect, response.json
    return response.json


def test_batch_assigns_globally_within_capacity_and_is_idempotent(flow_api, orders):
    set_capacity(flow_api, "eng.zhang", 1)
    set_capacity(flow_api, "eng.chen", 1)
    low, urgent, normal = orders(priority="low"), orders(priority="urgent"), orders(priority="normal")
    ids = [low["id"], urgent["id"], normal["id"], "01ARZ3NDEKTSV4RRFFQ69G5FAV"]
    planned = batch(flow_api, {"form": "work_order", "record_ids": ids, "dry_run": True})
    assert planned["summary"] == {"planned": 2, "unassigned": 1, "not_found": 1}
    in_chinese = flow_api.call("POST", "/dispatch/batch", body={"form": "work_order", "record_ids": ids, "dry_run": True},
                               headers={"Accept-Language": "zh-CN"}, **SUP).json["results"]
    assert [r["reason"] for r in in_chinese if r["status"] == "unassigned"] == [
        "合格工程师的余量已分给其他工单（优先级更高或总成本更低）"], in_chinese  # the reasons in the reader's language
    assert all(get(flow_api, i)["version"] == 1 for i in ids[:3])  # a dry run writes nothing
    done = batch(flow_api, {"form": "work_order", "record_ids": ids})
    results = {r["record_id"]: r for r in done["results"]}
    assert [r["record_id"] for r in done["results"]] == ids and done["summary"] == {"assigned": 2, "unassigned": 1, "not_found": 1}
    assert results[low["id"]]["status"] == "unassigned"  # scarce capacity goes to the urgent and normal orders
    assert "capacity went to other orders" in results[low["id"]]["reason"]
    assert {results[urgent["id"]]["engineer"], results[normal["id"]]["engineer"]} == {"eng.zhang", "eng.chen"}
    for oid in (urgent["id"], normal["id"]):
        r = results[oid]
        assert r["status"] == "assigned" and r["state"] == "AwaitAcceptance" and r["version"] == 2 and "skill" in r["parts"]
        record = get(flow_api, oid)
        assert record["data"]["assigned_engineer"] == r["engineer"] and record["workflow"]["assignees"] == [f"user:{r['engineer']}"]
    inbox = flow_api.call("GET", "/tasks", **ZHANG).json["items"]
    assert [t["record_id"] for t in inbox] == [oid for oid in (urgent["id"], normal["id"]) if results[oid]["engineer"] == "eng.zhang"]
    # a retry changes nothing that was done; the left-over order now finds everyone at capacity
    again = batch(flow_api, {"form": "work_order", "record_ids": ids})
    again_by_id = {r["record_id"]: r for r in again["results"]}
    assert again["summary"] == {"already_assigned": 2, "unassigned": 1, "not_found": 1}
    assert again_by_id[urgent["id"]]["engineer"] == results[urgent["id"]]["engineer"]
    assert again_by_id[low["id"]]["reason"] == "no eligible engineer among 4 (excluded by capacity: 2, skill: 2)"
    assert get(flow_api, urgent["id"])["version"] == 2


def test_batch_by_filter_and_conflicts(flow_api, orders, monkeypatch):
    a, b = orders(), orders()
    orders(region="south")  # outside the filter
    from chalicelib.errors import Conflict
    from chalicelib.services import workflow
    real = workflow.act

    def racing(caller, form, record_id, action, body, **kw):
        if record_id == a["id"]:
            raise Conflict("record was changed by someone else", code="version_conflict")
        return real(caller, form, record_id, action, body, **kw)
    monkeypatch.setattr(workflow, "act", racing)
    done = batch(flow_api, {"form": "work_order", "filter": {"region": "north"}})
    by_id = {r["record_id"]: r for r in done["results"]}
    assert set(by_id) == {a["id"], b["id"]}
    assert by_id[a["id"]]["status"] == "conflict" and by_id[a["id"]]["error"] == "version_conflict"
    assert by_id[b["id"]]["status"] == "assigned"
    assert get(flow_api, a["id"])["version"] == 1


@pytest.mark.parametrize("body, path", [
    ({}, "form"),
    ({"form": "work_order"}, ""),
    ({"form": "work_order", "record_ids": []}, "record_ids"),
    ({"form": "work_order", "record_ids": ["x"], "extra": 1}, "extra"),
    ({"form": "work_order", "record_ids": ["x"] * 201}, "record_ids"),
    ({"form": "work_order", "filter": {"region": "north"}, "limit": 0}, "limit"),
    ({"form": "work_order", "filter": {"fault_description": "x"}}, "filter.fault_description"),
])
def test_batch_rejects_bad_bodies_naming_the_field(flow_api, body, path):
    error = batch(flow_api, body, expect=422)["error"]
    assert path in [d["path"] for d in error["details"]], error


def test_batch_permissions(flow_api, orders):
    order = orders()
    assert batch(flow_api, {"form": "work_order", "record_ids": [order["id"]]}, AGENT, 403)["error"]["code"] == "forbidden"
    assert batch(flow_api, {"form": "nope", "record_ids": [order["id"]]}, expect=404)["error"]["code"] == "not_found"
    south = issue_local_token("demo", "sup.south", ["supervisor"], attributes={"region": "south"})
    response = flow_api.call("POST", "/dispatch/batch", body={"form": "work_order", "record_ids": [order["id"]]}, token=south)
    assert response.status_code == 200 and response.json["results"] == [{"record_id": order["id"], "status": "not_found"}]
    # an engineer's own order is not his to dispatch: in AwaitAcceptance the supervisor can no longer assign
    act(flow_api, order["id"], "auto_dispatch", 1)
    result = batch(flow_api, {"form": "work_order", "record_ids": [order["id"]]})["results"][0]
    assert result == {"record_id": order["id"], "status": "already_assigned", "engineer": "eng.zhang", "state": "AwaitAcceptance"}


def test_without_a_published_policy_defaults_apply(api):
    from chalicelib.services.dispatch import policy_for
    version, policy = policy_for("nobody", "work_order", {"Exclude": "declined_by", "SkillField": "line", "Form": "tech"})
    assert version is None
    assert (policy.order.excluded, policy.order.skill, policy.engineer_form) == ("declined_by", "line", "tech")
