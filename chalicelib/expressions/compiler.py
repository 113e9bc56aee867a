"""Compiles a parsed tree once into a tree of Python closures, so an evaluation is a few direct calls
instead of a type dispatch per node (the walker in evaluator.py stays as the reference semantics; the
tests hold the two to the same values, errors and steps).

Same rules as the walker:
- data is read only through Mapping lookups and list indexing;
- steps: every node the walker would visit costs one step, charged per *region* — a node and the
  descendants that are always visited with it — when the region is entered; the right side of
  `and`/`or` and each argument of a lazy function (if, coalesce) are regions of their own. A
  successful evaluation is charged exactly the walker's steps; one that fails is charged its whole
  current region. Per-element work (projections, list functions, == and `in` on lists) is charged as
  it happens, through `charge`, which enforces MAX_EVALUATION_STEPS at once. Node visits alone cannot
  cross that limit (MAX_AST_NODES is far below it); the end of an evaluation checks the total again;
- the request's budget (budget.py) is charged the evaluation's steps when it ends (an evaluation is
  bounded by MAX_EVALUATION_STEPS, so an exhausted budget stops the request at most one evaluation
  later than a per-node charge would);
- the innermost node that fails lends its position to the message.
"""
from __future__ import annotations

import decimal
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ..errors import ExpressionError, ExpressionLimitExceeded
from .budget import BudgetExhausted, current_budget
from .functions import FUNCTIONS
from .limits import MAX_EVALUATION_STEPS, MAX_LIST_LENGTH, NUMBER_MAX_EXPONENT
from .nodes import Binary, Call, Field, GetAttr, Index, ListLiteral, Literal, Logical, Node, Unary, Variable
from .values import (LIST_TYPES, NUMBER_CONTEXT, check_list, check_list_length, check_string_length, contains_item,
                     from_context, truthy, type_name, values_equal)

Compiled = Callable[["Run"], Any]


class Run:
    """One evaluation's state; also the runtime the functions see (charge, variable, reserve_cpu)."""

    __slots__ = ("context", "source", "steps", "budget")

    def charge(self, steps: int) -> None:
        self.steps += steps
        if self.steps > MAX_EVALUATION_STEPS:
            raise ExpressionLimitExceeded(f"expression took more than {MAX_EVALUATION_STEPS} steps")

    def reserve_cpu(self, seconds: float) -> None:
        if self.budget is not None:
            self.budget.reserve_cpu(seconds)

    def variable(self, name: str) -> Any:
        return from_context(self.context.get(name))


def _positioned(exc: Exception, position: int, source: str) -> ExpressionError:
    """The error as the walker reports it: the innermost failing node's position added once."""
    if isinstance(exc, ExpressionError):
        if exc.position is not None:
            return exc
        error = exc
    elif isinstance(exc, decimal.Overflow):
        error = ExpressionLimitExceeded(f"number too large (limit 1e{NUMBER_MAX_EXPONENT})")
    else:  # another ArithmeticError
        error = ExpressionError("result cannot be represented as a number")
    return type(error)(f"{error.message} at position {position}", position=position, source=source)


def program(tree: Node) -> Callable[[Mapping[str, Any], str], Any]:
    """tree → evaluate(context, source) with the walker's semantics."""
    root, steps = _compile(tree)
    position = getattr(tree, "position", 0)

    def evaluate(context: Mapping[str, Any], source: str = "") -> Any:
        if context.__class__ is not dict and not isinstance(context, Mapping):
            raise ExpressionError("expression context must be a mapping", source=source)
        budget = current_budget()
        run = new_run(Run)  # object.__new__ and four stores: cheaper than an __init__ call
        run.context, run.source, run.steps, run.budget = context, source, steps, budget
        if budget is None:
            try:
                result = root(run)
            except RecursionError:
                raise ExpressionLimitExceeded("expression too complex to evaluate", source=source) from None
            if run.steps > MAX_EVALUATION_STEPS:
                raise _over_limit(position, source)
            return result
        budget.enter(source)
        try:
            result = root(run)
        except ExpressionError:
            try:
                budget.charge(run.steps)  # what it used still counts; its own error is the one to report
            except BudgetExhausted:
                pass
            raise
        except RecursionError:
            raise ExpressionLimitExceeded("expression too complex to evaluate", source=source) from None
        finally:
            budget.leave()
        budget.charge(run.steps)
        if run.steps > MAX_EVALUATION_STEPS:
            raise _over_limit(position, source)
        return result

    return evaluate


new_run = object.__new__


def _over_limit(position: int, source: str) -> ExpressionLimitExceeded:
    return ExpressionLimitExceeded(f"expression took more than {MAX_EVALUATION_STEPS} steps at position {position}",
                                   position=position, source=source)


def _region(tree: Node) -> Compiled:
    """A conditionally evaluated subtree: charges its own steps when entered."""
    inner, steps = _compile(tree)

    def region(run: Run) -> Any:
        run.steps += steps
        return inner(run)
    return region


def _compile(node: Node) -> tuple[Compiled, int]:
    """(closure, steps of the region it roots)."""
    kind = type(node)
    if kind is Literal:
        value = node.value
        return (lambda run: value), 1
    compiler = _COMPILERS.get(kind)
    if compiler is None:  # only reachable with hand-built trees
        position = getattr(node, "position", 0)

        def invalid(run: Run) -> Any:
            raise _positioned(ExpressionError(f"not an expression node: {kind.__name__}"), position, run.source)
        return invalid, 1
    return compiler(node)


def _field(node: Field) -> tuple[Compiled, int]:
    name, position = node.name, node.position

    def field(run: Run) -> Any:
        value = run.context.get(name)
        if value is None or value.__class__ is str or value.__class__ is bool:
            return value
        return _read(value, position, run.source)
    return field, 1


def _read(value: Any, position: int, source: str) -> Any:
    """A context value that is not already a string, boolean or null, as from_context makes it."""
    if value.__class__ is Decimal and value.is_finite():  # the usual number: create_decimal keeps it in range
        try:
            return create_decimal(value)
        except ArithmeticError:
            pass  # out of range: from_context says how
    try:
        return from_context(value)
    except ExpressionError as exc:
        raise _positioned(exc, position, source) from None


def _direct(node: Node) -> tuple[str, int] | None:
    """(name, position) when `node` reads the context directly (a field or $variable): the consumer
    reads it inline instead of calling the field's closure."""
    return (node.name, node.position) if isinstance(node, (Field, Variable)) else None


def _variable(node: Variable) -> tuple[Compiled, int]:
    return _field(Field(node.name, node.position))


def _list(node: ListLiteral) -> tuple[Compiled, int]:
    parts = [_compile(item) for item in node.items]
    items = tuple(fn for fn, _ in parts)

    def list_literal(run: Run) -> list:
        return [item(run) for item in items]
    return list_literal, 1 + sum(steps for _, steps in parts)


def _member(value: Any, name: str, run: Run) -> Any:
    if value.__class__ is dict or isinstance(value, Mapping):
        return from_context(value.get(name))
    if not isinstance(value, LIST_TYPES):
        return None  # a field of a scalar or of null is simply missing
    run.charge(len(value))  # projection: see evaluator._member
    result: list = []
    for item in value:
        if isinstance(item, LIST_TYPES):
            run.charge(len(item))
            result.extend(from_context(inner.get(name)) if isinstance(inner, Mapping) else None for inner in item)
        else:
            result.append(from_context(item.get(name)) if isinstance(item, Mapping) else None)
        check_list(result)
    return result


def _get_attr(node: GetAttr) -> tuple[Compiled, int]:
    target, steps = _compile(node.target)
    name, position = node.name, node.position
    direct = _direct(node.target)
    if direct is not None:
        root, at = direct

        def get_attr_direct(run: Run) -> Any:  # `customer.tier`: one closure, the object read inline
            value = run.context.get(root)
            if value.__class__ is dict:
                inner = value.get(name)
                if inner is None or inner.__class__ is str or inner.__class__ is bool:
                    return inner
                return _read(inner, position, run.source)
            if value is not None and value.__class__ is not str and value.__class__ is not bool:
                value = _read(value, at, run.source)
            try:
                return _member(value, name, run)
            except (ExpressionError, ArithmeticError) as exc:
                raise _positioned(exc, position, run.source) from None
        return get_attr_direct, 1 + steps

    def get_attr(run: Run) -> Any:
        value = target(run)
        try:
            return _member(value, name, run)
        except (ExpressionError, ArithmeticError) as exc:
            raise _positioned(exc, position, run.source) from None
    return get_attr, 1 + steps


def _index(node: Index) -> tuple[Compiled, int]:
    (target, target_steps), (index, index_steps) = _compile(node.target), _compile(node.index)
    position = node.position

    def get_index(run: Run) -> Any:
        value, key = target(run), index(run)
        try:
            if isinstance(value, LIST_TYPES) and isinstance(key, Decimal) and key == key.to_integral_value():
                at = int(key)
                return from_context(value[at]) if -len(value) <= at < len(value) else None
            if isinstance(value, Mapping) and isinstance(key, str):
                return from_context(value.get(key))
            return None
        except (ExpressionError, ArithmeticError) as exc:
            raise _positioned(exc, position, run.source) from None
    return get_index, 1 + target_steps + index_steps


def _unary(node: Unary) -> tuple[Compiled, int]:
    operand, steps = _compile(node.operand)
    position = node.position
    direct = _direct(node.operand)
    if node.operator == "not" and direct is not None:
        name, at = direct

        def negation_direct(run: Run) -> bool:
            value = run.context.get(name)
            if value is None or value is False:
                return True
            if value is True:
                return False
            if value.__class__ is not str:
                value = _read(value, at, run.source)
            return not truthy(value)
        return negation_direct, 1 + steps
    if node.operator == "not":
        def negation(run: Run) -> bool:
            value = operand(run)
            return value is False or (value is not True and not truthy(value))
        return negation, 1 + steps

    def minus(run: Run) -> Any:
        value = operand(run)
        if value is None:
            return None
        try:
            if not isinstance(value, Decimal):
                raise ExpressionError(f"cannot negate a {type_name(value)}")
            return NUMBER_CONTEXT.minus(value)
        except (ExpressionError, ArithmeticError) as exc:
            raise _positioned(exc, position, run.source) from None
    return minus, 1 + steps


def _logical(node: Logical) -> tuple[Compiled, int]:
    """`a and b and c` (parsed as ((a and b) and c)) as one loop: the chain's Logical nodes and `a` are
    always visited; each later operand is a region charged when it is reached."""
    operator, spine, rights = node.operator, 0, []
    while isinstance(node, Logical) and node.operator == operator:
        spine += 1
        rights.append(node.right)
        node = node.left
    first, first_steps = _compile(node)
    later = tuple(_compile(right) for right in reversed(rights))
    stop = operator == "or"  # the truth value that decides the chain

    def chain(run: Run) -> bool:
        value = first(run)
        if (value is True or (value is not False and truthy(value))) is stop:
            return stop
        for operand, steps in later:
            run.steps += steps
            value = operand(run)
            if (value is True or (value is not False and truthy(value))) is stop:
                return stop
        return not stop
    return chain, spine + first_steps


def _constant_list(node: Node) -> tuple | None:
    """A list literal of scalars only: (strings, numbers, has_null, has_true, has_false) for membership."""
    if not isinstance(node, ListLiteral) or not all(isinstance(item, Literal) for item in node.items):
        return None
    values = [item.value for item in node.items]
    return (frozenset(v for v in values if isinstance(v, str)), frozenset(v for v in values if isinstance(v, Decimal)),
            any(v is None for v in values), any(v is True for v in values), any(v is False for v in values))


def _binary(node: Binary) -> tuple[Compiled, int]:
    (left, left_steps), (right, right_steps) = _compile(node.left), _compile(node.right)
    steps, position, symbol = 1 + left_steps + right_steps, node.position, node.operator
    special = _specialised(node, left, symbol, position)
    if special is not None:
        return special, steps
    operation = _OPERATORS[symbol]

    def binary(run: Run) -> Any:
        a, b = left(run), right(run)
        try:
            return operation(run, a, b)
        except (ExpressionError, ArithmeticError) as exc:
            raise _positioned(exc, position, run.source) from None
    return binary, steps


def _arithmetic_direct(node: Binary, left: Compiled, symbol: str, position: int) -> Compiled:
    """`quantity * unit_price`: two fields holding finite numbers read and combined inline; any other
    values (null, text, out of range) and any arithmetic error take the general operator, for its answer
    and error (reading the context has no side effects, so reading it again is the same)."""
    (left_name, _), (right_name, _) = _direct(node.left), _direct(node.right)
    right = _compile(node.right)[0]
    operate, general = _NUMBER_OPERATIONS[symbol], _OPERATORS[symbol]

    def arithmetic_direct(run: Run) -> Any:
        context = run.context
        a, b = context.get(left_name), context.get(right_name)
        if a.__class__ is Decimal and b.__class__ is Decimal and a.is_finite() and b.is_finite():
            try:
                return operate(create_decimal(a), create_decimal(b))
            except ArithmeticError:
                pass
        a, b = left(run), right(run)
        try:
            return general(run, a, b)
        except (ExpressionError, ArithmeticError) as exc:
            raise _positioned(exc, position, run.source) from None
    return arithmetic_direct


def _specialised(node: Binary, left: Compiled, symbol: str, position: int) -> Compiled | None:
    """Fast paths for a comparison or membership test against a literal (the common condition shape);
    each gives exactly the general operator's answer and error."""
    right = node.right
    if symbol in ("in", "not in"):
        constants = _constant_list(right)
        if constants is None:
            return None
        strings, numbers, has_null, has_true, has_false = constants
        count, negate = len(right.items), symbol == "not in"

        direct = _direct(node.left)
        name, at = direct or ("", 0)

        def membership(run: Run) -> bool:
            if direct is None:
                needle = left(run)
                if needle.__class__ not in _NORMAL:
                    needle = _normalised(needle, position, run.source)
            else:
                needle = run.context.get(name)
                if needle is not None and needle.__class__ is not str and needle.__class__ is not bool:
                    needle = _read(needle, at, run.source)
            try:
                run.charge(count)  # as contains_item charges a list's length
            except ExpressionError as exc:
                raise _positioned(exc, position, run.source) from None
            if needle is None:
                found = has_null
            elif needle is True:
                found = has_true
            elif needle is False:
                found = has_false
            elif isinstance(needle, str):
                found = needle in strings
            elif isinstance(needle, Decimal):
                found = needle in numbers
            else:  # a list or object is never equal to a scalar literal
                found = False
            return found is not negate
        return membership
    if symbol in _NUMBER_OPERATIONS and _direct(node.left) is not None and _direct(right) is not None:
        return _arithmetic_direct(node, left, symbol, position)
    if not isinstance(right, Literal) or right.value is None or isinstance(right.value, bool):
        return None
    literal = right.value
    kind = str if isinstance(literal, str) else Decimal
    direct = _direct(node.left)
    if direct is not None:
        name, at = direct

        def left(run: Run) -> Any:  # noqa: F811 — read inline below; this one only for the general shape
            value = run.context.get(name)
            if value is None or value.__class__ is str or value.__class__ is bool:
                return value
            return _read(value, at, run.source)
    if symbol in ("==", "!=") and direct is not None:
        equal = symbol == "=="

        def equality_direct(run: Run) -> bool:
            value = run.context.get(name)
            if value is not None and value.__class__ is not str and value.__class__ is not bool:
                value = _read(value, at, run.source)
            return (isinstance(value, kind) and value == literal) is equal
        return equality_direct
    if symbol in ("==", "!="):
        equal = symbol == "=="

        def equality(run: Run) -> bool:
            value = left(run)
            if value.__class__ not in _NORMAL:
                value = _normalised(value, position, run.source)
            return (isinstance(value, kind) and value == literal) is equal
        return equality
    test = _ORDERINGS.get(symbol)
    if test is None:
        return None

    if direct is not None:
        def ordering_direct(run: Run) -> bool:
            value = run.context.get(name)
            if value is None:
                return False
            if value.__class__ is not str and value.__class__ is not bool:
                value = _read(value, at, run.source)
                if value is None:
                    return False
            if isinstance(value, kind):
                return test(value, literal)
            raise _positioned(ExpressionError(f"cannot compare {type_name(value)} and {type_name(literal)} with '{symbol}'"),
                              position, run.source)
        return ordering_direct

    def ordering(run: Run) -> bool:
        value = left(run)
        if value.__class__ not in _NORMAL:
            value = _normalised(value, position, run.source)
        if value is None:
            return False
        if isinstance(value, kind) and not isinstance(value, bool):
            return test(value, literal)
        raise _positioned(ExpressionError(f"cannot compare {type_name(value)} and {type_name(literal)} with '{symbol}'"),
                          position, run.source)
    return ordering


create_decimal = NUMBER_CONTEXT.create_decimal
_NORMAL = frozenset({str, Decimal, bool, type(None), list, dict})  # values from_context leaves as they are


def _normalised(value: Any, position: int, source: str) -> Any:
    """A value a function handed back as the context held it (e.g. an int): as the operators see it."""
    try:
        return from_context(value)
    except ExpressionError as exc:
        raise _positioned(exc, position, source) from None


def _call(node: Call) -> tuple[Compiled, int]:
    spec, position = FUNCTIONS.get(node.name), node.position
    if spec is None or (problem := spec.arity_problem(len(node.args))):  # trees built by hand
        message = f"unknown function '{node.name}'" if spec is None else problem

        def invalid(run: Run) -> Any:
            raise _positioned(ExpressionError(message), position, run.source)
        return invalid, 1
    implementation = spec.implementation
    if node.name == "sum" and len(node.args) == 1 and isinstance(node.args[0], GetAttr) \
            and _direct(node.args[0].target) is not None:
        return _sum_of_projection(node, implementation)
    if spec.lazy:
        regions = tuple(_region(arg) for arg in node.args)

        def lazy_call(run: Run) -> Any:
            try:
                return implementation(run, *((lambda region=region: region(run)) for region in regions))
            except (ExpressionError, ArithmeticError) as exc:
                raise _positioned(exc, position, run.source) from None
        return lazy_call, 1
    return _call_general(node, implementation)


def _sum_of_projection(node: Call, implementation: Callable[..., Any]) -> tuple[Compiled, int]:
    """`sum(rows.field)`, a sub-table's total: one pass over the rows when each is an object whose `field` is
    null or a finite number, charged as the projection (the rows) and then sum() (its items) charge, with
    the same result; any other shape (nested lists, other values, numbers out of range) takes the general
    projection and call, for their exact values and errors."""
    projection = node.args[0]
    general, steps = _call_general(node, implementation)
    root, name, at = projection.target.name, projection.name, projection.position
    position = node.position

    def sum_of_projection(run: Run) -> Any:
        rows = run.context.get(root)
        if rows.__class__ is not list or len(rows) > MAX_LIST_LENGTH:
            return general(run)
        numbers = []
        for row in rows:
            if row.__class__ is not dict:
                return general(run)
            value = row.get(name)
            if value is not None:
                if value.__class__ is not Decimal or not value.is_finite():
                    return general(run)
                try:
                    numbers.append(create_decimal(value))  # from_context's number, as the projection reads it
                except ArithmeticError:
                    return general(run)
        try:
            run.charge(len(rows))  # the projection's, as _member charges it
        except ExpressionError as exc:
            raise _positioned(exc, at, run.source) from None
        try:
            run.charge(len(rows))  # sum()'s, over the projected list (nulls included)
            total = Decimal(0)
            for value in numbers:
                total = add(total, value)
            return total
        except (ExpressionError, ArithmeticError) as exc:
            raise _positioned(exc, position, run.source) from None
    return sum_of_projection, steps


def _call_general(node: Call, implementation: Callable[..., Any]) -> tuple[Compiled, int]:
    """An eager function call: its arguments evaluated, then the function."""
    position = node.position
    parts = [_compile(arg) for arg in node.args]
    args = tuple(fn for fn, _ in parts)

    def call(run: Run) -> Any:
        values = [arg(run) for arg in args]
        try:
            return implementation(run, *values)
        except (ExpressionError, ArithmeticError) as exc:
            raise _positioned(exc, position, run.source) from None
    return call, 1 + sum(steps for _, steps in parts)


add = NUMBER_CONTEXT.add


_COMPILERS: dict[type, Callable[[Any], tuple[Compiled, int]]] = {
    Field: _field, Variable: _variable, ListLiteral: _list, GetAttr: _get_attr, Index: _index, Unary: _unary,
    Logical: _logical, Binary: _binary, Call: _call,
}


# --- operators (the walker's, with the run as the runtime) -----------------------------------------
def _arithmetic(symbol: str, operation: Callable[[Any, Any], Any]) -> Callable[[Run, Any, Any], Any]:
    def apply(run: Run, left: Any, right: Any) -> Any:
        if left is None or right is None:
            return None
        if not (isinstance(left, Decimal) and isinstance(right, Decimal)):
            raise ExpressionError(f"cannot apply '{symbol}' to {type_name(left)} and {type_name(right)}")
        if symbol in ("/", "%") and right.is_zero():
            raise ExpressionError("division by zero")
        return operation(left, right)
    return apply


_add_numbers = _arithmetic("+", NUMBER_CONTEXT.add)


def _plus(run: Run, left: Any, right: Any) -> Any:
    if isinstance(left, str) and isinstance(right, str):
        check_string_length(len(left) + len(right))
        return left + right
    if isinstance(left, LIST_TYPES) and isinstance(right, LIST_TYPES):
        check_list_length(len(left) + len(right))
        run.charge(len(left) + len(right))
        return [*left, *right]
    return _add_numbers(run, left, right)


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _ordering(symbol: str) -> Callable[[Run, Any, Any], bool]:
    test = _ORDERINGS[symbol]

    def apply(run: Run, left: Any, right: Any) -> bool:
        if left is None or right is None:
            return False
        if (isinstance(left, Decimal) and isinstance(right, Decimal)) or (isinstance(left, str) and isinstance(right, str)):
            return test(left, right)
        raise ExpressionError(f"cannot compare {type_name(left)} and {type_name(right)} with '{symbol}'")
    return apply


_OPERATORS: dict[str, Callable[[Run, Any, Any], Any]] = {
    "+": _plus,
    "-": _arithmetic("-", NUMBER_CONTEXT.subtract),
    "*": _arithmetic("*", NUMBER_CONTEXT.multiply),
    "/": _arithmetic("/", NUMBER_CONTEXT.divide),
    "%": _arithmetic("%", NUMBER_CONTEXT.remainder),
    "==": lambda run, left, right: values_equal(left, right, run.charge),
    "!=": lambda run, left, right: not values_equal(left, right, run.charge),
    "<": _ordering("<"), "<=": _ordering("<="), ">": _ordering(">"), ">=": _ordering(">="),
    "in": lambda run, left, right: contains_item(right, left, run.charge),
    "not in": lambda run, left, right: not contains_item(right, left, run.charge),
}
# The operators that only ever combine two numbers into a number (no zero to refuse): `+` of two numbers too.
_NUMBER_OPERATIONS: dict[str, Callable[[Any, Any], Any]] = {"+": NUMBER_CONTEXT.add, "-": NUMBER_CONTEXT.subtract,
                                                           "*": NUMBER_CONTEXT.multiply}
