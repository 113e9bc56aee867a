"""Bulk import jobs: a job item (status, counters, row errors, chunk boundaries) and chunk items
holding the valid rows (see integration_models). Progress advances with a condition on the row it
started from, so two workers never both record the same batch."""
from __future__ import annotations

import zlib
from dataclasses import dataclass


from .. import jsonutil
from .integration_models import ImportChunkItem, ImportJobItem
from .models import save_if

JOB_SHARDS = 4
CHUNK_BYTES = 200_000  # UTF-8 bytes of a chunk's rows; a single larger row (≤ MAX_ROW_BYTES) gets a chunk of its own
CHUNK_ROWS = 1000
MAX_ROW_BYTES = 350 * 1024  # as storage.records.MAX_RECORD_BYTES: a larger row could not be stored as a record anyway


def job_pk(tenant: str, job_id: str) -> str:
    return f"T#{tenant}#IMP#{job_id}"


def upload_key(tenant: str, upload_id: str) -> str:
    """S3 key of an import file: under the tenant's prefix, beside (never inside) attachment keys
    t/<tenant>/<form>/... ('_imports' is not a valid form name)."""
    from .keys import import_object_key
    return import_object_key(tenant, upload_id)


def row_bytes(row) -> int:
    return len(jsonutil.dumps(row).encode("utf-8"))


def pending_pk(shard: int) -> str:
    return f"IMPORTS#{shard}"


@dataclass
class ImportJob:
    tenant: str
    id: str
    form: str
    format: str
    status: str  # loading (chunks being written) → running → completed
    total: int
    valid: int
    next_row: int
    created: int
    replayed: int
    failed: int
    errors: list[dict]
    chunks: list[int]
    content_sha: str
    owner: dict
    created_at: str
    updated_at: str

    def view(self) -> dict:
        return {"id": self.id, "form": self.form, "format": self.format, "status": self.status, "total": self.total,
                "valid": self.valid, "processed": self.next_row, "created": self.created, "replayed": self.replayed,
                "failed": self.failed, "errors": self.errors, "created_at": self.created_at, "updated_at": self.updated_at,
                "created_by": self.owner.get("user_id")}


def _item(job: ImportJob) -> ImportJobItem:
    item = ImportJobItem(job_pk(job.tenant, job.id), "J", tenant=job.tenant, job_id=job.id, form=job.form,
                         format=job.format, status=job.status, total=job.total, valid=job.valid, next_row=job.next_row,
                         created=job.created, replayed=job.replayed, failed=job.failed, errors=jsonutil.dumps(job.errors),
                         chunks=jsonutil.dumps(job.chunks), content_sha=job.content_sha, owner=jsonutil.dumps(job.owner),
                         created_at=job.created_at, updated_at=job.updated_at)
    if job.status == "running":  # sparse: the worker's queue holds unfinished jobs only
        item.opk = pending_pk(zlib.crc32(job.id.encode()) % JOB_SHARDS)
        item.lsk = f"{job.created_at}#{job.tenant}#{job.id}"
    return item


def _job(item: ImportJobItem) -> ImportJob:
    return ImportJob(item.tenant, item.job_id, item.form, item.format, item.status, int(item.total), int(item.valid),
                     int(item.next_row), int(item.created), int(item.replayed), int(item.failed),
                     jsonutil.loads(item.errors), jsonutil.loads(item.chunks), item.content_sha,
                     jsonutil.loads(item.owner), item.created_at, item.updated_at)


def split_chunks(rows: list) -> tuple[list[list], list[int]]:
    """Rows → chunks under CHUNK_BYTES / CHUNK_ROWS each, and the index of each chunk's first row."""
    chunks, starts, current, size = [], [], [], 0
    for index, row in enumerate(rows):
        length = row_bytes(row)  # bytes, not characters: a chunk item must stay under DynamoDB's 400 KB
        if current and (size + length > CHUNK_BYTES or len(current) >= CHUNK_ROWS):
            chunks.append(current)
            current, size = [], 0
        if not current:
            starts.append(index)
        current.append(row)
        size += length
    if current:
        chunks.append(current)
    return chunks, starts


def create_job(job: ImportJob) -> bool:
    """False when a job with this id already exists in the tenant (the caller resumes it)."""
    return save_if(_item(job), ImportJobItem.pk.does_not_exist())


def put_chunks(tenant: str, job_id: str, chunks: list[list]) -> None:
    with ImportChunkItem.batch_write() as batch:
        for n, rows in enumerate(chunks):
            batch.save(ImportChunkItem(job_pk(tenant, job_id), f"C#{n:05d}", rows=jsonutil.dumps(rows)))


def get_chunk(tenant: str, job_id: str, n: int) -> list:
    return jsonutil.loads(ImportChunkItem.get(job_pk(tenant, job_id), f"C#{n:05d}", consistent_read=True).rows)


def get_job(tenant: str, job_id: str) -> ImportJob | None:
    try:
        return _job(ImportJobItem.get(job_pk(tenant, job_id), "J", consistent_read=True))
    except ImportJobItem.DoesNotExist:
        return None


def save_progress(job: ImportJob, started_at_row: int, expected_status: str = "running") -> bool:
    """Write the job's new state if nobody advanced it meanwhile (False: another worker did)."""
    return save_if(_item(job), (ImportJobItem.next_row == started_at_row) & (ImportJobItem.status == expected_status))


def running_jobs(shard: int, limit: int = 10) -> list[tuple[str, str]]:
    """(tenant, job id) of unfinished jobs in one shard of the worker's queue, oldest first."""
    return [(i.tenant, i.job_id) for i in ImportJobItem.pending.query(pending_pk(shard), limit=limit)]
