"""Form definitions are validated at upload with every problem reported at its JSON path."""
import json
from pathlib import Path

import pytest

from chalicelib.errors import DefinitionError
from chalicelib.forms.definition import parse_form_definition

SHIPPED = Path(__file__).resolve().parents[2] / "definitions" / "after_sales" / "forms"


def problems_of(raw, previous=None):
    with pytest.raises(DefinitionError) as info:
        parse_form_definition(raw, previous=previous)
    return {(p["path"], p["message"]) for p in info.value.details}


def paths_of(raw, previous=None):
    return {path for path, _ in problems_of(raw, previous)}


def form(*fields, **extra):
    return {"name": "f", "title": "F", "fields": list(fields), **extra}


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.json")), ids=lambda p: p.stem)
def test_shipped_forms_are_valid(path):
    parsed = parse_form_definition(json.loads(path.read_text()))
    assert parsed.name == path.stem


CASES = [
    # (fields / extra, expected problem path)
    ([{"name": "a", "type": "text", "bogus": 1}], "fields[0].bogus"),
    ([{"name": "a", "type": "nope"}], "fields[0]"),
    ([{"name": "Bad Name", "type": "text"}], "fields[0].name"),
    ([{"name": "a", "type": "text"}, {"name": "a", "type": "number"}], "fields[1].name"),
    ([{"name": "a", "type": "text", "pattern": "("}], "fields[0].pattern"),
    ([{"name": "a", "type": "text", "pattern": "(a+)+$"}], "fields[0].pattern"),
    ([{"name": "a", "type": "text", "visible_if": "b == 1"}], "fields[0].visible_if"),
    ([{"name": "a", "type": "text", "required_if": "a =="}], "fields[0].required_if"),
    ([{"name": "a", "type": "computed", "expression": "b + 1"}, {"name": "b", "type": "computed", "expression": "a + 1"}], "fields[0].expression"),
    ([{"name": "a", "type": "number", "minimum": 5, "maximum": 1}], "fields[0].minimum"),
    ([{"name": "a", "type": "number", "default": "x"}], "fields[0].default"),
    ([{"name": "a", "type": "select", "options": [{"value": "x"}, {"value": "x"}]}], "fields[0].options"),
    ([{"name": "a", "type": "geolocation", "unique": True}], "fields[0].unique"),
    ([{"name": "a", "type": "subtable", "fields": [{"name": "b", "type": "text", "unique": True}]}], "fields[0].fields[0].unique"),
    ([{"name": "a", "type": "subtable", "fields": [{"name": "b", "type": "subtable", "fields": []}]}], "fields[0].fields[0]"),
    ([{"name": "a", "type": "auto_number", "format": "WO-{YYYY}"}], "fields[0].format"),
    ([{"name": "a", "type": "money", "total": True}], "fields[0].total"),  # not in a sub-table
    ([{"name": "a", "type": "subtable", "fields": [{"name": "b", "type": "computed", "expression": "'x'", "result": "text",
                                                     "total": True}]}], "fields[0].fields[0].total"),
    ([{"name": "a", "type": "subtable", "fields": [{"name": "b", "type": "text", "total": True}]}], "fields[0].fields[0].total"),
    ([{"name": "a", "type": "subtable", "fields": [{"name": "b", "type": "percent", "total": True}]}], "fields[0].fields[0].total"),
    ([{"name": "a", "type": "text"}], "indexes[0]", {"indexes": ["zzz"]}),
    ([{"name": "a", "type": "geolocation"}], "indexes[0]", {"indexes": ["a"]}),
    ([{"name": "a", "type": "text"}], "storage.shards", {"storage": {"shards": 99}}),
    ([{"name": "a", "type": "text"}], "title_field", {"title_field": "nope"}),
    ([{"name": "a", "type": "text"}], "unknown_top", {"unknown_top": 1}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[1] + ":" + str(i) for i, c in enumerate(CASES)])
def test_invalid_definitions_name_the_path(case):
    fields, path = case[0], case[1]
    extra = case[2] if len(case) > 2 else {}
    assert path in paths_of(form(*fields, **extra))


def test_every_problem_is_reported_at_once():
    raw = form({"name": "a", "type": "text", "max_length": 0}, {"name": "b", "type": "rating", "max": 99})
    assert {"fields[0].max_length", "fields[1].max"} <= paths_of(raw)


def test_not_an_object():
    with pytest.raises(DefinitionError):
        parse_form_definition([1, 2])


def test_shards_and_index_order_are_fixed_once_a_form_exists():
    first = parse_form_definition(form({"name": "a", "type": "text"}, {"name": "b", "type": "text"}, indexes=["a"]))
    assert "storage.shards" in paths_of(form({"name": "a", "type": "text"}, indexes=["a"], storage={"shards": 2}), first)
    assert "indexes" in paths_of(form({"name": "a", "type": "text"}, {"name": "b", "type": "text"}, indexes=["b", "a"]), first)
    parse_form_definition(form({"name": "a", "type": "text"}, {"name": "b", "type": "text"}, indexes=["a", "b"]), previous=first)


def test_total_marks_number_money_duration_and_numeric_computed_columns_of_a_sub_table():
    from chalicelib.forms.schema import form_json_schema
    raw = form({"name": "lines", "type": "subtable", "fields": [
        {"name": "qty", "type": "number", "total": True}, {"name": "price", "type": "money"},
        {"name": "amount", "type": "money", "total": True}, {"name": "time", "type": "duration", "total": True},
        {"name": "net", "type": "computed", "expression": "qty * price", "total": True}]})
    parsed = parse_form_definition(raw)
    assert [c.total for c in parsed.fields[0].fields] == [True, False, True, True, True]
    columns = form_json_schema(parsed, 1)["properties"]["lines"]["anyOf"][0]["items"]["properties"]
    assert {name for name, column in columns.items() if column.get("x-total")} == {"qty", "amount", "time", "net"}
    assert problems_of(form({"name": "a", "type": "number", "total": True})) == {
        ("fields[0].total", "total sums a sub-table column at the foot of its table; this field is not in a sub-table")}
