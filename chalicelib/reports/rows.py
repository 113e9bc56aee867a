"""Group aggregates → report rows: permission filter, merge of scope groups, derived measures
(avg = sum / count, ratio = a / b × scale), previous-period comparison, sort and top-N. Pure."""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable

from .. import spreadsheet
from .buckets import previous_key
from .contribution import Contribution, group_key
from .definition import ReportDefinition

GroupFilter = Callable[[dict[str, Any]], bool]


def _round(value: Decimal | None, digits: int) -> Decimal | None:
    if value is None:
        return None
    try:
        return value.quantize(Decimal(1).scaleb(-digits)).normalize() if value.adjusted() < 20 else value
    except InvalidOperation:
        return value


def measure_values(report: ReportDefinition, parts: dict[str, Decimal]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for i, m in enumerate(report.measures):
        if m.op == "count":
            values[m.name] = int(parts.get(f"n{i}", 0)) if (m.where or m.field) else int(parts.get("c", 0))
        elif m.op == "sum":
            values[m.name] = parts.get(f"s{i}", Decimal(0)).normalize() if parts.get(f"n{i}") else Decimal(0)
        elif m.op in ("avg", "duration"):
            n = parts.get(f"n{i}", Decimal(0))
            values[m.name] = _round(parts.get(f"s{i}", Decimal(0)) / n, m.digits) if n > 0 else None
        elif m.op == "distinct":
            values[m.name] = sum(1 for name, c in parts.items() if name.startswith(f"d{i}#") and c > 0)
        elif m.op in ("min", "max"):
            present = [name.split("#", 1)[1] for name, c in parts.items() if name.startswith(f"v{i}#") and c > 0]
            values[m.name] = _extreme(present, m.op)
    for i, m in enumerate(report.measures):
        if m.op == "ratio":
            a, b = _as_decimal(values.get(m.numerator)), _as_decimal(values.get(m.denominator))
            values[m.name] = _round(a / b * Decimal(str(m.scale)), m.digits) if a is not None and b else None
    return values


def _as_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, str):
        return None
    return Decimal(value)


def _extreme(texts: list[str], op: str) -> Any:
    if not texts:
        return None
    try:
        numbers = [Decimal(t) for t in texts]
        return (min if op == "min" else max)(numbers)
    except InvalidOperation:
        return (min if op == "min" else max)(texts)


def merge_groups(report: ReportDefinition, groups: Iterable[tuple[list, dict[str, Decimal]]],
                 allow: GroupFilter | None = None) -> Contribution:
    """Groups keyed by dimensions + scope → groups keyed by dimensions, keeping what `allow` admits
    (it sees {field: value} of plain dimensions and scope fields)."""
    dims = len(report.dimensions)
    plain = [(i, d.field) for i, d in enumerate(report.dimensions) if d.bucket is None]
    merged: Contribution = {}
    for values, parts in groups:
        if allow is not None:
            visible = {field: values[i] for i, field in plain}
            visible.update({name: values[dims + j] for j, name in enumerate(report.scope) if dims + j < len(values)})
            if not allow(visible):
                continue
        target = merged.setdefault(group_key(list(values[:dims])), {})
        for name, amount in parts.items():
            target[name] = target.get(name, Decimal(0)) + Decimal(amount)
    return merged


def finish(report: ReportDefinition, merged: Contribution, *, limit: int | None = None,
           where: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Rows {dimension: value, measure: value[, <m>_previous, <m>_change], [rank]}."""
    rows: dict[str, dict[str, Any]] = {}
    for key, parts in merged.items():
        if parts.get("c", 0) <= 0:
            continue
        values = json.loads(key)
        row = {d.name: values[i] for i, d in enumerate(report.dimensions)}
        row.update(measure_values(report, parts))
        rows[key] = row
    if report.compare:
        _compare(report, rows)
    out = [r for r in rows.values() if not where or all(str(r.get(k)) == v for k, v in where.items())]
    out.sort(key=_sort_key(report))
    top = limit or report.limit
    if top is not None:
        out = out[:top]
    if report.sort:
        for n, row in enumerate(out, 1):
            row["rank"] = n
    return out


def _compare(report: ReportDefinition, rows: dict[str, dict]) -> None:
    dim = next(d for d in report.dimensions if d.name == report.compare)
    by_dims = {tuple(r[d.name] for d in report.dimensions): r for r in rows.values()}
    names = [m.name for m in report.measures]
    for r in rows.values():
        before_key = previous_key(r[dim.name], dim.bucket) if r[dim.name] else None
        before = by_dims.get(tuple(before_key if d.name == dim.name else r[d.name] for d in report.dimensions))
        for name in names:
            previous = before.get(name) if before else None
            r[f"{name}_previous"] = previous
            current = r.get(name)
            try:
                r[f"{name}_change"] = (_round((Decimal(current) - Decimal(previous)) / abs(Decimal(previous)), 4)
                                       if current is not None and previous not in (None, 0) else None)
            except (InvalidOperation, TypeError):
                r[f"{name}_change"] = None


def _sort_key(report: ReportDefinition):
    keys = report.sort or [_Default(d.name) for d in report.dimensions]

    def key(row: dict) -> tuple:
        out = []
        for s in keys:
            value = row.get(s.by)
            missing = value is None
            if isinstance(value, (int, float, Decimal)):
                sortable: Any = (0, -Decimal(value) if s.desc else Decimal(value), "")
            else:
                text = "" if value is None else str(value)
                sortable = (1, 0, _Reversed(text) if s.desc else text)
            out.append((missing, sortable))
        return tuple(out)

    return key


class _Default:
    def __init__(self, by: str) -> None:
        self.by, self.desc = by, False


class _Reversed(str):
    def __lt__(self, other: str) -> bool:  # type: ignore[override]
        return str.__gt__(self, other)

    def __gt__(self, other: str) -> bool:  # type: ignore[override]
        return str.__lt__(self, other)


def to_csv(report: ReportDefinition, rows: list[dict]) -> str:
    """CSV with a header row (CRLF lines): cells that a spreadsheet would run as formulas are prefixed
    with ', and cells with a separator, quote or line break are quoted (chalicelib.spreadsheet)."""
    columns = [d.name for d in report.dimensions] + [m.name for m in report.measures]
    extra = [k for r in rows for k in r if k not in columns]
    columns += list(dict.fromkeys(extra))
    header = [spreadsheet.neutralise(str(c)) for c in columns]
    return spreadsheet.line(header) + spreadsheet.write([_cell(row.get(c)) for c in columns] for row in rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float, Decimal)):
        return format(value, "f") if isinstance(value, Decimal) else str(value)  # numbers are data
    return spreadsheet.neutralise(str(value), numbers_ok=True)
