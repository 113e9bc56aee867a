"""JSON Patch (RFC 6902): the operations of its appendix A, errors with the operation's index."""
import copy

import pytest

from chalicelib.json_patch import PatchError, apply

# RFC 6902 appendix A (and RFC 6901 escapes): (document, patch, result)
CASES = [
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
    ({"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}], {"foo": ["bar", "qux", "baz"]}),
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    ({"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}], {"baz": "boo", "foo": "bar"}),
    ({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    ({"foo": ["all", "grass", "cows", "eat"]}, [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
     {"foo": ["all", "cows", "eat", "grass"]}),
    ({"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}], {"foo": "bar", "child": {"grandchild": {}}}),
    ({"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}], {"foo": ["bar", ["abc", "def"]]}),
    ({"baz": "qux", "foo": ["a", 2, "c"]}, [{"op": "test", "path": "/baz", "value": "qux"},
                                            {"op": "test", "path": "/foo/1", "value": 2}], {"baz": "qux", "foo": ["a", 2, "c"]}),
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}, {"op": "copy", "from": "/~1", "path": "/a"}],
     {"/": 9, "~1": 10, "a": 9}),
    ({"a": 1}, [{"op": "replace", "path": "", "value": [1]}], [1]),
]


@pytest.mark.parametrize("document, patch, result", CASES)
def test_rfc_6902_examples(document, patch, result):
    before = copy.deepcopy(document)
    assert apply(document, patch) == result
    assert document == before


@pytest.mark.parametrize("document, patch, index, member, words", [
    ({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}], 0, "path", "does not exist"),
    ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}], 0, "value", "test failed"),
    ({"a": True}, [{"op": "test", "path": "/a", "value": 1}], 0, "value", "test failed"),
    ({"a": [1]}, [{"op": "add", "path": "/b", "value": 1}, {"op": "remove", "path": "/a/1"}], 1, "path", "past the end"),
    ({"a": [1]}, [{"op": "add", "path": "/a/01", "value": 1}], 0, "path", "not an array index"),
    ({"a": 1}, [{"op": "launch", "path": "/a"}], 0, "op", "must be one of"),
    ({"a": 1}, [{"op": "add", "path": "a", "value": 1}], 0, "path", "JSON Pointer"),
    ({"a": 1}, [{"op": "replace", "path": "/a"}], 0, "value", "is required"),
    ({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}], 0, "from", "into itself"),
    ({"a": 1}, {"op": "add"}, -1, "", "array of operations"),
])
def test_bad_operations_name_their_index(document, patch, index, member, words):
    with pytest.raises(PatchError) as caught:
        apply(document, patch)
    assert (caught.value.index, caught.value.member) == (index, member) and words in caught.value.message
