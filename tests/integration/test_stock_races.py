"""Stock under concurrency on DynamoDB Local: the conditional ADD keeps stock at or above zero however
many engineers draw at once, and the record line, the stock and the ledger always agree."""
from decimal import Decimal

import pytest

from chalicelib.services import fieldwork, inventory, records
from chalicelib.services.caller import Caller

from .test_storage_races import AGENT, SUPERVISOR, order_body, racing_tenant, run_parallel  # noqa: F401 (fixture)

ADMIN = Caller(tenant="demo", user_id="admin", roles=frozenset({"admin"}))


def _admin_draws_parts_in_review():
    """The races draw parts on fresh orders: a workflow version whose Review state lets the admin edit
    the parts lines (edit rules hold in every state; the shipped one allows parts only on site)."""
    import json

    from chalicelib.services import definitions
    wf = json.load(open("definitions/after_sales/workflows/work_order.json"))
    wf["States"]["Review"]["Edits"] = [{"Fields": ["parts_used"], "Roles": ["admin"]}]
    definitions.upload(ADMIN, "workflow", "work_order", wf, publish=True)


def _stocked(quantity):
    _admin_draws_parts_in_review()
    part, _ = records.create(SUPERVISOR, "spare_part", {"data": {"part_no": "P-RACE", "name": "Fuse", "unit_price": 5}}, None)
    warehouse, _ = records.create(SUPERVISOR, "warehouse", {"data": {"code": "W-RACE", "name": "Central", "kind": "central"}}, None)
    inventory.move(SUPERVISOR, {"kind": "receipt", "warehouse": warehouse["id"], "part": part["id"], "quantity": quantity}, None)
    return part["id"], warehouse["id"]


@pytest.mark.ddblocal
def test_fifty_concurrent_requisitions_for_ten_in_stock_exactly_ten_succeed(racing_tenant):
    part, warehouse = _stocked(10)
    orders = [records.create(AGENT, "work_order", order_body(racing_tenant), None)[0] for _ in range(50)]
    outcomes = run_parallel(lambda i: fieldwork.requisition(ADMIN, "work_order", orders[i]["id"], {
        "version": orders[i]["version"], "part": part, "quantity": 1, "warehouse": warehouse}), 50)
    won = [o for kind, o in outcomes if kind == "ok"]
    lost = [o for kind, o in outcomes if kind != "ok"]
    assert len(won) == 10, [(getattr(o, "code", o)) for o in lost][:5]
    assert {o.code for o in lost} <= {"insufficient_stock", "transaction_conflict"}
    assert sum(o.code == "insufficient_stock" for o in lost) >= 30
    assert inventory.stock(SUPERVISOR, warehouse)["items"][0]["on_hand"] == 0
    ledger = inventory.ledger(SUPERVISOR, warehouse, part)["items"]
    assert sorted(e["quantity"] for e in ledger) == [-1] * 10 + [10]
    with_parts = [records.get(ADMIN, "work_order", o["id"]) for o in orders]
    drawn = [r for r in with_parts if r["data"].get("parts_used")]
    assert len(drawn) == 10  # every successful draw has its line, and no failed one left a line behind
    assert {e["record"] for e in ledger if e["kind"] == "issue"} == {r["id"] for r in drawn}


@pytest.mark.ddblocal
def test_concurrent_adjustments_never_take_stock_below_zero(racing_tenant):
    part, warehouse = _stocked(Decimal("7.5"))
    outcomes = run_parallel(lambda i: inventory.move(SUPERVISOR, {"kind": "adjustment", "warehouse": warehouse, "part": part,
                                                                  "quantity": -1, "reason": f"count {i}"}, None), 20)
    assert sum(kind == "ok" for kind, _ in outcomes) == 7
    assert inventory.stock(SUPERVISOR, warehouse)["items"][0]["on_hand"] == Decimal("0.5")


@pytest.mark.ddblocal
def test_a_sync_batch_replayed_concurrently_applies_once(racing_tenant):
    from chalicelib.services import sync
    part, warehouse = _stocked(10)
    order, _ = records.create(AGENT, "work_order", order_body(racing_tenant), None)
    batch = [{"op_id": f"race-op-{i:04d}", "type": "parts", "form": "work_order", "record_id": order["id"], "part": part,
              "quantity": 1, "warehouse": warehouse, "line_id": f"race-line-{i:04d}"} for i in range(3)]
    outcomes = run_parallel(lambda i: sync.sync(ADMIN, {"operations": batch}), 8)
    assert all(kind == "ok" for kind, _ in outcomes)
    # replays until every op reports applied (a loser of a race may have been told to retry)
    final = sync.sync(ADMIN, {"operations": batch})
    assert [r["status"] for r in final["results"]] == ["applied"] * 3
    assert inventory.stock(SUPERVISOR, warehouse)["items"][0]["on_hand"] == 7
    assert len(records.get(ADMIN, "work_order", order["id"])["data"]["parts_used"]) == 3
