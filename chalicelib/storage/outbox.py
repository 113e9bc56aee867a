"""Outbox items (mail waiting to be sent), survey answer markers and suppressed addresses.

Outbox items are written in the workflow step's own transaction (`outbox_put` returns a WritePlan
extra op), so a step that commits always leaves its mail behind and a step that fails leaves none.
The worker claims an item with a lease (one conditional update), so two concurrent runs never send
the same item; it finishes the item in the transaction that records the result on the order."""
from __future__ import annotations

import hashlib
import time
import zlib

from pynamodb.exceptions import DoesNotExist, UpdateError

from .. import jsonutil
from . import keys
from .messaging_models import OutboxItem, SuppressionItem, SurveyAnswerItem

OUTBOX_SHARDS = 4
DONE_TTL_SECONDS = 30 * 24 * 3600


def outbox_pk(tenant: str, item_id: str) -> str:
    return f"T#{tenant}#OUT#{item_id}"


def _shard_pk(item_id: str) -> str:
    return f"OUTBOX#{zlib.crc32(item_id.encode()) % OUTBOX_SHARDS}"


def outbox_put(tenant: str, item_id: str, *, kind: str, template: str, due_at: str, created_at: str,
               form: str | None = None, record_id: str | None = None, to_field: str | None = None,
               to_value=None, payload: dict | None = None) -> tuple:
    item = OutboxItem(outbox_pk(tenant, item_id), "OUT", tenant=tenant, kind=kind, template=template, form=form,
                      record_id=record_id, to_field=to_field, to_value=jsonutil.dumps(to_value),
                      payload=jsonutil.dumps(payload or {}), status="pending", attempts=0, created_at=created_at,
                      due_at=due_at, opk=_shard_pk(item_id), lsk=f"{due_at}#{tenant}#{item_id}")
    return ("put", item, OutboxItem.pk.does_not_exist(), f"outbox:{item_id}")


def due_items(shard: int, now: str, limit: int = 50, start: dict | None = None) -> tuple[list[dict], dict | None]:
    result = OutboxItem.due.query(f"OUTBOX#{shard}", OutboxItem.lsk <= f"{now}~", limit=limit, page_size=limit,
                                  last_evaluated_key=start)
    items = [{"tenant": i.tenant, "id": i.lsk.rsplit("#", 1)[1]} for i in result]
    return items, result.last_evaluated_key


def claim(tenant: str, item_id: str, now: str, lease_until: str) -> dict | None:
    """Take the item for sending (status pending and no live lease); None if someone else has it or it is done."""
    item = OutboxItem(outbox_pk(tenant, item_id), "OUT")
    condition = (OutboxItem.status == "pending") & (OutboxItem.lease_until.does_not_exist() | (OutboxItem.lease_until < now))
    try:
        item.update(actions=[OutboxItem.lease_until.set(lease_until), OutboxItem.attempts.add(1)], condition=condition)
    except UpdateError:
        return None
    return {"tenant": tenant, "id": item_id, "kind": item.kind, "template": item.template, "form": item.form,
            "record_id": item.record_id, "to_field": item.to_field, "to_value": jsonutil.loads(item.to_value or "null"),
            "payload": jsonutil.loads(item.payload or "{}"), "attempts": int(item.attempts), "created_at": item.created_at,
            "lease_until": lease_until}


def finish_op(tenant: str, item_id: str, lease_until: str, status: str, result: dict) -> tuple:
    """Extra op for the recording transaction: the item is done (only by the worker holding the lease)."""
    item = OutboxItem(outbox_pk(tenant, item_id), "OUT")
    actions = [OutboxItem.status.set(status), OutboxItem.result.set(jsonutil.dumps(result)),
               OutboxItem.opk.remove(), OutboxItem.lsk.remove(),
               OutboxItem.expires_at.set(int(time.time()) + DONE_TTL_SECONDS)]
    return ("update", (item, actions), (OutboxItem.status == "pending") & (OutboxItem.lease_until == lease_until),
            f"outbox-finish:{item_id}")


def finish(tenant: str, item_id: str, lease_until: str, status: str, result: dict) -> bool:
    _op, (item, actions), condition, _label = finish_op(tenant, item_id, lease_until, status, result)
    try:
        item.update(actions=actions, condition=condition)
        return True
    except UpdateError:
        return False


def retry_later(tenant: str, item_id: str, lease_until: str, due_at: str, reason: str) -> None:
    """A transient failure: release the lease and come back at due_at."""
    item = OutboxItem(outbox_pk(tenant, item_id), "OUT")
    try:
        item.update(actions=[OutboxItem.lease_until.remove(), OutboxItem.due_at.set(due_at),
                             OutboxItem.lsk.set(f"{due_at}#{tenant}#{item_id}"),
                             OutboxItem.result.set(jsonutil.dumps({"last_error": reason}))],
                    condition=(OutboxItem.status == "pending") & (OutboxItem.lease_until == lease_until))
    except UpdateError:
        pass


def get_item(tenant: str, item_id: str) -> dict | None:
    try:
        item = OutboxItem.get(outbox_pk(tenant, item_id), "OUT", consistent_read=True)
    except DoesNotExist:
        return None
    return {"id": item_id, "status": item.status, "template": item.template, "kind": item.kind, "due_at": item.due_at,
            "attempts": int(item.attempts), "result": jsonutil.loads(item.result) if item.result else None,
            "payload": jsonutil.loads(item.payload or "{}"), "record_id": item.record_id}


# --- survey answers -------------------------------------------------------------------------------

def answer_pk(tenant: str, survey_id: str) -> str:
    return f"T#{tenant}#SVA#{survey_id}"


class AnswerTaken:
    """Transaction label: the survey was answered already (single use)."""

    def raise_for(self, old) -> None:
        from ..errors import Conflict
        raise Conflict("this survey was already answered; thank you", code="survey_already_answered",
                       details=[{"path": "token", "message": "already used"}])


def answer_put(tenant: str, survey_id: str, record_id: str, at: str) -> tuple:
    item = SurveyAnswerItem(answer_pk(tenant, survey_id), "SVA", record_id=record_id, answered_at=at)
    return ("put", item, SurveyAnswerItem.pk.does_not_exist(), AnswerTaken())


def answered(tenant: str, survey_id: str) -> bool:
    try:
        SurveyAnswerItem.get(answer_pk(tenant, survey_id), "SVA", consistent_read=True)
        return True
    except DoesNotExist:
        return False


# --- suppressed addresses -------------------------------------------------------------------------

def _address_key(tenant: str, address: str) -> str:
    return f"T#{tenant}#SUP#{hashlib.sha256(address.strip().lower().encode()).hexdigest()}"


def suppress(tenant: str, address: str, reason: str, at: str) -> None:
    SuppressionItem(_address_key(tenant, address), "SUP", reason=reason, at=at).save()


def suppression(tenant: str, address: str) -> str | None:
    try:
        return SuppressionItem.get(_address_key(tenant, address), "SUP").reason
    except DoesNotExist:
        return None


__all__ = ["OUTBOX_SHARDS", "keys"]
