"""Benchmark part: field work on DynamoDB Local — DynamoDB requests and capacity per check-in,
check-out, part requisition, part return, stock movement, and per operation of an offline sync
batch (fresh and replayed). Target: at most 1 write request per operation, reads batched.

Sync at a number of open tasks (`--open 0,500`): an engineer holding that many open orders sends
batches of 4 operations the way the phone does — with the cursor of their previous sync (a feed
position) — and, in the same run, without one (a full resync: every open task's record re-read,
which is what every pull cost before the change feed). The replay sends the same batch again with the
cursor its answer carried. Targets (issue 19): replayed ≤ 0.5 RCU, fresh ≤ 2.5 RCU per operation at
500 open tasks.

Run alone: python -m bench.fieldwork [--n 40] [--open 0,500]  (bench.run calls run() too)."""
from __future__ import annotations

import argparse

SITE = {"lat": 31.2304, "lng": 121.4737}
NEAR = {"lat": 31.2310, "lng": 121.4740}


def run(http, token_for, meter, n: int, open_tasks: tuple[int, ...] = (0, 500)) -> list[dict]:
    from bench.meter import Steps, api_caller
    call = api_caller(http, token_for)
    steps = Steps(meter)
    step = steps.run

    customer = call("post", "/forms/customer/records", "agent.li", {"data": {"name": "Bench", "phone": "13800138000"}})
    part = call("post", "/forms/spare_part/records", "sup.north", {"data": {"part_no": "P-BENCH", "name": "Valve", "unit_price": 100}})
    warehouse = call("post", "/forms/warehouse/records", "sup.north", {"data": {"code": "W-BENCH", "name": "Central", "kind": "central"}})
    step("stock receipt (movement)", lambda: call("post", "/inventory/movements", "sup.north", {
        "kind": "receipt", "warehouse": warehouse["id"], "part": part["id"], "quantity": 100000}))

    def travelling(engineer: str = "eng.zhang"):
        order = call("post", "/forms/work_order/records", "agent.li", {"data": {
            "customer": customer["id"], "fault_description": "noise", "service_address": "1 Road", "region": "north",
            "product_line": "hvac", "service_location": SITE}})
        path = f"/forms/work_order/records/{order['id']}"
        # assigned by hand: automatic dispatch would stop at the demo engineers' daily capacity
        record = call("post", f"{path}/actions/assign", "sup.north", {"version": order["version"],
                                                                     "data": {"assigned_engineer": engineer}})["record"]
        v = call("post", f"{path}/actions/accept", engineer, {"version": record["version"]})["record"]["version"]
        return order["id"], path, v, engineer

    cursor = None
    for i in range(n):
        rid, path, v, eng = travelling()
        v = step("check-in (takes the arrive action)", lambda: call("post", f"{path}/checkin", eng,
                                                                    {"version": v, "location": NEAR}))["record"]["version"]
        v = step("part requisition (line + stock + ledger)", lambda: call("post", f"{path}/parts", eng, {
            "version": v, "part": part["id"], "quantity": 1, "warehouse": warehouse["id"], "line_id": f"bench-line-{i:05d}"}))["record"]["version"]
        v = step("part return", lambda: call("post", f"{path}/parts/bench-line-{i:05d}/return", eng,
                                             {"version": v}))["record"]["version"]
        v = step("check-out", lambda: call("post", f"{path}/checkout", eng, {"version": v}))["record"]["version"]
        rid2, _path2, v2, eng2 = travelling()
        batch = [
            {"op_id": f"bench-{i:05d}-1", "type": "checkin", "form": "work_order", "record_id": rid2, "location": NEAR},
            {"op_id": f"bench-{i:05d}-2", "type": "parts", "form": "work_order", "record_id": rid2, "part": part["id"],
             "quantity": 1, "warehouse": warehouse["id"], "line_id": f"bench-sync-{i:05d}"},
            {"op_id": f"bench-{i:05d}-3", "type": "update", "form": "work_order", "record_id": rid2, "base_version": v2,
             "data": {"service_report": "fixed offline"}},
            {"op_id": f"bench-{i:05d}-4", "type": "checkout", "form": "work_order", "record_id": rid2},
        ]
        # as the phone sends it: with the cursor of its previous sync; the replay with the one its answer carried
        fresh = step("sync: fresh operation (batch of 4, per op)", lambda: call("post", "/sync", eng2, {
            "operations": batch, **({"cursor": cursor} if cursor else {})}), per=4)
        cursor = step("sync: replayed operation (batch of 4, per op)", lambda: call("post", "/sync", eng2, {
            "operations": batch, "cursor": fresh["cursor"]}), per=4)["cursor"]
    for i in range(min(n, 10)):  # a whole visit made offline, sent in one request as the phone does
        order = call("post", "/forms/work_order/records", "agent.li", {"data": {
            "customer": customer["id"], "fault_description": "noise", "service_address": "1 Road", "region": "north",
            "product_line": "hvac", "service_location": SITE}})
        record = call("post", f"/forms/work_order/records/{order['id']}/actions/assign", "sup.north", {
            "version": order["version"], "data": {"assigned_engineer": "eng.zhang"}})["record"]
        rid, base = order["id"], record["version"]
        visit = [{"op_id": f"visit-{i:03d}-accept", "type": "action", "form": "work_order", "record_id": rid, "action": "accept"},
                 {"op_id": f"visit-{i:03d}-checkin", "type": "checkin", "form": "work_order", "record_id": rid, "location": NEAR}]
        visit += [{"op_id": f"visit-{i:03d}-part-{k:02d}", "type": "parts", "form": "work_order", "record_id": rid, "part": part["id"],
                   "quantity": 1, "warehouse": warehouse["id"], "line_id": f"visit-{i:03d}-{k:02d}"} for k in range(25)]
        visit += [{"op_id": f"visit-{i:03d}-report-{k}", "type": "update", "form": "work_order", "record_id": rid, "base_version": base,
                   "data": {"service_report": f"report draft {k}"}} for k in range(2)]
        visit.append({"op_id": f"visit-{i:03d}-checkout", "type": "checkout", "form": "work_order", "record_id": rid})
        assert len(visit) == 30
        reply = step("sync: a 30-operation offline visit in one request (per op)",
                     lambda: call("post", "/sync", "eng.zhang", {"operations": visit, "device_id": "bench-phone-0001"}), per=30)
        refused = [r for r in reply["results"] if r["status"] != "applied"]
        assert not refused, refused  # a bench never measures errors
    for load in open_tasks:
        _sync_at_load(call, step, travelling, part, warehouse, load, max(3, n // 4))
    return steps.table()


def _sync_at_load(call, step, travelling, part, warehouse, load: int, rounds: int) -> None:
    """Batches of 4 operations from an engineer holding `load` open orders (eng.chen, ordered by
    sup.north and assigned, not yet accepted), with the phone's cursor and without one."""
    engineer = "eng.chen"
    customer = call("post", "/forms/customer/records", "agent.li", {"data": {"name": f"Load {load}", "phone": "13800138001"}})
    held = len(call("post", "/sync", engineer, {"operations": []})["changes"]["assigned"])
    for _ in range(max(0, load - held)):
        order = call("post", "/forms/work_order/records", "agent.li", {"data": {
            "customer": customer["id"], "fault_description": "waiting", "service_address": "2 Road", "region": "north",
            "product_line": "hvac", "service_location": SITE}})
        call("post", f"/forms/work_order/records/{order['id']}/actions/assign", "sup.north",
             {"version": order["version"], "data": {"assigned_engineer": engineer}})
    first = call("post", "/sync", engineer, {"operations": []})
    cursor = first["cursor"]
    label = f"{len(first['changes']['assigned'])} open tasks"

    def batch_for(tag: str):
        rid, _path, v, _eng = travelling(engineer)
        return [{"op_id": f"{tag}-1", "type": "checkin", "form": "work_order", "record_id": rid, "location": NEAR},
                {"op_id": f"{tag}-2", "type": "parts", "form": "work_order", "record_id": rid, "part": part["id"],
                 "quantity": 1, "warehouse": warehouse["id"], "line_id": f"{tag}-line"},
                {"op_id": f"{tag}-3", "type": "update", "form": "work_order", "record_id": rid, "base_version": v,
                 "data": {"service_report": "fixed offline"}},
                {"op_id": f"{tag}-4", "type": "checkout", "form": "work_order", "record_id": rid}]

    for i in range(rounds):
        batch = batch_for(f"load{load}-feed-{i:04d}")
        reply = step(f"sync at {label}: fresh op, phone's cursor (per op)",
                     lambda: call("post", "/sync", engineer, {"operations": batch, "cursor": cursor}), per=4)
        assert all(r["status"] == "applied" for r in reply["results"]), reply["results"]
        again = step(f"sync at {label}: replayed op, cursor of its answer (per op)",
                     lambda: call("post", "/sync", engineer, {"operations": batch, "cursor": reply["cursor"]}), per=4)
        assert all(r.get("replayed") for r in again["results"])
        cursor = again["cursor"]
        full = batch_for(f"load{load}-full-{i:04d}")
        step(f"sync at {label}: fresh op, no cursor = full resync, the pull before the feed (per op)",
             lambda: call("post", "/sync", engineer, {"operations": full}), per=4)
        step(f"sync at {label}: replayed op, no cursor = full resync (per op)",
             lambda: call("post", "/sync", engineer, {"operations": full}), per=4)
        idle = step(f"sync at {label}: nothing to send, phone's cursor (per call)",
                    lambda: call("post", "/sync", engineer, {"operations": [], "cursor": cursor}))
        cursor = idle["cursor"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--open", default="0,500", help="open tasks of the engineer in the sync cases, comma-separated")
    args = parser.parse_args()
    from bench.run import demo_stack, results_table
    with demo_stack():
        from chalice.test import Client

        from app import app
        from bench.meter import metered
        from chalicelib.auth import issue_local_token
        roles = {"agent.li": ["agent"], "sup.north": ["supervisor"], "eng.zhang": ["engineer"], "eng.chen": ["engineer"]}
        with Client(app) as client, metered() as meter:
            table = run(client.http, lambda who: issue_local_token("demo", who, roles[who]), meter, args.n,
                        tuple(int(x) for x in args.open.split(",") if x.strip()))
    results_table(table)


if __name__ == "__main__":
    main()
