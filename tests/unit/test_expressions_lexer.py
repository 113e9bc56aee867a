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


# --- the whole old pipeline: the character scanner feeding the level-per-precedence parser ---------------
# The parser reads the lexer's (tag, value, position) tuples (scan()), not tokenize()'s Tokens, so it is
# also compared with the reference parser fed by the reference lexer: nothing of the new code on that side.
def old_pipeline(source):
    from tests.unit import reference_parser
    new_lexer = reference_parser.tokenize
    reference_parser.tokenize = reference_lexer.tokenize
    try:
        return parsed(reference_parser.parse, source)
    finally:
        reference_parser.tokenize = new_lexer


def assert_same_as_the_old_pipeline(source):
    from chalicelib.expressions.parser import parse
    assert parsed(parse, source) == old_pipeline(source), source


EDGES = [
    "", " ", " \t\r\n ", "a", " a ", "andy", "in_x", "notin", "not in", "nota", "truex", "null_", "a.and", "a.b.c",
    "a .b", "a. b", "a.", "a.1", "1.5.3", "1.", "1.x", "12x", "1.5x", "1_", "0" * 40, "0" * 41, "1." + "0" * 39,
    "a != b", "a !== b", "a ! b", "!a", "!!a", "a && b || !c", "a & b", "a | b", "a = b", "a === b", "a => b",
    "$", "$1", "$ a", "$a.b", "$user[0]", "'x", "'x\\", "'x\\'", "'a\\'b'", "'\\n\\t\\q\\\\'", '"it\'s"', "'é²€'",
    "a < b < c", "a < b not in c", "a not in b == c", "a in b in c", "not a == b", "a == not b", "- not a",
    "not not not a", "--a", "-a.b", "-(a)", "a - - b", "1 + 2 * 3 - 4 / 5 % 6", "a * b + c * d", "(a + b) * c",
    "a[0][1]", "a[", "a[]", "a[0", "[", "[]", "[1,]", "[1, 2", "[1 2]", "f(", "len(", "len()", "len(a, b)",
    "len(a", "lenn(a)", "matches(a, '(a+)+')", "matches(a, '[')", "sum(a)", "(", "()", "(a", "(a))", "a)",
    "a b", "a and", "and a", "a or or b", "é", "a é", "a\u00a0b", "a\x00",
    "(" * 40 + "a" + ")" * 40, "(" * 41 + "a" + ")" * 41, "-" * 40 + "a", "-" * 41 + "a", "not " * 41 + "a",
    " and ".join(["a"] * 60), "[" * 41 + "]" * 41, "a" + "[0]" * 45, " + ".join(["1"] * 600),
]


def test_edge_cases_parse_as_the_old_pipeline_did():
    for source in EDGES:
        assert_same(source)
        assert_same_tree(source)
        assert_same_as_the_old_pipeline(source)


def test_the_shared_cases_parse_as_the_old_pipeline_did():
    for case in CASES:
        assert_same_as_the_old_pipeline(case["expr"])


@SAME
@given(tokens=st.lists(st.sampled_from(ARITHMETIC), min_size=1, max_size=30), spaced=st.booleans())
def test_operator_soups_parse_as_the_old_pipeline_did(tokens, spaced):
    assert_same_as_the_old_pipeline((" " if spaced else "").join(tokens))


@SAME
@given(tokens=st.lists(st.sampled_from(TOKENS), max_size=25), glue=st.sampled_from([" ", "", "\t", "'", "\\"]))
def test_token_soups_parse_as_the_old_pipeline_did(tokens, glue):
    assert_same_as_the_old_pipeline(glue.join(tokens))


def test_scan_tags_are_tokenize_kinds_folded():
    from chalicelib.expressions.lexer import KEYWORDS, OPERATORS, scan
    source = "a.b[0] == 'x' && !($v in [1, 2.5]) || c >= -3 % 2 and true != null"
    tokens = tokenize(source)
    assert [tuple(token) for token in tokenize(source)] == lexed(reference_lexer.tokenize, source)
    for (tag, value, position), token in zip(scan(source), tokens):
        assert (value, position) == (token.value, token.position)
        assert tag == (token.value if token.kind in ("op", "keyword") else token.kind)
        assert (tag in OPERATORS) == (token.kind == "op") and (tag in KEYWORDS) == (token.kind == "keyword")
    assert scan(source)[-1] == ("eof", None, len(source))


def test_a_parse_leaves_no_garbage_cycles():
    import gc

    from chalicelib.expressions.parser import parse
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        for source in ["a and b.c[0] in [1, 2] or not f", "len(a) + 1 * -b", "a and (b or", "((a]"]:
            try:
                parse(source)
            except ExpressionError:
                pass
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()
