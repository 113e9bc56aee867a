"""Schedule state items (see schedule_models): one per tenant + schedule, changed only with a
condition on its revision, and listed by due time on the by_owner index in 4 shards."""
from __future__ import annotations

import zlib
from typing import Any

from pynamodb.exceptions import DoesNotExist

from .. import jsonutil
from . import keys
from .schedule_models import ScheduleStateItem

SCHEDULE_SHARDS = 4
STATE_SK = "STATE"


def _shard(tenant: str, name: str) -> int:
    return zlib.crc32(f"{tenant}#{name}".encode()) % SCHEDULE_SHARDS


def get_state(tenant: str, name: str) -> dict[str, Any] | None:
    """{"state", "rev", "made", "next_at", "last_run_at"} read consistently, or None."""
    try:
        item = ScheduleStateItem.get(keys.schedule_pk(tenant, name), STATE_SK, consistent_read=True)
    except DoesNotExist:
        return None
    return {"state": jsonutil.loads(item.body), "rev": int(item.rev), "made": int(item.made or 0),
            "next_at": item.next_at, "last_run_at": item.last_run_at}


def save_state(tenant: str, name: str, state: dict, *, rev: int | None, next_at: str | None,
               made_add: int = 0, ran_at: str | None = None) -> bool:
    """Write the state as revision rev + 1 if the stored one is still `rev` (None: only if there is
    none yet); `made_add` is ADDed to the records-made count. False when another run got there first."""
    from pynamodb.exceptions import UpdateError
    item = ScheduleStateItem(keys.schedule_pk(tenant, name), STATE_SK)
    actions = [ScheduleStateItem.tenant.set(tenant), ScheduleStateItem.name.set(name),
               ScheduleStateItem.body.set(jsonutil.dumps(state)), ScheduleStateItem.rev.set((rev or 0) + 1),
               ScheduleStateItem.made.add(made_add)]
    if ran_at is not None:
        actions.append(ScheduleStateItem.last_run_at.set(ran_at))
    if next_at is None:  # paused or ended: out of the due index
        actions += [ScheduleStateItem.next_at.remove(), ScheduleStateItem.opk.remove(), ScheduleStateItem.lsk.remove()]
    else:
        actions += [ScheduleStateItem.next_at.set(next_at), ScheduleStateItem.opk.set(f"SCHEDULES#{_shard(tenant, name)}"),
                    ScheduleStateItem.lsk.set(f"{next_at}#{tenant}#{name}")]
    condition = ScheduleStateItem.pk.does_not_exist() if rev is None else ScheduleStateItem.rev == rev
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def count_made(tenant: str, name: str, made: int) -> None:
    """Records a run made whose progress another run had already stored: counted all the same."""
    if made:
        ScheduleStateItem(keys.schedule_pk(tenant, name), STATE_SK).update(actions=[ScheduleStateItem.made.add(made)])


def due_states(shard: int, now: str, limit: int = 50, start: dict | None = None) -> tuple[list[dict], dict | None]:
    """One page of the schedules due by `now` in a shard (tenant, name), oldest first."""
    result = ScheduleStateItem.due.query(f"SCHEDULES#{shard}", ScheduleStateItem.lsk <= f"{now}~", limit=limit,
                                         page_size=limit, last_evaluated_key=start)
    return [{"tenant": i.tenant, "name": i.name} for i in result], result.last_evaluated_key


def delete_state(tenant: str, name: str) -> None:
    ScheduleStateItem(keys.schedule_pk(tenant, name), STATE_SK).delete()
