"""The workflow designer's dry run (issue 15): POST /workflows/{name}/dry-run tells what an action on a
chosen record would do — on the published workflow, a stored version or an unsaved draft — through the
same planning as the action route, and writes nothing: the states passed through (a Choice's matched
rule, an Action's steps), where the record comes to rest, the tasks and who they resolve to, timers set
and cleared, values changed, effects; refusals as problems with their JSON paths."""
import copy
import json

from .helpers import AGENT, SUPERVISOR, new_customer, new_work_order

CLAIM = {"title": "Claim", "fields": [
    {"name": "reason", "type": "text"}, {"name": "amount", "type": "number"},
    {"name": "approved", "type": "checkbox"}],
    "permissions": {"create": ["agent"], "read": ["agent", "manager"], "update": ["agent"], "delete": ["agent"]}}
CLAIM_FLOW = {"StartAt": "Open", "Deadlines": [{"Name": "overall", "Label": "Overall", "Seconds": 86400}], "States": {
    "Open": {"Type": "Task", "Assignee": {"Role": "agent"}, "Editable": ["reason", "amount"],
             "Actions": {"submit": {"Next": "Check", "Requires": ["reason", "amount"]}},
             "Deadlines": [{"Name": "first_look", "Seconds": 3600}]},
    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.amount", "NumericGreaterThan": 1000, "Next": "Approve"}],
              "Default": "AutoOk"},
    "Approve": {"Type": "Approval", "Label": "Manager approval", "Mode": "single", "Approvers": {"Role": "manager"},
                "OnApprove": "Done", "OnReject": "Open", "Deadlines": [{"Name": "decide", "Label": "Decision", "Seconds": 7200}]},
    "AutoOk": {"Type": "Action", "Steps": [{"SetFields": {"approved": "true"}}, {"EmitEvent": "claim.auto_approved"}],
               "Next": "Done"},
    "Done": {"Type": "Succeed"}}}
MANAGER = dict(user="mgr.zhao", roles=["manager"])
DRY = "/workflows/{}/dry-run"


def upload(api, kind, name, body):
    r = api.call("POST", f"/definitions/{kind}/{name}/versions", body=body)
    assert r.status_code == 201, r.json
    return r.json["version"]


def dry(api, name, expect=200, **body):
    r = api.call("POST", DRY.format(name), body=body)
    assert r.status_code == expect, r.json
    return r.json if expect == 200 else r.json["error"]


def stored(api, form, record_id):
    """The record as stored and its history: what a dry run must leave as it was."""
    rec = api.call("GET", f"/forms/{form}/records/{record_id}").json
    history = api.call("GET", f"/forms/{form}/records/{record_id}/history").json["items"]
    return rec, history


def claim_app(api):
    upload(api, "form", "claim", CLAIM)
    upload(api, "workflow", "claim", CLAIM_FLOW)
    r = api.call("POST", "/forms/claim/records", body={"data": {"reason": "Cracked screen"}}, **AGENT)
    assert r.status_code == 201 and r.json["workflow"]["state"] == "Open", r.json
    return r.json


def test_a_dry_run_through_a_choice_tells_the_path_and_writes_nothing(demo_api):
    api = demo_api
    claim = claim_app(api)
    before = stored(api, "claim", claim["id"])

    big = dry(api, "claim", record_id=claim["id"], action="submit", as_user="agent.li", data={"amount": 5000})
    assert big["allowed"] and big["problems"] == [] and big["written"] is False
    assert big["workflow"] == {"name": "claim", "version": 1, "draft": False}
    assert big["record"] == {"id": claim["id"], "number": None, "version": 1, "state": "Open", "status": "running"}
    assert big["actor"] == {"user": "agent.li", "roles": ["agent"]}
    assert [(s["state"], s["type"]) for s in big["path"]] == [("Check", "Choice"), ("Approve", "Approval")]
    assert big["path"][0]["choice"] == {"rule": 0, "next": "Approve", "matched": "amount > 1000",
                                        "json_path": "States.Check.Choices[0]"}
    assert big["end"] == {"state": "Approve", "label": "Manager approval", "type": "Approval", "status": "running", "error": None}
    [task] = big["tasks"]
    assert task["assignee"] == "role:manager" and task["kind"] == "approval" and task["new"] and "mgr.zhao" in task["members"]
    assert [t["name"] for t in big["timers"]["set"]] == ["deadline:decide"]
    assert big["timers"]["set"][0]["label"] == "Decision" and task["due_at"] == big["timers"]["set"][0]["due_at"]
    assert [t["name"] for t in big["timers"]["cleared"]] == ["deadline:first_look"]
    assert [t["name"] for t in big["timers"]["kept"]] == ["sla:overall"]
    assert big["changes"] == [{"field": "amount", "before": None, "after": 5000}]
    kinds = {(e["kind"], e["detail"].get("kind") or e["detail"].get("type")) for e in big["effects"]}
    assert ("notification", "approval.requested") in kinds and ("outbound_event", "workflow.transitioned") in kinds
    assert next(e for e in big["effects"] if e["kind"] == "notification")["detail"]["to"] == "role:manager"

    small = dry(api, "claim", record_id=claim["id"], action="submit", as_user="agent.li", data={"amount": 10})
    assert [s["state"] for s in small["path"]] == ["Check", "AutoOk", "Done"]
    assert small["path"][0]["choice"] == {"rule": None, "next": "AutoOk", "matched": None, "json_path": "States.Check.Default"}
    assert [s["kind"] for s in small["path"][1]["steps"]] == ["SetFields", "EmitEvent"]
    assert small["end"]["state"] == "Done" and small["end"]["status"] == "succeeded" and small["tasks"] == []
    assert {t["name"] for t in small["timers"]["cleared"]} == {"deadline:first_look", "sla:overall"}
    assert {c["field"]: c["after"] for c in small["changes"]} == {"amount": 10, "approved": True}
    assert {"kind": "event", "text": "event claim.auto_approved",
            "detail": {"type": "claim.auto_approved", "custom": True}} in small["effects"]

    assert stored(api, "claim", claim["id"]) == before  # same version, same history: nothing written
    assert api.call("GET", "/tasks", **MANAGER).json["items"] == []
    assert api.call("GET", "/notifications", **MANAGER).json["items"] == []


def test_refusals_are_problems_at_their_paths(demo_api):
    api = demo_api
    claim = claim_app(api)
    missing = dry(api, "claim", record_id=claim["id"], action="submit", as_user="agent.li")
    assert not missing["allowed"] and missing["path"] == [] and missing["end"] is None
    assert [(p["kind"], p["code"], p["path"]) for p in missing["problems"]] == [
        ("required", "action_requires_fields", "data.amount")]  # reason has a value already
    assert missing["start"] == {"state": "Open", "label": "Open", "type": "Task"}
    not_theirs = dry(api, "claim", record_id=claim["id"], action="submit", as_user="mgr.zhao", data={"amount": 5})
    assert [(p["kind"], p["code"], p["path"]) for p in not_theirs["problems"]] == [
        ("permission", "field_not_writable", "data.amount")]  # a manager reads claims, never writes them
    no_data = dry(api, "claim", record_id=claim["id"], action="submit", as_user="mgr.zhao")
    assert [(p["kind"], p["code"]) for p in no_data["problems"]] == [("permission", "not_assignee")]
    elsewhere = dry(api, "claim", record_id=claim["id"], action="approve", as_user="agent.li")
    assert [(p["kind"], p["code"], p["path"]) for p in elsewhere["problems"]] == [("state", "action_not_available", "action")]
    bad_value = dry(api, "claim", record_id=claim["id"], action="submit", as_user="agent.li", data={"amount": "lots"})
    assert [(p["kind"], p["path"]) for p in bad_value["problems"]] == [("data", "data.amount")]


def test_the_shipped_work_order_on_its_published_version_and_on_a_draft_with_a_new_state(flow_api):
    api = flow_api
    order = new_work_order(api, new_customer(api)["id"], priority="high")
    before = stored(api, "work_order", order["id"])
    published = dry(api, "work_order", record_id=order["id"], action="auto_dispatch", as_user="sup.north")
    assert [s["state"] for s in published["path"]] == ["AutoDispatch", "AwaitAcceptance"]
    assert published["path"][0]["steps"] == [{"kind": "Dispatch", "text": "assigned_engineer"}]
    assert [(t["assignee"], t["members"]) for t in published["tasks"]] == [("user:eng.zhang", ["eng.zhang"])]
    assert published["changes"] == [{"field": "assigned_engineer", "before": None, "after": "eng.zhang"}]
    assert [t["name"] for t in published["timers"]["set"]] == ["deadline:acceptance"]
    assert {t["name"] for t in published["timers"]["cleared"]} == {"deadline:response", "remind:response"}
    assert any(e["kind"] == "dispatch" and e["detail"]["user"] == "eng.zhang" for e in published["effects"])
    assert any(e["detail"].get("kind") == "task.assigned" and e["detail"]["to"] == "user:eng.zhang" for e in published["effects"])
    missing = dry(api, "work_order", record_id=order["id"], action="assign", as_user="sup.north")
    assert [(p["code"], p["path"]) for p in missing["problems"]] == [("action_requires_fields", "data.assigned_engineer")]

    # a draft: Review's automatic dispatch first goes through a new Choice (urgent orders only)
    head = api.call("GET", "/definitions/workflow/work_order").json
    draft = copy.deepcopy(api.call("GET", f"/definitions/workflow/work_order/versions/{head['published']}").json["definition"])
    draft["States"]["Triage"] = {"Type": "Choice", "Choices": [
        {"Variable": "$.priority", "StringEquals": "urgent", "Next": "AutoDispatch"}], "Default": "ManualDispatch"}
    draft["States"]["Review"]["Actions"]["auto_dispatch"]["Next"] = "Triage"
    tried = dry(api, "work_order", record_id=order["id"], action="auto_dispatch", as_user="sup.north", definition=draft)
    assert tried["workflow"] == {"name": "work_order", "version": None, "draft": True}
    assert [s["state"] for s in tried["path"]] == ["Triage", "ManualDispatch"]
    assert tried["path"][0]["choice"]["json_path"] == "States.Triage.Default"
    assert tried["end"]["state"] == "ManualDispatch" and [t["assignee"] for t in tried["tasks"]] == ["user:sup.north"]
    assert tried["changes"] == []
    urgent = copy.deepcopy(draft)
    urgent["States"]["Triage"]["Choices"][0]["StringEquals"] = "high"
    fast = dry(api, "work_order", record_id=order["id"], action="auto_dispatch", as_user="sup.north", definition=urgent)
    assert [s["state"] for s in fast["path"]] == ["Triage", "AutoDispatch", "AwaitAcceptance"]
    assert fast["path"][0]["choice"]["matched"] == 'priority == "high"'
    # the draft was not stored, the order not touched
    assert api.call("GET", "/definitions/workflow/work_order").json["latest"] == head["latest"]
    assert stored(api, "work_order", order["id"]) == before
    assert api.call("GET", "/tasks", user="eng.zhang", roles=["engineer"]).json["items"] == []


def test_drafts_and_versions_the_record_does_not_fit(flow_api):
    api = flow_api
    order = new_work_order(api, new_customer(api)["id"])
    head = api.call("GET", "/definitions/workflow/work_order").json
    base = api.call("GET", f"/definitions/workflow/work_order/versions/{head['published']}").json["definition"]
    renamed = json.loads(json.dumps(base).replace('"Review"', '"Triage"'))
    refused = dry(api, "work_order", 409, record_id=order["id"], action="auto_dispatch", definition=renamed)
    assert refused["code"] == "state_not_in_workflow" and "Review" in refused["message"] and "the draft" in refused["message"]
    assert refused["details"][0]["state"] == "Review"
    broken = copy.deepcopy(base)
    broken["States"]["Review"]["Actions"]["auto_dispatch"]["Next"] = "Nowhere"
    invalid = dry(api, "work_order", 400, record_id=order["id"], action="auto_dispatch", definition=broken)
    assert invalid["code"] == "draft_invalid"
    assert any(d["path"].startswith("States.Review.Actions.auto_dispatch") for d in invalid["details"]), invalid["details"]
    assert dry(api, "work_order", 404, record_id=order["id"], action="assign", version=99)["details"][0]["path"] == "version"
    both = dry(api, "work_order", 422, record_id=order["id"], action="assign", version=1, definition=base)
    assert both["details"][0]["path"] == "version"
    unknown = dry(api, "work_order", 422, record_id=order["id"], action="assign", extra=True)
    assert unknown["details"][0]["path"] == "extra"
    assert dry(api, "work_order", 422, record_id=order["id"], action="assign", as_user="nobody.here")["code"] == "unknown_member"


def test_who_may_dry_run_and_on_which_records(flow_api):
    from chalicelib.seed import install_app
    api = flow_api
    order = new_work_order(api, new_customer(api)["id"])
    body = {"record_id": order["id"], "action": "auto_dispatch"}
    assert api.call("POST", DRY.format("work_order"), body=body, **SUPERVISOR).status_code == 403  # designers only
    install_app("other")
    elsewhere = api.call("POST", DRY.format("work_order"), body=body, tenant="other", user="mallory", roles=["admin"])
    assert elsewhere.status_code == 404 and "Compressor" not in elsewhere.body.decode()  # another tenant's record
    assert dry(api, "work_order", 404, record_id="01ARZ3NDEKTSV4RRFFQ69G5FAV", action="assign")["code"] == "not_found"
    assert dry(api, "nope", 404, record_id=order["id"], action="assign")["details"][0]["path"] == "name"
    # the acting member must be able to read the record: the engineer is not assigned to it yet
    unseen = dry(api, "work_order", record_id=order["id"], action="auto_dispatch", as_user="eng.zhang")
    assert [(p["kind"], p["code"], p["path"]) for p in unseen["problems"]] == [("permission", "cannot_read", "as_user")]
    mine = dry(api, "work_order", **body)  # the admin themself: not an assignee, an admin may take any step
    assert mine["allowed"] and mine["actor"]["user"] == "admin"


def test_an_approval_vote_and_a_delegation(demo_api):
    api = demo_api
    claim = claim_app(api)
    moved = api.call("POST", f"/forms/claim/records/{claim['id']}/actions/submit", body={"version": 1, "data": {"amount": 5000}}, **AGENT)
    assert moved.status_code == 200 and moved.json["record"]["workflow"]["state"] == "Approve", moved.json
    before = stored(api, "claim", claim["id"])
    vote = dry(api, "claim", record_id=claim["id"], action="approve", as_user="mgr.zhao")
    assert vote["allowed"] and vote["start"]["type"] == "Approval" and [s["state"] for s in vote["path"]] == ["Done"]
    assert vote["end"]["status"] == "succeeded" and {t["name"] for t in vote["timers"]["cleared"]} == {"deadline:decide", "sla:overall"}
    rejected = dry(api, "claim", record_id=claim["id"], action="reject", as_user="mgr.zhao")
    assert [(p["kind"], p["path"]) for p in rejected["problems"]] == [("required", "comment")]
    back = dry(api, "claim", record_id=claim["id"], action="reject", as_user="mgr.zhao", comment="Not covered")
    assert back["end"]["state"] == "Open" and [t["assignee"] for t in back["tasks"]] == ["role:agent"]
    # a delegation is checked as its write checks it: an active member holding the approvers' role
    elsewhere = dry(api, "claim", record_id=claim["id"], action="delegate", as_user="mgr.zhao", delegate_to="sup.north")
    assert [(p["path"], p["message"]) for p in elsewhere["problems"]] == [
        ("delegate_to", "user sup.north is not an active member with role manager")]
    assert stored(api, "claim", claim["id"]) == before
