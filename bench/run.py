"""Benchmark: API actions through the Chalice test client against DynamoDB Local.

Prints, per action: DynamoDB requests (by operation), consumed read/write capacity units as
reported by DynamoDB, and in-process latency p50/p95. Also the cold-import cost of the app next
to its dependencies alone. Usage: python -m bench.run [--n 200]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _env(endpoint: str) -> None:
    suffix = uuid.uuid4().hex[:6]
    os.environ.update({
        "AUTH_MODE": "local", "LOCAL_JWT_SECRET": "bench-" + "s" * 40, "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "DDB_ENDPOINT": endpoint,
        "DEFINITIONS_TABLE": f"bench-defs-{suffix}", "RECORDS_TABLE": f"bench-recs-{suffix}",
        "DEFINITION_CACHE_SECONDS": os.environ.get("DEFINITION_CACHE_SECONDS", "5"),
    })


@contextmanager
def demo_stack():
    """DynamoDB Local with fresh tables, and the shipped app + demo data installed in tenant `demo`."""
    from tools.ddb_local import DynamoDBLocal
    with DynamoDBLocal() as ddb:
        _env(ddb.endpoint)
        from chalicelib.seed import install_app, install_demo_data
        from chalicelib.storage import create_tables
        create_tables()
        install_app("demo")
        install_demo_data("demo")
        yield


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(name: str, n: int, action, meter) -> dict:
    timings = []
    meter.reset()
    for i in range(n):
        start = time.perf_counter()
        action(i)
        timings.append((time.perf_counter() - start) * 1000)
    return {"action": name, "n": n,
            "requests_per_call": {op: round(c / n, 2) for op, c in sorted(meter.requests.items())},
            "rcu_per_call": round(meter.read_units / n, 2), "wcu_per_call": round(meter.write_units / n, 2),
            "p50_ms": round(statistics.median(timings), 2), "p95_ms": round(_pct(timings, 0.95), 2)}


def import_cost() -> dict:
    """`import app` next to the bare libraries, min of 5 fresh processes each (bench.cold_start)."""
    from bench.cold_start import measure
    r = measure(5)
    return {"deps_only_ms": r["bare_imports_ms"], "app_with_boto3_ms": r["app_imports_ms"],
            "app_extra_ms": r["imports_extra_ms"], "deps_only_wall_ms": r["bare_wall_ms"],
            "app_wall_ms": r["app_wall_ms"], "app_extra_wall_ms": r["wall_extra_ms"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    with demo_stack():
        from chalice.test import Client

        from app import app
        from bench.meter import metered
        from chalicelib.auth import issue_local_token
        from chalicelib.services import definitions

        headers = {"Content-Type": "application/json",
                   "Authorization": "Bearer " + issue_local_token("demo", "agent.li", ["agent"])}
        supervisor = {**headers, "Authorization": "Bearer " + issue_local_token("demo", "sup.north", ["supervisor"])}
        results = []
        with Client(app) as client, metered() as meter:
            http = client.http

            def post(path, body, extra=None):
                r = http.post(path, headers={**headers, **(extra or {})}, body=json.dumps(body))
                assert r.status_code in (200, 201), r.body
                return json.loads(r.body)

            customer = post("/forms/customer/records", {"data": {"name": "ACME", "phone": "13800138000"}})
            order = {"customer": customer["id"], "fault_description": "noise", "service_address": "1 Road",
                     "region": "north", "assigned_engineer": "eng.zhang", "priority": "high"}
            created: list[dict] = []
            results.append(measure("create work order (warm definition cache)", args.n,
                                   lambda i: created.append(post("/forms/work_order/records", {"data": order})), meter))

            def cold_create(i):
                definitions.clear_caches()
                post("/forms/work_order/records", {"data": order})
            results.append(measure("create work order (definition cache cold)", max(10, args.n // 10), cold_create, meter))
            results.append(measure("create with Idempotency-Key (first)", args.n // 2,
                                   lambda i: post("/forms/work_order/records", {"data": order}, {"Idempotency-Key": f"bench-key-{i:06d}"}), meter))
            results.append(measure("create with Idempotency-Key (replay)", args.n // 2,
                                   lambda i: post("/forms/work_order/records", {"data": order}, {"Idempotency-Key": f"bench-key-{i:06d}"}), meter))
            versions = {c["id"]: 1 for c in created}

            def update(i):
                rid = created[i]["id"]
                r = http.patch(f"/forms/work_order/records/{rid}", headers=supervisor,
                               body=json.dumps({"version": versions[rid], "data": {"fault_description": f"noise {i}"}}))
                assert r.status_code == 200, r.body
                versions[rid] += 1
            results.append(measure("update record (partial, versioned)", args.n, update, meter))
            results.append(measure("get record", args.n,
                                   lambda i: http.get(f"/forms/work_order/records/{created[i]['id']}", headers=headers), meter))
            results.append(measure("list 25 (4 shards, no filter)", max(10, args.n // 4),
                                   lambda i: http.get("/forms/work_order/records?limit=25", headers=headers), meter))
            results.append(measure("list 25 filtered by region (indexed)", max(10, args.n // 4),
                                   lambda i: http.get("/forms/work_order/records?limit=25&filter.region=north", headers=headers), meter))
        from bench import workflow_lifecycle
        roles = {"agent.li": ["agent"], "sup.north": ["supervisor"], "eng.zhang": ["engineer"]}
        with Client(app) as client, metered() as meter:
            lifecycle = workflow_lifecycle.run(client.http, lambda who: issue_local_token("demo", who, roles[who]), meter,
                                               max(5, args.n // 20))
        from bench import fieldwork
        roles["eng.chen"] = ["engineer"]
        with Client(app) as client, metered() as meter:
            field = fieldwork.run(client.http, lambda who: issue_local_token("demo", who, roles[who]), meter,
                                  max(5, args.n // 20))
    results_table(results)
    print("\nfield work (check-in, parts, offline sync):")
    results_table(field)
    print("\nwork-order lifecycle (shipped workflow):")
    results_table(lifecycle["actions"])
    life = lifecycle["lifecycle"]
    print(f"\none lifecycle: {life['state_transitions']:g} state transitions, {life['write_units']} WCU + {life['read_units']} RCU "
          f"→ DynamoDB on-demand ${life['dynamodb_usd_per_million_orders']} per million orders; the same transitions on "
          f"Step Functions Standard: ${life['step_functions_usd_per_million_orders']} per million orders")
    imports = import_cost()
    print(f"\nimport cost (min of 5 fresh processes, -X importtime; bench.cold_start): deps alone "
          f"{imports['deps_only_ms']} ms, deps + app {imports['app_with_boto3_ms']} ms → app adds {imports['app_extra_ms']} ms "
          f"(whole process: {imports['deps_only_wall_ms']} → {imports['app_wall_ms']} ms, +{imports['app_extra_wall_ms']} ms)")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "records.json").write_text(json.dumps({"actions": results, "imports": imports, "workflow": lifecycle,
                                                 "fieldwork": field}, indent=2))


def results_table(results: list[dict]) -> None:
    print(f"{'action':44} {'DynamoDB requests per call':38} {'RCU':>6} {'WCU':>6} {'p50 ms':>8} {'p95 ms':>8}")
    for r in results:
        reqs = ", ".join(f"{op} {c:g}" for op, c in r["requests_per_call"].items()) or "-"
        print(f"{r['action']:44} {reqs:38} {r['rcu_per_call']:>6} {r['wcu_per_call']:>6} {r['p50_ms']:>8} {r['p95_ms']:>8}")


if __name__ == "__main__":
    main()
