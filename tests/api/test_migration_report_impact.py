"""Issue 15's change impact, its last figure: the reports whose numbers a new version would rebuild. A
migration job (dry run or real) lists the tenant's reports over the form whose figures the move changes
— per report its title, why (what it reads that the move changes) and how many of the walked records
move between its groups — computed by the report engine on each record as stored and as the move
writes it; what the definitions alone say (a field the new form version removes, a state name a
`$state` test uses that the new workflow drops) too. A real migration then changes those reports'
numbers through the stream exactly as listed, and leaves the others as they were."""
from tests.api.test_reports_api import deliver, stream_event

PERMS = {"create": ["agent"], "read": ["agent", "lead"], "update": ["agent"], "delete": ["agent"], "report": ["lead"]}
AGENT = dict(user="agent.li", roles=["agent"])
TICKET = {"title": "Ticket", "fields": [{"name": "title", "type": "text", "required": True},
                                       {"name": "priority", "type": "select", "options": [{"value": "low"}, {"value": "high"}]},
                                       {"name": "hours", "type": "number"}],
          "indexes": ["priority"], "permissions": PERMS}
FLOW = {"StartAt": "Open", "States": {
    "Open": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"start": {"Next": "Working"}}},
    "Working": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"done": {"Next": "Done"}}},
    "Done": {"Type": "Succeed"}}}
RENAMED = {"StartAt": "Open", "States": {  # Working is renamed InProgress
    "Open": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"start": {"Next": "InProgress"}}},
    "InProgress": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"done": {"Next": "Done"}}},
    "Done": {"Type": "Succeed"}}}
BY_STATE = {"form": "ticket", "title": "Tickets per state", "translations": {"zh-CN": {"title": "各状态工单"}},
            "dimensions": [{"name": "state", "field": "$state"}], "measures": [{"name": "tickets", "op": "count"}]}
BY_PRIORITY = {"form": "ticket", "title": "Tickets per priority", "dimensions": [{"name": "priority", "field": "priority"}],
               "measures": [{"name": "tickets", "op": "count"}, {"name": "hours", "op": "sum", "field": "hours"}]}
IN_WORK = {"form": "ticket", "title": "Hours in work", "filter": "$state == 'Working'",
           "measures": [{"name": "tickets", "op": "count"}, {"name": "hours", "op": "sum", "field": "hours"}]}
LEAD = dict(user="lead.wu", roles=["lead"])


def upload(api, kind, name, body, publish=True):
    r = api.call("POST", f"/definitions/{kind}/{name}/versions" + ("" if publish else "?publish=false"), body=body)
    assert r.status_code == 201, r.json
    return r.json["version"]


def rows(api, report, by):
    r = api.call("GET", f"/reports/{report}", **LEAD)
    assert r.status_code == 200, r.json
    return {row[by] if by else "all": row["tickets"] for row in r.json["rows"]}


def setup(api):
    upload(api, "form", "ticket", TICKET)
    upload(api, "workflow", "ticket", FLOW)
    made = []
    for title, priority, moves in (("open", "low", []), ("working", "high", ["start"]), ("closed", "low", ["start", "done"]),
                                   ("working low", "low", ["start"])):
        data = {"title": title, "priority": priority, **({"hours": 2} if moves else {})}  # "open" has no hours yet
        rec = api.call("POST", "/forms/ticket/records", body={"data": data}, **AGENT).json
        for action in moves:
            rec = api.call("POST", f"/forms/ticket/records/{rec['id']}/actions/{action}", body={"version": rec["version"]},
                           **AGENT).json["record"]
        made.append(rec["id"])
    for name, body in (("tickets_by_state", BY_STATE), ("tickets_by_priority", BY_PRIORITY), ("hours_in_work", IN_WORK)):
        upload(api, "report", name, body)
    # each report's first view builds it (serving from then on: the stream keeps it)
    assert rows(api, "tickets_by_state", "state") == {"Open": 1, "Working": 2, "Done": 1}
    assert rows(api, "tickets_by_priority", "priority") == {"low": 3, "high": 1}
    assert rows(api, "hours_in_work", None) == {"all": 2}
    return made


def test_the_impact_lists_the_reports_a_renamed_state_rebuilds_and_the_migration_rebuilds_them(api):
    made = setup(api)
    version = upload(api, "workflow", "ticket", RENAMED, publish=False)
    dry = api.call("POST", "/forms/ticket/migrations",
                   body={"workflow_version": version, "state_map": {"Working": "InProgress"}, "dry_run": True}).json
    assert dry["status"] == "done" and dry["counts"]["moved"] == 4, dry
    listed = {r["report"]: r for r in dry["reports"]}
    assert set(listed) == {"tickets_by_state", "hours_in_work"}  # tickets_by_priority reads no state: its numbers stay
    by_state = listed["tickets_by_state"]
    assert (by_state["title"], by_state["records"], by_state["regrouped"], by_state["remeasured"]) == ("Tickets per state", 2, 2, 0)
    assert by_state["why"] == [{"input": "$state", "kind": "state", "read_by": ["dimension:state"], "records": 2,
                                "states": {"Working": {"InProgress": 2}}}]
    assert by_state["moves"] == [{"from": ["Working"], "to": ["InProgress"], "records": 2}]
    in_work = listed["hours_in_work"]
    assert (in_work["records"], in_work["regrouped"]) == (2, 2)  # they leave the report by its filter
    assert in_work["moves"] == [{"from": [], "to": None, "records": 2}]
    assert {(w["kind"], w["records"]) for w in in_work["why"]} == {("state", 2), ("state_named", 0)}
    named = next(w for w in in_work["why"] if w["kind"] == "state_named")
    assert named["names"] == ["Working"] and named["read_by"] == ["filter"]
    assert dry["reads"] == {"records": 4, "reports": 4}  # the registry and the three report versions, once
    zh = api.call("GET", f"/forms/ticket/migrations/{dry['id']}", headers={"Accept-Language": "zh-CN"}).json
    assert {r["report"]: r["title"] for r in zh["reports"]}["tickets_by_state"] == "各状态工单"
    assert by_state["titles"] == {"en": "Tickets per state", "zh-CN": "各状态工单"}  # a page may switch language
    # nothing was written: the report still counts Working
    deliver(stream_event("demo", made))
    assert rows(api, "tickets_by_state", "state") == {"Open": 1, "Working": 2, "Done": 1}

    # publishing with the mapping: the same figures, then the stream rebuilds exactly those numbers
    published = api.call("POST", f"/definitions/workflow/ticket/versions/{version}/publish",
                         body={"migrate": {"state_map": {"Working": "InProgress"}}}).json
    job = published["migration"]
    assert not job["dry_run"] and job["counts"]["moved"] == 4
    assert {r["report"]: (r["records"], r["regrouped"]) for r in job["reports"]} == {
        "tickets_by_state": (2, 2), "hours_in_work": (2, 2)}
    deliver(stream_event("demo", made))
    assert rows(api, "tickets_by_state", "state") == {"Open": 1, "InProgress": 2, "Done": 1}
    assert rows(api, "hours_in_work", None) == {}
    assert rows(api, "tickets_by_priority", "priority") == {"low": 3, "high": 1}  # not listed, not changed
    again = api.call("POST", "/forms/ticket/migrations", body={"state_map": {"Working": "InProgress"}}).json
    assert again["counts"]["already"] == 4 and again["reports"] == []  # nobody moves: no report changes


def test_a_form_version_that_retypes_a_field_and_a_value_the_migration_sets(api):
    made = setup(api)
    # the new form version: priority a plain text (was a select), hours now required (the migration gives one)
    fields = [{"name": "priority", "type": "text"} if f["name"] == "priority" else
              {**f, "required": True} if f["name"] == "hours" else f for f in TICKET["fields"]]
    version = upload(api, "form", "ticket", {**TICKET, "fields": fields}, publish=False)
    needing = api.call("POST", "/forms/ticket/migrations", body={"to_version": version, "dry_run": True}).json
    assert needing["counts"]["needs_values"] == 1 and needing["counts"]["moved"] == 3  # "open" has no hours
    by_priority = next(r for r in needing["reports"] if r["report"] == "tickets_by_priority")
    assert by_priority["records"] == 0 and by_priority["why"] == [{  # listed from the definitions alone
        "input": "priority", "kind": "retyped", "read_by": ["dimension:priority"], "records": 0,
        "types": {"from": "select", "to": "text"}}]
    dry = api.call("POST", "/forms/ticket/migrations", body={"to_version": version, "set": {"hours": "1"}, "dry_run": True}).json
    assert dry["counts"]["moved"] == 4, dry
    listed = {r["report"]: r for r in dry["reports"]}
    assert set(listed) == {"tickets_by_priority"}  # no record changes state; the Working ones keep their hours
    impact = listed["tickets_by_priority"]
    assert (impact["records"], impact["regrouped"], impact["remeasured"], impact["moves"]) == (1, 0, 1, [])
    assert [(w["input"], w["kind"], w["records"], w["read_by"]) for w in impact["why"]] == [
        ("hours", "value", 1, ["measure:hours"]), ("priority", "retyped", 0, ["dimension:priority"])]
    job = api.call("POST", f"/definitions/form/ticket/versions/{version}/publish",
                   body={"migrate": {"set": {"hours": "1"}}}).json["migration"]
    assert [(r["report"], r["records"]) for r in job["reports"]] == [("tickets_by_priority", 1)]
    deliver(stream_event("demo", made))
    hours = {row["priority"]: row["hours"] for row in api.call("GET", "/reports/tickets_by_priority", **LEAD).json["rows"]}
    assert {k: int(v) for k, v in hours.items()} == {"low": 5, "high": 2}  # was 4 and 2: the open ticket's hour
    assert rows(api, "tickets_by_state", "state") == {"Open": 1, "Working": 2, "Done": 1}
