"""Recursive-descent parser: tokens -> a tree of the frozen dataclasses in .nodes.

Precedence, lowest first:  or | and | not | comparisons (== != < <= > >= in, not in) | + - |
* / % | unary - | postfix (.name, [index]) | primary.  Every way of nesting (parentheses, unary
operators, call arguments, list items, indexes) passes through nested(), which counts depth and
stops at MAX_AST_DEPTH long before Python's own recursion limit.  Function names and argument
counts are checked here, so a stored expression can only fail at run time on its data.

The grammar functions are closures over one parse's state (the token list, the current token and
its index, the depth): locals instead of attributes, and `+ -` / `* / %` by precedence climbing,
unary, postfix and primary in one function, so an operand costs a few calls, not one per level.
Tokens are the lexer's (tag, value, position) tuples: one string compare tells an operator or keyword.
"""
from __future__ import annotations

import difflib
from typing import Any, Callable

from ..errors import ExpressionError, ExpressionLimitExceeded
from .functions import FUNCTIONS
from .lexer import scan, syntax_error
from .limits import MAX_AST_DEPTH, MAX_AST_NODES
from .nodes import (Binary, Call, Field, GetAttr, Index, ListLiteral, Literal, Logical, Node, Unary,
                    Variable, children)

COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_COMPARING = COMPARISONS | {"in"}  # tags that start a comparison operator by themselves ('not' needs 'in' next)
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "%": 2}  # of the arithmetic operators
_CONSTANTS = {"true": True, "false": False, "null": None}


def parse(source: str) -> Node:
    try:
        tokens = scan(source)
        if tokens[0][0] == "eof":
            raise syntax_error("empty expression", 0, source)
        tree = _grammar(tokens, source)
    except RecursionError:
        # Defence in depth: nested() stops at MAX_AST_DEPTH, using a few frames per level, far
        # below Python's limit unless the caller is already very deep.
        raise ExpressionLimitExceeded("expression nested too deeply", source=source) from None
    # Every node consumes at least one token of its own, so a tree of no more tokens than the depth
    # limit can exceed neither limit: the walk is needed only for longer sources.
    if len(tokens) - 1 > MAX_AST_DEPTH:
        _check_size(tree, source)
    return tree


def _check_size(tree: Node, source: str) -> None:
    # Iterative, so measuring a tree can never itself recurse too deep.
    count, pending = 0, [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        count += 1
        if depth > MAX_AST_DEPTH:
            raise ExpressionLimitExceeded(f"expression nested deeper than {MAX_AST_DEPTH} levels "
                                          f"at position {node.position}", position=node.position, source=source)
        pending.extend((child, depth + 1) for child in children(node))
    if count > MAX_AST_NODES:
        raise ExpressionLimitExceeded(f"expression has {count} parts; the limit is {MAX_AST_NODES}", source=source)


def _grammar(tokens: list[tuple[str, Any, int]], source: str) -> Node:
    """The whole expression (not empty) from its tokens; raises at the first token that does not fit."""
    index = 0
    token = tokens[0]  # the current token: tokens[index]
    depth = 0

    # --- helpers -------------------------------------------------------------------------
    def unexpected(hint: str = "") -> ExpressionError:
        tag, value, position = token
        what = "end of expression" if tag == "eof" else "string" if tag == "string" else repr(str(value))
        return syntax_error(f"unexpected {what}{hint}", position, source)

    def expect(tag: str, purpose: str) -> None:
        nonlocal index, token
        if token[0] != tag:
            raise unexpected(f" (expected '{tag}' {purpose})")
        index += 1
        token = tokens[index]

    def nested(position: int, parse_next: Callable[[], Node]) -> Node:
        """Parse one nested part, counting depth so hostile nesting stops long before Python's limit."""
        nonlocal depth
        depth += 1
        if depth > MAX_AST_DEPTH:
            raise ExpressionLimitExceeded(f"expression nested deeper than {MAX_AST_DEPTH} levels at position "
                                          f"{position}", position=position, source=source)
        node = parse_next()
        depth -= 1
        return node

    # --- grammar, lowest precedence first ------------------------------------------------
    def or_() -> Node:
        nonlocal index, token
        node = and_()
        while token[0] == "or":
            position = token[2]
            index += 1
            token = tokens[index]
            node = Logical("or", node, and_(), position)
        return node

    def and_() -> Node:
        nonlocal index, token
        node = not_() if token[0] == "not" else comparison()
        while token[0] == "and":
            position = token[2]
            index += 1
            token = tokens[index]
            node = Logical("and", node, not_() if token[0] == "not" else comparison(), position)
        return node

    def not_() -> Node:
        nonlocal index, token
        if token[0] == "not":
            position = token[2]
            index += 1
            token = tokens[index]
            return Unary("not", nested(position, not_), position)
        return comparison()

    def comparison() -> Node:
        nonlocal index, token
        node = unary()
        if token[0] in _PRECEDENCE:
            node = climb(node, 1)
        operator, position = token[0], token[2]
        if operator in _COMPARING:
            index += 1
        elif operator == "not" and tokens[index + 1][0] == "in":
            operator = "not in"
            index += 2
        else:
            return node
        token = tokens[index]
        right = unary()
        if token[0] in _PRECEDENCE:
            right = climb(right, 1)
        node = Binary(operator, node, right, position)
        if token[0] in _COMPARING or (token[0] == "not" and tokens[index + 1][0] == "in"):
            raise syntax_error("comparisons cannot be chained; combine them with 'and'", token[2], source)
        return node

    def climb(left: Node, lowest: int) -> Node:
        """`+ -` and `* / %` (left-associative, `*` binding tighter) by precedence climbing (same trees
        as a level per precedence)."""
        nonlocal index, token
        while True:
            operator, _, position = token
            precedence = _PRECEDENCE.get(operator)
            if precedence is None or precedence < lowest:
                return left
            index += 1
            token = tokens[index]
            right = unary()
            while True:
                tighter = _PRECEDENCE.get(token[0])
                if tighter is None or tighter <= precedence:
                    break
                right = climb(right, tighter)
            left = Binary(operator, left, right, position)

    def unary() -> Node:
        """Unary minus, then a primary and its postfix parts (.name, [index])."""
        nonlocal index, token
        tag, value, position = token
        if tag == "-":
            index += 1
            token = tokens[index]
            return Unary("-", nested(position, unary), position)
        # primary
        if tag == "name":
            index += 1
            token = tokens[index]
            node = call(value, position) if token[0] == "(" else Field(value, position)
        elif tag == "string" or tag == "number":
            index += 1
            token = tokens[index]
            node = Literal(value, position)
        elif tag in _CONSTANTS:
            index += 1
            token = tokens[index]
            node = Literal(_CONSTANTS[tag], position)
        elif tag == "variable":
            index += 1
            token = tokens[index]
            node = Variable(value, position)
        elif tag == "(":
            index += 1
            token = tokens[index]
            node = nested(position, or_)
            expect(")", "to close the parenthesis")
        elif tag == "[":
            index += 1
            token = tokens[index]
            node = ListLiteral(sequence("]", position), position)
        else:
            raise unexpected()
        # postfix
        while True:
            tag, _, position = token
            if tag == ".":
                index += 1
                token = tokens[index]
                if token[0] != "name":
                    raise unexpected(" (expected a field name after '.')")
                node = GetAttr(node, token[1], position)
                index += 1
                token = tokens[index]
            elif tag == "[":
                index += 1
                token = tokens[index]
                node = Index(node, nested(position, or_), position)
                expect("]", "to close the index")
            else:
                return node

    def sequence(closing: str, position: int) -> tuple[Node, ...]:
        """Comma-separated expressions up to `closing` (the opening token is already consumed)."""
        nonlocal index, token
        items: list[Node] = []
        if token[0] != closing:
            items.append(nested(position, or_))
            while token[0] == ",":
                index += 1
                token = tokens[index]
                items.append(nested(position, or_))
        expect(closing, "to close the list" if closing == "]" else "to close the argument list")
        return tuple(items)

    def call(name: str, position: int) -> Node:
        nonlocal index, token
        spec = FUNCTIONS.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, FUNCTIONS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise syntax_error(f"unknown function '{name}'{hint}", position, source)
        index += 1  # '('
        token = tokens[index]
        args = sequence(")", position)
        if problem := spec.arity_problem(len(args)):
            raise syntax_error(problem, position, source)
        for at, check in spec.literal_checks.items():
            arg = args[at] if at < len(args) else None
            if isinstance(arg, Literal):
                try:
                    check(arg.value)  # e.g. a regex literal is compiled (and screened) at upload time
                except ExpressionError as exc:
                    raise type(exc)(f"{exc.message} at position {arg.position}",
                                    position=arg.position, source=source) from None
        return Call(name, args, position)

    try:
        node = or_()
        if token[0] != "eof":
            raise unexpected()
        return node
    finally:  # the functions refer to each other through their cells: break the cycles, so the
        # garbage collector has nothing to find after a parse
        or_ = and_ = not_ = comparison = climb = unary = sequence = call = nested = None  # type: ignore[assignment]
