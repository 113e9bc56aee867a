"""SQS: the outbound events FIFO queue and the dead-letter queues. The boto3 client is created on
first use (cold start) and re-created when the settings change (tests, local stack on moto's server).
A queue URL left empty in the stage's settings means that delivery is not configured: skipped."""
from __future__ import annotations

import threading

from .. import jsonutil
from ..config import get_settings
from ..errors import ServiceUnavailable

_client = None
_client_for = None
_lock = threading.Lock()


def client():
    global _client, _client_for
    settings = get_settings()
    with _lock:
        if _client is None or _client_for is not settings:
            import boto3
            _client = boto3.client("sqs", region_name=settings.region, endpoint_url=settings.sqs_endpoint)
            _client_for = settings
        return _client


def send_events(events: list[dict]) -> int:
    """Send events to the FIFO queue: MessageGroupId = record id (a record's events stay ordered),
    MessageDeduplicationId = event id (a stream retry within 5 minutes is dropped by SQS). Batches of 10."""
    url = get_settings().events_queue_url
    if not url or not events:
        return 0
    sent = 0
    for start in range(0, len(events), 10):
        chunk = events[start:start + 10]
        entries = [{"Id": str(i), "MessageBody": jsonutil.dumps(e), "MessageGroupId": e["record_id"],
                    "MessageDeduplicationId": e["id"],
                    "MessageAttributes": {"type": {"DataType": "String", "StringValue": e["type"]},
                                          "tenant": {"DataType": "String", "StringValue": e["tenant"]}}}
                   for i, e in enumerate(chunk)]
        result = client().send_message_batch(QueueUrl=url, Entries=entries)
        if result.get("Failed"):
            # the stream batch is retried as a whole; SQS drops the duplicates of those already sent
            raise ServiceUnavailable(f"events queue refused {len(result['Failed'])} message(s)")
        sent += len(chunk)
    return sent


def dead_letter(url: str, body: str, reason: str, **attributes: str) -> bool:
    """Park a message on a dead-letter queue with the reason (False when that queue is not configured)."""
    if not url:
        return False
    attrs = {"reason": {"DataType": "String", "StringValue": reason[:1000] or "unknown"}}
    attrs.update({k: {"DataType": "String", "StringValue": v} for k, v in attributes.items() if v})
    client().send_message(QueueUrl=url, MessageBody=body or "{}", MessageAttributes=attrs)
    return True


def reset_client() -> None:
    global _client, _client_for
    with _lock:
        _client, _client_for = None, None
