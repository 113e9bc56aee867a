"""Bulk import jobs (see integration_models.ImportJobItem). Progress advances with a condition on the
row it started from, so two workers never both claim the same batch."""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from pynamodb.exceptions import PutError

from .. import jsonutil
from .integration_models import ImportJobItem, configured

JOB_SHARDS = 4


def job_pk(tenant: str, job_id: str) -> str:
    return f"T#{tenant}#IMP#{job_id}"


def pending_pk(shard: int) -> str:
    return f"IMPORTS#{shard}"


@dataclass
class ImportJob:
    tenant: str
    id: str
    form: str
    format: str
    status: str
    total: int
    next_row: int
    created: int
    replayed: int
    failed: int
    errors: list[dict]
    rows: list  # [[row number, data], ...] of rows that passed validation
    owner: dict
    created_at: str
    updated_at: str
    invalid: int = field(default=0)

    def view(self) -> dict:
        return {"id": self.id, "form": self.form, "format": self.format, "status": self.status, "total": self.total,
                "valid": len(self.rows), "processed": self.next_row, "created": self.created, "replayed": self.replayed,
                "failed": self.failed, "errors": self.errors, "created_at": self.created_at, "updated_at": self.updated_at,
                "created_by": self.owner.get("user_id")}


def _item(job: ImportJob) -> ImportJobItem:
    item = ImportJobItem(job_pk(job.tenant, job.id), "J", tenant=job.tenant, job_id=job.id, form=job.form,
                         format=job.format, status=job.status, total=job.total, next_row=job.next_row, created=job.created,
                         replayed=job.replayed, failed=job.failed, errors=jsonutil.dumps(job.errors),
                         rows=jsonutil.dumps(job.rows), owner=jsonutil.dumps(job.owner), created_at=job.created_at,
                         updated_at=job.updated_at)
    if job.status == "running":  # sparse: the worker's queue holds unfinished jobs only
        item.opk = pending_pk(zlib.crc32(job.id.encode()) % JOB_SHARDS)
        item.lsk = f"{job.created_at}#{job.tenant}#{job.id}"
    return item


def _job(item: ImportJobItem) -> ImportJob:
    return ImportJob(item.tenant, item.job_id, item.form, item.format, item.status, int(item.total), int(item.next_row),
                     int(item.created), int(item.replayed), int(item.failed), jsonutil.loads(item.errors),
                     jsonutil.loads(item.rows), jsonutil.loads(item.owner), item.created_at, item.updated_at)


def create_job(job: ImportJob) -> bool:
    """False when a job with this id already exists in the tenant (the caller resumes it)."""
    configured()
    try:
        _item(job).save(ImportJobItem.pk.does_not_exist())
        return True
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def get_job(tenant: str, job_id: str) -> ImportJob | None:
    configured()
    try:
        return _job(ImportJobItem.get(job_pk(tenant, job_id), "J", consistent_read=True))
    except ImportJobItem.DoesNotExist:
        return None


def save_progress(job: ImportJob, started_at_row: int) -> bool:
    """Write the job's new progress if nobody advanced it meanwhile (False: another worker did)."""
    configured()
    try:
        _item(job).save(ImportJobItem.next_row == started_at_row)
        return True
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def running_jobs(shard: int, limit: int = 10) -> list[tuple[str, str]]:
    """(tenant, job id) of unfinished jobs in one shard of the worker's queue, oldest first."""
    configured()
    return [(i.tenant, i.job_id) for i in ImportJobItem.pending.query(pending_pk(shard), limit=limit)]
