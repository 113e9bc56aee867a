"""Workflow definitions: pydantic shapes + upload-time graph and field checks, data-driven from
workflow_definition_cases.json (each case: States, optional StartAt/Deadlines, `form` to check field
names against FORM below, the exact set of problem paths, and warning paths)."""
import json
from pathlib import Path

import pytest

from chalicelib.errors import DefinitionError
from chalicelib.forms.definition import parse_form_definition
from chalicelib.workflow import parse_workflow

HERE = Path(__file__).resolve().parent
APP = HERE.parents[1] / "definitions" / "after_sales"
CASES = json.loads((HERE / "workflow_definition_cases.json").read_text())["cases"]

FORM = parse_form_definition({"name": "job", "title": "Job", "fields": [
    {"name": "title", "type": "text"},
    {"name": "priority", "type": "select", "options": [{"value": "high", "label": "High"}, {"value": "low", "label": "Low"}]},
    {"name": "amount", "type": "number"},
    {"name": "owner", "type": "user"},
    {"name": "due", "type": "datetime"},
    {"name": "day", "type": "date"},
    {"name": "notes", "type": "textarea"},
    {"name": "flag", "type": "checkbox"},
]})


def raw_of(case: dict) -> dict:
    raw = {"name": "job", "StartAt": case.get("StartAt", "A"), "States": case["States"]}
    for key in ("Deadlines", "Fallback"):
        if key in case:
            raw[key] = case[key]
    return raw


def test_case_ids_are_unique():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_definition_case(case):
    form = FORM if case.get("form") else None
    if case["problems"]:
        with pytest.raises(DefinitionError) as info:
            parse_workflow(raw_of(case), form=form)
        paths = {p["path"] for p in info.value.details}
        assert paths == set(case["problems"]), info.value.details
        assert all(p["message"] for p in info.value.details)
    else:
        _wf, warnings = parse_workflow(raw_of(case), form=form)
        assert {w["path"] for w in warnings} == set(case.get("warnings", []))


def test_not_an_object():
    with pytest.raises(DefinitionError) as info:
        parse_workflow(["StartAt"])
    assert info.value.details == [{"path": "", "message": "expected object"}]


def test_automatic_loop_message_names_the_cycle():
    raw = {"name": "job", "StartAt": "A", "States": {
        "A": {"Type": "Task", "Assignee": {"Role": "r"}, "Actions": {"go": {"Next": "B"}}},
        "B": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "C"}], "Default": "C"},
        "C": {"Type": "Action", "Steps": [{"EmitEvent": "x"}], "Next": "B"}}}
    with pytest.raises(DefinitionError) as info:
        parse_workflow(raw)
    (problem,) = info.value.details
    assert "B → C → B" in problem["message"]


def test_shipped_work_order_workflow_is_valid_against_its_form():
    form = parse_form_definition(json.loads((APP / "forms" / "work_order.json").read_text()))
    wf, warnings = parse_workflow(json.loads((APP / "workflows" / "work_order.json").read_text()), form=form)
    assert warnings == []
    assert wf.name == form.name == "work_order"
    assert {s.Type for s in wf.States.values()} >= {"Task", "Approval", "Choice", "Action", "Succeed", "Fail"}
    # every state the edges name exists, and the shipped SLA stops at the closing states
    assert {t for _f, t, _l in wf.edges} <= set(wf.States)
    assert set(wf.Deadlines[0].StopAt) == {"Completed", "CustomerFeedback", "Closed", "Cancelled"}


def test_shipped_workflow_with_an_unknown_field_is_rejected_at_its_path():
    form = parse_form_definition(json.loads((APP / "forms" / "work_order.json").read_text()))
    raw = json.loads((APP / "workflows" / "work_order.json").read_text())
    raw["States"]["OnSite"]["Editable"].append("no_such_field")
    with pytest.raises(DefinitionError) as info:
        parse_workflow(raw, form=form)
    assert [p["path"] for p in info.value.details] == [f"States.OnSite.Editable[{len(raw['States']['OnSite']['Editable']) - 1}]"]


def test_edges_cover_every_transition_kind():
    raw = {"name": "job", "StartAt": "A", "Deadlines": [{"Name": "sla", "Seconds": 9, "Escalate": [{"Goto": "F"}]}], "States": {
        "A": {"Type": "Task", "Assignee": {"Role": "r"}, "Actions": {"go": {"Next": "B"}},
              "Deadlines": [{"Name": "d", "Seconds": 5, "Escalate": [{"Goto": "F"}]}]},
        "B": {"Type": "Approval", "Mode": "single", "Approvers": {"Role": "m"}, "OnApprove": "C", "OnReject": "A"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "W"}], "Default": "D"},
        "W": {"Type": "Wait", "Seconds": 5, "Next": "D"},
        "D": {"Type": "Action", "Steps": [{"EmitEvent": "x"}], "Next": "S",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}]},
        "S": {"Type": "Succeed"}, "F": {"Type": "Fail"}}}
    wf, _ = parse_workflow(raw)
    assert set(wf.edges) == {
        ("A", "B", "action:go"), ("A", "F", "deadline:d"), ("B", "C", "approve"), ("B", "A", "reject"),
        ("C", "W", "choice:0"), ("C", "D", "default"), ("W", "D", "wait"), ("D", "S", "next"),
        ("D", "F", "catch:States.ALL"), ("*", "F", "sla:sla")}
