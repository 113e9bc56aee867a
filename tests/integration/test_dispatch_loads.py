"""Engineers' load counters on DynamoDB Local: moved in the transactions that add and remove tasks,
exact under concurrent dispatches, and equal to a recount of the inboxes after a whole working day
(dispatch, decline, accept, delete, a supervisor's own task). The counter is what dispatch reads."""
import pytest

from chalicelib.seed import install_app, install_demo_data
from chalicelib.services import records, workflow
from chalicelib.services.caller import Caller
from chalicelib.storage import dispatch as dispatch_store

from .test_storage_races import AGENT, SUPERVISOR, order_body, run_parallel

pytestmark = pytest.mark.ddblocal

ADMIN = Caller(tenant="demo", user_id="admin", roles=frozenset({"admin"}))
USERS = ["eng.zhang", "eng.chen", "eng.huang", "eng.lin", "eng.xu", "eng.qian", "eng.he", "eng.tang", "sup.north", "sup.east", "admin"]


def _engineer(user):
    return Caller(tenant="demo", user_id=user, roles=frozenset({"engineer"}))


@pytest.fixture
def crew(ddblocal_backend):
    install_app("demo")
    install_demo_data("demo", forms={"region", "engineer"})
    customer, _ = records.create(AGENT, "customer", {"data": {"name": "ACME", "phone": "13800138000"}}, None)
    return customer["id"]


def _counted():
    return {u: s.load for u, s in dispatch_store.engineer_states("demo", "work_order", USERS, None).items()}


def _recounted():
    return dispatch_store.recount_loads("demo", "work_order", USERS)


def _dispatch(order):
    return workflow.act(SUPERVISOR, "work_order", order["id"], "auto_dispatch", {"version": order["version"]})["record"]


def test_concurrent_dispatches_count_every_assignment(crew):
    orders = [records.create(AGENT, "work_order", order_body(crew), None)[0] for _ in range(6)]
    outcomes = run_parallel(lambda i: _dispatch(orders[i]), 6)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    assigned = [o["data"]["assigned_engineer"] for _, o in outcomes]
    counted = _counted()
    for user in set(assigned):
        assert counted[user] == assigned.count(user)  # ADD in each transaction: none lost to a race
    assert counted == _recounted()


def test_counters_follow_a_working_day_and_match_a_recount(crew):
    orders = [records.create(AGENT, "work_order", order_body(crew), None)[0] for _ in range(4)]
    assert _counted()["sup.north"] == 4  # each order waits in the supervisor's review
    assert _counted() == _recounted()
    moved = [_dispatch(o) for o in orders[:3]]
    assert _counted()["sup.north"] == 1 and _counted() == _recounted()
    first = moved[0]
    engineer = first["data"]["assigned_engineer"]
    before = _counted()[engineer]
    workflow.act(_engineer(engineer), "work_order", first["id"], "reject", {"version": first["version"], "comment": "too far"})
    declined = records.get(AGENT, "work_order", first["id"])  # re-dispatched without the one who declined
    after = _counted()
    assert after[engineer] == before - 1 and after[declined["data"]["assigned_engineer"]] >= 1
    assert after == _recounted()
    second = moved[1]
    workflow.act(_engineer(second["data"]["assigned_engineer"]), "work_order", second["id"], "accept",
                 {"version": second["version"]})
    assert _counted() == _recounted()  # the task moved to its next state: same engineer, same load
    records.delete(ADMIN, "work_order", moved[2]["id"], None, str(moved[2]["version"]))
    records.delete(ADMIN, "work_order", orders[3]["id"], None, "1")
    counted = _counted()
    assert counted["sup.north"] == 0 and counted == _recounted()
    # what dispatch reads is the counter: a drifted counter shows until recounted
    from chalicelib.storage import keys
    from chalicelib.storage.models import EngineerItem
    EngineerItem(keys.engineer_pk("demo", "eng.chen"), keys.load_sk("work_order")).update(
        actions=[EngineerItem.open.set(40)])
    assert _counted()["eng.chen"] == 40
    assert _recounted()["eng.chen"] == counted["eng.chen"] and _counted() == counted


def test_counts_of_one_engineer_in_one_change_are_one_write(crew):
    """A change that gives one engineer two tasks (a step creating a related record assigned to the
    same person) touches the counter once — DynamoDB refuses a transaction naming an item twice."""
    from chalicelib.storage import workflow as wf_store
    from chalicelib.storage.records import _Transaction
    tx = _Transaction()
    for op in [*wf_store.load_change("demo", "work_order", "user:eng.lin", +1, "2026-12-07T08:00:00.000Z"),
               *wf_store.load_change("demo", "work_order", "user:eng.lin", +1, "2026-12-07T09:00:00.000Z"),
               *wf_store.load_change("demo", "work_order", "user:eng.xu", +1, "2026-12-07T08:00:00.000Z"),
               *wf_store.load_change("demo", "work_order", "user:eng.xu", -1),
               *wf_store.load_change("demo", "work_order", "role:supervisor", +1, "2026-12-07T08:00:00.000Z")]:
        tx.count(op[1], op[2], op[3])
    assert len(tx._ordered()) == 2  # lin once; xu once (its last assignment time; the counts net to 0)
    assert tx.commit() == {}
    states = dispatch_store.engineer_states("demo", "work_order", ["eng.lin", "eng.xu"], None)
    assert (states["eng.lin"].load, states["eng.lin"].last_assigned_at) == (2, "2026-12-07T09:00:00.000Z")
    assert (states["eng.xu"].load, states["eng.xu"].last_assigned_at) == (0, "2026-12-07T08:00:00.000Z")


def _set_capacity(user, capacity):
    engineer = records.list_records(ADMIN, "engineer", {"filter.user": user})["items"][0]
    records.update(ADMIN, "engineer", engineer["id"], {"version": engineer["version"], "data": {"daily_capacity": capacity}}, None)


def test_concurrent_dispatchers_never_exceed_a_daily_capacity(crew):
    """Six orders dispatched at once while every engineer has one slot left today: the day item's
    condition lets exactly one order into each slot; a dispatcher that lost the race re-ranks (the
    next engineer, or manual dispatch when no slot is left), never over capacity."""
    from datetime import datetime, timezone

    from chalicelib.dispatch.policy import work_day
    from chalicelib.services.dispatch import policy_for
    for user in (u for u in USERS if u.startswith("eng.")):
        _set_capacity(user, 1)
    orders = [records.create(AGENT, "work_order", order_body(crew), None)[0] for _ in range(6)]
    outcomes = run_parallel(lambda i: _dispatch(orders[i]), 6)
    assert all(kind in ("ok", "Conflict") for kind, _ in outcomes), outcomes
    assigned = [records.get(AGENT, "work_order", o["id"])["data"].get("assigned_engineer") for o in orders]
    got = sorted(a for a in assigned if a)
    _v, policy = policy_for("demo", "work_order")
    day = work_day(policy, datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    today = {u: s.today for u, s in dispatch_store.engineer_states("demo", "work_order", USERS, None, day).items()}
    assert len(got) >= 2 and len(set(got)) == len(got), assigned  # one each: the capacity held under the race
    assert {u: n for u, n in today.items() if n} == {u: 1 for u in got}
