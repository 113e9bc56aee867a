"""Dashboards (kind `dashboard`): charts bound to reports, with layout; a Vega-Lite spec per chart. Pure.

    {"name": "service_overview", "title": "Service overview",
     "charts": [{"id": "by_region", "type": "bar", "report": "orders_by_region_status",
                 "x": "region", "y": "orders", "color": "status", "layout": {"x": 0, "y": 0, "w": 6, "h": 4}}]}
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import DefinitionError
from ..locales import Translatable
from .definition import NAME, ReportDefinition

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Layout(_Strict):
    x: int = Field(default=0, ge=0, le=23)
    y: int = Field(default=0, ge=0, le=1000)
    w: int = Field(default=6, ge=1, le=24)
    h: int = Field(default=4, ge=1, le=50)


class Chart(Translatable, _Strict):
    translatable = ("title",)
    id: str = Field(pattern=NAME)
    type: Literal["number", "bar", "line", "pie", "table", "ranking"]
    report: str = Field(pattern=NAME)
    title: str | None = Field(default=None, max_length=200)
    x: str | None = Field(default=None, pattern=NAME, description="dimension on the x axis / slices (bar, line, pie)")
    y: str | None = Field(default=None, pattern=NAME, description="measure (bar, line, pie, number, ranking)")
    color: str | None = Field(default=None, pattern=NAME, description="second dimension (stacked bars, one line per value)")
    limit: int | None = Field(default=None, ge=1, le=1000)
    layout: Layout = Field(default_factory=Layout)


class DashboardDefinition(Translatable, _Strict):
    translatable = ("title", "description")
    name: str = Field(pattern=NAME)
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    charts: list[Chart] = Field(min_length=1, max_length=30)
    columns: Literal[12, 24] | None = Field(default=None, description=(
        "the grid's columns, which every chart's layout (x + w) fits in; default: 12 when every chart fits in 12, "
        "else 24"))

    @property
    def grid_columns(self) -> int:
        """The columns the console draws the dashboard on, in the designer as on the dashboard page."""
        if self.columns is not None:
            return self.columns
        return 12 if all(c.layout.x + c.layout.w <= 12 for c in self.charts) else 24


def parse_dashboard(raw: Any, reports: dict[str, ReportDefinition] | None = None) -> DashboardDefinition:
    """`reports` (name → published report) checks each chart's bindings at upload."""
    if not isinstance(raw, dict):
        raise DefinitionError("a dashboard definition must be a JSON object", details=[{"path": "", "message": "expected object"}])
    from ..forms.definition import validated
    board = validated(DashboardDefinition, raw, "dashboard definition")
    problems = []
    ids = [c.id for c in board.charts]
    for i, chart in enumerate(board.charts):
        if chart.id in ids[:i]:
            problems.append({"path": f"charts[{i}].id", "message": f"'{chart.id}' is used twice"})
        if chart.type in ("bar", "line", "pie") and (chart.x is None or chart.y is None):
            problems.append({"path": f"charts[{i}]", "message": f"a {chart.type} chart needs x and y"})
        if chart.layout.x + chart.layout.w > board.grid_columns:
            problems.append({"path": f"charts[{i}].layout.w", "message": f"the chart reaches column {chart.layout.x + chart.layout.w}"
                             f" of a {board.grid_columns}-column grid (x + w must be at most {board.grid_columns})"})
        if chart.type in ("number", "ranking") and chart.y is None:
            problems.append({"path": f"charts[{i}].y", "message": f"a {chart.type} chart needs y"})
        if reports is not None:
            problems += _binding_problems(i, chart, reports.get(chart.report))
    if problems:
        raise DefinitionError("dashboard definition is invalid", details=problems)
    return board


ADDITIVE = ("count", "sum")


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
    if not out and chart.type != "table" and chart.y is not None and _left_out(chart, report):
        op = report.measures[report.measure_index[chart.y]].op
        if op not in ADDITIVE:
            out.append({"path": f"charts[{i}].y", "message":
                        f"'{chart.y}' ({op}) cannot be added up over {sorted(_left_out(chart, report))}, which this chart "
                        "does not show: chart a count or sum measure, or a report grouped by the chart's dimensions only"})
    return out


# --- Vega-Lite ----------------------------------------------------------------------------------------------
# Time buckets are keys such as `2026-11` (bucketed in the report's zone already): they are parsed and drawn
# in UTC, so a browser west of UTC never shifts a bucket into the previous one, and the axis has one tick
# per bucket (explicit values) instead of whatever interval the scale would pick.

TIME_UNIT = {"hour": "utcyearmonthdatehours", "day": "utcyearmonthdate", "week": "utcyearmonthdate",
             "month": "utcyearmonth", "year": "utcyear"}
_PARSE = {"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
_LABEL = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
# Vega-Lite's own minimum tick step for a month is 31 days (January), which drops the tick of a bucket after
# a shorter month (September → October): the step is the bucket's shortest length instead.
_MIN_STEP_MS = {"hour": 3_600_000, "day": 86_400_000, "week": 7 * 86_400_000, "month": 28 * 86_400_000,
                "year": 365 * 86_400_000}
CHAR_PX, ROW_PX, MAX_COLUMN_PX = 7, 22, 260


def _left_out(chart: Chart, report: ReportDefinition) -> set[str]:
    """Dimensions of the report the chart does not draw (their rows are added up)."""
    if chart.type == "number":
        shown: set[str] = set()
    elif chart.type == "ranking":
        shown = {_ranking_label(chart, report)} - {None}
    else:
        shown = {chart.x, chart.color} - {None}
    return {d.name for d in report.dimensions} - shown


def _ranking_label(chart: Chart, report: ReportDefinition) -> str | None:
    return chart.x or (report.dimensions[0].name if report.dimensions else None)


def _dimension(report: ReportDefinition, name: str | None):
    return next((d for d in report.dimensions if d.name == name), None)


def _title(report: ReportDefinition, name: str) -> str:
    dim = _dimension(report, name)
    if dim is not None:
        return dim.label or dim.name
    measure = next((m for m in report.measures if m.name == name), None)
    return (measure.label or measure.name) if measure is not None else name


def _time_bucket(report: ReportDefinition, name: str | None) -> str | None:
    dim = _dimension(report, name)
    return dim.bucket if dim is not None and dim.bucket in TIME_UNIT else None


def _utc_datetime(key: Any, bucket: str) -> dict | None:
    """A bucket key → a Vega-Lite DateTime in UTC (None for a malformed or missing key)."""
    from datetime import datetime
    try:
        at = datetime.strptime(str(key), _PARSE[bucket])
    except ValueError:
        return None
    out: dict[str, Any] = {"year": at.year, "month": at.month, "date": at.day, "utc": True}
    if bucket == "hour":
        out["hours"] = at.hour
    return out


def _measure_format(report: ReportDefinition, name: str) -> str:
    measure = next((m for m in report.measures if m.name == name), None)
    if measure is None or measure.op in ("count", "distinct"):
        return ",d"
    return f",.{measure.digits}~f"


def _measure_axis(report: ReportDefinition, name: str) -> dict:
    """A measure's axis: its format, and for a measure of whole numbers (counts, no decimals) ticks a whole
    step apart — a small count (0..3) would otherwise get ticks at 0.5 drawn as 0, 1, 1, 2, 2, 3."""
    measure = next((m for m in report.measures if m.name == name), None)
    whole = measure is None or measure.op in ("count", "distinct") or measure.digits == 0
    return {"format": _measure_format(report, name), **({"tickMinStep": 1} if whole else {})}


def _nominal(report: ReportDefinition, name: str, labels: dict[str, str], **extra) -> dict:
    return {"field": labels.get(name, name), "type": "nominal", "title": _title(report, name), **extra}


def _x_encoding(chart: Chart, report: ReportDefinition, rows: list[dict], labels: dict[str, str]) -> dict:
    bucket = _time_bucket(report, chart.x)
    title = _title(report, chart.x)
    if bucket is None:
        dim = _dimension(report, chart.x)
        if dim is not None and dim.bucket == "quarter":  # `2026-Q4` keys sort as text
            return {"field": chart.x, "type": "ordinal", "sort": "ascending", "title": title}
        return _nominal(report, chart.x, labels, sort=None,  # labels read level, never turned on their side
                        axis={"labelAngle": 0, "labelOverlap": True, "labelLimit": 120})
    if chart.type == "bar":  # one band per bucket, in time order
        return {"field": chart.x, "type": "ordinal", "timeUnit": TIME_UNIT[bucket], "sort": "ascending", "title": title,
                "axis": {"format": _LABEL[bucket]}}
    ticks = []
    for row in rows:
        at = _utc_datetime(row.get(chart.x), bucket)
        if at is not None and at not in ticks:
            ticks.append(at)
    ticks.sort(key=lambda t: (t["year"], t["month"], t["date"], t.get("hours", 0)))
    return {"field": chart.x, "type": "temporal", "timeUnit": TIME_UNIT[bucket], "scale": {"type": "utc"}, "title": title,
            "axis": {"values": ticks, "tickMinStep": _MIN_STEP_MS[bucket], "format": _LABEL[bucket], "labelOverlap": True}}


def _aggregate(chart: Chart, report: ReportDefinition, by: list[str | None], labels: dict[str, str]) -> list[dict]:
    """Rows of dimensions the chart does not show are added up per shown category (one mark each)."""
    if not _left_out(chart, report) or chart.y is None:
        return []
    if report.measures[report.measure_index[chart.y]].op not in ADDITIVE:
        return []  # refused at upload; a report changed since draws its rows as they are
    groupby: list[str] = []
    for name in by:
        if name is not None:
            groupby += [n for n in dict.fromkeys((name, labels.get(name, name))) if n not in groupby]
    return [{"aggregate": [{"op": "sum", "field": chart.y, "as": chart.y}], "groupby": groupby}]


def _tooltip(report: ReportDefinition, names: list[str | None], y: str, labels: dict[str, str],
             parsed: str | None = None) -> list[dict]:
    """`parsed`: the time-bucketed field the spec parses as a date (the others are shown as their keys)."""
    out = []
    for name in names:
        if name is None:
            continue
        bucket = _time_bucket(report, name) if name == parsed else None
        if bucket is not None:
            out.append({"field": name, "type": "temporal", "timeUnit": TIME_UNIT[bucket], "title": _title(report, name),
                        "format": _LABEL[bucket]})
        else:
            out.append(_nominal(report, name, labels))
    out.append({"field": y, "type": "quantitative", "title": _title(report, y), "format": _measure_format(report, y)})
    return out


def _table(report: ReportDefinition, values: list[dict], labels: dict[str, str]) -> dict:
    """A text table: one row per item, one column view per dimension and measure, each as wide as its
    longest text (cut with an ellipsis beyond MAX_COLUMN_PX), so no two cells ever overlap."""
    names = [d.name for d in report.dimensions] + [m.name for m in report.measures]
    measures = {m.name for m in report.measures}
    columns = []
    for name in names:
        field = labels.get(name, name)
        title = _title(report, name)
        longest = max([len(title)] + [len(str(v.get(field) if v.get(field) is not None else "")) for v in values])
        width = min(MAX_COLUMN_PX, longest * CHAR_PX + 12)
        numeric = name in measures
        text: dict[str, Any] = ({"field": field, "type": "quantitative", "format": _measure_format(report, name)}
                                if numeric else {"field": field, "type": "nominal"})
        columns.append({
            "width": width, "height": {"step": ROW_PX},
            "title": {"text": title, "anchor": "end" if numeric else "start", "fontSize": 11, "fontWeight": "bold"},
            "mark": {"type": "text", "align": "right" if numeric else "left", "limit": width, "baseline": "middle",
                     **({"x": width} if numeric else {"x": 0})},
            "encoding": {"y": {"field": "row", "type": "ordinal", "axis": None}, "text": text},
        })
    return {"transform": [{"window": [{"op": "row_number", "as": "row"}]}], "hconcat": columns, "spacing": 12,
            "config": {"view": {"stroke": None}}}


def vega_lite(chart: Chart, report: ReportDefinition, rows: list[dict], labels: dict[str, str] | None = None) -> dict:
    """A self-contained Vega-Lite v5 spec with the rows inlined (numbers as JSON numbers).

    `labels` maps a dimension to the row column carrying its display title (a lookup's linked record
    title, resolved by the service): legends, axes and tooltips show the title; the raw value stays in
    each datum (drill-down filters by it)."""
    labels = {k: v for k, v in (labels or {}).items() if _dimension(report, k) is not None}
    values = [{k: (float(v) if hasattr(v, "as_tuple") else v) for k, v in row.items()} for row in rows]
    data: dict[str, Any] = {"values": values}
    spec: dict[str, Any] = {"$schema": VEGA_LITE_SCHEMA, "title": chart.title or report.title or report.name}
    if report.description:
        spec["description"] = report.description
    parsed = chart.x if chart.type in ("bar", "line") and _time_bucket(report, chart.x) else None
    if parsed:  # the key as a UTC instant, never the browser's local midnight
        data["format"] = {"parse": {parsed: f"utc:'{_PARSE[_time_bucket(report, parsed)]}'"}}
    spec["data"] = data
    if chart.type in ("bar", "line"):
        transform = _aggregate(chart, report, [chart.x, chart.color], labels)
        if transform:
            spec["transform"] = transform
        spec["mark"] = {"type": "line", "point": True} if chart.type == "line" else {"type": "bar"}
        spec["encoding"] = {"x": _x_encoding(chart, report, rows, labels),
                            "y": {"field": chart.y, "type": "quantitative", "title": _title(report, chart.y),
                                  "axis": _measure_axis(report, chart.y)},  # 0, not 0.000000
                            "tooltip": _tooltip(report, [chart.x, chart.color], chart.y, labels, parsed)}
        if chart.color:
            spec["encoding"]["color"] = _nominal(report, chart.color, labels)
    elif chart.type == "pie":
        # one wedge per category of x: rows of the report's other dimensions are summed into it
        groupby = list(dict.fromkeys((chart.x, labels.get(chart.x, chart.x))))
        spec["transform"] = [{"aggregate": [{"op": "sum", "field": chart.y, "as": chart.y}], "groupby": groupby}]
        spec["mark"] = {"type": "arc"}
        spec["encoding"] = {"theta": {"field": chart.y, "type": "quantitative", "title": _title(report, chart.y)},
                            "color": _nominal(report, chart.x, labels),
                            "tooltip": _tooltip(report, [chart.x], chart.y, labels)}
    elif chart.type == "ranking":
        label = _ranking_label(chart, report)
        transform = _aggregate(chart, report, [label], labels)
        if transform:
            spec["transform"] = transform
        spec["mark"] = {"type": "bar"}
        spec["encoding"] = {"y": _nominal(report, label, labels, sort="-x") if label else {"value": 0},
                            "x": {"field": chart.y, "type": "quantitative", "title": _title(report, chart.y),
                                  "axis": _measure_axis(report, chart.y)},
                            "tooltip": _tooltip(report, [label], chart.y, labels)}
    elif chart.type == "number":
        spec["mark"] = {"type": "text", "fontSize": 40}
        spec["encoding"] = {"text": {"field": chart.y, "type": "quantitative", "aggregate": "sum",
                                     "format": _measure_format(report, chart.y)}}
    else:  # table: Vega-Lite has no table mark
        spec.update(_table(report, values, labels))
    return spec
