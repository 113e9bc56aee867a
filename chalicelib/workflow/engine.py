"""Workflow runtime, pure: given a definition, the instance, the record data and what happened
(start, a human action, a timer), compute the next instance, data and side effects. The service
persists the Outcome in one DynamoDB transaction; nothing here does I/O except through `ctx`."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from ..errors import AppError, Conflict, Forbidden, ValidationFailed
from ..expressions import compile_expression
from .choice import evaluate_choice
from .definition import (ActionState, ApprovalState, AssigneeRule, ChoiceState, FailState, SucceedState, TaskState,
                         WaitState, WorkflowDefinition)
from .instance import Instance, Outcome, Task, Timer, caller_keys

ADMIN_ROLE_NAME = "admin"  # who decides an approval when separation of duties leaves no named approver
MAX_AUTOMATIC_STEPS = 50  # hard stop for a run of automatic states (loops are also rejected at upload)


class WorkflowContext(Protocol):
    def resolve(self, rule: AssigneeRule, data: dict) -> list[str]: ...  # assignee keys
    def dispatch(self, spec: dict, data: dict) -> str: ...  # user id, or raise StepError("Dispatch.NoCandidate")
    def apply_fields(self, data: dict, updates: dict) -> dict: ...  # validated by the form engine


class StepError(Exception):
    """An automatic step failed with an ASL-style error name (matched by Retry/Catch ErrorEquals)."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _plus(now: str, seconds: int) -> str:
    return _iso(_ts(now) + timedelta(seconds=seconds))


def resolve_assignees(ctx: WorkflowContext, wf: WorkflowDefinition, rule: AssigneeRule | None, data: dict) -> list[str]:
    """The keys a rule names (its Fallbacks in turn); when they name nobody, the workflow's Fallback."""
    keys = ctx.resolve(rule, data) if rule is not None else []
    if not keys and wf.Fallback is not None:
        keys = ctx.resolve(wf.Fallback, data)
    return keys


class Run:
    """One step of execution: holds the working copies and collects effects."""

    def __init__(self, wf: WorkflowDefinition, inst: Instance, data: dict, now: str, ctx: WorkflowContext, variables: dict):
        self.wf, self.inst, self.data, self.now, self.ctx = wf, copy.deepcopy(inst), copy.deepcopy(data), now, ctx
        self.variables = variables
        self.outcome = Outcome(instance=self.inst, data=self.data, path=[inst.state])

    def expr_context(self) -> dict:
        return {**self.data, **self.variables, "$state": self.inst.state}

    def enter(self, name: str) -> None:
        """Leave the current state (its tasks and timers go) and run until a human/wait/end state."""
        for _ in range(MAX_AUTOMATIC_STEPS + 1):  # up to MAX automatic states, then where the run stops
            state = self.wf.States[name]
            self.inst.state, self.inst.entered_at = name, self.now
            self.inst.tasks, self.inst.approval, self.inst.waits = [], None, []
            self.inst.timers = [t for t in self.inst.timers if t.state == "*" and name not in self._stop_at(t.name)]
            self.outcome.path.append(name)
            self.outcome.events.append({"type": "workflow.entered", "state": name})
            self.outcome.trace.append({"state": name, "type": state.Type})
            following = self._on_enter(state)
            if following is None:
                self.outcome.data = self.data
                return
            name = following
        raise ValidationFailed(f"workflow ran more than {MAX_AUTOMATIC_STEPS} automatic states in one step",
                               code="workflow_step_limit")

    def _stop_at(self, timer_name: str) -> list[str]:
        name = timer_name.split(":", 1)[1]
        deadline = next((d for d in self.wf.Deadlines if d.Name == name), None)
        return deadline.StopAt if deadline else []

    def arm_workflow_deadlines(self) -> None:
        for deadline in self.wf.Deadlines:
            seconds = self._seconds(deadline)
            if seconds:
                self.inst.timers.append(Timer(f"sla:{deadline.Name}", "*", _plus(self.now, seconds), self.now))
                if deadline.RemindBefore and deadline.RemindBefore < seconds:
                    self.inst.timers.append(Timer(f"slaremind:{deadline.Name}", "*",
                                                  _plus(self.now, seconds - deadline.RemindBefore), self.now))

    def _seconds(self, deadline) -> int | None:
        if deadline.SecondsBy is not None:
            key = self.data.get(deadline.SecondsBy.Field_)
            return deadline.SecondsBy.Map.get(str(key), deadline.SecondsBy.Default)
        return deadline.Seconds

    def _on_enter(self, state) -> str | None:
        if isinstance(state, TaskState):
            self._assign(resolve_assignees(self.ctx, self.wf, state.Assignee, self.data), "task")
            self._arm_deadlines(state)
            return None
        if isinstance(state, ApprovalState):
            rule = state.Levels[0] if state.Mode == "chain" else state.Approvers
            # the requester is whoever took the step that entered the approval (the scheduler for a timer)
            self.inst.approval = {"level": 0, "votes": {}, "eligible": [],
                                  "requested_by": (self.variables.get("$user") or {}).get("id") or "system"}
            keys = _approver_keys(self, state, rule)
            self.inst.approval["eligible"] = keys
            self._assign(keys, "approval")
            self._arm_deadlines(state)
            return None
        if isinstance(state, WaitState):
            if state.timed:
                due = _plus(self.now, state.Seconds) if state.Seconds else self._timestamp_field(state.TimestampField)
                if due <= self.now:
                    return state.Next
                self.inst.timers.append(Timer("wait", self.inst.state, due, self.now))
            for event, spec in state.Events.items():
                key = event_key(self.data.get(spec.Key))
                if key is None:  # nothing can correlate to it: only the timeout (or a person) moves it on
                    self.outcome.events.append({"type": "workflow.event_unkeyed", "event": event, "field": spec.Key})
                else:
                    self.inst.waits.append({"event": event, "key": key})
            return None
        if isinstance(state, ChoiceState):
            for i, rule in enumerate(state.Choices):
                if evaluate_choice(rule, self.expr_context()):
                    self.outcome.trace[-1]["choice"] = {"rule": i, "next": rule.Next}
                    return rule.Next
            self.outcome.trace[-1]["choice"] = {"rule": None, "next": state.Default}
            if state.Default:
                return state.Default
            return self._fail("States.NoChoiceMatched", f"no choice matched in {self.inst.state}")
        if isinstance(state, ActionState):
            return self._run_action(state)
        if isinstance(state, SucceedState):
            self.inst.status, self.inst.timers = "succeeded", []
            self.outcome.events.append({"type": "workflow.succeeded"})
            return None
        if isinstance(state, FailState):
            return self._fail(state.Error, state.Cause)
        raise AssertionError(f"unknown state type {state!r}")  # pragma: no cover

    def _fail(self, error: str, cause: str) -> None:
        self.inst.status, self.inst.error, self.inst.timers = "failed", {"error": error, "cause": cause}, []
        self.outcome.events.append({"type": "workflow.failed", "error": error, "cause": cause})
        return None

    def _timestamp_field(self, field: str) -> str:
        return _timestamp_of(self.data, field, self.now)

    def _assign(self, keys: list[str], kind: str) -> None:
        self.inst.tasks = [Task(k, self.inst.state, kind, self.now) for k in dict.fromkeys(keys)]
        if not self.inst.tasks:
            self.outcome.events.append({"type": "workflow.unassigned", "state": self.inst.state})

    def _arm_deadlines(self, state) -> None:
        for deadline in state.Deadlines:
            seconds = self._seconds(deadline)
            if not seconds:
                continue
            due = _plus(self.now, seconds)
            self.inst.timers.append(Timer(f"deadline:{deadline.Name}", self.inst.state, due, self.now))
            if deadline.RemindBefore and deadline.RemindBefore < seconds:
                self.inst.timers.append(Timer(f"remind:{deadline.Name}", self.inst.state,
                                              _plus(self.now, seconds - deadline.RemindBefore), self.now))
            for task in self.inst.tasks:
                task.due_at = min(filter(None, [task.due_at, due]))

    def _run_action(self, state: ActionState) -> str | None:
        for step in state.Steps:
            attempts = 0
            while True:
                try:
                    self._run_step(step)
                    break
                except StepError as exc:
                    retry = next((r for r in state.Retry if _matches(r.ErrorEquals, exc.error)), None)
                    if retry and attempts < retry.MaxAttempts:
                        attempts += 1
                        continue
                    catch = next((c for c in state.Catch if _matches(c.ErrorEquals, exc.error)), None)
                    self.outcome.events.append({"type": "workflow.step_failed", "error": exc.error, "cause": exc.cause})
                    self.outcome.trace[-1]["caught"] = {"error": exc.error, "cause": exc.cause,
                                                        "next": catch.Next if catch else None}
                    if catch:
                        return catch.Next
                    return self._fail(exc.error, exc.cause)
        return state.Next if not state.End else self._end()

    def _end(self) -> None:
        self.inst.status, self.inst.timers = "succeeded", []
        self.outcome.events.append({"type": "workflow.succeeded"})
        return None

    def _run_step(self, step) -> None:
        context = self.expr_context()
        if hasattr(step, "SetFields"):
            updates = {}
            for field, source in step.SetFields.items():
                try:
                    updates[field] = compile_expression(source).evaluate(context)
                except AppError as exc:
                    raise StepError("States.ExpressionError", exc.message) from exc
            self._apply(updates)
        elif hasattr(step, "Dispatch"):
            field = step.Dispatch.get("Field", "assigned_engineer")
            self._apply({field: self.ctx.dispatch(step.Dispatch, self.data)})
            self.outcome.events.append({"type": "workflow.dispatched", "field": field, "user": self.data.get(field)})
        elif hasattr(step, "EmitEvent"):
            self.outcome.events.append({"type": step.EmitEvent, "custom": True})
        elif hasattr(step, "Signal"):
            spec = step.Signal
            try:
                key = event_key(compile_expression(spec.Key).evaluate(context))
            except AppError as exc:
                raise StepError("States.ExpressionError", exc.message) from exc
            if key is None:
                raise StepError("States.DataError", f"Signal {spec.Event}: the key is empty")
            self.outcome.events.append({"type": "workflow.signal", "event": spec.Event, "key": key, "form": spec.Form})
        elif hasattr(step, "SendEmail"):
            to = self.data.get(step.SendEmail.get("ToField", ""))
            self.outcome.emails.append({"template": step.SendEmail.get("Template"), "to": to})
        elif hasattr(step, "CreateRecord"):
            spec = step.CreateRecord
            try:
                data = {k: compile_expression(v).evaluate(context) if isinstance(v, str) else v
                        for k, v in spec.get("Data", {}).items()}
            except AppError as exc:
                raise StepError("States.ExpressionError", exc.message) from exc
            made = {"form": spec["Form"], "data": data}
            if spec.get("IdField"):  # the new record's id, known now, kept on this record (a lookup to it)
                from ..ids import new_id
                made["id"] = new_id()
                self._apply({spec["IdField"]: made["id"]})
            self.outcome.creates.append(made)

    def _apply(self, updates: dict) -> None:
        try:
            self.data = self.ctx.apply_fields(self.data, updates)
        except ValidationFailed as exc:
            raise StepError("States.DataError", "; ".join(f"{d['path']}: {d['message']}" for d in exc.details or [])) from exc


def _matches(names: list[str], error: str) -> bool:
    return "States.ALL" in names or error in names


def start(wf: WorkflowDefinition, version: int, data: dict, now: str, ctx: WorkflowContext, variables: dict) -> Outcome:
    inst = Instance(workflow=wf.name, version=version, state="", entered_at=now)
    run = Run(wf, inst, data, now, ctx, variables)
    run.outcome.path = []
    run.arm_workflow_deadlines()
    run.enter(wf.StartAt)
    return run.outcome


def _excluded(state: ApprovalState, approval: dict, data: dict) -> set[str]:
    """Users who may not vote on (nor be delegated) this approval: separation of duties."""
    sod = state.SeparationOfDuties
    if not sod.Enabled:
        return set()
    out = {approval.get("requested_by") or ""} | {data.get(f) for f in sod.ExcludeFields if isinstance(data.get(f), str)}
    if sod.OneLevelPerPerson:
        out |= set(approval.get("earlier_approvers", []))
    out.discard("")
    out.discard("system")
    return out


def _approver_keys(run: "Run", state: ApprovalState, rule: AssigneeRule) -> list[str]:
    """The rule's approvers less the excluded users; when that leaves nobody, the rule's Fallbacks in
    turn, then the tenant's admins — an approval never waits on somebody who may not decide it."""
    excluded = {f"user:{u}" for u in _excluded(state, run.inst.approval, run.data)}
    current: AssigneeRule | None = rule
    found_any = False
    while current is not None:
        named = list(dict.fromkeys(run.ctx.resolve(current, run.data)))  # a repeated name is one seat
        keys = [k for k in named if k not in excluded]
        if keys:
            return keys
        found_any = found_any or bool(named)
        current = current.Fallback
    if run.wf.Fallback is not None:  # the workflow's desk of last resort, excluded users still left out
        keys = [k for k in dict.fromkeys(run.ctx.resolve(run.wf.Fallback, run.data)) if k not in excluded]
        if keys:
            return keys
        found_any = True
    # nobody at all: as before, the state's deadlines (Reassign) must find someone
    return [f"role:{ADMIN_ROLE_NAME}"] if found_any else []


def _delegation_candidates(run: "Run", rule: AssigneeRule) -> tuple[set[str], list[str]]:
    """(users, roles) who could have been assigned this level: named users, users the rule's fields or
    lookups resolve to now, and holders of the roles it names (its Fallbacks and the workflow's included)."""
    users: set[str] = set()
    roles: list[str] = []
    chain: list[AssigneeRule] = []
    for head in (rule, run.wf.Fallback):
        while head is not None:
            chain.append(head)
            head = head.Fallback
    for current in chain:
        if current.Role is not None:
            roles.append(current.Role)
        elif current.Users is not None:
            users |= set(current.Users)
        else:
            alone = current.model_copy(update={"Fallback": None})
            users |= {k[5:] for k in run.ctx.resolve(alone, run.data) if k.startswith("user:")}
    return users, roles


def _require_task(inst: Instance, keys: set[str], is_admin: bool, kind: str) -> None:
    if inst.status != "running":
        raise Conflict(f"the workflow is {inst.status}; no actions are open", code="workflow_not_running")
    if not any(t.assignee in keys for t in inst.tasks if t.kind == kind) and not is_admin:
        raise Forbidden("this step is not assigned to you", code="not_assignee",
                        details=[{"path": "", "message": f"assigned to: {', '.join(t.assignee for t in inst.tasks) or 'nobody'}"}])


def available_actions(wf: WorkflowDefinition, inst: Instance, data: dict, user_id: str, roles, is_admin: bool,
                      variables: dict, language: str | None = None) -> list[dict]:
    """The actions this user may take now; labels in `language` where the definition translates them."""
    if inst.status != "running":
        return []
    state = wf.States[inst.state]
    keys = caller_keys(user_id, roles)
    mine = any(t.assignee in keys for t in inst.tasks) or is_admin
    if not mine:
        return []
    if isinstance(state, TaskState):
        context = {**data, **variables, "$state": inst.state}
        out = []
        for name, action in state.Actions.items():
            if action.Condition and not _holds(action.Condition, context):
                continue
            out.append({"action": name, "label": action.text("Label", language) or name, "next": action.Next, "requires": action.Requires,
                        "missing": [f for f in action.Requires if _empty(data.get(f))],
                        "comment_required": action.CommentRequired, "editable": state.Editable})
        return out
    if isinstance(state, ApprovalState):
        if user_id in (inst.approval or {}).get("votes", {}) or user_id in _excluded(state, inst.approval or {}, data):
            return []
        return [{"action": a, "label": a, "next": n, "requires": [], "missing": [], "comment_required": a == "reject",
                 "editable": []} for a, n in (("approve", state.OnApprove), ("reject", state.OnReject), ("delegate", inst.state))]
    return []


def _holds(condition: str, context: dict) -> bool:
    """A Condition that cannot be evaluated on this data (e.g. text compared with a number) does not
    hold: the action is not offered, and the state's other actions stay usable."""
    try:
        return bool(compile_expression(condition).evaluate(context))
    except AppError:
        return False


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def take_action(wf: WorkflowDefinition, inst: Instance, data: dict, action: str, *, user_id: str, roles, is_admin: bool,
                now: str, ctx: WorkflowContext, variables: dict, comment: str = "", delegate_to: str | None = None) -> Outcome:
    state = wf.States.get(inst.state)
    keys = caller_keys(user_id, roles)
    run = Run(wf, inst, data, now, ctx, variables)
    if isinstance(state, TaskState):
        _require_task(inst, keys, is_admin, "task")
        spec = state.Actions.get(action)
        offered = {a["action"] for a in available_actions(wf, inst, data, user_id, roles, is_admin, variables)}
        if spec is None or action not in offered:
            raise Conflict(f"action '{action}' is not available in state {inst.state}", code="action_not_available",
                           details=[{"path": "action", "message": f"available: {', '.join(sorted(offered)) or 'none'}"}])
        missing = [f for f in spec.Requires if _empty(data.get(f))]
        if missing:
            raise ValidationFailed(f"action '{action}' needs these fields", code="action_requires_fields",
                                   details=[{"path": f"data.{f}", "message": "is required for this action"} for f in missing])
        if spec.CommentRequired and not comment.strip():
            raise ValidationFailed("this action needs a comment", details=[{"path": "comment", "message": "is required"}])
        run.enter(spec.Next)
        return run.outcome
    if isinstance(state, ApprovalState):
        _require_task(inst, keys, is_admin, "approval")
        return _approval(run, state, action, user_id, keys, is_admin, comment, delegate_to)
    raise Conflict(f"state {inst.state} takes no actions", code="action_not_available")


def _approval(run: Run, state: ApprovalState, action: str, user_id: str, keys: set[str], is_admin: bool,
              comment: str, delegate_to: str | None) -> Outcome:
    approval = run.inst.approval
    if user_id in approval["votes"]:
        raise Conflict("you have already voted on this approval", code="already_voted")
    excluded = _excluded(state, approval, run.data)
    if user_id in excluded:
        raise Forbidden("separation of duties: you requested this approval, are named in it, or approved an earlier "
                        "level, so you cannot decide or delegate it", code="separation_of_duties")
    if action == "delegate":
        if not delegate_to:
            raise ValidationFailed("delegate needs delegate_to", details=[{"path": "delegate_to", "message": "is required"}])
        target = f"user:{delegate_to}"
        mine = next((t for t in run.inst.tasks if t.assignee in keys), None)
        if mine is None:
            raise Forbidden("only a pending approver can delegate", code="not_assignee")
        if target in approval["eligible"] or delegate_to in approval["votes"] or target == f"user:{user_id}":
            raise Conflict(f"{delegate_to} already has a vote on this approval", code="already_approver",
                           details=[{"path": "delegate_to", "message": "already an approver here"}])
        if delegate_to in excluded:
            raise Forbidden(f"separation of duties: {delegate_to} may not decide this approval", code="separation_of_duties",
                            details=[{"path": "delegate_to", "message": "requested it, is named in it or approved an earlier level"}])
        rule = state.Levels[approval["level"]] if state.Mode == "chain" else state.Approvers
        users, roles = _delegation_candidates(run, rule)
        if delegate_to not in users:
            if not roles:
                raise Forbidden(f"{delegate_to} could not have been assigned this approval", code="delegate_not_eligible",
                                details=[{"path": "delegate_to", "message": "not an approver this step's rule names"}])
            run.outcome.delegate_roles = roles  # checked on the member item in the same transaction
        approval["eligible"] = [target if k == mine.assignee and k.startswith("user:") else k for k in approval["eligible"]]
        if target not in approval["eligible"]:
            approval["eligible"].append(target)
        run.inst.tasks = [t for t in run.inst.tasks if t is not mine or not mine.assignee.startswith("user:")]
        run.inst.tasks.append(Task(target, run.inst.state, "approval", run.now, mine.due_at))
        run.outcome.events.append({"type": "approval.delegated", "from": user_id, "to": delegate_to})
        run.outcome.path = [run.inst.state]
        return run.outcome
    if action not in ("approve", "reject"):
        raise Conflict(f"action '{action}' is not available in an approval", code="action_not_available")
    if action == "reject" and not comment.strip():
        raise ValidationFailed("a rejection needs a comment", details=[{"path": "comment", "message": "is required"}])
    approval["votes"][user_id] = action
    run.outcome.events.append({"type": f"approval.{action}d", "user": user_id})
    user_key = f"user:{user_id}"
    run.inst.tasks = [t for t in run.inst.tasks if t.assignee != user_key]
    eligible = [k for k in approval["eligible"] if k.startswith("user:")]
    # Counted modes count only the named approvers' votes: an admin acting does not fill a seat.
    votes = [v for u, v in approval["votes"].items() if f"user:{u}" in eligible] if state.Mode in ("all", "threshold") \
        else list(approval["votes"].values())
    decided = None
    if state.Mode in ("single", "any", "chain"):
        decided = action
    elif state.Mode == "all":
        decided = "reject" if action == "reject" else ("approve" if votes.count("approve") >= len(eligible) else None)
    elif state.Mode == "threshold":
        total = max(len(eligible), 1)
        approvals, rejections = votes.count("approve"), votes.count("reject")
        if approvals * 100 >= state.ThresholdPercent * total:
            decided = "approve"
        elif (total - rejections) * 100 < state.ThresholdPercent * total:
            decided = "reject"  # the threshold can no longer be reached
    if decided == "approve" and state.Mode == "chain" and approval["level"] + 1 < len(state.Levels):
        level = approval["level"] + 1
        run.inst.approval = {"level": level, "votes": {}, "eligible": [], "requested_by": approval.get("requested_by"),
                             "earlier_approvers": sorted(set(approval.get("earlier_approvers", []))
                                                         | {u for u, v in approval["votes"].items() if v == "approve"})}
        keys_next = _approver_keys(run, state, state.Levels[level])
        run.inst.approval["eligible"] = keys_next
        run.inst.tasks = [Task(k, run.inst.state, "approval", run.now) for k in dict.fromkeys(keys_next)]
        run.outcome.path = [run.inst.state]
        return run.outcome
    if decided is None:
        run.outcome.path = [run.inst.state]
        return run.outcome
    run.enter(state.OnApprove if decided == "approve" else state.OnReject)
    return run.outcome


def event_key(value: Any) -> str | None:
    """The text an event is correlated by (a record field's value), or None when there is none."""
    if value is None or isinstance(value, (dict, list, bool)) or value == "":
        return None
    from decimal import Decimal
    if isinstance(value, Decimal):
        value = format(value.normalize(), "f")
    text = str(value).strip()
    return text[:500] if text else None


def receive_event(wf: WorkflowDefinition, inst: Instance, data: dict, event: str, key: str, payload: dict, now: str,
                  ctx: WorkflowContext, variables: dict) -> Outcome | None:
    """The record moves on an event it waits for in its current state: `SetFields` (with `$event`),
    then `Next`. None when it no longer waits for this event and key (it moved, or it already took it)."""
    if inst.status != "running" or {"event": event, "key": key} not in inst.waits:
        return None
    state = wf.States[inst.state]
    spec = state.Events[event]
    run = Run(wf, inst, data, now, ctx, variables)
    context = {**run.expr_context(), "$event": payload}
    updates = {}
    for field_name, source in spec.SetFields.items():
        try:
            updates[field_name] = compile_expression(source).evaluate(context)
        except AppError as exc:
            raise ValidationFailed(f"the event's SetFields.{field_name} failed: {exc.message}", code="event_rejected",
                                   details=[{"path": "data", "message": exc.message}]) from exc
    if updates:
        run.data = ctx.apply_fields(run.data, updates)  # ValidationFailed: the event's data does not fit the form
    run.outcome.events.append({"type": "workflow.event_received", "event": event, "key": key})
    run.enter(spec.Next)
    return run.outcome


def fire_timer(wf: WorkflowDefinition, inst: Instance, data: dict, timer_name: str, now: str, ctx: WorkflowContext,
               variables: dict) -> Outcome | None:
    """None when the timer is no longer armed (the state was left, or it already fired)."""
    timer = next((t for t in inst.timers if t.name == timer_name), None)
    if inst.status != "running" or timer is None or timer.state not in (inst.state, "*"):
        return None
    run = Run(wf, inst, data, now, ctx, variables)
    run.inst.timers = [t for t in run.inst.timers if t.name != timer_name]
    state = wf.States[inst.state]
    if timer_name == "wait":
        run.enter(state.Next)
        return run.outcome
    kind, _, deadline_name = timer_name.partition(":")
    deadlines = wf.Deadlines if kind in ("sla", "slaremind") else getattr(state, "Deadlines", [])
    kind = {"sla": "deadline", "slaremind": "remind"}.get(kind, kind)
    deadline = next(d for d in deadlines if d.Name == deadline_name)
    assignees = [t.assignee for t in run.inst.tasks]
    if kind == "remind":
        run.outcome.notifications.append({"kind": "sla.reminder", "deadline": deadline_name, "to": assignees})
        run.outcome.path = [inst.state]
        return run.outcome
    run.outcome.events.append({"type": "sla.breached", "deadline": deadline_name, "state": inst.state})
    for escalation in deadline.Escalate:
        if escalation.Notify:
            run.outcome.notifications.append({"kind": "sla.breached", "deadline": deadline_name,
                                              "to": resolve_assignees(ctx, wf, escalation.Notify, run.data)})
        if escalation.Reassign and isinstance(state, (TaskState, ApprovalState)):  # a Wait has nobody to replace
            keys = (_approver_keys(run, state, escalation.Reassign) if isinstance(state, ApprovalState)
                    else resolve_assignees(ctx, wf, escalation.Reassign, run.data))
            kind_of_task = "approval" if isinstance(state, ApprovalState) else "task"
            # the new assignees inherit the state's remaining deadline (the SLA keeps running)
            due = min((t.due_at for t in run.inst.tasks if t.due_at), default=None)
            run.inst.tasks = [Task(k, inst.state, kind_of_task, now, due) for k in dict.fromkeys(keys)]
            if run.inst.approval is not None:
                # votes of approvers who are no longer named do not count; the new ones vote afresh
                run.inst.approval["eligible"] = keys
                run.inst.approval["votes"] = {u: v for u, v in run.inst.approval["votes"].items() if f"user:{u}" in keys}
        if escalation.Goto:
            run.enter(escalation.Goto)
            return run.outcome
    run.outcome.path = [inst.state]
    return run.outcome


def rearm_deadlines(wf: WorkflowDefinition, inst: Instance, old_data: dict, new_data: dict, started_at: str,
                    now: str) -> Instance | None:
    """Timers that follow the data, after an edit: deadlines sized by a field (SecondsBy, e.g. priority)
    are recomputed from when they started (state entry, or the workflow's start for SLAs) — resized,
    dropped when the new value has none, and armed when the old value had none and the new one has; a
    Wait on a date field (TimestampField) moves with the field. Each gets a fresh `armed_at`, so a
    firing of the old timer is recognised as stale. None when nothing changed."""
    if inst.status != "running":
        return None
    state = wf.States.get(inst.state)
    changed = False
    new_inst = copy.deepcopy(inst)
    timers = []
    for timer in new_inst.timers:
        kind, _, name = timer.name.partition(":")
        if timer.name == "wait":
            moved = _moved_wait(state, timer, old_data, new_data, now)
            changed = changed or moved is not timer
            timers.append(moved)
            continue
        workflow_wide = kind in ("sla", "slaremind")
        deadlines = wf.Deadlines if workflow_wide else getattr(state, "Deadlines", [])
        deadline = next((d for d in deadlines if d.Name == name), None)
        by = deadline.SecondsBy if deadline is not None else None
        if by is None or old_data.get(by.Field_) == new_data.get(by.Field_):
            timers.append(timer)
            continue
        changed = True
        armed = _deadline_timer(deadline, kind, timer.state, started_at if workflow_wide else inst.entered_at,
                                new_data, now)
        if armed is not None:
            timers.append(armed)
    names = {t.name for t in inst.timers}
    for kind, remind, deadlines, owner, base in (
            ("sla", "slaremind", wf.Deadlines, "*", started_at),
            ("deadline", "remind", getattr(state, "Deadlines", []), inst.state, inst.entered_at)):
        for deadline in deadlines:
            by = deadline.SecondsBy
            if by is None or f"{kind}:{deadline.Name}" in names or old_data.get(by.Field_) == new_data.get(by.Field_):
                continue
            if kind == "sla" and inst.state in deadline.StopAt:
                continue
            if by.Map.get(str(old_data.get(by.Field_)), by.Default):
                continue  # it had a duration before: it fired or stopped, and is not armed twice
            for name in (kind, remind):
                armed = _deadline_timer(deadline, name, owner, base, new_data, now)
                if armed is not None:
                    changed = True
                    timers.append(armed)
    if not changed:
        return None
    new_inst.timers = timers
    state_due = [t.due_at for t in timers if t.name.startswith("deadline:")]
    for task in new_inst.tasks:
        task.due_at = min(state_due) if state_due else None
    return new_inst


def _deadline_timer(deadline, kind: str, owner: str, base: str, data: dict, now: str) -> Timer | None:
    """The timer `kind` ('sla'/'deadline' or its reminder) of `deadline` for `data`, counted from `base`."""
    by = deadline.SecondsBy
    seconds = by.Map.get(str(data.get(by.Field_)), by.Default) if by is not None else deadline.Seconds
    if not seconds:
        return None  # the new value has no deadline: the timer goes
    if kind in ("remind", "slaremind"):
        if not deadline.RemindBefore or deadline.RemindBefore >= seconds:
            return None
        seconds -= deadline.RemindBefore
    return Timer(f"{kind}:{deadline.Name}", owner, _plus(base, seconds), now)


def _timestamp_of(data: dict, field: str, now: str) -> str:
    """When a Wait on `field` ends: its date or date-time in UTC (`now` when there is none to wait for)."""
    value = data.get(field)
    if not isinstance(value, str):
        return now  # nothing to wait for
    try:  # compared with `now` and stored as the timer's sort key: same UTC format as `now`
        moment = _ts(value if "T" in value else value + "T00:00:00Z")
    except ValueError:
        return now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return _iso(moment)


def _moved_wait(state, timer: Timer, old_data: dict, new_data: dict, now: str) -> Timer:
    """A Wait on a date field follows an edit of the field (a missing or past date: due now)."""
    field_name = getattr(state, "TimestampField", None)
    if not isinstance(state, WaitState) or not field_name or old_data.get(field_name) == new_data.get(field_name):
        return timer
    return Timer("wait", timer.state, max(_timestamp_of(new_data, field_name, now), now), now)


RESTING_TYPES = ("Task", "Approval", "Wait", "Succeed", "Fail")


def migrate(wf: WorkflowDefinition, version: int, inst: Instance, data: dict, to_state: str, now: str,
            ctx: WorkflowContext, variables: dict) -> Outcome:
    """The record moved to version `version` of its workflow, resting in `to_state` (its state, or the
    one a migration maps it to). A running record enters that state as the engine enters any state:
    its tasks, waits and the state's deadlines are planned anew (assignees resolved now), the
    workflow-wide deadlines keep running; a finished record keeps its status. `to_state` must be a
    resting state of `wf` (the caller checks; an automatic one would run steps no one asked for)."""
    state = wf.States[to_state]
    moved = copy.deepcopy(inst)
    moved.version = version
    if inst.status != "running":
        moved.state = to_state
        run = Run(wf, moved, data, now, ctx, variables)
        run.outcome.path = [inst.state, to_state] if to_state != inst.state else [inst.state]
        run.outcome.events.append({"type": "workflow.migrated", "from": inst.state, "to": to_state, "version": version})
        return run.outcome
    if state.Type in ("Succeed", "Fail"):
        raise ValidationFailed(f"a running record cannot be moved into the end state {to_state}",
                               details=[{"path": f"state_map.{inst.state}", "message": "an end state; map it to a resting state"}])
    run = Run(wf, moved, data, now, ctx, variables)
    run.outcome.path = [inst.state]
    run.outcome.events.append({"type": "workflow.migrated", "from": inst.state, "to": to_state, "version": version})
    # workflow-wide deadlines of the old version that the new one no longer has stop here
    names = {d.Name for d in wf.Deadlines}
    run.inst.timers = [t for t in run.inst.timers if t.state == "*" and t.name.split(":", 1)[1] in names]
    run.enter(to_state)
    return run.outcome
