"""The expression language: table-driven cases (expression_cases.json) plus the behaviour that a
table cannot express - caching, references, laziness, limits, and safety against code injection."""
from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.errors import ExpressionError, ExpressionLimitExceeded
from chalicelib.expressions import Expression, check_expression, compile_expression
from chalicelib.expressions import limits
from chalicelib.expressions.evaluator import evaluate
from chalicelib.expressions.nodes import Binary, Call, Field, GetAttr, Index, Literal, Logical, Unary, Variable
from chalicelib.expressions.parser import parse

CASES = json.loads((Path(__file__).parent / "expression_cases.json").read_text())


def same(actual, expected) -> bool:
    """Equality that, unlike ==, never confuses True with 1 and requires numbers to be Decimal."""
    if isinstance(expected, bool) or expected is None:
        return actual is expected
    if isinstance(expected, (int, float)):
        return isinstance(actual, Decimal) and actual == Decimal(repr(expected))
    if isinstance(expected, list):
        return (isinstance(actual, (list, tuple)) and len(actual) == len(expected)
                and all(same(a, e) for a, e in zip(actual, expected)))
    if isinstance(expected, dict):
        return isinstance(actual, dict) and actual.keys() == expected.keys() and all(
            same(actual[k], expected[k]) for k in expected)
    return type(actual) is type(expected) and actual == expected


def run(source: str, context: dict | None = None):
    return compile_expression(source).evaluate({} if context is None else context)


@pytest.mark.parametrize("case", CASES, ids=[case["expr"][:60] for case in CASES])
def test_case_table(case):
    if "error" in case:
        with pytest.raises(ExpressionError) as caught:
            run(case["expr"], case["context"])
        assert caught.value.code == case["error"], caught.value.message
    else:
        result = run(case["expr"], case["context"])
        assert same(result, case["result"]), f"{case['expr']!r} gave {result!r}"


def test_case_table_is_well_formed():
    assert len(CASES) > 300
    for case in CASES:
        assert set(case) in ({"expr", "context", "result"}, {"expr", "context", "error"}), case
        assert case.get("error") in (None, "invalid_expression", "expression_limit_exceeded")


# --- the public API --------------------------------------------------------------------------

def test_compile_is_cached_and_expressions_are_reusable():
    first = compile_expression("qty * 2")
    assert compile_expression("qty * 2") is first
    assert isinstance(first, Expression) and first.source == "qty * 2"
    assert first.evaluate({"qty": 2}) == 4 and first.evaluate({"qty": 5}) == 10
    assert repr(first) == "Expression('qty * 2')"


def test_field_roots_and_variables():
    expr = compile_expression("sum(parts_used.qty) > limit and $user.id == owner.id or 'x' in $user.roles "
                              "and customer['name'] != $now and if(a, b[0], c.d)")
    assert expr.field_roots == {"parts_used", "limit", "owner", "customer", "a", "b", "c"}
    assert expr.variables == {"$user", "$now"}
    assert compile_expression("1 + 2").field_roots == frozenset()


def test_check_expression_accepts_known_names():
    expr = check_expression("qty > 1 and $user.id != null", ["qty"])
    assert isinstance(expr, Expression)
    check_expression("rows.qty", {"rows": "subtable"}, known_variables=())


@pytest.mark.parametrize("source, message", [
    ("qty + foo", "unknown field 'foo'"),
    ("custmer.name", "unknown field 'custmer' (did you mean 'customer'?)"),
    ("$usr.id", "unknown variable '$usr' (did you mean '$user'?)"),
    ("$secret", "unknown variable '$secret'"),
])
def test_check_expression_names_the_unknown_reference(source, message):
    with pytest.raises(ExpressionError) as caught:
        check_expression(source, ["qty", "customer"])
    assert caught.value.code == "invalid_expression"
    assert message in caught.value.message
    assert caught.value.position == source.index(message.split("'")[1])


def test_check_expression_reports_the_first_unknown_and_still_checks_syntax():
    with pytest.raises(ExpressionError, match="unknown field 'b'"):
        check_expression("a + b + c", ["a"])
    with pytest.raises(ExpressionError, match="unexpected end"):
        check_expression("a +", ["a"])


def test_errors_carry_position_source_and_details():
    with pytest.raises(ExpressionError) as caught:
        compile_expression("qty + )")
    error = caught.value
    assert error.position == 6 and error.source == "qty + )" and "at position 6" in error.message
    assert error.details == [{"path": "", "message": error.message, "position": 6}]
    with pytest.raises(ExpressionError) as caught:
        run("1 + 'a' * 2")
    assert caught.value.position == 8 and caught.value.source == "1 + 'a' * 2"


def test_non_string_source_and_non_mapping_context_are_expression_errors():
    with pytest.raises(ExpressionError):
        compile_expression(None)  # type: ignore[arg-type]
    with pytest.raises(ExpressionError):
        compile_expression(["a"])  # type: ignore[arg-type]
    with pytest.raises(ExpressionError):
        compile_expression("a").evaluate([1, 2])  # type: ignore[arg-type]


# --- parsing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("source, tree", [
    ("1 + 2 * 3", Binary("+", Literal(Decimal(1)), Binary("*", Literal(Decimal(2)), Literal(Decimal(3))))),
    ("a or b and c", Logical("or", Field("a"), Logical("and", Field("b"), Field("c")))),
    ("not a == b", Unary("not", Binary("==", Field("a"), Field("b")))),
    ("-a.b[0]", Unary("-", Index(GetAttr(Field("a"), "b"), Literal(Decimal(0))))),
    ("a - b - c", Binary("-", Binary("-", Field("a"), Field("b")), Field("c"))),
    ("x not in $user.roles", Binary("not in", Field("x"), GetAttr(Variable("$user"), "roles"))),
    ("!a || b && c", Logical("or", Unary("not", Field("a")), Logical("and", Field("b"), Field("c")))),
    ("len(a)", Call("len", (Field("a"),))),
])
def test_parse_tree_shapes(source, tree):
    assert parse(source) == tree


def test_nodes_are_immutable():
    node = parse("a + 1")
    with pytest.raises(AttributeError):
        node.operator = "-"  # type: ignore[misc]


def test_unknown_function_and_arity_fail_at_parse_time_even_in_untaken_branches():
    with pytest.raises(ExpressionError, match="unknown function 'nope'"):
        compile_expression("false and nope(1)")
    with pytest.raises(ExpressionError, match=r"len\(\) takes 1 argument, got 2"):
        compile_expression("if(true, 1, len(a, b))")
    with pytest.raises(ExpressionError, match=r"round\(\) takes 1 to 2 arguments, got 3"):
        compile_expression("round(1, 2, 3)")
    with pytest.raises(ExpressionError, match=r"today\(\) takes 0 arguments, got 1"):
        compile_expression("today(1)")
    with pytest.raises(ExpressionError, match=r"concat\(\) takes at least 1 argument, got 0"):
        compile_expression("concat()")


def test_literal_regex_is_checked_at_parse_time():
    with pytest.raises(ExpressionError, match="invalid pattern"):
        compile_expression("false and matches(a, '[')")
    with pytest.raises(ExpressionError, match="exponential"):
        compile_expression("matches(a, '(a|b+)*c')")


# --- evaluation semantics not covered by the table -------------------------------------------

def test_short_circuit_never_evaluates_the_other_side():
    calls = []

    class Spy(dict):
        def get(self, key, default=None):
            calls.append(key)
            return super().get(key, default)

    assert compile_expression("a and b").evaluate(Spy(a=0)) is False and calls == ["a"]
    calls.clear()
    assert compile_expression("a or b").evaluate(Spy(a=1)) is True and calls == ["a"]
    calls.clear()
    assert compile_expression("if(a, b, c)").evaluate(Spy(a=1, b=2)) == 2 and calls == ["a", "b"]
    calls.clear()
    assert compile_expression("coalesce(a, b, c)").evaluate(Spy(b=3)) == 3 and calls == ["a", "b"]


def test_logical_operators_return_booleans():
    assert run("'x' or 0") is True and run("1 and []") is False


def test_precise_decimal_arithmetic():
    assert run("1 / 3 * 3") == Decimal("0.9999999999999999999999999999")
    assert run("0.1 + 0.2") == Decimal("0.3")
    assert run("price * qty", {"price": 19.99, "qty": 3}) == Decimal("59.97")


def test_context_values_are_normalised_on_read():
    assert run("n", {"n": 5}) == Decimal(5) and isinstance(run("n", {"n": 5}), Decimal)
    assert run("x", {"x": 0.1}) == Decimal("0.1")
    assert run("flag", {"flag": True}) is True
    for blank in (float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity")):
        assert run("x", {"x": blank}) is None
    assert run("d", {"d": date(2024, 3, 1)}) == "2024-03-01"
    assert run("t", {"t": datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)}) == "2024-03-01T08:00:00Z"
    assert run("t", {"t": datetime(2024, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=2)))}) == "2024-03-01T08:00:00+02:00"
    assert run("s", {"s": {"b", "a"}}) == ["a", "b"]
    assert run("rows[0]", {"rows": (7, 8)}) == 7
    with pytest.raises(ExpressionError, match="unsupported value"):
        run("x", {"x": object()})


def test_containers_from_the_context_are_returned_as_is():
    rows = [{"qty": 1}]
    assert run("rows", {"rows": rows}) is rows


def test_today_and_now_fall_back_to_the_clock():
    today = run("today()")
    assert len(today) == 10 and today[:4] == str(datetime.now(timezone.utc).year)
    now = run("now()")
    assert len(now) == 20 and now.endswith("Z") and now[10] == "T"
    assert run("today()", {"$today": "2020-01-01"}) == "2020-01-01"


def test_projection_over_subtable_rows_feeds_aggregates():
    record = {"parts_used": [{"qty": 2, "unit_price": 10}, {"qty": 1, "unit_price": 2.5}, {"qty": None}]}
    assert run("sum(parts_used.qty)", record) == 3
    assert run("count(parts_used.qty)", record) == 2 and run("len(parts_used.qty)", record) == 3
    assert run("max(parts_used.unit_price)", record) == 10
    assert run("avg(parts_used.qty)", record) == Decimal("1.5")
    assert run("parts_used[0].qty * parts_used[0].unit_price", record) == 20


def test_dunder_names_never_reach_python_attributes():
    class Loud(dict):
        def __getattribute__(self, name):
            if name not in ("get", "__class__", "__len__", "__iter__", "__contains__", "__getitem__", "keys"):
                raise AssertionError(f"attribute {name} touched")
            return super().__getattribute__(name)

    record = {"obj": Loud(a=1)}
    for source in ("obj.__class__", "obj.__dict__", "obj['__class__']", "obj.__init__.__globals__", "__builtins__",
                   "obj.get", "obj.a"):
        result = run(source, record)
        assert result is None or result == 1


@pytest.mark.parametrize("source", [
    "__import__('os').system('echo hacked')", "eval('1+1')", "exec('import os')", "compile('1', 'x', 'eval')",
    "getattr(a, '__class__')", "open('/etc/passwd')", "globals()", "a.__class__.__mro__[1].__subclasses__()",
    "lambda: 1", "(lambda x: x)(1)", "[c for c in ().__class__.__base__.__subclasses__()]", "import os",
    "a; b", "a := 1", "f'{a}'", "a if b else c", "a.b(c)", "`ls`", "a ** 2", "a // 2", "a @ b", "{'a': 1}",
])
def test_code_injection_is_rejected_at_parse_time(source):
    with pytest.raises(ExpressionError):
        compile_expression(source)


# --- limits ----------------------------------------------------------------------------------

def test_limit_constants():
    assert (limits.MAX_SOURCE_LENGTH, limits.MAX_AST_DEPTH, limits.MAX_AST_NODES) == (4_000, 40, 1_000)
    assert (limits.MAX_EVALUATION_STEPS, limits.MAX_STRING_LENGTH, limits.MAX_LIST_LENGTH) == (20_000, 100_000, 10_000)
    assert (limits.MAX_NUMBER_LITERAL_LENGTH, limits.MAX_PATTERN_LENGTH, limits.MAX_MATCH_SUBJECT_LENGTH) == (40, 200, 10_000)
    assert limits.MATCH_BACKTRACK_BUDGET == 10 ** 8


def limit_error(source: str, context: dict | None = None) -> ExpressionLimitExceeded:
    started = time.perf_counter()
    with pytest.raises(ExpressionLimitExceeded) as caught:
        run(source, context)
    assert time.perf_counter() - started < 1.0
    assert caught.value.code == "expression_limit_exceeded"
    return caught.value


def test_source_length_limit():
    source = "a + " * 1000 + "a"
    assert len(source) > limits.MAX_SOURCE_LENGTH
    assert "4000" in limit_error(source).message
    compile_expression("'" + "x" * (limits.MAX_SOURCE_LENGTH - 2) + "'")  # exactly at the limit is fine


@pytest.mark.parametrize("source", [
    "(" * 500 + "1" + ")" * 500, "(" * 5000, "not " * 1000 + "x", "!" * 1000 + "x", "-" * 1000 + "1",
    "[" * 1000, "len(" * 500, "a" + "[0]" * 100, "a" + ".b" * 100, "1" + " + 1" * 60, "x or " * 60 + "x",
])
def test_depth_limit(source):
    limit_error(source)


def test_depth_limit_boundary():
    ok = "-" * (limits.MAX_AST_DEPTH - 1) + "1"
    assert run(ok) == -1
    limit_error("-" + ok)
    run("(" * (limits.MAX_AST_DEPTH - 1) + "1" + ")" * (limits.MAX_AST_DEPTH - 1))


def test_node_limit():
    limit_error("[" + ",".join(["1"] * limits.MAX_AST_NODES) + "]")
    many_calls = "concat(" + ", ".join(["len('a')"] * 600) + ")"
    limit_error(many_calls)
    assert run("[" + ",".join(["1"] * (limits.MAX_AST_NODES - 1)) + "]") == [1] * (limits.MAX_AST_NODES - 1)


def test_number_limits():
    limit_error("1" * 41)
    assert run("1" * 40) == Decimal("1.111111111111111111111111111E+39")  # 28 significant digits
    chain = " * ".join(["9" * 40] * 30)  # ~1e1200, within the depth limit: overflow must stop it
    assert "too large" in limit_error(chain).message
    assert "too large" in limit_error("-(" + chain + ")").message
    assert "deeper" in limit_error(" * ".join(["99999999999999999999"] * 60)).message
    limit_error("x * x * x * x", {"x": Decimal("1e300")})
    limit_error("x + 1", {"x": 10 ** 5000})
    limit_error("x + 1", {"x": Decimal("1e5000")})
    for source in ("sum([x, x])", "avg([x, x])", "abs(x) * 2", "-x - x", "sum(rows.v)"):
        limit_error(source, {"x": Decimal("9e999"), "rows": [{"v": Decimal("9e999")}] * 2})
    with pytest.raises(ExpressionError, match="cannot be represented"):
        run("x % 3", {"x": Decimal("9e999")})  # the integer quotient would need 1,000 digits
    assert run("x * x", {"x": Decimal("1e-999")}) == 0  # underflow quietly becomes zero
    assert run("1 / 99999999999999999999 / 99999999999999999999 / 99999999999999999999") > 0


def test_step_limit():
    rows = [{"qty": 1}] * (limits.MAX_EVALUATION_STEPS + 1)
    for source in ("sum(rows.qty)", "count(rows)", "sum(rows)", "1 in rows", "rows == rows", "max(rows)"):
        assert "steps" in limit_error(source, {"rows": rows}).message
    assert run("len(rows)", {"rows": rows}) == len(rows)  # O(1): costs nothing


def test_string_length_limit():
    big = "x" * 60_000
    limit_error("s + s", {"s": big})
    limit_error("concat(s, s)", {"s": big})
    limit_error("upper(s + s)", {"s": big})
    assert len(run("s + 'y'", {"s": big})) == 60_001
    limit_error("matches(s, 'x+')", {"s": "x" * (limits.MAX_MATCH_SUBJECT_LENGTH + 1)})
    limit_error("matches('x', '" + "x" * (limits.MAX_PATTERN_LENGTH + 1) + "')")


def test_list_length_limit():
    limit_error("a + a", {"a": list(range(6_000))})
    limit_error("rows.x", {"rows": [{"x": 1}] * (limits.MAX_LIST_LENGTH + 1)})
    assert len(run("rows.x", {"rows": [{"x": 1}] * limits.MAX_LIST_LENGTH})) == limits.MAX_LIST_LENGTH


def test_deeply_nested_context_values_are_limited():
    deep: list = []
    for _ in range(500):
        deep = [deep]
    limit_error("a == b", {"a": deep, "b": deep})


def test_catastrophic_regex_is_refused_not_run():
    started = time.perf_counter()
    for pattern in ("(a+)+$", "(a*)*b", "(a|aa)+", "(.*a){20}", "((ab)*)+", "(?:a+){2,}"):
        with pytest.raises(ExpressionError):
            run("matches(s, p)", {"s": "a" * 5000 + "!", "p": pattern})
    assert time.perf_counter() - started < 1.0


def test_polynomial_regex_cost_is_budgeted_by_text_length():
    cubic = {"p": r"\d*\d*\d*x"}  # three overlapping open repetitions: cost ~ len(text) ** 3
    started = time.perf_counter()
    assert run("matches(s, p)", {**cubic, "s": "1" * 464}) is False
    assert "too long for a pattern with 3 variable repetitions" in limit_error(
        "matches(s, p)", {**cubic, "s": "1" * 465}).message
    assert run("matches(s, p)", {"p": r"\d*\d*x", "s": "1" * limits.MAX_MATCH_SUBJECT_LENGTH}) is False
    assert run("matches(s, p)", {"p": r"\d*+\d*+\d*+x", "s": "1" * 9_000}) is False  # possessive: no backtracking
    assert run("matches(s, '[^@ ]+@[^@ ]+[.][a-z]+')", {"s": "ann@example.com"}) is True
    assert time.perf_counter() - started < 2.0


def test_regex_patterns_are_cached():
    from chalicelib.expressions.patterns import compile_pattern
    assert compile_pattern("[a-z]+") is compile_pattern("[a-z]+")


def test_hand_built_trees_are_checked_at_run_time_too():
    with pytest.raises(ExpressionError, match="unknown function"):
        evaluate(Call("system", (Literal("ls"),)), {})
    with pytest.raises(ExpressionError, match="takes 1 argument"):
        evaluate(Call("len", ()), {})
