"""Workflow races on DynamoDB Local (moto is not thread-safe): the scheduler run twice at once,
idempotent replays of a create that starts a workflow, an action racing a soft delete."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.services import records, workflow
from chalicelib.services.caller import Caller

from .test_storage_races import AGENT, SUPERVISOR, _install, order_body, run_parallel

pytestmark = pytest.mark.ddblocal


def _later(**delta) -> str:
    return (datetime.now(timezone.utc) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _side_items(record_id):
    from chalicelib.storage import keys
    from chalicelib.storage.models import TaskItem, TimerItem
    pk = keys.record_pk("demo", record_id)
    return (sorted(t.sk[5:] for t in TaskItem.query(pk, TaskItem.sk.startswith("TASK#"), consistent_read=True)),
            sorted(t.sk[6:] for t in TimerItem.query(pk, TimerItem.sk.startswith("TIMER#"), consistent_read=True)))


@pytest.fixture
def racing(ddblocal_backend):
    return _install()


def test_scheduler_run_twice_concurrently_fires_each_timer_once(racing):
    orders = [records.create(AGENT, "work_order", order_body(racing, priority="urgent"), None)[0] for _ in range(3)]
    now = _later(hours=5)
    outcomes = run_parallel(lambda i: workflow.fire_due_timers(now), 2)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    # a timer skipped because the other run moved its record first is fired by the next minute's run
    workflow.fire_due_timers(now)
    assert workflow.fire_due_timers(now) == {"fired": 0, "skipped": 0, "failed": 0}
    for order in orders:
        final = records.get(AGENT, "work_order", order["id"])
        entries = workflow.history(AGENT, "work_order", order["id"], None)["items"]
        assert [h["seq"] for h in entries] == list(range(1, final["version"] + 1))
        fired = [h["action"] for h in entries if h["kind"] == "timer"]
        assert sorted(fired) == sorted(set(fired))  # no timer fired twice
        assert {"sla:resolution", "deadline:response"} <= set(fired)
        tasks, timers = _side_items(order["id"])
        assert tasks == sorted(final["workflow"]["assignees"])
        assert timers == sorted(t["name"] for t in final["workflow"]["timers"])


def test_concurrent_idempotent_replays_with_a_workflow_leave_one_task(racing):
    body = order_body(racing)
    outcomes = run_parallel(lambda i: records.create(AGENT, "work_order", body, "crm-event-wf-000001")[0], 8)
    ids = {o["id"] for kind, o in outcomes if kind == "ok"}
    assert len(ids) == 1
    inbox = workflow.inbox(SUPERVISOR, {"limit": "100"})["items"]
    assert [t["record_id"] for t in inbox] == list(ids)
    record_id = ids.pop()
    assert [h["seq"] for h in workflow.history(AGENT, "work_order", record_id, None)["items"]] == [1]


def test_action_racing_a_soft_delete_leaves_no_orphans(racing):
    order, _ = records.create(AGENT, "work_order", order_body(racing), None)

    def go(i):
        if i % 2:
            return records.delete(SUPERVISOR, "work_order", order["id"], None, "1")
        return workflow.act(SUPERVISOR, "work_order", order["id"], "auto_dispatch", {"version": 1})

    outcomes = run_parallel(go, 6)
    assert sum(kind == "ok" for kind, _ in outcomes) == 1
    winner = next(o for kind, o in outcomes if kind == "ok")
    tasks, timers = _side_items(order["id"])
    if winner.get("deleted"):
        assert (tasks, timers) == ([], [])
        assert workflow.fire_due_timers(_later(days=30))["fired"] == 0
    else:
        record = records.get(AGENT, "work_order", order["id"])
        assert tasks == sorted(record["workflow"]["assignees"])
        assert timers == sorted(t["name"] for t in record["workflow"]["timers"])
    system = Caller(tenant="demo", user_id="admin", roles=frozenset({"admin"}))
    assert workflow.inbox(system, {"limit": "10"})["items"] == []
