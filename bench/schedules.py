"""Schedules on DynamoDB Local: one occurrence for 1,000 source records (one record each), and 100
missed daily occurrences caught up, each made by TWO runs at once (threads, as two overlapping
scheduled Lambdas would), then once more by a late retry. Prints records made, duplicates (target 0),
DynamoDB requests by operation, RCU and WCU as DynamoDB Local reports them, and wall time.

    .venv/bin/python -m bench.schedules [--sources 1000] [--days 100]
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import _env  # noqa: E402

EQUIPMENT = {"title": "Equipment", "fields": [{"name": "code", "type": "text", "required": True},
                                             {"name": "status", "type": "select", "options": [{"value": "in_service"}, {"value": "retired"}],
                                              "default": "in_service"}],
             "indexes": ["status"], "storage": {"shards": 4},
             "permissions": {"create": ["admin"], "read": ["admin"], "update": ["admin"], "delete": ["admin"]}}
VISIT = {"title": "Visit", "fields": [{"name": "equipment", "type": "lookup", "form": "equipment"},
                                     {"name": "title", "type": "text", "required": True},
                                     {"name": "due_date", "type": "date", "required": True}],
         "storage": {"shards": 4},
         "permissions": {"create": ["admin"], "read": ["admin"], "update": ["admin"], "delete": ["admin"]}}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _two_runs(tenant: str, name: str, now: str) -> dict:
    from chalicelib.services.schedules import run_one
    results: list[dict] = []
    barrier = threading.Barrier(2)

    def one() -> None:
        barrier.wait()
        results.append(run_one(tenant, name, now, time.monotonic() + 600))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = Counter()
    for r in results:
        total.update(r)
    return dict(total)


def _visits(tenant: str) -> list[dict]:
    from chalicelib.services import records
    from chalicelib.services.caller import Caller
    admin = Caller(tenant=tenant, user_id="admin", roles=frozenset({"admin"}))
    out, cursor = [], None
    while True:
        page = records.list_records(admin, "visit", {"limit": "100", **({"cursor": cursor} if cursor else {})}, titles=False)
        out += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return out


def _case(label: str, tenant: str, name: str, now: str, expected: int, key) -> None:
    from bench.meter import metered
    with metered() as meter:
        started = time.perf_counter()
        counts = _two_runs(tenant, name, now)
        wall = time.perf_counter() - started
    made = _visits(tenant)
    keys = Counter(key(v) for v in made)
    duplicates = sum(n - 1 for n in keys.values() if n > 1)
    print(f"{label}: two runs at once")
    print(f"  records {len(made)} (expected {expected}), duplicates {duplicates}; runs reported made {counts.get('made', 0)}, "
          f"already made {counts.get('existed', 0)}, missed {counts.get('missed', 0)}, failed {counts.get('failed', 0)}")
    requests = sum(meter.requests.values())
    print(f"  {requests} requests {dict(sorted(meter.requests.items()))}")
    print(f"  {meter.read_units:.1f} RCU, {meter.write_units:.1f} WCU; per record made {requests / max(len(made), 1):.2f} requests, "
          f"{meter.write_units / max(len(made), 1):.1f} WCU; {wall:.1f} s wall")
    with metered() as meter:
        late = _two_runs(tenant, name, now)
    print(f"  a late retry of both: made {late.get('made', 0)}, {sum(meter.requests.values())} requests "
          f"{dict(sorted(meter.requests.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--days", type=int, default=100)
    args = parser.parse_args()
    from tools.ddb_local import DynamoDBLocal
    with DynamoDBLocal() as ddb:
        _env(ddb.endpoint)
        from chalicelib.services import definitions, records
        from chalicelib.services.caller import Caller
        from chalicelib.storage import create_tables
        create_tables()
        start = (datetime.now(timezone.utc) + timedelta(days=2)).date()
        for tenant in ("per_record", "catch_up"):
            admin = Caller(tenant=tenant, user_id="admin", roles=frozenset({"admin"}))
            definitions.upload(admin, "form", "equipment", EQUIPMENT, publish=True)
            definitions.upload(admin, "form", "visit", VISIT, publish=True)
        admin = Caller(tenant="per_record", user_id="admin", roles=frozenset({"admin"}))
        began = time.perf_counter()
        for i in range(args.sources):
            records.create(admin, "equipment", {"data": {"code": f"E{i:05d}"}}, None)
        print(f"({args.sources} equipment records stored in {time.perf_counter() - began:.0f} s)")
        definitions.upload(admin, "schedule", "monthly", {
            "form": "visit", "rrule": "FREQ=MONTHLY;BYMONTHDAY=1", "start": start.isoformat(), "at": "08:00",
            "for_each": {"form": "equipment", "filter": {"status": "in_service"}},
            "values": {"equipment": "$source.id", "title": "code", "due_date": "$occurrence"}}, publish=True)
        first = definitions.published("per_record", "schedule", "monthly")[1]
        from chalicelib.schedules.definition import make_at
        from chalicelib.schedules.plan import first_state, upcoming
        occurrence = upcoming(first, first_state(first, datetime.now(timezone.utc)), 1)[0]
        _case(f"one occurrence x {args.sources} source records", "per_record", "monthly", occurrence["make_at"],
              args.sources, key=lambda v: (v["data"]["equipment"], v["data"]["due_date"]))

        admin = Caller(tenant="catch_up", user_id="admin", roles=frozenset({"admin"}))
        definitions.upload(admin, "schedule", "daily", {
            "form": "visit", "rrule": "FREQ=DAILY", "start": start.isoformat(), "at": "08:00", "max_catch_up": 100,
            "values": {"title": "'daily'", "due_date": "$occurrence"}}, publish=True)
        daily = definitions.published("catch_up", "schedule", "daily")[1]
        from chalicelib.schedules.definition import local_of
        last = local_of(upcoming(daily, first_state(daily, datetime.now(timezone.utc)), 1)[0]["key"]) + timedelta(days=args.days - 1)
        _case(f"{args.days} missed daily occurrences caught up", "catch_up", "daily", _iso(make_at(daily, last)),
              args.days, key=lambda v: v["data"]["due_date"])


if __name__ == "__main__":
    main()
