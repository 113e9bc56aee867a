"""The storage layer under concurrency on DynamoDB Local (real conditional writes and transactions;
moto's in-process backend is not thread-safe, so races run only there), plus CRUD on both backends.
Threads call the service layer directly: the chalice test client is not thread-safe."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.errors import AppError, Conflict, ValidationFailed
from chalicelib.seed import install_app, install_demo_data
from chalicelib.services import records
from chalicelib.services.caller import Caller

AGENT = Caller(tenant="demo", user_id="agent.li", roles=frozenset({"agent"}))
SUPERVISOR = Caller(tenant="demo", user_id="sup.north", roles=frozenset({"supervisor"}))


def order_body(customer_id, **extra):
    return {"data": {"customer": customer_id, "fault_description": "noise", "service_address": "1 Road",
                     "region": "north", **extra}}


def _install():
    install_app("demo")
    install_demo_data("demo", forms={"region"})  # north's orders are reviewed by sup.north
    customer, _ = records.create(AGENT, "customer", {"data": {"name": "ACME", "phone": "13800138000"}}, None)
    return customer["id"]


@pytest.fixture
def tenant(backend):
    return _install()


@pytest.fixture
def racing_tenant(ddblocal_backend):
    return _install()


def run_parallel(fn, n):
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(fn, i) for i in range(n)]
    outcomes = []
    for future in futures:
        try:
            outcomes.append(("ok", future.result()))
        except AppError as exc:
            outcomes.append((type(exc).__name__, exc))
    return outcomes


@pytest.mark.ddblocal
def test_concurrent_updates_exactly_one_wins(racing_tenant):
    tenant = racing_tenant
    order, _ = records.create(AGENT, "work_order", order_body(tenant), None)
    outcomes = run_parallel(lambda i: records.update(SUPERVISOR, "work_order", order["id"],
                                                     {"version": 1, "data": {"fault_description": f"writer {i}"}}, None), 20)
    winners = [o for kind, o in outcomes if kind == "ok"]
    assert len(winners) == 1
    assert all(kind == "Conflict" for kind, _ in outcomes if kind != "ok")
    final = records.get(AGENT, "work_order", order["id"])
    assert final["version"] == 2 and final["data"]["fault_description"] == winners[0]["data"]["fault_description"]


@pytest.mark.ddblocal
def test_concurrent_creates_get_unique_numbers_without_gaps_when_all_succeed(racing_tenant):
    tenant = racing_tenant
    outcomes = run_parallel(lambda i: records.create(AGENT, "work_order", order_body(tenant), None)[0], 20)
    assert all(kind == "ok" for kind, _ in outcomes), [(k, getattr(o, "code", ""), getattr(o, "message", "")) for k, o in outcomes if k != "ok"]
    numbers = sorted(int(o["number"].rsplit("-", 1)[1]) for _, o in outcomes)
    assert numbers == list(range(1, 21))


@pytest.mark.ddblocal
def test_auto_numbering_under_a_service_desks_load(racing_tenant):
    """8 creators × 10 auto-numbered creates at once (each with its workflow start and an
    Idempotency-Key): no failure, 80 distinct numbers 1..80; a replayed key returns the same record
    and number and takes none; another tenant's counter is its own."""
    tenant = racing_tenant

    def creator(t):
        return [records.create(AGENT, "work_order", order_body(tenant), f"desk-{t}-{k:02d}")[0] for k in range(10)]
    outcomes = run_parallel(creator, 8)
    assert all(kind == "ok" for kind, _ in outcomes), [(k, getattr(o, "code", ""), getattr(o, "message", "")) for k, o in outcomes if k != "ok"]
    made = [o for _, batch in outcomes for o in batch]
    numbers = sorted(int(o["number"].rsplit("-", 1)[1]) for o in made)
    assert numbers == list(range(1, 81))
    again, replayed = records.create(AGENT, "work_order", order_body(tenant), "desk-3-07")
    first = next(o for o in outcomes[3][1] if o["id"] == again["id"])
    assert replayed and again["number"] == first["number"]
    nxt, _ = records.create(AGENT, "work_order", order_body(tenant), None)
    assert int(nxt["number"].rsplit("-", 1)[1]) == 81  # the replay handed its number back: no gap
    other = Caller(tenant="other", user_id="agent.li", roles=frozenset({"agent"}))
    install_app("other")
    customer, _ = records.create(other, "customer", {"data": {"name": "B", "phone": "13800138000"}}, None)
    theirs, _ = records.create(other, "work_order", order_body(customer["id"]), "desk-3-07")
    assert theirs["number"].endswith("-000001") and customer["number"] == "C-000001"


@pytest.mark.ddblocal
def test_refused_create_gives_its_number_back(racing_tenant):
    first, _ = records.create(AGENT, "customer", {"data": {"name": "A", "phone": "13800138000", "email": "a@x.example"}}, None)
    with pytest.raises(ValidationFailed):
        records.create(AGENT, "customer", {"data": {"name": "B", "phone": "13800138000", "email": "a@x.example"}}, None)
    nxt, _ = records.create(AGENT, "customer", {"data": {"name": "C", "phone": "13800138000"}}, None)
    assert [first["number"], nxt["number"]] == ["C-000002", "C-000003"]  # C-000001 is the fixture's customer


@pytest.mark.ddblocal
def test_concurrent_unique_claims_one_wins(racing_tenant):
    outcomes = run_parallel(lambda i: records.create(AGENT, "customer", {"data": {
        "name": f"C{i}", "phone": "13800138000", "email": "same@acme.example"}}, None), 10)
    assert sum(kind == "ok" for kind, _ in outcomes) == 1
    losers = [exc for kind, exc in outcomes if kind != "ok"]
    # a loser either saw the claim (422) or collided with the in-flight transaction (409, retryable)
    assert all(isinstance(exc, (ValidationFailed, Conflict)) for exc in losers)


@pytest.mark.ddblocal
def test_concurrent_replays_of_one_idempotency_key_write_once(racing_tenant):
    tenant = racing_tenant
    body = order_body(tenant)
    outcomes = run_parallel(lambda i: records.create(AGENT, "work_order", body, "crm-event-000042"), 10)
    succeeded = [o for kind, o in outcomes if kind == "ok"]
    ids = {body["id"] for body, _replayed in succeeded}
    assert len(ids) == 1
    assert all(kind in ("ok", "Conflict") for kind, _ in outcomes)
    listed = records.list_records(AGENT, "work_order", {})
    assert [i["id"] for i in listed["items"]] == list(ids)


def test_crud_and_lists_behave_the_same_on_both_backends(tenant):
    created = [records.create(AGENT, "work_order", order_body(tenant, priority=p), None)[0]
               for p in ("urgent", "low", "urgent", "normal", "urgent")]
    page1 = records.list_records(AGENT, "work_order", {"filter.priority": "urgent", "limit": "2"})
    page2 = records.list_records(AGENT, "work_order", {"filter.priority": "urgent", "limit": "2", "cursor": page1["next_cursor"]})
    urgent = [c["id"] for c in created if c["data"]["priority"] == "urgent"]
    assert [i["id"] for i in page1["items"] + page2["items"]] == list(reversed(urgent))
    assert page2["next_cursor"] is None
    records.delete(SUPERVISOR, "work_order", urgent[0], None, "1")
    assert [i["id"] for i in records.list_records(AGENT, "work_order", {"filter.priority": "urgent"})["items"]] == list(reversed(urgent[1:]))


@pytest.mark.ddblocal
def test_concurrent_workflow_actions_exactly_one_applies(racing_tenant):
    from chalicelib.services import workflow
    order, _ = records.create(AGENT, "work_order", order_body(racing_tenant), None)
    assert order["workflow"]["state"] == "Review"
    outcomes = run_parallel(lambda i: workflow.act(SUPERVISOR, "work_order", order["id"],
                                                   "auto_dispatch" if i % 2 else "cancel", {"version": 1, "comment": "x"}), 20)
    assert sum(kind == "ok" for kind, _ in outcomes) == 1
    assert all(kind == "Conflict" for kind, _ in outcomes if kind != "ok")
    history = workflow.history(AGENT, "work_order", order["id"], None)["items"]
    assert [h["seq"] for h in history] == [1, 2]  # exactly one transition recorded, no gaps
    final = records.get(AGENT, "work_order", order["id"])
    assert final["version"] == 2 and final["workflow"]["state"] != "Review"


@pytest.mark.ddblocal
def test_racing_updates_leave_one_set_of_index_entries(ddblocal_backend):
    """Eight writers move one record's 5th indexed field (an index entry item, not a GSI) to eight
    values at once: one wins, and the record is listed under its value only — the losers' entry puts
    went down with their transactions."""
    from chalicelib.services import definitions
    admin = Caller(tenant="demo", user_id="admin", roles=frozenset({"admin"}))
    perms = {"create": ["admin"], "read": ["admin"], "update": ["admin"], "delete": ["admin"]}
    fields = [{"name": n, "type": "text"} for n in ("a", "b", "c", "d", "owner")]
    definitions.upload(admin, "form", "account", {"title": "A", "fields": fields, "indexes": ["a", "b", "c", "d", "owner"],
                                                  "storage": {"shards": 2}, "permissions": perms}, publish=True)
    rec, _ = records.create(admin, "account", {"data": {"owner": "first"}}, None)
    outcomes = run_parallel(lambda i: records.update(admin, "account", rec["id"], {"version": 1, "data": {"owner": f"o{i}"}}, None), 8)
    assert sorted(kind for kind, _ in outcomes) == ["Conflict"] * 7 + ["ok"]
    winner = records.get(admin, "account", rec["id"])["data"]["owner"]

    def listed(owner):
        return [r["id"] for r in records.list_records(admin, "account", {"filter.owner": owner}, titles=False)["items"]]
    assert listed(winner) == [rec["id"]]
    assert all(listed(f"o{i}") == [] for i in range(8) if f"o{i}" != winner) and listed("first") == []
