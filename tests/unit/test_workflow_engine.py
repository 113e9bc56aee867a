"""The pure workflow engine (chalicelib.workflow): Choice rules (data-driven from
workflow_choice_cases.json), every state type at runtime, approvals, timers, and the instance
round trip. No AWS: a fake context answers the engine's questions."""
import json
from dataclasses import replace
from pathlib import Path

import pytest

from chalicelib.errors import Conflict, Forbidden, ValidationFailed
from chalicelib.forms.definition import parse_form_definition
from chalicelib.workflow import Instance, Outcome, StepError, Task, Timer, available_actions, fire_timer, parse_workflow, start, take_action
from chalicelib.workflow.choice import evaluate_choice
from chalicelib.workflow.definition import ChoiceRule
from chalicelib.workflow.engine import MAX_AUTOMATIC_STEPS

HERE = Path(__file__).resolve().parent
APP = HERE.parents[1] / "definitions" / "after_sales"
NOW = "2024-05-01T10:00:00.000Z"
LATER = "2024-05-01T11:00:00.000Z"


# ------------------------------------------------------------------ fakes and helpers

class Ctx:
    """resolve: Role → role key, Field → the user in that field, Users, Lookup → `lookup[(Form, value)]`,
    Fallback when a rule finds nobody. dispatch: pops `dispatch` results (a user or an exception).
    apply_fields: merge, drop None; fields in `invalid` raise ValidationFailed (→ States.DataError)."""

    def __init__(self, lookup=None, dispatch=(), invalid=()):
        self.lookup = lookup or {}
        self.results = list(dispatch)
        self.dispatch_calls = 0
        self.invalid = set(invalid)

    def resolve(self, rule, data):
        if rule.Role is not None:
            keys = [f"role:{rule.Role}"]
        elif rule.Field_ is not None:
            keys = [f"user:{data[rule.Field_]}"] if data.get(rule.Field_) else []
        elif rule.Users is not None:
            keys = [f"user:{u}" for u in rule.Users]
        else:
            keys = [f"user:{u}" for u in self.lookup.get((rule.Lookup.Form, data.get(rule.Lookup.ValueField)), [])]
        if not keys and rule.Fallback is not None:
            return self.resolve(rule.Fallback, data)
        return keys

    def dispatch(self, spec, data):
        self.dispatch_calls += 1
        result = self.results.pop(0) if self.results else StepError("Dispatch.NoCandidate", "nobody left")
        if isinstance(result, Exception):
            raise result
        return result

    def apply_fields(self, data, updates):
        bad = sorted(k for k in updates if k in self.invalid)
        if bad:
            raise ValidationFailed("invalid", details=[{"path": f"data.{k}", "message": "is invalid"} for k in bad])
        return {k: v for k, v in {**data, **updates}.items() if v is not None}


def variables(user="u1", roles=(), now=NOW):
    return {"$user": {"id": user, "roles": list(roles), "name": user}, "$now": now, "$today": now[:10]}


def wf(states, start_at="A", deadlines=None):
    raw = {"name": "job", "StartAt": start_at, "States": states}
    if deadlines:
        raw["Deadlines"] = deadlines
    return parse_workflow(raw)[0]


def begin(definition, data=None, ctx=None, now=NOW):
    return start(definition, 1, dict(data or {}), now, ctx or Ctx(), variables(now=now))


def act(definition, outcome_or_inst, action, user="u1", roles=(), admin=False, now=NOW, ctx=None, data=None, **kw):
    inst = outcome_or_inst.instance if isinstance(outcome_or_inst, Outcome) else outcome_or_inst
    if data is None:
        data = outcome_or_inst.data if isinstance(outcome_or_inst, Outcome) else {}
    return take_action(definition, inst, data, action, user_id=user, roles=list(roles), is_admin=admin, now=now,
                       ctx=ctx or Ctx(), variables=variables(user, roles, now), **kw)


def offered(definition, outcome, user="u1", roles=(), admin=False, data=None):
    return [a["action"] for a in available_actions(definition, outcome.instance, outcome.data if data is None else data, user,
                                                   list(roles), admin, variables(user, roles))]


def fire(definition, outcome, name, now=LATER, ctx=None):
    return fire_timer(definition, outcome.instance, outcome.data, name, now, ctx or Ctx(), variables("system", now=now))


def timers(outcome):
    return {t.name: t for t in outcome.instance.timers}


def assignees(outcome):
    return [t.assignee for t in outcome.instance.tasks]


def task(next_state="B", **kw):
    return {"Type": "Task", "Assignee": {"Users": ["u1"]}, "Actions": {"go": {"Next": next_state}}, **kw}


def action(next_state="B", *steps, **kw):
    body = {"Type": "Action", "Steps": list(steps) or [{"EmitEvent": "x.y"}], **kw}
    if next_state:
        body["Next"] = next_state
    return body


SUCCEED = {"Type": "Succeed"}
FAIL = {"Type": "Fail", "Error": "Nope", "Cause": "because"}


# ------------------------------------------------------------------ Choice rules

CHOICE_CASES = json.loads((HERE / "workflow_choice_cases.json").read_text())["cases"]


def test_choice_case_ids_are_unique():
    assert len({c["id"] for c in CHOICE_CASES}) == len(CHOICE_CASES)


@pytest.mark.parametrize("case", CHOICE_CASES, ids=[c["id"] for c in CHOICE_CASES])
def test_choice_case(case):
    rule = ChoiceRule.model_validate(case["rule"])
    context = {**case["data"], **variables(), "$state": "Check"}
    assert evaluate_choice(rule, context) is case["expected"]


@pytest.mark.parametrize("op,expected,value", [
    ("NumericLessThan", 5, float("nan")), ("NumericGreaterThan", 5, float("inf")), ("NumericEquals", 5, float("nan")),
    ("NumericGreaterThanEquals", float("-inf"), 1), ("NumericLessThan", float("nan"), 1)])
def test_non_finite_numbers_never_match(op, expected, value):
    # Python's json reads NaN/Infinity; Decimal raised InvalidOperation on ordering NaN (kept out of the JSON cases file)
    assert evaluate_choice(ChoiceRule.model_validate({"Variable": "$.x", op: expected}), {"x": value}) is False


def test_every_asl_operator_has_a_case():
    operators = set(ChoiceRule.model_fields) - {"Variable", "Condition", "And", "Or", "Not", "Next"}
    used = set()

    def walk(rule):
        used.update(k for k in rule if k in operators)
        for key in ("And", "Or"):
            for sub in rule.get(key, []):
                walk(sub)
        if "Not" in rule:
            walk(rule["Not"])

    for case in CHOICE_CASES:
        walk(case["rule"])
    assert used == operators


def test_choice_state_routes_first_match_then_default_then_fails():
    definition = wf({"A": task("C"), "C": {"Type": "Choice", "Choices": [
        {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
        {"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Mid"}]},
        "Big": SUCCEED, "Mid": {"Type": "Succeed"}})
    assert act(definition, begin(definition, {"n": 11}), "go").instance.state == "Big"
    assert act(definition, begin(definition, {"n": 7}), "go").instance.state == "Mid"
    out = act(definition, begin(definition, {"n": 1}), "go")
    assert (out.instance.state, out.instance.status, out.instance.error["error"]) == ("C", "failed", "States.NoChoiceMatched")
    with_default = wf({"A": task("C"), "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10,
                                                                           "Next": "Big"}], "Default": "D"},
                       "Big": SUCCEED, "D": task("Big")})
    out = act(with_default, begin(with_default, {"n": "11"}), "go")  # text, not a number: no match
    assert out.instance.state == "D" and out.path == ["A", "C", "D"]


# ------------------------------------------------------------------ Task

ASSIGNEE_CASES = [
    ({"Role": "agent"}, {}, ["role:agent"]),
    ({"Field": "owner"}, {"owner": "bob"}, ["user:bob"]),
    ({"Field": "owner", "Fallback": {"Role": "sup"}}, {}, ["role:sup"]),
    ({"Users": ["a", "b", "a"]}, {}, ["user:a", "user:b"]),
    ({"Users": [], "Fallback": {"Users": ["z"]}}, {}, ["user:z"]),
    ({"Lookup": {"Form": "region", "MatchField": "code", "ValueField": "region", "UserField": "sup"}}, {"region": "north"}, ["user:nsup"]),
    ({"Lookup": {"Form": "region", "MatchField": "code", "ValueField": "region", "UserField": "sup"}, "Fallback": {"Role": "sup"}},
     {"region": "west"}, ["role:sup"]),
    ({"Field": "owner", "Fallback": {"Field": "backup", "Fallback": {"Role": "last"}}}, {"backup": "bk"}, ["user:bk"]),
]


@pytest.mark.parametrize("rule,data,expected", ASSIGNEE_CASES)
def test_task_assignees_from_each_rule_kind(rule, data, expected):
    definition = wf({"A": {"Type": "Task", "Assignee": rule, "Actions": {"go": {"Next": "B"}}}, "B": SUCCEED})
    out = begin(definition, data, Ctx(lookup={("region", "north"): ["nsup"]}))
    assert assignees(out) == expected
    assert all((t.state, t.kind, t.created_at) == ("A", "task", NOW) for t in out.instance.tasks)
    assert (out.instance.state, out.instance.status, out.path) == ("A", "running", ["A"])


def test_task_with_nobody_is_unassigned_but_admin_can_act():
    definition = wf({"A": {"Type": "Task", "Assignee": {"Field": "owner"}, "Actions": {"go": {"Next": "B"}}}, "B": SUCCEED})
    out = begin(definition)
    assert out.instance.tasks == [] and {"type": "workflow.unassigned", "state": "A"} in out.events
    assert offered(definition, out, "u1") == []
    with pytest.raises(Forbidden):
        act(definition, out, "go", "u1")
    assert act(definition, out, "go", "root", admin=True).instance.status == "succeeded"


def test_actions_offered_only_when_condition_holds():
    definition = wf({"A": task(Actions={
        "small": {"Next": "B", "Condition": "amount <= 100"},
        "big": {"Next": "B", "Condition": "amount > 100"},
        "mine": {"Next": "B", "Condition": "$user.id == 'u1' and $state == 'A'"},
        "always": {"Next": "B"}}), "B": SUCCEED})
    out = begin(definition, {"amount": 50})
    assert offered(definition, out) == ["small", "mine", "always"]
    assert offered(definition, out, data={"amount": 500}) == ["big", "mine", "always"]
    with pytest.raises(Conflict) as info:
        act(definition, out, "big")
    assert info.value.code == "action_not_available"
    with pytest.raises(Conflict):
        act(definition, out, "no_such_action")
    assert act(definition, out, "small").instance.status == "succeeded"
    assert offered(definition, out, user="u2", admin=True) == ["small", "always"]  # admin sees what the Condition allows


def test_a_condition_that_cannot_be_evaluated_hides_only_its_action():
    definition = wf({"A": task(Actions={"cmp": {"Next": "B", "Condition": "amount > 100"}, "other": {"Next": "B"}}), "B": SUCCEED})
    out = begin(definition, {"amount": "lots"})  # text compared with a number: an evaluation error
    assert offered(definition, out) == ["other"]
    assert act(definition, out, "other").instance.status == "succeeded"
    with pytest.raises(Conflict):
        act(definition, out, "cmp")


def test_requires_lists_every_missing_field_as_data_path():
    definition = wf({"A": task(Actions={"go": {"Next": "B", "Requires": ["a", "b", "c", "d"]}}), "B": SUCCEED})
    out = begin(definition, {"a": "x", "b": "", "c": []})
    (listed,) = available_actions(definition, out.instance, out.data, "u1", [], False, variables())
    assert listed["missing"] == ["b", "c", "d"] and listed["requires"] == ["a", "b", "c", "d"]
    with pytest.raises(ValidationFailed) as info:
        act(definition, out, "go")
    assert info.value.code == "action_requires_fields"
    assert [d["path"] for d in info.value.details] == ["data.b", "data.c", "data.d"]
    done = act(definition, out, "go", data={"a": "x", "b": "y", "c": [1], "d": 0})
    assert done.instance.status == "succeeded"


def test_comment_required():
    definition = wf({"A": task(Actions={"cancel": {"Next": "B", "CommentRequired": True}}), "B": FAIL})
    out = begin(definition)
    for comment in ("", "   "):
        with pytest.raises(ValidationFailed) as info:
            act(definition, out, "cancel", comment=comment)
        assert info.value.details == [{"path": "comment", "message": "is required"}]
    done = act(definition, out, "cancel", comment="customer withdrew")
    assert (done.instance.status, done.instance.error) == ("failed", {"error": "Nope", "cause": "because"})


def test_only_assignees_or_admin_act():
    definition = wf({"A": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"go": {"Next": "B"}}}, "B": SUCCEED})
    out = begin(definition)
    assert offered(definition, out, "u9") == []
    with pytest.raises(Forbidden) as info:
        act(definition, out, "go", "u9", roles=["engineer"])
    assert info.value.code == "not_assignee"
    assert offered(definition, out, "u9", roles=["agent"]) == ["go"]
    assert act(definition, out, "go", "u9", roles=["agent"]).path == ["A", "B"]
    assert act(definition, out, "go", "boss", admin=True).instance.state == "B"


def test_finished_or_waiting_workflows_take_no_actions():
    definition = wf({"A": task(), "B": SUCCEED})
    done = act(definition, begin(definition), "go")
    assert offered(definition, done, admin=True) == []
    with pytest.raises(Conflict) as info:
        act(definition, done, "go", admin=True)
    assert info.value.code in ("workflow_not_running", "action_not_available")
    waiting = wf({"W": {"Type": "Wait", "Seconds": 60, "Next": "B"}, "B": SUCCEED}, start_at="W")
    out = begin(waiting)
    assert offered(waiting, out, admin=True) == []
    with pytest.raises(Conflict):
        act(waiting, out, "go", admin=True)


def test_engine_does_not_mutate_its_inputs():
    definition = wf({"A": task(), "B": action(None, {"SetFields": {"x": "1"}}, End=True)})
    out = begin(definition, {"y": 2})
    before_inst, before_data = json.dumps(out.instance.to_dict()), json.dumps(out.data)
    after = act(definition, out, "go")
    assert after.data == {"y": 2, "x": 1}
    assert json.dumps(out.instance.to_dict()) == before_inst and json.dumps(out.data) == before_data


# ------------------------------------------------------------------ Approval

def approval(mode, **kw):
    return {"Type": "Approval", "Mode": mode, "OnApprove": "Yes", "OnReject": "No", **kw}


ENDS = {"Yes": SUCCEED, "No": {"Type": "Fail", "Error": "Rejected"}}
USERS3 = {"Users": ["a", "b", "c"]}


def approval_wf(mode, **kw):
    return wf({"A": approval(mode, **kw), **ENDS})


def test_single_approval():
    definition = approval_wf("single", Approvers={"Role": "sup"})
    out = begin(definition)
    assert assignees(out) == ["role:sup"] and out.instance.tasks[0].kind == "approval"
    assert out.instance.approval == {"level": 0, "votes": {}, "eligible": ["role:sup"], "requested_by": "u1"}
    listed = available_actions(definition, out.instance, out.data, "s1", ["sup"], False, variables("s1"))
    assert [(a["action"], a["next"], a["comment_required"]) for a in listed] == [
        ("approve", "Yes", False), ("reject", "No", True), ("delegate", "A", False)]
    with pytest.raises(ValidationFailed):
        act(definition, out, "reject", "s1", roles=["sup"])
    assert act(definition, out, "reject", "s1", roles=["sup"], comment="too dear").instance.state == "No"
    yes = act(definition, out, "approve", "s1", roles=["sup"])
    assert (yes.instance.state, yes.path) == ("Yes", ["A", "Yes"])
    assert {"type": "approval.approved", "user": "s1"} in yes.events
    with pytest.raises(Forbidden):
        act(definition, out, "approve", "x", roles=["agent"])
    with pytest.raises(Conflict):
        act(definition, out, "accept", "s1", roles=["sup"])


@pytest.mark.parametrize("vote,end", [("approve", "Yes"), ("reject", "No")])
def test_any_mode_first_vote_decides(vote, end):
    definition = approval_wf("any", Approvers=USERS3)
    out = act(definition, begin(definition), vote, "b", comment="reason")
    assert out.instance.state == end


def test_chain_levels_advance_and_reject_at_any_level():
    definition = approval_wf("chain", Levels=[{"Users": ["l1"]}, {"Role": "manager"}, {"Users": ["ceo"]}])
    out = begin(definition)
    assert assignees(out) == ["user:l1"]
    lvl2 = act(definition, out, "approve", "l1")
    assert (lvl2.instance.state, lvl2.path, assignees(lvl2)) == ("A", ["A"], ["role:manager"])
    assert lvl2.instance.approval == {"level": 1, "votes": {}, "eligible": ["role:manager"], "requested_by": "u1",
                                      "earlier_approvers": ["l1"]}
    with pytest.raises(Forbidden):
        act(definition, lvl2, "approve", "l1")  # level 1's approver is done
    lvl3 = act(definition, lvl2, "approve", "m", roles=["manager"])
    assert lvl3.instance.approval["level"] == 2 and assignees(lvl3) == ["user:ceo"]
    assert act(definition, lvl3, "approve", "ceo").instance.state == "Yes"
    assert act(definition, lvl3, "reject", "ceo", comment="no").instance.state == "No"
    assert act(definition, lvl2, "reject", "m", roles=["manager"], comment="no").instance.state == "No"
    assert act(definition, out, "reject", "l1", comment="no").instance.state == "No"


def test_all_mode_countersign():
    definition = approval_wf("all", Approvers=USERS3)
    out = begin(definition)
    one = act(definition, out, "approve", "a")
    assert (one.instance.state, assignees(one), one.instance.approval["votes"]) == ("A", ["user:b", "user:c"], {"a": "approve"})
    assert offered(definition, one, "a") == []
    with pytest.raises(Forbidden):  # a voted: no task left, so no second vote
        act(definition, one, "approve", "a")
    two = act(definition, one, "approve", "c")
    assert two.instance.state == "A" and assignees(two) == ["user:b"]
    assert act(definition, two, "approve", "b").instance.state == "Yes"
    assert act(definition, two, "reject", "b", comment="no").instance.state == "No"
    assert act(definition, out, "reject", "c", comment="no").instance.state == "No"  # one reject rejects


def test_admin_cannot_vote_twice():
    definition = approval_wf("all", Approvers=USERS3)
    once = act(definition, begin(definition), "approve", "root", admin=True)
    with pytest.raises(Conflict) as info:
        act(definition, once, "approve", "root", admin=True)
    assert info.value.code == "already_voted"


def test_threshold_mode():
    definition = approval_wf("threshold", Approvers={"Users": ["a", "b", "c", "d"]}, ThresholdPercent=50)
    out = begin(definition)
    one = act(definition, out, "approve", "a")
    assert one.instance.state == "A"
    assert act(definition, one, "approve", "b").instance.state == "Yes"  # 2 of 4 = 50 %
    r1 = act(definition, one, "reject", "b", comment="no")
    assert r1.instance.state == "A"  # 1 approve, 1 reject: 2 more approvals could still reach 50 %
    r2 = act(definition, r1, "reject", "c", comment="no")
    assert r2.instance.state == "A"  # 50 % still reachable with d
    assert act(definition, r2, "approve", "d").instance.state == "Yes"
    strict = approval_wf("threshold", Approvers={"Users": ["a", "b", "c", "d"]}, ThresholdPercent=75)
    r = act(strict, begin(strict), "reject", "a", comment="no")
    assert r.instance.state == "A"  # 3 of the remaining 3 can still reach 75 %
    assert act(strict, r, "reject", "b", comment="no").instance.state == "No"  # unreachable now


def test_delegation_replaces_the_delegators_task():
    definition = wf({"A": approval("all", Approvers={"Users": ["a", "b"], "Fallback": {"Users": ["c"]}},
                                   Deadlines=[{"Name": "d", "Seconds": 600}]), **ENDS})
    out = begin(definition)
    with pytest.raises(ValidationFailed):
        act(definition, out, "delegate", "a")
    with pytest.raises(Forbidden) as info:  # only to someone the step's rule (or its fallbacks) could have assigned
        act(definition, out, "delegate", "a", delegate_to="x")
    assert info.value.code == "delegate_not_eligible"
    moved = act(definition, out, "delegate", "a", delegate_to="c")
    assert (moved.instance.state, moved.path) == ("A", ["A"])
    assert sorted(assignees(moved)) == ["user:b", "user:c"]
    assert sorted(moved.instance.approval["eligible"]) == ["user:b", "user:c"]
    assert {"type": "approval.delegated", "from": "a", "to": "c"} in moved.events
    assert all(t.due_at == "2024-05-01T10:10:00.000Z" for t in moved.instance.tasks)
    with pytest.raises(Forbidden):
        act(definition, moved, "approve", "a")
    with pytest.raises(Forbidden):
        act(definition, moved, "delegate", "x", delegate_to="y")
    half = act(definition, moved, "approve", "c")
    assert half.instance.state == "A"
    assert act(definition, half, "approve", "b").instance.state == "Yes"


def test_delegating_to_someone_who_already_has_a_vote_is_refused():
    # Before the fix: a → b gave b two seats in an `all` approval, b could vote once, and it never completed.
    definition = approval_wf("all", Approvers={"Users": ["a", "b", "c"]})
    out = begin(definition)
    voted = act(definition, out, "approve", "b")
    for target, state in (("b", voted), ("c", out), ("a", out)):
        with pytest.raises(Conflict) as info:
            act(definition, state, "delegate", "a", delegate_to=target)
        assert info.value.code == "already_approver"


def test_delegation_from_a_role_task_adds_the_user():
    definition = approval_wf("single", Approvers={"Role": "sup"})
    moved = act(definition, begin(definition), "delegate", "s1", roles=["sup"], delegate_to="deputy")
    assert assignees(moved) == ["role:sup", "user:deputy"]
    assert act(definition, moved, "approve", "deputy").instance.state == "Yes"


# ------------------------------------------------------------------ Wait

def test_wait_seconds_arms_a_timer_and_fires():
    definition = wf({"A": task("W"), "W": {"Type": "Wait", "Seconds": 90, "Next": "B"}, "B": task("Z"), "Z": SUCCEED})
    out = act(definition, begin(definition), "go")
    assert (out.instance.state, out.instance.tasks) == ("W", [])
    assert timers(out) == {"wait": Timer("wait", "W", "2024-05-01T10:01:30.000Z", NOW)}
    moved = fire(definition, out, "wait")
    assert (moved.instance.state, moved.path, assignees(moved)) == ("B", ["W", "B"], ["user:u1"])
    assert "wait" not in timers(moved)
    assert fire(definition, moved, "wait") is None  # fired once


@pytest.mark.parametrize("value,passes,due", [
    ("2024-05-01T09:00:00Z", True, None),
    ("2024-05-01T10:00:00Z", True, None),  # the same instant as now
    ("2024-05-01T11:00:00+02:00", True, None),  # 09:00 UTC: already past, although the text sorts after now
    ("2024-04-30", True, None),
    (None, True, None),
    ("2024-05-01T12:00:00Z", False, "2024-05-01T12:00:00.000Z"),
    ("2024-05-01T10:30:00-01:00", False, "2024-05-01T11:30:00.000Z"),
    ("2024-05-02", False, "2024-05-02T00:00:00.000Z"),
])
def test_wait_timestamp_field(value, passes, due):
    definition = wf({"W": {"Type": "Wait", "TimestampField": "when", "Next": "B"}, "B": task("Z"), "Z": SUCCEED}, start_at="W")
    out = begin(definition, {} if value is None else {"when": value})
    if passes:
        assert (out.instance.state, out.path, out.instance.timers) == ("B", ["W", "B"], [])
    else:
        assert out.instance.state == "W" and timers(out) == {"wait": Timer("wait", "W", due, NOW)}


# ------------------------------------------------------------------ Action

def test_setfields_with_expressions_and_now():
    definition = wf({"A": task("S"), "S": action("B", {"SetFields": {"stamp": "now()", "total": "qty * price",
                                                                   "label": "concat(name, '-', qty)", "gone": "null"}},
                                                 {"SetFields": {"double": "total * 2"}}),
                     "B": task("Z"), "Z": SUCCEED})
    out = act(definition, begin(definition, {"qty": 2, "price": 7, "name": "x", "gone": 1}), "go", now=LATER)
    assert out.data == {"qty": 2, "price": 7, "name": "x", "stamp": LATER, "total": 14, "label": "x-2", "double": 28}
    assert out.path == ["A", "S", "B"]


def test_dispatch_sets_the_field():
    definition = wf({"A": task("D"), "D": action("B", {"Dispatch": {"Field": "engineer"}}, {"Dispatch": {}}),
                     "B": {"Type": "Task", "Assignee": {"Field": "engineer"}, "Actions": {"go": {"Next": "Z"}}}, "Z": SUCCEED})
    out = act(definition, begin(definition), "go", ctx=Ctx(dispatch=["e1", "e2"]))
    assert out.data == {"engineer": "e1", "assigned_engineer": "e2"}
    assert {"type": "workflow.dispatched", "field": "engineer", "user": "e1"} in out.events
    assert assignees(out) == ["user:e1"]


def retry_wf(max_attempts=2, errors=("Dispatch.Conflict",), catch=("Dispatch.NoCandidate",)):
    states = {"A": task("D"), "D": action("B", {"SetFields": {"tried": "true"}}, {"Dispatch": {}},
                                          Retry=[{"ErrorEquals": list(errors), "MaxAttempts": max_attempts}],
                                          Catch=[{"ErrorEquals": list(catch), "Next": "M"}] if catch else []),
              "B": task("Z"), "M": task("Z"), "Z": SUCCEED}
    if not catch:
        del states["M"]
    return wf(states)


def test_retry_reruns_up_to_max_attempts():
    conflict = StepError("Dispatch.Conflict", "raced")
    ctx = Ctx(dispatch=[conflict, conflict, "e1"])
    out = act(retry_wf(2), begin(retry_wf(2)), "go", ctx=ctx)
    assert (out.instance.state, out.data["assigned_engineer"], ctx.dispatch_calls) == ("B", "e1", 3)
    ctx = Ctx(dispatch=[conflict, conflict, conflict, "e1"])
    out = act(retry_wf(2, catch=("States.ALL",)), begin(retry_wf(2)), "go", ctx=ctx)
    assert (out.instance.state, ctx.dispatch_calls) == ("M", 3)
    ctx = Ctx(dispatch=[conflict, "e1"])
    out = act(retry_wf(0, catch=None), begin(retry_wf(0)), "go", ctx=ctx)
    assert (out.instance.status, ctx.dispatch_calls) == ("failed", 1)


def test_retry_only_for_matching_errors_then_catch():
    ctx = Ctx(dispatch=[StepError("Dispatch.NoCandidate", "none"), "e1"])
    out = act(retry_wf(3), begin(retry_wf(3)), "go", ctx=ctx)
    assert (out.instance.state, out.instance.status, ctx.dispatch_calls) == ("M", "running", 1)
    assert out.path == ["A", "D", "M"] and out.data == {"tried": True}  # steps before the failure stay done
    assert {"type": "workflow.step_failed", "error": "Dispatch.NoCandidate", "cause": "none"} in out.events
    ctx = Ctx(dispatch=[StepError("Dispatch.NoCandidate", "none")])
    out = act(retry_wf(3, errors=("States.ALL",)), begin(retry_wf(3)), "go", ctx=ctx)
    assert (out.instance.state, ctx.dispatch_calls) == ("M", 4)


def test_uncaught_error_fails_the_instance():
    definition = wf({"A": task("D", Deadlines=[{"Name": "d", "Seconds": 60}]),
                     "D": action("B", {"Dispatch": {}}, Catch=[{"ErrorEquals": ["States.DataError"], "Next": "B"}]),
                     "B": task("Z"), "Z": SUCCEED}, deadlines=[{"Name": "sla", "Seconds": 9999}])
    out = act(definition, begin(definition), "go")
    assert (out.instance.state, out.instance.status) == ("D", "failed")
    assert out.instance.error == {"error": "Dispatch.NoCandidate", "cause": "nobody left"}
    assert out.instance.tasks == [] and out.instance.timers == []
    assert out.events[-1] == {"type": "workflow.failed", "error": "Dispatch.NoCandidate", "cause": "nobody left"}


def test_data_and_expression_errors_are_catchable():
    definition = wf({"A": task("D"), "D": action("B", {"SetFields": {"bad": "1"}},
                                                 Catch=[{"ErrorEquals": ["States.DataError"], "Next": "M"}]),
                     "B": task("Z"), "M": task("Z"), "Z": SUCCEED})
    out = act(definition, begin(definition), "go", ctx=Ctx(invalid={"bad"}))
    assert out.instance.state == "M" and "bad" not in out.data
    assert {"type": "workflow.step_failed", "error": "States.DataError", "cause": "data.bad: is invalid"} in out.events
    expr = wf({"A": task("D"), "D": action("B", {"SetFields": {"x": "1 / zero"}},
                                           Catch=[{"ErrorEquals": ["States.ALL"], "Next": "M"}]),
               "B": task("Z"), "M": task("Z"), "Z": SUCCEED})
    out = act(expr, begin(expr, {"zero": 0}), "go")
    assert out.instance.state == "M"
    assert [e["error"] for e in out.events if e["type"] == "workflow.step_failed"] == ["States.ExpressionError"]
    uncaught = act(wf({"A": task("D"), "D": action("B", {"SetFields": {"bad": "1"}}), "B": SUCCEED}),
                   begin(expr), "go", ctx=Ctx(invalid={"bad"}))
    assert (uncaught.instance.status, uncaught.instance.error["error"]) == ("failed", "States.DataError")


def test_action_end_succeeds_and_collects_effects():
    definition = wf({"A": task("D"), "D": action(None, {"EmitEvent": "job.done"},
                                                 {"SendEmail": {"Template": "survey", "ToField": "customer"}},
                                                 {"CreateRecord": {"Form": "log", "Data": {"note": "concat('job ', name)", "n": 3}}},
                                                 End=True)},
                    deadlines=[{"Name": "sla", "Seconds": 600}])
    out = act(definition, begin(definition, {"customer": "c9", "name": "x"}), "go")
    assert (out.instance.state, out.instance.status, out.instance.timers, out.instance.tasks) == ("D", "succeeded", [], [])
    assert {"type": "job.done", "custom": True} in out.events
    assert out.events[-1] == {"type": "workflow.succeeded"}
    assert out.emails == [{"template": "survey", "to": "c9"}]
    assert out.creates == [{"form": "log", "data": {"note": "job x", "n": 3}}]
    assert out.transitions == 1


def test_succeed_and_fail_clear_tasks_and_timers():
    for end, status in ((SUCCEED, "succeeded"), (FAIL, "failed")):
        definition = wf({"A": task("E", Deadlines=[{"Name": "d", "Seconds": 60, "RemindBefore": 10}]), "E": end},
                        deadlines=[{"Name": "sla", "Seconds": 600, "RemindBefore": 60}])
        out = begin(definition)
        assert set(timers(out)) == {"sla:sla", "slaremind:sla", "deadline:d", "remind:d"}
        done = act(definition, out, "go")
        assert (done.instance.status, done.instance.tasks, done.instance.timers) == (status, [], [])
        assert fire(definition, done, "sla:sla") is None
        assert offered(definition, done, admin=True) == []
    failed = act(wf({"A": task("E"), "E": FAIL}), begin(wf({"A": task("E"), "E": FAIL})), "go")
    assert failed.instance.error == {"error": "Nope", "cause": "because"}


def chain_of_actions(n):
    states = {f"S{i}": action(f"S{i + 1}", {"SetFields": {"n": f"coalesce(n, 0) + 1"}}) for i in range(n)}
    states[f"S{n}"] = task("End")
    states["End"] = SUCCEED
    states["A"] = task("S0")
    return wf(states)


def test_step_limit_on_a_long_acyclic_chain():
    assert MAX_AUTOMATIC_STEPS == 50
    definition = chain_of_actions(60)
    with pytest.raises(ValidationFailed) as info:
        act(definition, begin(definition), "go")
    assert info.value.code == "workflow_step_limit"
    with pytest.raises(ValidationFailed):
        begin(chain_of_actions(55).model_copy(update={"StartAt": "S0"}))


def test_step_limit_allows_exactly_the_maximum():
    out = act(chain_of_actions(50), begin(chain_of_actions(50)), "go")
    assert out.instance.state == "S50" and out.data["n"] == 50
    with pytest.raises(ValidationFailed):
        act(chain_of_actions(51), begin(chain_of_actions(51)), "go")


# ------------------------------------------------------------------ timers

def test_state_deadline_armed_on_entry_with_reminder():
    definition = wf({"A": task("B", Deadlines=[{"Name": "resp", "Seconds": 3600, "RemindBefore": 600},
                                               {"Name": "late", "Seconds": 60, "RemindBefore": 60}]), "B": SUCCEED})
    out = begin(definition)
    assert timers(out) == {
        "deadline:resp": Timer("deadline:resp", "A", "2024-05-01T11:00:00.000Z", NOW),
        "remind:resp": Timer("remind:resp", "A", "2024-05-01T10:50:00.000Z", NOW),
        "deadline:late": Timer("deadline:late", "A", "2024-05-01T10:01:00.000Z", NOW)}  # reminder not before the start
    assert out.instance.tasks[0].due_at == "2024-05-01T10:01:00.000Z"  # the earliest deadline


@pytest.mark.parametrize("data,due", [
    ({"priority": "urgent"}, "2024-05-01T10:30:00.000Z"),
    ({"priority": "low"}, "2024-05-02T10:00:00.000Z"),
    ({"priority": "other"}, "2024-05-01T18:00:00.000Z"),
    ({}, "2024-05-01T18:00:00.000Z"),
])
def test_deadline_seconds_by_field_with_default(data, due):
    by = {"Field": "priority", "Map": {"urgent": 1800, "low": 86400}, "Default": 28800}
    definition = wf({"A": task("B", Deadlines=[{"Name": "d", "SecondsBy": by}]), "B": SUCCEED},
                    deadlines=[{"Name": "sla", "SecondsBy": by}])
    out = begin(definition, data)
    assert timers(out)["deadline:d"].due_at == due
    assert timers(out)["sla:sla"] == Timer("sla:sla", "*", due, NOW)


def test_deadline_without_a_duration_for_this_record_is_not_armed():
    definition = wf({"A": task("B", Deadlines=[{"Name": "d", "SecondsBy": {"Field": "priority", "Map": {"urgent": 60}}}]),
                     "B": SUCCEED})
    out = begin(definition, {"priority": "low"})
    assert out.instance.timers == [] and out.instance.tasks[0].due_at is None


def test_timers_rearmed_on_reentry_and_cancelled_on_leaving():
    definition = wf({"A": task(Actions={"again": {"Next": "R"}, "on": {"Next": "B"}}, Deadlines=[{"Name": "d", "Seconds": 600,
                                                                                                   "RemindBefore": 60}]),
                     "R": action("A"), "B": task("Z"), "Z": SUCCEED})
    out = begin(definition)
    again = act(definition, out, "again", now=LATER)
    assert again.path == ["A", "R", "A"]
    assert timers(again)["deadline:d"] == Timer("deadline:d", "A", "2024-05-01T11:10:00.000Z", LATER)
    assert timers(again)["remind:d"].armed_at == LATER
    left = act(definition, again, "on", now=LATER)
    assert left.instance.timers == []


def test_workflow_deadlines_survive_states_until_stop_at():
    definition = wf({"A": task("B"), "B": task("C"), "C": task("D"), "D": SUCCEED},
                    deadlines=[{"Name": "sla", "Seconds": 7200, "RemindBefore": 600, "StopAt": ["C"]}])
    out = begin(definition)
    assert timers(out) == {"sla:sla": Timer("sla:sla", "*", "2024-05-01T12:00:00.000Z", NOW),
                           "slaremind:sla": Timer("slaremind:sla", "*", "2024-05-01T11:50:00.000Z", NOW)}
    b = act(definition, out, "go", now=LATER)
    assert timers(b) == timers(out)  # unchanged, still armed at the start
    c = act(definition, b, "go", now=LATER)
    assert c.instance.timers == []
    assert fire(definition, c, "sla:sla") is None


def test_workflow_deadline_stopped_when_start_is_a_stop_state():
    definition = wf({"A": task("B"), "B": SUCCEED}, deadlines=[{"Name": "sla", "Seconds": 60, "StopAt": ["A"]}])
    assert begin(definition).instance.timers == []


def test_reminder_fires_a_notification():
    definition = wf({"A": {"Type": "Task", "Assignee": {"Users": ["a", "b"]}, "Actions": {"go": {"Next": "B"}},
                           "Deadlines": [{"Name": "d", "Seconds": 600, "RemindBefore": 60}]}, "B": SUCCEED},
                    deadlines=[{"Name": "sla", "Seconds": 6000, "RemindBefore": 60}])
    out = begin(definition)
    fired = fire(definition, out, "remind:d")
    assert fired.notifications == [{"kind": "sla.reminder", "deadline": "d", "to": ["user:a", "user:b"]}]
    assert (fired.instance.state, fired.path, assignees(fired)) == ("A", ["A"], ["user:a", "user:b"])
    assert set(timers(fired)) == {"deadline:d", "sla:sla", "slaremind:sla"}
    assert fire(definition, fired, "remind:d") is None
    sla = fire(definition, out, "slaremind:sla")
    assert sla.notifications == [{"kind": "sla.reminder", "deadline": "sla", "to": ["user:a", "user:b"]}]


def test_deadline_notify_reassign_goto():
    definition = wf({"A": task("B", Deadlines=[{"Name": "d", "Seconds": 600, "Escalate": [
        {"Notify": {"Role": "manager"}}, {"Reassign": {"Users": ["backup"]}}]}]),
        "B": task("Z", Deadlines=[{"Name": "late", "Seconds": 60, "Escalate": [{"Notify": {"Field": "owner"}}, {"Goto": "X"}]}]),
        "X": task("Z"), "Z": SUCCEED})
    out = begin(definition, {"owner": "o1"})
    fired = fire(definition, out, "deadline:d")
    assert fired.notifications == [{"kind": "sla.breached", "deadline": "d", "to": ["role:manager"]}]
    assert {"type": "sla.breached", "deadline": "d", "state": "A"} in fired.events
    assert [(t.assignee, t.kind, t.created_at) for t in fired.instance.tasks] == [("user:backup", "task", LATER)]
    assert fired.instance.state == "A" and "deadline:d" not in timers(fired)
    with pytest.raises(Forbidden):
        act(definition, fired, "go", "u1")
    assert act(definition, fired, "go", "backup").instance.state == "B"
    in_b = act(definition, out, "go")
    moved = fire(definition, in_b, "deadline:late")
    assert (moved.instance.state, moved.path) == ("X", ["B", "X"])
    assert moved.notifications == [{"kind": "sla.breached", "deadline": "late", "to": ["user:o1"]}]
    assert moved.instance.timers == []


def test_reassign_in_an_approval_gives_approval_tasks():
    # Before the fix: an approval with nobody assigned was reassigned as kind "task", so nobody could vote.
    definition = wf({"A": approval("single", Approvers={"Field": "owner"},
                                   Deadlines=[{"Name": "d", "Seconds": 60, "Escalate": [{"Reassign": {"Users": ["m"]}}]}]), **ENDS})
    out = begin(definition)
    assert out.instance.tasks == []
    fired = fire(definition, out, "deadline:d")
    assert [(t.assignee, t.kind) for t in fired.instance.tasks] == [("user:m", "approval")]
    assert fired.instance.approval["eligible"] == ["user:m"]
    assert act(definition, fired, "approve", "m").instance.state == "Yes"


def test_workflow_deadline_fires_notify_and_goto_from_any_state():
    definition = wf({"A": task("B"), "B": task("Z"), "Z": SUCCEED, "Esc": task("Z")},
                    deadlines=[{"Name": "sla", "Seconds": 60, "Escalate": [{"Notify": {"Role": "manager"}}, {"Goto": "Esc"}]}])
    in_b = act(definition, begin(definition), "go")
    fired = fire(definition, in_b, "sla:sla")
    assert (fired.instance.state, fired.path) == ("Esc", ["B", "Esc"])
    assert fired.notifications == [{"kind": "sla.breached", "deadline": "sla", "to": ["role:manager"]}]
    assert fired.instance.timers == []


def test_workflow_reassign_while_waiting_creates_no_tasks():
    definition = wf({"W": {"Type": "Wait", "Seconds": 600, "Next": "Z"}, "Z": SUCCEED}, start_at="W",
                    deadlines=[{"Name": "sla", "Seconds": 60, "Escalate": [{"Reassign": {"Role": "manager"}}]}])
    fired = fire(definition, begin(definition), "sla:sla")
    assert fired.instance.state == "W" and fired.instance.tasks == [] and set(timers(fired)) == {"wait"}


def test_stale_timers_fire_nothing():
    definition = wf({"A": task("B", Deadlines=[{"Name": "d", "Seconds": 60}]), "B": task("Z"), "Z": SUCCEED})
    out = begin(definition)
    left = act(definition, out, "go")
    assert fire(definition, left, "deadline:d") is None  # state left
    fired = fire(definition, out, "deadline:d")
    assert fired is not None and fire(definition, fired, "deadline:d") is None  # already fired
    assert fire(definition, out, "deadline:nope") is None
    assert fire(definition, out, "wait") is None
    foreign = Instance.from_dict({**left.instance.to_dict(), "timers": [Timer("deadline:d", "A", NOW, NOW).__dict__]})
    assert fire_timer(definition, foreign, {}, "deadline:d", LATER, Ctx(), variables()) is None  # armed in another state


# ------------------------------------------------------------------ instance

def test_instance_round_trip():
    inst = Instance(workflow="job", version=3, state="A", entered_at=NOW, status="running",
                    tasks=[Task("user:a", "A", "approval", NOW, LATER), Task("role:r", "A", "task", NOW)],
                    timers=[Timer("deadline:d", "A", LATER, NOW), Timer("sla:s", "*", LATER, NOW)],
                    approval={"level": 1, "votes": {"a": "approve"}, "eligible": ["user:a", "user:b"]},
                    error={"error": "E", "cause": "c"})
    raw = json.loads(json.dumps(inst.to_dict()))
    back = Instance.from_dict(raw)
    assert back == inst and isinstance(back.tasks[0], Task) and isinstance(back.timers[0], Timer)
    assert Instance.from_dict(Instance("job", 1, "A", NOW).to_dict()) == Instance("job", 1, "A", NOW)


def test_running_instances_round_trip_through_json():
    definition = approval_wf("all", Approvers=USERS3)
    out = act(definition, begin(definition), "approve", "a")
    back = Instance.from_dict(json.loads(json.dumps(out.instance.to_dict())))
    assert back == out.instance
    assert act(definition, back, "approve", "b", data={}).instance.state == "A"


# ------------------------------------------------------------------ the shipped workflow

def test_shipped_work_order_workflow_runs_with_fakes():
    form = parse_form_definition(json.loads((APP / "forms" / "work_order.json").read_text()))
    definition, _ = parse_workflow(json.loads((APP / "workflows" / "work_order.json").read_text()), form=form)
    ctx = Ctx(lookup={("region", "north"): ["sup1"]}, dispatch=[StepError("Dispatch.NoCandidate", "none"), "eng1", "eng2"])
    out = start(definition, 1, {"priority": "urgent", "region": "north"}, NOW, ctx, variables())
    assert out.instance.state == "Review" and assignees(out) == ["user:sup1"]
    assert timers(out)["sla:resolution"].due_at == "2024-05-01T14:00:00.000Z"
    assert timers(out)["deadline:response"].due_at == "2024-05-01T10:30:00.000Z"
    step = act(definition, out, "auto_dispatch", "sup1", ctx=ctx)
    assert step.instance.state == "ManualDispatch"
    step = act(definition, step, "retry_auto", "sup1", ctx=ctx)
    assert (step.instance.state, assignees(step)) == ("AwaitAcceptance", ["user:eng1"])
    step = act(definition, step, "reject", "eng1", ctx=ctx, comment="too far")
    assert (step.instance.state, step.data["rejected_engineers"], assignees(step)) == ("AwaitAcceptance", "eng1,", ["user:eng2"])
    step = act(definition, step, "accept", "eng2", ctx=ctx)
    step = act(definition, step, "arrive", "eng2", ctx=ctx)
    assert step.instance.state == "OnSite" and step.data["accepted_at"] == NOW
    assert offered(definition, step, "eng2", data={**step.data, "parts_total": 0}) == ["request_parts", "complete"]



# --- separation of duties ------------------------------------------------------------------------

def test_the_requester_and_excluded_users_never_decide_their_own_approval():
    definition = wf({"A": approval("single", Approvers={"Users": ["u1", "eng", "s1"]},
                                   SeparationOfDuties={"ExcludeFields": ["engineer"]}), **ENDS})
    out = begin(definition, data={"engineer": "eng"})  # u1 (the requester) and the engineer are not assigned
    assert assignees(out) == ["user:s1"] and out.instance.approval["requested_by"] == "u1"
    as_role = wf({"A": approval("single", Approvers={"Role": "sup"}, SeparationOfDuties={"ExcludeFields": ["engineer"]}), **ENDS})
    by_role = begin(as_role, data={"engineer": "eng"})
    for definition_, state, who, roles, admin in ((definition, out, "u1", (), True), (as_role, by_role, "u1", ["sup"], False),
                                                  (as_role, by_role, "eng", ["sup"], False)):  # not even as an admin
        assert available_actions(definition_, state.instance, state.data, who, roles, admin, variables(who)) == []
        with pytest.raises(Forbidden) as info:
            act(definition_, state, "approve", who, roles=roles, admin=admin)
        assert info.value.code == "separation_of_duties"
    with pytest.raises(Forbidden) as info:  # nor through a delegation
        act(definition, out, "delegate", "s1", delegate_to="u1")
    assert info.value.code == "separation_of_duties"
    assert act(definition, out, "approve", "s1").instance.state == "Yes"


def test_separation_of_duties_can_be_switched_off_per_approval():
    definition = wf({"A": approval("single", Approvers={"Users": ["u1"]}, SeparationOfDuties={"Enabled": False}), **ENDS})
    assert act(definition, begin(definition), "approve", "u1").instance.state == "Yes"


def test_a_chain_is_approved_by_a_different_person_at_each_level():
    definition = approval_wf("chain", Levels=[{"Role": "sup"}, {"Role": "sup"}])
    lvl2 = act(definition, begin(definition), "approve", "s1", roles=["sup"])
    assert lvl2.instance.approval["level"] == 1 and lvl2.instance.approval["earlier_approvers"] == ["s1"]
    with pytest.raises(Forbidden) as info:
        act(definition, lvl2, "approve", "s1", roles=["sup"])
    assert info.value.code == "separation_of_duties"
    with pytest.raises(Forbidden):  # nor hand level 2 back to the level-1 approver
        act(definition, lvl2, "delegate", "s2", roles=["sup"], delegate_to="s1")
    assert act(definition, lvl2, "approve", "s2", roles=["sup"]).instance.state == "Yes"
    lenient = approval_wf("chain", Levels=[{"Role": "sup"}, {"Role": "sup"}],
                          SeparationOfDuties={"OneLevelPerPerson": False})
    twice = act(lenient, act(lenient, begin(lenient), "approve", "s1", roles=["sup"]), "approve", "s1", roles=["sup"])
    assert twice.instance.state == "Yes"


def test_delegation_by_role_is_checked_on_the_member_and_exclusion_falls_back():
    definition = approval_wf("single", Approvers={"Role": "sup"})
    moved = act(definition, begin(definition), "delegate", "s1", roles=["sup"], delegate_to="s9")
    assert moved.delegate_roles == ["sup"] and "user:s9" in assignees(moved)  # the service checks s9 holds sup
    # the only named approver is the requester: the Fallback decides, and failing that the admins
    only_me = wf({"A": approval("single", Approvers={"Users": ["u1"], "Fallback": {"Users": ["boss"]}}), **ENDS})
    assert assignees(begin(only_me)) == ["user:boss"]
    nobody_else = wf({"A": approval("single", Approvers={"Users": ["u1"]}), **ENDS})
    assert assignees(begin(nobody_else)) == ["role:admin"]


# ------------------------------------------------------------------ timers follow the data

BY = {"Field": "priority", "Map": {"urgent": 1800, "high": 7200}}


def _rearm(definition, out, old, new, now=LATER):
    from chalicelib.workflow.engine import rearm_deadlines
    return rearm_deadlines(definition, out.instance if isinstance(out, Outcome) else out, old, new, NOW, now)


def test_raising_the_priority_to_one_with_a_deadline_arms_it_with_its_reminder():
    definition = wf({"A": task("B", Deadlines=[{"Name": "d", "SecondsBy": BY, "RemindBefore": 600}]), "B": SUCCEED},
                    deadlines=[{"Name": "sla", "SecondsBy": BY}])
    out = begin(definition, {"priority": "low"})
    assert out.instance.timers == []
    moved = _rearm(definition, out, {"priority": "low"}, {"priority": "urgent"})
    assert {t.name: (t.due_at, t.armed_at) for t in moved.timers} == {
        "sla:sla": ("2024-05-01T10:30:00.000Z", LATER),  # from the workflow's start, like an SLA armed then
        "deadline:d": ("2024-05-01T10:30:00.000Z", LATER),  # from the state's entry
        "remind:d": ("2024-05-01T10:20:00.000Z", LATER)}
    assert moved.tasks[0].due_at == "2024-05-01T10:30:00.000Z"
    # lowered again: the deadlines go; an edit of another field changes nothing
    assert _rearm(definition, moved, {"priority": "urgent"}, {"priority": "low"}).timers == []
    assert _rearm(definition, out, {"priority": "low", "x": 1}, {"priority": "low", "x": 2}) is None


def test_a_deadline_that_had_a_duration_is_not_armed_twice_nor_an_sla_in_its_stop_state():
    definition = wf({"A": task("B", Deadlines=[{"Name": "d", "SecondsBy": BY}]), "B": task("C"), "C": SUCCEED},
                    deadlines=[{"Name": "sla", "SecondsBy": BY, "StopAt": ["B"]}])
    out = begin(definition, {"priority": "urgent"})
    fired = replace(out.instance, timers=[])  # both fired already
    assert _rearm(definition, fired, {"priority": "urgent"}, {"priority": "high"}) is None
    in_b = act(definition, begin(definition, {"priority": "low"}), "go", now=LATER)
    assert in_b.instance.state == "B" and in_b.instance.timers == []
    assert _rearm(definition, in_b, {"priority": "low"}, {"priority": "urgent"}) is None


def test_a_wait_on_a_date_field_moves_with_the_field():
    definition = wf({"A": {"Type": "Wait", "TimestampField": "visit_at", "Next": "B"}, "B": task("C"), "C": SUCCEED})
    out = begin(definition, {"visit_at": "2024-05-03T09:00:00Z"})
    assert timers(out)["wait"].due_at == "2024-05-03T09:00:00.000Z"
    moved = _rearm(definition, out, {"visit_at": "2024-05-03T09:00:00Z"}, {"visit_at": "2024-05-04"})
    assert [(t.name, t.due_at, t.armed_at) for t in moved.timers] == [("wait", "2024-05-04T00:00:00.000Z", LATER)]
    cleared = _rearm(definition, out, {"visit_at": "2024-05-03T09:00:00Z"}, {"visit_at": None})
    assert cleared.timers[0].due_at == LATER  # nothing to wait for any more: due at once
    assert _rearm(definition, out, {"visit_at": "2024-05-03T09:00:00Z"}, {"visit_at": "2024-05-03T09:00:00Z"}) is None
