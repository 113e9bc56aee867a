"""Workflow definitions in the spirit of the Amazon States Language (PascalCase keys, `Type`,
`Next`/`End`), with human Task and Approval states added. Parsed with pydantic; then checked as a
graph (unknown targets, unreachable states, automatic-only loops) and against the form's fields."""
from __future__ import annotations

from functools import cached_property
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator

from ..errors import DefinitionError, ExpressionError
from ..forms.definition import FIELD_VARIABLES, json_path

# What a workflow's expressions may read besides the form's fields (checks.py adds $state): the
# caller and clock, and the record's own $id and $number (null until an API create stores the record).
EXPRESSION_VARIABLES = FIELD_VARIABLES
from ..forms.fields import NAME_PATTERN
from ..locales import TranslatablePascal

STATE_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
MAX_STATES = 100


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class LookupRule(_Strict):
    """The user in `UserField` of the `Form` record whose `MatchField` equals this record's `ValueField`
    (e.g. the supervisor of the record's region). MatchField must be indexed on that form."""

    Form: str = Field(pattern=NAME_PATTERN)
    MatchField: str
    ValueField: str
    UserField: str


class AssigneeRule(_Strict):
    """Exactly one of: Role (anyone holding it), Field (a user field of the record), Users, Lookup."""

    Role: str | None = Field(default=None, max_length=64)
    Field_: str | None = Field(default=None, alias="Field")
    Users: list[str] | None = Field(default=None, max_length=50)
    Lookup: LookupRule | None = None
    Fallback: "AssigneeRule | None" = None  # used when the rule finds nobody (e.g. region without supervisor)

    @model_validator(mode="after")
    def _exactly_one(self):
        if sum(x is not None for x in (self.Role, self.Field_, self.Users, self.Lookup)) != 1:
            raise ValueError("give exactly one of Role, Field, Users, Lookup")
        return self


class ActionDef(TranslatablePascal, _Strict):
    Label: str = Field(default="", max_length=100)
    Next: str
    Requires: list[str] = Field(default_factory=list)  # fields that must have a value after the action
    Condition: str | None = Field(default=None, max_length=4000)  # the action is offered only when true
    CommentRequired: bool = False


_Duration = Annotated[int, Field(ge=1, le=366 * 86400)]  # as Deadline.Seconds: a mapped 0 or -5 is a mistake


class DurationByField(_Strict):
    Field_: str = Field(alias="Field")
    Map: dict[str, _Duration]
    Default: _Duration | None = None


class Escalation(_Strict):
    Notify: AssigneeRule | None = None
    Reassign: AssigneeRule | None = None
    Goto: str | None = None


class Deadline(TranslatablePascal, _Strict):
    Name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    Label: str = Field(default="", max_length=100)  # what people read; the Name otherwise
    Seconds: int | None = Field(default=None, ge=1, le=366 * 86400)
    SecondsBy: DurationByField | None = None
    RemindBefore: int | None = Field(default=None, ge=1)
    Escalate: list[Escalation] = Field(default_factory=list, max_length=5)

    @model_validator(mode="after")
    def _one_duration(self):
        if (self.Seconds is None) == (self.SecondsBy is None):
            raise ValueError("give exactly one of Seconds, SecondsBy")
        return self


class WorkflowDeadline(Deadline):
    """Runs across states from the start (e.g. resolution SLA); cancelled on entering a StopAt state or an end."""

    StopAt: list[str] = Field(default_factory=list)


class EditRule(_Strict):
    """Who may change which fields through PATCH (and an action's data, uploads, offline updates)
    while the record rests in a state. A state that names no rule allows no field to anybody."""

    Fields: list[str] = Field(min_length=1, max_length=200)
    Assignees: bool = False  # the state's current assignees (its open task or approval holders)
    Roles: list[str] | None = Field(default=None, min_length=1, max_length=20)  # members holding any of these
    UserFields: list[str] | None = Field(default=None, min_length=1, max_length=10)  # users named in these fields
    CommentRequired: bool = False  # e.g. an admin correction of a closed order: the reason goes to history

    @model_validator(mode="after")
    def _names_someone(self):
        if not (self.Assignees or self.Roles or self.UserFields):
            raise ValueError("an edit rule needs Assignees, Roles or UserFields")
        return self


class _StateBase(_Strict):
    Comment: str = Field(default="", max_length=1000)


class _RestingState(TranslatablePascal, _StateBase):
    """A state a record rests in (human, wait, end): it says who edits what there."""

    Label: str = Field(default="", max_length=100)  # what people read (inbox, board, record page); the state's name otherwise

    Edits: list[EditRule] = Field(default_factory=list, max_length=20)

    @property
    def edit_rules(self) -> list[EditRule]:
        return list(self.Edits)


class TaskState(_RestingState):
    Type: Literal["Task"]
    Assignee: AssigneeRule
    Editable: list[str] | None = None  # shorthand: the assignees may edit these (None / []: nothing)
    Actions: dict[str, ActionDef] = Field(min_length=1, max_length=20)
    Deadlines: list[Deadline] = Field(default_factory=list, max_length=5)

    @property
    def edit_rules(self) -> list[EditRule]:
        own = [EditRule(Fields=self.Editable, Assignees=True)] if self.Editable else []
        return own + list(self.Edits)


class SeparationOfDuties(_Strict):
    """Who may never vote on an approval: whoever requested it (took the step that entered it), the
    users named in `ExcludeFields` (e.g. the assigned engineer), and — in a chain — anyone who already
    approved an earlier level. Delegation follows the same rules."""

    Enabled: bool = True
    ExcludeFields: list[str] = Field(default_factory=list, max_length=10)
    OneLevelPerPerson: bool = True


_SoD = SeparationOfDuties


class ApprovalState(_RestingState):
    Type: Literal["Approval"]
    SeparationOfDuties: _SoD = Field(default_factory=_SoD)
    Mode: Literal["single", "chain", "all", "any", "threshold"]
    Approvers: AssigneeRule | None = None  # single / all / any / threshold
    Levels: list[AssigneeRule] | None = Field(default=None, max_length=10)  # chain
    ThresholdPercent: int | None = Field(default=None, ge=1, le=100)
    OnApprove: str
    OnReject: str
    Deadlines: list[Deadline] = Field(default_factory=list, max_length=5)

    @model_validator(mode="after")
    def _mode_fits(self):
        if self.Mode == "chain":
            if not self.Levels:
                raise ValueError("Mode chain needs Levels")
        elif self.Approvers is None:
            raise ValueError(f"Mode {self.Mode} needs Approvers")
        if self.Mode == "threshold" and self.ThresholdPercent is None:
            raise ValueError("Mode threshold needs ThresholdPercent")
        if self.Mode in ("all", "threshold") and _names_role(self.Approvers):
            raise ValueError(f"Mode {self.Mode} counts votes, so Approvers must name users (Users, Field or Lookup), not a Role")
        return self


def _names_role(rule: AssigneeRule | None) -> bool:
    """True when the rule or any of its Fallbacks is a Role (a role key cannot cast countable votes)."""
    while rule is not None:
        if rule.Role is not None:
            return True
        rule = rule.Fallback
    return False


class ChoiceRule(_Strict):
    """ASL comparison on a field (`Variable`: "$.priority" or "priority"), And/Or/Not, or Condition."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    Variable: str | None = None
    Condition: str | None = Field(default=None, max_length=4000)
    And: list["ChoiceRule"] | None = Field(default=None, min_length=1)  # ASL: an empty And/Or is invalid
    Or: list["ChoiceRule"] | None = Field(default=None, min_length=1)
    Not: "ChoiceRule | None" = None
    Next: str | None = None
    StringEquals: str | None = None
    StringLessThan: str | None = None
    StringGreaterThan: str | None = None
    StringLessThanEquals: str | None = None
    StringGreaterThanEquals: str | None = None
    StringMatches: str | None = None
    NumericEquals: float | None = None
    NumericLessThan: float | None = None
    NumericGreaterThan: float | None = None
    NumericLessThanEquals: float | None = None
    NumericGreaterThanEquals: float | None = None
    BooleanEquals: bool | None = None
    TimestampEquals: str | None = None
    TimestampLessThan: str | None = None
    TimestampGreaterThan: str | None = None
    TimestampLessThanEquals: str | None = None
    TimestampGreaterThanEquals: str | None = None
    IsPresent: bool | None = None
    IsNull: bool | None = None

    @property
    def comparisons(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude_none=True).items() if k not in ("Variable", "Condition", "And", "Or", "Not", "Next")}

    @model_validator(mode="after")
    def _one_test(self):
        kinds = sum(x is not None for x in (self.Condition, self.And, self.Or, self.Not)) + (1 if self.Variable else 0)
        if kinds != 1:
            raise ValueError("give exactly one of Variable (with one comparison), Condition, And, Or, Not")
        if self.Variable is not None and len(self.comparisons) != 1:
            raise ValueError("a Variable rule needs exactly one comparison operator")
        if self.Variable is None and self.comparisons:
            raise ValueError("comparison operators need a Variable")
        return self


class ChoiceState(_StateBase):
    Type: Literal["Choice"]
    Choices: list[ChoiceRule] = Field(min_length=1, max_length=50)
    Default: str | None = None


class EventWait(_Strict):
    """Wait for a named event from outside (an ERP message that a part arrived, another system's
    call): it is correlated to this record by the value of the record's field `Key`; on arrival its
    `SetFields` (expressions over the record and `$event`, the event's data) are applied and the
    record moves to `Next`."""
    Key: str
    Next: str
    SetFields: dict[str, str] = Field(default_factory=dict, max_length=50)


class WaitState(_RestingState):
    """Waits for a time (`Seconds` or `TimestampField`), for one of `Events`, or for an event with a
    timeout: whichever comes first; `Next` is where the time leads."""
    Type: Literal["Wait"]
    Seconds: int | None = Field(default=None, ge=1, le=366 * 86400)
    TimestampField: str | None = None
    Events: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")], EventWait] = Field(default_factory=dict, max_length=10)
    Next: str | None = None

    @model_validator(mode="after")
    def _one(self):
        if self.Seconds is not None and self.TimestampField is not None:
            raise ValueError("give at most one of Seconds, TimestampField")
        if not self.Events and self.Seconds is None and self.TimestampField is None:
            raise ValueError("give one of Seconds, TimestampField, or Events to wait for")
        if (self.Seconds is not None or self.TimestampField is not None) and not self.Next:
            raise ValueError("Next is where the time leads: required with Seconds or TimestampField")
        return self

    @property
    def timed(self) -> bool:
        return self.Seconds is not None or self.TimestampField is not None


class SetFieldsStep(_Strict):
    SetFields: dict[str, str]  # field → expression


class CreateRecordStep(_Strict):
    CreateRecord: dict[str, Any]  # {"Form": name, "Data": {field: expression}}


class EmitEventStep(_Strict):
    EmitEvent: str = Field(pattern=r"^[a-z][a-z0-9_.]{0,99}$")


class DispatchStep(_Strict):
    Dispatch: dict[str, Any] = Field(default_factory=dict)  # {"Field": "assigned_engineer", "Policy": name}


class SendEmailStep(_Strict):
    SendEmail: dict[str, str]  # {"Template": name, "ToField": field}


class SignalSpec(_Strict):
    Event: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    Key: str = Field(min_length=1, max_length=2000, description="expression over this record: the correlation value")
    Form: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,62}$", description="only records of this form")


class SignalStep(_Strict):
    """Tell the records waiting for `Event` with this `Key` (a Wait state's Events, on any form of the
    tenant) that this record got here: the repair order of a failed inspection item closes, the
    inspection waiting for it moves on. Delivered after the step commits, from the records stream
    (at least once; each record takes it once); `$event` there = {record_id, form, number, state, data}."""
    Signal: SignalSpec


_STEP_KINDS = {"SetFields": SetFieldsStep, "CreateRecord": CreateRecordStep, "EmitEvent": EmitEventStep,
               "Dispatch": DispatchStep, "SendEmail": SendEmailStep, "Signal": SignalStep}


def _step_kind(raw: Any) -> str | None:
    """A step is discriminated by its one key (so a bad step reports one problem, not one per kind)."""
    if isinstance(raw, BaseModel):
        return next((k for k in _STEP_KINDS if k in type(raw).model_fields), None)
    if isinstance(raw, dict):
        kinds = [k for k in _STEP_KINDS if k in raw]
        return kinds[0] if len(kinds) == 1 else None
    return None


Step = Annotated[Union[tuple(Annotated[cls, Tag(key)] for key, cls in _STEP_KINDS.items())],
                 Discriminator(_step_kind, custom_error_type="invalid_step",
                               custom_error_message="a step has exactly one of: " + ", ".join(_STEP_KINDS))]


class Retrier(_Strict):
    ErrorEquals: list[str] = Field(min_length=1)
    MaxAttempts: int = Field(default=2, ge=0, le=5)


class Catcher(_Strict):
    ErrorEquals: list[str] = Field(min_length=1)
    Next: str


class ActionState(_StateBase):
    """Automatic work, done inside the same transaction as the transition that reaches it."""

    Type: Literal["Action"]
    Steps: list[Step] = Field(min_length=1, max_length=20)
    Retry: list[Retrier] = Field(default_factory=list)
    Catch: list[Catcher] = Field(default_factory=list)
    Next: str | None = None
    End: bool = False


class SucceedState(_RestingState):
    Type: Literal["Succeed"]


class FailState(_RestingState):
    Type: Literal["Fail"]
    Error: str = Field(default="Failed", max_length=100)
    Cause: str = Field(default="", max_length=1000)


State = Annotated[Union[TaskState, ApprovalState, ChoiceState, WaitState, ActionState, SucceedState, FailState],
                  Field(discriminator="Type")]
HUMAN_TYPES = ("Task", "Approval")
AUTOMATIC_TYPES = ("Choice", "Action")


class WorkflowDefinition(TranslatablePascal, _Strict):
    translatable = ("title",)
    name: str = Field(pattern=NAME_PATTERN)  # = the form it runs on
    title: str = Field(default="", max_length=200)
    Comment: str = Field(default="", max_length=2000)
    StartAt: str
    States: dict[str, State] = Field(min_length=1, max_length=MAX_STATES)
    Deadlines: list[WorkflowDeadline] = Field(default_factory=list, max_length=5)
    # The desk of last resort: who gets a task, an approval seat, a reassignment or an escalation
    # notice when its own rule (and that rule's Fallbacks) finds nobody — so no record is stranded.
    Fallback: AssigneeRule | None = None

    def state_label(self, name: str, language: str | None = None) -> str:
        """What people read for a state: its Label in `language` (resting states have one), else its name."""
        state = self.States[name]
        return (state.text("Label", language) if isinstance(state, TranslatablePascal) else "") or name

    @cached_property
    def edges(self) -> list[tuple[str, str, str]]:
        """(from, to, label) for every transition the definition allows."""
        out = []
        for name, s in self.States.items():
            if isinstance(s, TaskState):
                out += [(name, a.Next, f"action:{key}") for key, a in s.Actions.items()]
            elif isinstance(s, ApprovalState):
                out += [(name, s.OnApprove, "approve"), (name, s.OnReject, "reject")]
            elif isinstance(s, ChoiceState):
                out += [(name, c.Next, f"choice:{i}") for i, c in enumerate(s.Choices) if c.Next]
                if s.Default:
                    out.append((name, s.Default, "default"))
            elif isinstance(s, WaitState):
                if s.Next:
                    out.append((name, s.Next, "wait"))
                out += [(name, e.Next, f"event:{event}") for event, e in s.Events.items()]
            elif isinstance(s, ActionState):
                if s.Next:
                    out.append((name, s.Next, "next"))
                out += [(name, c.Next, "catch:" + ",".join(c.ErrorEquals)) for c in s.Catch]
            for deadline in getattr(s, "Deadlines", []):
                out += [(name, e.Goto, f"deadline:{deadline.Name}") for e in deadline.Escalate if e.Goto]
        for deadline in self.Deadlines:
            out += [("*", e.Goto, f"sla:{deadline.Name}") for e in deadline.Escalate if e.Goto]
        return out


_STATE_TYPES = {"Task", "Approval", "Choice", "Wait", "Action", "Succeed", "Fail"}


def _problem_path(loc: tuple) -> str:
    """pydantic loc → JSON path, dropping the union tags pydantic inserts (the state `Type` after
    `States.<name>`, the step kind after `Steps[i]`); a state may itself be named like a type."""
    parts = list(loc)
    out = []
    for i, part in enumerate(parts):
        if i == 2 and parts[0] == "States" and part in _STATE_TYPES:
            continue
        if i >= 2 and isinstance(parts[i - 1], int) and parts[i - 2] == "Steps" and part in _STEP_KINDS:
            continue
        out.append(part)
    return json_path(out)


def _pydantic_problems(exc: ValidationError) -> list[dict]:
    from ..plain_errors import problems
    return problems(exc, _problem_path, WorkflowDefinition)


def parse_workflow(raw: Any, *, form=None, previous=None) -> tuple[WorkflowDefinition, list[dict]]:
    """Validate; return (definition, warnings). `form` (the parsed form definition) enables field checks."""
    if not isinstance(raw, dict):
        raise DefinitionError("a workflow definition must be a JSON object", details=[{"path": "", "message": "expected object"}])
    try:
        wf = WorkflowDefinition.model_validate(raw)
    except ValidationError as exc:
        raise DefinitionError("workflow definition is invalid", details=_pydantic_problems(exc)) from exc
    from .checks import graph_problems
    problems, warnings = graph_problems(wf, form)
    if problems:
        raise DefinitionError("workflow definition is invalid", details=problems)
    return wf, warnings


__all__ = ["WorkflowDefinition", "parse_workflow", "TaskState", "ApprovalState", "ChoiceState", "WaitState",
           "ActionState", "SucceedState", "FailState", "AssigneeRule", "EditRule", "SeparationOfDuties", "HUMAN_TYPES", "AUTOMATIC_TYPES",
           "EXPRESSION_VARIABLES", "ExpressionError"]
