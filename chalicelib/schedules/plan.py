"""What one run of a schedule does (pure): which occurrences are due, which were missed and what
the schedule's policy does with them, which an admin skipped or postponed, and when the schedule is
due next. The service stores the answer on the schedule's state item with a condition on its
revision, so two runs at once or a retried Lambda agree on one plan.

State (a plain dict, as stored):
    done_through  the last occurrence of the rule passed (queued, skipped or postponed), or None
    queue         [{"key", "at"}] occurrences to make, oldest first ("at": local time it is made for)
    deferred      {key: local time} postponed occurrences, made when that time comes
    overrides     {key: {"skip": true} | {"to": local time}} decisions on future occurrences
An occurrence's key is its local wall time on the rule ("2027-01-01T08:00"); a postponed one keeps its
key, so the ids of its records stay the same.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from ..ids import _ALPHABET
from .definition import ScheduleDefinition, iso, key_of, local_of, make_at, rule_of

MAX_PASSED_PER_RUN = 5000  # occurrences of the rule looked at in one run; more → the next run goes on


@dataclass
class Decision:
    done_through: str | None
    queue_add: list[dict] = field(default_factory=list)
    deferred: dict[str, str] = field(default_factory=dict)
    log_add: list[dict] = field(default_factory=list)
    overrides_used: list[str] = field(default_factory=list)
    next_at: datetime | None = None  # when the schedule is due again (None: never — the rule has ended)

    @property
    def changed(self) -> bool:
        return bool(self.queue_add or self.log_add or self.overrides_used)


def _originals_after(defn: ScheduleDefinition, done_through: str | None):
    rule = rule_of(defn)
    if done_through is None:
        return rule.xafter(datetime.min, inc=True)
    return rule.xafter(local_of(done_through), inc=False)


def plan_run(defn: ScheduleDefinition, state: dict, now: datetime) -> Decision:
    """The occurrences that became due by `now` (UTC, aware) since the state's `done_through`."""
    overrides = state.get("overrides") or {}
    deferred = dict(state.get("deferred") or {})
    decision = Decision(done_through=state.get("done_through"))
    if not defn.enabled:
        decision.deferred = deferred
        decision.next_at = None
        return decision
    due: list[str] = []
    passed = 0
    for local in _originals_after(defn, decision.done_through):
        if make_at(defn, local) > now:
            break
        key = key_of(local)
        decision.done_through = key
        choice = overrides.get(key) or {}
        if choice:
            decision.overrides_used.append(key)
        if choice.get("skip"):
            decision.log_add.append({"key": key, "outcome": "skipped", "by": choice.get("by"), "reason": choice.get("comment")})
        elif choice.get("to"):
            deferred[key] = choice["to"]
        else:
            due.append(key)
        passed += 1
        if passed >= MAX_PASSED_PER_RUN:
            break
    keep = due[-1:] if defn.missed == "latest" else due[-defn.max_catch_up:]
    for key in due[:len(due) - len(keep)]:
        reason = "missed: a newer occurrence was due too (policy latest)" if defn.missed == "latest" \
            else f"missed: more than max_catch_up ({defn.max_catch_up}) occurrences were due at once"
        decision.log_add.append({"key": key, "outcome": "missed", "reason": reason})
    decision.queue_add = [{"key": key, "at": key} for key in keep]
    for key, to in sorted(deferred.items(), key=lambda kv: kv[1]):
        if make_at(defn, local_of(to)) <= now:
            decision.queue_add.append({"key": key, "at": to})
            del deferred[key]
    decision.deferred = deferred
    more = passed >= MAX_PASSED_PER_RUN
    queued = bool(state.get("queue")) or bool(decision.queue_add) or more
    decision.next_at = now if queued else next_due(defn, decision.done_through, deferred)
    return decision


def next_due(defn: ScheduleDefinition, done_through: str | None, deferred: dict[str, str]) -> datetime | None:
    """When the schedule next has something to do: the next occurrence's or a postponed one's making time."""
    if not defn.enabled:
        return None
    moments = [make_at(defn, local_of(to)) for to in deferred.values()]
    following = next(iter(_originals_after(defn, done_through)), None)
    if following is not None:
        moments.append(make_at(defn, following))
    return min(moments) if moments else None


def first_state(defn: ScheduleDefinition, since: datetime) -> dict:
    """A newly published schedule's state: occurrences made before `since` (when it was first
    published) are not its to make, so it starts after the last of them."""
    before = None
    for local in rule_of(defn):
        if make_at(defn, local) >= since:
            break
        before = key_of(local)
    return {"done_through": before, "queue": [], "deferred": {}, "overrides": {}}


def upcoming(defn: ScheduleDefinition, state: dict, count: int = 10) -> list[dict]:
    """The next occurrences as the schedule will treat them: queued (being made), postponed (at their
    new time), skipped, or scheduled; each with the UTC instant its records are made."""
    out = [{"key": q["key"], "at": q["at"], "status": "queued"} for q in state.get("queue") or []]
    out += [{"key": key, "at": to, "status": "postponed"} for key, to in (state.get("deferred") or {}).items()]
    overrides = state.get("overrides") or {}
    for local in _originals_after(defn, state.get("done_through")):
        if len(out) >= count + len(state.get("deferred") or {}):
            break
        key = key_of(local)
        choice = overrides.get(key) or {}
        status = "skipped" if choice.get("skip") else "postponed" if choice.get("to") else "scheduled"
        out.append({"key": key, "at": choice.get("to") or key, "status": status})
    for item in out:
        item["make_at"] = iso(make_at(defn, local_of(item["at"])))
    out.sort(key=lambda item: (item["status"] != "queued", item["make_at"], item["key"]))
    return out[:count]


def record_id_for(tenant: str, schedule: str, key: str, source_id: str | None, made_at: datetime) -> str:
    """The id of the record a schedule makes for one occurrence (and source record): a ULID whose
    time is when the occurrence is made and whose 80 random bits are a hash of what it is for, so
    every run, retry or concurrent run names the same record and the store's `attribute_not_exists`
    lets exactly one of them make it."""
    millis = int(made_at.timestamp() * 1000)
    digest = hashlib.sha256(f"{tenant}\x1f{schedule}\x1f{key}\x1f{source_id or ''}".encode()).digest()
    value = (millis << 80) | int.from_bytes(digest[:10], "big")
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


__all__ = ["Decision", "plan_run", "next_due", "first_state", "upcoming", "record_id_for"]
