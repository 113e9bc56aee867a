"""The compiled closures (compiler.py, what Expression.evaluate runs) against the tree walker
(evaluator.py, the reference): the same value or the same error (type, message, position) for every
shared case and for random trees over random records, and the same steps charged to the request's
budget whenever the evaluation succeeds (never fewer when it fails)."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from chalicelib.errors import ExpressionError
from chalicelib.expressions import compile_expression
from chalicelib.expressions.budget import RequestBudget, _current
from chalicelib.expressions.compiler import program
from chalicelib.expressions.evaluator import evaluate
from chalicelib.expressions.parser import parse
from tests.unit.test_expressions_fuzz import contexts, trees

CASES = json.loads((Path(__file__).parent / "expression_cases.json").read_text())
DIFF = settings(max_examples=1500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(run) -> tuple:
    """(value or error, steps the request budget was charged)."""
    budget = RequestBudget(max_steps=10**9, max_cpu=10.0)
    token = _current.set(budget)
    try:
        try:
            result: tuple = ("value", run())
        except ExpressionError as exc:
            result = ("error", type(exc).__name__, exc.message, exc.position)
    finally:
        _current.reset(token)
    return result, budget.steps


def assert_same(tree, context, source=""):
    walked, walked_steps = outcome(lambda: evaluate(tree, context, source))
    compiled, compiled_steps = outcome(lambda: program(tree)(context, source))
    if walked[0] == "value" and compiled[0] == "value":
        assert type(compiled[1]) is type(walked[1]) and compiled[1] == walked[1], (tree, context)
        assert compiled_steps == walked_steps, (tree, context)
    else:
        if walked[0] == "error" and "steps" in walked[2]:  # the step limit: where it is noticed may differ
            assert compiled[0] == "error" and compiled[1] == walked[1], (tree, context, compiled)
        else:
            assert compiled == walked, (tree, context)
        assert compiled_steps >= walked_steps


@pytest.mark.parametrize("case", [c for c in CASES if "error" not in c or c["error"] != "invalid_expression"],
                         ids=lambda c: c["expr"][:60])
def test_every_shared_case_runs_the_same_compiled(case):
    try:
        tree = parse(case["expr"])
    except ExpressionError:
        return  # a parse error: the compiler never sees it
    assert_same(tree, case["context"], case["expr"])


@DIFF
@given(tree=trees, context=contexts)
def test_random_trees_give_the_walkers_answers_and_steps(tree, context):
    assert_same(tree, context)


def test_the_fast_paths_keep_the_general_rules():
    for source, context, expected in [
        ("a == 'x'", {"a": "x"}, True), ("a == 'x'", {"a": None}, False), ("a == 1", {"a": 1}, True),
        ("a == 1", {"a": True}, False), ("a != 1", {"a": "1"}, True), ("a > 2", {"a": None}, False),
        ("a >= 2.50", {"a": Decimal("2.5")}, True), ("a in ['x', 1, null]", {}, True),
        ("a in ['x', 1]", {"a": 1.0}, True), ("a not in ['x', true]", {"a": True}, False),
        ("a in ['x']", {"a": ["x"]}, False), ("coalesce(a, 3) == 3", {}, True),
    ]:
        assert compile_expression(source).evaluate(context) == expected, source
    with pytest.raises(ExpressionError, match=r"cannot compare string and number with '>' at position 2"):
        compile_expression("a > 2").evaluate({"a": "x"})


@pytest.mark.parametrize("rows", [
    [{"t": Decimal("1.50")}, {"t": None}, {}, {"t": Decimal("-0.5")}],  # the one pass
    [], [{"t": 2}, {"t": Decimal("1")}], [{"t": 1.5}], [{"t": "3"}], [{"t": True}],  # the general call
    [[{"t": Decimal(1)}], {"t": Decimal(2)}], ({"t": Decimal(1)},), [{"t": Decimal("NaN")}], [{"t": Decimal("Infinity")}],
    [{"t": Decimal("9E+999")}], [{"t": Decimal("1E+1000")}], [{"t": Decimal("9.99999999999999999999999999E+999")}] * 2,
    [{"t": Decimal("1.0000000000000000000000000000000000001")}], [{"u": Decimal(1)}], ["x", {"t": Decimal(1)}],
    [{"t": {"x": 1}}], [{"t": [Decimal(1)]}], "rows", None, {"t": Decimal(1)},
])
def test_a_sub_table_total_runs_as_the_walker_sums_it(rows):
    for source in ("sum(rows.t)", "sum(rows.t) + 1", "if(true, sum(rows.t), 0)"):
        assert_same(parse(source), {"rows": rows}, source)


def test_a_sub_table_total_over_the_step_limit_fails_as_the_walker_does():
    from chalicelib.expressions.limits import MAX_EVALUATION_STEPS, MAX_LIST_LENGTH
    rows = [{"t": Decimal(1)}] * min(MAX_LIST_LENGTH, MAX_EVALUATION_STEPS // 2 + 1)
    assert_same(parse("sum(rows.t)"), {"rows": rows}, "sum(rows.t)")
    assert_same(parse("sum(rows.t)"), {"rows": [{"t": Decimal(1)}] * (MAX_LIST_LENGTH + 1)}, "sum(rows.t)")


@pytest.mark.parametrize("a, b", [
    (Decimal("2"), Decimal("45.50")), (Decimal("0.5"), Decimal("-88.20")), (None, Decimal(1)), (Decimal(1), None),
    (2, Decimal("1.5")), (1.5, 2), ("2", Decimal(1)), ("a", "b"), ([Decimal(1)], [Decimal(2)]), (True, Decimal(1)),
    (Decimal("NaN"), Decimal(1)), (Decimal("9E+999"), Decimal("9E+999")), (Decimal("1E+1000"), Decimal(1)),
    (Decimal("1.00000000000000000000000000000000001"), Decimal(3)), ({"x": 1}, Decimal(1)),
])
def test_arithmetic_of_two_fields_runs_as_the_walker_does(a, b):
    for symbol in ("+", "-", "*", "/", "%"):
        source = f"a {symbol} b"
        assert_same(parse(source), {"a": a, "b": b}, source)
