"""Report engine: definitions, buckets, contributions, finishing, dashboards, and the exactly-once
incremental plan under replayed / duplicated / reordered stream batches (property-based)."""
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.errors import DefinitionError
from chalicelib.reports import (contribution, finish, merge_groups, parse_dashboard, parse_report, plan, recompute,
                                to_csv, vega_lite)
from chalicelib.reports.buckets import bucket_key, previous_key
from chalicelib.reports.contribution import merge_into
from chalicelib.reports.maintenance import Stored
from zoneinfo import ZoneInfo

REPORT = {
    "name": "overview", "form": "work_order", "time_zone": "Asia/Shanghai", "scope": ["region"],
    "dimensions": [{"name": "priority", "field": "priority"}, {"name": "month", "field": "reported_at", "bucket": "month"}],
    "measures": [
        {"name": "orders", "op": "count"},
        {"name": "closed", "op": "count", "where": "not is_empty(completed_at)"},
        {"name": "ftf", "op": "count", "where": "first_time_fix"},
        {"name": "ftf_rate", "op": "ratio", "numerator": "ftf", "denominator": "closed", "scale": 100},
        {"name": "rating", "op": "avg", "field": "satisfaction_rating"},
        {"name": "best", "op": "max", "field": "satisfaction_rating"},
        {"name": "worst", "op": "min", "field": "satisfaction_rating"},
        {"name": "engineers", "op": "distinct", "field": "assigned_engineer"},
        {"name": "resolution_h", "op": "duration", "start": "reported_at", "end": "completed_at", "unit": "hours"},
        {"name": "parts", "op": "sum", "field": "parts_total"},
    ],
    "sort": [{"by": "orders", "desc": True}], "compare": "month",
}


def _rec(data, state="Open", deleted=False):
    return {"data": data, "state": state, "deleted": deleted}


def test_definition_errors_have_paths():
    with pytest.raises(DefinitionError) as err:
        parse_report({**REPORT, "measures": [{"name": "x", "op": "ratio", "numerator": "nope", "denominator": "y"}],
                      "sort": [{"by": "zz"}], "extra": 1})
    paths = {d["path"] for d in err.value.details}
    assert "extra" in paths
    with pytest.raises(DefinitionError) as err:
        parse_report({**REPORT, "measures": [{"name": "x", "op": "ratio", "numerator": "nope", "denominator": "x"}],
                      "sort": [{"by": "zz"}], "compare": "priority", "filter": "a =="})
    paths = {d["path"] for d in err.value.details}
    assert {"measures[0].numerator", "measures[0].denominator", "sort[0].by", "compare", "filter"} <= paths
    with pytest.raises(DefinitionError) as err:
        parse_report({**REPORT, "time_zone": "Mars/Base"})
    with pytest.raises(DefinitionError) as err:
        parse_report({**REPORT, "measures": [{"name": "s", "op": "sum"}]})
    assert err.value.details[0]["path"].startswith("measures[0]")


def test_buckets_in_time_zone():
    zone = ZoneInfo("Asia/Shanghai")
    # 2026-03-31T20:00Z is April 1st 04:00 in Shanghai
    value = "2026-03-31T20:00:00Z"
    assert bucket_key(value, "hour", zone) == "2026-04-01T04"
    assert bucket_key(value, "day", zone) == "2026-04-01"
    assert bucket_key(value, "week", zone) == "2026-03-30"
    assert bucket_key(value, "month", zone) == "2026-04"
    assert bucket_key(value, "quarter", zone) == "2026-Q2"
    assert bucket_key(value, "year", zone) == "2026"
    assert bucket_key("2026-03-31", "month", zone) == "2026-03"
    assert bucket_key("junk", "day", zone) is None
    assert previous_key("2026-01", "month") == "2025-12"
    assert previous_key("2026-Q1", "quarter") == "2025-Q4"
    assert previous_key("2026-03-02", "week") == "2026-02-23"
    assert previous_key("2026-03-01T00", "hour") == "2026-02-28T23"
    assert previous_key("2026", "year") == "2025"


def test_rows_measures_and_comparison():
    report = parse_report(REPORT)
    records = [
        _rec({"priority": "urgent", "region": "north", "reported_at": "2026-10-05T02:00:00Z", "completed_at": "2026-10-05T06:00:00Z",
              "first_time_fix": True, "satisfaction_rating": 5, "assigned_engineer": "e1", "parts_total": Decimal("10.5")}),
        _rec({"priority": "urgent", "region": "south", "reported_at": "2026-10-07T02:00:00Z", "completed_at": "2026-10-07T04:00:00Z",
              "first_time_fix": False, "satisfaction_rating": 3, "assigned_engineer": "e1"}),
        _rec({"priority": "urgent", "region": "north", "reported_at": "2026-09-07T02:00:00Z"}),
        _rec({"priority": "low", "region": "north", "reported_at": "2026-10-07T02:00:00Z"}, deleted=True),
    ]
    total = recompute(report, records)
    rows = finish(report, merge_groups(report, [(__import__("json").loads(k), p) for k, p in total.items()]))
    assert [r["month"] for r in rows] == ["2026-10", "2026-09"]
    oct_ = rows[0]
    assert oct_["orders"] == 2 and oct_["closed"] == 2 and oct_["ftf"] == 1 and oct_["ftf_rate"] == Decimal(50)
    assert oct_["rating"] == 4 and oct_["best"] == 5 and oct_["worst"] == 3 and oct_["engineers"] == 1
    assert oct_["resolution_h"] == 3 and oct_["parts"] == Decimal("10.5")
    assert oct_["orders_previous"] == 1 and oct_["orders_change"] == 1
    assert oct_["rank"] == 1
    # row permissions on scope: only north
    north = finish(report, merge_groups(report, [(__import__("json").loads(k), p) for k, p in total.items()],
                                        allow=lambda v: v.get("region") == "north"))
    assert [(r["month"], r["orders"]) for r in north] == [("2026-09", 1), ("2026-10", 1)] or \
        sorted((r["month"], r["orders"]) for r in north) == [("2026-09", 1), ("2026-10", 1)]
    text = to_csv(report, rows)
    assert text.splitlines()[0].startswith("priority,month,orders")


def test_subtable_rows_and_csv_injection():
    report = parse_report({"name": "parts", "form": "work_order", "rows": "parts_used",
                           "dimensions": [{"name": "part", "field": "part"}],
                           "measures": [{"name": "qty", "op": "sum", "field": "quantity"},
                                        {"name": "orders", "op": "distinct", "field": "order_no"}]})
    rec = _rec({"order_no": "WO-1", "parts_used": [{"part": "=cmd()", "quantity": 2}, {"part": "p2", "quantity": 1},
                                                   {"part": "p2", "quantity": 3}]})
    c = contribution(report, rec)
    assert c['["p2"]']["c"] == 2 and c['["p2"]']["s0"] == 4
    rows = finish(report, merge_groups(report, [(__import__("json").loads(k), p) for k, p in c.items()]))
    assert {r["part"]: (r["qty"], r["orders"]) for r in rows} == {"=cmd()": (2, 1), "p2": (4, 1)}
    assert "'=cmd()" in to_csv(report, rows)


def test_dashboard_and_vega_lite():
    report = parse_report(REPORT)
    board = parse_dashboard({"name": "d", "charts": [{"id": "a", "type": "bar", "report": "overview", "x": "priority", "y": "orders"},
                                                     {"id": "b", "type": "table", "report": "overview"},
                                                     {"id": "c", "type": "line", "report": "overview", "x": "month", "y": "rating", "color": "priority"},
                                                     {"id": "n", "type": "number", "report": "overview", "y": "orders"},
                                                     {"id": "p", "type": "pie", "report": "overview", "x": "priority", "y": "orders"},
                                                     {"id": "r", "type": "ranking", "report": "overview", "y": "orders"}]},
                            {"overview": report})
    for chart in board.charts:
        spec = vega_lite(chart, report, [{"priority": "urgent", "month": "2026-10", "orders": 2, "rating": Decimal("4.5")}])
        assert spec["$schema"].endswith("v5.json") and spec["data"]["values"][0]["orders"] == 2
    with pytest.raises(DefinitionError) as err:
        parse_dashboard({"name": "d", "charts": [{"id": "a", "type": "bar", "report": "overview", "x": "nope", "y": "orders"},
                                                 {"id": "a", "type": "bar", "report": "missing", "x": "a", "y": "b"}]},
                        {"overview": report})
    assert {d["path"] for d in err.value.details} == {"charts[0].x", "charts[1].id", "charts[1].report"}


def _chart(report, **chart):
    return parse_dashboard({"name": "d", "charts": [{"id": "c", "report": report.name, **chart}]}, {report.name: report}).charts[0]


def test_time_buckets_are_drawn_in_utc_one_tick_per_bucket():
    """Monthly keys were drawn on a local-time scale with automatic (weekly) ticks: west of UTC `2026-10`
    (UTC midnight) fell into September. Now: parsed as UTC, a UTC time unit of the bucket, one tick each."""
    report = parse_report(REPORT)
    rows = [{"priority": "high", "month": m, "orders": n, "rating": 4} for m, n in (("2026-10", 2), ("2026-08", 1), ("2026-09", 3))]
    spec = vega_lite(_chart(report, type="line", x="month", y="rating", color="priority"), report, rows)
    x = spec["encoding"]["x"]
    assert x["type"] == "temporal" and x["timeUnit"] == "utcyearmonth" and x["scale"] == {"type": "utc"}
    assert spec["data"]["format"]["parse"] == {"month": "utc:'%Y-%m'"}
    assert x["axis"]["values"] == [{"year": 2026, "month": m, "date": 1, "utc": True} for m in (8, 9, 10)]
    assert x["axis"]["format"] == "%Y-%m" and x["axis"]["tickMinStep"] == 28 * 86_400_000  # Vega-Lite's 31 d dropped October
    bar = vega_lite(_chart(report, type="bar", x="month", y="orders"), report, rows)["encoding"]["x"]
    assert bar["type"] == "ordinal" and bar["timeUnit"] == "utcyearmonth" and bar["sort"] == "ascending"
    weekly = parse_report({**REPORT, "dimensions": [{"name": "week", "field": "reported_at", "bucket": "week"}],
                           "compare": None, "scope": []})
    spec = vega_lite(_chart(weekly, type="line", x="week", y="orders"), weekly,
                     [{"week": "2026-11-30", "orders": 1}, {"week": "2026-11-23", "orders": 2}])
    assert spec["encoding"]["x"]["timeUnit"] == "utcyearmonthdate"
    assert [(v["month"], v["date"]) for v in spec["encoding"]["x"]["axis"]["values"]] == [(11, 23), (11, 30)]  # Mondays


def test_pie_adds_up_the_other_dimensions_into_one_wedge_per_category():
    """A pie over a report grouped by (priority, month) drew one wedge per row: the same priority over and
    over. Now the rows are summed by the colour field only."""
    report = parse_report(REPORT)
    rows = [{"priority": p, "month": m, "orders": 1} for p in ("high", "low") for m in ("2026-09", "2026-10")]
    spec = vega_lite(_chart(report, type="pie", x="priority", y="orders"), report, rows)
    assert spec["transform"] == [{"aggregate": [{"op": "sum", "field": "orders", "as": "orders"}], "groupby": ["priority"]}]
    assert spec["encoding"]["color"]["field"] == "priority" and "aggregate" not in spec["encoding"]["theta"]
    assert {e.get("field") for e in spec["encoding"].values() if isinstance(e, dict)} == {"orders", "priority"}
    # the same for a bar or line that leaves a dimension out; a mean cannot be added up: refused at upload
    line = vega_lite(_chart(report, type="line", x="month", y="orders"), report, rows)
    assert line["transform"][0]["groupby"] == ["month"]
    assert "transform" not in vega_lite(_chart(report, type="bar", x="priority", y="orders", color="month"), report, rows)
    with pytest.raises(DefinitionError) as err:
        _chart(report, type="pie", x="priority", y="rating")
    assert err.value.details[0]["path"] == "charts[0].y" and "month" in err.value.details[0]["message"]
    single = parse_report({**REPORT, "dimensions": REPORT["dimensions"][:1], "compare": None})
    assert _chart(single, type="pie", x="priority", y="rating").y == "rating"  # one row per wedge: fine


def test_lookup_dimensions_are_labelled_by_their_title_column():
    """A parts legend listed record ids: with the service's title column the legend, axis and tooltip read
    the title, while each datum keeps the id (drill-down and filters use it)."""
    report = parse_report({"name": "parts", "form": "work_order", "rows": "parts_used",
                           "dimensions": [{"name": "part", "field": "part", "label": "Part"},
                                          {"name": "month", "field": "reported_at", "bucket": "month"}],
                           "measures": [{"name": "qty", "op": "sum", "field": "quantity"}]})
    rows = [{"part": "01J0000000000000000000000A", "part_title": "Compressor", "month": "2026-10", "qty": 2}]
    spec = vega_lite(_chart(report, type="bar", x="month", y="qty", color="part"), report, rows, {"part": "part_title"})
    assert spec["encoding"]["color"] == {"field": "part_title", "type": "nominal", "title": "Part"}
    assert {"field": "part_title", "type": "nominal", "title": "Part"} in spec["encoding"]["tooltip"]
    assert spec["data"]["values"][0]["part"] == rows[0]["part"]
    ranking = vega_lite(_chart(report, type="ranking", x="part", y="qty"), report, rows, {"part": "part_title"})
    assert ranking["encoding"]["y"]["field"] == "part_title" and ranking["transform"][0]["groupby"] == ["part", "part_title"]
    table = vega_lite(_chart(report, type="table"), report, rows, {"part": "part_title"})
    assert table["hconcat"][0]["encoding"]["text"]["field"] == "part_title"


def test_table_chart_is_a_grid_of_columns_that_never_overlap():
    """The table was one text mark over (column, row) bands: long texts ran into each other. Now one text
    view per column, one row per item, each column as wide as its longest text (cut beyond a maximum)."""
    report = parse_report(REPORT)
    rows = [{"priority": "a much longer priority name than fits", "month": "2026-10", "orders": 2, "rating": Decimal("4.25")},
            {"priority": "low", "month": "2026-09", "orders": 10, "rating": None}]
    spec = vega_lite(_chart(report, type="table"), report, rows)
    assert "fold" not in str(spec.get("transform")) and spec["transform"] == [{"window": [{"op": "row_number", "as": "row"}]}]
    columns = spec["hconcat"]
    assert [c["title"]["text"] for c in columns] == [d["name"] for d in REPORT["dimensions"]] + [m["name"] for m in REPORT["measures"]]
    for column in columns:
        assert column["mark"]["type"] == "text" and column["mark"]["limit"] == column["width"]
        assert column["encoding"]["y"] == {"field": "row", "type": "ordinal", "axis": None}
        assert column["height"] == {"step": 22}
    widths = {c["title"]["text"]: c["width"] for c in columns}
    assert widths["priority"] == 260 and widths["month"] < widths["priority"]  # capped; sized to the text
    orders = next(c for c in columns if c["title"]["text"] == "orders")
    assert orders["mark"]["align"] == "right" and orders["encoding"]["text"]["type"] == "quantitative"


# --- property: incremental == full recomputation, whatever the stream does --------------------------

class MemoryStore:
    """The storage algorithm in memory: conditional put of the contribution state + ADD deltas."""

    def __init__(self, max_groups):
        self.states, self.groups, self.max_groups = {}, {}, max_groups

    def apply(self, report, record_id, version, image):
        for _attempt in range(10):
            stored = self.states.get(record_id)
            steps = plan(stored, version, contribution(report, image), self.max_groups)
            for step in steps:
                if self.states.get(record_id) != step.expected:
                    break  # lost condition: re-read
                merge_into(self.groups, step.deltas)
                self.states[record_id] = step.state
            else:
                return


regions = st.sampled_from(["north", "south", None])
datas = st.fixed_dictionaries({
    "region": regions, "priority": st.sampled_from(["urgent", "low"]),
    "reported_at": st.sampled_from(["2026-01-31T23:30:00Z", "2026-02-01T10:00:00Z", None]),
    "completed_at": st.sampled_from(["2026-02-02T10:00:00Z", None]),
    "satisfaction_rating": st.sampled_from([1, 3, 5, None]),
    "assigned_engineer": st.sampled_from(["e1", "e2", None]),
    "first_time_fix": st.booleans(),
    "parts_total": st.sampled_from([Decimal("1.25"), Decimal(3), None]),
    "parts_used": st.lists(st.fixed_dictionaries({"part": st.sampled_from(["p1", "p2", "p3"]),
                                                  "quantity": st.sampled_from([Decimal(1), Decimal("2.5")])}), max_size=4),
})
ops = st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["put", "delete"]), datas), min_size=1, max_size=25)
PARTS = {"name": "parts", "form": "work_order", "rows": "parts_used", "time_zone": "Asia/Shanghai",
         "dimensions": [{"name": "part", "field": "part"}, {"name": "m", "field": "reported_at", "bucket": "month"}],
         "measures": [{"name": "qty", "op": "sum", "field": "quantity"}, {"name": "n", "op": "count"},
                      {"name": "mx", "op": "max", "field": "quantity"}]}


def _nonzero(groups):
    return {k: {n: a for n, a in p.items() if a != 0} for k, p in groups.items() if any(a != 0 for a in p.values())}


@settings(max_examples=120, deadline=None)
@given(ops=ops, order=st.randoms(use_true_random=False), dupes=st.integers(0, 3), max_groups=st.sampled_from([1, 2, 99]),
       which=st.sampled_from([REPORT, PARTS]))
def test_incremental_equals_recomputation(ops, order, dupes, max_groups, which):
    report = parse_report(which)
    versions, current, events = {}, {}, []
    for rid, op, data in ops:
        versions[rid] = versions.get(rid, 0) + 1
        image = _rec(data, deleted=(op == "delete"))
        current[rid] = image
        events.append((rid, versions[rid], image))
    # redelivery: whole batches replayed, single records duplicated, and everything shuffled
    delivered = events + events[: len(events) // 2] + [order.choice(events) for _ in range(dupes)]
    order.shuffle(delivered)
    store = MemoryStore(max_groups)
    for rid, version, image in delivered:
        store.apply(report, rid, version, image)
    assert _nonzero(store.groups) == _nonzero(recompute(report, current.values()))
    # and the stored contributions are exactly the records' current ones
    for rid, image in current.items():
        assert store.states[rid].contribution == contribution(report, image)


def test_plan_splits_large_changes_and_skips_stale():
    report = parse_report(PARTS)
    rec = _rec({"reported_at": "2026-01-01T00:00:00Z", "parts_used": [{"part": f"p{i}", "quantity": 1} for i in range(5)]})
    steps = plan(None, 1, contribution(report, rec), max_groups=2)
    assert len(steps) == 3 and steps[0].expected is None and steps[1].expected == steps[0].state
    assert steps[-1].state == Stored(1, 0, contribution(report, rec))
    assert plan(steps[-1].state, 1, {}) == [] and plan(steps[-1].state, 0, {}) == []
