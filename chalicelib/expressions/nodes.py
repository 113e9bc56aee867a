"""The syntax tree: one small frozen dataclass per construct.

Nodes hold no behaviour; the evaluator dispatches on their type.  `position` (offset in the
source) only feeds error messages, so it is excluded from equality: two trees parsed from
differently spaced sources compare equal.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

_NODE = dict(frozen=True, slots=True)
_POSITION = dict(default=0, compare=False, repr=False)  # for messages only; ignored by ==


@dataclass(**_NODE)
class Literal:
    value: Any                      # Decimal, str, bool or None
    position: int = field(**_POSITION)


@dataclass(**_NODE)
class ListLiteral:
    items: tuple[Node, ...]
    position: int = field(**_POSITION)


@dataclass(**_NODE)
class Field:
    name: str                       # a top-level record field
    position: int = field(**_POSITION)


@dataclass(**_NODE)
class Variable:
    name: str                       # includes the '$', e.g. '$user'
    position: int = field(**_POSITION)


@dataclass(**_NODE)
class GetAttr:
    target: Node
    name: str
    position: int = field(**_POSITION)


@dataclass(**_NODE)
class Index:
    target: Node
    index: Node
    position: int = field(**_POSITION)


@dataclass(**_NODE)
class Unary:
    operator: str                   # 'not' or '-'
    operand: Node
    position: int = field(**_POSITION)


@dataclass(**_NODE)
class Logical:
    operator: str                   # 'and' or 'or': kept apart from Binary because they short-circuit
    left: Node
    right: Node
    position: int = field(**_POSITION)


@dataclass(**_NODE)
class Binary:
    operator: str                   # arithmetic, comparison, 'in' or 'not in'
    left: Node
    right: Node
    position: int = field(**_POSITION)


@dataclass(**_NODE)
class Call:
    name: str
    args: tuple[Node, ...]
    position: int = field(**_POSITION)


Node = Union[Literal, ListLiteral, Field, Variable, GetAttr, Index, Unary, Logical, Binary, Call]

def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (Literal, Field, Variable)):
        return ()
    if isinstance(node, ListLiteral):
        return node.items
    if isinstance(node, Call):
        return node.args
    if isinstance(node, GetAttr):
        return (node.target,)
    if isinstance(node, Index):
        return (node.target, node.index)
    if isinstance(node, Unary):
        return (node.operand,)
    return (node.left, node.right)
