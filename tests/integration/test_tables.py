"""Table creation brings an existing (older) local table's indexes up to date."""
import time

import pytest

from chalicelib.storage import create_tables
from chalicelib.storage.models import RecordItem


@pytest.mark.ddblocal
def test_missing_index_is_added_to_an_existing_table(ddblocal_backend):
    client = RecordItem._get_connection().connection.client
    table = RecordItem.Meta.table_name
    client.update_table(TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_owner"}}])
    names = lambda: {g["IndexName"] for g in client.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])}
    for _ in range(100):  # deletion is asynchronous
        if "by_owner" not in names():
            break
        time.sleep(0.1)
    assert "by_owner" not in names()
    create_tables()
    assert "by_owner" in names()
