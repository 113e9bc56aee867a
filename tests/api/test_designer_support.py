"""What the designers need from the API (issue 15's server support): a draft checked as an upload
would be, nothing stored (problems with JSON paths, dependants, warnings, the form's JSON Schema or the
workflow's diagram as preview); one expression checked against a form and evaluated on sample data;
the changes between two versions; publishing with a migration of the live records."""
PERMS = {"create": ["agent"], "read": ["agent"], "update": ["agent"], "delete": ["agent"]}
AGENT = dict(user="agent.li", roles=["agent"])
NOTE = {"title": "Note", "fields": [{"name": "text", "type": "text", "required": True},
                                   {"name": "lines", "type": "subtable", "fields": [
                                       {"name": "qty", "type": "number"}, {"name": "price", "type": "money"}]},
                                   {"name": "level", "type": "select", "options": [{"value": "a"}, {"value": "b"}]}],
        "permissions": PERMS}
FLOW = {"StartAt": "Open", "States": {
    "Open": {"Type": "Task", "Assignee": {"Role": "agent"}, "Editable": ["level"], "Actions": {"close": {"Next": "Done"}}},
    "Done": {"Type": "Succeed"}}}


def upload(api, kind, name, body, publish=True):
    r = api.call("POST", f"/definitions/{kind}/{name}/versions" + ("" if publish else "?publish=false"), body=body)
    assert r.status_code == 201, r.json
    return r.json["version"]


def test_a_draft_is_checked_and_previewed_without_being_stored(api):
    good = api.call("POST", "/definitions/form/note/check", body=NOTE).json
    assert good["valid"] and good["problems"] == []
    assert set(good["preview"]["json_schema"]["properties"]) >= {"text", "lines", "level"}
    assert api.call("GET", "/definitions/form/note").status_code == 404  # nothing stored
    bad = api.call("POST", "/definitions/form/note/check", body={**NOTE, "fields": NOTE["fields"] + [
        {"name": "when", "type": "dat"}, {"name": "text", "type": "text"}]}).json
    assert not bad["valid"] and bad["preview"] is None
    assert {p["path"] for p in bad["problems"]} >= {"fields[3]"}, bad["problems"]
    upload(api, "form", "note", NOTE)
    upload(api, "workflow", "note", FLOW)
    dropping = api.call("POST", "/definitions/form/note/check", body={**NOTE, "fields": NOTE["fields"][:2]}).json
    assert not dropping["valid"] and dropping["problems"][0]["dependant"]["kind"] == "workflow"
    diagram = api.call("POST", "/definitions/workflow/note/check", body={**FLOW, "States": {
        **FLOW["States"], "Open": {**FLOW["States"]["Open"], "Actions": {"close": {"Next": "Review"}}},
        "Review": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"ok": {"Next": "Done"}}}}}).json
    assert diagram["valid"] and [s["name"] for s in diagram["preview"]["diagram"]["states"]] == ["Open", "Done", "Review"]
    assert api.call("GET", "/definitions/workflow/note").json["latest"] == 1
    unreachable = api.call("POST", "/definitions/workflow/note/check", body={**FLOW, "States": {
        **FLOW["States"], "Lost": {"Type": "Succeed"}}}).json
    assert not unreachable["valid"] and unreachable["problems"] == [{"path": "States.Lost", "message": "unreachable from StartAt"}]
    assert api.call("POST", "/definitions/form/note/check", body=NOTE, **AGENT).status_code == 403


def test_an_expression_is_checked_as_you_type(api):
    upload(api, "form", "note", NOTE)

    def check(**body):
        r = api.call("POST", "/forms/note/expressions/check", body=body)
        assert r.status_code == 200, r.json
        return r.json

    ok = check(expression="sum(lines.qty) > 2 and level == 'a'", data={"lines": [{"qty": 2}, {"qty": 1}], "level": "a"})
    assert ok == {"valid": True, "error": None, "fields": ["level", "lines"], "variables": [], "value": True}
    typo = check(expression="levle == 'a'")
    assert not typo["valid"] and typo["error"]["position"] == 0 and "did you mean 'level'" in typo["error"]["message"]
    broken = check(expression="level == ")
    assert not broken["valid"] and broken["error"]["position"] is not None
    row = check(expression="qty * price", rows="lines", data={"qty": 3, "price": 2.5})
    assert row["valid"] and row["fields"] == ["price", "qty"] and str(row["value"]) in ("7.5", "7.50")
    failing = check(expression="1 / 0", data={})
    assert not failing["valid"] and failing["error"]["message"]
    assert api.call("POST", "/forms/note/expressions/check", body={"expression": "1", "rows": "level"}).status_code == 422
    assert api.call("POST", "/forms/nope/expressions/check", body={"expression": "1"}).status_code == 404


def test_an_expression_is_checked_against_a_draft_form_never_published(api):
    """The designer checks as the author types before the form's first version: the draft rides along."""
    def check(status=200, **body):
        r = api.call("POST", "/forms/fresh/expressions/check", body=body)
        assert r.status_code == status, r.json
        return r.json

    assert check(404, expression="level == 'a'")["error"]["details"][0]["path"] == "form"  # no draft: the published form
    draft = {**NOTE, "fields": NOTE["fields"] + [{"type": "number"}, {"name": 7}, "junk"]}  # half-drawn fields are left out
    ok = check(expression="sum(lines.qty) > 2 and level == 'a'", definition=draft,
               data={"lines": [{"qty": 2}, {"qty": 1}], "level": "a"})
    assert ok == {"valid": True, "error": None, "fields": ["level", "lines"], "variables": [], "value": True}
    typo = check(expression="text != '' and levle == 'a'", definition=draft)
    # the same error and position as against a published form
    assert not typo["valid"] and typo["error"]["position"] == 15 and "did you mean 'level'" in typo["error"]["message"]
    row = check(expression="qty * price", rows="lines", definition=draft)
    assert row["valid"] and row["fields"] == ["price", "qty"]
    assert check(422, expression="1", rows="level", definition=draft)["error"]["details"][0]["path"] == "rows"
    assert check(422, expression="1", definition=[])["error"]["details"][0]["path"] == "definition"
    assert check(422, expression="1", definition={"fields": {}})["error"]["details"][0]["path"] == "definition.fields"
    # a published form: the draft wins (a field the draft adds is known, one it drops is not)
    upload(api, "form", "note", NOTE)
    added = {**NOTE, "fields": [{"name": "urgent", "type": "checkbox"}]}
    assert api.call("POST", "/forms/note/expressions/check", body={"expression": "urgent", "definition": added}).json["valid"]
    dropped = api.call("POST", "/forms/note/expressions/check", body={"expression": "level", "definition": added}).json
    assert not dropped["valid"] and dropped["error"]["position"] == 0
    assert api.call("POST", "/forms/fresh/expressions/check", body={"expression": "1", "definition": NOTE}, **AGENT).status_code == 403


def test_the_changes_between_two_versions(api):
    upload(api, "form", "note", NOTE)
    changed = {**NOTE, "fields": [{"name": "title", "type": "text"}, {**NOTE["fields"][0], "max_length": 80},
                                  NOTE["fields"][2]]}
    upload(api, "form", "note", changed, publish=False)
    diff = api.call("GET", "/definitions/form/note/diff?from=1&to=2").json
    assert {(c["op"], c["path"]) for c in diff["changes"]} == {
        ("remove", "/fields/1"), ("add", "/fields/0"), ("add", "/fields/1/max_length")}, diff["changes"]
    assert api.call("GET", "/definitions/form/note/diff?from=1").status_code == 400
    assert api.call("GET", "/definitions/form/note/diff?from=1&to=9").status_code == 404


def test_publishing_with_a_migration_moves_the_live_records(api):
    upload(api, "form", "note", NOTE)
    upload(api, "workflow", "note", FLOW)
    made = [api.call("POST", "/forms/note/records", body={"data": {"text": f"n{i}"}}, **AGENT).json["id"] for i in range(3)]
    renamed = {"StartAt": "Working", "States": {"Working": FLOW["States"]["Open"], "Done": {"Type": "Succeed"}}}
    version = upload(api, "workflow", "note", renamed, publish=False)
    impact = api.call("POST", f"/definitions/workflow/note/versions/{version}/publish",
                      body={"migrate": {"dry_run": True, "state_map": {"Open": "Working"}}}).json
    assert impact["migration"]["counts"]["moved"] == 3 and impact["migration"]["dry_run"]
    published = api.call("POST", f"/definitions/workflow/note/versions/{version}/publish",
                         body={"migrate": {"state_map": {"Open": "Working"}}}).json
    assert published["published"] == version and published["migration"]["counts"]["moved"] == 3
    assert {api.call("GET", f"/forms/note/records/{rid}", **AGENT).json["workflow"]["state"] for rid in made} == {"Working"}
    assert api.call("POST", f"/definitions/workflow/note/versions/{version}/publish").status_code == 200  # no body: as before
    refused = api.call("POST", f"/definitions/workflow/note/versions/{version}/publish", body={"migrate": "all"})
    assert refused.status_code == 422 and refused.json["error"]["details"][0]["path"] == "migrate"
