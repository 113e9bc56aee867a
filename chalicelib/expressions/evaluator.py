"""Walks a parsed tree against a context mapping and returns the value (the visitor).

Data is only ever read through Mapping lookups and list indexing - never getattr - so names
like __class__ are just missing fields.  Every node visit and every element touched by a
projection or list function costs one step from a fixed budget, which (with the parser's size
limits) bounds the run time of any expression on any record.
"""
from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from ..errors import ExpressionError, ExpressionLimitExceeded
from .budget import RequestBudget, current_budget
from .functions import FUNCTIONS
from .limits import MAX_EVALUATION_STEPS, NUMBER_MAX_EXPONENT
from .nodes import Binary, Call, Field, GetAttr, Index, ListLiteral, Literal, Logical, Node, Unary, Variable
from .values import (LIST_TYPES, NUMBER_CONTEXT, check_list, check_list_length, check_string_length,
                     contains_item, from_context, is_number, truthy, type_name, values_equal)


def evaluate(tree: Node, context: Mapping[str, Any], source: str = "") -> Any:
    if not isinstance(context, Mapping):
        raise ExpressionError("expression context must be a mapping", source=source)
    budget = current_budget()  # the request's shared budget (budget.py), if one is open
    if budget is not None:
        budget.enter(source)
    try:
        return _Evaluator(context, source, budget).visit(tree)
    except RecursionError:
        # Defence in depth: the size limits should make these impossible.
        raise ExpressionLimitExceeded("expression too complex to evaluate", source=source) from None
    finally:
        if budget is not None:
            budget.leave()


class _Evaluator:
    def __init__(self, context: Mapping[str, Any], source: str, budget: RequestBudget | None = None) -> None:
        self.context = context
        self.source = source
        self.steps = 0
        self.budget = budget

    # --- runtime services used by functions ----------------------------------------------
    def charge(self, steps: int) -> None:
        self.steps += steps
        if self.steps > MAX_EVALUATION_STEPS:
            raise ExpressionLimitExceeded(f"expression took more than {MAX_EVALUATION_STEPS} steps")
        if self.budget is not None:
            self.budget.charge(steps)  # BudgetExhausted is no ExpressionError: visit() lets it through

    def reserve_cpu(self, seconds: float) -> None:
        if self.budget is not None:
            self.budget.reserve_cpu(seconds)

    def variable(self, name: str) -> Any:
        return from_context(self.context.get(name))

    # --- dispatch --------------------------------------------------------------------------
    def visit(self, node: Node) -> Any:
        try:
            self.charge(1)
            visitor = _VISITORS.get(type(node))
            if visitor is None:  # only reachable with hand-built trees
                raise ExpressionError(f"not an expression node: {type(node).__name__}")
            return visitor(self, node)
        except ExpressionError as exc:
            if exc.position is not None:
                raise
            error = exc
        # One net for every decimal/date signal from operators and functions alike (e.g. sum()
        # overflowing), so no ArithmeticError can escape whichever code path produced it.
        except decimal.Overflow:
            error = ExpressionLimitExceeded(f"number too large (limit 1e{NUMBER_MAX_EXPONENT})")
        except ArithmeticError:
            error = ExpressionError("result cannot be represented as a number")
        # The innermost node that failed lends its position to the message.
        position = getattr(node, "position", None)  # a node of ours: a dataclass field, never user data
        raise type(error)(f"{error.message} at position {position}", position=position, source=self.source) from None

    def _literal(self, node: Literal) -> Any:
        return node.value

    def _list(self, node: ListLiteral) -> list:
        return [self.visit(item) for item in node.items]

    def _field(self, node: Field) -> Any:
        return from_context(self.context.get(node.name))

    def _variable(self, node: Variable) -> Any:
        return self.variable(node.name)

    def _get_attr(self, node: GetAttr) -> Any:
        return self._member(self.visit(node.target), node.name)

    def _member(self, value: Any, name: str) -> Any:
        if isinstance(value, Mapping):
            return from_context(value.get(name))
        if not isinstance(value, LIST_TYPES):
            return None  # a field of a scalar or of null is simply missing
        # Projection: `rows.qty` takes qty from every row; rows that are lists themselves are
        # flattened one level, so `orders.lines.qty` is a flat list of quantities.
        self.charge(len(value))
        result: list = []
        for item in value:
            if isinstance(item, LIST_TYPES):
                self.charge(len(item))
                result.extend(self._scalar_member(inner, name) for inner in item)
            else:
                result.append(self._scalar_member(item, name))
            check_list(result)
        return result

    @staticmethod
    def _scalar_member(item: Any, name: str) -> Any:
        return from_context(item.get(name)) if isinstance(item, Mapping) else None

    def _index(self, node: Index) -> Any:
        value, index = self.visit(node.target), self.visit(node.index)
        if isinstance(value, LIST_TYPES) and is_number(index) and index == index.to_integral_value():
            position = int(index)
            return from_context(value[position]) if -len(value) <= position < len(value) else None
        if isinstance(value, Mapping) and isinstance(index, str):
            return from_context(value.get(index))
        return None  # out of range, wrong kind of index, or nothing to index: missing, like a field

    def _unary(self, node: Unary) -> Any:
        operand = self.visit(node.operand)
        if node.operator == "not":
            return not truthy(operand)
        if operand is None:
            return None
        if not is_number(operand):
            raise ExpressionError(f"cannot negate a {type_name(operand)}")
        return NUMBER_CONTEXT.minus(operand)

    def _logical(self, node: Logical) -> bool:
        left = truthy(self.visit(node.left))
        if left == (node.operator == "or"):
            return left  # short-circuit: the right side is never evaluated
        return truthy(self.visit(node.right))

    def _binary(self, node: Binary) -> Any:
        left, right = self.visit(node.left), self.visit(node.right)
        return _OPERATORS[node.operator](self, left, right)

    def _call(self, node: Call) -> Any:
        spec = FUNCTIONS.get(node.name)
        if spec is None or (problem := spec.arity_problem(len(node.args))):  # trees built by hand
            raise ExpressionError(f"unknown function '{node.name}'" if spec is None else problem)
        if spec.lazy:
            return spec.implementation(self, *(partial(self.visit, arg) for arg in node.args))
        return spec.implementation(self, *(self.visit(arg) for arg in node.args))


_VISITORS: dict[type, Callable[[_Evaluator, Any], Any]] = {
    Literal: _Evaluator._literal, ListLiteral: _Evaluator._list, Field: _Evaluator._field,
    Variable: _Evaluator._variable, GetAttr: _Evaluator._get_attr, Index: _Evaluator._index,
    Unary: _Evaluator._unary, Logical: _Evaluator._logical, Binary: _Evaluator._binary, Call: _Evaluator._call,
}


def _arithmetic(symbol: str, operation: Callable[[Any, Any], Any]) -> Callable[[_Evaluator, Any, Any], Any]:
    def apply(runtime: _Evaluator, left: Any, right: Any) -> Any:
        if left is None or right is None:
            return None  # a blank operand gives a blank result, as in a spreadsheet cell
        if not (is_number(left) and is_number(right)):
            raise ExpressionError(f"cannot apply '{symbol}' to {type_name(left)} and {type_name(right)}")
        if symbol in ("/", "%") and right.is_zero():
            raise ExpressionError("division by zero")
        return operation(left, right)  # overflow and other decimal signals: see visit()
    return apply


_add_numbers = _arithmetic("+", NUMBER_CONTEXT.add)


def _plus(runtime: _Evaluator, left: Any, right: Any) -> Any:
    if isinstance(left, str) and isinstance(right, str):
        check_string_length(len(left) + len(right))
        return left + right
    if isinstance(left, LIST_TYPES) and isinstance(right, LIST_TYPES):
        check_list_length(len(left) + len(right))
        runtime.charge(len(left) + len(right))
        return [*left, *right]
    return _add_numbers(runtime, left, right)


def _ordering(symbol: str, test: Callable[[Any, Any], bool]) -> Callable[[_Evaluator, Any, Any], bool]:
    def apply(runtime: _Evaluator, left: Any, right: Any) -> bool:
        if left is None or right is None:
            return False
        if (is_number(left) and is_number(right)) or (isinstance(left, str) and isinstance(right, str)):
            return test(left, right)
        raise ExpressionError(f"cannot compare {type_name(left)} and {type_name(right)} with '{symbol}'")
    return apply


_OPERATORS: dict[str, Callable[[_Evaluator, Any, Any], Any]] = {
    "+": _plus,
    "-": _arithmetic("-", NUMBER_CONTEXT.subtract),
    "*": _arithmetic("*", NUMBER_CONTEXT.multiply),
    "/": _arithmetic("/", NUMBER_CONTEXT.divide),
    "%": _arithmetic("%", NUMBER_CONTEXT.remainder),
    "==": lambda runtime, left, right: values_equal(left, right, runtime.charge),
    "!=": lambda runtime, left, right: not values_equal(left, right, runtime.charge),
    "<": _ordering("<", lambda left, right: left < right),
    "<=": _ordering("<=", lambda left, right: left <= right),
    ">": _ordering(">", lambda left, right: left > right),
    ">=": _ordering(">=", lambda left, right: left >= right),
    "in": lambda runtime, left, right: contains_item(right, left, runtime.charge),
    "not in": lambda runtime, left, right: not contains_item(right, left, runtime.charge),
}
