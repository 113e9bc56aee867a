"""Integrity and security of offline sync and the inventory ledger, through the HTTP API.

- a copy of a batch whose up-front look-up missed the first copy's operations (it ran concurrently)
  answers exactly what a sequential replay answers, never a spurious rejection;
- client-chosen record ids: time-windowed (no pinning to the top of lists), bound to tenant + user
  (a create never reveals whether somebody else's record has that id), and offline-create op keys
  live in the per-user sync space (no other member can pre-claim them with an Idempotency-Key);
- ledger entries that name a record the caller may not read do not reveal it.
"""
import hashlib
import time

import pytest

from chalicelib.ids import _ALPHABET, new_id

from .test_fieldwork_api import CHEN, NEAR, SUP, ZHANG, make_part, make_warehouse, receive, travelling_order
from .test_sync_api import sync

ZHANG_DESK = dict(user="eng.zhang", roles=["engineer", "agent"])  # an engineer who may also create customers
OTHER_AGENT = dict(user="agent.wang", roles=["agent"])


@pytest.fixture(autouse=True)
def zhang_also_at_the_desk(flow_api):
    """The registry makes eng.zhang an engineer who may also create customers (a token only narrows it)."""
    response = flow_api.call("PUT", "/members/eng.zhang", body={"display_name": "Zhang San (engineer)", "email": "zhang.san@demo.example",
                                                                "roles": ZHANG_DESK["roles"]},
                             user="admin", roles=["admin"])
    assert response.status_code == 200, response.json


def ulid_at(epoch_ms: int) -> str:
    """A ULID whose time part is `epoch_ms` (random part from a fresh id)."""
    stamp = "".join(_ALPHABET[(epoch_ms >> (5 * i)) & 31] for i in reversed(range(10)))
    return stamp + new_id()[10:]


def without_replayed(results):
    return [{k: v for k, v in r.items() if k != "replayed"} for r in results]


def full_batch(order, part, warehouse, client_id, prefix="race"):
    rid = order.id
    return [
        {"op_id": f"{prefix}-op-0001", "type": "create", "form": "customer", "record_id": client_id,
         "data": {"name": "Harbour Hotel", "phone": "13800138000"}},
        {"op_id": f"{prefix}-op-0002", "type": "update", "form": "customer", "record_id": client_id, "base_version": 1,
         "data": {"phone": "13900139000"}},
        {"op_id": f"{prefix}-op-0003", "type": "action", "form": "work_order", "record_id": rid, "action": "arrive"},
        {"op_id": f"{prefix}-op-0004", "type": "checkin", "form": "work_order", "record_id": rid, "location": NEAR},
        {"op_id": f"{prefix}-op-0005", "type": "parts", "form": "work_order", "record_id": rid, "part": part, "quantity": 1,
         "warehouse": warehouse, "line_id": f"{prefix}-line-1"},
        {"op_id": f"{prefix}-op-0006", "type": "update", "form": "work_order", "record_id": rid, "base_version": order.version,
         "data": {"service_report": "Replaced the valve"}},
    ]


# ---- item 1: a copy racing the first one answers like a sequential replay ------------------------

def test_a_copy_that_missed_the_first_copys_operations_answers_like_a_replay(flow_api, monkeypatch):
    order = travelling_order(flow_api)
    part, warehouse = make_part(flow_api), make_warehouse(flow_api)
    receive(flow_api, warehouse, part, 10)
    batch = full_batch(order, part, warehouse, new_id())
    first = sync(flow_api, ZHANG_DESK, batch)["results"]
    assert [r["status"] for r in first] == ["applied"] * 6, first
    sequential = sync(flow_api, ZHANG_DESK, batch)["results"]
    assert all(r["replayed"] for r in sequential) and without_replayed(sequential) == without_replayed(first)
    after = order.get(SUP)
    # the second copy's up-front BatchGetItem ran before the first copy committed: it sees nothing applied
    monkeypatch.setattr("chalicelib.storage.sync.known_operations", lambda tenant, scoped: {})
    racing = sync(flow_api, ZHANG_DESK, batch)["results"]
    assert without_replayed(racing) == without_replayed(sequential), racing
    assert all(r.get("replayed") for r in racing if r["op_id"] != "race-op-0004")  # (a check-in replay has no marker)
    again = order.get(SUP)  # nothing applied twice
    assert again["version"] == after["version"] and len(again["data"]["parts_used"]) == 1
    assert len(again["data"]["visits"]) == 1 and again["workflow"]["state"] == "OnSite"


# ---- item 2: client-chosen record ids ------------------------------------------------------------

def test_a_client_id_far_from_server_time_is_refused_naming_record_id(flow_api):
    now_ms = int(time.time() * 1000)
    for op_id, stamp in (("pin-future-01", now_ms + 365 * 86400 * 1000), ("pin-past-0001", now_ms - 15 * 86400 * 1000),
                         ("pin-future-02", now_ms + 11 * 60 * 1000)):
        result = sync(flow_api, ZHANG_DESK, [{"op_id": op_id, "type": "create", "form": "customer", "record_id": ulid_at(stamp),
                                              "data": {"name": "Pinned", "phone": "13800138000"}}])["results"][0]
        assert result["status"] == "rejected" and result["http_status"] == 422, result
        assert result["error"]["code"] == "record_id_out_of_range"
        assert result["error"]["details"][0]["path"] == "record_id"
    ok = sync(flow_api, ZHANG_DESK, [{"op_id": "pin-ok-000001", "type": "create", "form": "customer",
                                      "record_id": ulid_at(now_ms + 5 * 60 * 1000),
                                      "data": {"name": "Fine", "phone": "13800138000"}}])["results"][0]
    assert ok["status"] == "applied", ok


def test_a_create_naming_someone_elses_record_id_says_nothing_about_it(flow_api):
    order = travelling_order(flow_api)  # eng.zhang's order: agent.wang's create must not learn it exists
    before = order.get(SUP)
    answers = []
    for op_id, client_id in (("probe-00001", order.id), ("probe-00002", new_id())):
        result = sync(flow_api, OTHER_AGENT, [{"op_id": op_id, "type": "create", "form": "customer", "record_id": client_id,
                                               "data": {"name": "Probe", "phone": "13800138000"}}])["results"][0]
        assert result["status"] == "applied", result  # before: 409 record_id_taken for the existing id
        made = result["result"]["id"]
        assert made != client_id and made[:10] == client_id[:10]  # the client's time, the server's bits
        answers.append(sorted(result) + sorted(result["result"]))
    assert answers[0] == answers[1]  # the same answer whether or not a record had that id
    assert order.get(SUP) == before  # and the existing record was not touched
    # the same id chosen by another member lands elsewhere again: ids are bound to the user
    other = sync(flow_api, ZHANG_DESK, [{"op_id": "probe-00003", "type": "create", "form": "customer", "record_id": order.id,
                                         "data": {"name": "Probe", "phone": "13800138000"}}])["results"][0]
    assert other["status"] == "applied" and other["result"]["id"] not in (order.id, answers and made)


def test_later_operations_and_references_follow_the_client_id(flow_api):
    client_id = new_id()
    batch = [{"op_id": "ref-0000001", "type": "create", "form": "customer", "record_id": client_id,
              "data": {"name": "Harbour Hotel", "phone": "13800138000"}},
             {"op_id": "ref-0000002", "type": "create", "form": "work_order",
              "data": {"customer": client_id, "fault_description": "noise", "service_address": "1 Road", "region": "north"}}]
    first = sync(flow_api, ZHANG_DESK, batch)["results"]
    assert [r["status"] for r in first] == ["applied", "applied"], first
    order = flow_api.call("GET", f"/forms/work_order/records/{first[1]['result']['id']}", **SUP).json
    assert order["data"]["customer"] == first[0]["result"]["id"]
    assert without_replayed(sync(flow_api, ZHANG_DESK, batch)["results"]) == first


def test_another_member_cannot_pre_claim_a_phones_create(flow_api):
    client_id = new_id()
    op = {"op_id": "phone-create-0001", "type": "create", "form": "customer", "record_id": client_id,
          "data": {"name": "Harbour Hotel", "phone": "13800138000"}}
    # the old key of this op in the form's Idempotency-Key space, which any member can write
    legacy = "sync." + hashlib.sha256(f"{ZHANG_DESK['user']}\x00{op['op_id']}".encode()).hexdigest()[:40]
    claimed = flow_api.call("POST", "/forms/customer/records", body={"data": {"name": "Squatter", "phone": "13800138000"}},
                            headers={"Idempotency-Key": legacy}, **OTHER_AGENT)
    assert claimed.status_code == 201
    result = sync(flow_api, ZHANG_DESK, [op])["results"][0]
    assert result["status"] == "applied" and "replayed" not in result, result  # before: idempotency_key_reused
    record = flow_api.call("GET", f"/forms/customer/records/{result['result']['id']}", **SUP).json
    assert record["data"]["name"] == "Harbour Hotel" and record["created_by"] == "eng.zhang"


def test_a_create_applied_under_the_old_key_space_still_replays(flow_api):
    from chalicelib.services import records
    from chalicelib.services.caller import Caller
    from chalicelib.services.sync import _op_key
    client_id = new_id()
    op = {"op_id": "old-create-0001", "type": "create", "form": "customer", "record_id": client_id,
          "data": {"name": "Old Hotel", "phone": "13800138000"}}
    caller = Caller(tenant="demo", user_id="eng.zhang", roles=frozenset({"engineer", "agent"}))
    old_body, _ = records.create(caller, "customer", {"data": op["data"]}, "sync." + _op_key(caller, op)[0],
                                 record_id=client_id)  # how a create was keyed before
    result = sync(flow_api, ZHANG_DESK, [op])["results"][0]
    assert result["replayed"] is True and result["result"]["id"] == old_body["id"], result


# ---- item 3: the ledger does not reveal records the caller may not read ----------------------

def test_the_ledger_hides_orders_the_reader_may_not_read(flow_api):
    order = travelling_order(flow_api)  # eng.zhang's
    order.post("checkin", ZHANG, location=NEAR)
    part, warehouse = make_part(flow_api), make_warehouse(flow_api)
    receive(flow_api, warehouse, part, 5)
    order.post("parts", ZHANG, expect=201, part=part, quantity=2, warehouse=warehouse, line_id="line-secret-1")
    assert flow_api.call("GET", order.path, **CHEN).status_code == 404  # eng.chen may not read zhang's order
    path = f"/inventory/ledger?warehouse={warehouse}&part={part}"
    seen_by_chen = flow_api.call("GET", path, **CHEN).json
    issue = next(e for e in seen_by_chen["items"] if e["kind"] == "issue")
    assert issue["record"] is None and issue["line_id"] is None and issue["quantity"] == -2
    assert order.id not in str(seen_by_chen) and "line-secret-1" not in str(seen_by_chen)
    assert seen_by_chen["on_hand"] == 3 and sum(e["quantity"] for e in seen_by_chen["items"]) == 3  # still adds up
    for reader in (ZHANG, SUP):
        entry = next(e for e in flow_api.call("GET", path, **reader).json["items"] if e["kind"] == "issue")
        assert entry["record"] == order.id and entry["line_id"] == "line-secret-1"
