"""The recursive-descent parser (a method per precedence level) that precedence climbing replaced in
chalicelib/expressions/parser.py, kept as the reference its differential test compares with. Not used by
the app.

Recursive-descent parser: tokens -> a tree of the frozen dataclasses in .nodes.

Precedence, lowest first:  or | and | not | comparisons (== != < <= > >= in, not in) | + - |
* / % | unary - | postfix (.name, [index]) | primary.  Every way of nesting (parentheses, unary
operators, call arguments, list items, indexes) passes through _nested(), which counts depth and
stops at MAX_AST_DEPTH long before Python's own recursion limit.  Function names and argument
counts are checked here, so a stored expression can only fail at run time on its data.
"""
from __future__ import annotations

import difflib
from typing import Any

from chalicelib.errors import ExpressionError, ExpressionLimitExceeded
from chalicelib.expressions.functions import FUNCTIONS
from chalicelib.expressions.lexer import Token, syntax_error, tokenize
from chalicelib.expressions.limits import MAX_AST_DEPTH, MAX_AST_NODES
from chalicelib.expressions.nodes import (Binary, Call, Field, GetAttr, Index, ListLiteral, Literal, Logical, Node, Unary,
                    Variable, children)

COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_ADDITIVE = frozenset({"+", "-"})
_MULTIPLICATIVE = frozenset({"*", "/", "%"})
_CONSTANTS = {"true": True, "false": False, "null": None}


def parse(source: str) -> Node:
    try:
        tree = _Parser(source).parse()
    except RecursionError:
        # Defence in depth: _nested() stops at MAX_AST_DEPTH, using ~15 frames per level, far
        # below Python's limit unless the caller is already very deep.
        raise ExpressionLimitExceeded("expression nested too deeply", source=source) from None
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


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.depth = 0

    # --- token helpers -------------------------------------------------------------------
    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def _advance(self) -> Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def _at(self, kind: str, value: Any = None) -> bool:
        return self.token.kind == kind and (value is None or self.token.value == value)

    def _accept(self, kind: str, value: Any = None) -> Token | None:
        return self._advance() if self._at(kind, value) else None

    def _expect_op(self, value: str, purpose: str) -> Token:
        if not self._at("op", value):
            raise self._unexpected(f" (expected '{value}' {purpose})")
        return self._advance()

    def _unexpected(self, hint: str = "") -> ExpressionError:
        token = self.token
        what = "end of expression" if token.kind == "eof" else repr(str(token.value)) if token.kind != "string" \
            else "string"
        return syntax_error(f"unexpected {what}{hint}", token.position, self.source)

    def _nested(self, position: int, parse_next: Any) -> Node:
        """Parse one nested part, counting depth so hostile nesting stops long before Python's limit."""
        self.depth += 1
        if self.depth > MAX_AST_DEPTH:
            raise ExpressionLimitExceeded(f"expression nested deeper than {MAX_AST_DEPTH} levels at position "
                                          f"{position}", position=position, source=self.source)
        node = parse_next()
        self.depth -= 1
        return node

    # --- grammar, lowest precedence first ------------------------------------------------
    def parse(self) -> Node:
        if self._at("eof"):
            raise syntax_error("empty expression", 0, self.source)
        node = self._or()
        if not self._at("eof"):
            raise self._unexpected()
        return node

    def _or(self) -> Node:
        node = self._and()
        while token := self._accept("keyword", "or"):
            node = Logical("or", node, self._and(), position=token.position)
        return node

    def _and(self) -> Node:
        node = self._not()
        while token := self._accept("keyword", "and"):
            node = Logical("and", node, self._not(), position=token.position)
        return node

    def _not(self) -> Node:
        if token := self._accept("keyword", "not"):
            return Unary("not", self._nested(token.position, self._not), position=token.position)
        return self._comparison()

    def _comparison(self) -> Node:
        node = self._additive()
        operator, position = self._comparison_operator()
        if operator is None:
            return node
        node = Binary(operator, node, self._additive(), position=position)
        if self._comparison_operator(peek_only=True)[0] is not None:
            raise syntax_error("comparisons cannot be chained; combine them with 'and'",
                               self.token.position, self.source)
        return node

    def _comparison_operator(self, peek_only: bool = False) -> tuple[str | None, int]:
        token = self.token
        if token.kind == "op" and token.value in COMPARISONS:
            operator = token.value
        elif self._at("keyword", "in"):
            operator = "in"
        elif self._at("keyword", "not") and self.tokens[self.index + 1][:2] == ("keyword", "in"):
            operator = "not in"
        else:
            return None, token.position
        if not peek_only:
            self._advance()
            if operator == "not in":
                self._advance()
        return operator, token.position

    def _binary_level(self, operators: frozenset[str], parse_operand: Any) -> Node:
        node = parse_operand()
        while self.token.kind == "op" and self.token.value in operators:
            token = self._advance()
            node = Binary(token.value, node, parse_operand(), position=token.position)
        return node

    def _additive(self) -> Node:
        return self._binary_level(_ADDITIVE, self._multiplicative)

    def _multiplicative(self) -> Node:
        return self._binary_level(_MULTIPLICATIVE, self._unary)

    def _unary(self) -> Node:
        if token := self._accept("op", "-"):
            return Unary("-", self._nested(token.position, self._unary), position=token.position)
        return self._postfix()

    def _postfix(self) -> Node:
        node = self._primary()
        while True:
            if token := self._accept("op", "."):
                if not self._at("name"):
                    raise self._unexpected(" (expected a field name after '.')")
                node = GetAttr(node, self._advance().value, position=token.position)
            elif token := self._accept("op", "["):
                index = self._nested(token.position, self._or)
                self._expect_op("]", "to close the index")
                node = Index(node, index, position=token.position)
            else:
                return node

    def _primary(self) -> Node:
        token = self.token
        if token.kind in ("number", "string"):
            return Literal(self._advance().value, position=token.position)
        if token.kind == "keyword" and token.value in _CONSTANTS:
            self._advance()
            return Literal(_CONSTANTS[token.value], position=token.position)
        if token.kind == "variable":
            return Variable(self._advance().value, position=token.position)
        if token.kind == "name":
            self._advance()
            if self._at("op", "("):
                return self._call(token)
            return Field(token.value, position=token.position)
        if self._accept("op", "("):
            node = self._nested(token.position, self._or)
            self._expect_op(")", "to close the parenthesis")
            return node
        if self._accept("op", "["):
            items = self._sequence("]", token.position)
            return ListLiteral(items, position=token.position)
        raise self._unexpected()

    def _sequence(self, closing: str, position: int) -> tuple[Node, ...]:
        """Comma-separated expressions up to `closing` (the opening token is already consumed)."""
        items: list[Node] = []
        if not self._at("op", closing):
            items.append(self._nested(position, self._or))
            while self._accept("op", ","):
                items.append(self._nested(position, self._or))
        self._expect_op(closing, "to close the list" if closing == "]" else "to close the argument list")
        return tuple(items)

    def _call(self, name: Token) -> Node:
        spec = FUNCTIONS.get(name.value)
        if spec is None:
            close = difflib.get_close_matches(name.value, FUNCTIONS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise syntax_error(f"unknown function '{name.value}'{hint}", name.position, self.source)
        self._advance()  # '('
        args = self._sequence(")", name.position)
        if problem := spec.arity_problem(len(args)):
            raise syntax_error(problem, name.position, self.source)
        for index, check in spec.literal_checks.items():
            arg = args[index] if index < len(args) else None
            if isinstance(arg, Literal):
                try:
                    check(arg.value)  # e.g. a regex literal is compiled (and screened) at upload time
                except ExpressionError as exc:
                    raise type(exc)(f"{exc.message} at position {arg.position}",
                                    position=arg.position, source=self.source) from None
        return Call(name.value, args, position=name.position)
