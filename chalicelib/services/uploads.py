"""Attachment uploads (image / file / signature fields): declare → presigned POST to S3 → confirm.

Confirm is where trust is established: S3 (and moto even more so) may hold anything under a key, so
the server HEADs the object and checks it against what was declared and what the field accepts
before attaching it, in ONE transaction with the record (optimistic version), its history entry and
the pending-upload item (pending → attached, so a retried confirm attaches once). `confirm` is a
plain function: the offline-sync operation "attach an upload" calls it too."""
from __future__ import annotations

import re
from typing import Any

from typing_extensions import TypedDict

from .. import mediatypes
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..forms.values import CONTENT_TYPE_RE, MAX_UPLOAD_NAME
from ..ids import is_valid_id, new_id
from ..signatures import signature_mac, signed_digest
from ..storage import files, keys
from ..storage import records as store
from ..storage import uploads as pending_store
from . import definitions, workflow
from . import records as _records
from .caller import Caller
from .clock import utc_now

ATTACHMENT_TYPES = ("image", "file", "signature")
SIGNATURE_MAX_BYTES = 5 * 1024 * 1024  # as forms.values checks signature values
SHA256_RE = re.compile(r"[0-9a-f]{64}")


# What the upload routes answer: the functions' return types and the OpenAPI document's response schemas.
class UploadDeclared(TypedDict):
    """POST the file to `url` as multipart/form-data with `fields` (the file last), then confirm `upload_id`."""
    upload_id: str
    key: str
    field: str
    url: str
    fields: dict[str, str]
    expires_in: int
    content_type: str
    size: int


class UploadConfirmed(_records.RecordOut):
    """The record with the attachment (`replayed`: an earlier confirm had attached it)."""
    attachment: dict[str, Any] | None
    replayed: bool


class UploadConfirmedRef(TypedDict):
    """The same when the record is no longer one the caller may read."""
    id: str
    version: int
    attachment: dict[str, Any] | None
    replayed: bool


class FileLink(TypedDict):
    url: str
    expires_in: int
    key: str
    content_type: str | None
    size: int | None
    name: str | None


def _problem(path: str, message: str, summary: str | None = None, code: str | None = None) -> ValidationFailed:
    return ValidationFailed(summary or message, details=[{"path": path, "message": message}], code=code)


def max_bytes(field) -> int:
    return SIGNATURE_MAX_BYTES if field.type == "signature" else field.max_size_mb * 1024 * 1024


def _editable_record(caller: Caller, form_name: str, record_id: str):
    """(published access, record, record's form version): the record-update rules of services.records."""
    from .records import access_for
    _published, published_form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(published_form.permissions.update, f"updating {form_name} records")
    access = access_for(caller, published_form)
    rec = store.get_record(caller.tenant, record_id, consistent=True) if is_valid_id(record_id) else None
    if rec is None or rec.form != form_name or rec.deleted or \
            (access.can("read") and not access.row_visible(rec.data)) or not access.admitting_roles("update", rec.data):
        raise NotFound(f"{form_name} record {record_id} does not exist")
    form = definitions.version_of(caller.tenant, "form", form_name, rec.form_version)
    return access, rec, form


def _require_field_writable(caller: Caller, access, rec, field_name: str) -> None:
    access.require_writable([field_name], rec.data)
    if rec.workflow:
        inst, wf = workflow.running(caller.tenant, rec)
        workflow.check_editable(caller, wf, inst, {field_name: None}, record_data=rec.data)


def _attachment_field(form, name: Any):
    field = form.field(name) if isinstance(name, str) else None
    if field is None or field.type not in ATTACHMENT_TYPES:
        raise _problem("field", f"'{name}' is not an image, file or signature field of {form.name}",
                       "field is not an attachment field")
    return field


def _refuse_active(field, content_type: str, path: str) -> None:
    """Image and signature fields never hold active content (SVG, HTML, XML, JavaScript), whatever
    their `accept` says (a definition stored before that rule may still list it)."""
    if field.type in ("image", "signature") and mediatypes.is_active(content_type):
        raise _problem(path, f"{content_type} is active content (it can run scripts); the {field.type} field "
                             f"{field.name} takes raster images such as image/png or image/jpeg",
                       f"{field.name} does not take {content_type}", "active_content_refused")


def _check_declared(field, content_type: Any, size: Any) -> None:
    if not isinstance(content_type, str) or not CONTENT_TYPE_RE.fullmatch(content_type):
        raise _problem("content_type", "must be a MIME type such as image/jpeg", "content_type is malformed")
    _refuse_active(field, content_type, "content_type")
    if field.accept and content_type not in field.accept:
        raise _problem("content_type", f"{content_type} is not accepted by {field.name} ({', '.join(field.accept)})",
                       "content type not accepted", "content_type_not_accepted")
    limit = max_bytes(field)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= limit:
        raise _problem("size", f"must be an integer from 1 to {limit} bytes", "file size out of range", "size_out_of_range")


def presign(caller: Caller, form_name: str, record_id: str, body: Any) -> UploadDeclared:
    """Declare an upload; returns the presigned POST (url + form fields) and the upload id to confirm."""
    if not isinstance(body, dict):
        raise _problem("", "body must be an object {field, content_type, size[, name, sha256]}", "body must be an object")
    unknown = set(body) - {"field", "content_type", "size", "name", "sha256"}
    if unknown:
        raise ValidationFailed("unknown keys in body", details=[{"path": k, "message": "unknown key"} for k in sorted(unknown)])
    access, rec, form = _editable_record(caller, form_name, record_id)
    field = _attachment_field(form, body.get("field"))
    _check_declared(field, body.get("content_type"), body.get("size"))
    name, sha = body.get("name"), body.get("sha256")
    if name is not None and (not isinstance(name, str) or not 1 <= len(name) <= MAX_UPLOAD_NAME):
        raise _problem("name", f"must be text of 1 to {MAX_UPLOAD_NAME} characters", "name is invalid")
    if sha is not None and (not isinstance(sha, str) or not SHA256_RE.fullmatch(sha)):
        raise _problem("sha256", "must be 64 lowercase hex characters", "sha256 is invalid")
    _require_field_writable(caller, access, rec, field.name)
    if getattr(field, "multiple", False) and len(rec.data.get(field.name) or []) >= field.max_files:
        raise _problem(f"data.{field.name}", f"already holds {field.max_files} files, the most it takes", "field is full", "too_many_files")
    upload_id = new_id()
    key = keys.upload_object_key(caller.tenant, form_name, record_id, field.name, upload_id)
    post = files.presigned_post(key, body["content_type"], body["size"])
    pending_store.put_pending(pending_store.PendingUpload(
        tenant=caller.tenant, upload_id=upload_id, form=form_name, record_id=record_id, field=field.name, key=key,
        content_type=body["content_type"], size=body["size"], name=name, sha256=sha, created_by=caller.user_id,
        created_at=utc_now()))
    from ..config import get_settings
    return {"upload_id": upload_id, "key": key, "field": field.name, "url": post["url"], "fields": post["fields"],
            "expires_in": get_settings().upload_post_seconds, "content_type": body["content_type"], "size": body["size"]}


def _pending(caller: Caller, form_name: str, record_id: str, upload_id: str) -> pending_store.PendingUpload:
    p = pending_store.get(caller.tenant, upload_id) if is_valid_id(upload_id) else None
    if p is None or p.form != form_name or p.record_id != record_id:
        raise NotFound(f"upload {upload_id} does not exist")
    if p.created_by != caller.user_id:
        raise Forbidden("this upload was declared by another user; declare your own", code="not_your_upload")
    return p


def _verify_object(p: pending_store.PendingUpload, field, caller: Caller) -> None:
    """The object in S3 must be exactly what was declared and what the field accepts."""
    expected_key = keys.upload_object_key(caller.tenant, p.form, p.record_id, p.field, p.upload_id)
    if p.key != expected_key:
        raise _problem("upload", "the upload's key does not belong to this tenant, record and field", "foreign key", "upload_key_mismatch")
    info = files.head(p.key)
    if info is None:
        raise _problem("upload", "no object was uploaded for this upload id; POST the file first", "uploaded object not found", "upload_missing")
    if info.size != p.size:
        raise _problem("upload", f"the object has {info.size} bytes, {p.size} were declared", "uploaded object has the wrong size", "upload_size_mismatch")
    if info.size > max_bytes(field):
        raise _problem("upload", f"the object is larger than {max_bytes(field)} bytes", "uploaded object too large", "upload_too_large")
    _refuse_active(field, p.content_type, "upload")
    if info.content_type != p.content_type or (field.accept and info.content_type not in field.accept):
        raise _problem("upload", f"the object's content type is {info.content_type or 'missing'}, {p.content_type} was declared",
                       "uploaded object has the wrong content type", "upload_type_mismatch")


def confirm(caller: Caller, form_name: str, record_id: str, upload_id: str, body: Any) -> UploadConfirmed | UploadConfirmedRef:
    """Verify the uploaded object and attach it to the record field (append for `multiple`).
    Idempotent: confirming an attached upload again writes nothing and returns the record."""
    from .records import render_for
    if not isinstance(body, dict) or set(body) - {"version"}:
        raise _problem("", "body must be an object {version}", "body must be {version}")
    expected = body.get("version")
    if not isinstance(expected, int) or isinstance(expected, bool) or expected < 1:
        raise ValidationFailed("the record version you attach to is required", code="version_required",
                               details=[{"path": "version", "message": "required positive integer"}])
    access, rec, form = _editable_record(caller, form_name, record_id)
    p = _pending(caller, form_name, record_id, upload_id)
    if p.status == "attached":
        return _replayed(access, rec, p)
    if rec.version != expected:
        details: dict = {"current_version": rec.version}
        if access.can("read"):
            details["current"] = render_for(access, rec)
        raise Conflict("record was changed by someone else", code="version_conflict", details=details)
    field = _attachment_field(form, p.field)
    _require_field_writable(caller, access, rec, field.name)
    _verify_object(p, field, caller)
    attachment: dict = {"key": p.key, "content_type": p.content_type, "size": p.size}
    if p.name:
        attachment["name"] = p.name
    if p.sha256:
        attachment["sha256"] = p.sha256
    current = rec.data.get(field.name)
    if getattr(field, "multiple", False):
        value = [a for a in (current or []) if isinstance(a, dict) and a.get("key") != p.key] + [attachment]
    else:
        value = attachment
    now = utc_now()
    from ..forms.engine import validate_record
    validated = validate_record(form, {field.name: value}, previous=rec.data, variables=caller.variables(now), record=rec,
                                server_written=(field.name,) if field.type == "signature" else ())
    stored = validated.data.get(field.name)
    if not any(isinstance(a, dict) and a.get("key") == p.key for a in (stored if isinstance(stored, list) else [stored])):
        raise _problem(f"data.{field.name}", "the field is not shown on this record now, so it keeps no value", "field is hidden")
    if field.type == "signature":
        # bound to the record (the key names it) and to the values it signs, as stored after this write
        digest = signed_digest(p.key, field.signs, validated.data)
        attachment.update(signed_fields=list(field.signs), signed_sha256=digest, signed_at=now, signed_by=caller.user_id,
                          signed_mac=signature_mac(p.key, digest, field.signs, now, caller.user_id))
        validated.data[field.name] = attachment
    new = store.StoredRecord(**{**rec.__dict__, "data": validated.data, "version": rec.version + 1,
                                "updated_at": now, "updated_by": caller.user_id})
    inst = None
    if rec.workflow:
        from ..workflow.engine import rearm_deadlines
        inst, wf = workflow.running(caller.tenant, rec)
        rearmed = rearm_deadlines(wf, inst, rec.data, validated.data, rec.created_at, now)
        if rearmed is not None:
            new.workflow = rearmed.to_dict()
    entry = workflow.history_entry("update", caller.user_id, changed=validated.changed_fields,
                                   comment=f"attached upload {upload_id}")
    plan = workflow.plan_for(caller.tenant, form, rec, new, entry)
    plan.extra.append(pending_store.attach_op(p, new.version))
    files.mark_attached(p.key)  # before the write: an attached object must never be expired as pending
    try:
        store.update_record(new, expected, plan)
    except Conflict:
        again = pending_store.get(caller.tenant, upload_id)
        if again is not None and again.status == "attached":  # a concurrent confirm of the same upload won
            return _replayed(access, store.get_record(caller.tenant, record_id, consistent=True) or rec, again)
        _retag_pending(p.key)
        raise
    except Exception:
        _retag_pending(p.key)
        raise
    return _result(access, new, attachment, replayed=False)


def _retag_pending(key: str) -> None:
    """Not attached after all: let the lifecycle rule expire it unless a later confirm attaches it."""
    try:
        files.mark_attached(key, "pending")
    except Exception:  # best effort: an object left tagged 'attached' only costs storage
        pass


def _replayed(access, rec, p: pending_store.PendingUpload) -> UploadConfirmed | UploadConfirmedRef:
    value = rec.data.get(p.field)
    found = next((a for a in (value if isinstance(value, list) else [value]) if isinstance(a, dict) and a.get("key") == p.key), None)
    return _result(access, rec, found, replayed=True)


def _result(access, rec, attachment: dict | None, *, replayed: bool) -> UploadConfirmed | UploadConfirmedRef:
    from .records import render_for
    body = render_for(access, rec) if access.row_visible(rec.data) else {"id": rec.id, "version": rec.version}
    return {**body, "attachment": attachment, "replayed": replayed}


def attachments_of(form, data: dict) -> list[tuple[str, dict]]:
    """(field path, attachment) for every attachment value in `data` (sub-table rows included)."""
    found: list[tuple[str, dict]] = []

    def collect(fields, values: dict, base: str) -> None:
        for f in fields:
            value = values.get(f.name)
            if value is None:
                continue
            if f.type in ATTACHMENT_TYPES:
                for a in value if isinstance(value, list) else [value]:
                    if isinstance(a, dict) and isinstance(a.get("key"), str):
                        found.append((f"{base}{f.name}", a))
            elif f.type == "subtable" and isinstance(value, list):
                for i, row in enumerate(value):
                    if isinstance(row, dict):
                        collect(f.fields, row, f"{base}{f.name}[{i}].")

    collect(form.fields, data, "")
    return found


def file_url(caller: Caller, form_name: str, record_id: str, key: str | None) -> FileLink:
    """A presigned GET for an attachment on this record that the caller may see; 404 for any other key."""
    from .records import access_for, load_visible
    _published, published_form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(published_form.permissions.read, f"reading {form_name} records")
    if not isinstance(key, str) or not key:
        raise ValidationFailed("query parameter key is required", details=[{"path": "query.key", "message": "required"}])
    access = access_for(caller, published_form)
    rec = load_visible(access, caller.tenant, form_name, record_id)
    form = definitions.version_of(caller.tenant, "form", form_name, rec.form_version)
    # Only objects uploaded for this record: a value written by hand with another key opens nothing.
    # Compared segment by segment (storage.keys): no '..', no look-alike record id, no other layout.
    match = next((a for _path, a in attachments_of(form, access.mask(rec.data)) if a["key"] == key), None)
    if match is None or not keys.is_attachment_key_of(key, caller.tenant, form_name, record_id):
        raise NotFound("no such file on this record")
    # served as the attachment's content type allows: raster images inline, the rest as downloads
    url, seconds = files.presigned_get(key, match.get("name"), match.get("content_type"))
    return {"url": url, "expires_in": seconds, "key": key, "content_type": match.get("content_type"),
            "size": match.get("size"), "name": match.get("name")}


__all__ = ["presign", "confirm", "file_url", "attachments_of"]
