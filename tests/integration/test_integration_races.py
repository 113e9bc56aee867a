"""Integration features under concurrency on DynamoDB Local (real conditional writes): two workers
running the same import job, and the same inbound message delivered by parallel Lambdas."""
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.services import bulk, definitions, inbound
from chalicelib.services.caller import Caller

ADMIN = Caller(tenant="demo", user_id="admin", roles=frozenset({"admin"}))
FORM = {"name": "part", "title": "Part", "fields": [
    {"name": "code", "type": "text", "required": True, "unique": True},
    {"name": "name", "type": "text", "required": True}],
    "permissions": {"create": ["clerk"], "read": ["clerk"], "update": ["clerk"], "delete": ["clerk"], "import": ["clerk"]}}
MAPPING = {"form": "part", "mode": "upsert", "key_field": "code", "external_id": "sku", "fields": {"name": "title"}}
CLERK = Caller(tenant="demo", user_id="clerk.wu", roles=frozenset({"clerk"}))


@pytest.fixture
def parts(ddblocal_backend):
    definitions.upload(ADMIN, "form", "part", FORM, publish=True)
    definitions.upload(ADMIN, "integration_mapping", "erp_part", MAPPING, publish=True)


def count_parts():
    from chalicelib.services import records
    out, cursor = [], None
    while True:
        page = records.list_records(CLERK, "part", {"limit": "100", **({"cursor": cursor} if cursor else {})})
        out += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return [p["data"]["code"] for p in out]


@pytest.mark.ddblocal
def test_two_workers_on_one_import_write_each_row_once(parts):
    content = "code,name\n" + "".join(f"P{i:04d},Part {i}\n" for i in range(300))
    job, _ = bulk.start_import(CLERK, "part", {"content": content, "job_id": "race-job-1"}, budget=0)
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda _: bulk.run_import("demo", "race-job-1", budget=60), range(3)))
    bulk.run_import("demo", "race-job-1", budget=60)
    final = bulk.get_import(CLERK, "part", "race-job-1")
    codes = count_parts()
    assert final["status"] == "completed" and len(codes) == 300 and len(set(codes)) == 300
    assert final["failed"] == 0 and final["created"] + final["replayed"] >= 300


@pytest.mark.ddblocal
def test_same_inbound_message_in_parallel_writes_once(parts):
    body = json.dumps({"tenant": "demo", "mapping": "erp_part", "data": {"sku": "S-1", "title": "Pump"}})
    messages = [{"messageId": f"m{i}", "body": body} for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda m: inbound.handle_batch([m]), messages))
    # a loser of the race is retried by SQS (batchItemFailures), never written twice
    retried = [m for r, m in zip(results, messages) if r["batchItemFailures"]]
    for message in retried:
        assert inbound.handle_batch([message]) == {"batchItemFailures": []}
    assert count_parts() == ["S-1"]
