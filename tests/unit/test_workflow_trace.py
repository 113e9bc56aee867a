"""The engine's trace of a step (Outcome.trace, what the designer's dry run shows): each state entered,
the Choice rule that matched (or the Default), a caught step error; never stored — the step's path,
events and instance are what they were. And a Choice rule worded for a designer (choice.describe_rule)."""
import pytest

from chalicelib.workflow.choice import describe_rule
from chalicelib.workflow.definition import ChoiceRule

from .test_workflow_engine import SUCCEED, Ctx, act, action, begin, task, wf


def test_the_trace_names_each_state_and_the_rule_that_chose():
    definition = wf({"A": task("C"), "C": {"Type": "Choice", "Choices": [
        {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
        {"Or": [{"Variable": "$.n", "NumericGreaterThan": 5}, {"Variable": "$.kind", "StringEquals": "vip"}], "Next": "Mid"}],
        "Default": "Low"}, "Big": SUCCEED, "Mid": action("Done", {"SetFields": {"m": "true"}}), "Low": task("Done"), "Done": SUCCEED})
    mid = act(definition, begin(definition, {"n": 1, "kind": "vip"}), "go")
    assert mid.trace == [{"state": "C", "type": "Choice", "choice": {"rule": 1, "next": "Mid"}},
                         {"state": "Mid", "type": "Action"}, {"state": "Done", "type": "Succeed"}]
    assert mid.path == ["A", "C", "Mid", "Done"]  # the step itself is as before
    assert not any("choice" in e for e in mid.events)
    low = act(definition, begin(definition, {"n": 1}), "go")
    assert low.trace[0]["choice"] == {"rule": None, "next": "Low"} and low.instance.state == "Low"
    assert begin(definition, {}).trace == [{"state": "A", "type": "Task"}]


def test_a_caught_step_error_is_in_the_trace():
    definition = wf({"A": task("D"), "D": action("Ok", {"Dispatch": {}}, Catch=[{"ErrorEquals": ["Dispatch.NoCandidate"], "Next": "Manual"}]),
                     "Ok": SUCCEED, "Manual": task("Ok")})
    out = act(definition, begin(definition), "go", ctx=Ctx(dispatch=()))
    assert out.trace[0] == {"state": "D", "type": "Action",
                            "caught": {"error": "Dispatch.NoCandidate", "cause": "nobody left", "next": "Manual"}}
    assert out.instance.state == "Manual"


@pytest.mark.parametrize("rule,text", [
    ({"Variable": "$.parts_total", "NumericGreaterThan": 10000}, "parts_total > 10000"),
    ({"Variable": "$.total", "NumericLessThanEquals": 2.5}, "total <= 2.5"),
    ({"Variable": "priority", "StringEquals": "urgent"}, 'priority == "urgent"'),
    ({"Variable": "$.ok", "BooleanEquals": True}, "ok == true"),
    ({"Variable": "$.due", "TimestampLessThan": "2026-01-01T00:00:00Z"}, 'due < "2026-01-01T00:00:00Z"'),
    ({"Variable": "$.code", "StringMatches": "WO-*"}, 'code matches "WO-*"'),
    ({"Variable": "$.note", "IsPresent": False}, "note is absent"),
    ({"Variable": "$.note", "IsNull": True}, "note is empty"),
    ({"Or": [{"Variable": "$.a", "NumericGreaterThan": 2000}, {"Variable": "$.w", "StringEquals": "out"}]}, 'a > 2000 or w == "out"'),
    ({"And": [{"Not": {"Variable": "$.a", "NumericEquals": 1}}, {"Or": [{"Condition": "b > 1"}, {"Condition": "c"}]}]},
     "not (a == 1) and (b > 1 or c)"),
])
def test_a_rule_in_a_designers_words(rule, text):
    assert describe_rule(ChoiceRule.model_validate(rule)) == text
