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
