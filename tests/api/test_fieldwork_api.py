"""Check-in/out, spare parts and stock, through the HTTP API (chalice test client + moto)."""
import pytest

from . import helpers
from .helpers import AGENT, new_customer, new_work_order, work_order_data

SUP = dict(user="sup.north", roles=["supervisor"])
ZHANG = dict(user="eng.zhang", roles=["engineer"])
CHEN = dict(user="eng.chen", roles=["engineer"])
SITE = {"lat": 31.2304, "lng": 121.4737}
NEAR = {"lat": 31.2310, "lng": 121.4740, "accuracy": 12}  # ~75 m away
FAR = {"lat": 31.30, "lng": 121.50}  # ~8 km away


class Order(helpers.Order):
    reader = SUP  # these tests (and the review and sync ones built on them) read the order as the supervisor


def travelling_order(api, **extra):
    """An order accepted by eng.zhang, who is now on the way."""
    order = Order(api, new_work_order(api, new_customer(api)["id"], service_location=SITE, **extra))
    order.act("auto_dispatch", SUP)
    order.act("accept", ZHANG)
    return order


def make_part(api, part_no="VLV-1", price=120):
    made = api.call("POST", "/forms/spare_part/records", body={"data": {"part_no": part_no, "name": "Valve", "unit_price": price}}, **SUP)
    assert made.status_code == 201, made.json
    return made.json["id"]


def make_warehouse(api, code="N-CENTRAL", **extra):
    made = api.call("POST", "/forms/warehouse/records", body={"data": {"code": code, "name": code, "kind": "central",
                                                                       "region": "north", **extra}}, **SUP)
    assert made.status_code == 201, made.json
    return made.json["id"]


def receive(api, warehouse, part, quantity, expect=201, **headers):
    response = api.call("POST", "/inventory/movements", body={"kind": "receipt", "warehouse": warehouse, "part": part,
                                                              "quantity": quantity}, headers=headers or None, **SUP)
    assert response.status_code == expect, response.json
    return response.json


def on_hand(api, warehouse, part):
    items = api.call("GET", f"/inventory/stock?warehouse={warehouse}", **SUP).json["items"]
    return next((i["on_hand"] for i in items if i["part"] == part), 0)


# ---- check-in / check-out ---------------------------------------------------------------------

def test_checkin_near_the_site_takes_arrive_and_checkout_measures_the_visit(flow_api):
    order = travelling_order(flow_api)
    order.post("checkin", CHEN, expect=404, location=NEAR)
    done = order.post("checkin", ZHANG, location=NEAR, at="2026-11-30T08:00:00Z")
    assert done["transition"] == {"from": "Travelling", "to": "OnSite", "path": ["Travelling", "OnSite"]}
    assert done["flagged"] is False and 50 < done["distance_m"] < 100
    data = done["record"]["data"]
    assert data["visits"][0]["checked_in_at"] == "2026-11-30T08:00:00Z" and data["first_checkin_at"] == "2026-11-30T08:00:00Z"
    assert "travel_seconds" in data
    assert order.post("checkin", ZHANG, expect=409, location=NEAR)["code"] == "already_checked_in"
    out = order.post("checkout", ZHANG, at="2026-11-30T09:30:00Z")
    assert out["on_site_seconds"] == 5400 and out["record"]["data"]["on_site_seconds"] == 5400
    assert order.post("checkout", ZHANG, expect=409)["code"] == "not_checked_in"
    again = order.post("checkin", ZHANG, location=NEAR, at="2026-11-30T13:00:00Z")  # a second visit: no action now
    assert again["transition"] is None and len(again["record"]["data"]["visits"]) == 2
    order.post("checkout", ZHANG, at="2026-11-30T13:30:00Z")
    assert order.get()["data"]["on_site_seconds"] == 5400 + 1800
    history = flow_api.call("GET", f"{order.path}/history", **SUP).json["items"]
    assert [h["kind"] for h in history[-4:]] == ["checkin", "checkout", "checkin", "checkout"]


def test_checkin_far_from_the_site_needs_a_reason_and_is_flagged(flow_api):
    order = travelling_order(flow_api)
    refused = order.post("checkin", ZHANG, expect=422, location=FAR)
    assert refused["code"] == "checkin_reason_required" and refused["details"][0]["path"] == "reason"
    assert order.get()["workflow"]["state"] == "Travelling"  # nothing written
    done = order.post("checkin", ZHANG, location=FAR, reason="Customer moved the unit to the warehouse")
    assert done["flagged"] is True and done["distance_m"] > 5000
    assert done["record"]["data"]["checkin_flagged"] is True


@pytest.mark.parametrize("body, path", [
    ({"location": {"lat": 91, "lng": 0}}, "location"),
    ({"location": "here"}, "location"),
    ({"location": NEAR, "at": "yesterday"}, "at"),
    ({"location": NEAR, "at": "2099-01-01T00:00:00Z"}, "at"),
    ({"location": NEAR, "speed": 3}, "speed"),
])
def test_checkin_bad_input_names_the_field(flow_api, body, path):
    order = travelling_order(flow_api)
    error = order.post("checkin", ZHANG, expect=422, **body)
    assert error["details"][0]["path"] == path


def test_checkin_stale_version_and_visits_are_not_editable_directly(flow_api):
    order = travelling_order(flow_api)
    assert order.post("checkin", ZHANG, expect=409, version=order.version - 1, location=NEAR)["code"] == "version_conflict"
    admin = dict(user="admin", roles=["admin"])
    assert order.patch(admin, expect=403, on_site_seconds=5)["code"] == "field_managed"


# ---- spare parts and stock ---------------------------------------------------------------------

def test_parts_draw_stock_in_the_same_write_and_returns_put_it_back(flow_api):
    order = travelling_order(flow_api)
    order.post("checkin", ZHANG, location=NEAR)
    part, warehouse = make_part(flow_api), make_warehouse(flow_api)
    receive(flow_api, warehouse, part, 5)
    drawn = order.post("parts", ZHANG, expect=201, part=part, quantity=2, warehouse=warehouse, line_id="line-0001")
    line = drawn["record"]["data"]["parts_used"][0]
    assert line["unit_price"] == 120 and line["line_total"] == 240 and line["warehouse"] == warehouse  # price from the part
    assert on_hand(flow_api, warehouse, part) == 3
    # the phone retried (same line id): nothing drawn twice, even with the old version
    retry = flow_api.call("POST", f"{order.path}/parts", body={"version": order.version - 1, "part": part, "quantity": 2,
                                                                "warehouse": warehouse, "line_id": "line-0001"}, **ZHANG)
    assert retry.status_code == 200 and retry.json["replayed"] is True
    assert on_hand(flow_api, warehouse, part) == 3
    short = order.post("parts", ZHANG, expect=409, part=part, quantity=4, warehouse=warehouse)
    assert short["code"] == "insufficient_stock" and short["details"][0]["on_hand"] == 3
    assert len(order.get()["data"]["parts_used"]) == 1  # the record was not changed either
    back = order.post("parts/line-0001/return", ZHANG, quantity=1)
    assert back["record"]["data"]["parts_used"][0]["quantity"] == 1 and on_hand(flow_api, warehouse, part) == 4
    order.post("parts/line-0001/return", ZHANG)  # the rest: the line goes
    assert order.get()["data"].get("parts_used") in (None, []) and on_hand(flow_api, warehouse, part) == 5
    ledger = flow_api.call("GET", f"/inventory/ledger?warehouse={warehouse}&part={part}", **SUP).json
    assert [(e["kind"], e["quantity"]) for e in ledger["items"]] == [("return", 1), ("return", 1), ("issue", -2), ("receipt", 5)]
    assert ledger["on_hand"] == 5


def test_parts_default_to_the_engineers_van_and_need_the_engineer(flow_api):
    order = travelling_order(flow_api)
    order.post("checkin", ZHANG, location=NEAR)
    part = make_part(flow_api)
    van = make_warehouse(flow_api, code="VAN-ZHANG", kind="van", keeper="eng.zhang")
    engineers = flow_api.call("GET", "/forms/engineer/records?filter.user=eng.zhang", **SUP).json["items"]
    eng = engineers[0]
    assert flow_api.call("PATCH", f"/forms/engineer/records/{eng['id']}",
                         body={"version": eng["version"], "data": {"van_warehouse": van}}, **SUP).status_code == 200
    receive(flow_api, van, part, 2)
    drawn = order.post("parts", ZHANG, expect=201, part=part, quantity=2)
    assert drawn["record"]["data"]["parts_used"][0]["warehouse"] == van and on_hand(flow_api, van, part) == 0
    # the supervisor is no assignee of OnSite: the workflow says who draws parts now
    order.post("parts", SUP, expect=403, part=part, quantity=1, warehouse=van)


@pytest.mark.parametrize("body, path", [
    ({"quantity": 0}, "quantity"), ({"quantity": -1}, "quantity"), ({"quantity": 1.234}, "quantity"),
    ({"quantity": "2"}, "quantity"), ({"quantity": 1, "part": "01JUNKJUNKJUNKJUNKJUNKJUNK"}, "part"),
    ({"quantity": 1, "line_id": "x"}, "line_id"),
])
def test_parts_bad_input_names_the_field(flow_api, body, path):
    order = travelling_order(flow_api)
    order.post("checkin", ZHANG, location=NEAR)
    part, warehouse = make_part(flow_api), make_warehouse(flow_api)
    error = order.post("parts", ZHANG, expect=422, **{"part": part, "warehouse": warehouse, **body})
    assert error["details"][0]["path"] == path


def test_movements_are_idempotent_and_never_go_below_zero(flow_api):
    part, a, b = make_part(flow_api), make_warehouse(flow_api, "A-1"), make_warehouse(flow_api, "B-1")
    first = receive(flow_api, a, part, 10, **{"Idempotency-Key": "receipt-000001"})
    replay = flow_api.call("POST", "/inventory/movements", body={"kind": "receipt", "warehouse": a, "part": part, "quantity": 10},
                           headers={"Idempotency-Key": "receipt-000001"}, **SUP)
    assert replay.status_code == 200 and replay.json == first and on_hand(flow_api, a, part) == 10
    reused = flow_api.call("POST", "/inventory/movements", body={"kind": "receipt", "warehouse": a, "part": part, "quantity": 9},
                           headers={"Idempotency-Key": "receipt-000001"}, **SUP)
    assert reused.status_code == 422
    moved = flow_api.call("POST", "/inventory/movements", body={"kind": "transfer", "warehouse": a, "to_warehouse": b,
                                                                "part": part, "quantity": 4}, **SUP)
    assert moved.status_code == 201 and on_hand(flow_api, a, part) == 6 and on_hand(flow_api, b, part) == 4
    too_much = flow_api.call("POST", "/inventory/movements", body={"kind": "adjustment", "warehouse": b, "part": part,
                                                                   "quantity": -5, "reason": "count"}, **SUP)
    assert too_much.status_code == 409 and too_much.json["error"]["code"] == "insufficient_stock"
    no_reason = flow_api.call("POST", "/inventory/movements", body={"kind": "adjustment", "warehouse": b, "part": part,
                                                                    "quantity": -1}, **SUP)
    assert no_reason.status_code == 422 and no_reason.json["error"]["details"][0]["path"] == "reason"
    ghost = flow_api.call("POST", "/inventory/movements", body={"kind": "receipt", "warehouse": a, "part": a, "quantity": 1}, **SUP)
    assert ghost.status_code == 422  # a warehouse id is no part
    assert flow_api.call("POST", "/inventory/movements", body={"kind": "receipt", "warehouse": a, "part": part, "quantity": 1},
                         **ZHANG).status_code == 403  # engineers read stock; supervisors move it
    assert flow_api.call("GET", f"/inventory/stock?warehouse={a}", **ZHANG).status_code == 200


def test_stock_is_per_tenant(flow_api):
    from chalicelib.seed import install_app
    part, warehouse = make_part(flow_api), make_warehouse(flow_api)
    receive(flow_api, warehouse, part, 3)
    install_app("other")
    intruder = dict(tenant="other", user="mallory", roles=["admin"])
    assert flow_api.call("GET", f"/inventory/stock?warehouse={warehouse}", **intruder).status_code == 422
    assert flow_api.call("POST", "/inventory/movements", body={"kind": "receipt", "warehouse": warehouse, "part": part,
                                                               "quantity": 1}, **intruder).status_code == 422
    assert on_hand(flow_api, warehouse, part) == 3


def test_decimal_quantities_move_exactly(flow_api):
    part, warehouse = make_part(flow_api), make_warehouse(flow_api)
    body = {"kind": "receipt", "warehouse": warehouse, "part": part, "quantity": 2.75}
    assert flow_api.call("POST", "/inventory/movements", body=body, **SUP).status_code == 201
    adjusted = flow_api.call("POST", "/inventory/movements", body={**body, "kind": "adjustment", "quantity": -0.5,
                                                                   "reason": "leak"}, **SUP)
    assert adjusted.status_code == 201, adjusted.json
    assert on_hand(flow_api, warehouse, part) == 2.25


def test_dispatch_measures_travel_from_the_last_checkin(flow_api):
    """Zhang checked in far from home; a new order near that site finds him there, not at home."""
    order = travelling_order(flow_api)
    order.post("checkin", ZHANG, location=FAR, reason="second site of the same customer")
    customer = new_customer(flow_api, name="Next door to FAR")
    nearby = flow_api.call("POST", "/forms/work_order/records",
                           body={"data": work_order_data(customer["id"], service_location=FAR)}, **AGENT).json
    listed = flow_api.call("GET", f"/forms/work_order/records/{nearby['id']}/dispatch/candidates", **SUP)
    assert listed.status_code == 200, listed.json
    zhang = next(c for c in listed.json["candidates"] if c["user"] == "eng.zhang")
    assert zhang["parts"]["distance"]["value"] < 0.1  # km: from his check-in, not from home (~8 km away)
