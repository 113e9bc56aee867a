"""What ONE record contributes to a report's groups, and the delta between two contributions.

A contribution is {group key: {component: Decimal}}; group aggregates are sums of contributions, so a
record change is applied as (new − old) with additive updates (DynamoDB ADD). Components per group:

- `c`            rows in the group
- `s<i>`, `n<i>` sum and non-null count of measure i (sum, avg, duration; count with a field)
- `d<i>#<h>`     distinct: reference count per value (h = 64-bit hash of the canonical value)
- `v<i>#<value>` min/max: reference count per value (exact; the finishing step takes the extreme)

Group key: JSON list of the dimension values then the scope values (None when missing).

Each report definition (each version: a definition object) is compiled once into a `Plan` of closures
— the row source, the filter, one key part per dimension (time buckets included) and scope field, one
accumulator per measure, every expression compiled once (chalicelib.expressions) — so a record costs
only those calls. A bare field name (`region`, `$state`) is read from the context directly, with the
conversion the expression language applies to what it reads. tests/unit/reference_report_engine.py
keeps the interpreter that read the definition per record; the tests hold the two to identical
contributions.
"""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any, Callable, Mapping

from ..errors import AppError
from .buckets import bucketer, seconds_between
from .definition import ReportDefinition

Contribution = dict[str, dict[str, Decimal]]
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
ONE = Decimal(1)
ZERO = Decimal(0)
_EXACT = 10 ** 18  # ints below this are exact in the language's numbers (28 digits)
_MEMO_LIMIT = 50_000  # entries per memo of a plan (group keys, distinct hashes) before it starts again


def canonical(value: Any) -> str | None:
    """Text of a group or distinct value: 5, 5.0 and Decimal('5.00') are the same group."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value)).normalize()
        return format(number, "f")
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return str(value)


def group_key(values: list[str | None]) -> str:
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


def _truthy(value: Any) -> bool:
    return value not in (None, False, "", [], {}) and value != 0


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value))
        return number if number.is_finite() else None
    return None


def record_context(record: Mapping[str, Any]) -> dict:
    """record = {"data", "state", "created_at", "updated_at", "id", "number"} → the expression context of one record."""
    workflow = record.get("workflow") or {}
    return {**(record.get("data") or {}), "$state": record.get("state", workflow.get("state")),
            "$created_at": record.get("created_at"), "$updated_at": record.get("updated_at"),
            "$id": record.get("id"), "$number": record.get("number")}


# --- the compiled plan --------------------------------------------------------------------------------------

Getter = Callable[[dict], Any]


def _getter(source: str | None) -> Getter:
    """context → the expression's value, None when it cannot be computed on this record (compiled once)."""
    if source is None:
        return lambda context: None
    from ..expressions import compile_expression
    try:
        expression = compile_expression(source)
    except AppError:
        return lambda context: None  # as evaluating it per record would: missing everywhere
    name = source.strip()
    if expression.field_roots | expression.variables == {name}:
        return _name_getter(name)  # a bare field or $variable: what its compiled closure returns
    evaluate = expression.evaluate

    def value(context: dict) -> Any:
        try:
            return evaluate(context)
        except AppError:
            return None  # a value that cannot be computed on this record counts as missing
    return value


def _name_getter(name: str) -> Getter:
    from ..expressions.values import from_context

    def value(context: dict) -> Any:
        raw = context.get(name)
        if raw is None or raw.__class__ is str or raw.__class__ is bool:
            return raw
        if raw.__class__ is int and -_EXACT < raw < _EXACT:
            return Decimal(raw)  # = from_context(raw): well inside the language's precision and range
        try:
            return from_context(raw)  # numbers into the language's range, as an expression reads them
        except AppError:
            return None
    return value


def _predicate(source: str) -> Callable[[dict], bool]:
    get = _getter(source)

    def holds(context: dict) -> bool:
        value = get(context)
        if value is True:
            return True
        if value is None or value is False:
            return False
        return _truthy(value)
    return holds


def _text_of(get: Getter) -> Getter:
    """canonical(get(context)), with strings (the usual group value) passed through."""
    def text(context: dict) -> str | None:
        value = get(context)
        if value.__class__ is str:
            return value
        return canonical(value)
    return text


def _scope_text(name: str) -> Getter:
    def text(context: dict) -> str | None:
        value = context.get(name)
        if value.__class__ is str:
            return value
        return canonical(value)
    return text


def _bucketed(get: Getter, bucket: str, zone) -> Getter:
    key = bucketer(bucket, zone)
    return lambda context: key(get(context))


Accumulate = Callable[[dict, dict], None]


def _accumulator(i: int, measure) -> Accumulate | None:
    """(parts, context) → adds measure i's components for one row; None for a ratio (derived at read)."""
    op = measure.op
    if op == "ratio":
        return None
    s, n = f"s{i}", f"n{i}"
    if op == "count":
        if measure.field is None:
            def add(parts: dict, context: dict) -> None:
                parts[n] = parts.get(n, ZERO) + ONE
        else:
            present = _getter(measure.field)

            def add(parts: dict, context: dict) -> None:
                if present(context) is not None:
                    parts[n] = parts.get(n, ZERO) + ONE
    elif op == "duration":
        start, end, unit = _getter(measure.start), _getter(measure.end), _UNIT_SECONDS[measure.unit]

        def add(parts: dict, context: dict) -> None:
            seconds = seconds_between(start(context), end(context))
            if seconds is not None:
                parts[s] = parts.get(s, ZERO) + Decimal(str(seconds)) / unit
                parts[n] = parts.get(n, ZERO) + ONE
    elif op == "distinct":
        get, names = _getter(measure.field), {}
        prefix = f"d{i}#"

        def add(parts: dict, context: dict) -> None:
            value = get(context)
            if value is None:
                return
            text = canonical(value)
            name = names.get(text)
            if name is None:
                if len(names) >= _MEMO_LIMIT:
                    names.clear()
                name = names[text] = prefix + hashlib.sha256(text.encode()).hexdigest()[:16]
            parts[name] = parts.get(name, ZERO) + ONE
    elif op in ("min", "max"):
        get, prefix = _getter(measure.field), f"v{i}#"

        def add(parts: dict, context: dict) -> None:
            value = get(context)
            if value is None:
                return
            number = _number(value)
            text = canonical(number) if number is not None else (value if isinstance(value, str) else None)
            if text is not None and len(text) <= 200:
                name = prefix + text
                parts[name] = parts.get(name, ZERO) + ONE
    else:  # sum, avg
        get = _getter(measure.field)

        def add(parts: dict, context: dict) -> None:
            value = get(context)
            if value.__class__ is Decimal:  # what an expression gives for a number
                if not value.is_finite():
                    return
            else:
                value = _number(value)
                if value is None:
                    return
            parts[s] = parts.get(s, ZERO) + value
            parts[n] = parts.get(n, ZERO) + ONE
    if measure.where is None:
        return add
    where, accumulate = _predicate(measure.where), add

    def add_where(parts: dict, context: dict) -> None:
        if where(context):
            accumulate(parts, context)
    return add_where


class Plan:
    """One report definition compiled for contributions (build with `plan_for`)."""

    __slots__ = ("report", "_rows", "_filter", "_key_parts", "_measures", "_keys")

    def __init__(self, report: ReportDefinition) -> None:
        zone = report.zone
        self.report = report
        self._rows = report.rows
        self._filter = _predicate(report.filter) if report.filter else None
        parts: list[Getter] = []
        for dim in report.dimensions:
            get = _getter(dim.field)
            parts.append(_bucketed(get, dim.bucket, zone) if dim.bucket else _text_of(get))
        parts += [_scope_text(name) for name in report.scope]
        self._key_parts = tuple(parts)
        self._measures = tuple(a for i, m in enumerate(report.measures) if (a := _accumulator(i, m)) is not None)
        self._keys: dict[tuple, str] = {}  # key part values → group key text

    def contexts(self, record: Mapping[str, Any]) -> list[dict]:
        if self._rows is None:
            return [record_context(record)]
        lines = (record.get("data") or {}).get(self._rows)  # = the context's: a sub-table is a form field
        if not isinstance(lines, list) or not lines:
            return []
        base = record_context(record)
        return [{**base, **line} for line in lines if line.__class__ is dict or isinstance(line, Mapping)]

    def contribution(self, record: Mapping[str, Any] | None) -> Contribution:
        if record is None or record.get("deleted"):
            return {}
        out: Contribution = {}
        keep, key_parts, measures, keys = self._filter, self._key_parts, self._measures, self._keys
        for context in (self.contexts(record) if self._rows is not None else (record_context(record),)):
            if keep is not None and not keep(context):
                continue
            values = tuple([part(context) for part in key_parts])
            key = keys.get(values)
            if key is None:
                if len(keys) >= _MEMO_LIMIT:
                    keys.clear()
                key = keys[values] = group_key(list(values))
            parts = out.get(key)
            if parts is None:
                parts = out[key] = {"c": ONE}  # = Decimal(0) + 1
            else:
                parts["c"] += ONE
            for accumulate in measures:
                accumulate(parts, context)
        return out  # every group holds c ≥ 1: none is all zeros


_PLANS: dict[int, Plan] = {}
_MAX_PLANS = 256


def plan_for(report: ReportDefinition) -> Plan:
    """The compiled plan of a definition object, built on first use (definition versions are parsed once
    and cached by the definitions service, so this is once per report version per process)."""
    found = _PLANS.get(id(report))
    if found is not None and found.report is report:
        return found
    built = Plan(report)
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[id(report)] = built  # the plan holds the definition: its id cannot be reused while cached
    return built


def contribution(report: ReportDefinition, record: Mapping[str, Any] | None) -> Contribution:
    """The contribution of one record (None or deleted → nothing)."""
    return plan_for(report).contribution(record)


def row_contexts(report: ReportDefinition, record: Mapping[str, Any]) -> list[dict]:
    return plan_for(report).contexts(record)


def delta(old: Contribution, new: Contribution) -> Contribution:
    """new − old per group and component, only what changes."""
    out: Contribution = {}
    for key in set(old) | set(new):
        before, after = old.get(key, {}), new.get(key, {})
        changes = {name: after.get(name, Decimal(0)) - before.get(name, Decimal(0)) for name in set(before) | set(after)}
        changes = {name: amount for name, amount in changes.items() if amount != 0}
        if changes:
            out[key] = changes
    return out


def merge_into(total: Contribution, part: Contribution) -> Contribution:
    for key, parts in part.items():
        target = total.get(key)
        if target is None:
            total[key] = {name: ZERO + amount for name, amount in parts.items()}
            continue
        for name, amount in parts.items():
            target[name] = target.get(name, ZERO) + amount
    return total


def recompute(report: ReportDefinition, records) -> Contribution:
    """Full recomputation: the sum of every record's contribution (tests, and the definition of right)."""
    total: Contribution = {}
    for record in records:
        merge_into(total, contribution(report, record))
    return total


def to_json(contrib: Contribution) -> str:
    return json.dumps({k: {n: str(v) for n, v in parts.items()} for k, parts in contrib.items()},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def from_json(text: str | None) -> Contribution:
    if not text:
        return {}
    return {k: {n: Decimal(v) for n, v in parts.items()} for k, parts in json.loads(text).items()}
