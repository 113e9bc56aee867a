"""Table creation brings an existing (older) local table's indexes up to date."""
import uuid

import pytest

from chalicelib.config import reset_settings
from chalicelib.storage import create_tables
from chalicelib.storage.models import RecordItem


@pytest.mark.ddblocal
def test_missing_indexes_are_added_to_an_existing_table(ddblocal_backend, monkeypatch):
    # a records table as an early version of the code made it: keys only, no GSIs
    name = f"old-{uuid.uuid4().hex[:8]}"
    client = RecordItem._get_connection().connection.client
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    monkeypatch.setenv("RECORDS_TABLE", name)
    reset_settings()
    create_tables()
    table = client.describe_table(TableName=name)["Table"]
    assert {g["IndexName"] for g in table["GlobalSecondaryIndexes"]} == {"by_form", "by_ix1", "by_ix2", "by_ix3", "by_ix4", "by_owner"}
    assert all(g["IndexStatus"] == "ACTIVE" for g in table["GlobalSecondaryIndexes"])
