"""Table creation brings an existing (older) local table's indexes up to date."""
import uuid

import pytest

from chalicelib.config import reset_settings
from chalicelib.storage import create_tables
from chalicelib.storage.models import RecordItem


@pytest.mark.ddblocal
def test_missing_index_is_added_to_an_existing_table(ddblocal_backend, monkeypatch):
    # the records table as the code made it before the by_owner index existed
    schema = RecordItem._get_schema()
    old_indexes = [g for g in schema["global_secondary_indexes"] if g["index_name"] != "by_owner"]
    attributes = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"] if a["AttributeName"] != "opk"}
    name = f"old-{uuid.uuid4().hex[:8]}"
    client = RecordItem._get_connection().connection.client
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": v} for k, v in attributes.items()],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": g["index_name"], "Projection": g["projection"],
                                 "KeySchema": sorted(g["key_schema"], key=lambda k: k["KeyType"] != "HASH")} for g in old_indexes])
    monkeypatch.setenv("RECORDS_TABLE", name)
    reset_settings()
    create_tables()
    table = client.describe_table(TableName=name)["Table"]
    assert {g["IndexName"] for g in table["GlobalSecondaryIndexes"]} == {"by_form", "by_ix1", "by_ix2", "by_ix3", "by_ix4", "by_owner"}
