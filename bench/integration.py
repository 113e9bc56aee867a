"""Benchmark part: integration on DynamoDB Local — DynamoDB requests and capacity per inbound
message (new record, duplicate, upsert that changes a field, upsert that changes nothing), per
outbound event fanned out to a webhook, and bulk import throughput (rows/s) for 10,000 rows: inline
(the content in the request body) and through an S3 upload (~1 KB rows, ~10 MB file; S3 is moto's
server in a thread), with the time the POST spends reading, validating and storing the rows apart.

Run: python -m bench.integration [--n 50] [--rows 10000] [--workers 8] [--no-upload]"""
from __future__ import annotations

import argparse
import json
import os
import time

ADMIN_FORM = {"name": "bench_part", "title": "Bench part", "fields": [
    {"name": "code", "type": "text", "required": True, "unique": True},
    {"name": "name", "type": "text", "required": True},
    {"name": "price", "type": "money"}],
    "permissions": {"create": ["clerk"], "read": ["clerk"], "update": ["clerk"], "delete": ["clerk"], "import": ["clerk"]}}
UPLOAD_FORM = {"name": "bench_equipment", "title": "Bench equipment", "fields": [
    {"name": "serial", "type": "text", "required": True, "unique": True},
    {"name": "model", "type": "text", "required": True},
    {"name": "price", "type": "money"},
    {"name": "notes", "type": "textarea", "max_length": 4000}],
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


def run_upload(rows: int, workers: int) -> dict:
    """The same import through S3: presign, put the object, POST {upload_id} with no time to write
    (= what the POST spends before writing: S3 read, decode, parse, validate, rows stored in chunk
    items), then the job runs to the end as the schedule would run it."""
    from moto.server import ThreadedMotoServer

    from chalicelib.config import reset_settings
    from chalicelib.services import bulk, definitions
    from chalicelib.services.caller import Caller
    from chalicelib.storage import files, imports
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        os.environ["S3_ENDPOINT"] = f"http://{host}:{port}"
        reset_settings()
        files.reset_client()
        files.create_bucket()
        admin = Caller("demo", "admin", frozenset({"admin"}))
        definitions.upload(admin, "form", "bench_equipment", UPLOAD_FORM, publish=True)
        clerk = Caller("demo", "clerk", frozenset({"clerk"}))
        note = "Annual maintenance; compressor replaced 2025; 冷媒 R-410A. " * 16
        content = ("serial,model,price,notes\n" + "".join(
            f"SN{i:07d},Chiller X{i % 40},{i % 900}.50,\"{note}\"\n" for i in range(rows))).encode()
        post = bulk.presign_upload(clerk, "bench_equipment", {"format": "csv"})
        files.client().put_object(Bucket=files.bucket(), Key=post["key"], Body=content, ContentType="text/csv")
        bulk.WORKERS = workers
        started = time.perf_counter()
        job, _ = bulk.start_import(clerk, "bench_equipment", {"upload_id": post["upload_id"], "job_id": "bench-upload-0001"},
                                   budget=0)
        prepared = time.perf_counter() - started
        assert job["status"] == "running" and job["valid"] == rows, job
        chunk_items = len(imports.get_job("demo", "bench-upload-0001").chunks)
        done = bulk.run_import("demo", "bench-upload-0001", budget=3600).view()
        elapsed = time.perf_counter() - started
        assert done["status"] == "completed" and done["created"] == rows, done
        return {"rows": rows, "workers": workers, "file_bytes": len(content), "chunk_items": chunk_items,
                "post_seconds_before_writing": round(prepared, 1), "seconds": round(elapsed, 1),
                "rows_per_second": round(rows / elapsed, 1),
                "write_rows_per_second": round(rows / (elapsed - prepared), 1)}
    finally:
        os.environ.pop("S3_ENDPOINT", None)
        reset_settings()
        files.reset_client()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--no-upload", action="store_true", help="skip the import through an S3 upload")
    args = parser.parse_args()
    from bench.run import demo_stack, results_table
    with demo_stack():
        from bench.meter import metered
        from chalicelib.storage import configure_models
        configure_models()
        with metered() as meter:
            table, throughput = run(meter, args.n, args.rows, args.workers)
        upload = None if args.no_upload else run_upload(args.rows, args.workers)
    results_table(table)
    print(json.dumps({"import": throughput, **({"import_upload": upload} if upload else {})}, indent=1))


if __name__ == "__main__":
    main()
