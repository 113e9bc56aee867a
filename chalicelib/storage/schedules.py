"""Schedule state items (see schedule_models): one per tenant + schedule, changed only with a
condition on its revision, and listed by due time on the by_owner index in 4 shards."""
from __future__ import annotations

import zlib
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from .. import jsonutil
from . import keys
from .schedule_models import ScheduleStateItem

SCHEDULE_SHARDS = 4
STATE_SK = "STATE"


def _shard(tenant: str, name: str) -> int:
    return zlib.crc32(f"{tenant}#{name}".encode()) % SCHEDULE_SHARDS


def _index(item: ScheduleStateItem, next_at: str | None) -> None:
    item.next_at = next_at
    if next_at is None:  # paused or ended: out of the due index
        item.opk = item.lsk = None
    else:
        item.opk = f"SCHEDULES#{_shard(item.tenant, item.name)}"
        item.lsk = f"{next_at}#{item.tenant}#{item.name}"


def get_state(tenant: str, name: str) -> dict[str, Any] | None:
    """{"state", "rev", "made", "next_at", "last_run_at"} read consistently, or None."""
    try:
        item = ScheduleStateItem.get(keys.schedule_pk(tenant, name), STATE_SK, consistent_read=True)
    except DoesNotExist:
        return None
    return {"state": jsonutil.loads(item.body), "rev": int(item.rev), "made": int(item.made or 0),
            "next_at": item.next_at, "last_run_at": item.last_run_at}


def save_state(tenant: str, name: str, state: dict, *, rev: int | None, next_at: str | None,
               made_add: int = 0, made: int = 0, ran_at: str | None = None) -> bool:
    """Write the state as revision rev + 1 if the stored one is still `rev` (None: only if there is
    none yet). False when another run got there first."""
    item = ScheduleStateItem(keys.schedule_pk(tenant, name), STATE_SK, tenant=tenant, name=name,
                             body=jsonutil.dumps(state), rev=(rev or 0) + 1, made=made + made_add, last_run_at=ran_at)
    _index(item, next_at)
    condition = ScheduleStateItem.pk.does_not_exist() if rev is None else ScheduleStateItem.rev == rev
    try:
        item.save(condition)
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def due_states(shard: int, now: str, limit: int = 50, start: dict | None = None) -> tuple[list[dict], dict | None]:
    """One page of the schedules due by `now` in a shard (tenant, name), oldest first."""
    result = ScheduleStateItem.due.query(f"SCHEDULES#{shard}", ScheduleStateItem.lsk <= f"{now}~", limit=limit,
                                         page_size=limit, last_evaluated_key=start)
    return [{"tenant": i.tenant, "name": i.name} for i in result], result.last_evaluated_key


def delete_state(tenant: str, name: str) -> None:
    ScheduleStateItem(keys.schedule_pk(tenant, name), STATE_SK).delete()
