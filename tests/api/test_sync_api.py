"""Offline sync through the HTTP API: operations apply once however often a batch is replayed (whole
or in shuffled chunks), per-field merge with conflicts kept, and the pull of what changed."""
import random

from .test_fieldwork_api import NEAR, SUP, ZHANG, make_part, make_warehouse, on_hand, receive, travelling_order

ADMIN = dict(user="admin", roles=["admin"])


def sync(api, who, operations, cursor=None, expect=200, device=None):
    body = {"operations": operations, **({"device_id": device} if device else {})}
    if cursor:
        body["cursor"] = cursor
    response = api.call("POST", "/sync", body=body, **who)
    assert response.status_code == expect, response.json
    return response.json


def offline_batch(order, part, warehouse, prefix="op"):
    """What a phone queued in a basement: check in, draw a part, write the report, check out."""
    base = order.version
    rid, form = order.id, "work_order"
    return [
        {"op_id": f"{prefix}-op-0001", "type": "checkin", "form": form, "record_id": rid, "location": NEAR, "at": "2026-11-30T08:00:00Z"},
        {"op_id": f"{prefix}-op-0002", "type": "parts", "form": form, "record_id": rid, "part": part, "quantity": 2,
         "warehouse": warehouse, "line_id": f"{prefix}-line-1"},
        {"op_id": f"{prefix}-op-0003", "type": "update", "form": form, "record_id": rid, "base_version": base,
         "data": {"service_report": "Replaced the valve", "first_time_fix": True}, "device_time": "2026-11-30T09:00:00Z"},
        {"op_id": f"{prefix}-op-0004", "type": "checkout", "form": form, "record_id": rid, "at": "2026-11-30T09:30:00Z"},
    ]


def state(api, order, warehouse, part):
    record = order.get(ADMIN)
    history = api.call("GET", f"{order.path}/history", **ADMIN).json["items"]
    data = {k: record["data"].get(k) for k in ("visits", "parts_used", "service_report", "first_time_fix", "on_site_seconds")}
    return {"version": record["version"], "state": record["workflow"]["state"], "data": data,
            "history": len(history), "on_hand": on_hand(api, warehouse, part)}


def setup(api):
    order = travelling_order(api)
    part, warehouse = make_part(api), make_warehouse(api)
    receive(api, warehouse, part, 10)
    return order, part, warehouse


def test_replayed_batches_apply_each_operation_once(flow_api):
    order, part, warehouse = setup(flow_api)
    batch = offline_batch(order, part, warehouse)
    first = sync(flow_api, ZHANG, batch)
    assert [r["status"] for r in first["results"]] == ["applied"] * 4, first["results"]
    once = state(flow_api, order, warehouse, part)
    assert once["state"] == "OnSite" and once["on_hand"] == 8 and once["data"]["on_site_seconds"] == 5400
    assert once["data"]["service_report"] == "Replaced the valve"
    for _ in range(3):
        again = sync(flow_api, ZHANG, batch)
        assert all(r.get("replayed") for r in again["results"])
        assert [r["result"] for r in again["results"]] == [r["result"] for r in first["results"]]
    rng = random.Random(7)
    for _ in range(3):
        shuffled = batch[:]
        rng.shuffle(shuffled)
        for start in range(0, len(shuffled), 2):
            sync(flow_api, ZHANG, shuffled[start:start + 2])
    assert state(flow_api, order, warehouse, part) == once


def test_shuffled_chunks_then_a_replay_converge_to_the_state_of_one_pass(flow_api):
    order_a, part, warehouse = setup(flow_api)
    sync(flow_api, ZHANG, offline_batch(order_a, part, warehouse, prefix="a"))
    order_b = travelling_order(flow_api)
    batch = offline_batch(order_b, part, warehouse, prefix="b")
    rng = random.Random(11)
    chunks = batch[:]
    rng.shuffle(chunks)
    for start in range(0, len(chunks), 2):  # out of order: a checkout before its check-in is refused, not lost
        sync(flow_api, ZHANG, chunks[start:start + 2])
    final = sync(flow_api, ZHANG, batch)  # the phone replays its whole queue until every op is applied
    assert all(r["status"] == "applied" for r in final["results"]), final["results"]
    a, b = state(flow_api, order_a, warehouse, part), state(flow_api, order_b, warehouse, part)
    assert a["data"]["service_report"] == b["data"]["service_report"]
    assert [v["checked_in_at"] for v in a["data"]["visits"]] == [v["checked_in_at"] for v in b["data"]["visits"]]
    assert a["data"]["on_site_seconds"] == b["data"]["on_site_seconds"] == 5400
    assert [p["quantity"] for p in b["data"]["parts_used"]] == [2]
    assert on_hand(flow_api, warehouse, part) == 6  # 2 for each order, each drawn once


def test_same_field_changed_on_both_sides_is_a_conflict_with_both_values(flow_api):
    order, part, warehouse = setup(flow_api)
    order.post("checkin", ZHANG, location=NEAR)
    base = order.version
    # while the phone is offline, the admin corrects the report
    patched = flow_api.call("PATCH", order.path, body={"version": base, "data": {"service_report": "Office note"}}, **ADMIN)
    assert patched.status_code == 200
    result = sync(flow_api, ZHANG, [{"op_id": "edit-000001", "type": "update", "form": "work_order", "record_id": order.id,
                                     "base_version": base, "data": {"service_report": "Phone note", "first_time_fix": True}}])
    outcome = result["results"][0]
    assert outcome["status"] == "conflict" and outcome["merged"] == ["first_time_fix"]
    assert outcome["conflicts"] == [{"field": "service_report", "client_value": "Phone note", "server_value": "Office note"}]
    record = order.get(ADMIN)
    assert record["data"]["service_report"] == "Office note" and record["data"]["first_time_fix"] is True
    kept = flow_api.call("GET", f"{order.path}/conflicts", **SUP).json["items"]
    assert kept[0]["conflicts"][0]["client_value"] == "Phone note"  # nothing lost
    # the same value on both sides is no conflict
    same = sync(flow_api, ZHANG, [{"op_id": "edit-000002", "type": "update", "form": "work_order", "record_id": order.id,
                                   "base_version": base, "data": {"service_report": "Office note"}}])
    assert same["results"][0]["status"] == "applied"


def test_a_device_saving_the_same_field_twice_offline_is_not_in_conflict_with_itself(flow_api):
    """A report saved twice in a basement: both updates start from the version the phone had; the
    second builds on the first (same user, same device_id), in one batch or in the next. Another
    device of the same user changing the field meanwhile is a conflict."""
    order, part, warehouse = setup(flow_api)
    order.post("checkin", ZHANG, location=NEAR)
    base = order.version
    edit = lambda n, text: {"op_id": f"twice-{n:06d}", "type": "update", "form": "work_order", "record_id": order.id,  # noqa: E731
                            "base_version": base, "data": {"service_report": text}}
    first = sync(flow_api, ZHANG, [edit(1, "draft"), edit(2, "draft, then the final words")], device="phone-000001")
    assert [r["status"] for r in first["results"]] == ["applied", "applied"]
    later = sync(flow_api, ZHANG, [edit(3, "third save")], device="phone-000001")  # the next sync, same base
    assert later["results"][0]["status"] == "applied"
    assert order.get(ADMIN)["data"]["service_report"] == "third save"
    # the same engineer's other device (or one that names no device) did not know those saves
    other = sync(flow_api, ZHANG, [edit(4, "tablet text")], device="tablet-00001")
    assert other["results"][0]["status"] == "conflict"
    unnamed = sync(flow_api, ZHANG, [edit(5, "no device")])
    assert unnamed["results"][0]["status"] == "conflict"
    assert sync(flow_api, ZHANG, [], device="x", expect=422)["error"]["details"][0]["path"] == "device_id"


def test_pull_returns_my_orders_and_what_left_me(flow_api):
    order = travelling_order(flow_api)
    first = sync(flow_api, ZHANG, [])
    assert [r["id"] for r in first["changes"]["records"]] == [order.id]
    assert first["changes"]["assigned"] == [order.id] and first["changes"]["unassigned"] == []
    quiet = sync(flow_api, ZHANG, [], cursor=first["cursor"])
    assert quiet["changes"]["records"] == []  # nothing changed since
    # the supervisor takes the order away (admin cancels through the workflow)
    flow_api.call("DELETE", f"{order.path}?version={order.version}", **SUP)
    later = sync(flow_api, ZHANG, [], cursor=quiet["cursor"])
    assert later["changes"]["unassigned"] == [order.id] and later["changes"]["records"] == []


def test_bad_batches_name_the_problem(flow_api):
    order = travelling_order(flow_api)
    assert sync(flow_api, ZHANG, [{"type": "checkin", "form": "work_order", "record_id": order.id}],
                expect=422)["error"]["details"][0]["path"] == "operations[0].op_id"
    assert sync(flow_api, ZHANG, [{"op_id": "x" * 8, "type": "teleport", "form": "work_order", "record_id": order.id}],
                expect=422)["error"]["details"][0]["path"] == "operations[0].type"
    assert sync(flow_api, ZHANG, [{"op_id": f"op-{i:06d}", "type": "checkout", "form": "work_order", "record_id": order.id}
                                  for i in range(101)], expect=422)["error"]["details"][0]["path"] == "operations"
    assert sync(flow_api, ZHANG, [], cursor="forged.cursor", expect=400)["error"]["code"] == "invalid_cursor"
    stolen = sync(flow_api, ZHANG, [])["cursor"]
    assert sync(flow_api, dict(user="eng.chen", roles=["engineer"]), [], cursor=stolen, expect=400)["error"]["code"] == "invalid_cursor"
    # one bad operation does not stop the others
    mixed = sync(flow_api, ZHANG, [
        {"op_id": "bad-000001", "type": "checkout", "form": "work_order", "record_id": order.id},
        {"op_id": "ok-0000001", "type": "checkin", "form": "work_order", "record_id": order.id, "location": NEAR}])
    assert [r["status"] for r in mixed["results"]] == ["rejected", "applied"]
    assert mixed["results"][0]["error"]["code"] == "not_checked_in"
    # someone else's order is not found for me
    other = sync(flow_api, dict(user="eng.chen", roles=["engineer"]), [
        {"op_id": "spy-000001", "type": "checkin", "form": "work_order", "record_id": order.id, "location": NEAR}])
    assert other["results"][0]["http_status"] == 404


def test_photos_taken_offline_attach_once_through_sync(flow_api):
    """The phone uploads its queued photo when online (presign + POST to S3), then syncs the attach
    operation with everything else; replays attach nothing twice."""
    from .test_uploads_api import PNG, put_object
    order, _part, _warehouse = setup(flow_api)
    order.post("checkin", ZHANG, location=NEAR)
    declared = flow_api.call("POST", f"{order.path}/uploads", body={"field": "fault_photos", "content_type": "image/png",
                                                                    "size": len(PNG)}, **ZHANG)
    assert declared.status_code == 201, declared.json
    put_object(declared.json["key"])
    batch = [{"op_id": "photo-0000001", "type": "attach", "form": "work_order", "record_id": order.id,
              "upload_id": declared.json["upload_id"]},
             {"op_id": "photo-0000002", "type": "update", "form": "work_order", "record_id": order.id,
              "base_version": order.version, "data": {"service_report": "Photo of the broken valve attached"}}]
    first = sync(flow_api, ZHANG, batch)
    assert [r["status"] for r in first["results"]] == ["applied", "applied"], first["results"]
    for _ in range(3):
        sync(flow_api, ZHANG, batch)
    record = order.get(ADMIN)
    assert [p["key"] for p in record["data"]["fault_photos"]] == [declared.json["key"]]
    assert record["data"]["service_report"] == "Photo of the broken valve attached"


def test_a_record_created_offline_can_be_named_by_later_operations(flow_api):
    from chalicelib.ids import new_id
    agent = dict(user="agent.li", roles=["agent"])
    rid = new_id()  # made on the phone
    batch = [{"op_id": "cust-000001", "type": "create", "form": "customer", "record_id": rid,
              "data": {"name": "Harbour Hotel", "phone": "13800138000"}},
             {"op_id": "cust-000002", "type": "update", "form": "customer", "record_id": rid, "base_version": 1,
              "data": {"phone": "13900139000"}}]
    for _ in range(3):
        results = sync(flow_api, agent, batch)["results"]
        assert [r["status"] for r in results] == ["applied", "applied"], results
    stored_id = results[0]["result"]["id"]  # the server's id for the phone's (bound to tenant + user)
    assert results[1]["result"]["id"] == stored_id and stored_id[:10] == rid[:10]
    record = flow_api.call("GET", f"/forms/customer/records/{stored_id}", **agent).json
    assert record["version"] == 2 and record["data"]["phone"] == "13900139000"
    taken = sync(flow_api, agent, [{**batch[0], "op_id": "cust-000003", "data": {"name": "Other", "phone": "13800138000"}}])
    assert taken["results"][0]["status"] == "rejected" and taken["results"][0]["error"]["code"] == "record_id_taken"
    bad = sync(flow_api, agent, [{**batch[0], "op_id": "cust-000004", "record_id": "not-a-ulid"}], expect=422)
    assert bad["error"]["details"][0]["path"] == "operations[0].record_id"
