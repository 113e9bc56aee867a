"""The report engine as it was before each report was compiled into a plan (chalicelib/reports/
contribution.py): one record's contribution read straight off the definition, every expression looked
up and evaluated per record and per row. Kept as the reference its differential test
(test_reports_compiled.py) compares with: same groups, components, Decimal values and exponents.
Not used by the app."""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any, Mapping

from chalicelib.errors import AppError
from chalicelib.reports.buckets import bucket_key, seconds_between
from chalicelib.reports.definition import ReportDefinition

Contribution = dict[str, dict[str, Decimal]]
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
ONE = Decimal(1)


def canonical(value: Any) -> str | None:
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
    workflow = record.get("workflow") or {}
    return {**(record.get("data") or {}), "$state": record.get("state", workflow.get("state")),
            "$created_at": record.get("created_at"), "$updated_at": record.get("updated_at"),
            "$id": record.get("id"), "$number": record.get("number")}


def _eval(source: str | None, context: Mapping[str, Any]) -> Any:
    if source is None:
        return None
    from chalicelib.expressions import compile_expression
    try:
        return compile_expression(source).evaluate(context)
    except AppError:
        return None  # a value that cannot be computed on this record counts as missing


def row_contexts(report: ReportDefinition, record: Mapping[str, Any]) -> list[dict]:
    base = record_context(record)
    if report.rows is None:
        return [base]
    lines = base.get(report.rows)
    if not isinstance(lines, list):
        return []
    return [{**base, **line} for line in lines if isinstance(line, Mapping)]


def contribution(report: ReportDefinition, record: Mapping[str, Any] | None) -> Contribution:
    """The contribution of one record (None or deleted → nothing)."""
    if record is None or record.get("deleted"):
        return {}
    out: Contribution = {}
    zone = report.zone
    for context in row_contexts(report, record):
        if report.filter and not _truthy(_eval(report.filter, context)):
            continue
        values = []
        for dim in report.dimensions:
            raw = _eval(dim.field, context)
            values.append(bucket_key(raw, dim.bucket, zone) if dim.bucket else canonical(raw))
        values += [canonical(context.get(name)) for name in report.scope]
        parts = out.setdefault(group_key(values), {})
        _add(parts, "c", ONE)
        for i, measure in enumerate(report.measures):
            _measure_parts(parts, i, measure, context)
    return {key: parts for key, parts in out.items() if any(parts.values())}


def _measure_parts(parts: dict, i: int, measure, context: dict) -> None:
    if measure.op == "ratio":
        return
    if measure.where is not None and not _truthy(_eval(measure.where, context)):
        return
    if measure.op == "count":
        if measure.field is None or _eval(measure.field, context) is not None:
            _add(parts, f"n{i}", ONE)
        return
    if measure.op == "duration":
        seconds = seconds_between(_eval(measure.start, context), _eval(measure.end, context))
        if seconds is not None:
            _add(parts, f"s{i}", Decimal(str(seconds)) / _UNIT_SECONDS[measure.unit])
            _add(parts, f"n{i}", ONE)
        return
    value = _eval(measure.field, context)
    if value is None:
        return
    if measure.op == "distinct":
        text = canonical(value)
        _add(parts, f"d{i}#{hashlib.sha256(text.encode()).hexdigest()[:16]}", ONE)
    elif measure.op in ("min", "max"):
        number = _number(value)
        text = canonical(number) if number is not None else (value if isinstance(value, str) else None)
        if text is not None and len(text) <= 200:
            _add(parts, f"v{i}#{text}", ONE)
    else:  # sum, avg
        number = _number(value)
        if number is not None:
            _add(parts, f"s{i}", number)
            _add(parts, f"n{i}", ONE)


def _add(parts: dict, name: str, amount: Decimal) -> None:
    parts[name] = parts.get(name, Decimal(0)) + amount


def merge_into(total: Contribution, part: Contribution) -> Contribution:
    for key, parts in part.items():
        target = total.setdefault(key, {})
        for name, amount in parts.items():
            target[name] = target.get(name, Decimal(0)) + amount
    return total


def recompute(report: ReportDefinition, records) -> Contribution:
    total: Contribution = {}
    for record in records:
        merge_into(total, contribution(report, record))
    return total
