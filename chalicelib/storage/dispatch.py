"""Reads dispatch needs: the engineers of some regions (list index Query per region, then one
BatchGetItem for all their records), and what it knows of each engineer — current load and last
check-in — with one more BatchGetItem whatever the roster's size (two keys per engineer, 100 keys per
request).

Current load = the engineer's open tasks on the dispatched form, kept as a counter item
(`EngineerItem` LOAD#<form>) that every transaction adding or removing such a task moves by ADD
(storage.workflow.workflow_changes is the one place task items are written, so no path can forget
it; the transaction merges two counts of one engineer into one write). Before the counters each
candidate's load was an inbox Query: one request per engineer. The inbox stays the truth:
`recount_loads` rebuilds a counter from it (repair, and the drift tests).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import keys, listing
from .models import EngineerItem, TaskItem
from .records import StoredRecord
from .workflow import inbox_pk

MAX_TASKS_COUNTED = 1000  # a recount reads at most this many open tasks per user


DAY_KEPT_SECONDS = 3 * 86400  # a working day's assignments expire (TTL) this long after it began


@dataclass(frozen=True)
class CapacityGuard:
    """Label of a day item's capacity condition: cancelled → the engineer's day filled meanwhile."""
    user: str
    capacity: int

    def raise_for(self, _old) -> None:
        from ..errors import Conflict
        raise Conflict(f"{self.user} reached today's capacity ({self.capacity}) meanwhile; dispatch again",
                       code="capacity_reached", details=[{"path": "assigned", "message": f"{self.user} is full today"}])


@dataclass(frozen=True)
class EngineerState:
    load: int  # open tasks on the form
    last_assigned_at: str | None  # when they were last given one (fairness)
    location: tuple[float, float] | None  # last check-in, when at or after `since`
    today: int = 0  # orders assigned to them on the working day asked for


def engineers(tenant: str, form: str, shards: int, slot: int | None, regions: list[str] | None,
              limit: int) -> list[StoredRecord]:
    """Engineer records of the given regions (via the region field's list index `slot`), or of the
    whole form when regions is None; at most `limit` per region (newest first). The index pages of
    every region are read first, then the records in one BatchGetItem per 100."""
    ids: list[str] = []
    for region in [None] if regions is None or slot is None else regions:
        primary = (slot, region) if region is not None else None
        cursor, taken = None, 0
        while taken < limit:
            page, cursor = listing.list_ids(tenant, form, shards, primary=primary, extra=[],
                                            limit=min(100, limit - taken), cursor=cursor)
            ids += page
            taken += len(page)
            if cursor is None:
                break
    ids = list(dict.fromkeys(ids))
    out: list[StoredRecord] = []
    for start in range(0, len(ids), 100):
        out += listing.get_records(tenant, ids[start:start + 100])
    return out


def engineer_states(tenant: str, form: str, users: list[str], since: str | None,
                    day: str | None = None) -> dict[str, EngineerState]:
    """Each user's load on `form`, when `since` is given their last check-in at or after it, and when
    `day` is given the orders assigned to them that working day: one BatchGetItem per 100 keys."""
    users = list(dict.fromkeys(users))
    wanted = [(keys.engineer_pk(tenant, u), keys.load_sk(form)) for u in users]
    if since is not None:
        wanted += [(keys.engineer_pk(tenant, u), "LOC") for u in users]
    if day is not None:
        wanted += [(keys.engineer_pk(tenant, u), keys.day_sk(form, day)) for u in users]
    prefix = len(keys.engineer_pk(tenant, ""))
    loads: dict[str, EngineerItem] = {}
    where: dict[str, tuple[float, float]] = {}
    today: dict[str, int] = {}
    for start in range(0, len(wanted), 100):
        for item in EngineerItem.batch_get(wanted[start:start + 100]):
            user = item.pk[prefix:]
            if item.sk == "LOC":
                if item.at is not None and since is not None and item.at >= since:
                    where[user] = (float(item.lat), float(item.lng))
            elif item.sk.startswith("DAY#"):
                today[user] = len(item.ids or ())
            else:
                loads[user] = item
    out = {}
    for u in users:
        found = loads.get(u)
        out[u] = EngineerState(max(0, int(found.open or 0)) if found else 0,
                               found.last_assigned_at if found else None, where.get(u), today.get(u, 0))
    return out


def assignment_ops(tenant: str, form: str, record_id: str, day: str, gained: str | None, lost: str | None,
                   capacity: int | None = None) -> list[tuple]:
    """WritePlan ops when an order's assigned engineer changes on working day `day`: the order joins
    the new engineer's day and leaves the old one's (if it was given to them that day). With
    `capacity` (an automatic dispatch) the join is conditioned on the day not being full, so two
    dispatchers racing for one engineer's last slot cannot both take it (the loser's transaction is
    cancelled: CapacityGuard, a 409 capacity_reached)."""
    from datetime import date
    from pynamodb.expressions.condition import size
    expires = int((date.fromisoformat(day) - date(1970, 1, 1)).total_seconds()) + DAY_KEPT_SECONDS
    ops: list[tuple] = []
    if gained:
        item = EngineerItem(keys.engineer_pk(tenant, gained), keys.day_sk(form, day))
        condition = None
        if capacity is not None:
            condition = (EngineerItem.ids.does_not_exist() | (size(EngineerItem.ids) < capacity)
                         | EngineerItem.ids.contains(record_id))
        ops.append(("update", (item, [EngineerItem.ids.add({record_id}), EngineerItem.expires_at.set(expires)]),
                    condition, CapacityGuard(gained, capacity) if capacity is not None else f"day+:{gained}"))
    if lost and lost != gained:
        item = EngineerItem(keys.engineer_pk(tenant, lost), keys.day_sk(form, day))
        ops.append(("update", (item, [EngineerItem.ids.delete({record_id}), EngineerItem.expires_at.set(expires)]),
                    None, f"day-:{lost}"))
    return ops


def recount_loads(tenant: str, form: str, users: list[str]) -> dict[str, int]:
    """Set each user's load counter on `form` to their open tasks counted from the inbox (one Query
    per user): the repair for a counter that drifted, e.g. tasks written before counters existed."""
    counts = {}
    for user in dict.fromkeys(users):
        count, newest = 0, None
        for task in TaskItem.inbox.query(inbox_pk(tenant, f"user:{user}"), filter_condition=TaskItem.form == form,
                                         limit=MAX_TASKS_COUNTED, page_size=100):
            count += 1
            newest = max(newest or task.created_at, task.created_at)
        actions = [EngineerItem.open.set(count)] + ([EngineerItem.last_assigned_at.set(newest)] if newest else [])
        EngineerItem(keys.engineer_pk(tenant, user), keys.load_sk(form)).update(actions=actions)
        counts[user] = count
    return counts


def last_location_put(tenant: str, user: str, lat: float, lng: float, at: str) -> tuple:
    """WritePlan op: remember where the engineer checked in (last write wins; no condition)."""
    return ("put", EngineerItem(keys.engineer_pk(tenant, user), "LOC", lat=lat, lng=lng, at=at), None, "last_location")


__all__ = ["engineers", "engineer_states", "assignment_ops", "recount_loads", "last_location_put", "EngineerState", "CapacityGuard"]
