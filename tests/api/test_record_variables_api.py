"""The record's own `$id` and `$number` in expressions, through the API: computed fields and conditions
see them (on a create `$id` is already assigned and `$number` is null: the number is drawn as the record
is stored, so a computed field reading it gets it from the record's next save), workflows see them in
SetFields and action conditions, and uploads accept them where a record exists and refuse them (and
misspellings) where not."""
ADMIN = dict(user="admin", roles=["admin"])
STAFF = dict(user="sam", roles=["staff"])

TICKET = {"title": "Ticket", "fields": [
    {"name": "no", "type": "auto_number", "format": "T-{seq:4}"},
    {"name": "title", "type": "text"},
    {"name": "opened_as", "type": "text"},
    {"name": "ref", "type": "computed", "result": "text",
     "expression": "concat(coalesce($number, 'new'), '/', substring($id, 0, 4))"},
    {"name": "id_length", "type": "computed", "result": "number", "scale": 0, "expression": "len($id)"},
    {"name": "note", "type": "text", "visible_if": "$number != null"}],
    "permissions": {"create": ["admin", "staff"], "read": ["admin", "staff"], "update": ["admin", "staff"]}}

FLOW = {"StartAt": "Go", "States": {
    "Go": {"Type": "Action", "Steps": [{"SetFields": {"opened_as": "coalesce($number, concat('draft ', left($id, 4)))"}}],
           "Next": "Work"},
    "Work": {"Type": "Task", "Assignee": {"Role": "staff"}, "Editable": ["note"],
             "Actions": {"done": {"Next": "Done", "Condition": "right($number, 4) == '0001' and len($id) == 26"}}},
    "Done": {"Type": "Succeed"}}}


def upload(api, kind, name, body, expect=201):
    response = api.call("POST", f"/definitions/{kind}/{name}/versions", body=body, **ADMIN)
    assert response.status_code == expect, (response.status_code, response.json)
    return response.json


def test_computed_fields_conditions_and_workflow_read_the_records_id_and_number(api):
    upload(api, "form", "ticket", TICKET)
    upload(api, "workflow", "ticket", FLOW)
    created = api.call("POST", "/forms/ticket/records", body={"data": {"title": "Leak", "note": "dropped"}}, **STAFF)
    assert created.status_code == 201, created.json
    record = created.json
    assert record["number"] == "T-0001"
    data = record["data"]
    # on the create: $id is known, $number is not yet (so `note`, visible only with a number, keeps no value)
    assert data["ref"] == "new/" + record["id"][:4]
    assert data["id_length"] == 26
    assert "note" not in data
    assert data["opened_as"] == "draft " + record["id"][:4]  # the workflow's SetFields on the create
    path = f"/forms/ticket/records/{record['id']}"
    # the stored record: its action condition reads $number and $id
    actions = api.call("GET", f"{path}/actions", **STAFF).json["actions"]
    assert [a["action"] for a in actions] == ["done"]
    # its next save computes with both
    saved = api.call("PATCH", path, body={"version": record["version"], "data": {"note": "kept"}}, **STAFF)
    assert saved.status_code == 200, saved.json
    assert saved.json["data"]["ref"] == "T-0001/" + record["id"][:4]
    assert saved.json["data"]["note"] == "kept"
    done = api.call("POST", f"{path}/actions/done", body={"version": saved.json["version"]}, **STAFF)
    assert done.status_code == 200, done.json
    assert api.call("GET", path, **STAFF).json["data"]["ref"] == "T-0001/" + record["id"][:4]


def test_a_second_record_fails_the_number_condition(api):
    upload(api, "form", "ticket", TICKET)
    upload(api, "workflow", "ticket", FLOW)
    for _ in range(2):
        record = api.call("POST", "/forms/ticket/records", body={"data": {"title": "x"}}, **STAFF).json
    assert record["number"] == "T-0002"
    assert api.call("GET", f"/forms/ticket/records/{record['id']}/actions", **STAFF).json["actions"] == []


def test_uploads_accept_the_record_variables_and_refuse_unknown_ones(api):
    def problems(body, kind="form"):
        error = upload(api, kind, "ticket", body, expect=422)["error"]
        assert error["code"] == "invalid_definition"
        return {d["path"]: d["message"] for d in error["details"]}

    misspelt = {**TICKET, "fields": [*TICKET["fields"][:3], {**TICKET["fields"][3], "expression": "concat($nmber, '')"}]}
    assert "unknown variable '$nmber' (did you mean '$number'?)" in problems(misspelt)["fields[3].expression"]
    # a row rule is written over data alone: no record variables there
    rows = {**TICKET, "permissions": {**TICKET["permissions"], "rows": {"staff": "$id != null"}}}
    assert "unknown variable '$id'" in problems(rows)["permissions.rows.staff"]
    upload(api, "form", "ticket", TICKET)
    bad_flow = {**FLOW, "States": {**FLOW["States"], "Work": {**FLOW["States"]["Work"], "Actions": {
        "done": {"Next": "Done", "Condition": "$numbr != null"}}}}}
    assert any("unknown variable '$numbr'" in m for m in problems(bad_flow, "workflow").values())
