"""The form engine: value rules per field type, conditions, computed fields, partial updates."""
from decimal import Decimal

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.forms.definition import parse_form_definition
from chalicelib.forms.engine import Reference, validate_record

ID = "01JDQ3V9W6Y5R8T2M4N7P0K1AB"


def make(*fields, **extra):
    return parse_form_definition({"name": "f", "title": "F", "fields": list(fields), **extra})


def errors(form, data, previous=None, **kw):
    with pytest.raises(ValidationFailed) as info:
        validate_record(form, data, previous=previous, **kw)
    return {p["path"]: p["message"] for p in info.value.details}


VALUE_CASES = [
    # field, good values, bad values
    ({"type": "text", "max_length": 5, "pattern": "^[a-z]+$"}, ["abc"], ["ABC", "abcdefg", 5, True]),
    ({"type": "textarea", "max_length": 10}, ["a\nb"], ["x" * 11, 1]),
    ({"type": "number"}, [5, Decimal("5.0"), -3], [Decimal("5.5"), "5", True, Decimal(10) ** 16]),
    ({"type": "number", "scale": 2, "minimum": 0, "maximum": 100}, [Decimal("12.34"), 0, 100], [Decimal("1.234"), -1, Decimal("100.01")]),
    ({"type": "money"}, [Decimal("19.99"), 20], [Decimal("19.999"), "19.99"]),
    ({"type": "percent"}, [Decimal("12.5"), 0, 100], [101, -1]),
    ({"type": "date"}, ["2026-02-28"], ["2026-02-30", "2026-2-1", "2026-02-28T00:00:00Z", 20260228]),
    ({"type": "datetime"}, ["2026-11-25T09:30:00Z", "2026-11-25T17:30:00+08:00"], ["2026-11-25T09:30Z", "2026-11-25", "2026-13-25T09:30:00Z"]),
    ({"type": "time"}, ["09:30", "23:59:59"], ["24:00", "9:30"]),
    ({"type": "duration"}, [0, 3600], [-1, Decimal("1.5"), "PT1H"]),
    ({"type": "select", "options": [{"value": "a"}, {"value": "b"}]}, ["a"], ["c", 1]),
    ({"type": "multiselect", "options": [{"value": "a"}, {"value": "b"}], "max_items": 1}, [["a"], []], [["a", "a"], ["a", "b"], ["c"], "a"]),
    ({"type": "checkbox"}, [True, False], [1, "true"]),
    ({"type": "rating", "max": 5}, [1, 5], [0, 6, Decimal("2.5")]),
    ({"type": "phone"}, ["+86 138-0013-8000", "13800138000"], ["call me", "12"]),
    ({"type": "email"}, ["a@b.cn"], ["a@b", "a b@c.d"]),
    ({"type": "url"}, ["https://example.com/x"], ["ftp://x", "example.com"]),
    ({"type": "geolocation"}, [{"lat": Decimal("31.23"), "lng": Decimal("121.47")}, {"lat": 0, "lng": 0, "accuracy": 5}],
     [{"lat": 91, "lng": 0}, {"lat": 1}, {"lat": 1, "lng": 1, "x": 1}, [1, 2]]),
    ({"type": "image"}, [{"key": "t/demo/r/1.jpg", "content_type": "image/jpeg", "size": 100}],
     [{"key": "k", "content_type": "text/plain", "size": 1}, {"key": "k", "content_type": "image/png", "size": -1}, "k"]),
    ({"type": "file", "multiple": True, "max_files": 1}, [[{"key": "k", "content_type": "application/pdf", "size": 1}]],
     [[{"key": "k", "content_type": "application/pdf", "size": 1}] * 2]),
    ({"type": "signature"}, [{"key": "s.png", "content_type": "image/png", "size": 10}], [{"key": "s", "content_type": "image/jpeg", "size": 1}]),
    ({"type": "user"}, ["eng.zhang"], ["bad user!", 5]),
    ({"type": "lookup", "form": "customer"}, [ID], ["not-an-id", 5]),
]


@pytest.mark.parametrize("case", VALUE_CASES, ids=[c[0]["type"] + str(i) for i, c in enumerate(VALUE_CASES)])
def test_values(case):
    spec, good, bad = case
    form = make({"name": "v", **spec})
    for value in good:  # as the platform writes it (signatures come only from a confirmed upload)
        validate_record(form, {"v": value}, server_written=("v",))
    for value in bad:
        assert "data.v" in errors(form, {"v": value}, server_written=("v",)), value


def test_server_owned_fields_are_refused_from_clients():
    form = parse_form_definition({"name": "f", "title": "F", "fields": [
        {"name": "note", "type": "text"}, {"name": "done_at", "type": "datetime", "server_owned": True},
        {"name": "sign", "type": "signature"}]})
    sig = {"key": "t/x/f/1/sign/u", "content_type": "image/png", "size": 10, "signed_sha256": "0" * 64}
    assert errors(form, {"done_at": "2026-12-01T10:00:00Z"}) == {"data.done_at": "is set by the platform and cannot be written"}
    assert errors(form, {"sign": sig}) == {"data.sign": "is set by the platform and cannot be written"}
    stored = validate_record(form, {"done_at": "2026-12-01T10:00:00Z"}, system=True).data  # a workflow step writes it
    assert errors(form, {"done_at": "2026-12-02T10:00:00Z"}, previous=stored) == {"data.done_at": "is set by the platform and cannot be written"}
    assert errors(form, {"done_at": None}, previous=stored) == {"data.done_at": "is set by the platform and cannot be written"}
    assert validate_record(form, {"done_at": stored["done_at"], "note": "x"}, previous=stored).data["done_at"] == stored["done_at"]
    assert validate_record(form, {"done_at": None, "sign": None}).data == {}  # nothing supplied


def test_unknown_fields_and_required():
    form = make({"name": "a", "type": "text", "required": True})
    assert errors(form, {"b": "x"}) == {"data.b": "unknown field", "data.a": "is required"}
    assert errors(form, {"a": None}) == {"data.a": "is required"}


def test_defaults_apply_on_create_only():
    form = make({"name": "p", "type": "select", "required": True, "default": "normal", "options": [{"value": "normal"}, {"value": "high"}]})
    assert validate_record(form, {}).data == {"p": "normal"}
    assert validate_record(form, {}, previous={"p": "high"}).data == {"p": "high"}


def test_conditional_visibility_and_required_if():
    form = make({"name": "status", "type": "select", "options": [{"value": "open"}, {"value": "cancelled"}]},
                {"name": "reason", "type": "text", "visible_if": "status == 'cancelled'", "required_if": "status == 'cancelled'"})
    assert validate_record(form, {"status": "open", "reason": "dropped"}).data == {"status": "open"}
    assert errors(form, {"status": "cancelled"}) == {"data.reason": "is required"}
    assert validate_record(form, {"status": "cancelled", "reason": "dup"}).data["reason"] == "dup"


def test_read_only_and_readonly_if_on_update():
    form = make({"name": "a", "type": "text", "read_only": True},
                {"name": "locked", "type": "checkbox"},
                {"name": "b", "type": "text", "readonly_if": "locked"})
    assert validate_record(form, {"a": "x"}).data["a"] == "x"  # settable on create
    assert errors(form, {"a": "y"}, previous={"a": "x"}) == {"data.a": "is read-only"}
    assert validate_record(form, {"a": "x"}, previous={"a": "x"}).data["a"] == "x"  # echoing the same value is fine
    assert errors(form, {"b": "2"}, previous={"locked": True, "b": "1"}) == {"data.b": "is read-only"}
    assert validate_record(form, {"b": "2"}, previous={"locked": False, "b": "1"}).data["b"] == "2"


def test_partial_update_merges_and_null_clears():
    form = make({"name": "a", "type": "text"}, {"name": "b", "type": "text"})
    result = validate_record(form, {"b": None, "a": "new"}, previous={"a": "old", "b": "x"})
    assert result.data == {"a": "new"}
    assert result.changed_fields == ["a", "b"]


def test_subtable_rows_computed_and_references():
    form = make({"name": "lines", "type": "subtable", "max_rows": 3, "fields": [
        {"name": "part", "type": "lookup", "form": "spare_part", "required": True},
        {"name": "qty", "type": "number", "scale": 2, "minimum": 0.01, "required": True},
        {"name": "price", "type": "money", "required": True},
        {"name": "total", "type": "computed", "expression": "qty * price", "scale": 2}]},
        {"name": "sum_total", "type": "computed", "expression": "sum(lines.total)", "scale": 2},
        {"name": "who", "type": "user", "role": "engineer"})
    result = validate_record(form, {"lines": [{"part": ID, "qty": Decimal("1.5"), "price": Decimal("10.00")},
                                              {"part": ID, "qty": 2, "price": Decimal("0.99")}], "who": "eng.zhang"})
    assert [r["total"] for r in result.data["lines"]] == [Decimal("15.00"), Decimal("1.98")]
    assert result.data["sum_total"] == Decimal("16.98")
    assert result.references == [Reference("record", ID, form="spare_part"), Reference("user", "eng.zhang", role="engineer")]
    bad = errors(form, {"lines": [{"qty": 0}, "x", {"part": ID, "qty": 1, "price": 1, "zzz": 1}]})
    assert set(bad) == {"data.lines[0].part", "data.lines[0].qty", "data.lines[0].price", "data.lines[1]", "data.lines[2].zzz"}
    assert "data.lines" in errors(form, {"lines": [{"part": ID, "qty": 1, "price": 1}] * 4})


def test_client_values_for_server_fields_are_ignored():
    form = make({"name": "n", "type": "auto_number", "format": "X-{seq:3}"}, {"name": "a", "type": "number"},
                {"name": "c", "type": "computed", "expression": "a * 2"})
    assert validate_record(form, {"n": "hack", "c": 999, "a": 2}).data == {"a": 2, "c": Decimal("4.00")}


def test_computed_errors_leave_value_unknown():
    form = make({"name": "a", "type": "number"}, {"name": "c", "type": "computed", "expression": "10 / a"})
    assert "c" not in validate_record(form, {"a": 0}).data


def test_unique_values_are_reported_for_storage():
    form = make({"name": "sn", "type": "text", "unique": True}, {"name": "x", "type": "text"})
    assert validate_record(form, {"sn": "A1", "x": "y"}).unique_values == {"sn": "A1"}
