"""validate_record running a form's compiled plan (chalicelib/forms/engine.py) against the engine it
replaced (reference_form_engine.py): on the shipped forms and on a form with every kind of rule, for
thousands of generated creates and updates — valid and invalid values of every field type, missing and
null values, unknown keys, sub-tables with too many rows or broken rows — the same data (values, Decimal
exponents, key order), references with their paths, unique values and changed fields, or the same
errors in the same order. Both charge the request's expression budget; the plan never more."""
from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.errors import AppError
from chalicelib.expressions.budget import RequestBudget, _current
from chalicelib.forms.definition import parse_form_definition
from chalicelib.forms.engine import validate_record
from tests.unit import reference_form_engine as reference

SHIPPED = Path(__file__).resolve().parents[2] / "definitions"
ID = "01JDQ3V9W6Y5R8T2M4N7P0K1AB"
OPTIONS = [{"value": "a"}, {"value": "b"}, {"value": "c"}]
RULES = parse_form_definition({"name": "rules", "title": "Every kind of rule", "fields": [
    {"name": "status", "type": "select", "options": [{"value": "open"}, {"value": "done"}, {"value": "cancelled"}],
     "default": "open", "required": True},
    {"name": "reason", "type": "text", "min_length": 2, "max_length": 8, "pattern": "^[a-z]",
     "visible_if": "status == 'cancelled'", "required_if": "status == 'cancelled'"},
    {"name": "code", "type": "text", "read_only": True, "unique": True, "case_insensitive": True},
    {"name": "locked", "type": "checkbox"},
    {"name": "note", "type": "textarea", "max_length": 20, "readonly_if": "locked"},
    {"name": "amount", "type": "money", "minimum": 0, "maximum": 10000, "default": 5},
    {"name": "ratio", "type": "percent", "scale": 1},
    {"name": "count", "type": "number", "minimum": -5, "maximum": 1000, "required_if": "amount > 100"},
    {"name": "day", "type": "date", "minimum": "2026-01-01", "maximum": "2026-12-31"},
    {"name": "moment", "type": "datetime"},
    {"name": "clock", "type": "time"},
    {"name": "spent", "type": "duration", "minimum": 60, "maximum": 7200},
    {"name": "tags", "type": "multiselect", "options": OPTIONS, "min_items": 1, "max_items": 2},
    {"name": "stars", "type": "rating", "max": 4},
    {"name": "phone", "type": "phone", "unique": True},
    {"name": "mail", "type": "email", "unique": True},
    {"name": "link", "type": "url"},
    {"name": "geo", "type": "geolocation"},
    {"name": "pics", "type": "image", "multiple": True, "max_files": 2, "max_size_mb": 1},
    {"name": "doc", "type": "file", "accept": ["application/pdf"]},
    {"name": "sign", "type": "signature", "signs": ["note"]},
    {"name": "who", "type": "user", "role": "engineer"},
    {"name": "ref", "type": "lookup", "form": "other"},
    {"name": "owned", "type": "text", "server_owned": True},
    {"name": "lines", "type": "subtable", "max_rows": 3, "min_rows": 0, "visible_if": "status != 'cancelled'", "fields": [
        {"name": "part", "type": "lookup", "form": "part", "required": True, "read_only": True},
        {"name": "qty", "type": "number", "scale": 2, "minimum": 0.01, "required_if": "not is_empty(part)"},
        {"name": "price", "type": "money", "default": 1, "readonly_if": "locked"},
        {"name": "total", "type": "computed", "expression": "qty * price", "scale": 2},
        {"name": "big", "type": "computed", "result": "boolean", "expression": "total > 100"},
        {"name": "why", "type": "text", "visible_if": "big", "required_if": "big and grand > 500"},
        {"name": "who", "type": "user", "role": "engineer"}]},
    {"name": "grand", "type": "computed", "expression": "sum(lines.total)", "scale": 2},
    {"name": "label", "type": "computed", "result": "text", "expression": "upper(status)"},
    {"name": "due", "type": "computed", "result": "date", "expression": "moment"},
    {"name": "extra", "type": "text", "visible_if": "grand > 50 and $user.id != 'guest'", "required_if": "label == 'DONE'"},
    {"name": "no", "type": "auto_number", "format": "N-{seq:4}"},
]})


def shipped_forms() -> list:
    return [parse_form_definition(json.loads(path.read_text(), parse_float=Decimal))
            for path in sorted(SHIPPED.glob("*/forms/*.json"))]


FORMS = shipped_forms() + [RULES]

TEXTS = ["", "a", "ab", "abc", "Abc", "x" * 9, "x" * 65, "a\n", "eng.zhang", "bad user!", ID, ID + "\n", ID.lower(),
         "+86 138-0013-8000", "12", "a@b.cn", "a@b", "a@b.cn\n", "https://x.cn/a", "ftp://x", "09:30", "23:59:59",
         "24:00", "9:30", "2026-02-28", "2026-02-30", "2026-2-1", "2025-12-31", "2027-01-01", "open", "done", "cancelled",
         "a", "b", "d", "phone", "hvac", "urgent", "north", "DONE"]
DATETIMES = ["2026-11-25T09:30:00Z", "2026-11-25T17:30:00+08:00", "2026-11-25t09:30:00z", "2026-11-25T09:30:00.500Z",
             "2026-11-25T09:30:00.000001-03:30", "2026-11-25T09:30Z", "2026-13-25T09:30:00Z", "2026-02-30T00:00:00Z",
             "2026-11-25T24:00:00Z", "2026-11-25T09:30:60Z", "0999-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00",
             "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00", "2026-11-25T09:30:00Z\n", "2026-11-25"]
NUMBERS = [0, 1, -1, 5, 100, 101, 1000, 1001, 7200, 10**12, 10**15, -10**15, 10**16, Decimal("0.01"), Decimal("0.001"),
           Decimal("1.5"), Decimal("1.50"), Decimal("1.500"), Decimal("12.34"), Decimal("19.999"), Decimal("99.9"),
           Decimal("5E+2"), Decimal("1E-9"), Decimal("-0"), Decimal("-0.00"), Decimal("1E+20"), Decimal("NaN"),
           Decimal("Infinity"), Decimal("999999999999999"), Decimal("99999999999999.99"), Decimal("45.50"),
           Decimal("31.23456789"), Decimal("121.123456789"), Decimal("-90"), Decimal("90.00000001"), 1.5, 0.1, 2.0,
           True, False]
ATTACHMENT = {"key": "t/demo/r/1.jpg", "content_type": "image/jpeg", "size": 100}


def attachment(rnd: random.Random, signature: bool = False) -> dict:
    value = dict(ATTACHMENT)
    for _ in range(rnd.randrange(3)):
        key = rnd.choice(["key", "content_type", "size", "name", "sha256", "zzz", "signed_sha256", "signed_fields",
                          "signed_at", "signed_by", "signed_mac"])
        value[key] = rnd.choice({
            "key": ["bad key!", "t/a.jpg\n", 5, "t/b.png"], "content_type": ["image/png", "application/pdf", "text/plain", "Bad"],
            "size": [0, -1, 2 * 1024 * 1024, 30 * 1024 * 1024, True, Decimal("1.5")], "name": ["a.jpg", "x" * 300, 5],
            "sha256": ["0" * 64, "0" * 63, "A" * 64], "zzz": [1], "signed_sha256": ["f" * 64, "x"],
            "signed_fields": [["note"], ["Bad"], "note"], "signed_at": DATETIMES[:3] + ["2026"],
            "signed_by": ["eng.zhang", "bad user!"], "signed_mac": ["a" * 64, 1]}[key])
    if rnd.random() < 0.1:
        value.pop(rnd.choice(["key", "content_type", "size"]))
    return value


def value_for(f, rnd: random.Random, depth: int = 0):
    """A value for field f: mostly of its type (often at or past a limit), sometimes of another."""
    if rnd.random() < 0.08:
        return None
    if rnd.random() < 0.12:
        return rnd.choice([None, True, 0, "x", "", [], {}, Decimal("1.5"), 1.5, [1], {"a": 1}, ID])
    t = f.type
    if t in ("text", "textarea"):
        return rnd.choice(TEXTS + ["y" * rnd.choice([1, f.max_length, f.max_length + 1])])
    if t in ("number", "money", "percent", "rating", "duration"):
        options = NUMBERS + [getattr(f, "minimum", None) or 0, getattr(f, "maximum", None) or 1]
        value = rnd.choice(options)
        return value - 1 if isinstance(value, (int, Decimal)) and not isinstance(value, bool) and rnd.random() < 0.2 else value
    if t == "date":
        return rnd.choice(TEXTS[20:])
    if t == "datetime":
        return rnd.choice(DATETIMES)
    if t == "time":
        return rnd.choice(["09:30", "23:59:59", "24:00", "9:30", "09:30\n", "00:00"])
    if t == "select":
        return rnd.choice([o.value for o in f.options] + ["nope", 1])
    if t == "multiselect":
        values = [o.value for o in f.options]
        return [rnd.choice(values + ["nope"]) for _ in range(rnd.randrange(4))] if rnd.random() < 0.9 else "a"
    if t == "checkbox":
        return rnd.choice([True, False, 1, "true"])
    if t in ("phone", "email", "url", "user", "lookup"):
        return rnd.choice(TEXTS[8:20] + [ID, "eng.li"])
    if t == "geolocation":
        value = {"lat": rnd.choice(NUMBERS), "lng": rnd.choice(NUMBERS)}
        if rnd.random() < 0.3:
            value["accuracy"] = rnd.choice(NUMBERS)
        if rnd.random() < 0.1:
            value[rnd.choice(["x", "lat"])] = 1
        if rnd.random() < 0.1:
            value.pop("lng")
        return value
    if t in ("image", "file"):
        if f.multiple:
            return [attachment(rnd) for _ in range(rnd.randrange(f.max_files + 2))] if rnd.random() < 0.9 else attachment(rnd)
        return attachment(rnd)
    if t == "signature":
        return attachment(rnd, signature=True)
    if t == "subtable":
        if rnd.random() < 0.05:
            return "rows"
        rows = []
        for _ in range(rnd.randrange(min(f.max_rows, 4) + 2)):
            if rnd.random() < 0.05:
                rows.append(rnd.choice(["x", 1, None, []]))
                continue
            row = {rf.name: value_for(rf, rnd, depth + 1) for rf in f.fields if rnd.random() < 0.75}
            if rnd.random() < 0.05:
                row["zzz"] = 1
            rows.append(row)
        return rows
    return rnd.choice([1, "client", Decimal("2.5")])  # computed, auto_number: a client echoing something


def valid_for(f, rnd: random.Random):
    """A value field f accepts (as far as its own rules go)."""
    t = f.type
    if t in ("text", "textarea"):
        return rnd.choice(["abc", "note", "x" * f.max_length])
    if t in ("number", "money", "percent", "duration"):
        low, high = getattr(f, "minimum", None), getattr(f, "maximum", None)
        scale = getattr(f, "scale", 0)
        candidates = [n for n in (low, high, 1, 5, 60, Decimal("12.5"), Decimal("0.25"))
                      if n is not None and (low is None or n >= low) and (high is None or n <= high)
                      and (t != "duration" or n == int(n)) and n == round(n, scale)]
        return rnd.choice(candidates)
    if t == "rating":
        return rnd.randrange(1, f.max + 1)
    if t == "date":
        return f.minimum or rnd.choice(["2026-06-01", "2026-02-28"])
    if t == "datetime":
        return rnd.choice(DATETIMES[:2])
    if t == "time":
        return "09:30"
    if t == "select":
        return rnd.choice(f.options).value
    if t == "multiselect":
        return [o.value for o in f.options][:max(f.min_items, 1)]
    if t == "checkbox":
        return rnd.random() < 0.5
    if t in ("phone", "email", "url", "user", "lookup"):
        return {"phone": "+86 138-0013-8000", "email": "a@b.cn", "url": "https://x.cn/a", "user": "eng.zhang",
                "lookup": ID}[t]
    if t == "geolocation":
        return {"lat": Decimal("31.23456789"), "lng": 121, "accuracy": Decimal("5.5")}
    if t in ("image", "file", "signature"):
        one = {**ATTACHMENT, "content_type": f.accept[0] if f.accept else "image/png"}
        return [one] if getattr(f, "multiple", False) else one
    if t == "subtable":
        return [{rf.name: valid_for(rf, rnd) for rf in f.fields if rf.required or rnd.random() < 0.7}
                for _ in range(rnd.randrange(f.min_rows, min(f.max_rows, 3) + 1))]
    return None


def payload(form, rnd: random.Random) -> dict:
    if rnd.random() < 0.4:  # mostly valid: every required field, a valid value for most others, one broken now and then
        data = {f.name: valid_for(f, rnd) for f in form.fields
                if not f.platform_written and not f.computed_by_server and (f.required or rnd.random() < 0.7)}
        if data and rnd.random() < 0.3:
            name = rnd.choice(list(data))
            data[name] = value_for(form.fields_by_name[name], rnd)
        return data
    data = {f.name: value_for(f, rnd) for f in form.fields if rnd.random() < 0.6}
    if rnd.random() < 0.1:
        data[rnd.choice(["zzz", "Bad Key", "$user"])] = 1
    return data


def outcome(form, patch, engine, **kw) -> tuple:
    """What one engine answers, in a comparable form, and the expression steps it charged."""
    budget = RequestBudget(max_steps=10**9, max_cpu=60.0)
    token = _current.set(budget)
    try:
        try:
            result = engine(form, patch, **kw)
            answer: tuple = ("ok", repr(result.data), [(r.kind, r.target, r.form, r.role, r.path) for r in result.references],
                             repr(result.unique_values), result.changed_fields)
        except AppError as exc:
            answer = ("error", type(exc).__name__, exc.message, repr(exc.details))
    finally:
        _current.reset(token)
    return answer, budget.steps


def assert_same(form, patch, **kw) -> tuple:
    expected, reference_steps = outcome(form, patch, reference.validate_record, **kw)
    got, steps = outcome(form, patch, validate_record, **kw)
    assert got == expected, (form.name, patch, kw)
    assert steps <= reference_steps
    return expected


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_creates_and_updates_match_the_reference(form):
    rnd = random.Random(f"forms-{form.name}")
    stored: list[dict] = []
    valid = 0
    for i in range(1500):
        patch = payload(form, rnd)
        kw: dict = {"system": rnd.random() < 0.15}
        if rnd.random() < 0.2:
            kw["variables"] = {"$user": {"id": rnd.choice(["eng.zhang", "guest"]), "roles": ["agent"], "attributes": {}},
                               "$now": "2026-11-25T09:30:00Z", "$today": "2026-11-25"}
        if rnd.random() < 0.1:
            kw["server_written"] = tuple(f.name for f in form.fields if f.platform_written)
        if stored and rnd.random() < 0.5:  # an update of a stored record, or of anything at all
            kw["previous"] = rnd.choice(stored) if rnd.random() < 0.8 else payload(form, rnd)
            patch = dict(list(patch.items())[:rnd.randrange(1, 5)])
        answer = assert_same(form, patch, **kw)
        if answer[0] == "ok":
            valid += 1
            stored.append(validate_record(form, patch, **kw).data)
    assert valid > 50  # the generator reaches the valid side too


def test_a_full_work_order_and_its_updates_match_the_reference():
    from bench.engines import UPDATE, WORK_ORDER_JSON

    from chalicelib import jsonutil
    form = next(f for f in FORMS if f.name == "work_order")
    data = jsonutil.loads(WORK_ORDER_JSON)
    assert assert_same(form, data)[0] == "ok"
    created = validate_record(form, data).data
    assert assert_same(form, UPDATE, previous=created)[0] == "ok"
    for name in data:  # each field broken in turn, on create and on update
        for bad in ("x" * 5000, [{"x": 1}], Decimal("1.001"), {"lat": 100, "lng": 0}, True):
            assert_same(form, {**data, name: bad})
            assert_same(form, {name: bad}, previous=created)


def test_rules_form_edge_cases_match_the_reference():
    stored = validate_record(RULES, {"code": "ABC", "locked": True, "note": "n", "lines": [
        {"part": ID, "qty": 200, "price": 1}, {"part": ID, "qty": 1}]}).data
    for patch in ({"code": "abd"}, {"code": "ABC"}, {"note": "changed"}, {"note": None}, {"lines": [{"part": ID, "qty": 1}]},
                  {"lines": [{"part": "01JDQ3V9W6Y5R8T2M4N7P0K1AC", "qty": 200, "price": 1}]},
                  {"lines": [{"part": ID, "qty": 200, "price": 2}, {"part": ID, "qty": 1}, {"part": ID, "qty": 3}]},
                  {"lines": [{"part": ID, "qty": 600, "price": 1, "why": "big"}]}, {"status": "cancelled"},
                  {"status": "done", "amount": 500}, {"status": "cancelled", "reason": "dup"}, {"owned": "x"},
                  {"owned": None}, {"grand": 1, "no": "N-1"}):
        for system in (False, True):
            assert_same(RULES, patch, previous=stored, system=system)
            assert_same(RULES, patch, system=system)


def test_a_condition_on_a_signature_sees_the_computed_fields_it_signs():
    from chalicelib.signatures import signature_mac, signed_digest

    form = parse_form_definition({"name": "signed", "title": "Signed", "fields": [
        {"name": "qty", "type": "number"},
        {"name": "total", "type": "computed", "expression": "qty * 2"},
        {"name": "sign", "type": "signature", "signs": ["total"]},
        {"name": "thanks", "type": "text", "visible_if": "signature_valid(sign)"}]})
    key, at, by = "t/x/signed/1/sign/u", "2026-11-25T09:30:00Z", "eng.zhang"
    digest = signed_digest(key, ["total"], {"total": Decimal("6.00")})
    sign = {"key": key, "content_type": "image/png", "size": 10, "signed_sha256": digest, "signed_fields": ["total"],
            "signed_at": at, "signed_by": by, "signed_mac": signature_mac(key, digest, ["total"], at, by)}
    patch = {"qty": 3, "sign": sign, "thanks": "ok"}
    assert "thanks" in assert_same(form, patch, server_written=("sign",))[1]  # visible: the signed total is the one computed
    assert "thanks" not in assert_same(form, {**patch, "qty": 4}, server_written=("sign",))[1]


def test_a_date_time_before_year_one_in_utc_is_a_field_error_not_a_crash():
    from chalicelib.forms.values import Invalid, normalize_datetime
    with pytest.raises(Invalid, match="between years 0001 and 9999"):
        normalize_datetime("0001-01-01T00:00:00+01:00")
    assert normalize_datetime("0001-01-01T00:00:00-01:00") == "0001-01-01T01:00:00Z"


# --- the incremental update (previous_checked=True) against the full check ---------------------------------
# An update of a record this form version validated (as returned, or after the store's JSON round trip) may
# settle the fields the patch leaves alone instead of checking them: it must answer exactly as the full check
# — data, references, unique values, changed fields, errors — and never charge more expression steps.
SETTLED = parse_form_definition({"name": "settled", "title": "Settled sub-tables and computed chains", "fields": [
    {"name": "kind", "type": "select", "options": [{"value": "repair"}, {"value": "install"}, {"value": "visit"}],
     "required": True, "default": "repair"},
    {"name": "rate", "type": "money", "minimum": -100, "maximum": 1000},
    {"name": "hours", "type": "number", "scale": 2, "required_if": "kind == 'install'"},
    {"name": "labour", "type": "computed", "expression": "rate * hours", "scale": 2},
    {"name": "labour_text", "type": "computed", "result": "text", "expression": "to_string(rate)"},
    {"name": "when", "type": "datetime"},
    {"name": "due", "type": "computed", "result": "date", "expression": "when"},
    {"name": "late", "type": "computed", "result": "boolean", "expression": "not is_empty(when) and when < $now"},
    {"name": "geo", "type": "geolocation"},
    {"name": "pics", "type": "image", "multiple": True, "max_files": 2},
    {"name": "who", "type": "user"},
    {"name": "note", "type": "text", "visible_if": "labour > 100", "required_if": "total > 500"},
    {"name": "bonus", "type": "money", "visible_if": "kind == 'install'"},
    {"name": "digits", "type": "computed", "expression": "len(to_string(rate))", "scale": 0},
    {"name": "signed_zero", "type": "computed", "expression": "rate * 0", "scale": 2},
    {"name": "lines", "type": "subtable", "max_rows": 4, "fields": [
        {"name": "part", "type": "lookup", "form": "part", "required": True},
        {"name": "qty", "type": "number", "scale": 2, "required": True},
        {"name": "price", "type": "money", "required": True, "minimum": -50},
        {"name": "tag", "type": "select", "options": OPTIONS, "default": "a"},
        {"name": "line", "type": "computed", "expression": "qty * price", "scale": 2},
        {"name": "dear", "type": "computed", "result": "boolean", "expression": "line > 100"}]},
    {"name": "labels", "type": "subtable", "max_rows": 2, "fields": [
        {"name": "tag", "type": "select", "options": OPTIONS, "required": True},
        {"name": "qty", "type": "number", "scale": 2},
        {"name": "label", "type": "computed", "result": "text", "expression": "concat(tag, qty)"}]},
    {"name": "shifts", "type": "subtable", "max_rows": 3, "fields": [
        {"name": "start", "type": "datetime", "required": True},
        {"name": "spent", "type": "duration"},
        {"name": "paid", "type": "computed", "expression": "spent * rate / 3600", "scale": 2}]},
    {"name": "parts", "type": "computed", "expression": "sum(lines.line)", "scale": 2},
    {"name": "total", "type": "computed", "expression": "parts + coalesce(labour, 0) + coalesce(bonus, 0)", "scale": 2},
    {"name": "big", "type": "computed", "result": "boolean", "expression": "total > 200"},
]})
INCREMENTAL_FORMS = FORMS + [SETTLED]


def _condition_inputs(form) -> list[str]:
    """Top-level fields some condition or computed value reads."""
    from chalicelib.expressions import compile_expression
    names: set[str] = set()
    for f in form.fields:
        for rf in [f] + list(getattr(f, "fields", [])):
            for source in (rf.visible_if, rf.required_if, rf.readonly_if, getattr(rf, "expression", None)):
                if source:
                    names |= set(compile_expression(source).field_roots)
    return sorted(names & {f.name for f in form.fields if not f.computed_by_server})


def _update_patch(form, stored: dict, rnd: random.Random) -> dict:
    """1–3 changes aimed at what the incremental path must follow: a condition's or computed value's input
    (flipped, cleared), a sub-table (a row changed, added or dropped, or the table cleared), any field."""
    inputs = _condition_inputs(form)
    tables = [f.name for f in form.fields if f.type == "subtable"]
    writable = [f.name for f in form.fields if not f.computed_by_server]
    patch: dict = {}
    for _ in range(rnd.randrange(1, 4)):
        pick = rnd.random()
        name = rnd.choice(inputs if inputs and pick < 0.4 else tables if tables and pick < 0.7 else writable)
        f = form.fields_by_name[name]
        roll = rnd.random()
        if roll < 0.15:
            patch[name] = None  # cleared
        elif f.type == "subtable" and isinstance(stored.get(name), list) and roll < 0.8:
            rows = [dict(r) for r in stored[name]]
            if rows and rnd.random() < 0.6:
                row = rnd.choice(rows)
                rf = rnd.choice(f.fields)
                row[rf.name] = valid_for(rf, rnd) if rnd.random() < 0.7 else value_for(rf, rnd)
            elif rnd.random() < 0.5 and len(rows) < f.max_rows:
                rows.append({rf.name: valid_for(rf, rnd) for rf in f.fields if rf.required or rnd.random() < 0.6})
            elif rows:
                rows.pop(rnd.randrange(len(rows)))
            patch[name] = rows
        else:
            patch[name] = valid_for(f, rnd) if roll < 0.75 else value_for(f, rnd)
    return patch


def _padded(value, rnd: random.Random):
    """Numbers now and then written with trailing zeros (5 → 5.00), as a client may: the store drops them."""
    if isinstance(value, dict):
        return {k: _padded(v, rnd) for k, v in value.items()}
    if isinstance(value, list):
        return [_padded(v, rnd) for v in value]
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool) and rnd.random() < 0.3:
        try:
            return Decimal(value) + Decimal("0.00")
        except ArithmeticError:
            return value
    return value


def assert_incremental_same(form, patch, **kw) -> tuple:
    expected, full_steps = outcome(form, patch, validate_record, **kw)
    got, steps = outcome(form, patch, validate_record, previous_checked=True, **kw)
    assert got == expected, (form.name, patch, kw)
    assert steps <= full_steps
    return expected


@pytest.mark.parametrize("form", INCREMENTAL_FORMS, ids=lambda f: f.name)
def test_incremental_updates_match_the_full_check(form):
    from chalicelib import jsonutil
    rnd = random.Random(f"incremental-{form.name}")
    stored: list[dict] = []
    while len(stored) < 40:  # records as this version stored them
        data = _padded(payload(form, rnd), rnd)
        try:
            stored.append(validate_record(form, data, system=rnd.random() < 0.5,
                                          server_written=tuple(f.name for f in form.fields if f.platform_written)).data)
        except AppError:
            continue
    outcomes = {"ok": 0, "error": 0}
    for i in range(1500):
        previous = rnd.choice(stored)
        if rnd.random() < 0.6:  # as read back from the store: 1280.00 → 1280, 445.10 → 445.1
            previous = jsonutil.loads(jsonutil.dumps(previous))
        kw: dict = {"previous": previous, "system": rnd.random() < 0.3}
        if rnd.random() < 0.5:
            kw["variables"] = {"$user": {"id": rnd.choice(["eng.zhang", "guest"]), "roles": ["agent"], "attributes": {}},
                               "$now": rnd.choice(["2026-11-25T09:30:00Z", "2027-01-01T00:00:00Z"]), "$today": "2026-11-25"}
        if rnd.random() < 0.2:
            kw["record"] = {"id": ID, "number": rnd.choice([None, 7])}
        patch = _update_patch(form, previous, rnd) if rnd.random() < 0.85 else {}
        answer = assert_incremental_same(form, patch, **kw)
        outcomes[answer[0]] += 1
        if answer[0] == "ok" and rnd.random() < 0.3:
            stored.append(validate_record(form, patch, **kw).data)  # later updates build on this one
    assert outcomes["ok"] > 300 and outcomes["error"] > 30, outcomes


def test_incremental_updates_of_a_full_work_order():
    from bench.engines import UPDATE, WORK_ORDER_JSON

    from chalicelib import jsonutil
    form = next(f for f in FORMS if f.name == "work_order")
    created = validate_record(form, jsonutil.loads(WORK_ORDER_JSON)).data
    for previous in (created, jsonutil.loads(jsonutil.dumps(created))):
        assert assert_incremental_same(form, UPDATE, previous=previous)[4] == sorted(UPDATE)
        for patch in ({"warranty_status": "in_warranty"}, {"repair_quote": None}, {"parts_used": previous["parts_used"][:1]},
                      {"parts_used": [{**previous["parts_used"][0], "quantity": 3}] + previous["parts_used"][1:]},
                      {"visits": None}, {"satisfaction_rating": 1}, {"customer": None}, {"contract_price": "x"}):
            for system in (False, True):
                assert_incremental_same(form, patch, previous=previous, system=system)


def test_incremental_updates_follow_hidden_inputs_and_stored_number_forms():
    from chalicelib import jsonutil
    lines = [{"part": ID, "qty": Decimal("2.00"), "price": Decimal("30.50")}, {"part": ID, "qty": 1, "price": -20}]
    created = validate_record(SETTLED, {"kind": "install", "hours": Decimal("1.50"), "rate": Decimal("80.00"),
                                        "bonus": 7, "lines": lines}).data
    for previous in (created, jsonutil.loads(jsonutil.dumps(created))):
        for patch in ({"kind": "repair"}, {"rate": None}, {"hours": 2}, {"lines": lines[:1]}, {"lines": None},
                      {"bonus": 100}, {"kind": "visit", "note": "x"}, {}):
            answer = assert_incremental_same(SETTLED, patch, previous=previous)
            assert answer[0] == "ok", (patch, answer)


def test_incremental_updates_take_a_signature_stamped_after_validation_as_changed():
    form = parse_form_definition({"name": "stamped", "title": "Stamped", "fields": [
        {"name": "note", "type": "text"},
        {"name": "sign", "type": "signature", "signs": ["note"]},
        {"name": "stamped", "type": "computed", "result": "boolean", "expression": "not is_empty(sign.signed_at)"}]})
    sign = {"key": "t/x/stamped/1/sign/u", "content_type": "image/png", "size": 10}
    data = validate_record(form, {"note": "n", "sign": sign}, server_written=("sign",)).data
    assert data["stamped"] is False
    data["sign"] = {**data["sign"], "signed_at": "2026-11-25T09:30:00Z", "signed_by": "eng.zhang"}  # as uploads.confirm does
    assert assert_incremental_same(form, {"note": "m"}, previous=data)[1].count("'stamped': True") == 1


# --- the plan's fast paths (issue 19): each answers as the careful walk or the full evaluation would --------
# One pass over a run of plain fields (top level on a create, a new row of a table without conditions) when
# nothing is wrong with them, the careful walk on any doubt; computed values over fields that are all absent
# taken from the plan; numbers already written at their scale, whole durations, accepted content types and
# date-times in UTC checked on a short path.
FAST = parse_form_definition({"name": "fast", "title": "Fast paths", "fields": [
    {"name": "title", "type": "text", "required": True, "max_length": 5},
    {"name": "who", "type": "user", "required": True},
    {"name": "count", "type": "number", "required": True, "minimum": -5, "maximum": 100},
    {"name": "price", "type": "money", "minimum": Decimal("0.01"), "maximum": Decimal("99.99")},
    {"name": "done", "type": "checkbox", "required": True},
    {"name": "tags", "type": "multiselect", "options": OPTIONS, "required": True, "min_items": 0},
    {"name": "spent", "type": "duration", "minimum": 0, "maximum": 7200},
    {"name": "photo", "type": "image", "accept": ["image/png", "image/jpeg"]},
    {"name": "when", "type": "datetime"},
    {"name": "ref", "type": "lookup", "form": "other"},
    {"name": "shown", "type": "text", "visible_if": "done"},
    {"name": "owned", "type": "number", "server_owned": True},
    {"name": "lines", "type": "subtable", "max_rows": 4, "fields": [
        {"name": "part", "type": "lookup", "form": "part", "required": True, "read_only": True},
        {"name": "qty", "type": "number", "scale": 2, "required": True},
        {"name": "who", "type": "user"},
        {"name": "note", "type": "text", "max_length": 3},
        {"name": "line", "type": "computed", "expression": "qty * 2", "scale": 2}]},
    {"name": "after", "type": "text", "max_length": 3},
    {"name": "low", "type": "computed", "result": "boolean", "expression": "not is_empty(owned) and owned <= 2"},
    {"name": "owned_twice", "type": "computed", "expression": "coalesce(owned, 5) * 2", "scale": 2},
    {"name": "total", "type": "computed", "expression": "sum(lines.line)", "scale": 2},
]})
GOOD = {"title": "abc", "who": "eng.zhang", "count": 3, "price": Decimal("12.50"), "done": True, "tags": ["a"],
        "spent": 60, "photo": {**ATTACHMENT, "content_type": "image/png"}, "when": "2026-11-25T09:30:00Z", "ref": ID,
        "shown": "x", "lines": [{"part": ID, "qty": Decimal("1.50"), "who": "eng.li"}, {"part": ID, "qty": 2}],
        "after": "abc"}


@pytest.mark.parametrize("change", [
    {}, {"count": 0}, {"done": False}, {"tags": []}, {"title": ""}, {"title": None}, {"who": None}, {"count": True},
    {"count": Decimal("1.0")}, {"count": Decimal("-0")}, {"count": Decimal("100.0")}, {"count": 101}, {"count": -6},
    {"price": Decimal("0.00")}, {"price": Decimal("-0.00")}, {"price": Decimal("99.99")}, {"price": Decimal("100.00")},
    {"price": Decimal("12.5")}, {"price": Decimal("12.505")}, {"price": Decimal("9999999999999.99")},
    {"price": Decimal("NaN")}, {"price": Decimal("Infinity")}, {"price": 1.25},
    {"spent": 0}, {"spent": 7200}, {"spent": 7201}, {"spent": -1}, {"spent": True}, {"spent": Decimal("60")},
    {"spent": Decimal("60.5")}, {"spent": 10**12},
    {"photo": {**ATTACHMENT, "content_type": "image/jpeg"}}, {"photo": {**ATTACHMENT, "content_type": "image/gif"}},
    {"photo": {**ATTACHMENT, "content_type": "IMAGE/PNG"}}, {"photo": {**ATTACHMENT, "content_type": ["image/png"]}},
    {"photo": {**ATTACHMENT, "key": "bad key!"}}, {"photo": {**ATTACHMENT, "size": True}},
    {"photo": {**ATTACHMENT, "content_type": "image/png", "size": -1}},
    {"when": "2026-02-30T00:00:00Z"}, {"when": "0999-01-01T00:30:00+01:00"}, {"when": "0001-01-01T00:00:00+01:00"},
    {"when": "2026-11-25t09:30:00z"}, {"when": "2026-11-25T23:30:00.250-02:00"}, {"ref": "x"},
    {"done": False, "shown": "x"}, {"owned": 1}, {"after": "abcd"}, {"zzz": 1},
    {"lines": [{"part": ID, "qty": 0}]}, {"lines": [{"part": ID, "qty": Decimal("1.505")}]},
    {"lines": [{"part": ID, "qty": 1, "note": ""}, {"qty": 1}]}, {"lines": [{"part": ID, "qty": 1, "zzz": 1}]},
    {"lines": [{"part": "", "qty": 1}]}, {"lines": [{"part": ID, "qty": 1, "who": "bad user!"}]},
    {"lines": [{"part": ID, "qty": 1, "note": "long"}, {"part": ID, "qty": "x"}]}, {"lines": []}, {"lines": None},
    # a create's rows in one pass (forms.engine._new_rows) or, on any doubt, the walk
    {"lines": [{"part": ID, "qty": 1, "who": None}, {"part": ID, "qty": 2, "who": "eng.li"}]},
    {"lines": [{"part": ID, "qty": 1, "who": "eng.li"}, {"part": ID, "qty": 2, "who": "eng.li"}, {"part": ID, "qty": 0}]},
    {"lines": [{"part": ID, "qty": 1}] * 5}, {"lines": ({"part": ID, "qty": 1},)}, {"lines": [{"part": ID, "qty": 1}, "row"]},
    {"lines": [{"part": ID, "qty": Decimal("1E+14")}]}, {"lines": [{"part": ID, "qty": 1, "line": 9}]},
])
def test_one_pass_checks_answer_as_the_careful_walk(change):
    data = {**GOOD, **change}
    data = {k: v for k, v in data.items() if v is not None or k in change}
    assert_same(FAST, data)
    assert_same(FAST, data, system=True)
    assert_same(FAST, data, server_written=("owned",))
    stored = validate_record(FAST, GOOD).data
    assert_same(FAST, change, previous=stored)
    assert_incremental_same(FAST, change, previous=stored)


def test_computed_values_over_absent_fields_come_from_the_plan_and_charge_nothing():
    created = assert_same(FAST, GOOD)
    assert "'low': False" in created[1] and "'owned_twice': Decimal('10.00')" in created[1]
    _, steps_absent = outcome(FAST, GOOD, validate_record)
    _, steps_there = outcome(FAST, {**GOOD, "owned": 1}, validate_record, server_written=("owned",))
    assert steps_absent < steps_there  # the two over `owned` were evaluated only when it had a value
    with_owned = assert_same(FAST, {**GOOD, "owned": 1}, server_written=("owned",))
    assert "'low': True" in with_owned[1] and "'owned_twice': Decimal('2.00')" in with_owned[1]
    no_lines = assert_same(FAST, {k: v for k, v in GOOD.items() if k != "lines"})
    assert "'total': Decimal('0.00')" in no_lines[1]  # sum() of nothing, as the expression says
    stored = validate_record(FAST, {**GOOD, "owned": 1}, server_written=("owned",)).data
    for patch in ({"owned": None}, {"lines": None}, {"owned": 3}):
        assert_same(FAST, patch, previous=stored, system=True)
        assert_incremental_same(FAST, patch, previous=stored, system=True)


def test_value_checks_match_the_reference_checks_on_their_short_paths():
    from chalicelib.forms.values import Invalid, value_check

    def answer(check, value):
        try:
            return "ok", repr(check(value))
        except (Invalid, reference.Invalid) as exc:
            return "invalid", str(exc)

    values = NUMBERS + [Decimal("12.50"), Decimal("-0.00"), Decimal("9999999999999.99"), Decimal("10000000000000.00"),
                        Decimal("0.01"), Decimal("99.99"), Decimal("100.00"), Decimal("31.23456789"), 7200, 7201, -7200,
                        10**12, -10**12] + DATETIMES + ["0999-01-01T00:30:00+01:00", "2026-11-25T23:30:00.250-02:00"]
    for f in FAST.fields + RULES.fields + [rf for rf in FAST.fields_by_name["lines"].fields if rf.type != "computed"]:
        if f.computed_by_server or f.type == "subtable":
            continue
        check = value_check(f)
        samples = values + [valid_for(f, random.Random(f.name))]
        if f.type in ("image", "file", "signature"):
            samples = [{**ATTACHMENT, "content_type": t} for t in ("image/png", "image/jpeg", "application/pdf",
                                                                    "Image/png", "image/png\n")]
            samples += [attachment(random.Random(i), f.type == "signature") for i in range(60)]
        for value in samples:
            assert answer(check, value) == answer(partial_reference(f), value), (f.name, value)


def partial_reference(f):
    return lambda value: reference.check_value(f, value)
