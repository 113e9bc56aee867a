"""Review: the form engine and the expression language under hostile input (pure, no AWS).

Each test states the correct behaviour of a bug found in review (fixed since).
"""
from decimal import Decimal

import pytest

from chalicelib.errors import DefinitionError, ExpressionError, ExpressionLimitExceeded, ValidationFailed
from chalicelib.expressions import compile_expression
from chalicelib.forms.definition import parse_form_definition
from chalicelib.forms.engine import validate_record


def make(*fields, **extra):
    return parse_form_definition({"name": "f", "title": "F", "fields": list(fields), **extra})


# --- the expression language never reaches Python internals -------------------------------------

CONTEXT = {"x": {"a": Decimal(1)}, "s": "text", "rows": [{"q": Decimal(1)}], "$user": {"id": "u", "roles": ["r"]}}


@pytest.mark.parametrize("source", [
    "x.__class__", "x['__class__']", "s.__class__.__mro__", "$user.__dict__", "len(s).__class__",
    "x.__init__.__globals__", "rows.__len__", "x.keys", "x.get", "s.upper", "rows[0].__class__",
    "x['__builtins__']", "s[0]", "rows[-99]", "rows['q']", "x[x]", "$nope", "$user.id.__class__",
])
def test_member_and_index_access_only_reads_data(source):
    try:
        value = compile_expression(source).evaluate(CONTEXT)
    except ExpressionError:
        return
    assert value is None or isinstance(value, (str, bool, Decimal, list, dict))
    assert not callable(value) and not isinstance(value, type)


@pytest.mark.parametrize("source", [
    "__import__('os')", "eval('1')", "exec('1')", "getattr(x, 'a')", "open('/etc/passwd')", "x.a()",
    "lambda: 1", "[c for c in s]", "s if true else s", "x := 1", "`id`", "s.format(x)", "1 ** 2", "s @ s",
    "x; 1", "f'{x}'", "{'a': 1}", "a = 1",
])
def test_python_syntax_and_unknown_functions_are_refused_at_parse_time(source):
    with pytest.raises(ExpressionError):
        compile_expression(source)


def _deep(n):
    value = [1]
    for _ in range(n):
        value = [value]
    return value


@pytest.mark.parametrize("source,context", [
    ("concat(s, s)", {"s": "x" * 60000}),
    ("rows.q.q.q", {"rows": [[{"q": [[1] * 100] * 100}] * 100]}),
    ("x == y", {"x": _deep(40), "y": _deep(40)}),
    ("n * n * n * n", {"n": Decimal("1e300")}),
    ("add_days(d, 99999999)", {"d": "2026-01-01"}),
    ("round(n, 20)", {"n": Decimal("1e20")}),
    ("n % 0.0000001", {"n": Decimal("1e27")}),
    ("to_number(s)", {"s": "9" * 41}),
    ("matches(s, p)", {"s": "a", "p": "(a+)+"}),
])
def test_runaway_values_hit_limits_not_the_interpreter(source, context):
    with pytest.raises(ExpressionError):
        compile_expression(source).evaluate(context)


def test_regex_work_counts_against_the_evaluation_budget():
    source = " or ".join(["matches(s, '\\\\d*\\\\d*x')"] * 5)
    with pytest.raises(ExpressionLimitExceeded):
        compile_expression(source).evaluate({"s": "0" * 10000})


# --- definitions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern", ["^(a|aa)+$", "^((a+))+$", "^(?:x|xy)*z$"])
def test_text_pattern_screening_matches_the_expression_screening(pattern):
    with pytest.raises(DefinitionError):
        make({"name": "s", "type": "text", "pattern": pattern})


@pytest.mark.parametrize("bounds", [{"minimum": "yesterday"}, {"maximum": "2026-02-30"}])
def test_date_bounds_must_be_dates(bounds):
    with pytest.raises(DefinitionError):
        make({"name": "d", "type": "date", **bounds})


def test_unsatisfiable_multiselect_is_rejected():
    with pytest.raises(DefinitionError):
        make({"name": "m", "type": "multiselect", "min_items": 3, "options": [{"value": "a"}]})


# --- records -----------------------------------------------------------------------------------------

def test_read_only_datetime_echoed_in_another_offset_is_not_a_change():
    form = make({"name": "at", "type": "datetime", "read_only": True})
    previous = validate_record(form, {"at": "2026-01-01T08:00:00+08:00"}).data
    validate_record(form, {"at": "2026-01-01T08:00:00+08:00"}, previous=previous)


def test_row_read_only_is_enforced_by_the_engine():
    form = make({"name": "rows", "type": "subtable", "fields": [{"name": "q", "type": "number", "read_only": True}]})
    previous = validate_record(form, {"rows": [{"q": 1}]}).data
    with pytest.raises(ValidationFailed):
        validate_record(form, {"rows": [{"q": 2}]}, previous=previous)


def test_read_only_and_computed_fields_cannot_be_forged_on_update():
    form = make({"name": "a", "type": "number"}, {"name": "c", "type": "computed", "expression": "a * 2"},
                {"name": "no", "type": "auto_number"}, {"name": "ro", "type": "text", "read_only": True})
    previous = {"a": 1, "c": Decimal("2.00"), "no": "000001", "ro": "x"}
    out = validate_record(form, {"a": 2, "c": 999, "no": "999999"}, previous=previous).data
    assert out["c"] == Decimal("4.00") and out["no"] == "000001" and out["ro"] == "x"
    with pytest.raises(ValidationFailed):
        validate_record(form, {"ro": None}, previous=previous)


@pytest.mark.parametrize("value", [
    Decimal("1e999999999"), Decimal("1e-30"), Decimal("1e15"), Decimal("123456789012345.6"),
    10 ** 4000, -(10 ** 16), Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"),
])
def test_number_extremes_are_rejected_cleanly(value):
    form = make({"name": "n", "type": "number", "scale": 2}, {"name": "g", "type": "geolocation"})
    for data in ({"n": value}, {"g": {"lat": value, "lng": 0}}):
        with pytest.raises(ValidationFailed):
            validate_record(form, data)


def test_tiny_numbers_beyond_the_scale_are_rejected():
    form = make({"name": "n", "type": "number", "scale": 2})
    with pytest.raises(ValidationFailed):
        validate_record(form, {"n": Decimal("-1e-999999999")})


# --- fixes of the second review round -----------------------------------------------------------

def test_trailing_newline_never_passes_a_whole_value_check():
    form = make(*({"name": n, "type": n} for n in ("email", "phone", "time", "url", "user", "date", "datetime")),
                {"name": "ref", "type": "lookup", "form": "f"}, {"name": "code", "type": "text", "pattern": "^[a-z]+$"},
                {"name": "doc", "type": "file"})
    for data in ({"email": "a@b.co\n"}, {"phone": "13800138000\n"}, {"time": "10:00\n"}, {"url": "https://x.example\n"},
                 {"user": "eng\n"}, {"date": "2026-01-01\n"}, {"datetime": "2026-01-01T00:00:00Z\n"},
                 {"ref": "01JDQ3V9W6Y5R8T2M4N7P0K1AB\n"}, {"code": "abc\n"},
                 {"doc": {"key": "a/b\n", "content_type": "text/plain", "size": 1}},
                 {"doc": {"key": "a/b", "content_type": "text/plain\n", "size": 1}}):
        with pytest.raises(ValidationFailed):
            validate_record(form, data)
    validate_record(form, {"email": "a@b.co", "code": "abc", "date": "2026-01-01"})


def test_definition_names_refuse_a_trailing_newline():
    with pytest.raises(DefinitionError):
        make({"name": "a\n", "type": "text"})


@pytest.mark.parametrize("pattern", ["^(\\w|\\d)+$", "(a|b)*", "^(a+){2,}$"])
def test_more_catastrophic_text_patterns_are_rejected(pattern):
    with pytest.raises(DefinitionError):
        make({"name": "s", "type": "text", "pattern": pattern})


def test_ordinary_text_patterns_still_work():
    form = make({"name": "slug", "type": "text", "pattern": "^[a-z0-9-]+$"},
                {"name": "plate", "type": "text", "pattern": "^[A-Z]{2}\\d{6}$"})
    validate_record(form, {"slug": "a-b-1", "plate": "AB123456"})
    with pytest.raises(ValidationFailed):
        validate_record(form, {"plate": "AB12345"})


def test_unanchored_pattern_with_two_open_repeats_is_too_slow_for_long_text():
    make({"name": "s", "type": "text", "pattern": "^\\d*\\d*x", "max_length": 1000})
    with pytest.raises(DefinitionError):
        make({"name": "s", "type": "text", "pattern": "\\d*\\d*x", "max_length": 1000})


@pytest.mark.parametrize("value", [Decimal("1e5000"), Decimal("1e999999999"), 10 ** 13, Decimal("Infinity"), Decimal("NaN"), Decimal("1.5")])
def test_duration_is_bounded(value):
    form = make({"name": "d", "type": "duration", "minimum": None})
    with pytest.raises(ValidationFailed):
        validate_record(form, {"d": value})
    assert validate_record(form, {"d": Decimal("1E+3")}).data["d"] == 1000


def test_conditions_see_computed_values():
    form = make({"name": "amount", "type": "number"}, {"name": "total", "type": "computed", "expression": "amount * 2"},
                {"name": "double", "type": "computed", "expression": "total * 2"},
                {"name": "approval", "type": "text", "required_if": "double > 200"},
                {"name": "note", "type": "text", "visible_if": "total > 10"})
    with pytest.raises(ValidationFailed):
        validate_record(form, {"amount": 100})
    previous = validate_record(form, {"amount": 1, "note": "x"}).data
    assert "note" not in previous and previous["total"] == 2
    # on update the stale stored total (2) must not decide: the new amount makes note visible
    assert validate_record(form, {"amount": 10, "note": "x"}, previous=previous).data["note"] == "x"


def test_row_conditions_see_row_computed_values():
    form = make({"name": "rows", "type": "subtable", "fields": [
        {"name": "q", "type": "number"}, {"name": "t", "type": "computed", "expression": "q * 10"},
        {"name": "why", "type": "text", "required_if": "t > 50"}]})
    with pytest.raises(ValidationFailed):
        validate_record(form, {"rows": [{"q": 6}]})


def test_computed_results_are_cleaned():
    form = make({"name": "rows", "type": "subtable", "fields": [{"name": "q", "type": "number"}]},
                {"name": "s", "type": "computed", "result": "text", "expression": "rows.q"},
                {"name": "n", "type": "computed", "result": "text", "expression": "1000 + 0.5"},
                {"name": "b", "type": "computed", "result": "text", "expression": "true"},
                {"name": "d", "type": "computed", "result": "date", "expression": "'hello world'"},
                {"name": "d2", "type": "computed", "result": "date", "expression": "'2026-01-01T20:00:00-08:00'"},
                {"name": "d3", "type": "computed", "result": "date", "expression": "'2026-02-30'"},
                {"name": "long", "type": "computed", "result": "text", "expression": "concat(x, x)"},
                {"name": "x", "type": "textarea", "max_length": 20000},
                {"name": "big", "type": "computed", "result": "number", "scale": 2, "expression": "100000000000000 * 10"})
    data = validate_record(form, {"rows": [{"q": 1}], "x": "y" * 6000}).data
    assert "s" not in data and "d" not in data and "d3" not in data and "big" not in data
    assert data["n"] == "1000.5" and data["b"] == "true" and data["d2"] == "2026-01-02"
    assert len(data["long"]) == 10000


def test_required_means_has_a_value():
    form = make({"name": "t", "type": "text", "required": True},
                {"name": "m", "type": "multiselect", "required": True, "options": [{"value": "a"}]},
                {"name": "o", "type": "text"}, {"name": "om", "type": "multiselect", "options": [{"value": "a"}]})
    for data in ({"t": "", "m": ["a"]}, {"t": "x", "m": []}):
        with pytest.raises(ValidationFailed):
            validate_record(form, data)
    assert validate_record(form, {"t": "x", "m": ["a"], "o": "", "om": []}).data["o"] == ""


@pytest.mark.parametrize("field", [
    {"name": "a", "type": "text", "required": "yes"}, {"name": "a", "type": "text", "max_length": "10"},
    {"name": "a", "type": "number", "minimum": "1"}, {"name": "a", "type": "number", "scale": 1.0},
    {"name": "a", "type": "number", "minimum": True}, {"name": "a", "type": "text", "label": 5},
])
def test_definition_types_are_exact(field):
    with pytest.raises(DefinitionError):
        make(field)


def test_definition_numbers_accept_json_numbers():
    form = make({"name": "a", "type": "number", "scale": 2, "minimum": 0.01, "maximum": Decimal("99.5")},
                {"name": "b", "type": "money", "minimum": 0})
    assert form.fields[0].minimum == Decimal("0.01") and form.fields[1].minimum == 0


def test_row_read_only_is_positional_and_new_rows_may_set_it():
    form = make({"name": "rows", "type": "subtable", "fields": [
        {"name": "q", "type": "number", "read_only": True}, {"name": "at", "type": "datetime", "read_only": True},
        {"name": "lock", "type": "checkbox"}, {"name": "note", "type": "text", "readonly_if": "lock"}]})
    previous = validate_record(form, {"rows": [{"q": 1, "at": "2026-01-01T08:00:00+08:00", "lock": True, "note": "a"}]}).data
    same = {"q": 1, "at": "2026-01-01T00:00:00Z", "lock": True, "note": "a"}
    out = validate_record(form, {"rows": [same, {"q": 5, "note": "new"}]}, previous=previous).data
    assert out["rows"][1]["q"] == 5
    for changed in ({"note": "b"}, {"q": None}, {"at": "2026-01-01T00:00:01Z"}):
        with pytest.raises(ValidationFailed):
            validate_record(form, {"rows": [{**same, **changed}]}, previous=previous)
    validate_record(form, {"rows": [{**same, "q": 7}]}, previous=previous, system=True)


@pytest.mark.parametrize("extra", [{"storage": {"shards": "2"}}, {"permissions": {"read": "admin"}}, {"title": 5}])
def test_form_level_types_are_exact(extra):
    with pytest.raises(DefinitionError):
        make({"name": "a", "type": "text"}, **extra)
