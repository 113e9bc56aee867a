"""Benchmark part: integration on DynamoDB Local — DynamoDB requests and capacity per inbound
message (new record, duplicate, upsert that changes a field, upsert that changes nothing), per
outbound event fanned out to a webhook, and bulk import throughput (rows/s) for 10,000 rows.

Run: python -m bench.integration [--n 50] [--rows 10000] [--workers 8]"""
from __future__ import annotations

import argparse
import json
import time

ADMIN_FORM = {"name": "bench_part", "title": "Bench part", "fields": [
    {"name": "code", "type": "text", "required": True, "unique": True},
    {"name": "name", "type": "text", "required": True},
    {"name": "price", "type": "money"}],
    "permissions": {"create": ["clerk"], "read": ["clerk"], "update": ["clerk"], "delete": ["clerk"], "import": ["clerk"]}}
MAPPING = {"form": "bench_part", "mode": "upsert", "key_field": "code", "external_id": "sku",
           "fields": {"name": "trim(title)", "price": "cents / 100"}}


def run(meter, n: int, rows: int, workers: int) -> tuple[list[dict], dict]:
    from bench.meter import Steps
    from chalicelib.services import bulk, definitions, events, inbound
    from chalicelib.services.caller import Caller
    admin = Caller("demo", "admin", frozenset({"admin"}))
    definitions.upload(admin, "form", "bench_part", ADMIN_FORM, publish=True)
    definitions.upload(admin, "integration_mapping", "erp_part", MAPPING, publish=True)
    steps = Steps(meter)

    def message(i, title="Pump", cents=1000):
        return [{"messageId": f"m{i}", "body": json.dumps({"tenant": "demo", "mapping": "erp_part",
                                                           "data": {"sku": f"S-{i}", "title": title, "cents": cents}})}]
    for i in range(n):
        steps.run("inbound: new record", lambda: inbound.handle_batch(message(i)))
    for i in range(n):
        steps.run("inbound: duplicate (same message again)", lambda: inbound.handle_batch(message(i)))
    for i in range(n):
        steps.run("inbound: upsert changing a field", lambda: inbound.handle_batch(message(i, cents=1200)))

    # outbound: one stream record per event, one webhook (transport stubbed: DynamoDB cost only)
    events.transport = lambda url, body, headers, timeout: (200, None)
    from chalicelib.services.webhooks import register
    register(admin, {"url": "https://hooks.example.com/x"})
    from chalicelib.storage.workflow import list_history
    from chalicelib.services import records
    clerk = Caller("demo", "clerk", frozenset({"clerk"}))
    ids = [records.create(clerk, "bench_part", {"data": {"code": f"O-{i}", "name": "x"}}, None)[0]["id"] for i in range(n)]
    for record_id in ids:
        [h] = list_history("demo", record_id)
        image = {"pk": {"S": f"T#demo#R#{record_id}"}, "sk": {"S": "H#0000000001"}, "tenant": {"S": "demo"},
                 "record_id": {"S": record_id}, "form": {"S": "bench_part"}, "at": {"S": h["at"]},
                 "entry": {"S": json.dumps({k: v for k, v in h.items() if k not in ("seq", "at")})}}
        steps.run("outbound: event → 1 webhook (log + delivery)",
                  lambda: events.handle_stream([{"eventName": "INSERT", "dynamodb": {"NewImage": image}}]))

    bulk.WORKERS = workers
    content = "code,name,price\n" + "".join(f"B{i:06d},Part {i},{i % 500}.25\n" for i in range(rows))
    started = time.perf_counter()
    job, _ = bulk.start_import(clerk, "bench_part", {"content": content, "job_id": "bench-import-0001"}, budget=3600)
    elapsed = time.perf_counter() - started
    assert job["status"] == "completed" and job["created"] == rows, job
    return steps.table(), {"rows": rows, "workers": workers, "seconds": round(elapsed, 1),
                           "rows_per_second": round(rows / elapsed, 1), "request_bytes": len(content)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    from bench.run import demo_stack, results_table
    with demo_stack():
        from bench.meter import metered
        from chalicelib.storage import configure_models
        configure_models()
        with metered() as meter:
            table, throughput = run(meter, args.n, args.rows, args.workers)
    results_table(table)
    print(json.dumps({"import": throughput}, indent=1))


if __name__ == "__main__":
    main()
