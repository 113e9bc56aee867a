"""What may change, and when, holds in every workflow state (issue: integrity and security).

Before: a field's edit rules applied only while a Task state ran. After an order was closed, or while it
waited in an Approval, anyone with the form's `update` grant rewrote any writable field; fields the
platform sets could be supplied by clients; a requester could approve (or delegate) their own request."""
from .helpers import AGENT, Order, new_customer, new_work_order
from .test_uploads_api import ZHANG, on_site_order, sign
from .test_workflow_e2e import SUP, _part, _stocked_warehouse

ADMIN = dict(user="admin", roles=["admin"])
MANAGER = dict(user="mgr.zhao", roles=["manager"])


def _closed_order(api):
    order = on_site_order(api)
    order.patch(ZHANG, service_report="Replaced the valve")
    sign(order)
    order.act("complete", ZHANG)
    order.act("close", AGENT, data={"phone_rating": 5, "phone_comment": "Quick"})
    record = order.get()
    assert record["workflow"]["status"] == "succeeded" and record["workflow"]["state"] == "Closed"
    return order


def test_a_closed_order_is_read_only_but_for_the_audited_admin_correction(flow_api):
    order = _closed_order(flow_api)
    data = order.get()["data"]
    assert (data["satisfaction_rating"], data["satisfaction_comment"]) == (5, "Quick")  # the phone rating, set by the flow
    # the engineer who still holds the form's update grant and whose order it is
    for field, value in (("service_report", "rewritten"), ("assigned_engineer", "eng.chen"), ("first_time_fix", False)):
        error = order.patch(ZHANG, expect=403, **{field: value})
        assert error["code"] == "record_locked" and error["details"] == [{"path": f"data.{field}", "message": "not editable in Closed"}]
    assert order.patch(ZHANG, expect=422, satisfaction_rating=1)["details"] == [
        {"path": "data.satisfaction_rating", "message": "is set by the platform and cannot be written"}]
    assert order.patch(AGENT, expect=403, serial_number="SN-2")["code"] == "record_locked"
    # the admin may correct what the Closed state names, with a comment; nothing else
    assert order.patch(ADMIN, expect=403, service_report="x")["code"] == "field_not_editable"
    assert order.patch(ADMIN, expect=422, serial_number="SN-2")["code"] == "comment_required"
    response = flow_api.call("PATCH", order.path, body={"version": order.version, "data": {"serial_number": "SN-2"},
                                                        "comment": "Typo in the serial number (customer called)"}, **ADMIN)
    assert response.status_code == 200, response.json
    last = flow_api.call("GET", f"{order.path}/history", **ADMIN).json["items"][-1]
    assert (last["kind"], last["correction"], last["comment"], last["changed_fields"]) == (
        "update", True, "Typo in the serial number (customer called)", ["serial_number"])
    # uploads into a closed order are refused the same way (the same rule, not a special case)
    declared = flow_api.call("POST", f"{order.path}/uploads", body={"field": "fault_photos", "content_type": "image/png",
                                                                    "size": 10}, **ZHANG)
    assert declared.status_code == 403 and declared.json["error"]["code"] == "record_locked"


def _waiting_for_parts_approval(api):
    order = on_site_order(api)
    part, warehouse = _part(api), _stocked_warehouse(api)
    order.post("parts", ZHANG, expect=201, part=part, quantity=3, warehouse=warehouse)
    asked = order.act("request_parts", ZHANG)
    assert asked["transition"]["to"] == "PartsApproval"
    return order


def test_nothing_changes_through_patch_while_an_approval_is_pending(flow_api):
    order = _waiting_for_parts_approval(flow_api)
    assert order.patch(ZHANG, expect=403, service_report="done while waiting")["code"] == "not_assignee"
    # reassigning the engineer would have made the approval unreachable for its approver
    assert order.patch(SUP, expect=403, assigned_engineer="eng.chen")["code"] == "field_not_editable"
    assert order.patch(ADMIN, expect=403, priority="low")["code"] == "not_assignee"
    assert order.actions(SUP) == ["approve", "reject", "delegate"]
    order.act("approve", SUP)
    assert order.get()["workflow"]["state"] == "OnSite"


def test_server_owned_fields_cannot_be_supplied_on_create_or_update(flow_api):
    customer = new_customer(flow_api)
    for field, value in (("completed_at", "2026-12-01T10:00:00Z"), ("accepted_at", "2026-12-01T10:00:00Z"),
                         ("satisfaction_rating", 5), ("survey_status", "answered"), ("rejected_engineers", "eng.zhang,"),
                         ("parts_approved", True)):
        response = flow_api.call("POST", "/forms/work_order/records", body={"data": {
            "customer": customer["id"], "fault_description": "x", "service_address": "y", "region": "north",
            field: value}}, **AGENT)
        assert response.status_code == 422, (field, response.json)
        assert response.json["error"]["details"] == [{"path": f"data.{field}", "message": "is set by the platform and cannot be written"}]
    order = Order(flow_api, new_work_order(flow_api, customer["id"]))
    assert order.patch(SUP, expect=422, completed_at="2026-12-01T10:00:00Z")["details"][0]["path"] == "data.completed_at"
    schema = flow_api.call("GET", "/forms/work_order/schema", **AGENT).json
    assert schema["properties"]["completed_at"]["readOnly"] is True and schema["properties"]["customer_signature"]["readOnly"] is True


def test_an_approval_is_never_decided_or_delegated_by_the_requester_or_the_engineer(flow_api):
    order = _waiting_for_parts_approval(flow_api)
    # the supervisor may not hand the approval to the engineer who asked for the parts
    error = order.act("delegate", SUP, expect=403, delegate_to="eng.zhang")
    assert error["code"] == "separation_of_duties"
    # nor to a member who could never have been assigned it: the rule names the region's supervisor,
    # then the workflow's Fallback (the admin desk); another region's supervisor cannot even open the order
    flow_api.call("PUT", "/members/sup.backup", body={"roles": ["supervisor"], "active": True}, **ADMIN)
    flow_api.call("PUT", "/members/clerk.wu", body={"roles": ["agent"], "active": True}, **ADMIN)
    flow_api.call("PUT", "/members/desk.backup", body={"roles": ["admin"], "active": True}, **ADMIN)
    for outsider in ("clerk.wu", "sup.backup"):
        error = order.act("delegate", SUP, expect=422, delegate_to=outsider)
        assert error["details"][0]["path"] == "delegate_to"
    order.act("delegate", SUP, delegate_to="desk.backup")
    backup = dict(user="desk.backup", roles=["admin"])
    assert order.actions(backup) == ["approve", "reject", "delegate"]
    # an admin who is the order's engineer cannot approve it either
    engineer_admin = dict(user="eng.zhang", roles=["engineer", "admin"])
    registered = flow_api.call("PUT", "/members/eng.zhang", body={"display_name": "Zhang San", "roles": engineer_admin["roles"]},
                               **ADMIN)
    assert registered.status_code == 200  # the registry makes them an admin too (a token alone only narrows it)
    if order.get(ADMIN)["workflow"]["status"] == "running":
        assert order.act("approve", engineer_admin, expect=403)["code"] == "separation_of_duties"
    order.act("approve", backup)
    assert order.get()["data"]["parts_approved"] is True


def test_edit_rules_are_checked_at_upload(flow_api):
    """Edits naming unknown, computed or server-owned fields are refused with their paths."""
    import json
    wf = json.load(open("definitions/after_sales/workflows/work_order.json"))
    wf["States"]["Closed"]["Edits"] = [{"Fields": ["completed_at", "parts_total", "no_such"], "Roles": ["admin"]},
                                       {"Fields": ["serial_number"], "UserFields": ["priority"]}]
    wf["States"]["PartsApproval"]["SeparationOfDuties"] = {"ExcludeFields": ["region"]}
    response = flow_api.call("POST", "/definitions/workflow/work_order/versions?publish=false", body=wf, **ADMIN)
    assert response.status_code == 422
    paths = {d["path"] for d in response.json["error"]["details"]}
    assert {"States.Closed.Edits[0].Fields[0]", "States.Closed.Edits[0].Fields[1]", "States.Closed.Edits[0].Fields[2]",
            "States.Closed.Edits[1].UserFields[0]", "States.PartsApproval.SeparationOfDuties.ExcludeFields[0]"} <= paths, paths


def test_the_actions_listing_says_what_the_caller_may_edit_now(flow_api):
    order = on_site_order(flow_api)
    listing = flow_api.call("GET", f"{order.path}/actions", **ZHANG).json
    assert "service_report" in listing["editable"]["fields"] and listing["editable"]["comment_required"] == []
    assert flow_api.call("GET", f"{order.path}/actions", **AGENT).json["editable"] == {"fields": [], "comment_required": []}


def test_the_actions_listing_says_what_an_admin_may_correct(flow_api):
    closed = _closed_order(flow_api)
    admin = flow_api.call("GET", f"{closed.path}/actions", **ADMIN).json["editable"]
    assert "serial_number" in admin["fields"] and admin["comment_required"] == admin["fields"]


def test_the_access_explanation_names_what_the_state_lets_a_member_edit(flow_api):
    order = on_site_order(flow_api)
    why = flow_api.call("GET", f"{order.path}/access?user=eng.zhang", **ADMIN).json
    assert "service_report" in why["workflow"]["editable"]["fields"] and "priority" not in why["workflow"]["editable"]["fields"]
    assert flow_api.call("GET", f"{order.path}/access?user=agent.li", **ADMIN).json["workflow"]["editable"]["fields"] == []
