"""Counts DynamoDB requests and consumed capacity of everything PynamoDB sends (bench only).

Wraps PynamoDB's single exit point to botocore and asks each call for ReturnConsumedCapacity=TOTAL,
so figures come from DynamoDB itself, not from estimates."""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

from pynamodb.connection.base import Connection

_CAPACITY_OPS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "TransactWriteItems",
                 "TransactGetItems", "BatchGetItem", "BatchWriteItem", "Scan"}


class Meter:
    def __init__(self) -> None:
        self.requests: Counter = Counter()
        self.read_units = 0.0
        self.write_units = 0.0

    def reset(self) -> None:
        self.requests.clear()
        self.read_units = self.write_units = 0.0

    def record(self, operation: str, response: dict) -> None:
        self.requests[operation] += 1
        consumed = response.get("ConsumedCapacity") if isinstance(response, dict) else None
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            self.read_units += float(entry.get("ReadCapacityUnits", 0) or 0)
            self.write_units += float(entry.get("WriteCapacityUnits", 0) or 0)
            if not entry.get("ReadCapacityUnits") and not entry.get("WriteCapacityUnits"):
                # DynamoDB Local reports only CapacityUnits: attribute it by operation kind
                units = float(entry.get("CapacityUnits", 0) or 0)
                if operation in ("GetItem", "Query", "TransactGetItems", "BatchGetItem", "Scan"):
                    self.read_units += units
                else:
                    self.write_units += units


@contextmanager
def metered():
    meter = Meter()
    original = Connection._make_api_call

    def counting(self, operation_name, operation_kwargs):
        if operation_name in _CAPACITY_OPS:
            operation_kwargs = {**operation_kwargs, "ReturnConsumedCapacity": "TOTAL"}
        try:
            response = original(self, operation_name, operation_kwargs)
        except Exception as exc:  # a cancelled transaction still costs a request (and capacity)
            meter.record(operation_name, getattr(getattr(exc, "cause", None), "response", None) or {})
            raise
        meter.record(operation_name, response)
        return response

    Connection._make_api_call = counting
    try:
        yield meter
    finally:
        Connection._make_api_call = original


class Steps:
    """Per named step: DynamoDB requests by operation, capacity and latency, averaged per call."""

    def __init__(self, meter: Meter) -> None:
        self.meter, self.rows = meter, {}

    def run(self, name: str, fn, per: int = 1):
        """Time and meter fn(); `per` = how many operations the call stands for (a batch)."""
        import time
        self.meter.reset()
        start = time.perf_counter()
        result = fn()
        row = self.rows.setdefault(name, {"requests": Counter(), "rcu": 0.0, "wcu": 0.0, "ms": [], "n": 0})
        row["ms"].append((time.perf_counter() - start) * 1000 / per)
        row["requests"].update(self.meter.requests)
        row["rcu"] += self.meter.read_units
        row["wcu"] += self.meter.write_units
        row["n"] += per
        return result

    def table(self) -> list[dict]:
        import statistics
        out = []
        for name, row in self.rows.items():
            n, ms = row["n"], sorted(row["ms"])
            out.append({"action": name, "n": n,
                        "requests_per_call": {op: round(c / n, 2) for op, c in sorted(row["requests"].items())},
                        "rcu_per_call": round(row["rcu"] / n, 2), "wcu_per_call": round(row["wcu"] / n, 2),
                        "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(ms[max(0, int(0.95 * len(ms)) - 1)], 2)})
        return out


def api_caller(http, token_for):
    """call(method, path, user, body) → parsed JSON; asserts a 2xx so a bench never measures errors."""
    import json

    def call(method, path, who, body=None):
        response = getattr(http, method)(path, headers={"Content-Type": "application/json",
                                                         "Authorization": f"Bearer {token_for(who)}"},
                                         body=json.dumps(body) if body is not None else None)
        assert response.status_code in (200, 201), (path, response.body)
        return json.loads(response.body)
    return call
