"""The exported JSON Schema accepts exactly the records the engine accepts (on generated records)."""
import json
from decimal import Decimal

import jsonschema
import pytest
from jsonschema import ValidationError, validators
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import jsonutil
from chalicelib.errors import DefinitionError, ValidationFailed
from chalicelib.forms.definition import parse_form_definition
from chalicelib.forms.engine import validate_record
from chalicelib.forms.schema import form_json_schema
from chalicelib.forms.values import ecma_regex

ID = "01JDQ3V9W6Y5R8T2M4N7P0K1AB"
OPTIONS = [{"value": "a"}, {"value": "b"}, {"value": "c"}]
FORM = parse_form_definition({"name": "everything", "title": "Every static rule", "fields": [
    {"name": "text", "type": "text", "min_length": 2, "max_length": 8, "pattern": "^[a-z]"},
    {"name": "code", "type": "text", "pattern": "^[a-z]+$"},
    {"name": "req", "type": "text", "required": True},
    {"name": "req_default", "type": "select", "required": True, "default": "a", "options": OPTIONS},
    {"name": "area", "type": "textarea", "max_length": 20},
    {"name": "int", "type": "number", "minimum": -5, "maximum": 1000},
    {"name": "dec", "type": "number", "scale": 2},
    {"name": "money", "type": "money", "minimum": 0},
    {"name": "pct", "type": "percent"},
    {"name": "day", "type": "date"},
    {"name": "moment", "type": "datetime"},
    {"name": "clock", "type": "time"},
    {"name": "dur", "type": "duration", "maximum": 7200},
    {"name": "one", "type": "select", "options": OPTIONS},
    {"name": "many", "type": "multiselect", "options": OPTIONS, "min_items": 1, "max_items": 2},
    {"name": "flag", "type": "checkbox"},
    {"name": "stars", "type": "rating"},
    {"name": "phone", "type": "phone"},
    {"name": "mail", "type": "email"},
    {"name": "link", "type": "url"},
    {"name": "geo", "type": "geolocation"},
    {"name": "pics", "type": "image", "multiple": True, "max_files": 2, "max_size_mb": 1},
    {"name": "doc", "type": "file"},
    {"name": "sign", "type": "signature"},
    {"name": "who", "type": "user"},
    {"name": "ref", "type": "lookup", "form": "other"},
    {"name": "lines", "type": "subtable", "min_rows": 0, "max_rows": 2, "fields": [
        {"name": "qty", "type": "number", "required": True, "minimum": 1},
        {"name": "note", "type": "text", "max_length": 3},
        {"name": "total", "type": "computed", "expression": "qty * 2"}]},
    {"name": "calc", "type": "computed", "expression": "int + 1"},
    {"name": "no", "type": "auto_number", "format": "N-{seq:4}"},
]})
SCHEMA = json.loads(jsonutil.dumps(form_json_schema(FORM, 1)), parse_float=Decimal)  # what a client receives


def _ecma_pattern(validator, pattern, instance, schema):
    # JSON Schema patterns are ECMA-262: `$` is the end of text, not also before a final newline
    # (python-jsonschema uses re.search as is). Clients such as ajv run them that way.
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _json_integer(checker, instance):
    # JSON Schema: an integer is any number with a zero fractional part, so 1.000 (a Decimal here) is one.
    base = jsonschema.Draft202012Validator.TYPE_CHECKER
    return base.is_type(instance, "integer") or (
        isinstance(instance, Decimal) and instance.is_finite() and instance == instance.to_integral_value())


EcmaValidator = validators.extend(
    jsonschema.Draft202012Validator, validators={"pattern": _ecma_pattern},
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _json_integer))
VALIDATOR = EcmaValidator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

numbers = st.one_of(st.integers(-10**16, 10**16), st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**6, max_value=10**6),
                    st.sampled_from([Decimal("0.01"), Decimal("12.5"), Decimal("99.999"), 0, 1, 100, 101, -1]))
texts = st.one_of(st.text(max_size=12), st.sampled_from(["ab", "abc", "Abc", "a", "2026-02-28", "2026-02-30", "2026-11-25T09:30:00Z",
                                                         "2026-11-25T09:30:00+08:00", "2026-13-01T00:00:00Z", "09:30", "24:00",
                                                         "+86 138-0013-8000", "a@b.cn", "https://x.cn/a", "eng.zhang", ID, "a", "b", "d",
                                                         "", "a@b.cn\n", "09:30\n", "2026-02-28\n", "eng.zhang\n", ID + "\n",
                                                         "https://x.cn/a\n", "13800138000\n", "abc\n"]))
attachment = st.fixed_dictionaries({"key": st.sampled_from(["t/a.jpg", "bad key!", "t/a.jpg\n"]), "content_type": st.sampled_from(["image/png", "image/jpeg", "text/plain"]),
                                    "size": st.sampled_from([0, 10, 2 * 1024 * 1024, -1])}, optional={"name": st.text(max_size=3)})
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.one_of(scalars, st.lists(st.one_of(texts, attachment), max_size=3), attachment,
                   st.fixed_dictionaries({"lat": numbers, "lng": numbers}, optional={"accuracy": numbers}),
                   st.lists(st.fixed_dictionaries({}, optional={"qty": numbers, "note": texts, "total": scalars}), max_size=3))
# readOnly properties are server-set: what a client sends must leave them out (the engine refuses a
# signature from a client; test_signature_is_refused_from_clients), so client input is generated without them.
field_names = [f.name for f in FORM.fields if not f.platform_written]
records = st.dictionaries(st.one_of(st.sampled_from(field_names), st.sampled_from(["zzz"])), values, max_size=6).map(
    lambda d: {"req": "x", **d})


def engine_accepts(record) -> bool:
    try:
        validate_record(FORM, record)
    except ValidationFailed:
        return False
    return True


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_engine_and_schema_agree(record):
    assert engine_accepts(record) == VALIDATOR.is_valid(record), (record, [e.message for e in VALIDATOR.iter_errors(record)])


def test_known_examples_agree():
    good = {"req": "x", "text": "abc", "dec": Decimal("1.25"), "money": Decimal("19.99"), "day": "2026-02-28",
            "moment": "2026-11-25T09:30:00Z", "many": ["a"], "geo": {"lat": 31, "lng": 121},
            "pics": [{"key": "t/a.jpg", "content_type": "image/png", "size": 10}], "lines": [{"qty": 2}], "calc": "ignored"}
    assert engine_accepts(good) and VALIDATOR.is_valid(good)
    for bad in ({"req": None}, {"req": "x", "money": Decimal("1.001")}, {"req": "x", "day": "2026-02-30"},
                {"req": "x", "moment": "2026-11-25T09:30Z"}, {"req": "x", "many": []}, {"req": "x", "zzz": 1},
                {"req": "x", "lines": [{}]}, {"req": "x", "int": True}):
        assert not engine_accepts(bad) and not VALIDATOR.is_valid(bad), bad


def test_signature_is_refused_from_clients():
    assert SCHEMA["properties"]["sign"]["readOnly"] is True
    assert not engine_accepts({"req": "x", "sign": {"key": "t/a.jpg", "content_type": "image/png", "size": 10}})


def test_image_fields_say_how_large_a_photo_goes_up():
    """A tenant-set longest side: the browser reduces photos to it before the upload."""
    form = parse_form_definition({"name": "visit", "title": "Visit", "fields": [
        {"name": "photos", "type": "image", "multiple": True, "max_edge_px": 1600},
        {"name": "plan", "type": "image"}], "permissions": {"create": ["*"], "read": ["*"], "update": ["*"]}})
    props = form_json_schema(form, 1)["properties"]
    assert props["photos"]["x-max-edge"] == 1600 and "x-max-edge" not in json.dumps(props["plan"])
    with pytest.raises(DefinitionError):
        parse_form_definition({"name": "visit", "title": "Visit", "fields": [{"name": "p", "type": "image", "max_edge_px": 10}],
                    "permissions": {"create": ["*"], "read": ["*"], "update": ["*"]}})
