"""Dashboards (kind `dashboard`): charts bound to reports, with layout; a Vega-Lite spec per chart. Pure.

    {"name": "service_overview", "title": "Service overview",
     "charts": [{"id": "by_region", "type": "bar", "report": "orders_by_region_status",
                 "x": "region", "y": "orders", "color": "status", "layout": {"x": 0, "y": 0, "w": 6, "h": 4}}]}
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import DefinitionError
from .definition import NAME, ReportDefinition

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Layout(_Strict):
    x: int = Field(default=0, ge=0, le=23)
    y: int = Field(default=0, ge=0, le=1000)
    w: int = Field(default=6, ge=1, le=24)
    h: int = Field(default=4, ge=1, le=50)


class Chart(_Strict):
    id: str = Field(pattern=NAME)
    type: Literal["number", "bar", "line", "pie", "table", "ranking"]
    report: str = Field(pattern=NAME)
    title: str | None = Field(default=None, max_length=200)
    x: str | None = Field(default=None, pattern=NAME, description="dimension on the x axis / slices (bar, line, pie)")
    y: str | None = Field(default=None, pattern=NAME, description="measure (bar, line, pie, number, ranking)")
    color: str | None = Field(default=None, pattern=NAME, description="second dimension (stacked bars, one line per value)")
    limit: int | None = Field(default=None, ge=1, le=1000)
    layout: Layout = Field(default_factory=Layout)


class DashboardDefinition(_Strict):
    name: str = Field(pattern=NAME)
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    charts: list[Chart] = Field(min_length=1, max_length=30)


def parse_dashboard(raw: Any, reports: dict[str, ReportDefinition] | None = None) -> DashboardDefinition:
    """`reports` (name → published report) checks each chart's bindings at upload."""
    if not isinstance(raw, dict):
        raise DefinitionError("a dashboard definition must be a JSON object", details=[{"path": "", "message": "expected object"}])
    try:
        board = DashboardDefinition.model_validate(raw)
    except ValidationError as exc:
        from ..forms.definition import pydantic_problems
        raise DefinitionError("dashboard definition is invalid", details=pydantic_problems(exc)) from exc
    problems = []
    ids = [c.id for c in board.charts]
    for i, chart in enumerate(board.charts):
        if chart.id in ids[:i]:
            problems.append({"path": f"charts[{i}].id", "message": f"'{chart.id}' is used twice"})
        if chart.type in ("bar", "line", "pie") and (chart.x is None or chart.y is None):
            problems.append({"path": f"charts[{i}]", "message": f"a {chart.type} chart needs x and y"})
        if chart.type in ("number", "ranking") and chart.y is None:
            problems.append({"path": f"charts[{i}].y", "message": f"a {chart.type} chart needs y"})
        if reports is not None:
            problems += _binding_problems(i, chart, reports.get(chart.report))
    if problems:
        raise DefinitionError("dashboard definition is invalid", details=problems)
    return board


def _binding_problems(i: int, chart: Chart, report: ReportDefinition | None) -> list[dict]:
    if report is None:
        return [{"path": f"charts[{i}].report", "message": f"no published report '{chart.report}'"}]
    dims = {d.name for d in report.dimensions}
    measures = {m.name for m in report.measures}
    out = []
    for key, allowed, what in (("x", dims, "dimension"), ("color", dims, "dimension"), ("y", measures, "measure")):
        value = getattr(chart, key)
        if value is not None and value not in allowed:
            out.append({"path": f"charts[{i}].{key}", "message": f"'{value}' is not a {what} of report '{report.name}'"})
    return out


def _field_type(report: ReportDefinition, name: str) -> str:
    dim = next((d for d in report.dimensions if d.name == name), None)
    if dim is None:
        return "quantitative"
    return "temporal" if dim.bucket in ("hour", "day", "week", "month", "year") else "nominal"


def vega_lite(chart: Chart, report: ReportDefinition, rows: list[dict]) -> dict:
    """A self-contained Vega-Lite v5 spec with the rows inlined (numbers as JSON numbers)."""
    values = [{k: (float(v) if hasattr(v, "as_tuple") else v) for k, v in row.items()} for row in rows]
    spec: dict[str, Any] = {"$schema": VEGA_LITE_SCHEMA, "title": chart.title or report.title or report.name,
                            "data": {"values": values}}
    if chart.type in ("bar", "line"):
        x_type = _field_type(report, chart.x)
        spec["mark"] = {"type": chart.type, "point": True} if chart.type == "line" else {"type": "bar"}
        spec["encoding"] = {"x": {"field": chart.x, "type": x_type if chart.type == "line" else "nominal",
                                  "sort": None},
                            "y": {"field": chart.y, "type": "quantitative"}}
        if chart.color:
            spec["encoding"]["color"] = {"field": chart.color, "type": "nominal"}
    elif chart.type == "pie":
        spec["mark"] = {"type": "arc"}
        spec["encoding"] = {"theta": {"field": chart.y, "type": "quantitative"},
                            "color": {"field": chart.x, "type": "nominal"}}
    elif chart.type == "ranking":
        label = chart.x or (report.dimensions[0].name if report.dimensions else None)
        spec["mark"] = {"type": "bar"}
        spec["encoding"] = {"y": {"field": label, "type": "nominal", "sort": "-x"},
                            "x": {"field": chart.y, "type": "quantitative"}}
    elif chart.type == "number":
        spec["mark"] = {"type": "text", "fontSize": 40}
        spec["encoding"] = {"text": {"field": chart.y, "type": "quantitative", "aggregate": "sum"}}
    else:  # table: Vega-Lite has no table mark; a text grid row per record
        columns = [d.name for d in report.dimensions] + [m.name for m in report.measures]
        spec["transform"] = [{"window": [{"op": "row_number", "as": "row"}]}, {"fold": columns}]
        spec["mark"] = "text"
        spec["encoding"] = {"x": {"field": "key", "type": "nominal", "sort": columns, "axis": {"orient": "top", "title": None}},
                            "y": {"field": "row", "type": "ordinal", "axis": None},
                            "text": {"field": "value", "type": "nominal"}}
    return spec
