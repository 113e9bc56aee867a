"""JSON Merge Patch: the examples of RFC 7386 appendix A, plus inputs left unchanged."""
import copy

import pytest

from chalicelib.mergepatch import merge

# RFC 7386, appendix A: (original, patch, result)
RFC_CASES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize("original, patch, result", RFC_CASES)
def test_rfc_7386_examples(original, patch, result):
    assert merge(original, patch) == result


def test_objects_merge_recursively_and_arrays_replace_wholesale():
    target = {"title": "Order", "fields": [{"name": "a"}, {"name": "b"}], "storage": {"indexes": ["a"], "shards": 4}}
    patched = merge(target, {"storage": {"shards": None, "ttl": 3}, "fields": [{"name": "c"}]})
    assert patched == {"title": "Order", "fields": [{"name": "c"}], "storage": {"indexes": ["a"], "ttl": 3}}


def test_nulls_inside_arrays_are_values_not_deletions():
    assert merge({"a": [1]}, {"a": [None, {"b": None}]}) == {"a": [None, {"b": None}]}


def test_neither_input_is_changed_and_nothing_is_shared():
    target, patch = {"a": {"b": [1]}, "c": 1}, {"a": {"d": {"e": 1}}, "c": None}
    before_target, before_patch = copy.deepcopy(target), copy.deepcopy(patch)
    patched = merge(target, patch)
    assert target == before_target and patch == before_patch
    patched["a"]["b"].append(2)
    patched["a"]["d"]["e"] = 9
    assert target == before_target and patch == before_patch
