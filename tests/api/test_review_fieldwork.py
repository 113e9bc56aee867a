"""Adversarial review of field work (check-in/out, parts and stock, offline sync).

Each test pins behaviour the review tried to break: 15 of them were open bugs when written (sync
merge permissions and hidden values, future base versions, values dropped by visible_if, the pull
missing slow commits, unchecked form names, drawing from another engineer's van, parts during a pending
approval or on a closed order, reused line ids, check-in on closed or unaccepted orders, overlapping
visits); all are fixed and stay as regressions."""
import json

import pytest

from .helpers import AGENT, new_customer, work_order_data
from .test_fieldwork_api import (CHEN, NEAR, SITE, SUP, ZHANG, Order, make_part, make_warehouse, on_hand, receive,
                                 travelling_order)
from .test_sync_api import ADMIN, sync

WO = "work_order"


def _order_in_review(api, **extra):
    customer = new_customer(api)
    created = api.call("POST", "/forms/work_order/records",
                       body={"data": work_order_data(customer["id"], service_location=SITE, **extra)}, **AGENT)
    assert created.status_code == 201, created.json
    return Order(api, created.json)


def _on_site_with_stock(api, price=120, stock=10):
    order = travelling_order(api)
    order.post("checkin", ZHANG, location=NEAR)
    part, warehouse = make_part(api, price=price), make_warehouse(api)
    receive(api, warehouse, part, stock)
    return order, part, warehouse


def _ledger(api, warehouse, part):
    return api.call("GET", f"/inventory/ledger?warehouse={warehouse}&part={part}", **SUP).json


# ---- offline sync: permissions of the merge ---------------------------------------------------------

def test_sync_update_on_an_order_i_cannot_see_is_not_found(flow_api):
    order = travelling_order(flow_api)  # eng.zhang's order; eng.chen's row rule hides it
    assert flow_api.call("GET", order.path, **CHEN).status_code == 404
    # assigned_engineer changed since version 1 (dispatch), so this field "conflicts"
    result = sync(flow_api, CHEN, [{"op_id": "spy-update-0001", "type": "update", "form": WO, "record_id": order.id,
                                    "base_version": 1, "data": {"assigned_engineer": "eng.chen"}}])
    outcome = result["results"][0]
    assert "eng.zhang" not in json.dumps(outcome), outcome  # the server value of a record I may not read
    assert outcome["status"] == "rejected" and outcome["http_status"] == 404, outcome
    kept = flow_api.call("GET", f"{order.path}/conflicts", **SUP).json["items"]
    assert kept == []  # nothing planted on somebody else's order


def test_sync_conflict_never_reveals_a_hidden_field(flow_api):
    order = _order_in_review(flow_api)
    base = order.version
    patched = flow_api.call("PATCH", order.path, body={"version": order.version, "data": {"contract_price": 98765}}, **SUP)
    assert patched.status_code == 200, patched.json
    order.version = patched.json["version"]
    order.act("auto_dispatch", SUP)
    order.act("accept", ZHANG)
    assert "contract_price" not in order.get(ZHANG)["data"]  # hidden from engineers
    result = sync(flow_api, ZHANG, [{"op_id": "peek-price-0001", "type": "update", "form": WO, "record_id": order.id,
                                     "base_version": base, "data": {"contract_price": 1}}])
    assert "98765" not in json.dumps(result["results"]), result["results"]


def test_sync_conflict_on_a_field_i_may_not_write_is_refused(flow_api):
    order = _order_in_review(flow_api)
    base = order.version
    order.act("auto_dispatch", SUP)  # changes assigned_engineer (not editable by the engineer in any state)
    order.act("accept", ZHANG)
    result = sync(flow_api, ZHANG, [{"op_id": "self-assign-0001", "type": "update", "form": WO, "record_id": order.id,
                                     "base_version": base, "data": {"accepted_at": "2020-01-01T00:00:00Z"}}])
    outcome = result["results"][0]
    assert outcome["status"] == "rejected" and outcome["http_status"] == 403, outcome


def test_sync_update_with_a_future_base_version_is_refused(flow_api):
    order, _part, _wh = _on_site_with_stock(flow_api)
    base = order.version
    patched = flow_api.call("PATCH", order.path, body={"version": base, "data": {"service_report": "Office note"}}, **ADMIN)
    assert patched.status_code == 200
    result = sync(flow_api, ZHANG, [{"op_id": "future-base-001", "type": "update", "form": WO, "record_id": order.id,
                                     "base_version": base + 50, "data": {"service_report": "Phone note"}}])
    assert result["results"][0]["status"] == "rejected", result["results"]
    assert order.get(ADMIN)["data"]["service_report"] == "Office note"


def test_sync_pull_hides_fields_the_user_may_not_see(flow_api):
    order = _order_in_review(flow_api)
    patched = flow_api.call("PATCH", order.path, body={"version": order.version, "data": {"contract_price": 98765}}, **SUP)
    assert patched.status_code == 200
    order.version = patched.json["version"]
    order.act("auto_dispatch", SUP)
    pulled = sync(flow_api, ZHANG, [])
    assert [r["id"] for r in pulled["changes"]["records"]] == [order.id]
    assert "98765" not in json.dumps(pulled)


def test_conflicts_of_a_record_are_not_readable_by_another_engineer(flow_api):
    order, _part, _wh = _on_site_with_stock(flow_api)
    assert flow_api.call("GET", f"{order.path}/conflicts", **CHEN).status_code == 404


def test_sync_cursor_of_another_tenant_is_refused(flow_api):
    from chalicelib.seed import install_app
    install_app("other")
    cursor = sync(flow_api, ZHANG, [])["cursor"]
    response = flow_api.call("POST", "/sync", body={"operations": [], "cursor": cursor}, tenant="other", **ZHANG)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_cursor"


def test_pull_does_not_miss_a_write_that_started_before_the_cursor(flow_api, monkeypatch):
    from datetime import datetime, timedelta, timezone

    from chalicelib.services import records as records_service
    order, _part, _wh = _on_site_with_stock(flow_api)
    first = sync(flow_api, ZHANG, [])
    # a write that read the clock 2 s earlier (slow Lambda / clock skew) and commits after the pull
    early = (datetime.now(timezone.utc) - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    monkeypatch.setattr(records_service, "utc_now", lambda: early)
    patched = flow_api.call("PATCH", order.path, body={"version": order.version, "data": {"service_report": "late"}}, **ADMIN)
    assert patched.status_code == 200
    monkeypatch.undo()
    later = sync(flow_api, ZHANG, [], cursor=first["cursor"])
    assert [r["id"] for r in later["changes"]["records"]] == [order.id]


# ---- offline sync: hostile operations ------------------------------------------------------------

@pytest.mark.parametrize("kind", ["create", "checkin"])
def test_sync_overlong_form_name_is_a_4xx(flow_api, kind):
    from chalicelib.ids import new_id
    op = {"op_id": "long-form-0001", "type": kind, "form": "x" * 3000, "record_id": new_id(), "data": {"a": 1}}
    response = flow_api.call("POST", "/sync", body={"operations": [op]}, **ZHANG)
    assert response.status_code < 500, response.body
    if response.status_code == 200:
        assert response.json["results"][0]["status"] == "rejected"


@pytest.mark.parametrize("op", [
    {"type": "create", "data": [1, 2]},
    {"type": "action", "action": "arrive", "data": [1]},
    {"type": "action", "action": "arrive", "comment": 12},
    {"type": "action", "action": 12},
    {"type": "checkin", "location": [1, 2]},
    {"type": "checkin", "location": NEAR, "at": 5},
    {"type": "parts", "quantity": "lots", "part": "p"},
    {"type": "return_part", "line_id": {"a": 1}},
    {"type": "attach", "upload_id": ["x"]},
    {"type": "update", "base_version": 1, "data": {"no_such_field": 1}},
    {"type": "update", "base_version": 1, "data": {"service_report": {"nested": True}}},
])
def test_sync_malformed_operations_are_rejected_not_500(flow_api, op):
    order = travelling_order(flow_api)
    body = {"op_id": "bad-op-000001", "form": WO, "record_id": None if op["type"] == "create" else order.id, **op}
    if body["record_id"] is None:
        body.pop("record_id")
    response = flow_api.call("POST", "/sync", body={"operations": [body]}, **ZHANG)
    assert response.status_code in (200, 400, 422), response.body
    if response.status_code == 200:
        assert response.json["results"][0]["status"] == "rejected", response.json["results"]


def test_sync_attach_replays_report_applied(flow_api):
    from .test_uploads_api import PNG, put_object
    order, _part, _wh = _on_site_with_stock(flow_api)
    declared = flow_api.call("POST", f"{order.path}/uploads", body={"field": "fault_photos", "content_type": "image/png",
                                                                    "size": len(PNG)}, **ZHANG)
    put_object(declared.json["key"])
    op = {"op_id": "attach-once-001", "type": "attach", "form": WO, "record_id": order.id,
          "upload_id": declared.json["upload_id"]}
    first = sync(flow_api, ZHANG, [op])["results"][0]
    assert first["status"] == "applied", first
    again = sync(flow_api, ZHANG, [op])["results"][0]
    assert again["status"] == "applied" and again["result"]["id"] == order.id, again


def test_sync_parts_replayed_after_a_return_is_not_drawn_again(flow_api):
    order, part, warehouse = _on_site_with_stock(flow_api)
    draw = {"op_id": "draw-line-0001", "type": "parts", "form": WO, "record_id": order.id, "part": part,
            "quantity": 2, "warehouse": warehouse, "line_id": "line-rt-0001"}
    back = {"op_id": "back-line-0001", "type": "return_part", "form": WO, "record_id": order.id, "line_id": "line-rt-0001"}
    sync(flow_api, ZHANG, [draw, back])
    for _ in range(2):
        sync(flow_api, ZHANG, [draw, back])
        sync(flow_api, ZHANG, [back, draw])
    assert on_hand(flow_api, warehouse, part) == 10
    assert not order.get(ADMIN)["data"].get("parts_used")


# ---- spare parts: who draws what, from where, when ----------------------------------------------------

def test_engineer_cannot_draw_from_another_engineers_van(flow_api):
    order, part, _central = _on_site_with_stock(flow_api)
    chens_van = make_warehouse(flow_api, code="VAN-CHEN", kind="van", keeper="eng.chen")
    receive(flow_api, chens_van, part, 3)
    drawn = flow_api.call("POST", f"{order.path}/parts", body={"version": order.version, "part": part, "quantity": 3,
                                                                "warehouse": chens_van}, **ZHANG)
    assert drawn.status_code in (403, 422), drawn.json
    assert on_hand(flow_api, chens_van, part) == 3


@pytest.mark.parametrize("who, quantity", [(ZHANG, 5), (AGENT, 2)], ids=["engineer", "agent"])
def test_no_parts_drawn_while_the_parts_approval_is_pending(flow_api, who, quantity):
    order, part, warehouse = _on_site_with_stock(flow_api, price=2500)
    order.post("parts", ZHANG, expect=201, part=part, quantity=1, warehouse=warehouse)
    order.act("request_parts", ZHANG)
    assert order.get()["workflow"]["state"] == "PartsApproval"
    more = flow_api.call("POST", f"{order.path}/parts", body={"version": order.version, "part": part, "quantity": quantity,
                                                               "warehouse": warehouse}, **who)
    assert more.status_code == 403, more.json
    assert on_hand(flow_api, warehouse, part) == 9


def test_no_parts_on_a_cancelled_order(flow_api):
    order = _order_in_review(flow_api)
    part, warehouse = make_part(flow_api), make_warehouse(flow_api)
    receive(flow_api, warehouse, part, 5)
    patched = flow_api.call("PATCH", order.path, body={"version": order.version, "data": {"assigned_engineer": "eng.zhang"}},
                            **SUP)
    assert patched.status_code == 200, patched.json
    order.version = patched.json["version"]
    order.act("cancel", SUP, comment="customer withdrew")
    drawn = flow_api.call("POST", f"{order.path}/parts", body={"version": order.version, "part": part, "quantity": 2,
                                                                "warehouse": warehouse}, **ZHANG)
    assert drawn.status_code in (403, 409), drawn.json
    assert on_hand(flow_api, warehouse, part) == 5


def test_no_checkin_on_a_cancelled_order(flow_api):
    order = _order_in_review(flow_api)
    patched = flow_api.call("PATCH", order.path, body={"version": order.version, "data": {"assigned_engineer": "eng.zhang"}},
                            **SUP)
    order.version = patched.json["version"]
    order.act("cancel", SUP, comment="customer withdrew")
    response = flow_api.call("POST", f"{order.path}/checkin", body={"version": order.version, "location": NEAR}, **ZHANG)
    assert response.status_code in (403, 409), response.json


def test_line_id_reused_with_a_different_request_is_refused(flow_api):
    order, part, warehouse = _on_site_with_stock(flow_api)
    order.post("parts", ZHANG, expect=201, part=part, quantity=1, warehouse=warehouse, line_id="line-dup-0001")
    other = make_part(flow_api, part_no="PMP-9", price=900)
    reused = flow_api.call("POST", f"{order.path}/parts", body={"version": order.version, "part": other, "quantity": 4,
                                                                 "warehouse": warehouse, "line_id": "line-dup-0001"}, **ZHANG)
    assert reused.status_code == 422, reused.json


def test_agent_cannot_draw_parts_on_site(flow_api):
    order, part, warehouse = _on_site_with_stock(flow_api)
    drawn = flow_api.call("POST", f"{order.path}/parts", body={"version": order.version, "part": part, "quantity": 1,
                                                                "warehouse": warehouse}, **AGENT)
    assert drawn.status_code == 403
    assert on_hand(flow_api, warehouse, part) == 10


def test_other_engineer_cannot_return_my_parts(flow_api):
    order, part, warehouse = _on_site_with_stock(flow_api)
    order.post("parts", ZHANG, expect=201, part=part, quantity=2, warehouse=warehouse, line_id="line-ret-0001")
    back = flow_api.call("POST", f"{order.path}/parts/line-ret-0001/return", body={"version": order.version}, **CHEN)
    assert back.status_code == 404
    assert on_hand(flow_api, warehouse, part) == 8


@pytest.mark.parametrize("quantity", [0, -1, 3, 2.001, "1", True])
def test_return_more_or_bad_quantity_is_a_422(flow_api, quantity):
    order, part, warehouse = _on_site_with_stock(flow_api)
    order.post("parts", ZHANG, expect=201, part=part, quantity=2, warehouse=warehouse, line_id="line-ret-0002")
    back = flow_api.call("POST", f"{order.path}/parts/line-ret-0002/return", body={"version": order.version,
                                                                                    "quantity": quantity}, **ZHANG)
    assert back.status_code == 422 and back.json["error"]["details"][0]["path"] == "quantity", back.json
    assert on_hand(flow_api, warehouse, part) == 8


def test_decimal_draws_and_returns_keep_stock_ledger_and_lines_in_step(flow_api):
    order, part, warehouse = _on_site_with_stock(flow_api, stock=1)
    receive(flow_api, warehouse, part, 0.3)
    for n in range(3):
        order.post("parts", ZHANG, expect=201, part=part, quantity=0.1, warehouse=warehouse, line_id=f"line-dec-000{n}")
    order.post("parts/line-dec-0001/return", ZHANG, quantity=0.05)
    assert on_hand(flow_api, warehouse, part) == 1.05
    ledger = _ledger(flow_api, warehouse, part)
    from decimal import Decimal
    assert sum(Decimal(str(e["quantity"])) for e in ledger["items"]) == Decimal("1.05")
    lines = order.get(ADMIN)["data"]["parts_used"]
    assert sum(Decimal(str(line["quantity"])) for line in lines) == Decimal("0.25")


def test_transfer_adjustment_cannot_take_stock_below_zero(flow_api):
    part, a, b = make_part(flow_api), make_warehouse(flow_api, "A-9"), make_warehouse(flow_api, "B-9")
    receive(flow_api, a, part, 1)
    moved = flow_api.call("POST", "/inventory/movements", body={"kind": "transfer", "warehouse": a, "to_warehouse": b,
                                                                "part": part, "quantity": 2}, **SUP)
    assert moved.status_code == 409
    assert on_hand(flow_api, a, part) == 1 and on_hand(flow_api, b, part) == 0
    assert len(_ledger(flow_api, b, part)["items"]) == 0


# ---- check-in device time ------------------------------------------------------------------------

def test_checkin_before_the_previous_checkout_is_refused(flow_api):
    order = travelling_order(flow_api)
    order.post("checkin", ZHANG, location=NEAR, at="2026-11-30T08:00:00Z")
    order.post("checkout", ZHANG, at="2026-11-30T10:00:00Z")
    overlapping = flow_api.call("POST", f"{order.path}/checkin", body={"version": order.version, "location": NEAR,
                                                                        "at": "2026-11-30T09:00:00Z"}, **ZHANG)
    assert overlapping.status_code == 422, overlapping.json


def test_checkin_time_with_an_offset_is_stored_in_utc(flow_api):
    order = travelling_order(flow_api)
    done = order.post("checkin", ZHANG, location=NEAR, at="2026-11-30T16:00:00+08:00")
    assert done["record"]["data"]["visits"][0]["checked_in_at"] == "2026-11-30T08:00:00Z"
    out = order.post("checkout", ZHANG, at="2026-11-30T09:00:00Z")
    assert out["on_site_seconds"] == 3600


def test_conflicts_route_hides_a_field_the_reader_may_not_see(flow_api):
    order = _order_in_review(flow_api)
    base = order.version
    patched = flow_api.call("PATCH", order.path, body={"version": order.version, "data": {"contract_price": 500}}, **SUP)
    order.version = patched.json["version"]
    # the supervisor's phone changed the same price offline: a kept conflict with both values
    result = sync(flow_api, SUP, [{"op_id": "sup-price-00001", "type": "update", "form": WO, "record_id": order.id,
                                   "base_version": base, "data": {"contract_price": 98765}}])
    assert result["results"][0]["status"] == "conflict", result["results"]
    order.act("auto_dispatch", SUP)
    order.act("accept", ZHANG)
    seen = flow_api.call("GET", f"{order.path}/conflicts", **ZHANG)
    assert seen.status_code == 200 and "98765" not in json.dumps(seen.json), seen.json


@pytest.fixture
def ddb_api(ddblocal_backend):
    from chalice.test import Client

    from app import app

    from ..conftest import ApiClient
    with Client(app) as client:
        yield ApiClient(client.http)


@pytest.mark.ddblocal
def test_sync_overlong_form_name_is_a_4xx_on_dynamodb_local(ddb_api):
    from chalicelib.ids import new_id
    op = {"op_id": "long-form-0001", "type": "create", "form": "x" * 3000, "record_id": new_id(), "data": {"a": 1}}
    response = ddb_api.call("POST", "/sync", body={"operations": [op]}, **ZHANG)
    assert response.status_code < 500, response.body


@pytest.mark.ddblocal
def test_sync_overlong_form_name_on_a_record_op_is_a_4xx_on_dynamodb_local(ddb_api):
    from chalicelib.ids import new_id
    op = {"op_id": "long-form-0002", "type": "checkin", "form": "x" * 3000, "record_id": new_id(), "location": NEAR}
    response = ddb_api.call("POST", "/sync", body={"operations": [op]}, **ZHANG)
    assert response.status_code == 422, response.body
    assert response.json["error"]["details"][0]["path"] == "operations[0].form"


def test_no_checkin_before_the_order_is_accepted(flow_api):
    order = _order_in_review(flow_api)
    order.act("auto_dispatch", SUP)
    assert order.get()["workflow"]["state"] == "AwaitAcceptance"
    early = flow_api.call("POST", f"{order.path}/checkin", body={"version": order.version, "location": NEAR}, **ZHANG)
    assert early.status_code == 409, early.json


def test_merge_into_a_field_hidden_by_the_servers_change_is_not_silently_lost(flow_api):
    order = travelling_order(flow_api, warranty_status="out_of_warranty")
    order.post("checkin", ZHANG, location=NEAR)
    base = order.version
    patched = flow_api.call("PATCH", order.path, body={"version": base, "data": {"warranty_status": "in_warranty"}}, **ADMIN)
    assert patched.status_code == 200, patched.json
    result = sync(flow_api, ZHANG, [{"op_id": "quote-offline-01", "type": "update", "form": WO, "record_id": order.id,
                                     "base_version": base, "data": {"repair_quote": 300}}])
    outcome = result["results"][0]
    stored = order.get(ADMIN)["data"].get("repair_quote")
    kept = flow_api.call("GET", f"{order.path}/conflicts", **ADMIN).json["items"]
    # the device's value is either stored, reported as a conflict/rejection, or kept: never "applied" and gone
    assert stored == 300 or outcome["status"] != "applied" or kept, (outcome, stored, kept)
