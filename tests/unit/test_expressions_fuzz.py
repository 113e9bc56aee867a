"""Property tests: whatever the source text, syntax tree or record data, the expression engine
either returns a value or raises an ExpressionError - never another exception - and finishes fast."""
from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chalicelib.errors import ExpressionError, ExpressionLimitExceeded
from chalicelib.expressions import compile_expression
from chalicelib.expressions.evaluator import evaluate
from chalicelib.expressions.functions import FUNCTIONS
from chalicelib.expressions.lexer import KEYWORDS
from chalicelib.expressions.nodes import (Binary, Call, Field, GetAttr, Index, ListLiteral, Literal, Logical, Node,
                                          Unary, Variable)
from chalicelib.expressions.parser import parse

FUZZ = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SECONDS_PER_EXAMPLE = 2.0

FIELD_NAMES = ["a", "b", "rows", "qty", "name", "when", "__class__"]
VARIABLES = ["$user", "$now", "$today", "$missing"]
SEED_SOURCES = [case["expr"] for case in json.loads((Path(__file__).parent / "expression_cases.json").read_text())
                if len(case["expr"]) < 200]
TOKENS = (["(", ")", "[", "]", ",", ".", "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "!", "&&", "||",
           "=", "'", '"', "\\", "$", "and", "or", "not", "in", "true", "false", "null", "0", "1", "2.5", "-1",
           "99999999999999999999", "'x'", "'2024-02-29'", "'2024-03-10T08:00:00Z'", "'(a+)+'", "__import__", "lambda"]
          + FIELD_NAMES + VARIABLES + sorted(FUNCTIONS))

# --- record data ------------------------------------------------------------------------------
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30), st.floats(allow_nan=True),
    st.decimals(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["2024-02-29", "2024-03-10T08:30:00+02:00", "2024-13-01", "", "0", "abc"]),
    st.sampled_from([Decimal("9e999"), Decimal("-9e999"), Decimal("1e-999"), Decimal("1e5000"), 10**1000, 1e308]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=4)), max_leaves=12)
contexts = st.dictionaries(st.sampled_from(FIELD_NAMES + VARIABLES), values, max_size=6)

# --- syntax trees -----------------------------------------------------------------------------
identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(lambda name: name not in KEYWORDS)
leaves = st.one_of(
    st.builds(Literal, st.decimals(min_value=0, max_value=10**12, places=3)),
    st.builds(Literal, st.text(max_size=8)), st.builds(Literal, st.sampled_from([True, False, None])),
    st.builds(Field, st.one_of(st.sampled_from(FIELD_NAMES), identifiers)),
    st.builds(Variable, st.sampled_from(VARIABLES)))


def _calls(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    def for_function(name: str) -> st.SearchStrategy[Node]:
        spec = FUNCTIONS[name]
        most = spec.max_args if spec.max_args is not None else spec.min_args + 3
        return st.lists(children, min_size=spec.min_args, max_size=most).map(lambda args: Call(name, tuple(args)))
    return st.sampled_from(sorted(FUNCTIONS)).flatmap(for_function)


trees = st.recursive(leaves, lambda children: st.one_of(
    st.builds(ListLiteral, st.lists(children, max_size=3).map(tuple)),
    st.builds(GetAttr, children, st.sampled_from(FIELD_NAMES)),
    st.builds(Index, children, children),
    st.builds(Unary, st.sampled_from(["not", "-"]), children),
    st.builds(Logical, st.sampled_from(["and", "or"]), children, children),
    st.builds(Binary, st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "in", "not in"]),
              children, children),
    _calls(children)), max_leaves=15)


def render(node: Node) -> str:
    """Source text for a tree, parenthesised enough that parsing it must give the same tree back."""
    if isinstance(node, Literal):
        if isinstance(node.value, str):
            return "'" + node.value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        if isinstance(node.value, Decimal):
            return format(node.value, "f")
        return {True: "true", False: "false", None: "null"}[node.value]
    if isinstance(node, (Field, Variable)):
        return node.name
    if isinstance(node, ListLiteral):
        return "[" + ", ".join(render(item) for item in node.items) + "]"
    if isinstance(node, GetAttr):
        return f"({render(node.target)}).{node.name}"
    if isinstance(node, Index):
        return f"({render(node.target)})[{render(node.index)}]"
    if isinstance(node, Unary):
        return f"{node.operator} ({render(node.operand)})"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(render(arg) for arg in node.args)})"
    return f"({render(node.left)}) {node.operator} ({render(node.right)})"


def run_safely(action) -> None:
    started = time.perf_counter()
    try:
        action()
    except ExpressionError:
        pass
    assert time.perf_counter() - started < SECONDS_PER_EXAMPLE


# --- properties ---------------------------------------------------------------------------------

@FUZZ
@given(source=st.text(max_size=120), context=contexts)
def test_arbitrary_text_never_escapes_the_error_family(source, context):
    run_safely(lambda: compile_expression(source).evaluate(context))


@FUZZ
@given(tokens=st.lists(st.sampled_from(TOKENS), max_size=25), spaced=st.booleans(), context=contexts)
def test_token_soup_never_escapes_the_error_family(tokens, spaced, context):
    source = (" " if spaced else "").join(tokens)
    run_safely(lambda: compile_expression(source).evaluate(context))


@FUZZ
@given(seed=st.sampled_from(SEED_SOURCES), cut=st.integers(0, 200), insert=st.sampled_from(TOKENS + ["", " "]),
       repeat=st.integers(1, 80), context=contexts)
def test_mutated_valid_expressions_never_escape_the_error_family(seed, cut, insert, repeat, context):
    cut = min(cut, len(seed))
    source = seed[:cut] + insert * repeat + seed[cut:]
    run_safely(lambda: compile_expression(source).evaluate(context))


@FUZZ
@given(tree=trees, context=contexts)
def test_random_trees_evaluate_or_raise_expression_errors(tree, context):
    run_safely(lambda: evaluate(tree, context))


@FUZZ
@given(tree=trees)
def test_rendered_trees_parse_back_to_the_same_tree(tree):
    source = render(tree)
    try:
        parsed = parse(source)
    except ExpressionLimitExceeded:
        assume(False)  # a legal tree rendered past a size limit: nothing to compare
    except ExpressionError as error:
        assert "matches()" in error.message  # only a literal regex is judged at parse time
        return
    assert parsed == tree, source
