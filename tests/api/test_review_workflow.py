"""Adversarial review of the workflow layer through the HTTP API and the service layer (moto).

Tests marked xfail(strict=True) describe the CORRECT behaviour of a bug that is still open; the
others are regression tests of behaviour that holds today."""
from datetime import datetime, timedelta, timezone


from .helpers import AGENT, new_customer, work_order_data
from .test_workflow_e2e import CHEN, SUP, ZHANG, create_order

EVERYONE = {"create": ["*"], "read": ["*"], "update": ["staff"], "delete": ["staff"]}
STAFF = lambda user: dict(user=user, roles=["staff"])  # noqa: E731
VIEWER = lambda user: dict(user=user, roles=["viewer"])  # noqa: E731


def _later(**delta) -> str:
    return (datetime.now(timezone.utc) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def upload(api, kind, name, body, tenant=None, expect=201):
    response = api.call("POST", f"/definitions/{kind}/{name}/versions", body=body, tenant=tenant)
    assert response.status_code == expect, response.json
    return response.json


def ticket_form(api, tenant=None, **extra_fields):
    fields = [{"name": "title", "type": "text", "required": True}, {"name": "approved", "type": "checkbox"},
              {"name": "note", "type": "text"}, *extra_fields.get("fields", [])]
    upload(api, "form", "ticket", {"title": "Ticket", "fields": fields, "permissions": EVERYONE}, tenant=tenant)


def approval_flow(mode="single", approvers=None, **extra):
    sign = {"Type": "Approval", "Mode": mode, "OnApprove": "Approved", "OnReject": "Done", **extra}
    if mode == "chain":
        sign["Levels"] = approvers
    else:
        sign["Approvers"] = approvers
    return {"StartAt": "Sign", "States": {
        "Sign": sign,
        "Approved": {"Type": "Action", "Steps": [{"SetFields": {"approved": "true"}}], "End": True},
        "Done": {"Type": "Succeed"}}}


def new_ticket(api, title="Broken door", tenant=None, headers=None):
    response = api.call("POST", "/forms/ticket/records", body={"data": {"title": title}}, tenant=tenant,
                        headers=headers, **STAFF("opener"))
    assert response.status_code == 201, response.json
    return response.json


def act(api, record, action, who, version=None, expect=200, **body):
    path = f"/forms/ticket/records/{record['id']}/actions/{action}"
    response = api.call("POST", path, body={"version": version or record["version"], **body}, **who)
    assert response.status_code == expect, (response.status_code, response.json)
    return response.json


def inbox(api, who, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api.call("GET", f"/tasks?{query}" if query else "/tasks", **who)
    assert response.status_code == 200, response.json
    return response.json


def all_inbox(api, who, limit):
    items, cursor, pages = [], None, 0
    while True:
        page = inbox(api, who, limit=limit, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor or pages > 50:
            return items


def history(api, form, record_id, who=None):
    response = api.call("GET", f"/forms/{form}/records/{record_id}/history", **(who or {}))
    assert response.status_code == 200, response.json
    return response.json["items"]


def stored_side_items(tenant, record_id):
    """Task and timer items actually stored next to the record (what the inbox / scheduler see)."""
    from chalicelib.storage import keys
    from chalicelib.storage.models import TaskItem, TimerItem
    pk = keys.record_pk(tenant, record_id)
    tasks = sorted(t.sk[5:] for t in TaskItem.query(pk, TaskItem.sk.startswith("TASK#")))
    timers = sorted(t.sk[6:] for t in TimerItem.query(pk, TimerItem.sk.startswith("TIMER#")))
    return tasks, timers


def assert_side_items_match(tenant, record):
    tasks, timers = stored_side_items(tenant, record["id"])
    wf = record["workflow"] or {"assignees": [], "timers": []}
    assert tasks == sorted(wf["assignees"])
    assert timers == sorted(t["name"] for t in wf["timers"])


# --------------------------------------------------------------------------- hostile action bodies

def test_action_with_non_object_data_is_422_not_500(flow_api):
    order, _ = create_order(flow_api)
    for data in (5, 1.5, True):
        response = flow_api.call("POST", f"{order.path}/actions/auto_dispatch", body={"version": 1, "data": data}, **SUP)
        assert response.status_code == 422, (data, response.status_code, response.body)
    assert order.get()["version"] == 1


def test_action_with_list_or_text_data_is_422(flow_api):
    order, _ = create_order(flow_api)
    for data in (["priority"], "priority"):
        response = flow_api.call("POST", f"{order.path}/actions/auto_dispatch", body={"version": 1, "data": data}, **SUP)
        assert response.status_code == 422, (data, response.status_code, response.body)


def test_delegate_to_must_be_text(api):
    ticket_form(api)
    upload(api, "workflow", "ticket", approval_flow("single", {"Users": ["ann"]}))
    ticket = new_ticket(api)
    for bad in ({"x": 1}, ["bob"], 7):
        response = api.call("POST", f"/forms/ticket/records/{ticket['id']}/actions/delegate",
                            body={"version": 1, "delegate_to": bad}, **STAFF("ann"))
        assert response.status_code == 422, (bad, response.status_code, response.body)


def test_delegate_to_unknown_user_is_rejected(api):
    ticket_form(api)
    upload(api, "workflow", "ticket", approval_flow("single", {"Role": "staff"}))
    ticket = new_ticket(api)
    # a rule by role: the delegate must be an active member holding it (checked in the write's transaction)
    error = act(api, ticket, "delegate", STAFF("ann"), delegate_to="nobody-in-this-tenant", expect=422)
    assert error["error"]["details"][0]["path"] == "delegate_to"


def test_delegation_goes_only_to_someone_the_rule_could_have_assigned(api):
    ticket_form(api)
    upload(api, "workflow", "ticket", approval_flow("single", {"Users": ["ann"]}))
    ticket = new_ticket(api)
    assert api.call("PUT", "/members/carl", body={"roles": ["staff"]}).status_code == 200
    error = act(api, ticket, "delegate", STAFF("ann"), delegate_to="carl", expect=403)
    assert error["error"]["code"] == "delegate_not_eligible"


# --------------------------------------------------------------------------- who may edit through an action

def test_read_only_approver_cannot_change_fields_through_an_action(api):
    ticket_form(api)
    upload(api, "workflow", "ticket", approval_flow("single", {"Users": ["vic"]}))
    ticket = new_ticket(api)
    # vic has only the `viewer` role: PATCH is refused ...
    patch = api.call("PATCH", f"/forms/ticket/records/{ticket['id']}", body={"version": 1, "data": {"title": "pwned"}},
                     **VIEWER("vic"))
    assert patch.status_code == 403
    # ... and so must be the same edit smuggled into the approval
    act(api, ticket, "approve", VIEWER("vic"), data={"title": "pwned"}, expect=403)
    assert api.call("GET", f"/forms/ticket/records/{ticket['id']}").json["data"]["title"] == "Broken door"


def test_fields_a_state_does_not_allow_are_refused_on_patch_and_action(flow_api):
    order, _ = create_order(flow_api)
    order.act("assign", SUP, data={"assigned_engineer": "eng.zhang"})
    # AwaitAcceptance: Editable [] -> even the assignee edits nothing; others are not assignees at all
    for who, code in ((ZHANG, "field_not_editable"), (AGENT, "not_assignee")):
        response = flow_api.call("PATCH", order.path, body={"version": order.version, "data": {"priority": "low"}}, **who)
        assert response.status_code == 403 and response.json["error"]["code"] == code, (who, response.json)
    # another engineer is refused too (403, or 404 where engineers only see their own orders)
    response = flow_api.call("PATCH", order.path, body={"version": order.version, "data": {"priority": "low"}}, **CHEN)
    assert response.status_code in (403, 404), response.json
    error = order.act("accept", ZHANG, expect=403, data={"fault_description": "changed"})
    assert error["code"] in ("field_not_editable", "field_not_writable")
    response = flow_api.call("POST", f"{order.path}/actions/accept", body={"version": order.version}, **CHEN)
    assert response.status_code in (403, 404), response.json
    assert order.get()["version"] == order.version


# --------------------------------------------------------------------------- inbox

def test_inbox_pages_show_each_task_once_when_user_and_role_tasks_coexist(api):
    """The inbox lists tasks, not records: dan's own task and his role's task on one record are two
    entries (each names its assignee), and paging neither skips nor repeats either."""
    ticket_form(api)
    upload(api, "workflow", "ticket", approval_flow("single", {"Role": "staff"}))
    ticket = new_ticket(api)
    assert api.call("PUT", "/members/dan", body={"roles": ["staff"]}).status_code == 200
    # carl (staff) hands his vote to dan, who is staff too: dan now has user:dan AND role:staff tasks
    act(api, ticket, "delegate", STAFF("carl"), delegate_to="dan")
    one_page = inbox(api, STAFF("dan"), limit=10)["items"]
    assert sorted((t["record_id"], t["assignee"]) for t in one_page) == [(ticket["id"], "role:staff"), (ticket["id"], "user:dan")]
    paged = all_inbox(api, STAFF("dan"), limit=1)
    assert sorted((t["record_id"], t["assignee"]) for t in paged) == sorted((t["record_id"], t["assignee"]) for t in one_page)


def test_inbox_pagination_many_user_and_role_tasks_no_skip_no_repeat(api):
    ticket_form(api)
    # odd tickets go to the role, even ones to the user: the caller sees both kinds interleaved
    upload(api, "workflow", "ticket", {"StartAt": "Route", "States": {
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.note", "StringEquals": "role", "Next": "ByRole"}],
                  "Default": "ByUser"},
        "ByRole": {"Type": "Task", "Assignee": {"Role": "staff"}, "Actions": {"done": {"Next": "End"}}},
        "ByUser": {"Type": "Task", "Assignee": {"Users": ["dan"]}, "Actions": {"done": {"Next": "End"}}},
        "End": {"Type": "Succeed"}}})
    ids = []
    for i in range(13):
        response = api.call("POST", "/forms/ticket/records",
                            body={"data": {"title": f"t{i}", "note": "role" if i % 2 else "user"}}, **STAFF("opener"))
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
    for limit in (1, 2, 3, 5, 13, 100):
        got = [t["record_id"] for t in all_inbox(api, STAFF("dan"), limit)]
        assert sorted(got) == sorted(ids) and len(got) == len(ids), limit
        assert got == ids  # oldest first
    # a task taken is gone from every inbox at once
    first = api.call("GET", f"/forms/ticket/records/{ids[1]}").json
    act(api, first, "done", STAFF("eve"))
    assert ids[1] not in [t["record_id"] for t in all_inbox(api, STAFF("dan"), 4)]
    assert ids[1] not in [t["record_id"] for t in all_inbox(api, STAFF("eve"), 4)]


def test_inbox_limit_arabic_digits_are_not_a_500(flow_api):
    response = flow_api.call("GET", "/tasks?limit=%D9%A3", **ZHANG)
    assert response.status_code in (200, 400), (response.status_code, response.body)


def test_inbox_limit_superscript_digit_is_400_not_500(flow_api):
    response = flow_api.call("GET", "/tasks?limit=%C2%B2", **ZHANG)
    assert response.status_code == 400, (response.status_code, response.body)


def test_history_after_returns_later_entries(flow_api):
    order, _ = create_order(flow_api)
    order.act("auto_dispatch", SUP)
    response = flow_api.call("GET", f"{order.path}/history?after=1", **AGENT)
    assert response.status_code == 200, (response.status_code, response.body)
    assert [h["seq"] for h in response.json["items"]] == [2]


def test_history_after_with_unicode_digit_is_400_not_500(flow_api):
    order, _ = create_order(flow_api)
    response = flow_api.call("GET", f"{order.path}/history?after=%C2%B2", **AGENT)
    assert response.status_code == 400, (response.status_code, response.body)


# --------------------------------------------------------------------------- approvals

def test_chain_approval_moves_the_task_level_by_level(api):
    ticket_form(api)
    upload(api, "workflow", "ticket", approval_flow("chain", [{"Users": ["ann"]}, {"Users": ["bob"]}]))
    ticket = new_ticket(api)
    assert [t["record_id"] for t in inbox(api, STAFF("ann"))["items"]] == [ticket["id"]]
    act(api, ticket, "approve", STAFF("bob"), expect=403)  # level 2 may not jump the queue
    step = act(api, ticket, "approve", STAFF("ann"))
    assert step["record"]["workflow"]["state"] == "Sign" and step["record"]["workflow"]["assignees"] == ["user:bob"]
    assert inbox(api, STAFF("ann"))["items"] == []
    assert [t["record_id"] for t in inbox(api, STAFF("bob"))["items"]] == [ticket["id"]]
    act(api, step["record"], "approve", STAFF("ann"), expect=403)  # level 1 is done
    done = act(api, step["record"], "approve", STAFF("bob"))
    assert done["record"]["workflow"]["status"] == "succeeded" and done["record"]["data"]["approved"] is True
    assert inbox(api, STAFF("bob"))["items"] == []
    assert_side_items_match("demo", done["record"])
    assert [h["seq"] for h in history(api, "ticket", ticket["id"])] == [1, 2, 3]


def test_delegation_in_a_countersign_moves_the_seat(api):
    ticket_form(api)
    upload(api, "workflow", "ticket", approval_flow("all", {"Users": ["ann", "bob"], "Fallback": {"Users": ["carl"]}}))
    ticket = new_ticket(api)
    assert api.call("PUT", "/members/carl", body={"roles": ["staff"]}).status_code == 200  # a delegate must be a member
    assert api.call("PUT", "/members/dan", body={"roles": ["staff"]}).status_code == 200
    act(api, ticket, "delegate", STAFF("ann"), delegate_to="dan", expect=403)  # the rule never names dan
    moved = act(api, ticket, "delegate", STAFF("ann"), delegate_to="carl")
    assert sorted(moved["record"]["workflow"]["assignees"]) == ["user:bob", "user:carl"]
    assert inbox(api, STAFF("ann"))["items"] == []
    act(api, moved["record"], "approve", STAFF("ann"), expect=403)  # she gave her seat away
    act(api, moved["record"], "delegate", STAFF("bob"), delegate_to="carl", expect=409)  # carl has a seat
    second = act(api, moved["record"], "approve", STAFF("carl"))
    assert second["record"]["workflow"]["state"] == "Sign"
    third = act(api, second["record"], "approve", STAFF("bob"))
    assert third["record"]["workflow"]["status"] == "succeeded"
    assert_side_items_match("demo", third["record"])


def test_countersign_reject_needs_comment_and_ends(api):
    ticket_form(api)
    upload(api, "workflow", "ticket", approval_flow("all", {"Users": ["ann", "bob"]}))
    ticket = new_ticket(api)
    act(api, ticket, "reject", STAFF("ann"), expect=422)
    done = act(api, ticket, "reject", STAFF("ann"), comment="no")
    assert done["record"]["workflow"]["state"] == "Done"
    assert inbox(api, STAFF("bob"))["items"] == []


def test_countersign_with_repeated_approver_completes_or_is_refused(api):
    ticket_form(api)
    response = api.call("POST", "/definitions/workflow/ticket/versions",
                        body=approval_flow("all", {"Users": ["ann", "ann", "bob"]}))
    if response.status_code == 422:
        return  # refused at upload: fine
    ticket = new_ticket(api)
    step = act(api, ticket, "approve", STAFF("ann"))
    done = act(api, step["record"], "approve", STAFF("bob"))
    assert done["record"]["workflow"]["status"] == "succeeded"


# --------------------------------------------------------------------------- dry runs

def test_dry_runs_write_nothing(api):
    ticket_form(api)
    upload(api, "form", "note", {"title": "Note", "fields": [{"name": "text", "type": "text", "required": True}],
                                 "permissions": EVERYONE})
    upload(api, "workflow", "ticket", {"StartAt": "Sign", "States": {
        "Sign": {"Type": "Approval", "Mode": "single", "Approvers": {"Users": ["ann"], "Fallback": {"Users": ["bob"]}},
                 "OnApprove": "Log", "OnReject": "Done", "Edits": [{"Fields": ["note"], "Assignees": True}]},
        "Log": {"Type": "Action", "Steps": [{"CreateRecord": {"Form": "note", "Data": {"text": "concat('ok ', title)"}}}],
                "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
    ticket = new_ticket(api)
    before = (history(api, "ticket", ticket["id"]), stored_side_items("demo", ticket["id"]))
    path = f"/forms/ticket/records/{ticket['id']}/actions"
    for action, body in (("approve", {"data": {"note": "x"}}), ("delegate", {"delegate_to": "bob"}),
                         ("reject", {"comment": "no"})):
        response = api.call("POST", f"{path}/{action}?dry_run=true", body={"version": 1, **body}, **STAFF("ann"))
        assert response.status_code == 200 and response.json["dry_run"] is True, response.json
    assert api.call("POST", f"{path}/approve?dry_run=1", body={"version": 1}, **STAFF("ann")).status_code == 400
    after = api.call("GET", f"/forms/ticket/records/{ticket['id']}").json
    assert after["version"] == 1 and after["data"].get("note") is None
    assert (history(api, "ticket", ticket["id"]), stored_side_items("demo", ticket["id"])) == before
    assert api.call("GET", "/forms/note/records").json["items"] == []
    assert inbox(api, STAFF("bob"))["items"] == []


# --------------------------------------------------------------------------- CreateRecord

def test_create_record_step_unique_clash_is_422(api):
    ticket_form(api)
    upload(api, "form", "note", {"title": "Note", "fields": [{"name": "text", "type": "text", "required": True, "unique": True}],
                                 "permissions": EVERYONE})
    upload(api, "workflow", "ticket", {"StartAt": "Log", "States": {
        "Log": {"Type": "Action", "Steps": [{"CreateRecord": {"Form": "note", "Data": {"text": "title"}}}], "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
    new_ticket(api, "same")
    again = api.call("POST", "/forms/ticket/records", body={"data": {"title": "same"}}, **STAFF("opener"))
    assert again.status_code == 422, (again.status_code, again.json)


def test_create_record_step_writes_once_with_history_and_rolls_back_on_failure(api):
    ticket_form(api)
    upload(api, "form", "note", {"title": "Note", "fields": [{"name": "text", "type": "text", "required": True,
                                                              "max_length": 12}], "permissions": EVERYONE})
    upload(api, "workflow", "ticket", {"StartAt": "Wait", "States": {
        "Wait": {"Type": "Task", "Assignee": {"Users": ["ann"]}, "Actions": {"log": {"Next": "Log"}}},
        "Log": {"Type": "Action", "Steps": [{"CreateRecord": {"Form": "note", "Data": {"text": "title"}}}], "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
    bad = new_ticket(api, "much too long for a note")
    error = act(api, bad, "log", STAFF("ann"), expect=422)
    assert error["error"]["details"][0]["path"].startswith("CreateRecord.")
    assert api.call("GET", f"/forms/ticket/records/{bad['id']}").json["version"] == 1  # nothing half-written
    assert api.call("GET", "/forms/note/records").json["items"] == []
    good = new_ticket(api, "short")
    done = act(api, good, "log", STAFF("ann"))
    notes = api.call("GET", "/forms/note/records").json["items"]
    assert [n["data"]["text"] for n in notes] == ["short"]
    assert [h["kind"] for h in history(api, "note", notes[0]["id"])] == ["create"]
    assert_side_items_match("demo", done["record"])


def test_create_record_step_naming_the_sources_references_is_one_transaction(api):
    """The created record refers to the same client as its source (a second check of one item in one
    transaction is refused by DynamoDB): the checks merge, at create and on an action; a missing
    client is still a 422 naming the field."""
    upload(api, "form", "client", {"title": "Client", "fields": [{"name": "name", "type": "text", "required": True}],
                                   "permissions": EVERYONE})
    ticket_form(api, fields=[{"name": "client", "type": "lookup", "form": "client"}])
    upload(api, "form", "note", {"title": "Note", "fields": [{"name": "text", "type": "text", "required": True},
                                                             {"name": "client", "type": "lookup", "form": "client"}],
                                 "permissions": EVERYONE})
    log = {"Type": "Action", "Steps": [{"CreateRecord": {"Form": "note", "Data": {"text": "title", "client": "client"}}}]}
    upload(api, "workflow", "ticket", {"StartAt": "Log", "States": {
        "Log": {**log, "Next": "Wait"},
        "Wait": {"Type": "Task", "Assignee": {"Users": ["ann"]}, "Actions": {"again": {"Next": "Again"}}},
        "Again": {**log, "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
    client = api.call("POST", "/forms/client/records", body={"data": {"name": "ACME"}}, **STAFF("opener")).json
    made = api.call("POST", "/forms/ticket/records", body={"data": {"title": "Broken door", "client": client["id"]}},
                    **STAFF("opener"))
    assert made.status_code == 201, made.json
    act(api, made.json, "again", STAFF("ann"))
    notes = api.call("GET", "/forms/note/records").json["items"]
    assert sorted(n["data"]["client"] for n in notes) == [client["id"], client["id"]]
    api.call("DELETE", f"/forms/client/records/{client['id']}", headers={"If-Match": "1"}, **STAFF("opener"))
    gone = api.call("POST", "/forms/ticket/records", body={"data": {"title": "Later", "client": client["id"]}},
                    **STAFF("opener"))
    assert gone.status_code == 422, gone.json
    assert {d["path"] for d in gone.json["error"]["details"]} >= {"data.client"}


def test_create_record_step_starts_the_target_forms_workflow(api):
    ticket_form(api)
    upload(api, "form", "note", {"title": "Note", "fields": [{"name": "text", "type": "text", "required": True}],
                                 "permissions": EVERYONE})
    upload(api, "workflow", "note", {"StartAt": "Read", "States": {
        "Read": {"Type": "Task", "Assignee": {"Users": ["reader"]}, "Actions": {"ok": {"Next": "Done"}}},
        "Done": {"Type": "Succeed"}}})
    upload(api, "workflow", "ticket", {"StartAt": "Log", "States": {
        "Log": {"Type": "Action", "Steps": [{"CreateRecord": {"Form": "note", "Data": {"text": "title"}}}], "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
    direct = api.call("POST", "/forms/note/records", body={"data": {"text": "by hand"}}, **STAFF("opener")).json
    assert direct["workflow"]["state"] == "Read"
    new_ticket(api, "from a ticket")
    notes = {n["data"]["text"]: n for n in api.call("GET", "/forms/note/records").json["items"]}
    assert notes["from a ticket"]["workflow"] is not None and notes["from a ticket"]["workflow"]["state"] == "Read"


# --------------------------------------------------------------------------- idempotent create replays

def test_idempotent_replay_with_workflow_creates_tasks_and_related_records_once(api):
    ticket_form(api)
    upload(api, "form", "note", {"title": "Note", "fields": [{"name": "text", "type": "text", "required": True}],
                                 "permissions": EVERYONE})
    upload(api, "workflow", "ticket", {"StartAt": "Log", "States": {
        "Log": {"Type": "Action", "Steps": [{"CreateRecord": {"Form": "note", "Data": {"text": "title"}}}], "Next": "Work"},
        "Work": {"Type": "Task", "Assignee": {"Role": "staff"}, "Actions": {"done": {"Next": "End"}},
                 "Deadlines": [{"Name": "due", "Seconds": 60}]},
        "End": {"Type": "Succeed"}}})
    headers = {"Idempotency-Key": "replay-key-0001"}
    first = new_ticket(api, headers=headers)
    for _ in range(3):
        again = api.call("POST", "/forms/ticket/records", body={"data": {"title": "Broken door"}}, headers=headers,
                         **STAFF("opener"))
        assert again.status_code in (200, 201) and again.json["id"] == first["id"], again.json
    assert [t["record_id"] for t in inbox(api, STAFF("x"))["items"]] == [first["id"]]
    assert len(api.call("GET", "/forms/note/records").json["items"]) == 1
    assert len(api.call("GET", "/forms/ticket/records").json["items"]) == 1
    assert [h["seq"] for h in history(api, "ticket", first["id"])] == [1]
    assert_side_items_match("demo", first)


def test_idempotent_work_order_replay_keeps_one_task(flow_api):
    customer = new_customer(flow_api)
    body = {"data": work_order_data(customer["id"])}
    headers = {"Idempotency-Key": "call-20261125-0001"}
    first = flow_api.call("POST", "/forms/work_order/records", body=body, headers=headers, **AGENT)
    second = flow_api.call("POST", "/forms/work_order/records", body=body, headers=headers, **AGENT)
    assert first.status_code == 201 and second.json["id"] == first.json["id"]
    assert [t["record_id"] for t in inbox(flow_api, SUP)["items"]] == [first.json["id"]]


# --------------------------------------------------------------------------- soft delete & timers

def test_soft_delete_removes_tasks_and_timers_and_scheduler_ignores_it(flow_api):
    from chalicelib.services.workflow import fire_due_timers
    order, created = create_order(flow_api, priority="urgent")
    assert stored_side_items("demo", order.id) != ([], [])
    gone = flow_api.call("DELETE", f"{order.path}?version=1", **SUP)
    assert gone.status_code == 200, gone.json
    assert stored_side_items("demo", order.id) == ([], [])
    assert inbox(flow_api, SUP)["items"] == []
    result = fire_due_timers(_later(days=30))
    assert result == {"fired": 0, "skipped": 0, "failed": 0}
    assert flow_api.call("GET", f"{order.path}/actions", **SUP).status_code == 404
    assert flow_api.call("POST", f"{order.path}/actions/auto_dispatch", body={"version": 2}, **SUP).status_code == 404


def test_timer_item_left_over_for_a_record_deleted_meanwhile_is_dropped(flow_api):
    """A timer item whose record vanished (e.g. deleted by a path that forgot it) is cleaned, not fired."""
    from chalicelib.services.workflow import fire_due_timers
    from chalicelib.storage import keys
    from chalicelib.storage.models import RecordItem
    order, _ = create_order(flow_api, priority="urgent")
    RecordItem(keys.record_pk("demo", order.id), "R").delete()
    result = fire_due_timers(_later(days=30))
    assert result["fired"] == 0 and result["failed"] == 0
    assert stored_side_items("demo", order.id)[1] == []


def test_every_timer_fires_once_and_side_items_track_the_record(flow_api):
    from chalicelib.services.workflow import fire_due_timers
    order, created = create_order(flow_api, priority="urgent")
    order.act("auto_dispatch", SUP)
    first = fire_due_timers(_later(hours=5))
    assert first["failed"] == 0 and first["fired"] >= 3
    assert fire_due_timers(_later(hours=5)) == {"fired": 0, "skipped": 0, "failed": 0}
    record = order.get()
    assert_side_items_match("demo", record)
    entries = history(flow_api, "work_order", order.id, AGENT)
    assert [h["seq"] for h in entries] == list(range(1, record["version"] + 1))
    fired = [h["action"] for h in entries if h["kind"] == "timer"]
    assert fired.count("sla:resolution") == 1 and fired.count("slaremind:resolution") == 1


def test_wait_state_timer_fires_once_then_the_flow_moves_on(api):
    from chalicelib.services.workflow import fire_due_timers
    ticket_form(api)
    upload(api, "workflow", "ticket", {"StartAt": "Pause", "States": {
        "Pause": {"Type": "Wait", "Seconds": 600, "Next": "Work"},
        "Work": {"Type": "Task", "Assignee": {"Users": ["ann"]}, "Actions": {"done": {"Next": "End"}}},
        "End": {"Type": "Succeed"}}})
    ticket = new_ticket(api)
    assert ticket["workflow"]["state"] == "Pause" and inbox(api, STAFF("ann"))["items"] == []
    act(api, ticket, "done", STAFF("ann"), expect=409)
    assert fire_due_timers(_later(minutes=5))["fired"] == 0  # not due yet
    assert fire_due_timers(_later(minutes=11))["fired"] == 1
    assert fire_due_timers(_later(minutes=12))["fired"] == 0
    record = api.call("GET", f"/forms/ticket/records/{ticket['id']}").json
    assert record["workflow"]["state"] == "Work" and record["version"] == 2
    assert [t["record_id"] for t in inbox(api, STAFF("ann"))["items"]] == [ticket["id"]]
    assert_side_items_match("demo", record)


# --------------------------------------------------------------------------- versions

def test_running_records_keep_their_workflow_version(api):
    ticket_form(api)
    v1 = upload(api, "workflow", "ticket", {"StartAt": "Old", "States": {
        "Old": {"Type": "Task", "Assignee": {"Users": ["ann"]}, "Editable": ["note"], "Actions": {"finish": {"Next": "End"}}},
        "End": {"Type": "Succeed"}}})["version"]
    old = new_ticket(api, "old")
    v2 = upload(api, "workflow", "ticket", {"StartAt": "New", "States": {
        "New": {"Type": "Task", "Assignee": {"Users": ["bob"]}, "Actions": {"close": {"Next": "End"}}},
        "End": {"Type": "Succeed"}}})["version"]
    assert v2 == v1 + 1
    new = new_ticket(api, "new")
    assert (old["workflow"]["version"], new["workflow"]["version"]) == (v1, v2)
    path = f"/forms/ticket/records/{old['id']}"
    assert [a["action"] for a in api.call("GET", f"{path}/actions", **STAFF("ann")).json["actions"]] == ["finish"]
    # v1's Editable still rules the old record
    assert api.call("PATCH", path, body={"version": 1, "data": {"title": "x"}}, **STAFF("ann")).status_code == 403
    act(api, old, "close", STAFF("bob"), expect=403)
    done = act(api, old, "finish", STAFF("ann"))
    assert done["record"]["workflow"] == {**done["record"]["workflow"], "version": v1, "status": "succeeded"}
    act(api, new, "close", STAFF("bob"))
    diagram = api.call("GET", f"/workflows/ticket/diagram?version={v1}").json
    assert {s["name"] for s in diagram["states"]} == {"Old", "End"}


# --------------------------------------------------------------------------- tenant isolation

def test_inbox_history_actions_and_diagram_are_tenant_scoped(flow_api):
    order, _ = create_order(flow_api)
    other = dict(tenant="other", user="sup.north", roles=["supervisor", "admin"])
    assert inbox(flow_api, other)["items"] == []
    for method, suffix, body in (("GET", "/history", None), ("GET", "/actions", None),
                                 ("POST", "/actions/auto_dispatch", {"version": 1})):
        response = flow_api.call(method, f"{order.path}{suffix}", body=body, **other)
        assert response.status_code == 404, (suffix, response.status_code, response.json)
    assert flow_api.call("GET", "/workflows/work_order/diagram", **other).status_code == 404
    # a cursor from one caller is useless to another
    for _ in range(3):
        create_order(flow_api)
    page = inbox(flow_api, SUP, limit=1)
    stolen = flow_api.call("GET", f"/tasks?limit=1&cursor={page['next_cursor']}", tenant="other", user="sup.north",
                           roles=["supervisor"])
    assert stolen.status_code == 400
    assert order.get()["version"] == 1


# --------------------------------------------------------------------------- history has no gaps

def test_history_has_one_entry_per_version_across_mixed_writes(flow_api):
    order, _ = create_order(flow_api)
    patched = flow_api.call("PATCH", order.path, body={"version": 1, "data": {"priority": "high"}}, **SUP)
    assert patched.status_code == 200
    order.version = 2
    order.act("auto_dispatch", SUP)
    order.act("reject", ZHANG, comment="busy")
    entries = history(flow_api, "work_order", order.id, AGENT)
    assert [h["seq"] for h in entries] == list(range(1, order.version + 1))
    assert [h["kind"] for h in entries] == ["create", "update", "action", "action"]
    assert_side_items_match("demo", order.get())


# --------------------------------------------------------------------------- timers follow the data

def test_raising_the_priority_arms_its_deadline_and_a_moved_date_moves_the_wait(api):
    from chalicelib.services.workflow import fire_due_timers
    ticket_form(api, fields=[{"name": "priority", "type": "select", "options": [{"value": "low"}, {"value": "urgent"}]},
                             {"name": "visit_at", "type": "datetime"}])
    by = {"Field": "priority", "Map": {"urgent": 3600}}
    upload(api, "workflow", "ticket", {"StartAt": "Triage", "Deadlines": [{"Name": "sla", "SecondsBy": by}], "States": {
        "Triage": {"Type": "Task", "Assignee": {"Users": ["ann"]}, "Editable": ["priority", "visit_at"],
                   "Deadlines": [{"Name": "respond", "SecondsBy": by, "RemindBefore": 600}], "Actions": {"plan": {"Next": "Visit"}}},
        "Visit": {"Type": "Wait", "TimestampField": "visit_at", "Next": "Done",
                  "Edits": [{"Fields": ["visit_at"], "Roles": ["staff"]}]},
        "Done": {"Type": "Succeed"}}})
    made = api.call("POST", "/forms/ticket/records", body={"data": {"title": "Door", "priority": "low"}}, **STAFF("opener")).json
    assert made["workflow"]["timers"] == []
    path = f"/forms/ticket/records/{made['id']}"
    raised = api.call("PATCH", path, body={"version": 1, "data": {"priority": "urgent"}}, **STAFF("ann"))
    assert raised.status_code == 200, raised.json
    timers = {t["name"]: t for t in raised.json["workflow"]["timers"]}
    assert set(timers) == {"sla:sla", "deadline:respond", "remind:respond"}
    assert_side_items_match("demo", raised.json)
    visit = _later(days=3)
    planned = api.call("PATCH", path, body={"version": 2, "data": {"visit_at": visit}}, **STAFF("ann")).json
    act(api, planned, "plan", STAFF("ann"))
    record = api.call("GET", path).json
    assert record["workflow"]["state"] == "Visit"
    assert [t["due_at"] for t in record["workflow"]["timers"] if t["name"] == "wait"] == [visit]
    sooner = _later(hours=1)
    moved = api.call("PATCH", path, body={"version": record["version"], "data": {"visit_at": sooner}}, **STAFF("opener"))
    assert moved.status_code == 200, moved.json
    assert [t["due_at"] for t in moved.json["workflow"]["timers"] if t["name"] == "wait"] == [sooner]
    assert_side_items_match("demo", moved.json)
    assert fire_due_timers(_later(hours=2))["fired"] >= 1  # the moved wait is due now, not in three days
    assert api.call("GET", path).json["workflow"]["state"] == "Done"
