"""Pending uploads (declared, presigned, not yet attached): one item per upload, next to nothing else
(pk 'T#<t>#UP#<upload id>'). Confirming flips it to 'attached' inside the record's transaction, so an
upload is attached at most once whatever the retries."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from ..config import get_settings
from . import keys
from .models import PendingUploadItem


@dataclass(frozen=True)
class PendingUpload:
    tenant: str
    upload_id: str
    form: str
    record_id: str
    field: str
    key: str
    content_type: str
    size: int
    created_by: str
    created_at: str
    name: str | None = None
    sha256: str | None = None
    status: str = "pending"
    attached_version: int | None = None


def _expiry(created_at: str) -> int:
    moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    return int(moment.timestamp()) + get_settings().upload_pending_seconds


def _item(p: PendingUpload, *, status: str, attached_version: int | None) -> PendingUploadItem:
    return PendingUploadItem(keys.upload_pk(p.tenant, p.upload_id), "UP", tenant=p.tenant, form=p.form,
                             record_id=p.record_id, field=p.field, key=p.key, content_type=p.content_type,
                             size=p.size, name=p.name, sha256=p.sha256, created_by=p.created_by,
                             created_at=p.created_at, status=status, attached_version=attached_version,
                             expires_at=_expiry(p.created_at))


def put_pending(p: PendingUpload) -> None:
    _item(p, status="pending", attached_version=None).save(condition=PendingUploadItem.pk.does_not_exist())


def get(tenant: str, upload_id: str) -> PendingUpload | None:
    try:
        item = PendingUploadItem.get(keys.upload_pk(tenant, upload_id), "UP", consistent_read=True)
    except DoesNotExist:
        return None
    return PendingUpload(tenant=item.tenant, upload_id=upload_id, form=item.form, record_id=item.record_id,
                         field=item.field, key=item.key, content_type=item.content_type, size=int(item.size),
                         created_by=item.created_by, created_at=item.created_at, name=item.name, sha256=item.sha256,
                         status=item.status,
                         attached_version=int(item.attached_version) if item.attached_version is not None else None)


def attach_op(p: PendingUpload, record_version: int) -> tuple:
    """A WritePlan.extra op: the upload becomes 'attached' only if it still is 'pending'."""
    return ("put", _item(p, status="attached", attached_version=record_version),
            PendingUploadItem.status == "pending", "upload")


__all__ = ["PendingUpload", "put_pending", "get", "attach_op"]
