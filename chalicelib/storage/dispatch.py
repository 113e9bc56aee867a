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


@dataclass(frozen=True)
class EngineerState:
    load: int  # open tasks on the form
    last_assigned_at: str | None  # when they were last given one (fairness)
    location: tuple[float, float] | None  # last check-in, when at or after `since`


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


def engineer_states(tenant: str, form: str, users: list[str], since: str | None) -> dict[str, EngineerState]:
    """Each user's load on `form` and, when `since` is given, their last check-in at or after it:
    one BatchGetItem per 100 keys."""
    users = list(dict.fromkeys(users))
    wanted = [(keys.engineer_pk(tenant, u), keys.load_sk(form)) for u in users]
    if since is not None:
        wanted += [(keys.engineer_pk(tenant, u), "LOC") for u in users]
    prefix = len(keys.engineer_pk(tenant, ""))
    loads: dict[str, EngineerItem] = {}
    where: dict[str, tuple[float, float]] = {}
    for start in range(0, len(wanted), 100):
        for item in EngineerItem.batch_get(wanted[start:start + 100]):
            user = item.pk[prefix:]
            if item.sk != "LOC":
                loads[user] = item
            elif item.at is not None and since is not None and item.at >= since:
                where[user] = (float(item.lat), float(item.lng))
    out = {}
    for u in users:
        found = loads.get(u)
        out[u] = EngineerState(max(0, int(found.open or 0)) if found else 0,
                               found.last_assigned_at if found else None, where.get(u))
    return out


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


__all__ = ["engineers", "engineer_states", "recount_loads", "last_location_put", "EngineerState"]
