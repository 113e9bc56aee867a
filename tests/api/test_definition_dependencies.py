"""An accepted definition must run (issue 16): every upload is checked against the published
definitions it depends on and those that depend on it. What would break a dependant is refused
(422 naming the dependant and its path); what is only suspicious is accepted with a warning."""
import json
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "definitions" / "after_sales"
ADMIN = dict(user="admin", roles=["admin"])
EVERYONE = {"create": ["*"], "read": ["*"], "update": ["*"], "delete": ["staff"]}
TICKET = {"title": "Ticket", "fields": [{"name": "title", "type": "text", "required": True},
                                        {"name": "owner", "type": "user"},
                                        {"name": "rating", "type": "select", "options": [
                                            {"value": "1", "label": "1"}, {"value": "2", "label": "2"}, {"value": "3", "label": "3"}]}],
          "permissions": EVERYONE}
NOTE = {"title": "Note", "fields": [{"name": "text", "type": "text", "required": True}, {"name": "extra", "type": "text"}],
        "permissions": EVERYONE}


def shipped(kind_folder: str, name: str) -> dict:
    return json.loads((APP / kind_folder / f"{name}.json").read_text())


def upload(api, kind, name, body, expect=201, query=""):
    response = api.call("POST", f"/definitions/{kind}/{name}/versions{query}", body=body, **ADMIN)
    assert response.status_code == expect, (response.status_code, response.json)
    return response.json


def refused(api, kind, name, body) -> list[dict]:
    error = upload(api, kind, name, body, expect=422)["error"]
    assert error["code"] == "invalid_definition"
    assert all(d["message"] for d in error["details"])
    return error["details"]


def latest(api, kind, name) -> int:
    return api.call("GET", f"/definitions/{kind}/{name}", **ADMIN).json["latest"]


def workflow(steps_state: dict, start="Go") -> dict:
    return {"StartAt": start, "States": {**steps_state,
                                         "Work": {"Type": "Task", "Assignee": {"Role": "staff"},
                                                  "Actions": {"done": {"Next": "Done"}}},
                                         "Done": {"Type": "Succeed"}}}


def action(*steps, **extra) -> dict:
    return {"Go": {"Type": "Action", "Steps": list(steps), "Next": "Work", **extra}}


# --------------------------------------------------------------------------- the shipped app

def test_the_shipped_definitions_upload_again_with_no_errors_and_no_warnings(demo_api):
    for kind, folder, name in (("form", "forms", "work_order"), ("form", "forms", "region"),
                               ("workflow", "workflows", "work_order"), ("field_service", "field_services", "work_order"),
                               ("dispatch_policy", "dispatch_policies", "work_order"), ("survey", "surveys", "work_order"),
                               ("email_template", "email_templates", "satisfaction_survey")):
        assert upload(demo_api, kind, name, shipped(folder, name))["warnings"] == [], (kind, name)


def test_a_form_version_that_drops_a_field_its_dependants_use_is_refused_naming_each(demo_api):
    before = latest(demo_api, "form", "work_order")
    form = shipped("forms", "work_order")
    form["fields"] = [f for f in form["fields"] if f["name"] not in ("rejected_engineers", "service_location")]
    details = refused(demo_api, "form", "work_order", form)
    by = {}
    for d in details:
        assert d["path"] == "fields"
        by.setdefault((d["dependant"]["kind"], d["dependant"]["name"]), []).append(d)
    # the engineer's decline writes the list of engineers who declined: it would stop with States.DataError
    declined = [d for d in by[("workflow", "work_order")] if d["dependant"]["path"] == "States.Declined.Steps[0].SetFields.rejected_engineers"]
    assert declined and "workflow work_order" in declined[0]["message"] and "rejected_engineers" in declined[0]["message"]
    assert any(d["dependant"]["path"] == "States.AutoDispatch.Steps[0].Dispatch.Exclude" for d in by[("workflow", "work_order")])
    # check-in and dispatch would lose the site location
    assert any("service_location" in d["message"] for d in by[("field_service", "work_order")])
    assert any("service_location" in d["message"] for d in by[("dispatch_policy", "work_order")])
    assert latest(demo_api, "form", "work_order") == before  # nothing stored


def test_a_form_version_dropping_an_option_a_choice_or_an_sla_map_names_is_refused(demo_api):
    form = shipped("forms", "work_order")
    for field in form["fields"]:
        if field["name"] == "priority":
            field["options"] = [o for o in field["options"] if o["value"] != "urgent"]
        if field["name"] == "warranty_status":
            field["options"] = [o for o in field["options"] if o["value"] != "out_of_warranty"]
    paths = {d["dependant"]["path"] for d in refused(demo_api, "form", "work_order", form)
             if d["dependant"] == {**d["dependant"], "kind": "workflow", "name": "work_order"}}
    assert {"Deadlines[0].SecondsBy.Map.urgent", "States.Review.Deadlines[0].SecondsBy.Map.urgent",
            "States.PartsCheck.Choices[1].Or[1].StringEquals"} <= paths


def test_a_region_form_that_loses_its_supervisor_breaks_the_lookup_and_is_refused(demo_api):
    region = shipped("forms", "region")
    region["fields"] = [f for f in region["fields"] if f["name"] != "supervisor"]
    details = refused(demo_api, "form", "region", region)
    assert any(d["dependant"]["path"] == "States.Review.Assignee.Lookup.UserField" for d in details)
    region = shipped("forms", "region")
    region["indexes"] = []  # the lookup matches on code: without the index it finds nobody
    upload(demo_api, "form", "region", region, expect=422)


def test_a_form_that_takes_read_from_a_task_role_is_accepted_with_a_warning_naming_the_workflow(demo_api):
    form = shipped("forms", "work_order")
    form["permissions"]["read"] = [r for r in form["permissions"]["read"] if r != "agent"]
    warnings = upload(demo_api, "form", "work_order", form)["warnings"]
    customer_feedback = [w for w in warnings if w["dependant"]["path"] == "States.CustomerFeedback.Assignee.Role"]
    assert customer_feedback and customer_feedback[0]["path"] == "permissions"
    assert "workflow work_order" in customer_feedback[0]["message"] and "agent" in customer_feedback[0]["message"]


def test_publishing_an_older_form_version_that_a_workflow_outgrew_is_refused(api):
    upload(api, "form", "ticket", TICKET)
    upload(api, "form", "ticket", {**TICKET, "fields": TICKET["fields"] + [{"name": "closed_at", "type": "datetime"}]})
    upload(api, "workflow", "ticket", workflow(action({"SetFields": {"closed_at": "now()"}})))
    response = api.call("POST", "/definitions/form/ticket/versions/1/publish", **ADMIN)
    assert response.status_code == 422, response.json
    [detail] = response.json["error"]["details"]
    assert detail["dependant"] == {"kind": "workflow", "name": "ticket", "path": "States.Go.Steps[0].SetFields.closed_at"}
    assert api.call("GET", "/definitions/form/ticket", **ADMIN).json["published"] == 2


# --------------------------------------------------------------------------- what a workflow names

def test_create_record_into_a_form_that_cannot_take_it_is_refused(api):
    upload(api, "form", "ticket", TICKET)
    upload(api, "form", "note", NOTE)
    upload(api, "form", "numbered", {"title": "Numbered", "permissions": EVERYONE, "fields": [
        {"name": "no", "type": "auto_number", "format": "N{seq:4}"}, {"name": "text", "type": "text"}]})
    cases = {
        "nope": ({"Form": "nope", "Data": {"text": "title"}}, "States.Go.Steps[0].CreateRecord.Form"),
        "number written": ({"Form": "numbered", "Data": {"text": "title", "no": "'N9'"}}, "States.Go.Steps[0].CreateRecord.Data.no"),
        "unknown field": ({"Form": "note", "Data": {"text": "title", "txet": "title"}}, "States.Go.Steps[0].CreateRecord.Data.txet"),
        "required missing": ({"Form": "note", "Data": {"extra": "title"}}, "States.Go.Steps[0].CreateRecord.Data"),
    }
    for what, (spec, path) in cases.items():
        details = refused(api, "workflow", "ticket", workflow(action({"CreateRecord": spec})))
        assert [d["path"] for d in details] == [path], (what, details)
    upload(api, "workflow", "ticket", workflow(action({"CreateRecord": {"Form": "note", "Data": {"text": "title"}}})))
    # and the other way round: the note form may not drop the field the ticket workflow fills
    details = refused(api, "form", "note", {**NOTE, "fields": [{"name": "body", "type": "text"}]})
    assert {(d["dependant"]["kind"], d["dependant"]["name"], d["dependant"]["path"]) for d in details} == {
        ("workflow", "ticket", "States.Go.Steps[0].CreateRecord.Data.text")}
    numbered = {**NOTE, "fields": NOTE["fields"] + [{"name": "no", "type": "auto_number"}]}
    upload(api, "form", "note", numbered)  # a numbered form takes CreateRecord too: the step draws the number


def test_create_record_into_an_auto_numbered_form_draws_its_number(api):
    upload(api, "form", "ticket", TICKET, query="?publish=true")
    upload(api, "form", "numbered", {"title": "Numbered", "permissions": EVERYONE, "indexes": ["no"], "fields": [
        {"name": "no", "type": "auto_number", "format": "N{seq:4}"}, {"name": "text", "type": "text"}]}, query="?publish=true")
    upload(api, "workflow", "ticket", workflow(action({"CreateRecord": {"Form": "numbered", "Data": {"text": "title"}}})),
           query="?publish=true")
    for title in ("first", "second"):
        assert api.call("POST", "/forms/ticket/records", body={"data": {"title": title}}, **ADMIN).status_code == 201
    listed = api.call("GET", "/forms/numbered/records", **ADMIN).json["items"]
    assert sorted((r["data"]["no"], r["number"], r["data"]["text"]) for r in listed) == [
        ("N0001", "N0001", "first"), ("N0002", "N0002", "second")]
    found = api.call("GET", "/forms/numbered/records?filter.no=N0002", **ADMIN).json["items"]
    assert [r["data"]["text"] for r in found] == ["second"]  # indexed by the number it drew


def test_send_email_lookup_and_dispatch_must_name_published_definitions(api):
    upload(api, "form", "ticket", TICKET)
    upload(api, "form", "desk", {"title": "Desk", "permissions": EVERYONE, "indexes": ["code"], "fields": [
        {"name": "code", "type": "text"}, {"name": "lead", "type": "user"}, {"name": "label", "type": "text"}]})
    details = refused(api, "workflow", "ticket", workflow(action({"SendEmail": {"Template": "missing", "ToField": "owner"}})))
    assert [d["path"] for d in details] == ["States.Go.Steps[0].SendEmail.Template"]
    details = refused(api, "workflow", "ticket", workflow(action({"Dispatch": {"Field": "owner", "Policy": "missing"}})))
    assert [d["path"] for d in details] == ["States.Go.Steps[0].Dispatch.Policy"]

    def with_lookup(lookup):
        wf = workflow(action({"SetFields": {"title": "title"}}))
        wf["States"]["Work"]["Assignee"] = {"Lookup": lookup, "Fallback": {"Role": "staff"}}
        return wf
    good = {"Form": "desk", "MatchField": "code", "ValueField": "title", "UserField": "lead"}
    for change, path in (({"Form": "nowhere"}, "Form"), ({"MatchField": "label"}, "MatchField"),
                         ({"MatchField": "nope"}, "MatchField"), ({"UserField": "label"}, "UserField")):
        details = refused(api, "workflow", "ticket", with_lookup({**good, **change}))
        assert [d["path"] for d in details] == [f"States.Work.Assignee.Lookup.{path}"], change
    upload(api, "workflow", "ticket", with_lookup(good))
    template = {"locales": {"en": {"subject": "Hi", "html": "<p>Hi</p>", "text": "Hi"}}, "default_locale": "en"}
    upload(api, "email_template", "hello", template)
    assert upload(api, "workflow", "ticket", workflow(action({"SendEmail": {"Template": "hello", "ToField": "owner"}})))["warnings"] == []


def test_misspelt_error_names_and_unknown_step_keys_are_refused(api):
    upload(api, "form", "ticket", TICKET)
    details = refused(api, "workflow", "ticket", workflow(action(
        {"Dispatch": {"Field": "owner", "Polcy": "x"}}, {"SendEmail": {"Template": "x", "ToField": "owner", "cc": "boss"}},
        Retry=[{"ErrorEquals": ["Dispatch.Conflict"]}],
        Catch=[{"ErrorEquals": ["Dispatch.NoCandidat"], "Next": "Work"}])))
    paths = {d["path"] for d in details}
    assert {"States.Go.Steps[0].Dispatch.Polcy", "States.Go.Steps[1].SendEmail.cc", "States.Go.Retry[0].ErrorEquals[0]",
            "States.Go.Catch[0].ErrorEquals[0]"} <= paths


def test_a_choice_whose_operator_cannot_match_the_field_is_refused(api):
    upload(api, "form", "ticket", TICKET)
    follow_up = {"Go": {"Type": "Choice", "Choices": [{"Variable": "$.rating", "NumericLessThanEquals": 2, "Next": "Work"}],
                        "Default": "Done"}}
    [detail] = refused(api, "workflow", "ticket", workflow(follow_up))
    assert detail["path"] == "States.Go.Choices[0].NumericLessThanEquals" and "select" in detail["message"]
    follow_up["Go"]["Choices"][0] = {"Variable": "$.rating", "StringEquals": "4", "Next": "Work"}  # not an option
    assert [d["path"] for d in refused(api, "workflow", "ticket", workflow(follow_up))] == ["States.Go.Choices[0].StringEquals"]
    follow_up["Go"]["Choices"][0] = {"Or": [{"Variable": "$.rating", "StringEquals": "1"},
                                            {"Variable": "$.rating", "StringEquals": "2"}], "Next": "Work"}
    upload(api, "workflow", "ticket", workflow(follow_up))


def test_a_survey_naming_a_missing_template_is_refused(demo_api):
    survey = shipped("surveys", "work_order")
    survey["reminder_template"] = "no_such_template"
    assert [d["path"] for d in refused(demo_api, "survey", "work_order", survey)] == ["reminder_template"]


def test_a_workflow_that_drops_the_state_or_mail_its_survey_waits_for_is_refused_or_warned(demo_api):
    raw = shipped("workflows", "work_order")
    renamed = json.loads(json.dumps(raw))
    renamed["States"]["CustomerFeedback"]["Actions"] = {"done": renamed["States"]["CustomerFeedback"]["Actions"]["close"]}
    details = refused(demo_api, "workflow", "work_order", renamed)
    assert [(d["dependant"]["kind"], d["dependant"]["path"]) for d in details] == [("survey", "action")]
    quiet = json.loads(json.dumps(raw))
    quiet["States"]["Completed"]["Steps"] = [s for s in quiet["States"]["Completed"]["Steps"] if "SendEmail" not in s]
    warnings = upload(demo_api, "workflow", "work_order", quiet)["warnings"]
    assert [(w["dependant"]["kind"], w["dependant"]["path"]) for w in warnings] == [("survey", "template")]
    survey = shipped("surveys", "work_order")
    assert [d["path"] for d in refused(demo_api, "survey", "work_order", {**survey, "await_state": "Closed"})] == ["await_state"]


def test_field_service_is_checked_against_the_part_van_and_warehouse_forms_and_they_against_it(demo_api):
    settings = shipped("field_services", "work_order")
    bad = json.loads(json.dumps(settings))
    bad["parts"]["price_field"] = "price"
    bad["parts"]["van"]["warehouse_field"] = "user"
    paths = [d["path"] for d in refused(demo_api, "field_service", "work_order", bad)]
    assert paths == ["parts.price_field", "parts.van.warehouse_field"]
    engineer = shipped("forms", "engineer")
    engineer["fields"] = [f for f in engineer["fields"] if f["name"] != "van_warehouse"]
    details = refused(demo_api, "form", "engineer", engineer)
    assert {"kind": "field_service", "name": "work_order", "path": "parts.van.warehouse_field"} in [d["dependant"] for d in details]


def test_an_email_placeholder_naming_nothing_the_mail_carries_is_warned_at_the_workflow_and_the_template(demo_api):
    """{{order_number}} (the field is order_no) or {{customer.nickname}} would render empty in every
    survey mail: the workflow sending it and the template itself are accepted with a warning each."""
    template = shipped("email_templates", "satisfaction_survey")
    template["locales"]["en"]["subject"] = "Order {{order_number}} for {{customer.nickname}} — {{customer.name}}"
    warnings = upload(demo_api, "email_template", "satisfaction_survey", template)["warnings"]
    messages = sorted(w["message"] for w in warnings if w["dependant"]["kind"] == "workflow")
    assert len(messages) == 2 and "{{customer.nickname}} (en.subject)" in messages[0] and "{{order_number}}" in messages[1]
    assert all(w["dependant"]["name"] == "work_order" and w["dependant"]["path"].endswith(".SendEmail.Template")
               for w in warnings if w["dependant"]["kind"] == "workflow")
    assert "renders empty in every mail" in messages[0]
    # the workflow re-uploaded against that template gets the same warnings, at its SendEmail step
    own = sorted(w["message"] for w in upload(demo_api, "workflow", "work_order", shipped("workflows", "work_order"))["warnings"]
                 if w["path"].endswith(".SendEmail.Template"))
    assert len(own) == 2 and all(mine in theirs for mine, theirs in zip(own, messages))
    template["locales"]["en"]["subject"] = "Order {{order_no}} for {{customer.name}}"  # fixed: no warning left
    assert upload(demo_api, "email_template", "satisfaction_survey", template)["warnings"] == []
