"""Definition versions and heads in DynamoDB. Versions are immutable; the head points at the
newest and the published version. A new version and its head move together in one transaction."""
from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ..errors import Conflict, NotFound
from .keys import definition_sk, head_sk, tenant_pk
from .models import DefinitionItem


@dataclass(frozen=True)
class Head:
    kind: str
    name: str
    latest: int
    published: int | None
    updated_at: str | None


@dataclass(frozen=True)
class Version:
    kind: str
    name: str
    version: int
    body: str
    checksum: str
    created_at: str
    created_by: str


def _head(item: DefinitionItem) -> Head:
    return Head(item.kind, item.name, int(item.latest or 0), int(item.published) if item.published else None, item.updated_at)


def _version(item: DefinitionItem) -> Version:
    return Version(item.kind, item.name, int(item.version), item.body, item.checksum or "", item.created_at or "", item.created_by or "")


def get_published(tenant: str, kind: str, name: str) -> tuple[Head, str | None] | None:
    """The head with a copy of the published version's body: one read for a cold cache."""
    try:
        item = DefinitionItem.get(tenant_pk(tenant), head_sk(kind, name))
    except DoesNotExist:
        return None
    return _head(item), item.body


def get_head(tenant: str, kind: str, name: str, *, consistent: bool = False) -> Head | None:
    try:
        item = DefinitionItem.get(tenant_pk(tenant), head_sk(kind, name), consistent_read=consistent,
                                  attributes_to_get=["kind", "name", "latest", "published", "updated_at"])
    except DoesNotExist:
        return None
    return _head(item)


def get_version(tenant: str, kind: str, name: str, version: int) -> Version | None:
    try:
        return _version(DefinitionItem.get(tenant_pk(tenant), definition_sk(kind, name, version)))
    except DoesNotExist:
        return None


def list_heads(tenant: str, kind: str | None = None) -> list[Head]:
    prefix = f"head#{kind}#" if kind else "head#"
    return [_head(i) for i in DefinitionItem.query(tenant_pk(tenant), DefinitionItem.sk.startswith(prefix))]


def list_versions(tenant: str, kind: str, name: str) -> list[Version]:
    items = DefinitionItem.query(tenant_pk(tenant), DefinitionItem.sk.startswith(f"def#{kind}#{name}#v"),
                                 attributes_to_get=["kind", "name", "version", "checksum", "created_at", "created_by"],
                                 scan_index_forward=False)
    return [Version(i.kind, i.name, int(i.version), "", i.checksum or "", i.created_at or "", i.created_by or "") for i in items]


def add_version(tenant: str, kind: str, name: str, body: str, checksum: str, user: str, now: str,
                expected_latest: int, publish: bool, *, action: str = "upload") -> int:
    """Store version expected_latest+1; Conflict if someone else added a version meanwhile. `action`
    names how it came (upload, patch) in the audit entry."""
    version = expected_latest + 1
    pk = tenant_pk(tenant)
    item = DefinitionItem(pk, definition_sk(kind, name, version), kind=kind, name=name, version=version, body=body,
                          checksum=checksum, created_at=now, created_by=user)
    head = DefinitionItem(pk, head_sk(kind, name), kind=kind, name=name, latest=version, updated_at=now)
    try:
        with TransactWrite(connection=DefinitionItem._get_connection().connection) as tx:
            tx.save(item, condition=DefinitionItem.pk.does_not_exist())
            actions = [DefinitionItem.latest.set(version), DefinitionItem.updated_at.set(now),
                       DefinitionItem.kind.set(kind), DefinitionItem.name.set(name)]
            if publish:
                actions += [DefinitionItem.published.set(version), DefinitionItem.body.set(body)]
            condition = (DefinitionItem.latest == expected_latest) if expected_latest else DefinitionItem.pk.does_not_exist()
            tx.update(head, actions, condition=condition)
            tx.save(audit_item(tenant, now, user, action + ("+publish" if publish else ""), kind, name, version))
    except TransactWriteError as exc:
        raise Conflict(f"{kind} '{name}' changed meanwhile; retry", code="version_conflict") from exc
    return version


def audit_item(tenant: str, at: str, user: str, action: str, kind: str, name: str, version: int | None) -> DefinitionItem:
    """An audit entry of a definition or permission change, in the tenant's definitions partition
    (sk 'audit#<ns clock>#<random>': sorts by time, never collides)."""
    import os
    import time
    return DefinitionItem(tenant_pk(tenant), f"audit#{time.time_ns():020d}#{os.urandom(3).hex()}", kind=kind, name=name,
                          version=version, created_at=at, created_by=user, checksum=action)


def list_audit(tenant: str, limit: int) -> list[dict]:
    items = DefinitionItem.query(tenant_pk(tenant), DefinitionItem.sk.startswith("audit#"), scan_index_forward=False,
                                 limit=limit)
    return [{"at": i.created_at, "user": i.created_by, "action": i.checksum, "kind": i.kind, "name": i.name,
             "version": int(i.version) if i.version is not None else None} for i in items]


def publish(tenant: str, kind: str, name: str, version: int, now: str, user: str = "") -> None:
    stored = get_version(tenant, kind, name, version)
    if stored is None:
        raise NotFound(f"{kind} '{name}' has no version {version}")
    head = DefinitionItem(tenant_pk(tenant), head_sk(kind, name))
    try:
        with TransactWrite(connection=DefinitionItem._get_connection().connection) as tx:
            # versions are immutable, so copying the body onto the head cannot go stale
            tx.update(head, [DefinitionItem.published.set(version), DefinitionItem.body.set(stored.body),
                             DefinitionItem.updated_at.set(now)],
                      condition=DefinitionItem.pk.exists() & (DefinitionItem.latest >= version))
            tx.save(audit_item(tenant, now, user, "publish", kind, name, version))
    except TransactWriteError as exc:
        raise NotFound(f"{kind} '{name}' has no version {version}") from exc


def published_mentioning(tenant: str, text: str) -> list[tuple[str, str, int, str]]:
    """(kind, name, published version, body) of every published definition whose body contains
    `text` (e.g. '"work_order"': the definitions that may name it). One Query of the tenant's heads
    (each carries its published body), filtered server-side; used by upload-time dependency checks."""
    items = DefinitionItem.query(tenant_pk(tenant), DefinitionItem.sk.startswith("head#"),
                                 filter_condition=DefinitionItem.body.contains(text))
    return [(i.kind, i.name, int(i.published), i.body) for i in items if i.published and i.body]
