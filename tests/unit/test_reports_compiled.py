"""Compiled report plans (chalicelib/reports/contribution.py) against the interpreter they replaced
(reference_report_engine.py): on the shipped reports over generated work orders, and on reports with
every measure, bucket, filter and row source over random records (numbers of every type and exponent,
odd timestamps, values an expression cannot use), the contributions are identical — same groups in the
same order, same components, same Decimal values with the same exponents. Each expression is compiled
once per plan, not per record."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.expressions.budget import expression_budget
from chalicelib.reports import contribution, parse_report, recompute
from chalicelib.reports.contribution import Plan, merge_into, plan_for
from chalicelib.reports.definition import ReportDefinition
from tests.unit import reference_report_engine as reference

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "definitions" / "after_sales" / "reports").glob("*.json"))


def _exact(contrib: dict) -> list:
    """Everything that must match: group order, component order, value type and text (exponent)."""
    return [(key, [(name, type(amount).__name__, str(amount)) for name, amount in parts.items()])
            for key, parts in contrib.items()]


def _same(report, record) -> None:
    assert _exact(contribution(report, record)) == _exact(reference.contribution(report, record))


@pytest.fixture(scope="module")
def orders():
    from bench.report_backfill import orders as generate
    return generate(1500, seed=7)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_reports_match_the_reference_on_generated_orders(path, orders):
    report = parse_report(json.loads(path.read_text()))
    for view in orders:
        _same(report, view)
    total = recompute(report, orders)
    assert _exact(total) == _exact(reference.recompute(report, orders))
    assert total  # the generated orders fill every shipped report


def test_the_bench_hand_written_pass_computes_the_same_totals(orders):
    from bench import report_backfill as bench
    reports = bench.shipped_reports(bench.DEFAULT_REPORTS)
    assert bench._text(bench.engine_pass(reports, orders)) == bench._text(bench.hand_written_pass(orders))


EVERYTHING = {
    "name": "everything", "form": "work_order", "time_zone": "America/New_York", "scope": ["region", "tags"],
    "filter": "is_empty(skip)",
    "dimensions": [{"name": "priority", "field": "priority"}, {"name": "week", "field": "coalesce(reported_at, $created_at)", "bucket": "week"},
                   {"name": "state", "field": "$state"}, {"name": "amount2", "field": "amount * 2"}],
    "measures": [
        {"name": "n", "op": "count"},
        {"name": "with_amount", "op": "count", "field": "amount"},
        {"name": "urgent", "op": "count", "where": "priority == 'urgent'"},
        {"name": "total", "op": "sum", "field": "amount"},
        {"name": "total_urgent", "op": "sum", "field": "amount", "where": "priority == 'urgent'"},
        {"name": "mean", "op": "avg", "field": "amount + 0"},
        {"name": "lo", "op": "min", "field": "amount"},
        {"name": "hi", "op": "max", "field": "label"},
        {"name": "kinds", "op": "distinct", "field": "amount"},
        {"name": "tags_seen", "op": "distinct", "field": "tags"},
        {"name": "wait_m", "op": "duration", "start": "reported_at", "end": "completed_at", "unit": "minutes"},
        {"name": "share", "op": "ratio", "numerator": "urgent", "denominator": "n", "scale": 100},
    ],
}
BUCKETS = [{**EVERYTHING, "name": f"by_{b}", "time_zone": "Asia/Kolkata",
            "dimensions": [{"name": "t", "field": "completed_at", "bucket": b}]} for b in ("hour", "day", "month", "quarter", "year")]
LINES = {"name": "lines", "form": "work_order", "rows": "lines", "time_zone": "Asia/Shanghai", "scope": ["region"],
         "filter": "qty > 0 or is_empty(qty)",
         "dimensions": [{"name": "part", "field": "part"}, {"name": "m", "field": "coalesce(at, reported_at)", "bucket": "month"}],
         "measures": [{"name": "qty", "op": "sum", "field": "qty"}, {"name": "n", "op": "count"},
                      {"name": "big", "op": "count", "where": "qty >= 2"}, {"name": "mx", "op": "max", "field": "qty"}]}
# shapes only (no semantic checks): an expression that does not compile counts as missing everywhere
BROKEN = {"name": "broken", "form": "work_order", "dimensions": [{"name": "d", "field": "region +"}],
          "measures": [{"name": "n", "op": "count", "where": "((("}, {"name": "s", "op": "sum", "field": "amount ** 2"}]}

numbers = st.one_of(
    st.integers(-10**6, 10**6), st.integers(10**17, 10**30), st.sampled_from([10**29 + 7, -(10**28) - 3, 10**18, 10**18 - 1, 2**70]),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from([Decimal("1.0"), Decimal("1.000"), Decimal("5E+1"), Decimal("-0"), Decimal("0E-3"), Decimal("NaN"),
                     Decimal("Infinity"), Decimal("2.5"), Decimal("12345678901234567890123456789.123"), Decimal("1E+999"),
                     Decimal("1E+1000")]),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-1000, max_value=1000))
scalars = st.one_of(st.none(), st.booleans(), numbers, st.sampled_from(["", "a", "urgent", "5", "北", "=1+2"]))
instants = st.one_of(st.none(), st.sampled_from([
    "2026-01-31T23:30:00Z", "2026-03-08T06:59:59Z", "2026-03-08T07:00:00z", "2026-11-01T05:30:00+00:00",
    "2026-12-31T23:59:59-05:00", "2026-02-01", "2025-12-29T12:00:00", "not a date", "2026-13-01", "", "2026-02-30T00:00:00Z"]),
    st.integers(0, 5), st.just(["2026-01-01"]))
values = st.one_of(scalars, st.lists(scalars, max_size=2), st.dictionaries(st.sampled_from(["a", "b"]), scalars, max_size=2))
records = st.fixed_dictionaries({
    "data": st.fixed_dictionaries({}, optional={
        "priority": st.one_of(st.sampled_from(["urgent", "low", "urgent"]), scalars), "region": values,
        "reported_at": instants, "completed_at": instants, "amount": st.one_of(numbers, scalars), "label": scalars,
        "tags": values, "skip": st.sampled_from([None, "", "x", 0, False, []]),
        "lines": st.one_of(st.none(), st.just("not lines"), st.lists(st.one_of(
            st.fixed_dictionaries({}, optional={"part": scalars, "qty": st.one_of(numbers, scalars), "at": instants,
                                                "region": scalars}), st.just("not a line")), max_size=4)),
    }),
    "deleted": st.sampled_from([False, False, True, None]),
}, optional={"state": scalars, "workflow": st.sampled_from([None, {}, {"state": "Closed"}]), "created_at": instants,
             "updated_at": instants, "id": st.just("r1"), "number": st.just("WO-1")})

DEFINITIONS = [parse_report(EVERYTHING), parse_report(LINES), ReportDefinition.model_validate(BROKEN)] + \
              [parse_report(b) for b in BUCKETS]


@settings(max_examples=400, deadline=None)
@given(batch=st.lists(records, min_size=1, max_size=6), which=st.integers(0, len(DEFINITIONS) - 1))
def test_compiled_plans_match_the_reference_on_random_records(batch, which):
    report = DEFINITIONS[which]
    for record in batch:
        _same(report, record)
    assert _exact(recompute(report, batch)) == _exact(reference.recompute(report, batch))
    with expression_budget(fresh=True):  # inside a budget (as the stream and the backfill run it) too
        _same(report, batch[0])


def test_none_and_deleted_contribute_nothing():
    report = DEFINITIONS[0]
    assert contribution(report, None) == {} and contribution(report, {"data": {"priority": "low"}, "deleted": True}) == {}


def test_each_definition_is_compiled_once_and_no_expression_per_record(monkeypatch):
    report = parse_report(EVERYTHING)
    first = plan_for(report)
    assert isinstance(first, Plan) and plan_for(report) is first
    assert plan_for(parse_report(EVERYTHING)) is not first  # another definition (version) gets its own plan
    import chalicelib.expressions as expressions

    def refuse(source):
        raise AssertionError(f"compiled per record: {source}")
    monkeypatch.setattr(expressions, "compile_expression", refuse)
    monkeypatch.setattr(expressions, "_compile_cached", refuse)
    record = {"data": {"priority": "urgent", "amount": 3, "reported_at": "2026-01-05T10:00:00Z",
                       "completed_at": "2026-01-05T11:30:00Z", "region": "north"}, "state": "Open"}
    assert plan_for(report) is first
    got = contribution(report, record)
    (key, parts), = got.items()
    assert json.loads(key) == ["urgent", "2026-01-05", "Open", "6", "north", None]
    assert parts["s3"] == Decimal(3) and parts["s10"] == Decimal(90) and parts["n2"] == 1


def test_merge_into_keeps_exponents_like_a_sum_from_zero():
    total = {}
    merge_into(total, {"g": {"s0": Decimal("5E+1"), "c": Decimal(1)}})
    merge_into(total, {"g": {"s0": Decimal("0.50")}, "h": {"c": Decimal(1)}})
    assert _exact(total) == _exact(reference.merge_into(reference.merge_into({}, {"g": {"s0": Decimal("5E+1"), "c": Decimal(1)}}),
                                                        {"g": {"s0": Decimal("0.50")}, "h": {"c": Decimal(1)}}))
    assert str(total["g"]["s0"]) == "50.50"
