"""In-app notifications written with the workflow step that causes them: task assigned, approval
requested, SLA reminder / breach, order completed; unread count, mark read, e-mail by preference."""
from datetime import datetime, timedelta, timezone

from .helpers import AGENT, new_customer, work_order_data
from .test_surveys_api import SENDER, completed_order, ses  # noqa: F401  (fixture)
from .test_workflow_e2e import MANAGER, SUP, ZHANG, Order


def _order(api):
    customer = new_customer(api)
    created = api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer["id"])}, **AGENT)
    assert created.status_code == 201
    return Order(api, created.json)


def _notes(api, who, query=""):
    response = api.call("GET", f"/notifications{query}", **who)
    assert response.status_code == 200, response.json
    return response.json


def test_task_assigned_unread_count_and_mark_read(flow_api):
    order = _order(flow_api)
    notes = _notes(flow_api, SUP)
    assert notes["unread"] == 1
    [note] = notes["items"]
    assert note["kind"] == "task.assigned" and note["record_id"] == order.id and note["state"] == "Review"
    assert note["read"] is False and note["number"].startswith("WO-")
    assert _notes(flow_api, ZHANG)["items"] == []

    dry = flow_api.call("POST", f"{order.path}/actions/auto_dispatch?dry_run=true", body={"version": order.version}, **SUP)
    assert dry.status_code == 200 and _notes(flow_api, ZHANG)["items"] == []  # a dry run writes nothing
    order.act("auto_dispatch", SUP)
    assert [n["kind"] for n in _notes(flow_api, ZHANG)["items"]] == ["task.assigned"]

    marked = flow_api.call("POST", "/notifications/read", body={"ids": [note["id"]]}, **SUP)
    assert marked.status_code == 200 and marked.json == {"marked": 1, "unread": 0}
    again = flow_api.call("POST", "/notifications/read", body={"ids": [note["id"]]}, **SUP)
    assert again.json == {"marked": 0, "unread": 0}  # marking twice counts once
    assert _notes(flow_api, SUP)["items"][0]["read"] is True
    assert _notes(flow_api, SUP, "?unread=true")["items"] == []
    missing = flow_api.call("POST", "/notifications/read", body={"ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]}, **ZHANG)
    assert missing.status_code == 404
    bad = flow_api.call("POST", "/notifications/read", body={"ids": ["nope"]}, **SUP)
    assert bad.status_code == 422 and bad.json["error"]["details"][0]["path"] == "ids"
    # another tenant's member with the same name sees nothing of this tenant
    assert _notes(flow_api, dict(user="sup.north", roles=["supervisor"], tenant="other"))["items"] == []


def test_sla_reminder_and_breach_reach_assignee_and_manager_role(flow_api):
    from chalicelib.services.workflow import fire_due_timers
    order = _order(flow_api)
    later = (datetime.now(timezone.utc) + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    fired = fire_due_timers(later)
    assert fired["fired"] >= 2
    kinds = [n["kind"] for n in _notes(flow_api, SUP)["items"]]
    assert "sla.reminder" in kinds and "task.assigned" in kinds
    manager = _notes(flow_api, MANAGER)
    breach = [n for n in manager["items"] if n["kind"] == "sla.breached"]
    assert breach and breach[0]["audience"] == "role:manager" and breach[0]["record_id"] == order.id
    assert manager["unread"] == len(manager["items"])
    cleared = flow_api.call("POST", "/notifications/read", body={"all": True}, **MANAGER)
    assert cleared.status_code == 200 and cleared.json["unread"] == 0
    assert all(n["read"] for n in _notes(flow_api, MANAGER)["items"])
    # another manager has not read the role's notifications yet
    assert _notes(flow_api, dict(user="mgr.qian", roles=["manager"]))["unread"] == len(manager["items"])


def test_role_notifications_are_marked_read_one_by_one_per_member(flow_api):
    from chalicelib.services.workflow import fire_due_timers
    _order(flow_api)
    _order(flow_api)
    later = (datetime.now(timezone.utc) + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    fire_due_timers(later)
    before = _notes(flow_api, MANAGER)
    role_items = [n for n in before["items"] if n["audience"] == "role:manager"]
    assert len(role_items) >= 2 and before["unread"] == len(before["items"])
    first = role_items[0]
    marked = flow_api.call("POST", "/notifications/read", body={"ids": [first["id"]]}, **MANAGER)
    assert marked.status_code == 200 and marked.json == {"marked": 1, "unread": before["unread"] - 1}
    after = _notes(flow_api, MANAGER)
    assert [n["id"] for n in after["items"] if n["read"]] == [first["id"]] and after["unread"] == before["unread"] - 1
    assert first["id"] not in [n["id"] for n in _notes(flow_api, MANAGER, "?unread=true")["items"]]
    again = flow_api.call("POST", "/notifications/read", body={"ids": [first["id"]]}, **MANAGER)
    assert again.json == {"marked": 0, "unread": before["unread"] - 1}
    # the role feed is shared, the read state is not: another manager still has it unread
    other = _notes(flow_api, dict(user="mgr.qian", roles=["manager"]))
    assert other["unread"] == before["unread"] and not any(n["read"] for n in other["items"])
    # a member without the role cannot mark (or learn about) the role's notification
    foreign = flow_api.call("POST", "/notifications/read", body={"ids": [first["id"]]}, **ZHANG)
    assert foreign.status_code == 404
    # marking all afterwards leaves nothing unread and counts only what was still unread
    cleared = flow_api.call("POST", "/notifications/read", body={"all": True}, **MANAGER)
    assert cleared.json["unread"] == 0 and all(n["read"] for n in _notes(flow_api, MANAGER)["items"])


def test_order_completed_notifies_the_agent_who_took_it(flow_api, ses):
    order, _customer = completed_order(flow_api)
    completed = [n for n in _notes(flow_api, AGENT)["items"] if n["kind"] == "order.completed"]
    assert [n["record_id"] for n in completed] == [order.id]


def test_email_copy_where_the_member_prefers_it(flow_api, ses):
    from chalicelib.services.mail import deliver_due
    assert flow_api.call("GET", "/notifications/preferences", **ZHANG).json["email"] == []
    bad = flow_api.call("PUT", "/notifications/preferences", body={"email": ["task.assigned", "spam"]}, **ZHANG)
    assert bad.status_code == 422 and bad.json["error"]["details"][0]["path"] == "email[1]"
    saved = flow_api.call("PUT", "/notifications/preferences", body={"email": ["task.assigned"]}, **ZHANG)
    assert saved.status_code == 200 and saved.json["email"] == ["task.assigned"]
    order = _order(flow_api)
    order.act("auto_dispatch", SUP)
    assert order.get()["data"]["assigned_engineer"] == "eng.zhang"
    deliver_due()
    to_zhang = [m for m in ses.sent_messages if m.destinations["ToAddresses"] == ["zhang.san@demo.example"]]
    assert len(to_zhang) == 1 and "New task" in to_zhang[0].subject and to_zhang[0].source == SENDER
    assert not [m for m in ses.sent_messages if m.destinations["ToAddresses"] == ["wang.wei@demo.example"]]  # no preference
    deliver_due()
    assert len([m for m in ses.sent_messages if m.destinations["ToAddresses"] == ["zhang.san@demo.example"]]) == 1


def test_role_notifications_reach_members_who_asked_for_them_by_email(flow_api, ses):
    """sla.breached goes to role:manager: the manager who wants it by e-mail gets one copy; losing
    the role (member saved by an admin) stops the copies, and a copy queued before is not sent."""
    from chalicelib.services.mail import deliver_due
    from chalicelib.services.workflow import fire_due_timers

    def to_zhao():
        return [m for m in ses.sent_messages if m.destinations["ToAddresses"] == ["zhao.min@demo.example"]]

    saved = flow_api.call("PUT", "/notifications/preferences", body={"email": ["sla.breached"]}, **MANAGER)
    assert saved.status_code == 200
    _order(flow_api)
    later = (datetime.now(timezone.utc) + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    fire_due_timers(later)
    deliver_due(later)
    assert len(to_zhao()) == 1 and "was missed" in to_zhao()[0].subject
    deliver_due(later)
    assert len(to_zhao()) == 1  # once

    # an admin moves Zhao out of the manager role: no more copies
    member = flow_api.call("GET", "/members/mgr.zhao").json
    moved = flow_api.call("PUT", "/members/mgr.zhao", body={**{k: member[k] for k in ("display_name", "email", "active",
                                                                                       "attributes")}, "roles": ["agent"]})
    assert moved.status_code == 200, moved.json
    _order(flow_api)
    later = (datetime.now(timezone.utc) + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    fire_due_timers(later)
    deliver_due(later)
    assert len(to_zhao()) == 1
    # back in the role, the saved preference applies again (the subscription follows the roles)
    back = flow_api.call("PUT", "/members/mgr.zhao", body={**{k: member[k] for k in ("display_name", "email", "active",
                                                                                      "attributes")}, "roles": ["manager"]})
    assert back.status_code == 200
    _order(flow_api)
    later = (datetime.now(timezone.utc) + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    fire_due_timers(later)
    deliver_due(later)
    assert len(to_zhao()) == 2


def test_a_queued_role_copy_is_not_sent_after_the_role_is_taken_away(flow_api, ses):
    from chalicelib.services.mail import deliver_due
    from chalicelib.services.workflow import fire_due_timers
    assert flow_api.call("PUT", "/notifications/preferences", body={"email": ["sla.breached"]}, **MANAGER).status_code == 200
    _order(flow_api)
    later = (datetime.now(timezone.utc) + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    fire_due_timers(later)
    member = flow_api.call("GET", "/members/mgr.zhao").json
    flow_api.call("PUT", "/members/mgr.zhao", body={**{k: member[k] for k in ("display_name", "email", "active", "attributes")},
                                                   "roles": ["agent"]})
    assert deliver_due(later)["skipped"] == 1  # the copy was queued, then found no longer in the role
    assert not [m for m in ses.sent_messages if m.destinations["ToAddresses"] == ["zhao.min@demo.example"]]


def test_a_role_notification_says_nothing_of_a_record_the_member_may_not_read(flow_api):
    """Role feeds reach every holder of the role; row rules still decide what each may learn of the record."""
    from chalicelib.auth import issue_local_token
    customer = new_customer(flow_api)
    import json
    from pathlib import Path
    raw = json.loads((Path(__file__).resolve().parents[2] / "definitions/after_sales/workflows/work_order.json").read_text())
    del raw["Fallback"]  # a tenant's workflow that falls back to the supervisor role (the upload warns of it)
    raw["States"]["Review"]["Assignee"]["Fallback"] = {"Role": "supervisor"}
    assert flow_api.call("POST", "/definitions/workflow/work_order/versions", body=raw).status_code == 201
    [south] = flow_api.call("GET", "/forms/region/records?filter.code=south").json["items"]
    flow_api.call("PATCH", f"/forms/region/records/{south['id']}", body={"version": south["version"], "data": {"supervisor": None}})
    created = flow_api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer["id"], region="south")}, **AGENT)
    assert created.status_code == 201 and created.json["workflow"]["assignees"] == ["role:supervisor"]  # south has no supervisor
    flow_api.call("PUT", "/members/sup.east", body={"roles": ["supervisor"], "active": True, "attributes": {"region": "east"}})
    east = issue_local_token("demo", "sup.east", ["supervisor"], attributes={"region": "east"})
    assert flow_api.call("GET", f"/forms/work_order/records/{created.json['id']}", token=east).status_code == 404
    notes = flow_api.call("GET", "/notifications", token=east).json
    [note] = [n for n in notes["items"] if n["kind"] == "task.assigned"]
    assert note["record_id"] is None and note["number"] is None and created.json["number"] not in note["title"]
    assert notes["unread"] >= 1  # still counted, and it can be marked read
    south = issue_local_token("demo", "sup.south", ["supervisor"], attributes={"region": "south"})
    flow_api.call("PUT", "/members/sup.south", body={"roles": ["supervisor"], "active": True, "attributes": {"region": "south"}})
    [seen] = [n for n in flow_api.call("GET", "/notifications", token=south).json["items"] if n["kind"] == "task.assigned"]
    assert seen["record_id"] == created.json["id"]
