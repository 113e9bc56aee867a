"""Reads dispatch needs: the engineers of some regions (list index Query + one BatchGetItem per
page, as any list) and each candidate's open work (their inbox, the `by_owner` GSI).

Current load = the engineer's open tasks on the dispatched form, counted from their inbox. Why not a
load-counter item updated with each assignment: a counter must move in every transaction that adds
or removes an engineer's task (assign, accept, reject, timers, cancel, delete, admin edits), drifts
if any path forgets it, and becomes one hot item per busy engineer. The task items already are that
state, written in the record's own transaction, so counting them is always right. Cost: one small
Query per candidate that passed the static hard rules (a region's few engineers, not the roster),
issued concurrently, returning the tasks themselves so the same read gives the newest assignment
time (fairness). DynamoDB cannot batch Queries; BatchGetItem reads only known keys.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import listing
from .models import LastLocationItem, TaskItem
from .records import StoredRecord
from .workflow import inbox_pk

MAX_TASKS_COUNTED = 200  # more open tasks than any capacity: counting further changes no decision
_WORKERS = 8


@dataclass(frozen=True)
class OpenWork:
    count: int
    newest_at: str | None  # created_at of the newest open task (the latest assignment)


def engineers(tenant: str, form: str, shards: int, slot: int | None, regions: list[str] | None,
              limit: int) -> list[StoredRecord]:
    """Engineer records of the given regions (via the region field's list index `slot`), or of the
    whole form when regions is None; at most `limit` per region (newest first)."""
    out: list[StoredRecord] = []
    keys = [None] if regions is None or slot is None else regions
    for region in keys:
        primary = (slot, region) if region is not None else None
        cursor, taken = None, 0
        while taken < limit:
            page, cursor = listing.list_records(tenant, form, shards, primary=primary, extra=[],
                                                limit=min(100, limit - taken), cursor=cursor)
            out += page
            taken += len(page)
            if cursor is None:
                break
    return out


def open_work(tenant: str, form: str, users: list[str]) -> dict[str, OpenWork]:
    """Open tasks of each user on records of `form`, read concurrently (one Query per user)."""
    users = sorted(set(users))
    if not users:
        return {}
    if len(users) == 1:
        return {users[0]: _open_work(tenant, form, users[0])}
    from concurrent.futures import ThreadPoolExecutor  # on use: keeps it out of the cold start
    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(users))) as pool:
        return dict(zip(users, pool.map(lambda u: _open_work(tenant, form, u), users)))


def _open_work(tenant: str, form: str, user: str) -> OpenWork:
    count, newest = 0, None
    for task in TaskItem.inbox.query(inbox_pk(tenant, f"user:{user}"), filter_condition=TaskItem.form == form,
                                     limit=MAX_TASKS_COUNTED, page_size=100):
        count += 1
        if newest is None or task.created_at > newest:
            newest = task.created_at
    return OpenWork(count, newest)


__all__ = ["engineers", "open_work", "OpenWork"]


def location_pk(tenant: str, user: str) -> str:
    return f"T#{tenant}#LOC#{user}"


def last_location_put(tenant: str, user: str, lat: float, lng: float, at: str) -> tuple:
    """WritePlan op: remember where the engineer checked in (last write wins; no condition)."""
    return ("put", LastLocationItem(location_pk(tenant, user), "LOC", lat=lat, lng=lng, at=at), None, "last_location")


def last_locations(tenant: str, users: list[str], since: str) -> dict[str, tuple[float, float]]:
    """{user: (lat, lng)} of those who checked in at or after `since`: one BatchGetItem per 100."""
    found: dict[str, tuple[float, float]] = {}
    keys = [(location_pk(tenant, u), "LOC") for u in dict.fromkeys(users)]
    for start in range(0, len(keys), 100):
        for item in LastLocationItem.batch_get(keys[start:start + 100]):
            if item.at >= since:
                found[item.pk.rsplit("#", 1)[1]] = (float(item.lat), float(item.lng))
    return found
