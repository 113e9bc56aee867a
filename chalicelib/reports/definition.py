"""Report definitions (kind `report`): a dataset over one form, or over the rows of one of its
sub-tables. Pure: pydantic only; every problem is reported with its JSON path.

    {"name": "orders_by_region", "form": "work_order", "time_zone": "Asia/Shanghai",
     "filter": "priority != 'low'", "rows": null, "scope": ["region"],
     "dimensions": [{"name": "region", "field": "region"},
                    {"name": "month", "field": "reported_at", "bucket": "month"}],
     "measures": [{"name": "orders", "op": "count"},
                  {"name": "resolution_h", "op": "duration", "start": "reported_at", "end": "completed_at", "unit": "hours"},
                  {"name": "ftf", "op": "count", "where": "first_time_fix"},
                  {"name": "ftf_rate", "op": "ratio", "numerator": "ftf", "denominator": "orders", "scale": 100}],
     "sort": [{"by": "orders", "desc": true}], "limit": 10, "compare": "month"}

`field`, `where`, `filter`, `start`, `end` are expressions of the platform's expression language
(a field name is the simplest expression); besides the form's fields they may use `$state` (the
workflow state), `$created_at`, `$updated_at` and the record's `$id` and `$number`. With `rows`, the row's own fields are in scope too.
`scope` adds group-by fields that are not shown but let row permissions (e.g. a supervisor's region)
be applied to the stored aggregates.
"""
from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import AppError, DefinitionError
from ..locales import Translatable

NAME = r"^[a-z][a-z0-9_]{0,62}$"
BUCKETS = ("hour", "day", "week", "month", "quarter", "year")
RECORD_VARIABLES = ("$state", "$created_at", "$updated_at", "$id", "$number")
MAX_GROUPS_PER_VIEW = 5000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dimension(Translatable, _Strict):
    name: str = Field(pattern=NAME)
    field: str = Field(min_length=1, max_length=1000, description="expression; a field name, or $state")
    bucket: Literal["hour", "day", "week", "month", "quarter", "year"] | None = None
    label: str | None = Field(default=None, max_length=200)


class Measure(Translatable, _Strict):
    name: str = Field(pattern=NAME)
    op: Literal["count", "sum", "avg", "min", "max", "distinct", "duration", "ratio"]
    field: str | None = Field(default=None, max_length=1000, description="expression (sum/avg/min/max/distinct; optional for count)")
    where: str | None = Field(default=None, max_length=1000, description="only rows where this holds")
    start: str | None = Field(default=None, max_length=1000, description="duration: start timestamp")
    end: str | None = Field(default=None, max_length=1000, description="duration: end timestamp")
    unit: Literal["seconds", "minutes", "hours", "days"] = "seconds"
    numerator: str | None = Field(default=None, pattern=NAME)
    denominator: str | None = Field(default=None, pattern=NAME)
    scale: float = Field(default=1, gt=0, le=1_000_000, description="ratio × scale (100 = percent)")
    digits: int = Field(default=4, ge=0, le=10, description="decimal places of derived values")
    label: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _shape(self) -> "Measure":
        needs = {"sum": ("field",), "avg": ("field",), "min": ("field",), "max": ("field",), "distinct": ("field",),
                 "duration": ("start", "end"), "ratio": ("numerator", "denominator"), "count": ()}[self.op]
        missing = [n for n in needs if getattr(self, n) is None]
        if missing:
            raise ValueError(f"op '{self.op}' needs {', '.join(missing)}")
        if self.op == "ratio" and self.where is not None:
            raise ValueError("a ratio takes no 'where': put it on its numerator or denominator")
        return self


class SortKey(_Strict):
    by: str = Field(pattern=NAME)
    desc: bool = False


class ReportDefinition(Translatable, _Strict):
    translatable = ("title", "description")
    name: str = Field(pattern=NAME)
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    form: str = Field(pattern=NAME)
    rows: str | None = Field(default=None, pattern=NAME, description="a sub-table field: one report row per line")
    filter: str | None = Field(default=None, max_length=2000)
    time_zone: str = Field(default="UTC", max_length=64)
    dimensions: list[Dimension] = Field(default_factory=list, max_length=4)
    scope: list[str] = Field(default_factory=list, max_length=4, description="hidden group-by fields for row permissions")
    measures: list[Measure] = Field(min_length=1, max_length=20)
    sort: list[SortKey] = Field(default_factory=list, max_length=4)
    limit: int | None = Field(default=None, ge=1, le=1000, description="top-N after sorting")
    compare: str | None = Field(default=None, pattern=NAME, description="a bucketed dimension: add the previous period")

    @model_validator(mode="after")
    def _names(self) -> "ReportDefinition":
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{self.time_zone}'") from exc
        return self

    @property
    def measure_index(self) -> dict[str, int]:
        return {m.name: i for i, m in enumerate(self.measures)}

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def expressions(self) -> list[tuple[str, str]]:
        """(json path, source) of every expression in the definition."""
        out = [("filter", self.filter)] if self.filter else []
        out += [(f"dimensions[{i}].field", d.field) for i, d in enumerate(self.dimensions)]
        for i, m in enumerate(self.measures):
            out += [(f"measures[{i}].{k}", getattr(m, k)) for k in ("field", "where", "start", "end") if getattr(m, k)]
        return out


def _semantic_problems(report: ReportDefinition) -> list[dict]:
    problems = []
    names = [d.name for d in report.dimensions] + [m.name for m in report.measures]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append({"path": "dimensions" if i < len(report.dimensions) else f"measures[{i - len(report.dimensions)}].name",
                             "message": f"name '{name}' is used twice"})
    index = report.measure_index
    for i, m in enumerate(report.measures):
        if m.op == "ratio":
            for key in ("numerator", "denominator"):
                ref = getattr(m, key)
                if ref not in index or report.measures[index[ref]].op == "ratio":
                    problems.append({"path": f"measures[{i}].{key}", "message": f"'{ref}' is not a non-ratio measure of this report"})
    for i, s in enumerate(report.sort):
        if s.by not in names:
            problems.append({"path": f"sort[{i}].by", "message": f"'{s.by}' is not a dimension or measure"})
    if report.compare is not None:
        dim = next((d for d in report.dimensions if d.name == report.compare), None)
        if dim is None or dim.bucket is None:
            problems.append({"path": "compare", "message": "must name a dimension with a time bucket"})
    from ..expressions import compile_expression
    for path, source in report.expressions():
        try:
            compile_expression(source)
        except AppError as exc:
            problems.append({"path": path, "message": exc.message})
    return problems


def form_problems(report: ReportDefinition, form: Any) -> list[dict]:
    """Check every name the report uses against the published form (at upload)."""
    from ..expressions import check_expression
    problems = []
    fields = form.fields_by_name
    known = set(fields)
    if report.rows is not None:
        table = fields.get(report.rows)
        if table is None or table.type != "subtable":
            problems.append({"path": "rows", "message": f"'{report.rows}' is not a sub-table field of form '{form.name}'"})
        else:
            known |= {f.name for f in table.fields}
    for path, source in report.expressions():
        try:
            check_expression(source, known, ("$user", "$now", "$today", *RECORD_VARIABLES))
        except AppError as exc:
            problems.append({"path": path, "message": exc.message})
    for i, name in enumerate(report.scope):
        if name not in fields:
            problems.append({"path": f"scope[{i}]", "message": f"'{name}' is not a field of form '{form.name}'"})
    problems += scope_problems(report, form)
    return problems


def grouped_fields(report: ReportDefinition) -> set[str]:
    """Form fields whose raw value is part of every group key (plain, unbucketed dimensions + scope)."""
    return {d.field for d in report.dimensions if d.bucket is None and is_name(d.field)} | set(report.scope)


def scope_problems(report: ReportDefinition, form: Any) -> list[dict]:
    """Row rules of roles with the form's `report` grant must be decidable from the group keys."""
    from ..expressions import compile_expression
    problems = []
    have = grouped_fields(report)
    for role in form.permissions.report:
        rule = form.permissions.rows.get(role)
        if rule is None or role == "admin":
            continue
        missing = sorted(compile_expression(rule).field_roots - have)
        if missing:
            problems.append({"path": "scope", "message": f"add {missing} so the row rule of role '{role}' can be applied to the aggregates"})
    return problems


def is_name(source: str) -> bool:
    import re
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", source) is not None


def parse_report(raw: Any, form: Any = None) -> ReportDefinition:
    if not isinstance(raw, dict):
        raise DefinitionError("a report definition must be a JSON object", details=[{"path": "", "message": "expected object"}])
    from ..forms.definition import validated
    report = validated(ReportDefinition, raw, "report definition")
    problems = _semantic_problems(report)
    if form is not None and not problems:
        problems = form_problems(report, form)
    if problems:
        raise DefinitionError("report definition is invalid", details=problems)
    return report
