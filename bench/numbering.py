"""Benchmark part: auto-numbered creates under contention on DynamoDB Local, through the app.

N threads (a service desk's agents) each POST work orders (auto-numbered `WO-{YYYY}-{seq:6}`, with
their workflow start: history, task, timers, notifications) through the Chalice test client at the
same time, for 8 and 32 creators. Prints per concurrency: creates/s, failed creates (by status and
code), latency p50/p95, DynamoDB requests per create (counted at PynamoDB's exit to botocore), and
whether the numbers that were handed out are distinct (and gapless).

Run: python -m bench.numbering [--per-thread 25] [--threads 8,32]"""
from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

SITE = {"lat": 31.2304, "lng": 121.4737}


def _thread_local_request_state() -> None:
    """chalice keeps `current_request` / `lambda_context` on the app object; a Lambda container runs
    one request at a time, this bench runs many threads in one process: give each thread its own."""
    from chalice.app import Chalice
    if isinstance(Chalice.__dict__.get("current_request"), property):
        return
    local = threading.local()
    for name in ("current_request", "lambda_context"):
        setattr(Chalice, name, property(lambda self, n=name: getattr(local, n, None),
                                        lambda self, value, n=name: setattr(local, n, value)))


def _locked(meter) -> None:
    lock = threading.Lock()
    record = meter.record

    def locked(operation, response):
        with lock:
            record(operation, response)
    meter.record = locked


def run(http, token_for, meter, threads: int, per_thread: int) -> dict:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token_for('agent.li')}"}

    def post(path, body, key=None):
        extra = {"Idempotency-Key": key} if key else {}
        return http.post(path, headers={**headers, **extra}, body=json.dumps(body))

    # one customer per creator: orders of different customers (a shared one is a ConditionCheck on
    # one item in every transaction, which real DynamoDB may report as TransactionConflict)
    customers = []
    for i in range(threads):
        r = post("/forms/customer/records", {"data": {"name": f"Bench {threads}-{i}", "phone": "13800138000"}})
        assert r.status_code == 201, r.body
        customers.append(json.loads(r.body)["id"])
    timings: list[float] = []
    failures: Counter = Counter()
    numbers: list[str] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(threads)
    tag = f"{threads}x{per_thread}-{time.time_ns()}"

    def creator(t: int) -> None:
        start_gate.wait()
        for k in range(per_thread):
            body = {"data": {"customer": customers[t], "fault_description": "noise", "service_address": "1 Road",
                             "region": "north", "product_line": "hvac", "service_location": SITE}}
            began = time.perf_counter()
            r = post("/forms/work_order/records", body, key=f"bench-num-{tag}-{t}-{k}")
            ms = (time.perf_counter() - began) * 1000
            with lock:
                timings.append(ms)
                if r.status_code == 201:
                    numbers.append(json.loads(r.body)["number"])
                else:
                    code = (json.loads(r.body).get("error") or {}).get("code") if r.body else None
                    failures[f"{r.status_code} {code}"] += 1

    meter.reset()
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(creator, range(threads)))
    elapsed = time.perf_counter() - began
    total = threads * per_thread
    seqs = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    ordered = sorted(timings)
    return {"creators": threads, "creates": total, "ok": len(numbers), "failed": sum(failures.values()),
            "failures": dict(failures), "creates_per_s": round(len(numbers) / elapsed, 1),
            "p50_ms": round(statistics.median(ordered), 1), "p95_ms": round(ordered[max(0, int(0.95 * len(ordered)) - 1)], 1),
            "requests_per_create": {op: round(c / total, 2) for op, c in sorted(meter.requests.items())},
            "wcu_per_create": round(meter.write_units / total, 2),
            "distinct_numbers": len(set(numbers)) == len(numbers),
            "gaps": (seqs[-1] - seqs[0] + 1 - len(seqs)) if seqs else 0}


def table(rows: list[dict]) -> None:
    print(f"{'creators':>8} {'creates':>7} {'failed':>6} {'creates/s':>9} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'distinct':>8} {'gaps':>4}  DynamoDB requests per create")
    for r in rows:
        reqs = ", ".join(f"{op} {c:g}" for op, c in r["requests_per_create"].items())
        print(f"{r['creators']:>8} {r['creates']:>7} {r['failed']:>6} {r['creates_per_s']:>9} {r['p50_ms']:>7} "
              f"{r['p95_ms']:>7} {str(r['distinct_numbers']):>8} {r['gaps']:>4}  {reqs}")
        if r["failures"]:
            print(f"{'':>8} failures: {r['failures']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-thread", type=int, default=25)
    parser.add_argument("--threads", default="8,32")
    args = parser.parse_args()
    import os
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # no request log line per create
    from bench.run import demo_stack
    with demo_stack():
        from chalice.test import Client

        from app import app
        from bench.meter import metered
        from chalicelib.auth import issue_local_token
        _thread_local_request_state()
        rows = []
        with Client(app) as client, metered() as meter:
            _locked(meter)
            for threads in (int(t) for t in args.threads.split(",")):
                rows.append(run(client.http, lambda who: issue_local_token("demo", who, ["agent"]), meter,
                                threads, args.per_thread))
    table(rows)


if __name__ == "__main__":
    main()
