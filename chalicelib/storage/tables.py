"""Create the tables (local stack, tests). Deployed stages get them from .chalice/resources.json."""
from __future__ import annotations

from .models import DefinitionItem, RecordItem, configure_models


def create_tables(wait: bool = True) -> None:
    configure_models()
    for model in (DefinitionItem, RecordItem):
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=wait)
    _enable_ttl()


def _enable_ttl() -> None:
    # Idempotency items expire by TTL; PynamoDB has no TTL switch, so use its botocore client.
    client = RecordItem._get_connection().connection.client
    try:
        status = client.describe_time_to_live(TableName=RecordItem.Meta.table_name)
        if status["TimeToLiveDescription"].get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return
        client.update_time_to_live(TableName=RecordItem.Meta.table_name,
                                   TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    except client.exceptions.ClientError:  # pragma: no cover - some emulators lack TTL
        pass
