"""Workflow items stored next to their record (same partition): history, open tasks, armed timers.
They are written in the record's own transaction, so a step is all-or-nothing."""
from __future__ import annotations

import zlib
from typing import Any

from .. import jsonutil
from . import keys
from .models import EngineerItem, EventWaitItem, HistoryItem, TaskItem, TimerItem

TIMER_SHARDS = 8  # the due-timer index is global (the scheduler serves every tenant): spread it


def inbox_pk(tenant: str, assignee: str) -> str:
    return f"T#{tenant}#INBOX#{assignee}"


def timer_shard_pk(shard: int) -> str:
    return f"TIMERS#{shard}"


def _timer_shard(record_id: str) -> int:
    return zlib.crc32(record_id.encode()) % TIMER_SHARDS


def history_put(tenant: str, form: str, record_id: str, seq: int, at: str, entry: dict,
                data: dict | None = None) -> tuple:
    """The history item of record version `seq`. With `data` (the record's data at that version) the
    entry also keeps the new value of every changed field (`values`): the audit trail says what a
    field became, and outbound events carry it without reading the record again."""
    if data is not None:
        entry = {**entry, "values": {name: data.get(name) for name in entry.get("changed_fields") or []}}
    item = HistoryItem(keys.record_pk(tenant, record_id), f"H#{seq:010d}", tenant=tenant, record_id=record_id,
                       form=form, at=at, entry=jsonutil.dumps(entry))
    # one entry per record version; the record's own version condition already serialises writers
    return ("put", item, HistoryItem.pk.does_not_exist(), "history")


def workflow_changes(tenant: str, form: str, record_id: str, number: str | None, old: dict | None, new: dict | None,
                     fired: tuple[str, str] | None = None) -> list[tuple]:
    """Deletes and puts that turn the stored tasks/timers of `old` into those of `new`. `fired` =
    (timer name, armed_at) of the timer being handled: its item is only touched if still the same."""
    pk = keys.record_pk(tenant, record_id)
    old_tasks = {t["assignee"]: t for t in (old or {}).get("tasks", [])}
    new_tasks = {t["assignee"]: t for t in (new or {}).get("tasks", [])}
    old_timers = {t["name"]: t for t in (old or {}).get("timers", [])}
    new_timers = {t["name"]: t for t in (new or {}).get("timers", [])}
    ops: list[tuple] = []
    for assignee in old_tasks.keys() - new_tasks.keys():
        ops.append(("delete", TaskItem(pk, f"TASK#{assignee}"), None, f"task-:{assignee}"))
        ops += load_change(tenant, form, assignee, -1)
    for assignee, task in new_tasks.items():
        if assignee not in old_tasks:
            ops += load_change(tenant, form, assignee, +1, task["created_at"])
        if old_tasks.get(assignee) != task:
            ops.append(("put", TaskItem(pk, f"TASK#{assignee}", tenant=tenant, record_id=record_id, form=form, number=number,
                                        state=task["state"], kind=task["kind"], assignee=assignee,
                                        created_at=task["created_at"], due_at=task.get("due_at"),
                                        opk=inbox_pk(tenant, assignee), lsk=f"{task['created_at']}#{record_id}"),
                        None, f"task+:{assignee}"))
    old_waits = {(w["event"], w["key"]) for w in (old or {}).get("waits", [])}
    new_waits = {(w["event"], w["key"]) for w in (new or {}).get("waits", [])}
    state = (new or {}).get("state") or ""
    for event, key in sorted(old_waits - new_waits):
        ops.append(("delete", EventWaitItem(keys.event_wait_pk(tenant, event, key), f"R#{record_id}"), None, f"wait-:{event}"))
    for event, key in sorted(new_waits - old_waits):
        ops.append(("put", EventWaitItem(keys.event_wait_pk(tenant, event, key), f"R#{record_id}", tenant=tenant,
                                         record_id=record_id, form=form, state=state, event=event, key=key),
                    None, f"wait+:{event}"))
    fired_name, fired_armed = fired if fired else (None, None)
    for name in old_timers.keys() - new_timers.keys():
        condition = TimerItem.armed_at == fired_armed if name == fired_name else None
        ops.append(("delete", TimerItem(pk, f"TIMER#{name}"), condition, "timer_fired" if condition is not None else f"timer-:{name}"))
    if fired_name and fired_name not in old_timers:  # stale firing: only remove the leftover item
        ops.append(("delete", TimerItem(pk, f"TIMER#{fired_name}"), TimerItem.armed_at == fired_armed, "timer_fired"))
    for name, timer in new_timers.items():
        if old_timers.get(name) != timer or name == fired_name:
            ops.append(("put", TimerItem(pk, f"TIMER#{name}", tenant=tenant, record_id=record_id, form=form, name=name,
                                         due_at=timer["due_at"], armed_at=timer["armed_at"],
                                         opk=timer_shard_pk(_timer_shard(record_id)),
                                         lsk=f"{timer['due_at']}#{tenant}#{record_id}#{name}"),
                        (TimerItem.armed_at == fired_armed) if name == fired_name else None,
                        "timer_fired" if name == fired_name else f"timer+:{name}"))
    return ops


def load_change(tenant: str, form: str, assignee: str, delta: int, assigned_at: str | None = None) -> list[tuple]:
    """The "count" op that moves a user's open-task load on `form` with their task item (roles carry
    no load). The transaction merges the counts of one key (two records of one change may give the
    same engineer a task), so each load item is written once, by ADD: concurrent steps never lose a count."""
    if not assignee.startswith("user:"):
        return []
    item = EngineerItem(keys.engineer_pk(tenant, assignee[5:]), keys.load_sk(form))
    return [("count", item, {"open": delta}, {"last_assigned_at": assigned_at} if assigned_at else {})]


def waiting_for(tenant: str, event: str, key: str, limit: int = 100) -> list[dict]:
    """The records that wait for this event with this correlation key now (one Query)."""
    items = EventWaitItem.query(keys.event_wait_pk(tenant, event, key), EventWaitItem.sk.startswith("R#"),
                                limit=limit, consistent_read=True)
    return [{"record_id": i.record_id, "form": i.form, "state": i.state} for i in items if i.key == key]


def list_history(tenant: str, record_id: str, limit: int = 100, after: int | None = None) -> list[dict]:
    # the record, its tasks and timers share the partition: bound the range to history keys only
    condition = HistoryItem.sk.startswith("H#") if after is None else HistoryItem.sk.between(f"H#{after + 1:010d}", "H#9999999999")
    items = HistoryItem.query(keys.record_pk(tenant, record_id), condition, limit=limit)
    return [{"seq": int(i.sk[2:]), "at": i.at, **jsonutil.loads(i.entry)} for i in items]


def inbox_page(tenant: str, assignee: str, start: str | None, limit: int) -> tuple[list[dict], str | None]:
    """One assignee's open tasks, oldest first. `start` is the lsk to continue after."""
    last_key = None
    if start:
        record_id = start.rsplit("#", 1)[1]
        last_key = {"opk": {"S": inbox_pk(tenant, assignee)}, "lsk": {"S": start},
                    "pk": {"S": keys.record_pk(tenant, record_id)}, "sk": {"S": f"TASK#{assignee}"}}
    result = TaskItem.inbox.query(inbox_pk(tenant, assignee), limit=limit, page_size=limit, last_evaluated_key=last_key)
    items = [{"record_id": t.record_id, "form": t.form, "number": t.number, "state": t.state, "kind": t.kind,
              "assignee": t.assignee, "created_at": t.created_at, "due_at": t.due_at, "_lsk": t.lsk} for t in result]
    more = result.last_evaluated_key is not None
    return items, (items[-1]["_lsk"] if items and more else None)


def due_timers(shard: int, now: str, limit: int = 100, start: dict | None = None) -> tuple[list[dict[str, Any]], dict | None]:
    """One page of due timers of a shard, oldest first, and where the next page starts (or None)."""
    result = TimerItem.due.query(timer_shard_pk(shard), TimerItem.lsk <= f"{now}~", limit=limit, page_size=limit,
                                 last_evaluated_key=start)
    items = [{"tenant": t.tenant, "record_id": t.record_id, "form": t.form, "name": t.name, "due_at": t.due_at,
              "armed_at": t.armed_at, "failures": int(t.failures or 0)} for t in result]
    return items, result.last_evaluated_key


def timer_failed(tenant: str, record_id: str, name: str, armed_at: str, now: str, next_try_at: str,
                 code: str, message: str) -> bool:
    """Record a failed firing on the timer item (the record's incident) and move its place in the due
    index to the next try. Conditional on the same arming: a timer re-armed or fired meanwhile is
    left alone (False)."""
    from pynamodb.exceptions import UpdateError
    item = TimerItem(keys.record_pk(tenant, record_id), f"TIMER#{name}")
    try:
        item.update(actions=[TimerItem.failures.add(1), TimerItem.failed_since.set(TimerItem.failed_since | now),
                             TimerItem.last_failed_at.set(now), TimerItem.error_code.set(code),
                             TimerItem.error_message.set(message[:500]), TimerItem.next_try_at.set(next_try_at),
                             TimerItem.lsk.set(f"{next_try_at}#{tenant}#{record_id}#{name}")],
                    condition=TimerItem.armed_at == armed_at)
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def record_timers(tenant: str, record_id: str) -> list[dict[str, Any]]:
    """The record's armed timer items with their incident fields (one Query of the record's partition)."""
    found = TimerItem.query(keys.record_pk(tenant, record_id), TimerItem.sk.startswith("TIMER#"), consistent_read=True)
    return [{"name": t.name, "due_at": t.due_at, "armed_at": t.armed_at, "failures": int(t.failures or 0),
             "failed_since": t.failed_since, "last_failed_at": t.last_failed_at, "next_try_at": t.next_try_at,
             "error": {"code": t.error_code, "message": t.error_message} if t.failures else None} for t in found]


