"""JSON Merge Patch (RFC 7386), pure: the patch is a document shaped like its target, where a value
replaces, an object merges key by key (recursively), null removes the key, and an array replaces
the whole array (arrays are never merged element by element).

    merge({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": null, "e": 4}, "f": [5]})
    == {"a": 1, "b": {"d": 3, "e": 4}, "f": [5]}

Neither argument is changed; the result shares no containers with them.
"""
from __future__ import annotations

import copy
from typing import Any


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386 section 2, MergePatch(Target, Patch)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)  # a non-object patch (array, string, number, null) replaces the target
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge(result.get(name), value)
    return result


__all__ = ["merge"]
