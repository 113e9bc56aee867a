"""Create the tables (local stack, tests) and bring an existing local table's indexes up to date.
Deployed stages get their tables from .chalice/resources-<stage>.json (CloudFormation). Like the
deployed records table, the local one has TTL on `expires_at` and a NEW_AND_OLD_IMAGES stream (the
local worker, tools/localworker.py, reads it the way the stream Lambdas do)."""
from __future__ import annotations

import logging
import time

from .models import DefinitionItem, RecordItem, configure_models

log = logging.getLogger("aftersales.storage")


def create_tables(wait: bool = True) -> None:
    configure_models()
    for model in (DefinitionItem, RecordItem):
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=wait)
        else:
            _add_missing_indexes(model, wait)
    _enable_ttl()
    _enable_stream()


def _client():
    return RecordItem._get_connection().connection.client


def _add_missing_indexes(model, wait: bool) -> None:
    """A local table made by an older version of the code lacks newer GSIs: add them (one per
    UpdateTable call, as DynamoDB requires). A changed projection needs the index dropped and made again."""
    schema = model._get_schema()
    wanted = {g["index_name"]: g for g in schema.get("global_secondary_indexes", [])}
    if not wanted:
        return
    client = _client()
    table = client.describe_table(TableName=model.Meta.table_name)["Table"]
    existing = {g["IndexName"]: g for g in table.get("GlobalSecondaryIndexes", [])}
    for name, index in wanted.items():
        current = existing.get(name)
        projection = index["projection"]
        if current is not None:
            if current["Projection"].get("ProjectionType") != projection["ProjectionType"]:
                log.info("index %s: projection changed, recreating", name)
                _update_when_free(client, TableName=model.Meta.table_name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": name}}])
                _wait_active(client, model.Meta.table_name, wait)
            else:
                continue
        attributes = {a["AttributeName"]: a["AttributeType"] for a in index["attribute_definitions"]}
        _update_when_free(client, TableName=model.Meta.table_name,
                          AttributeDefinitions=[{"AttributeName": k, "AttributeType": v} for k, v in attributes.items()],
                          GlobalSecondaryIndexUpdates=[{"Create": {
                              "IndexName": name, "Projection": projection,
                              "KeySchema": sorted(index["key_schema"], key=lambda k: k["KeyType"] != "HASH")}}])
        log.info("index %s added to %s", name, model.Meta.table_name)
        _wait_active(client, model.Meta.table_name, wait)


def _update_when_free(client, timeout: float = 60, **request) -> None:
    """DynamoDB builds one index at a time per table and may still be busy after reporting ACTIVE."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.update_table(**request)
            return
        except client.exceptions.LimitExceededException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _wait_active(client, table_name: str, wait: bool, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while wait and time.monotonic() < deadline:
        table = client.describe_table(TableName=table_name)["Table"]
        indexes = table.get("GlobalSecondaryIndexes", [])
        if table["TableStatus"] == "ACTIVE" and all(g.get("IndexStatus") == "ACTIVE" for g in indexes):
            return
        time.sleep(0.5)


def _enable_ttl() -> None:
    # Idempotency items expire by TTL; PynamoDB has no TTL switch, so use its botocore client.
    client = _client()
    try:
        status = client.describe_time_to_live(TableName=RecordItem.Meta.table_name)
        if status["TimeToLiveDescription"].get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return
        client.update_time_to_live(TableName=RecordItem.Meta.table_name,
                                   TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    except client.exceptions.ClientError:  # pragma: no cover - some emulators lack TTL
        pass


STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"  # as RecordsTable in .chalice/resources-<stage>.json


def _enable_stream() -> None:
    """The records table's stream, also on a local table made before it had one (PynamoDB's
    create_table takes no stream setting, so the botocore client switches it on)."""
    client = _client()
    table = client.describe_table(TableName=RecordItem.Meta.table_name)["Table"]
    spec = table.get("StreamSpecification") or {}
    if spec.get("StreamEnabled") and spec.get("StreamViewType") == STREAM_VIEW_TYPE:
        return
    if spec.get("StreamEnabled"):  # another view type: a table has one stream at a time
        _update_when_free(client, TableName=RecordItem.Meta.table_name, StreamSpecification={"StreamEnabled": False})
    _update_when_free(client, TableName=RecordItem.Meta.table_name,
                      StreamSpecification={"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE})
    log.info("stream (%s) enabled on %s", STREAM_VIEW_TYPE, RecordItem.Meta.table_name)
