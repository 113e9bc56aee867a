"""Our engines beside the libraries a user would pick instead, in one process (the ratios are what count
on a noisy machine). Peers are development packages (requirements-dev.txt), never in the Lambda bundle.

    python -m bench.engines [--repeat 5]

Expressions: a 5-clause condition evaluated with its parse cached (ours compiled into closures, our
tree walker — the reference — simpleeval, jmespath, a Python lambda), and the same condition parsed
uncached. Forms: the shipped work order validated on create (every field a client writes, with
sub-table rows) and on an update of 3 fields of the stored record — ours running the form's compiled plan
(an update incrementally, as a PATCH does, and as a full check), and the field walk it replaced (the
reference in tests/unit) — beside a pydantic v2 model of the same fields (on an update: of the merged
record), that model again doing the whole job validate_record does on a create (model_dump of the values to
store, the form's computed fields and its one condition written in Python: `pydantic_record`), and the form's
JSON Schema export compiled by fastjsonschema and by jsonschema. Prints a table (median of
`--repeat` runs of many calls each) and the ratios.

    python -m bench.engines --before [REV] [--forms-only]

adds the form engine as it was at git revision REV (default: the commit before issue 19's last work on
it), loaded from git into this process beside today's (`chalicelib.forms._before_engine`, nothing else
uses it): its create and incremental update beside today's, with each one's ratio to pydantic.
`--forms-only` skips the expression rows.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

CONDITION = "priority == 'urgent' and region in ['north', 'east'] and amount > 1000 and not closed and customer.tier != 'basic'"
SIMPLEEVAL = "priority == 'urgent' and region in ['north', 'east'] and amount > 1000 and not closed and customer['tier'] != 'basic'"
JMESPATH = "priority == 'urgent' && contains(['north', 'east'], region) && amount > `1000` && !closed && customer.tier != 'basic'"
RECORD = {"priority": "urgent", "region": "east", "amount": 2500, "closed": False, "customer": {"tier": "gold"}}


def per_call_us(action: Callable[[], Any], repeat: int, calls: int) -> float:
    """Median over `repeat` runs of the mean CPU time of one call, in µs (this process's CPU time: other
    processes on a busy machine do not count)."""
    runs = []
    for _ in range(repeat):
        started = time.process_time()
        for _ in range(calls):
            action()
        runs.append((time.process_time() - started) / calls * 1e6)
    return statistics.median(runs)


def expressions(repeat: int) -> list[tuple[str, str, float]]:
    import jmespath
    import simpleeval

    from chalicelib.expressions import compile_expression
    from chalicelib.expressions.evaluator import evaluate as walk
    from chalicelib.expressions.parser import parse
    from chalicelib.expressions.compiler import program

    ours_record = {**RECORD, "amount": Decimal(RECORD["amount"])}  # records hold exact decimals
    expression = compile_expression(CONDITION)
    tree = parse(CONDITION)
    assert expression.evaluate(ours_record) is True and walk(tree, ours_record) is True
    evaluator = simpleeval.EvalWithCompoundTypes(names=RECORD)
    parsed = evaluator.parse(SIMPLEEVAL)
    assert evaluator.eval(SIMPLEEVAL, previously_parsed=parsed) is True
    jp = jmespath.compile(JMESPATH)
    assert jp.search(RECORD) is True
    native = lambda r: (r["priority"] == "urgent" and r["region"] in ("north", "east") and r["amount"] > 1000  # noqa: E731
                        and not r["closed"] and r["customer"]["tier"] != "basic")
    assert native(RECORD) is True
    n = 20_000
    rows = [
        ("evaluate (parse cached)", "ours: compiled closures", per_call_us(lambda: expression.evaluate(ours_record), repeat, n)),
        ("evaluate (parse cached)", "ours: tree walker (before)", per_call_us(lambda: walk(tree, ours_record, CONDITION), repeat, n)),
        ("evaluate (parse cached)", "simpleeval 1.0", per_call_us(lambda: evaluator.eval(SIMPLEEVAL, previously_parsed=parsed), repeat, n)),
        ("evaluate (parse cached)", "jmespath", per_call_us(lambda: jp.search(RECORD), repeat, n)),
        ("evaluate (parse cached)", "Python lambda", per_call_us(lambda: native(RECORD), repeat, n)),
    ]
    m = 2_000
    rows += [
        ("parse (uncached)", "ours: parse", per_call_us(lambda: parse(CONDITION), repeat, m)),
        ("parse (uncached)", "ours: parse + compile", per_call_us(lambda: program(parse(CONDITION)), repeat, m)),
        ("parse (uncached)", "simpleeval 1.0", per_call_us(lambda: evaluator.parse(SIMPLEEVAL), repeat, m)),
        ("parse (uncached)", "jmespath (its cache off)", per_call_us(lambda: jmespath.parser.Parser()._do_parse(JMESPATH), repeat, m)),
    ]
    return rows


FORM_PATH = Path(__file__).resolve().parents[1] / "definitions" / "after_sales" / "forms" / "work_order.json"
ID = "01JDQ3V9W6Y5R8T2M4N7P0K{}"
PHOTO = {"key": "t/demo/work_order/photos/{}.jpg", "content_type": "image/jpeg", "size": 482113,
         "name": "fault.jpg", "sha256": "9f2c" * 16}
# Every field a client writes on a complete order (the platform-written ones are left out), as JSON:
# the API parses numbers to Decimal, and so does the bench.
WORK_ORDER_JSON = json.dumps({
    "channel": "phone", "customer": ID.format("1AB"), "product": ID.format("2CD"), "serial_number": "HV-2026-004217",
    "product_line": "hvac", "fault_description": "Outdoor unit trips the breaker about ten minutes after start-up; "
    "error code E4 on the panel.", "fault_photos": [{**PHOTO, "key": PHOTO["key"].format(i)} for i in range(3)],
    "service_address": "Room 1802, 88 Century Avenue, Pudong, Shanghai",
    "service_location": {"lat": 31.23456789, "lng": 121.50123456, "accuracy": 12.5},
    "reported_at": "2026-11-25T09:30:00+08:00", "priority": "urgent", "warranty_status": "out_of_warranty",
    "region": "east", "assigned_engineer": "eng.zhang", "contract_price": 1280.00,
    "parts_used": [{"line_id": f"L{i}", "part": ID.format(f"3E{i}"), "quantity": q, "warehouse": ID.format("4FG"),
                    "unit_price": p} for i, (q, p) in enumerate([(2, 45.50), (1, 310.00), (0.5, 88.20)])],
    "visits": [{"checked_in_at": "2026-11-25T13:05:12Z", "checkin_location": {"lat": 31.2346, "lng": 121.5013},
                "checkin_distance_m": 38, "checkin_flagged": False, "checked_out_at": "2026-11-25T15:40:00Z",
                "on_site_seconds": 9288},
               {"checked_in_at": "2026-11-27T09:00:00Z", "checkin_location": {"lat": 31.2401, "lng": 121.5102},
                "checkin_distance_m": 612, "checkin_flagged": True, "checkin_reason": "Gate closed, parked at the back",
                "checked_out_at": "2026-11-27T10:15:30Z", "on_site_seconds": 4530}],
    "first_checkin_at": "2026-11-25T13:05:12Z", "travel_seconds": 2700, "on_site_seconds": 13818,
    "checkin_flagged": True, "service_report": "Replaced the compressor contactor and the start capacitor; "
    "tested 40 minutes under load.", "first_time_fix": False, "phone_rating": 4,
    "phone_comment": "Quick and tidy.", "follow_up_note": "Call again after the summer peak.", "repair_quote": 1650.00,
})
UPDATE = {"priority": "high", "service_report": "Contactor replaced; capacitor on order.", "contract_price": Decimal("1350.00")}


def pydantic_peer(form) -> type:
    """A pydantic v2 model of the form's client fields, built once (create_model), Decimal numbers."""
    from typing import Annotated, Literal, Optional

    from pydantic import ConfigDict, Field, create_model

    from chalicelib.forms.values import (DATETIME_PATTERN, RECORD_ID_PATTERN, UPLOAD_KEY_PATTERN, USER_ID_PATTERN,
                                         number_bound)

    strict = ConfigDict(extra="forbid", strict=True)

    def number(scale, minimum, maximum):
        bound = number_bound(scale)
        # lax for numbers only: JSON integers parse to int (it would also take "12.5")
        return Annotated[Decimal, Field(strict=False, gt=-bound, lt=bound, decimal_places=scale, ge=minimum, le=maximum)]

    geo = create_model("Geo", __config__=strict, lat=(number(8, -90, 90), ...), lng=(number(8, -180, 180), ...),
                       accuracy=(Optional[number(2, 0, None)], None))
    attachment = create_model("Attachment", __config__=strict, key=(str, Field(pattern=UPLOAD_KEY_PATTERN)),
                              content_type=(str, ...), size=(int, Field(ge=0, le=20 * 1024 * 1024)),
                              name=(Optional[str], Field(None, max_length=255)),
                              sha256=(Optional[str], Field(None, pattern="^[0-9a-f]{64}$")))

    def annotation(f):
        t = f.type
        if t in ("text", "textarea"):
            return Annotated[str, Field(max_length=f.max_length)]
        if t in ("number", "money", "percent"):
            return number(f.scale, f.minimum, f.maximum)
        if t == "datetime":
            return Annotated[str, Field(pattern=DATETIME_PATTERN)]
        if t == "duration":
            return Annotated[int, Field(ge=f.minimum, le=f.maximum)]
        if t == "select":
            return Literal[tuple(o.value for o in f.options)]
        if t == "checkbox":
            return bool
        if t == "rating":
            return Annotated[int, Field(ge=1, le=f.max)]
        if t == "geolocation":
            return geo
        if t == "image":
            return Annotated[list[attachment], Field(max_length=f.max_files)]
        if t == "user":
            return Annotated[str, Field(pattern=USER_ID_PATTERN)]
        if t == "lookup":
            return Annotated[str, Field(pattern=RECORD_ID_PATTERN)]
        if t == "subtable":
            row = model(f.name, f.fields)
            return Annotated[list[row], Field(min_length=f.min_rows, max_length=f.max_rows)]
        raise ValueError(t)

    def model(name, fields):
        spec = {f.name: ((annotation(f), ...) if f.required else (Optional[annotation(f)], None))
                for f in fields if not f.computed_by_server and not f.platform_written}
        return create_model(name, __config__=strict, **spec)

    return model(form.name, form.fields)


def pydantic_record(model, payload: dict) -> dict:
    """What our validate_record hands the store, through the pydantic peer: the validated values as a dict
    (model_dump, nulls left out) with the form's computed fields and its one condition worked out in Python,
    as a pydantic user would write them for the shipped work order (line totals, the parts total, the
    follow-up flag, the repair quote kept only out of warranty)."""
    data = model.model_validate(payload).model_dump(exclude_none=True)
    cent = Decimal("0.01")
    total = Decimal(0)
    for row in data.get("parts_used", ()):
        if row.get("quantity") is not None and row.get("unit_price") is not None:
            row["line_total"] = (row["quantity"] * row["unit_price"]).quantize(cent)
            total += row["line_total"]
    data["parts_total"] = total.quantize(cent)
    rating = data.get("satisfaction_rating")
    data["satisfaction_follow_up"] = rating is not None and rating <= 2
    if data.get("warranty_status") != "out_of_warranty":
        data.pop("repair_quote", None)
    return data


FORMS_BEFORE = "0f3606ea37e026c0d074fd0a12b38db5d9926699"  # chalicelib/forms/engine.py and values.py before issue 19's last pass


def _engine_at(rev: str):
    """chalicelib/forms/engine.py (with its values.py) as it was at `rev`, read from git and loaded as
    modules of chalicelib.forms, so its relative imports find today's definition, fields and errors."""
    import importlib.util
    import subprocess
    import sys
    import tempfile
    root = Path(__file__).resolve().parent.parent

    folder = Path(tempfile.mkdtemp(prefix="forms-before-"))

    def load(name: str, source: str):
        path = folder / f"{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(f"chalicelib.forms.{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module

    def show(path: str) -> str:
        return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, check=True, capture_output=True, text=True).stdout
    import chalicelib.forms.definition  # noqa: F401 (the package the old modules join)
    load("_before_values", show("chalicelib/forms/values.py"))
    source = show("chalicelib/forms/engine.py").replace("from .values import", "from ._before_values import")
    # its own plan per form (today's engine caches a different one on FormDefinition.validation_plan)
    source = source.replace("form.validation_plan", "_plan(form)") + (
        "\n\n_PLANS: dict = {}\n\n\ndef _plan(form):\n"
        "    if id(form) not in _PLANS:\n        _PLANS[id(form)] = FormPlan(form)\n    return _PLANS[id(form)]\n")
    return load("_before_engine", source)


def forms(repeat: int, before: str | None = None) -> list[tuple[str, str, float]]:
    import fastjsonschema
    import jsonschema

    from chalicelib import jsonutil
    from chalicelib.forms.definition import parse_form_definition
    from chalicelib.forms.engine import validate_record
    from chalicelib.forms.schema import form_json_schema
    from tests.unit.reference_form_engine import validate_record as walk_form  # the engine before its plan

    form = parse_form_definition(jsonutil.loads(FORM_PATH.read_text()))
    payload = jsonutil.loads(WORK_ORDER_JSON)
    created = validate_record(form, payload).data
    assert len(payload) == 27 and created["parts_total"] == Decimal("445.10"), created
    model = pydantic_peer(form)
    model.model_validate(payload)
    peer_record = pydantic_record(model, payload)
    assert (peer_record["parts_total"], peer_record["parts_used"][1]["line_total"]) == (
        created["parts_total"], created["parts_used"][1]["line_total"]), peer_record
    # The schema as a client receives it (numbers in JSON), compiled once by each peer.
    schema = json.loads(jsonutil.dumps(form_json_schema(form, 1)), parse_float=Decimal)
    fast = fastjsonschema.compile(schema)
    floats = json.loads(WORK_ORDER_JSON)  # fastjsonschema's multipleOf divides by a float: it takes floats only
    fast(floats)
    slow = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    slow.validate(payload)
    assert validate_record(form, UPDATE, previous=created).changed_fields == sorted(UPDATE)
    stored = jsonutil.loads(jsonutil.dumps(created))  # the record as the store gives it back (JSON text)
    incremental = validate_record(form, UPDATE, previous=stored, previous_checked=True)
    full = validate_record(form, UPDATE, previous=stored)
    assert (repr(incremental.data), incremental.changed_fields) == (repr(full.data), full.changed_fields)
    merged = {**payload, **UPDATE}
    model.model_validate(merged)
    n = 2_000
    earlier: list[tuple[str, str, float]] = []
    if before:
        validate_before = _engine_at(before).validate_record
        old_created = validate_before(form, payload)
        assert repr(old_created.data) == repr(created), "the engine before answers otherwise"
        old_update = validate_before(form, UPDATE, previous=stored, previous_checked=True)
        assert (repr(old_update.data), old_update.changed_fields) == (repr(incremental.data), incremental.changed_fields)
        earlier = [
            ("work order create (27 fields)", "ours before", per_call_us(lambda: validate_before(form, payload), repeat, n)),
            ("update of 3 fields", "ours before (PATCH)", per_call_us(
                lambda: validate_before(form, UPDATE, previous=stored, previous_checked=True), repeat, n)),
        ]
    return earlier[:1] + [
        ("work order create (27 fields)", "ours: validate_record", per_call_us(lambda: validate_record(form, payload), repeat, n)),
        ("work order create (27 fields)", "ours: field walk (before)", per_call_us(lambda: walk_form(form, payload), repeat, n)),
        ("work order create (27 fields)", "pydantic v2 create_model", per_call_us(lambda: model.model_validate(payload), repeat, n)),
        ("work order create (27 fields)", "pydantic v2 + dump + computed", per_call_us(
            lambda: pydantic_record(model, payload), repeat, n)),
        ("work order create (27 fields)", "fastjsonschema (floats)", per_call_us(lambda: fast(floats), repeat, n)),
        ("work order create (27 fields)", "jsonschema", per_call_us(lambda: slow.validate(payload), repeat, n // 10)),
    ] + earlier[1:] + [
        ("update of 3 fields", "ours: incremental (PATCH)", per_call_us(
            lambda: validate_record(form, UPDATE, previous=stored, previous_checked=True), repeat, n)),
        ("update of 3 fields", "ours: full check", per_call_us(lambda: validate_record(form, UPDATE, previous=stored), repeat, n)),
        ("update of 3 fields", "ours: field walk (before)", per_call_us(lambda: walk_form(form, UPDATE, previous=stored), repeat, n)),
        ("update of 3 fields", "pydantic v2 (merged record)", per_call_us(lambda: model.model_validate(merged), repeat, n)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before", nargs="?", const=FORMS_BEFORE, default=None, metavar="REV",
                        help="also the form engine as it was at git revision REV (default: before issue 19's last pass)")
    parser.add_argument("--forms-only", action="store_true", help="skip the expression rows")
    args = parser.parse_args()
    rows = ([] if args.forms_only else expressions(args.repeat)) + forms(args.repeat, args.before)
    print(f"condition: {CONDITION}")
    print(f"{'what':30} {'engine':30} {'µs per call':>12} {'vs ours':>10}")
    ours: dict[str, float] = {}  # the first of ours in each group is what the others are set against
    for what, engine, us in rows:
        if engine.startswith("ours") and "before" not in engine and engine != "ours: parse + compile":
            ours.setdefault(what, us)
    for what, engine, us in rows:
        ratio = us / ours[what]
        print(f"{what:30} {engine:30} {us:12.2f} {ratio:9.1f}×")
    peers = {what: us for what, engine, us in rows if engine.startswith("pydantic") and "computed" not in engine}
    complete = {what: us for what, engine, us in rows if engine == "pydantic v2 + dump + computed"}
    if args.before:  # each of ours against pydantic, in this run
        for what, engine, us in rows:
            if what in peers and engine.startswith("ours") and ("issue 19" in engine or engine in (
                    "ours: validate_record", "ours: incremental (PATCH)")):
                print(f"{what:30} {engine:30} {us / peers[what]:9.2f}× pydantic" + (
                    f", {us / complete[what]:.2f}× pydantic + dump + computed" if what in complete else ""))


if __name__ == "__main__":
    main()
