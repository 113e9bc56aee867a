"""Concurrent copies of one offline batch on DynamoDB Local (a phone retrying while its first request
still runs, two tabs): every copy answers what a sequential replay answers (modulo `replayed`), never
a spurious rejection, and every operation applies once."""
import threading

import pytest

from chalicelib.ids import new_id
from chalicelib.services import inventory, records, sync, workflow
from chalicelib.services.caller import Caller

from .test_storage_races import AGENT, SUPERVISOR, order_body, racing_tenant, run_parallel  # noqa: F401 (fixture)

ENGINEER = Caller(tenant="demo", user_id="eng.zhang", roles=frozenset({"engineer", "agent"}))
SITE = {"lat": 31.2304, "lng": 121.4737}
NEAR = {"lat": 31.2310, "lng": 121.4740, "accuracy": 12}
COPIES = 6


def _travelling_order(customer_id):
    order, _ = records.create(AGENT, "work_order", order_body(customer_id, service_location=SITE, product_line="hvac"), None)
    step = workflow.act(SUPERVISOR, "work_order", order["id"], "auto_dispatch", {"version": order["version"]})
    step = workflow.act(ENGINEER, "work_order", order["id"], "accept", {"version": step["record"]["version"]})
    return step["record"]


def _batch(prefix, order, part, warehouse, client_id):
    rid = order["id"]
    return [
        {"op_id": f"{prefix}-op-0001", "type": "create", "form": "customer", "record_id": client_id,
         "data": {"name": f"Hotel {prefix}", "phone": "13800138000"}},
        {"op_id": f"{prefix}-op-0002", "type": "update", "form": "customer", "record_id": client_id, "base_version": 1,
         "data": {"phone": "13900139000"}},
        {"op_id": f"{prefix}-op-0003", "type": "action", "form": "work_order", "record_id": rid, "action": "arrive"},
        {"op_id": f"{prefix}-op-0004", "type": "checkin", "form": "work_order", "record_id": rid, "location": NEAR},
        {"op_id": f"{prefix}-op-0005", "type": "parts", "form": "work_order", "record_id": rid, "part": part, "quantity": 1,
         "warehouse": warehouse, "line_id": f"{prefix}-line-1"},
        {"op_id": f"{prefix}-op-0006", "type": "update", "form": "work_order", "record_id": rid,
         "base_version": order["version"], "data": {"service_report": "Replaced the valve", "first_time_fix": True}},
        {"op_id": f"{prefix}-op-0007", "type": "parts", "form": "work_order", "record_id": rid, "part": part, "quantity": 2,
         "warehouse": warehouse, "line_id": f"{prefix}-line-2"},
    ]


def _plain(results):
    return [{k: v for k, v in r.items() if k != "replayed"} for r in results]


@pytest.mark.ddblocal
def test_concurrent_copies_of_a_batch_answer_like_a_sequential_replay_and_apply_once(racing_tenant):
    from chalicelib.seed import install_demo_data
    install_demo_data("demo", forms={"region", "engineer"})
    part, _ = records.create(SUPERVISOR, "spare_part", {"data": {"part_no": "P-SYNC", "name": "Valve", "unit_price": 5}}, None)
    warehouse, _ = records.create(SUPERVISOR, "warehouse", {"data": {"code": "W-SYNC", "name": "Central", "kind": "central"}}, None)
    inventory.move(SUPERVISOR, {"kind": "receipt", "warehouse": warehouse["id"], "part": part["id"], "quantity": 100}, None)
    drawn = 0
    for round_no in range(3):
        order = _travelling_order(racing_tenant)
        batch = _batch(f"r{round_no}", order, part["id"], warehouse["id"], new_id())
        gate = threading.Barrier(COPIES)

        def copy(_i):
            gate.wait()  # all copies start together
            return sync.sync(ENGINEER, {"operations": batch})["results"]
        outcomes = run_parallel(copy, COPIES)
        assert all(kind == "ok" for kind, _ in outcomes), outcomes
        sequential = sync.sync(ENGINEER, {"operations": batch})["results"]
        assert all(r.get("replayed") for r in sequential)
        assert [r["status"] for r in sequential] == ["applied"] * len(batch), sequential
        for _kind, results in outcomes:
            assert _plain(results) == _plain(sequential), results
        # each operation applied once
        rec = records.get(SUPERVISOR, "work_order", order["id"])
        assert rec["workflow"]["state"] == "OnSite" and len(rec["data"]["visits"]) == 1
        assert sorted(line["line_id"] for line in rec["data"]["parts_used"]) == [f"r{round_no}-line-1", f"r{round_no}-line-2"]
        assert rec["data"]["service_report"] == "Replaced the valve"
        assert rec["version"] == sequential[-1]["result"]["version"]
        customer = records.get(SUPERVISOR, "customer", sequential[0]["result"]["id"])
        assert customer["version"] == 2 and customer["data"]["phone"] == "13900139000"
        drawn += 3
        stock = inventory.stock(SUPERVISOR, warehouse["id"])["items"][0]["on_hand"]
        assert stock == 100 - drawn
    ledger = inventory.ledger(SUPERVISOR, warehouse["id"], part["id"])["items"]
    assert sorted(e["quantity"] for e in ledger if e["kind"] == "issue") == [-2] * 3 + [-1] * 3
