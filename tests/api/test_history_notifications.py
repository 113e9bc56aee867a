"""A history entry lists the notifications its step created (issue 18): id, kind and recipient of each,
the same ids the recipients' feeds hold, and nothing of the record's values."""
from .helpers import AGENT, Order, new_customer, new_work_order

SUP = dict(user="sup.north", roles=["supervisor"])
ZHANG = dict(user="eng.zhang", roles=["engineer"])


def _history(api, order):
    return api.call("GET", f"{order.path}/history", **AGENT).json["items"]


def test_history_entries_list_the_notifications_of_their_step(flow_api):
    order = Order(flow_api, new_work_order(flow_api, new_customer(flow_api)["id"]))
    [created] = _history(flow_api, order)
    assert [{k: n[k] for k in ("kind", "to")} for n in created["notifications"]] == [{"kind": "task.assigned", "to": "user:sup.north"}]
    feed = {n["id"]: n for n in flow_api.call("GET", "/notifications", **SUP).json["items"]}
    assert created["notifications"][0]["id"] in feed and feed[created["notifications"][0]["id"]]["record_id"] == order.id
    assert set(created["notifications"][0]) == {"id", "kind", "to"}  # no title, no record values

    order.patch(SUP, priority="high")  # an edit that assigns nobody tells nobody
    assert _history(flow_api, order)[-1]["notifications"] == []

    order.act("assign", SUP, data={"assigned_engineer": "eng.zhang"})
    assigned = _history(flow_api, order)[-1]
    assert assigned["kind"] == "action" and assigned["action"] == "assign"
    [note] = assigned["notifications"]
    assert (note["kind"], note["to"]) == ("task.assigned", "user:eng.zhang")
    assert note["id"] in {n["id"] for n in flow_api.call("GET", "/notifications", **ZHANG).json["items"]}


def test_a_deadline_breach_lists_the_escalation_notice(flow_api):
    from datetime import datetime, timedelta, timezone

    from chalicelib.services.workflow import fire_due_timers
    order = Order(flow_api, new_work_order(flow_api, new_customer(flow_api)["id"], priority="urgent"))
    later = (datetime.now(timezone.utc) + timedelta(minutes=31)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fire_due_timers(later)  # the 30-minute response deadline of an urgent order escalates to the manager
    breached = [n for h in _history(flow_api, order) if h["kind"] == "timer" for n in h["notifications"]
                if n["kind"] == "sla.breached"]
    assert breached and breached[0]["to"] == "role:manager" and breached[0]["deadline"] == "response"
    manager = dict(user="mgr.zhao", roles=["manager"])
    assert breached[0]["id"] in {n["id"] for n in flow_api.call("GET", "/notifications", **manager).json["items"]}
