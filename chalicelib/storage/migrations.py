"""Record migration job items (see job_models): created once, advanced with a condition on `rev`."""
from __future__ import annotations

import zlib
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from .. import jsonutil
from .job_models import MigrationJobItem

SHARDS = 2


def _pk(tenant: str, job_id: str) -> str:
    return f"T#{tenant}#MIG#{job_id}"


def save_job(tenant: str, job_id: str, form: str, status: str, body: dict, created_at: str, *, rev: int | None) -> bool:
    """Store revision rev + 1 if the stored one is still `rev` (None: a new job). False on a lost race."""
    item = MigrationJobItem(_pk(tenant, job_id), "J", tenant=tenant, job_id=job_id, form=form, status=status,
                            body=jsonutil.dumps(body), rev=(rev or 0) + 1, created_at=created_at)
    if status == "running":
        item.opk = f"MIGRATIONS#{zlib.crc32(job_id.encode()) % SHARDS}"
        item.lsk = f"{created_at}#{tenant}#{job_id}"
    condition = MigrationJobItem.pk.does_not_exist() if rev is None else MigrationJobItem.rev == rev
    try:
        item.save(condition)
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get_job(tenant: str, job_id: str) -> dict[str, Any] | None:
    try:
        item = MigrationJobItem.get(_pk(tenant, job_id), "J", consistent_read=True)
    except DoesNotExist:
        return None
    return {"id": item.job_id, "form": item.form, "status": item.status, "rev": int(item.rev),
            "created_at": item.created_at, **jsonutil.loads(item.body)}


def running_jobs(shard: int, limit: int = 25) -> list[dict]:
    return [{"tenant": i.tenant, "id": i.job_id} for i in MigrationJobItem.running.query(f"MIGRATIONS#{shard}", limit=limit)]
