"""JSON Patch (RFC 6902), pure: a list of operations on JSON Pointers (RFC 6901) — add, remove,
replace, move, copy, test — applied in order, all or nothing. What a merge patch cannot say small:
"append one field to `fields`" is one `{"op": "add", "path": "/fields/-", "value": {...}}`.

`apply(document, operations)` returns a new document; a bad operation raises PatchError with the
operation's index and what is wrong (the caller names it `[i].path` etc.)."""
from __future__ import annotations

import copy
from typing import Any

OPS = ("add", "remove", "replace", "move", "copy", "test")


class PatchError(ValueError):
    """`index`: the operation (-1: the patch itself); `member`: its bad member; `failed_test`: a `test`
    operation found another value (a precondition, not a malformed patch)."""

    def __init__(self, index: int, member: str, message: str, *, failed_test: bool = False) -> None:
        super().__init__(message)
        self.index, self.member, self.message, self.failed_test = index, member, message, failed_test


def _tokens(pointer: Any, index: int, member: str) -> list[str]:
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        raise PatchError(index, member, "must be a JSON Pointer ('' or starting with '/')")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _array_index(token: str, size: int, index: int, member: str, *, append: bool) -> int:
    if append and token == "-":
        return size
    if not token.isdigit() or (token != "0" and token.startswith("0")) or not token.isascii():
        raise PatchError(index, member, f"'{token}' is not an array index")
    at = int(token)
    if at > size or (at == size and not append):
        raise PatchError(index, member, f"index {at} is past the end of the array ({size} items)")
    return at


def _parent(doc: Any, tokens: list[str], index: int, member: str) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_array_index(token, len(node), index, member, append=False)]
        else:
            raise PatchError(index, member, f"'{token}' does not exist")
    return node


def _get(doc: Any, tokens: list[str], index: int, member: str) -> Any:
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens, index, member), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_array_index(last, len(parent), index, member, append=False)]
    raise PatchError(index, member, f"'{last}' does not exist")


def _remove(doc: Any, tokens: list[str], index: int, member: str) -> Any:
    if not tokens:
        raise PatchError(index, member, "cannot remove the whole document")
    parent, last = _parent(doc, tokens, index, member), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_array_index(last, len(parent), index, member, append=False))
    raise PatchError(index, member, f"'{last}' does not exist")


def _add(doc: Any, tokens: list[str], value: Any, index: int, member: str) -> Any:
    if not tokens:
        return value
    parent, last = _parent(doc, tokens, index, member), tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_array_index(last, len(parent), index, member, append=True), value)
    else:
        raise PatchError(index, member, "the parent is neither an object nor an array")
    return doc


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, objects by keys, arrays in order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return a == b


def apply(document: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise PatchError(-1, "", "a JSON Patch is an array of operations")
    doc = copy.deepcopy(document)
    for i, op in enumerate(operations):
        if not isinstance(op, dict) or op.get("op") not in OPS:
            raise PatchError(i, "op", f"must be one of {', '.join(OPS)}")
        name, path = op["op"], _tokens(op.get("path"), i, "path")
        if name in ("add", "replace", "test") and "value" not in op:
            raise PatchError(i, "value", "is required")
        value = copy.deepcopy(op.get("value"))
        if name == "add":
            doc = _add(doc, path, value, i, "path")
        elif name == "remove":
            _remove(doc, path, i, "path")
        elif name == "replace":
            _get(doc, path, i, "path")  # must exist
            doc = value if not path else doc
            if path:
                _remove(doc, path, i, "path")
                doc = _add(doc, path, value, i, "path")
        elif name in ("move", "copy"):
            source = _tokens(op.get("from"), i, "from")
            if name == "move" and path[:len(source)] == source and len(path) > len(source):
                raise PatchError(i, "from", "cannot move a value into itself")
            moved = _remove(doc, source, i, "from") if name == "move" else copy.deepcopy(_get(doc, source, i, "from"))
            doc = _add(doc, path, moved, i, "path")
        elif not _equal(_get(doc, path, i, "path"), value):
            raise PatchError(i, "value", f"test failed: {op['path']} is not the given value", failed_test=True)
    return doc


__all__ = ["apply", "PatchError", "OPS"]
