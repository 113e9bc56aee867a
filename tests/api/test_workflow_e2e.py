"""The shipped work-order workflow end to end through the HTTP API (chalice test client + moto)."""
from datetime import datetime, timedelta, timezone

from .helpers import AGENT, Order, new_customer, new_work_order

SUP = dict(user="sup.north", roles=["supervisor"])
ZHANG = dict(user="eng.zhang", roles=["engineer"])
CHEN = dict(user="eng.chen", roles=["engineer"])
MANAGER = dict(user="mgr.zhao", roles=["manager"])
SIGNATURE = {"key": "t/demo/sig.png", "content_type": "image/png", "size": 2048}


def _patch(api, order, who, **data):
    """`order.patch` returning the new version (kept for test_surveys_api)."""
    return order.patch(who, **data)["version"]


def _sign(api, order, who):
    """The customer signs on the engineer's phone: a signature upload, confirmed (binds the report)."""
    from chalicelib.storage import files
    png = b"\x89PNG\r\n\x1a\n" + b"s" * 64
    declared = api.call("POST", f"{order.path}/uploads", body={"field": "customer_signature", "content_type": "image/png",
                                                               "size": len(png)}, **who)
    assert declared.status_code == 201, declared.json
    files.client().put_object(Bucket=files.bucket(), Key=declared.json["key"], Body=png, ContentType="image/png")
    confirmed = order.post(f"uploads/{declared.json['upload_id']}/confirm", who)
    assert confirmed["data"]["customer_signature"]["signed_sha256"], confirmed
    return confirmed["version"]


def create_order(api, **extra):
    created = new_work_order(api, new_customer(api)["id"], **extra)
    return Order(api, created), created


def test_full_lifecycle(flow_api):
    order, created = create_order(flow_api, priority="high", warranty_status="out_of_warranty", service_location=SITE)
    wf = created["workflow"]
    assert wf["state"] == "Review" and wf["assignees"] == ["user:sup.north"]  # routed by region
    assert {t["name"] for t in wf["timers"]} == {"sla:resolution", "slaremind:resolution", "deadline:response", "remind:response"}
    assert order.actions(ZHANG) == []
    assert order.act("auto_dispatch", ZHANG, expect=404)["code"] == "not_found"  # not his order: he cannot see it
    assert order.actions(SUP) == ["auto_dispatch", "assign", "cancel"]

    moved = order.act("auto_dispatch", SUP)
    assert moved["transition"]["path"] == ["Review", "AutoDispatch", "AwaitAcceptance"]
    assert moved["record"]["data"]["assigned_engineer"] == "eng.zhang"  # higher skill wins
    inbox = flow_api.call("GET", "/tasks", **ZHANG).json["items"]
    assert [(t["record_id"], t["state"]) for t in inbox] == [(order.id, "AwaitAcceptance")]
    assert flow_api.call("GET", "/tasks", **SUP).json["items"] == []

    assert order.act("reject", ZHANG, expect=422)["details"][0]["path"] == "comment"
    redispatched = order.act("reject", ZHANG, comment="Too far today")
    assert set(redispatched["record"]) == {"id", "version"}  # no longer his order: he sees no more of it
    assert order.get()["data"]["assigned_engineer"] == "eng.chen"
    assert order.get()["data"]["rejected_engineers"] == "eng.zhang,"
    assert flow_api.call("GET", order.path, **ZHANG).status_code == 404
    assert flow_api.call("GET", "/tasks", **ZHANG).json["items"] == []

    order.act("accept", CHEN)
    assert order.get()["data"]["accepted_at"]
    # checking in on site takes the workflow's `arrive` action in the same write
    arrived = order.post("checkin", CHEN, location=SITE)
    assert arrived["transition"]["to"] == "OnSite" and arrived["flagged"] is False
    # on site: only the assignee edits, and only the fields the state allows
    order.patch(CHEN, expect=403, priority="low")
    part, warehouse = _part(flow_api), _stocked_warehouse(flow_api)
    parts = [{"part": part, "quantity": 3, "unit_price": 900}]
    assert order.patch(CHEN, expect=403, parts_used=parts)["code"] == "field_managed"  # stock moves with the line
    patched = order.post("parts", CHEN, expect=201, part=part, quantity=3, warehouse=warehouse)
    assert patched["record"]["data"]["parts_total"] == 2700, patched
    assert "complete" not in order.actions(CHEN)  # over the limit: parts need approval first
    assert order.act("complete", CHEN, expect=409)["code"] == "action_not_available"

    asked = order.act("request_parts", CHEN)
    assert asked["transition"]["path"] == ["OnSite", "PartsCheck", "PartsApproval"]
    assert order.actions(SUP) == ["approve", "reject", "delegate"]
    order.act("approve", SUP)
    assert order.get()["data"]["parts_approved"] is True and order.get()["workflow"]["state"] == "OnSite"

    missing = order.act("complete", CHEN, expect=422)
    assert {d["path"] for d in missing["details"]} == {"data.service_report", "data.customer_signature"}
    # a hand-written signature value is not a signature: only a confirmed upload writes one
    refused = order.act("complete", CHEN, expect=422, data={"service_report": "Replaced the valve", "customer_signature": SIGNATURE})
    assert refused["details"] == [{"path": "data.customer_signature", "message": "is set by the platform and cannot be written"}]
    order.patch(CHEN, service_report="Replaced the valve")
    order.version = _sign(flow_api, order, CHEN)
    done = order.act("complete", CHEN)
    assert done["transition"]["to"] == "CustomerFeedback"
    assert done["record"]["data"]["completed_at"]
    assert {t["name"] for t in done["record"]["workflow"]["timers"]} == {"deadline:survey_window"}  # resolution SLA stopped

    order.act("close", AGENT, data={"phone_rating": 2, "phone_comment": "Slow"})  # a rating taken by phone
    assert order.get()["workflow"]["state"] == "FollowUp"
    order.act("resolve", MANAGER, comment="Called the customer, offered a discount")
    final = order.get()
    assert final["workflow"]["status"] == "succeeded" and final["workflow"]["state"] == "Closed"
    assert order.actions(MANAGER) == []

    history = flow_api.call("GET", f"{order.path}/history", **AGENT).json["items"]
    assert [h["seq"] for h in history] == list(range(1, final["version"] + 1))  # no gaps
    assert history[0]["kind"] == "create" and history[-1]["to"] == "Closed"
    kinds = [(h["kind"], h.get("action")) for h in history]
    assert ("action", "reject") in kinds and ("update", None) in kinds
    completed = next(h for h in history if h.get("action") == "complete")
    assert completed["emails"] == [{"template": "satisfaction_survey", "to": final["data"]["customer"]}]
    assert {"type": "work_order.completed", "custom": True} in completed["events"]


SITE = {"lat": 31.2304, "lng": 121.4737}


def _stocked_warehouse(api, quantity=10):
    """A central warehouse holding `quantity` of every part made so far by _part (one here)."""
    made = api.call("POST", "/forms/warehouse/records", body={"data": {"code": "N-CENTRAL", "name": "North central",
                                                                       "kind": "central", "region": "north"}}, **SUP)
    assert made.status_code == 201, made.json
    part = api.call("GET", "/forms/spare_part/records", **SUP).json["items"][0]["id"]
    moved = api.call("POST", "/inventory/movements", body={"kind": "receipt", "warehouse": made.json["id"], "part": part,
                                                           "quantity": quantity}, **SUP)
    assert moved.status_code == 201, moved.json
    return made.json["id"]


def _part(api):
    response = api.call("POST", "/forms/spare_part/records", body={"data": {"part_no": "VLV-1", "name": "Valve", "unit_price": 900}},
                        user="sup.north", roles=["supervisor"])
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_dry_run_writes_nothing(flow_api):
    order, _ = create_order(flow_api)
    response = flow_api.call("POST", f"{order.path}/actions/auto_dispatch?dry_run=true", body={"version": 1}, **SUP)
    assert response.status_code == 200 and response.json["dry_run"] is True
    assert response.json["transition"]["to"] == "AwaitAcceptance"
    after = order.get()
    assert after["version"] == 1 and after["workflow"]["state"] == "Review"


def test_stale_version_and_unknown_action(flow_api):
    order, _ = create_order(flow_api)
    order.version = 5
    assert order.act("auto_dispatch", SUP, expect=409)["code"] == "version_conflict"
    order.version = 1
    assert order.act("fly", SUP, expect=409)["code"] == "action_not_available"


def test_no_engineer_falls_back_to_manual_dispatch(flow_api):
    admin = dict(user="admin", roles=["admin"])
    [south] = flow_api.call("GET", "/forms/region/records?filter.code=south", **admin).json["items"]
    flow_api.call("PATCH", f"/forms/region/records/{south['id']}", body={"version": south["version"], "data": {"supervisor": None}}, **admin)
    for user in ("eng.huang", "eng.he"):  # the south's and the west's hvac engineers are off duty
        [eng] = flow_api.call("GET", f"/forms/engineer/records?filter.user={user}", **admin).json["items"]
        flow_api.call("PATCH", f"/forms/engineer/records/{eng['id']}", body={"version": eng["version"], "data": {"on_duty": False}}, **admin)
    order, _ = create_order(flow_api, region="south")
    assert order.get()["workflow"]["assignees"] == ["role:admin"]  # Lookup found nobody: the workflow's Fallback
    moved = order.act("auto_dispatch", admin)  # the desk dispatches it
    assert moved["transition"]["path"][-1] == "ManualDispatch"
    error = order.act("assign", admin, expect=422)
    assert error["code"] == "action_requires_fields"
    order.act("assign", admin, data={"assigned_engineer": "eng.zhang"})
    assert order.get()["workflow"]["assignees"] == ["user:eng.zhang"]


def test_timers_escalate_and_are_safe_to_fire_twice(flow_api):
    from chalicelib.services.workflow import fire_due_timers
    order, created = create_order(flow_api, priority="urgent")
    order.act("auto_dispatch", SUP)
    later = (datetime.now(timezone.utc) + timedelta(hours=1, minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    first = fire_due_timers(later)
    assert first["fired"] >= 1
    again = fire_due_timers(later)
    assert again["fired"] == 0  # consumed: a second run changes nothing
    record = order.get()
    # acceptance deadline (1 h) passed: declined automatically and re-dispatched to the other engineer
    assert record["workflow"]["state"] == "AwaitAcceptance"
    assert record["data"]["assigned_engineer"] == "eng.chen"
    history = flow_api.call("GET", f"{order.path}/history", **AGENT).json["items"]
    timer_entries = [h for h in history if h["kind"] == "timer"]
    assert {h["action"] for h in timer_entries} >= {"deadline:acceptance"}
    breached = [n for h in timer_entries for n in h["notifications"] if n["kind"] == "sla.breached"]
    assert breached, "the response SLA for an urgent order is 30 min; it must have escalated"


def test_definition_checks_at_upload(flow_api):
    bad = {"StartAt": "A", "States": {
        "A": {"Type": "Choice", "Choices": [{"Variable": "$.nope", "StringEquals": "x", "Next": "B"}], "Default": "A2"},
        "A2": {"Type": "Action", "Steps": [{"SetFields": {"priority": "'high'"}}], "Next": "A"},
        "B": {"Type": "Task", "Assignee": {"Field": "region"}, "Actions": {"go": {"Next": "Nowhere"}}},
        "Orphan": {"Type": "Succeed"}}}
    response = flow_api.call("POST", "/definitions/workflow/work_order/versions", body=bad)
    assert response.status_code == 422
    paths = {d["path"] for d in response.json["error"]["details"]}
    assert "States.B.Actions.go.Next" in paths
    bad["States"]["B"]["Actions"]["go"]["Next"] = "Orphan"
    response = flow_api.call("POST", "/definitions/workflow/work_order/versions", body=bad)
    details = {d["path"]: d["message"] for d in response.json["error"]["details"]}
    assert "automatic states" in details["States.A"]
    bad["States"]["A2"]["Next"] = "B"
    response = flow_api.call("POST", "/definitions/workflow/work_order/versions", body=bad)
    details = {d["path"]: d["message"] for d in response.json["error"]["details"]}
    assert "unknown field 'nope'" in details["States.A.Choices[0].Variable"]
    assert "must be of type user" in details["States.B.Assignee.Field"]
    assert flow_api.call("POST", "/definitions/workflow/no_such_form/versions", body=bad).status_code == 422


def test_diagram(flow_api):
    # who may read the records a workflow runs on may see its diagram; others may not
    assert flow_api.call("GET", "/workflows/work_order/diagram", user="guest", roles=["visitor"]).status_code == 403
    assert flow_api.call("GET", "/workflows/work_order/diagram", **AGENT).status_code == 200
    diagram = flow_api.call("GET", "/workflows/work_order/diagram").json
    names = {s["name"] for s in diagram["states"]}
    assert {"Review", "AutoDispatch", "Closed"} <= names
    assert {"from": "Review", "to": "AutoDispatch", "label": "action:auto_dispatch", "text": "Dispatch automatically"} in diagram["edges"]
    # what each resting state offers, for a device working ahead of the server: actions and who edits what
    states = {s["name"]: s for s in flow_api.call("GET", "/workflows/work_order/diagram", user="eng.zhang", roles=["engineer"]).json["states"]}
    assert {a["action"]: (a["next"], a["comment_required"]) for a in states["AwaitAcceptance"]["actions"]} == {
        "accept": ("Accepted", False), "reject": ("Declined", True)}
    complete = next(a for a in states["OnSite"]["actions"] if a["action"] == "complete")
    assert complete["requires"] == ["service_report", "customer_signature"] and complete["conditional"]
    assert "service_report" in states["OnSite"]["edits"][0]["fields"] and states["OnSite"]["edits"][0]["assignees"]
    # a field the reader may not see is not named (the engineer's contract_price is hidden)
    assert all("contract_price" not in r["fields"] for r in states["Review"]["edits"])
    assert "contract_price" in next(s for s in diagram["states"] if s["name"] == "Review")["edits"][0]["fields"]
    assert "actions" not in states["AutoDispatch"] and "edits" not in states["PartsCheck"]


def test_create_record_step_and_approval_modes(api):
    """A tenant-made workflow: CreateRecord writes a related record in the same transaction; a
    countersign approval needs every approver."""
    def upload(kind, name, body):
        response = api.call("POST", f"/definitions/{kind}/{name}/versions", body=body)
        assert response.status_code == 201, response.json
        return response.json

    everyone = {"create": ["*"], "read": ["*"], "update": ["*"], "delete": ["admin"]}
    upload("form", "note", {"title": "Note", "fields": [{"name": "text", "type": "text", "required": True},
                                                       {"name": "ticket", "type": "lookup", "form": "ticket"}],
                            "permissions": everyone})
    upload("form", "ticket", {"title": "Ticket", "fields": [{"name": "title", "type": "text", "required": True},
                                                           {"name": "approved", "type": "checkbox"}],
                              "permissions": everyone})
    warnings = upload("workflow", "ticket", {"StartAt": "Open", "States": {
        "Open": {"Type": "Action", "Steps": [{"CreateRecord": {"Form": "note", "Data": {"text": "concat('opened: ', title)"}}}],
                 "Next": "Sign"},
        "Sign": {"Type": "Approval", "Mode": "all", "Approvers": {"Users": ["ann", "bob"]},
                 "OnApprove": "Approved", "OnReject": "Done"},
        "Approved": {"Type": "Action", "Steps": [{"SetFields": {"approved": "true"}}], "End": True},
        "Done": {"Type": "Succeed"}}})["warnings"]
    assert warnings == []
    created = api.call("POST", "/forms/ticket/records", body={"data": {"title": "Broken door"}}, user="u", roles=["staff"])
    assert created.status_code == 201, created.json
    notes = api.call("GET", "/forms/note/records").json["items"]
    assert [n["data"]["text"] for n in notes] == ["opened: Broken door"]
    path = f"/forms/ticket/records/{created.json['id']}/actions"
    ann = api.call("POST", f"{path}/approve", body={"version": 1}, user="ann", roles=["staff"])
    assert ann.status_code == 200 and ann.json["record"]["workflow"]["state"] == "Sign"  # still waiting for bob
    assert api.call("POST", f"{path}/approve", body={"version": 2}, user="ann", roles=["staff"]).status_code in (403, 409)  # voted already
    assert api.call("POST", f"{path}/approve", body={"version": 2}, user="carl", roles=["staff"]).status_code == 403
    bob = api.call("POST", f"{path}/approve", body={"version": 2}, user="bob", roles=["staff"])
    assert bob.status_code == 200
    assert bob.json["record"]["workflow"]["status"] == "succeeded" and bob.json["record"]["data"]["approved"] is True


def test_raising_priority_moves_the_sla_deadlines(flow_api):
    from datetime import datetime
    order, created = create_order(flow_api, priority="low")
    due = {t["name"]: t["due_at"] for t in created["workflow"]["timers"]}
    assert order.version == 1
    patched = order.patch(SUP, priority="urgent")
    now_due = {t["name"]: t["due_at"] for t in patched["workflow"]["timers"]}
    start = datetime.fromisoformat(created["created_at"].replace("Z", "+00:00"))
    hours = lambda name, table: (datetime.fromisoformat(table[name].replace("Z", "+00:00")) - start).total_seconds() / 3600
    assert hours("deadline:response", due) == 24 and hours("deadline:response", now_due) == 0.5
    assert hours("sla:resolution", due) == 168 and hours("sla:resolution", now_due) == 4
    assert patched["workflow"]["assignees"] == ["user:sup.north"]
    task = flow_api.call("GET", "/tasks", **SUP).json["items"][0]
    assert task["due_at"] == now_due["deadline:response"]  # the inbox shows the new deadline
