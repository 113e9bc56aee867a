"""A small, safe expression language for conditions and computed fields in tenant definitions.

Pipeline (modelled on jmespath): lexer -> parser (tree of frozen dataclasses) -> compiler (the tree
as Python closures, built once per expression; evaluator.py is the same semantics as a tree walk,
kept as the reference the tests compare it with), reading data only through Mapping/list access.  Nothing here uses eval, exec,
compile or getattr on user input, and every failure is a chalicelib.errors.ExpressionError
(ExpressionLimitExceeded when a hard limit in .limits is crossed).

    >>> compile_expression("sum(parts_used.qty) > 2").evaluate({"parts_used": [{"qty": 2}, {"qty": 1}]})
    True
"""
from __future__ import annotations

import difflib
import functools
from collections.abc import Collection, Mapping
from typing import Any

from ..errors import ExpressionError
from .limits import MAX_CACHED_EXPRESSIONS
from .nodes import Call, Field, Literal, Variable, children

# parser and evaluator are imported on first use: importing this package (e.g. for .patterns, which the
# form field models need) stays cheap at Lambda cold start.

__all__ = ["Expression", "compile_expression", "check_expression"]

DEFAULT_VARIABLES = ("$user", "$now", "$today")


class Expression:
    """A parsed expression: immutable, shared through the compile cache, safe to reuse."""

    __slots__ = ("source", "field_roots", "variables", "functions", "strings", "_tree", "_first_positions", "_program")

    def __init__(self, source: str, tree) -> None:

        positions: dict[str, int] = {}
        functions, strings = set(), set()
        for node in _walk(tree):
            if isinstance(node, (Field, Variable)):
                positions[node.name] = min(node.position, positions.get(node.name, node.position))
            elif isinstance(node, Call):
                functions.add(node.name)
            elif isinstance(node, Literal) and isinstance(node.value, str):
                strings.add(node.value)
        self.source = source
        self._tree = tree
        self._program = None  # the tree compiled into closures (compiler.py), on the first evaluation
        self._first_positions = positions  # where each name first appears, for check_expression
        self.field_roots = frozenset(name for name in positions if not name.startswith("$"))
        self.variables = frozenset(name for name in positions if name.startswith("$"))
        self.functions = frozenset(functions)  # the functions it calls, by name (e.g. whether it reads the clock)
        self.strings = frozenset(strings)  # its text literals (e.g. the state names a `$state` test compares with)

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """Decimal, str, bool, None, list or dict; lists/dicts taken from the context come back as-is."""
        run = self._program
        if run is None:
            from .compiler import program
            run = self._program = program(self._tree)
        return run(context, self.source)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def _walk(tree):

    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        pending.extend(children(node))


@functools.lru_cache(maxsize=MAX_CACHED_EXPRESSIONS)
def _compile_cached(source: str) -> Expression:
    from .parser import parse
    return Expression(source, parse(source))


def compile_expression(source: str) -> Expression:
    """Parse once; later calls with the same source return the same Expression object."""
    if not isinstance(source, str):
        raise ExpressionError(f"expression must be a string, got {type(source).__name__}")
    return _compile_cached(source)


def check_expression(source: str, known_fields: Collection[str],
                     known_variables: Collection[str] = DEFAULT_VARIABLES) -> Expression:
    """Compile, and also reject references to fields or $variables the definition does not have."""
    expression = compile_expression(source)
    known = {"field": set(known_fields), "variable": set(known_variables)}
    unknown = [(position, name) for name, position in expression._first_positions.items()
               if name not in known["variable" if name.startswith("$") else "field"]]
    if unknown:
        position, name = min(unknown)
        kind = "variable" if name.startswith("$") else "field"
        close = difflib.get_close_matches(name, sorted(known[kind]), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ExpressionError(f"unknown {kind} '{name}'{hint} at position {position}",
                              position=position, source=source)
    return expression
