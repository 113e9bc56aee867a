"""Injected DynamoDB faults: throttling and transaction conflicts are retried with backoff and
leave exactly one write; a fault that outlasts the retries is a clean 503 with nothing written."""
import json

import pytest
from botocore.awsrequest import AWSResponse

from chalicelib.errors import AppError
from chalicelib.seed import install_app
from chalicelib.services import records
from chalicelib.services.caller import Caller
from chalicelib.storage.models import RecordItem

AGENT = Caller(tenant="demo", user_id="agent.li", roles=frozenset({"agent"}))
BODY = {"data": {"name": "ACME", "phone": "13800138000"}}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs):
        yield self._body


def _inject(code: str, times: int, reasons=None):
    """Answer the next `times` TransactWriteItems with an error instead of sending them."""
    state = {"left": times, "calls": 0}

    def handler(request, **_kwargs):
        state["calls"] += 1
        if state["left"] <= 0:
            return None
        state["left"] -= 1
        payload = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected fault"}
        if reasons:
            payload["CancellationReasons"] = reasons
        return AWSResponse(request.url, 400, {"x-amzn-RequestId": "injected", "Content-Type": "application/x-amz-json-1.0"},
                           _Raw(json.dumps(payload).encode()))

    client = RecordItem._get_connection().connection.client
    client.meta.events.register_first("before-send.dynamodb.TransactWriteItems", handler)
    return state, lambda: client.meta.events.unregister("before-send.dynamodb.TransactWriteItems", handler)


@pytest.fixture
def tenant(ddblocal_backend):
    install_app("demo")


def _count():
    return len(records.list_records(AGENT, "customer", {})["items"])


@pytest.mark.ddblocal
def test_throttling_is_retried_and_writes_once(tenant):
    state, undo = _inject("ThrottlingException", times=2)
    try:
        created, replayed = records.create(AGENT, "customer", BODY, None)
    finally:
        undo()
    assert state["calls"] == 3 and not replayed  # two throttled attempts, then the real one
    assert _count() == 1 and created["number"] == "C-000001"


@pytest.mark.ddblocal
def test_transaction_conflict_is_retried_and_writes_once(tenant):
    reasons = [{"Code": "TransactionConflict", "Message": "injected"}, {"Code": "None"}]
    state, undo = _inject("TransactionCanceledException", times=2, reasons=reasons)
    try:
        created, _ = records.create(AGENT, "customer", BODY, "retry-key-0001")
    finally:
        undo()
    assert state["calls"] >= 3
    assert _count() == 1
    again, replayed = records.create(AGENT, "customer", BODY, "retry-key-0001")
    assert replayed and again["id"] == created["id"] and _count() == 1


@pytest.mark.ddblocal
def test_persistent_throttling_is_a_clean_503_and_writes_nothing(tenant):
    state, undo = _inject("ThrottlingException", times=100)
    try:
        with pytest.raises(AppError) as info:
            records.create(AGENT, "customer", BODY, None)
    finally:
        undo()
    assert info.value.status == 503
    assert _count() == 0
