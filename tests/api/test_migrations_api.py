"""Records follow their definitions (issue 16): POST /forms/{form}/migrations moves a form's records to
a newer form and workflow version as a paged, restartable job — a record that would need a value or
rests in a state the new workflow lacks is reported and left as it is; a state map moves workflow
states with tasks and timers planned anew; one transaction and one history entry per record; a dry run
writes nothing; a restarted job moves nobody twice."""
import pytest

PERMS = {"create": ["agent"], "read": ["agent", "lead"], "update": ["agent"], "delete": ["agent"]}
AGENT = dict(user="agent.li", roles=["agent"])
TICKET = {"title": "Ticket", "fields": [{"name": "title", "type": "text", "required": True},
                                       {"name": "priority", "type": "select", "options": [{"value": "low"}, {"value": "high"}]}],
          "indexes": ["priority"], "permissions": PERMS}
FLOW = {"StartAt": "Open", "States": {
    "Open": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"start": {"Next": "Working"}}},
    "Working": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"done": {"Next": "Done"}},
                "Deadlines": [{"Name": "finish", "Seconds": 3600, "Escalate": [{"Notify": {"Role": "lead"}}]}]},
    "Done": {"Type": "Succeed"}}}
FLOW_V2 = {"StartAt": "Open", "States": {
    "Open": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"start": {"Next": "InProgress"}}},
    "InProgress": {"Type": "Task", "Assignee": {"Role": "lead"}, "Actions": {"review": {"Next": "Review"}}},
    "Review": {"Type": "Approval", "Mode": "single", "Approvers": {"Role": "lead"}, "OnApprove": "Auto", "OnReject": "InProgress"},
    "Auto": {"Type": "Action", "Steps": [{"SetFields": {"title": "title"}}], "Next": "Done"},
    "Done": {"Type": "Succeed"}}}


def upload(api, kind, name, body, publish=True):
    r = api.call("POST", f"/definitions/{kind}/{name}/versions" + ("?publish=true" if publish else ""), body=body)
    assert r.status_code == 201, r.json
    return r.json["version"]


@pytest.fixture
def tickets(api):
    upload(api, "form", "ticket", TICKET)
    upload(api, "workflow", "ticket", FLOW)
    made = {}
    for title, priority, moves in (("open", "low", []), ("working", "high", ["start"]), ("closed", "low", ["start", "done"]),
                                   ("working low", "low", ["start"])):
        rec = api.call("POST", "/forms/ticket/records", body={"data": {"title": title, "priority": priority}}, **AGENT).json
        for action in moves:
            rec = api.call("POST", f"/forms/ticket/records/{rec['id']}/actions/{action}", body={"version": rec["version"]},
                           **AGENT).json["record"]
        made[title] = rec["id"]
    return made


def migrate(api, expect=201, **body):
    r = api.call("POST", "/forms/ticket/migrations", body=body)
    assert r.status_code in ((200, 201) if expect == 201 else (expect,)), r.json
    return r.json


def record(api, rid):
    return api.call("GET", f"/forms/ticket/records/{rid}").json


def test_refused_requests_name_the_field(tickets, api):
    upload(api, "workflow", "ticket", FLOW_V2)
    cases = [({"to_version": 9}, "to_version"), ({"workflow_version": 7}, "workflow_version"),
             ({"filter": {"title": "x"}}, "filter.title"), ({"state_map": {"Working": "Nowhere"}}, "state_map.Working"),
             ({"state_map": {"Working": "Auto"}}, "state_map.Working"), ({"set": {"nope": "'x'"}}, "set.nope"),
             ({"set": {"title": "titel"}}, "set.title"), ({"bogus": 1}, "bogus")]
    for body, path in cases:
        r = api.call("POST", "/forms/ticket/migrations", body=body)
        assert r.status_code == 422 and path in [d["path"] for d in r.json["error"]["details"]], (body, r.json)
    assert api.call("POST", "/forms/ticket/migrations", body={}, **AGENT).status_code == 403


def test_a_new_required_field_and_a_renamed_state(tickets, api):
    v2 = upload(api, "form", "ticket", {**TICKET, "fields": TICKET["fields"] + [
        {"name": "category", "type": "select", "required": True, "options": [{"value": "general"}, {"value": "hardware"}]}]})
    wf2 = upload(api, "workflow", "ticket", FLOW_V2)
    # the impact first: nothing written
    dry = migrate(api, dry_run=True)
    assert dry["status"] == "done" and dry["counts"] == {**dry["counts"], "seen": 4, "needs_values": 4, "moved": 0}
    assert {p["kind"] for p in dry["problems"]} == {"needs_values"}
    assert any(d["path"].endswith("category") for d in dry["problems"][0]["details"]), dry["problems"][0]["details"]
    assert record(api, tickets["open"])["form_version"] == 1
    # with a value for the new field: the renamed state has no mapping yet
    dry = migrate(api, dry_run=True, set={"category": "'general'"})
    assert dry["counts"] == {**dry["counts"], "moved": 2, "needs_state": 2}  # Open and Done stay; Working is gone
    assert {(p["state"], p["kind"]) for p in dry["problems"]} == {("Working", "needs_state")}
    job = migrate(api, set={"category": "'general'"}, state_map={"Working": "InProgress"})
    assert job["status"] == "done" and job["counts"] == {**job["counts"], "seen": 4, "moved": 4, "needs_state": 0}
    assert job["by_state"] == {"Open": {"Open": 1}, "Working": {"InProgress": 2}, "Done": {"Done": 1}}
    working = record(api, tickets["working"])
    assert (working["form_version"], working["workflow"]["version"], working["workflow"]["state"]) == (v2, wf2, "InProgress")
    assert working["data"]["category"] == "general"
    assert working["workflow"]["assignees"] == ["role:lead"]  # planned as the engine enters the state
    assert {t["name"] for t in working["workflow"]["timers"]} == set()  # v1's state deadline went with the state
    lead_inbox = api.call("GET", "/tasks", user="lead.wu", roles=["lead"]).json["items"]
    assert {t["record_id"] for t in lead_inbox} == {tickets["working"], tickets["working low"]}
    assert not any(t["record_id"] == tickets["working"] for t in api.call("GET", "/tasks", **AGENT).json["items"])
    closed = record(api, tickets["closed"])
    assert closed["workflow"]["status"] == "succeeded" and closed["form_version"] == v2
    history = api.call("GET", f"/forms/ticket/records/{tickets['working']}/history").json["items"]
    assert history[-1]["kind"] == "migrate" and history[-1]["from"] == "Working" and history[-1]["to"] == "InProgress"
    assert "form v1 → v2" in history[-1]["comment"] and "workflow v1 → v2" in history[-1]["comment"]
    # the new version's rules now apply: the moved open record's `start` leads where version 2 says
    opened = record(api, tickets["open"])
    r = api.call("POST", f"/forms/ticket/records/{tickets['open']}/actions/start", body={"version": opened["version"]}, **AGENT)
    assert r.status_code == 200 and r.json["transition"]["to"] == "InProgress", r.json
    again = migrate(api, set={"category": "'general'"}, state_map={"Working": "InProgress"})
    assert again["counts"] == {**again["counts"], "seen": 4, "already": 4, "moved": 0}


def test_filters_and_states_narrow_the_job_and_a_restart_moves_nobody_twice(tickets, api, monkeypatch):
    upload(api, "form", "ticket", {**TICKET, "fields": TICKET["fields"] + [{"name": "note", "type": "text"}]})
    from chalicelib.services import migrations
    only = migrate(api, filter={"priority": "low"}, states=["Working"])
    assert only["counts"] == {**only["counts"], "seen": 3, "moved": 1, "skipped": 2}
    assert record(api, tickets["working low"])["form_version"] == 2 and record(api, tickets["working"])["form_version"] == 1
    # a job that stops after every page, and whose progress is then lost once: the page is done again
    monkeypatch.setattr(migrations, "INLINE_SECONDS", 0.0)
    monkeypatch.setattr(migrations, "PAGE", 1)
    job = migrate(api)
    assert job["status"] == "running" and job["counts"]["seen"] == 0
    from chalicelib.storage import migrations as store
    migrations.advance("demo", job["id"], 0.001)  # one page
    stored = store.get_job("demo", job["id"])
    assert stored["counts"]["seen"] == 1
    body = {k: v for k, v in stored.items() if k not in ("id", "form", "status", "rev", "created_at")}
    assert store.save_job("demo", job["id"], "ticket", "running", {**body, "cursor": None, "counts": {k: 0 for k in migrations.COUNTS}},
                          stored["created_at"], rev=stored["rev"])
    assert migrations.continue_running()["advanced"] >= 1
    done = api.call("GET", f"/forms/ticket/migrations/{job['id']}").json
    assert done["status"] == "done" and done["counts"] == {**done["counts"], "seen": 4, "moved": 3, "already": 1}
    for rid in tickets.values():
        history = api.call("GET", f"/forms/ticket/records/{rid}/history").json["items"]
        assert [h["kind"] for h in history].count("migrate") == 1, history
    assert api.call("GET", f"/forms/ticket/migrations/{job['id']}", tenant="other").status_code == 404
    assert api.call("GET", "/forms/ticket/migrations/nope").status_code == 404
