"""`$id` and `$number` (the record's own id and number) in the pure engines: the form engine puts a
record's identity in the context of its computed fields and conditions, the upload checks accept them
where expressions run over one record (fields, workflows, reports) and refuse them in row rules, and a
report's record context carries them."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from chalicelib.errors import DefinitionError
from chalicelib.forms.definition import FIELD_VARIABLES, RECORD_VARIABLES, parse_form_definition
from chalicelib.forms.engine import record_variables, validate_record
from chalicelib.reports.contribution import record_context
from chalicelib.reports.definition import RECORD_VARIABLES as REPORT_VARIABLES, form_problems, parse_report
from chalicelib.workflow.definition import EXPRESSION_VARIABLES as WORKFLOW_VARIABLES

FORM = {"name": "ticket", "title": "Ticket", "fields": [
    {"name": "title", "type": "text"},
    {"name": "ref", "type": "computed", "result": "text", "expression": "concat(coalesce($number, 'new'), ':', left($id, 3))"},
    {"name": "note", "type": "text", "required_if": "$number != null"},
]}
REC = SimpleNamespace(id="01HQ3K5Z8Y6W2N4M7P9R0S1T2V", number="T-0007")


def test_the_record_variables_are_listed_once_and_shared():
    assert RECORD_VARIABLES == ("$id", "$number")
    assert set(RECORD_VARIABLES) <= set(FIELD_VARIABLES) and set(RECORD_VARIABLES) <= set(WORKFLOW_VARIABLES)
    assert set(RECORD_VARIABLES) <= set(REPORT_VARIABLES)


def test_record_variables_of_a_stored_record_a_dict_and_nothing():
    assert record_variables(REC) == {"$id": REC.id, "$number": "T-0007"}
    assert record_variables({"id": "x"}) == {"$id": "x", "$number": None}
    assert record_variables(None) == {}


def test_computed_fields_and_conditions_see_the_record():
    form = parse_form_definition(FORM)
    stored = validate_record(form, {"title": "a", "note": "n"}, previous={"title": "b"}, record=REC)
    assert stored.data["ref"] == "T-0007:01H"
    # required_if reads $number: a stored record must have a note
    with pytest.raises(Exception) as caught:
        validate_record(form, {"note": None}, previous={"title": "b", "note": "n"}, record=REC)
    assert any(d["path"] == "data.note" and d["message"] == "is required" for d in caught.value.details)
    # system writes (workflow, sync, uploads) pass the record too, alongside no other variables
    assert validate_record(form, {}, previous=stored.data, system=True, record=REC).data["ref"] == "T-0007:01H"
    # the caller's variables and the record's are merged
    both = validate_record(form, {"title": "c"}, previous={}, variables={"$user": {"id": "u"}}, record={"id": "abc"})
    assert both.data["ref"] == "new:abc"


def test_without_a_record_they_are_null():
    form = parse_form_definition(FORM)
    created = validate_record(form, {"title": "a"})
    assert created.data["ref"] == "new:"
    assert "note" not in created.data  # not required without a number


def test_uploads_accept_them_in_fields_and_refuse_them_in_row_rules():
    parse_form_definition(FORM)
    with pytest.raises(DefinitionError) as caught:
        parse_form_definition({**FORM, "permissions": {"read": ["*"], "rows": {"staff": "$number == 'x'"}}})
    assert {d["path"]: d["message"] for d in caught.value.details}["permissions.rows.staff"].startswith(
        "unknown variable '$number'")
    with pytest.raises(DefinitionError) as caught:
        parse_form_definition({**FORM, "fields": [*FORM["fields"], {"name": "x", "type": "computed", "expression": "$idd"}]})
    assert "unknown variable '$idd' (did you mean '$id'?)" in caught.value.details[0]["message"]


def test_reports_read_them_from_the_record():
    context = record_context({"data": {"a": 1}, "state": "Open", "id": "r1", "number": "T-0001",
                              "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-02T00:00:00Z"})
    assert context["$id"] == "r1" and context["$number"] == "T-0001" and context["a"] == 1
    assert record_context({"data": {}})["$number"] is None
    report = parse_report({"name": "by_year", "form": "ticket",
                           "dimensions": [{"name": "series", "field": "left($number, 1)"}],
                           "measures": [{"name": "n", "op": "count", "where": "$id != null"}]})
    assert form_problems(report, parse_form_definition(FORM)) == []
    typo = parse_report({"name": "by_year", "form": "ticket", "dimensions": [{"name": "s", "field": "$nr"}],
                         "measures": [{"name": "n", "op": "count"}]})
    assert "unknown variable '$nr'" in form_problems(typo, parse_form_definition(FORM))[0]["message"]
