"""The regex lexer gives exactly the old character scanner's tokens or error (message, position) for
any text: the shared cases, random text and soups of the language's own tokens."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.errors import ExpressionError
from chalicelib.expressions.lexer import tokenize
from tests.unit import reference_lexer
from tests.unit.test_expressions_fuzz import TOKENS

CASES = json.loads((Path(__file__).parent / "expression_cases.json").read_text())
SAME = settings(max_examples=2000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def lexed(lexer, source):
    try:
        return [tuple(token) for token in lexer(source)]
    except ExpressionError as exc:
        return ("error", type(exc).__name__, exc.message, exc.position)


def assert_same(source):
    assert lexed(tokenize, source) == lexed(reference_lexer.tokenize, source), source


def test_the_shared_cases_lex_the_same():
    for case in CASES:
        assert_same(case["expr"])


@SAME
@given(source=st.text(alphabet=st.sampled_from(list("aZ_09.$'\"\\ \t\n=!<>&|+-*/%()[],é²€") + ["\r"]), max_size=40))
def test_text_of_the_tricky_characters_lexes_the_same(source):
    assert_same(source)


@SAME
@given(source=st.text(max_size=60))
def test_any_text_lexes_the_same(source):
    assert_same(source)


@SAME
@given(tokens=st.lists(st.sampled_from(TOKENS), max_size=25), glue=st.sampled_from(["", " ", "\t", "'", "\\"]))
def test_token_soups_lex_the_same(tokens, glue):
    assert_same(glue.join(tokens))


# --- the parser: precedence climbing against the level-per-precedence parser --------------------------
def parsed(parse, source):
    from dataclasses import fields, is_dataclass

    def dump(node):  # the tree with every position (== on nodes ignores them)
        if not is_dataclass(node):
            return tuple(dump(item) for item in node) if isinstance(node, tuple) else node
        return (type(node).__name__, *(dump(getattr(node, f.name)) for f in fields(node)))
    try:
        return dump(parse(source))
    except ExpressionError as exc:
        return ("error", type(exc).__name__, exc.message, exc.position)


def assert_same_tree(source):
    from chalicelib.expressions.parser import parse
    from tests.unit import reference_parser
    assert parsed(parse, source) == parsed(reference_parser.parse, source), source


def test_the_shared_cases_parse_the_same():
    for case in CASES:
        assert_same_tree(case["expr"])


ARITHMETIC = ["a", "1", "2.5", "'x'", "-", "+", "*", "/", "%", "(", ")", "[", "]", ".b", ",", "==", "<", "and", "or",
              "not", "in", "f(", "len(", "sum(", "x[0]", "$user", "true", "null"]


@SAME
@given(tokens=st.lists(st.sampled_from(ARITHMETIC), min_size=1, max_size=30), spaced=st.booleans())
def test_operator_soups_parse_the_same(tokens, spaced):
    assert_same_tree((" " if spaced else "").join(tokens))


@SAME
@given(tokens=st.lists(st.sampled_from(TOKENS), max_size=25))
def test_token_soups_parse_the_same(tokens):
    assert_same_tree(" ".join(tokens))
