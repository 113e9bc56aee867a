"""The running state of a workflow on one record; stored on the record item as JSON."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Task:
    """Who may act now: 'user:<id>' or 'role:<role>'. One item per assignee in the inbox index."""

    assignee: str
    state: str
    kind: str  # "task" | "approval"
    created_at: str
    due_at: str | None = None


@dataclass
class Timer:
    """'wait', 'deadline:<name>' or 'remind:<name>'; `armed_at` tells a stale firing from a live one."""

    name: str
    state: str
    due_at: str
    armed_at: str


@dataclass
class Instance:
    workflow: str
    version: int
    state: str
    entered_at: str
    status: str = "running"  # running | succeeded | failed
    tasks: list[Task] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    approval: dict | None = None  # {"level", "votes": {user: "approve"|"reject"}, "eligible": [keys]}
    error: dict | None = None
    waits: list[dict] = field(default_factory=list)  # [{"event", "key"}]: events the record waits for now

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> "Instance":
        return cls(**{**raw, "tasks": [Task(**t) for t in raw.get("tasks", [])],
                      "timers": [Timer(**t) for t in raw.get("timers", [])]})


@dataclass
class Outcome:
    """What an action did; the service persists all of it in one transaction."""

    instance: Instance
    data: dict
    path: list[str]
    events: list[dict] = field(default_factory=list)
    notifications: list[dict] = field(default_factory=list)
    emails: list[dict] = field(default_factory=list)
    creates: list[dict] = field(default_factory=list)
    # a delegation to a user the rule names only by role: the service checks, in the write's
    # transaction, that the member holds one of these roles
    delegate_roles: list[str] = field(default_factory=list)
    # how the step went, state by state, for a dry run to show (never stored): {"state", "type"} and,
    # for a Choice, the rule that matched ({"choice": {"rule": i | None, "next"}}), for an Action whose
    # step failed, {"caught": {"error", "cause", "next"}}
    trace: list[dict] = field(default_factory=list)

    @property
    def transitions(self) -> int:
        return max(0, len(self.path) - 1)


def caller_keys(user_id: str, roles: Any) -> set[str]:
    return {f"user:{user_id}"} | {f"role:{r}" for r in roles}
