"""In-memory report backfill: CPU of the report engine over N generated work orders, beside a
hand-written single pass that computes the same group aggregates for the same reports.

    .venv/bin/python -m bench.report_backfill [--orders 100000] [--runs 3] [--reports a b c] [--budget]

The orders are the ones bench.reports loads (regions, priorities, states, engineers, parts lines, dates
over two years), stored and read back the way the records table does (chalicelib.jsonutil: numbers come
back as int or Decimal), as the view the backfill hands the engine. Timed with time.process_time,
median of --runs:
- `engine`: per order and report, contribution(report, view) merged into the report's totals (what a
  backfill computes: every record's own contribution, which it stores, and the sum of them);
- `hand-written`: one loop over the orders updating the three default reports' totals directly;
- `--budget` adds the engine inside a fresh expression budget per record (as services.reports does).
The totals of the engine and the hand-written pass are compared (same groups, components and Decimal
text) and must be equal. DuckDB is not a dependency; the figure of record is the hand-written pass.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATES = [("Review", 6), ("AwaitAcceptance", 4), ("Travelling", 3), ("OnSite", 5), ("CustomerFeedback", 6),
          ("Closed", 70), ("Cancelled", 6)]
PRIORITIES = [("urgent", 10), ("high", 20), ("normal", 55), ("low", 15)]
REGIONS = ["north", "south", "east", "west"]
DEFAULT_REPORTS = ("orders_by_region_status", "engineer_productivity", "part_consumption")
REPORTS_DIR = ROOT / "definitions" / "after_sales" / "reports"


def _pick(rng, weighted):
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _iso(t: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def order_data(rng, n: int, engineers, parts, customers) -> tuple[dict, dict, str]:
    """(data, workflow, created_at) of one work order (bench.reports stores the same draws)."""
    reported = 1735689600 + rng.randrange(0, 700 * 86400)
    state = _pick(rng, STATES)
    priority = _pick(rng, PRIORITIES)
    data = {"order_no": f"WO-B-{n:07d}", "customer": rng.choice(customers), "fault_description": "Compressor trips",
            "service_address": "88 Century Avenue", "region": rng.choice(REGIONS), "priority": priority,
            "product_line": rng.choice(["hvac", "elevator", "medical", "appliance"]), "reported_at": _iso(reported),
            "channel": "phone", "warranty_status": "in_warranty"}
    if state not in ("Review", "Cancelled"):
        data["assigned_engineer"] = rng.choice(engineers)
    if state in ("CustomerFeedback", "Closed"):
        hours = {"urgent": 5, "high": 20, "normal": 60, "low": 150}[priority] * rng.uniform(0.3, 1.6)
        data["completed_at"] = _iso(int(reported + hours * 3600))
        data["first_checkin_at"] = _iso(int(reported + hours * 1800))
        data["first_time_fix"] = rng.random() < 0.78
        lines = [{"line_id": f"l{i}", "part": rng.choice(parts), "quantity": Decimal(rng.randint(1, 4)),
                  "unit_price": Decimal("25.5"), "line_total": Decimal("25.5") * rng.randint(1, 4)}
                 for i in range(rng.randint(0, 3))]
        if lines:
            data["parts_used"] = lines
            data["parts_total"] = sum(line["line_total"] for line in lines)
        if state == "Closed" and rng.random() < 0.7:
            data["satisfaction_rating"] = rng.choices([1, 2, 3, 4, 5], [3, 4, 10, 35, 48])[0]
    workflow = {"workflow": "work_order", "version": 1, "state": state, "entered_at": data["reported_at"],
                "status": "succeeded" if state == "Closed" else "running", "tasks": [], "timers": []}
    return data, workflow, data["reported_at"]


def orders(n: int, seed: int = 1) -> list[dict]:
    """n record views {data, deleted, workflow, created_at, updated_at, id, number}, read back as stored."""
    from chalicelib import jsonutil
    rng = random.Random(seed)
    engineers = [f"eng.{i:03d}" for i in range(40)]
    parts = [f"part-{i:03d}" for i in range(60)]
    customers = [f"cust-{i:04d}" for i in range(500)]
    out = []
    for i in range(n):
        data, workflow, created = order_data(rng, i, engineers, parts, customers)
        out.append({"data": jsonutil.loads(jsonutil.dumps(data)), "deleted": False,
                    "workflow": jsonutil.loads(jsonutil.dumps(workflow)), "created_at": created, "updated_at": created,
                    "id": f"r{i:07d}", "number": data["order_no"]})
    return out


def shipped_reports(names) -> dict:
    from chalicelib.reports import parse_report
    return {name: parse_report(json.loads((REPORTS_DIR / f"{name}.json").read_text())) for name in names}


def engine_pass(reports: dict, views: list[dict], budget: bool = False) -> dict:
    from chalicelib.reports.contribution import contribution, merge_into
    totals = {name: {} for name in reports}
    pairs = [(totals[name], report) for name, report in reports.items()]
    if budget:
        from chalicelib.expressions.budget import expression_budget
        for view in views:
            for total, report in pairs:
                with expression_budget(fresh=True):
                    merge_into(total, contribution(report, view))
        return totals
    for view in views:
        for total, report in pairs:
            merge_into(total, contribution(report, view))
    return totals


# --- the hand-written pass: the three default reports, written out as plain Python ----------------------

ONE = Decimal(1)
HOUR = Decimal(3600)


def _key(values) -> str:
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


def _instant(text):
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _inc(parts: dict, name: str, amount: Decimal) -> None:
    parts[name] = parts.get(name, 0) + amount


def hand_written_pass(views: list[dict]) -> dict:
    """orders_by_region_status, engineer_productivity and part_consumption in one loop over the orders."""
    zone = ZoneInfo("Asia/Shanghai")
    by_region: dict = {}
    engineers: dict = {}
    parts_used: dict = {}
    keys: dict = {}  # group key text per value tuple (as any hand-written pass would keep it)
    for view in views:
        data = view["data"]
        region = data.get("region")
        state = (view.get("workflow") or {}).get("state")
        # orders_by_region_status: count, count where priority == 'urgent'
        values = (region, state)
        key = keys.get(values) or keys.setdefault(values, _key(list(values)))
        group = by_region.get(key)
        if group is None:
            group = by_region[key] = {"c": Decimal(0), "n0": Decimal(0)}
        group["c"] += ONE
        group["n0"] += ONE
        if data.get("priority") == "urgent":
            _inc(group, "n1", ONE)
        completed = data.get("completed_at")
        if completed in (None, ""):
            continue  # neither the productivity filter nor parts (parts are used on completed orders only)
        reported = data.get("reported_at") or view.get("created_at")
        # engineer_productivity: filter completed and assigned; count, duration (h), avg rating, count ftf
        engineer = data.get("assigned_engineer")
        if engineer not in (None, ""):
            values = (engineer, region)
            key = keys.get(values) or keys.setdefault(values, _key(list(values)))
            group = engineers.get(key)
            if group is None:
                group = engineers[key] = {"c": Decimal(0), "n0": Decimal(0)}
            group["c"] += ONE
            group["n0"] += ONE
            start, end = _instant(reported), _instant(completed)
            if start is not None and end is not None:
                _inc(group, "s1", Decimal(str((end - start).total_seconds())) / HOUR)
                _inc(group, "n1", ONE)
            rating = data.get("satisfaction_rating")
            if rating is not None and not isinstance(rating, bool):
                _inc(group, "s2", Decimal(str(rating)))
                _inc(group, "n2", ONE)
            if data.get("first_time_fix"):
                _inc(group, "n3", ONE)
        # part_consumption: one row per parts line, part × month of coalesce(first_checkin_at, reported_at)
        lines = data.get("parts_used")
        if lines:
            local = _instant(data.get("first_checkin_at") or reported).astimezone(zone)
            month = f"{local.year:04d}-{local.month:02d}"
            mine: dict = {}
            for line in lines:
                values = (line.get("part"), month, region)
                key = keys.get(values) or keys.setdefault(values, _key(list(values)))
                group = mine.get(key)
                if group is None:
                    group = mine[key] = {"c": Decimal(0)}
                group["c"] += ONE
                for i, name in ((0, "quantity"), (1, "line_total")):
                    value = line.get(name)
                    if value is not None and not isinstance(value, bool):
                        _inc(group, f"s{i}", Decimal(str(value)))
                        _inc(group, f"n{i}", ONE)
                _inc(group, "n2", ONE)
            for key, group in mine.items():
                total = parts_used.setdefault(key, {})
                for name, amount in group.items():
                    total[name] = total.get(name, 0) + amount
    return {"orders_by_region_status": by_region, "engineer_productivity": engineers, "part_consumption": parts_used}


def _text(totals: dict) -> dict:
    """Totals with every Decimal as its text (so 1 and 1.0 differ) and zero components dropped."""
    return {name: {k: {c: str(v) for c, v in parts.items() if v != 0} for k, parts in groups.items()}
            for name, groups in totals.items()}


def _cpu(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reports", nargs="+", default=list(DEFAULT_REPORTS), help="shipped report names")
    parser.add_argument("--budget", action="store_true", help="also time the engine inside a budget per record")
    args = parser.parse_args()
    views = orders(args.orders)
    reports = shipped_reports(args.reports)
    out: dict = {"orders": args.orders, "reports": list(reports), "runs": args.runs}
    engine_s, engine_totals = _cpu(lambda: engine_pass(reports, views), args.runs)
    out["engine_cpu_s"] = round(engine_s, 3)
    if args.budget:
        out["engine_with_budget_cpu_s"] = round(_cpu(lambda: engine_pass(reports, views, True), args.runs)[0], 3)
    out["groups"] = {name: len(groups) for name, groups in engine_totals.items()}
    if set(reports) == set(DEFAULT_REPORTS):
        hand_s, hand_totals = _cpu(lambda: hand_written_pass(views), args.runs)
        out["hand_written_cpu_s"] = round(hand_s, 3)
        out["engine_vs_hand_written"] = round(engine_s / hand_s, 2)
        out["same_totals"] = _text(engine_totals) == _text(hand_totals)
    try:
        import duckdb  # noqa: F401  (a peer for the benchmark only; never a requirement)
        out["duckdb"] = "installed, not compared here"
    except ImportError:
        out["duckdb"] = "not installed"
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
