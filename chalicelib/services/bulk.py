"""Bulk import (a job: every row validated first, valid rows written in batches, progress readable
while it runs, restartable without duplicates) and export of a filtered list (CSV / JSON lines).

Restartability: row n of job j is created with the idempotency key `imp.<j>.<n>`, through the same
create path as the API's Idempotency-Key; a batch that is written again after a crash (or by a
second worker) replays instead of duplicating. Progress (`next_row`) advances with a condition on
the row the batch started from."""
from __future__ import annotations

import bisect
import codecs
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any


from ..errors import AppError, BadRequest, Conflict, NotFound, PayloadTooLarge, ValidationFailed
from ..expressions.budget import expression_budget
from ..forms.definition import validated
from ..ids import new_id
from ..integration.bodies import ImportRequest
from ..storage import imports as store
from . import definitions, records
from .caller import Caller
from .clock import utc_now

BATCH = 25
WORKERS = 8
MAX_ERRORS = 200
INLINE_SECONDS = 20.0  # the POST runs the job this long (API Gateway: 29 s), the schedule continues it
MAX_EXPORT = 10_000
MAX_EXPORT_BYTES = 5_900_000  # Lambda answers at most 6 MB (6,291,456 bytes) to API Gateway, the JSON envelope included
UPLOAD_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson"}  # Content-Type the import POST carries


def _owner(caller: Caller) -> dict:
    return {"user_id": caller.user_id, "roles": sorted(caller.roles), "name": caller.name,
            "attributes": dict(caller.attributes)}


def _caller(tenant: str, owner: dict) -> Caller:
    return Caller(tenant, owner["user_id"], frozenset(owner["roles"]), owner.get("name", ""),
                  tuple(sorted(owner.get("attributes", {}).items())))


def _importable_form(caller: Caller, form_name: str):
    """The published form, when the caller may both import and create its records."""
    _v, form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(form.permissions.import_, f"importing {form_name} records")
    caller.require_any(form.permissions.create, f"creating {form_name} records")
    return form


def start_import(caller: Caller, form_name: str, body: Any, *, budget: float = INLINE_SECONDS) -> tuple[dict, int]:
    """Validate every row, store the job, run it until `budget` seconds after the request started.
    Sending the same job_id again resumes that job (its rows are not written twice). → (job view, HTTP status)."""
    deadline = time.monotonic() + budget
    form = _importable_form(caller, form_name)
    request = validated(ImportRequest, body, "import request", ValidationFailed)
    if (request.content is None) == (request.upload_id is None):
        path = "upload_id" if request.content is not None else "content"
        raise ValidationFailed("send the file as content or name an upload with upload_id (exactly one)",
                               code="content_or_upload_id", details=[{"path": path, "message": (
                                   "send content or upload_id, not both" if path == "upload_id" else
                                   "required (or upload_id of a file uploaded with POST /forms/{form}/imports/uploads)")}])
    source = _Source(caller.tenant, request)
    job_id = request.job_id or new_id()
    job = store.get_job(caller.tenant, job_id)
    status = 200
    if job is None:
        total, valid, errors = _prepare(caller, form, request.format, source.text())
        chunks, starts = store.split_chunks(valid)
        now = utc_now()
        job = store.ImportJob(caller.tenant, job_id, form_name, request.format, "loading" if valid else "completed",
                              total, len(valid), 0, 0, 0, len({e["row"] for e in errors}), _bounded(errors), starts,
                              source.sha(), _owner(caller), now, now)
        if store.create_job(job):
            status = 202
            if valid:
                _load(job, chunks)
        else:  # a concurrent POST with the same job_id won
            job = store.get_job(caller.tenant, job_id)
    if job.form != form_name:
        raise NotFound(f"import job {job_id} does not exist for form {form_name}")
    if not source.matches(job):
        raise Conflict("job_id was already used with another file", code="job_id_reused",
                       details=[{"path": "job_id", "message": "reused with different content"}])
    if job.status == "loading":  # the first POST died while storing the rows: store them again
        if source.sha() != job.content_sha:
            raise Conflict("the uploaded file changed since this job started", code="upload_changed",
                           details=[{"path": "upload_id", "message": "the object is not the one this job read"}])
        _total, valid, _errors = _prepare(caller, form, request.format, source.text())
        _load(job, store.split_chunks(valid)[0])
    return run_import(caller.tenant, job_id, budget=max(0.0, deadline - time.monotonic())).view(), status


def _bounded(errors: list[dict]) -> list[dict]:
    """The first MAX_ERRORS row errors, messages cut short: the job item must stay small."""
    return [{**e, "message": str(e.get("message", ""))[:300]} for e in errors[:MAX_ERRORS]]


class _Source:
    """The file of an import request: inline content, or an uploaded S3 object read (once) under the
    caller's tenant prefix. Identity for job_id reuse: the content's hash; for an upload also its id,
    so a resumed upload job is recognised without reading the object again."""

    def __init__(self, tenant: str, request: ImportRequest) -> None:
        self.tenant, self.request = tenant, request
        self._text: str | None = None
        self._sha: str | None = None

    def text(self) -> str:
        if self._text is None:
            if self.request.upload_id is None:
                content = self.request.content or ""
                self._text = content[1:] if content.startswith("\ufeff") else content
            else:
                raw = _read_upload(self.tenant, self.request.upload_id)
                self._sha = f"u:{self.request.upload_id}:" + hashlib.sha256(
                    self.request.format.encode() + b"\n" + raw).hexdigest()
                self._text = decode_upload(raw)
        return self._text

    def sha(self) -> str:
        if self.request.upload_id is None:
            return hashlib.sha256(f"{self.request.format}\n{self.request.content}".encode()).hexdigest()
        self.text()
        return self._sha or ""

    def matches(self, job: store.ImportJob) -> bool:
        if self.request.upload_id is None:
            return job.content_sha == self.sha()
        return job.format == self.request.format and job.content_sha.startswith(f"u:{self.request.upload_id}:")


def _upload_problem(message: str, code: str, summary: str, cls=ValidationFailed) -> AppError:
    return cls(summary, code=code, details=[{"path": "upload_id", "message": message}])


def _read_upload(tenant: str, upload_id: str) -> bytes:
    from ..config import get_settings
    from ..storage import files
    limit = get_settings().import_upload_max_bytes
    try:
        raw = files.read(store.upload_key(tenant, upload_id), limit)
    except files.TooLarge as exc:
        raise _upload_problem(f"the file has {exc.size} bytes; at most {limit} can be imported", "upload_too_large",
                              "uploaded file is too large", PayloadTooLarge) from exc
    if raw is None:  # also: another tenant's upload id (the key is always under the caller's tenant)
        raise _upload_problem("no file was uploaded for this upload_id (or its POST has not finished, or it expired); "
                              "POST the file to the presigned URL first", "upload_missing", "uploaded file not found")
    if not raw.strip():
        raise _upload_problem("the uploaded file is empty", "upload_empty", "uploaded file is empty")
    return raw


def decode_upload(raw: bytes) -> str:
    """UTF-8, with or without a byte order mark; anything else is refused with a hint."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _upload_problem("the file is UTF-16; save it as UTF-8 (Excel: 'CSV UTF-8')", "not_utf8", "file is not UTF-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _upload_problem(f"the file is not UTF-8 (invalid byte at offset {exc.start}); save it as UTF-8 "
                              "(Excel: 'CSV UTF-8')", "not_utf8", "file is not UTF-8") from exc


def presign_upload(caller: Caller, form_name: str, body: Any) -> dict:
    """A presigned POST for an import file: the key is under the caller's tenant, the size limited,
    the POST short-lived; then POST /forms/{form}/imports with {upload_id}."""
    from ..config import get_settings
    from ..integration.bodies import ImportUploadRequest
    from ..storage import files
    _importable_form(caller, form_name)
    request = validated(ImportUploadRequest, body, "upload request", ValidationFailed)
    settings = get_settings()
    limit = settings.import_upload_max_bytes
    if request.size is not None and request.size > limit:
        raise PayloadTooLarge(f"import files are at most {limit} bytes", code="upload_too_large",
                              details=[{"path": "size", "message": f"at most {limit}"}])
    upload_id = new_id()
    key = store.upload_key(caller.tenant, upload_id)
    content_type = UPLOAD_TYPES[request.format]
    post = files.presigned_post(key, content_type, request.size or 1, max_size=request.size or limit,
                                expires=settings.import_post_seconds)
    return {"upload_id": upload_id, "key": key, "format": request.format, "url": post["url"], "fields": post["fields"],
            "content_type": content_type, "max_bytes": request.size or limit, "expires_in": settings.import_post_seconds}


def _load(job: store.ImportJob, chunks: list[list]) -> None:
    store.put_chunks(job.tenant, job.id, chunks)
    job.status = "running"
    store.save_progress(job, 0, expected_status="loading")


def _prepare(caller: Caller, form, fmt: str, text: str) -> tuple[int, list, list[dict]]:
    """(rows read, valid rows [[row number, data]], row errors): every row is checked before any is written."""
    from ..forms.engine import validate_record
    from ..integration.rows import RowsError, parse
    from .records import access_for
    try:
        rows = parse(text, fmt, form)
    except RowsError as exc:
        raise ValidationFailed(f"the file cannot be imported: {exc}", details=[{"path": exc.path, "message": str(exc)}]) from exc
    access = access_for(caller, form)
    variables = caller.variables(utc_now())
    valid, errors = [], []
    for number, data, problems in rows:
        if not problems:
            try:
                with expression_budget(fresh=True):  # per row: one costly row is that row's error
                    access.require_writable(data, None)
                    validate_record(form, data, variables=variables)
                if store.row_bytes(data) > store.MAX_ROW_BYTES:
                    raise PayloadTooLarge("row too large", details=[
                        {"path": "", "message": f"the row is larger than {store.MAX_ROW_BYTES // 1024} KB"}])
            except AppError as exc:
                problems = [{"row": number, **d} for d in (exc.details or [{"path": "", "message": exc.message}])]
        if problems:
            errors.extend(problems)
        else:
            valid.append([number, data])
    return len(rows), valid, errors


def run_import(tenant: str, job_id: str, *, budget: float = INLINE_SECONDS) -> store.ImportJob:
    """Write the job's valid rows in batches until done or out of time."""
    deadline = time.monotonic() + budget
    job = store.get_job(tenant, job_id)
    if job is None:
        raise NotFound(f"import job {job_id} does not exist")
    caller = _caller(tenant, job.owner)
    chunks: dict[int, list] = {}

    def row_at(index: int) -> list:
        n = bisect.bisect_right(job.chunks, index) - 1
        if n not in chunks:
            chunks.clear()
            chunks[n] = store.get_chunk(tenant, job_id, n)
        return chunks[n][index - job.chunks[n]]

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        while job.status == "running" and time.monotonic() < deadline:
            start = job.next_row
            batch = [row_at(i) for i in range(start, min(start + BATCH, job.valid))]
            results = list(pool.map(lambda row: _write_row(caller, job, row), batch))
            for outcome, problem in results:
                if outcome == "created":
                    job.created += 1
                elif outcome == "replayed":
                    job.replayed += 1
                else:
                    job.failed += 1
                    if len(job.errors) < MAX_ERRORS:
                        job.errors.append(problem)
            job.next_row = start + len(batch)
            job.updated_at = utc_now()
            if job.next_row >= job.valid:
                job.status = "completed"
            if not store.save_progress(job, start):  # another worker is on this job: let it go on
                return store.get_job(tenant, job_id) or job
    return job


def _write_row(caller: Caller, job: store.ImportJob, row: list) -> tuple[str, dict | None]:
    number, data = row
    try:
        with expression_budget(fresh=True):  # per row (and this runs in a pool thread: no request budget here)
            _body, replayed = records.create(caller, job.form, {"data": data}, f"imp.{job.id}.{number}")
        return ("replayed" if replayed else "created"), None
    except AppError as exc:
        if exc.status >= 500:
            raise  # transient: the batch is retried on the next run, keys make that safe
        detail = (exc.details or [{"path": "", "message": exc.message}])[0] if isinstance(exc.details, list) else \
            {"path": "", "message": exc.message}
        return "failed", {"row": number, "path": detail.get("path", ""), "message": detail.get("message", exc.message)}


def get_import(caller: Caller, form_name: str, job_id: str) -> dict:
    _v, form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(form.permissions.import_, f"importing {form_name} records")
    job = store.get_job(caller.tenant, job_id) if len(job_id) <= 64 else None
    if job is None or job.form != form_name or (job.owner["user_id"] != caller.user_id and "admin" not in caller.roles):
        raise NotFound(f"import job {job_id} does not exist")
    return _view(job)


STALLED_SECONDS = 120  # a POST lives at most 29 s: a job still storing its rows after this never will


def _view(job: store.ImportJob) -> dict:
    """The job as the API shows it. A job whose first POST died while storing the rows (its file is not
    kept, so nothing resumes it by itself) says so, and how to go on."""
    view = job.view()
    if job.status == "loading":
        from datetime import datetime, timezone
        started = datetime.strptime(job.updated_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        if (datetime.now(timezone.utc) - started).total_seconds() > STALLED_SECONDS:
            view.update(stalled=True, hint="the request that started this job was interrupted while storing its rows: "
                                           "send the same request again with this job_id to resume it (no row is written twice)")
    return view


def continue_imports(budget: float = 50.0) -> dict:
    """The schedule: resume unfinished jobs (e.g. a POST ran out of time, or its Lambda died)."""
    deadline = time.monotonic() + budget
    done = 0
    for shard in range(store.JOB_SHARDS):
        for tenant, job_id in store.running_jobs(shard):
            left = deadline - time.monotonic()
            if left <= 1:
                return {"resumed": done}
            run_import(tenant, job_id, budget=left)
            done += 1
    return {"resumed": done}


def export(caller: Caller, form_name: str, params: dict[str, str]) -> tuple[str, str]:
    """(body, content type): the filtered list as the caller may see it (row rules, hidden fields)."""
    from ..integration.rows import to_csv, to_jsonl
    _v, form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(form.permissions.export, f"exporting {form_name} records")
    params = dict(params)
    fmt = params.pop("format", "csv")
    if fmt not in ("csv", "jsonl"):
        raise BadRequest("format must be csv or jsonl", details=[{"path": "query.format", "message": "csv or jsonl"}])
    from ..errors import parse_count
    limit = parse_count(params.pop("limit"), "query.limit", minimum=1) if "limit" in params else MAX_EXPORT
    limit = min(limit, MAX_EXPORT)
    params.pop("cursor", None)
    items: list[dict] = []
    cursor = None
    while len(items) < limit:
        page = records.list_records(caller, form_name, titles=False, params={**params, "limit": str(min(100, limit - len(items))),
                                                        **({"cursor": cursor} if cursor else {})})
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    if fmt == "jsonl":
        text, content_type = to_jsonl(items), "application/x-ndjson"
    else:
        hidden = records.access_for(caller, form).hidden_everywhere()
        columns = [f.name for f in form.fields if f.name not in hidden]
        text, content_type = to_csv(form, columns, items), "text/csv; charset=utf-8"
    import json
    if len(json.dumps(text)) > MAX_EXPORT_BYTES:  # as Lambda serialises the response
        raise PayloadTooLarge(f"the export is larger than a response can be ({MAX_EXPORT_BYTES // 1_000_000} MB); "
                              "narrow it with filters or limit", code="export_too_large",
                              details=[{"path": "query.limit", "message": f"{len(items)} records are too many at once"}])
    return text, content_type
