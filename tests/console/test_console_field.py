"""The engineer's phone offline, in a real browser on the real local stack (issue 14).

Two orders are assigned to eng.zhang through the API (A waits for acceptance, B is already on site) and
his van holds 5 expansion valves. `console/e2e/field.mjs` (playwright-core on Debian's chromium, a
390×844 touch screen with the site's coordinates) loads the field view once online, then works
offline after a reload served by the service worker: accepts A, checks in, takes two photos, draws two
valves, writes the report, has the customer sign, completes; edits B's report while the desk changes
it too. Back online the first sync's reply is lost after the server applied it and the tab is closed;
a new tab sends the queue again. Checked here through the API: everything arrived exactly once
(one acceptance, one visit, two photos and the signature confirmed, one stock movement of 2), the
conflict was settled by the engineer's choice, and the supervisor's record page shows it (in the
script). axe-core on every page visited."""
from __future__ import annotations

import pytest

from tools import localstack

from .conftest import run_script

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

SITE = {"lat": 31.2304, "lng": 121.4737}


def _order(stack, customer: str, fault: str) -> dict:
    order = localstack.call(stack, "POST", "/forms/work_order/records", "agent.li", {"data": {
        "customer": customer, "fault_description": fault, "region": "north", "product_line": "hvac", "priority": "high",
        "service_address": "1 Harbour Road, Shanghai", "service_location": SITE}})
    return localstack.call(stack, "POST", f"/forms/work_order/records/{order['id']}/actions/assign", "sup.north",
                           {"version": order["version"], "data": {"assigned_engineer": "eng.zhang"}})["record"]


def test_an_offline_visit_arrives_once(tmp_path, browser_ready):
    with localstack.running(tmp_path) as stack:
        call = lambda method, path, user, body=None: localstack.call(stack, method, path, user, body)  # noqa: E731
        part = call("POST", "/forms/spare_part/records", "sup.north", {"data": {"part_no": "VLV-1", "name": "Expansion valve", "unit_price": 120}})
        van = call("POST", "/forms/warehouse/records", "sup.north",
                   {"data": {"code": "VAN-ZHANG", "name": "Zhang's van", "kind": "van", "region": "north", "keeper": "eng.zhang"}})
        engineer = call("GET", "/forms/engineer/records?filter.user=eng.zhang", "sup.north")["items"][0]
        call("PATCH", f"/forms/engineer/records/{engineer['id']}", "sup.north", {"version": engineer["version"], "data": {"van_warehouse": van["id"]}})
        call("POST", "/inventory/movements", "sup.north", {"kind": "receipt", "warehouse": van["id"], "part": part["id"], "quantity": 5})
        customer = call("POST", "/forms/customer/records", "agent.li", {"data": {"name": "Harbour Hotel", "phone": "13800138000", "region": "north"}})
        a = _order(stack, customer["id"], "The chiller is noisy and warm")
        b = _order(stack, customer["id"], "The fan coil drips")
        b = call("POST", f"/forms/work_order/records/{b['id']}/actions/accept", "eng.zhang", {"version": b["version"]})["record"]
        call("POST", f"/forms/work_order/records/{b['id']}/checkin", "eng.zhang", {"version": b["version"], "location": SITE})

        summary = run_script("field.mjs", stack, ORDER_A=a["data"]["order_no"], ORDER_B=b["data"]["order_no"],
                             ORDER_A_ID=a["id"], ORDER_B_ID=b["id"])
        figures = summary["figures"]
        # one lost batch, then one round trip per run of operations between uploads (2 runs of uploads)
        assert figures["sync_requests"] <= 5, figures
        assert figures["upload_declarations"] == 3, figures  # two photos and the signature, each declared once

        done = call("GET", f"/forms/work_order/records/{a['id']}", "sup.north")
        assert done["workflow"]["state"] == "CustomerFeedback"
        assert [p["name"] for p in done["data"]["fault_photos"]] == ["IMG_0001.jpg", "IMG_0002.jpg"]
        assert all(p["content_type"] == "image/jpeg" for p in done["data"]["fault_photos"])
        assert done["data"]["customer_signature"]["signed_sha256"]
        assert done["data"]["service_report"].startswith("Replaced the expansion valve")
        assert [(line["part"], line["quantity"]) for line in done["data"]["parts_used"]] == [(part["id"], 2)]
        assert len(done["data"]["visits"]) == 1
        history = call("GET", f"/forms/work_order/records/{a['id']}/history", "sup.north")["items"]
        actions = [h.get("action") for h in history if h.get("action")]
        assert actions.count("accept") == 1 and actions.count("complete") == 1, actions
        assert [h["kind"] for h in history].count("checkin") == 1, history
        stock = {s["part"]: s["on_hand"] for s in call("GET", f"/inventory/stock?warehouse={van['id']}", "sup.north")["items"]}
        assert stock[part["id"]] == 3
        ledger = call("GET", f"/inventory/ledger?warehouse={van['id']}&part={part['id']}", "sup.north")["items"]
        assert sorted(e["quantity"] for e in ledger) == [-2, 5], ledger
        # the conflict on B: the engineer kept the phone's report
        assert call("GET", f"/forms/work_order/records/{b['id']}", "eng.zhang")["data"]["service_report"] == "Phone: cleaned the condenser coil."
