"""Outbound events: history items → versioned envelopes → SQS FIFO (grouped by record) and signed
webhooks with retries, a delivery log, dead-lettering and redelivery; field permissions respected."""
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import boto3
import pytest

from chalicelib.integration import signing

FORM = {"name": "ticket", "title": "Ticket", "fields": [
    {"name": "title", "type": "text", "required": True},
    {"name": "cost", "type": "money"},
    {"name": "region", "type": "text"}],
    "indexes": ["region"],
    "permissions": {"create": ["agent"], "read": ["agent", "viewer"], "update": ["agent"], "delete": ["agent"],
                    "fields": {"viewer": {"hidden": ["cost"]}}}}
AGENT = dict(user="agent.li", roles=["agent"])


class FakeTransport:
    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.calls = []

    def __call__(self, url, body, headers, timeout):
        self.calls.append((url, json.loads(body), headers))
        status = self.statuses.pop(0) if self.statuses else 200
        return status, None if status < 300 else f"HTTP {status}"


@pytest.fixture
def events_api(api, monkeypatch):
    sqs = boto3.client("sqs", region_name="us-east-1")
    fifo = sqs.create_queue(QueueName="events.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq = sqs.create_queue(QueueName="webhook-dlq")["QueueUrl"]
    monkeypatch.setenv("EVENTS_QUEUE_URL", fifo)
    monkeypatch.setenv("WEBHOOK_DLQ_URL", dlq)
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "3")
    from chalicelib.config import reset_settings
    reset_settings()
    assert api.call("POST", "/definitions/form/ticket/versions", body=FORM).status_code == 201
    fake = FakeTransport()
    from chalicelib.services import events
    monkeypatch.setattr(events, "transport", fake)
    api.sqs, api.fifo, api.dlq, api.fake = sqs, fifo, dlq, fake
    return api


def stream_records(record_id, tenant="demo"):
    """What the records table's stream carries for a record's history items (INSERT, NewImage)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    items = client.query(TableName=os.environ["RECORDS_TABLE"], KeyConditionExpression="pk = :pk AND begins_with(sk, :h)",
                         ExpressionAttributeValues={":pk": {"S": f"T#{tenant}#R#{record_id}"}, ":h": {"S": "H#"}})["Items"]
    return [{"eventName": "INSERT", "dynamodb": {"Keys": {"pk": i["pk"], "sk": i["sk"]}, "NewImage": i}} for i in items]


def run_stream(record_id):
    from chalicelib.services import events
    return events.handle_stream(stream_records(record_id))


def lifecycle(api):
    rec = api.call("POST", "/forms/ticket/records", body={"data": {"title": "A", "cost": 10, "region": "n"}}, **AGENT).json
    api.call("PATCH", f"/forms/ticket/records/{rec['id']}", body={"version": 1, "data": {"cost": 12}}, **AGENT)
    api.call("PATCH", f"/forms/ticket/records/{rec['id']}", body={"version": 2, "data": {"title": "B"}}, **AGENT)
    assert api.call("DELETE", f"/forms/ticket/records/{rec['id']}?version=3", **AGENT).status_code == 200
    return rec["id"]


def register(api, **body):
    response = api.call("POST", "/webhooks", body={"url": "https://hooks.example.com/in", **body})
    assert response.status_code == 201, response.json
    return response.json


def test_envelope_per_change_and_fifo_queue(events_api):
    api = events_api
    record_id = lifecycle(api)
    result = run_stream(record_id)
    assert result["events"] == 4 and result["queued"] == 4
    messages = api.sqs.receive_message(QueueUrl=api.fifo, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert [b["type"] for b in bodies] == ["record.created", "record.updated", "record.updated", "record.deleted"]
    assert [b["version"] for b in bodies] == [1, 2, 3, 4]
    first = bodies[0]
    assert set(first) == {"specversion", "id", "tenant", "type", "time", "record_id", "form", "version",
                          "changed_fields", "data", "actor", "workflow"}
    assert first["specversion"] == "1" and first["tenant"] == "demo" and first["form"] == "ticket"
    assert first["actor"] == "agent.li" and first["record_id"] == record_id and first["id"] == f"{record_id}-0000000001"
    assert bodies[1]["changed_fields"] == ["cost"]
    # values travel with the names: every field on create, the new values on update, none on delete
    assert first["data"]["title"] == "A" and first["data"]["region"] == "n" and first["data"]["cost"] is not None
    assert set(first["data"]) == set(first["changed_fields"])
    assert set(bodies[1]["data"]) == {"cost"} and set(bodies[2]["data"]) == {"title"} and bodies[2]["data"]["title"] == "B"
    assert bodies[3]["data"] is None
    assert {m["Attributes"]["MessageGroupId"] for m in messages} == {record_id}
    assert [m["Attributes"]["MessageDeduplicationId"] for m in messages] == [b["id"] for b in bodies]
    # a stream retry sends the same ids: the FIFO queue drops them
    run_stream(record_id)
    again = api.sqs.receive_message(QueueUrl=api.fifo, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert "Messages" not in again


def test_workflow_transition_event(flow_api, monkeypatch):
    from tests.api.helpers import new_customer, new_work_order
    from chalicelib.services import events
    monkeypatch.setattr(events, "transport", FakeTransport())
    customer = new_customer(flow_api)
    order = new_work_order(flow_api, customer["id"])
    acted = flow_api.call("POST", f"/forms/work_order/records/{order['id']}/actions/auto_dispatch", body={"version": 1},
                          user="sup.north", roles=["supervisor"])
    assert acted.status_code == 200, acted.json
    found = events.events_from_stream(stream_records(order["id"]))
    assert found[0]["type"] == "record.created" and found[0]["workflow"]["to"] == "Review"
    move = found[1]
    assert move["type"] == "workflow.transitioned" and move["actor"] == "sup.north"
    assert move["workflow"]["action"] == "auto_dispatch" and move["workflow"]["from"] == "Review"
    assert move["workflow"]["to"] != "Review"


def test_webhook_signed_filtered_by_role_and_deduplicated(events_api):
    api = events_api
    full = register(api)
    viewer = register(api, url="https://viewer.example.com/in", role="viewer", types=["record.updated"], forms=["ticket"])
    assert full["secret"].startswith("whsec_") and "secret" not in api.call("GET", f"/webhooks/{full['id']}").json
    record_id = lifecycle(api)
    result = run_stream(record_id)
    assert result["deliveries"] == 4 + 2
    assert run_stream(record_id)["deliveries"] == 0  # the delivery log already has them
    assert len(api.fake.calls) == 6
    for _url, body, headers in api.fake.calls:
        assert headers["X-Aftersales-Event-Id"] == body["id"]
        assert headers["X-Aftersales-Signature"].startswith("v1=")
    viewer_bodies = [b for url, b, h in api.fake.calls if url.startswith("https://viewer.")]
    # the viewer may not see cost: the update of cost reaches it with no changed field named
    assert [(b["version"], b["changed_fields"], b["data"]) for b in viewer_bodies] == [(2, [], {}), (3, ["title"], {"title": "B"})]
    full_bodies = [b for url, b, h in api.fake.calls if url.startswith("https://hooks.")]
    assert [b["changed_fields"] for b in full_bodies][1] == ["cost"]
    assert "cost" in full_bodies[0]["data"] and set(full_bodies[1]["data"]) == {"cost"}
    log = api.call("GET", f"/webhooks/{viewer['id']}/deliveries").json["items"]
    assert [d["status"] for d in log] == ["delivered", "delivered"] and log[0]["event_id"].endswith("0000000003")


def test_webhook_role_row_rule_admits_only_its_records(events_api):
    """A role-scoped webhook gets what an API caller with only that role could read: the role's
    row rule is applied to the record, and the same rule keeps the history API quiet too."""
    api = events_api
    ruled = {**FORM, "permissions": {**FORM["permissions"], "rows": {"viewer": "region == 'north'"}}}
    assert api.call("POST", "/definitions/form/ticket/versions", body=ruled).status_code == 201
    hook = register(api, url="https://north.example.com/in", role="viewer", forms=["ticket"])
    north = api.call("POST", "/forms/ticket/records", body={"data": {"title": "N", "cost": 5, "region": "north"}}, **AGENT).json
    south = api.call("POST", "/forms/ticket/records", body={"data": {"title": "S", "cost": 6, "region": "south"}}, **AGENT).json
    assert run_stream(north["id"])["deliveries"] == 1
    assert run_stream(south["id"])["deliveries"] == 0
    [(_url, body, _headers)] = api.fake.calls
    assert body["record_id"] == north["id"] and "cost" not in body["data"] and body["data"]["title"] == "N"
    assert [d["event_id"] for d in api.call("GET", f"/webhooks/{hook['id']}/deliveries").json["items"]] == [body["id"]]
    # the viewer's history of the north record carries values too, hidden fields left out
    history = api.call("GET", f"/forms/ticket/records/{north['id']}/history", user="view.wu", roles=["viewer"])
    assert history.status_code == 200, history.json
    [entry] = history.json["items"]
    assert entry["values"]["title"] == "N" and "cost" not in entry["values"] and "cost" not in entry["changed_fields"]


def test_retries_backoff_dead_letter_and_redeliver(events_api):
    from chalicelib.services import events
    api = events_api
    hook = register(api, types=["record.created"])
    api.fake.statuses = [500, 503, 502]
    rec = api.call("POST", "/forms/ticket/records", body={"data": {"title": "A"}}, **AGENT).json
    run_stream(rec["id"])
    [entry] = api.call("GET", f"/webhooks/{hook['id']}/deliveries").json["items"]
    assert entry["status"] == "pending" and entry["attempts"] == 1 and entry["last_status"] == 500 and entry["next_at"]
    assert events.retry_due(now="2000-01-01T00:00:00.000Z")["attempted"] == 0  # not due yet
    assert events.retry_due(now="2999-01-01T00:00:00.000Z")["attempted"] == 1
    [entry] = api.call("GET", f"/webhooks/{hook['id']}/deliveries").json["items"]
    assert entry["attempts"] == 2 and entry["status"] == "pending"
    assert events.retry_due(now="2999-01-02T00:00:00.000Z")["dead"] == 1
    [entry] = api.call("GET", f"/webhooks/{hook['id']}/deliveries").json["items"]
    assert entry["status"] == "dead" and entry["attempts"] == 3
    assert events.retry_due(now="2999-01-03T00:00:00.000Z")["attempted"] == 0  # dead ones are not retried
    parked = api.sqs.receive_message(QueueUrl=api.dlq, MessageAttributeNames=["All"])["Messages"]
    assert parked[0]["MessageAttributes"]["reason"]["StringValue"] == "HTTP 502"
    assert json.loads(parked[0]["Body"])["record_id"] == rec["id"]
    again = api.call("POST", f"/webhooks/{hook['id']}/deliveries/{entry['event_id']}/redeliver")
    assert again.status_code == 200 and again.json["status"] == "delivered" and again.json["attempts"] == 1
    assert len(api.fake.calls) == 4
    assert api.call("POST", f"/webhooks/{hook['id']}/deliveries/nope/redeliver").status_code == 404


def test_backoff_is_exponential():
    assert [signing.backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert signing.backoff_seconds(40) == 6 * 3600


class _Receiver(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_real_http_delivery_verifies_signature(events_api, monkeypatch):
    from chalicelib.services import events
    monkeypatch.setattr(events, "transport", events.urllib_transport)
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = events_api
        hook = register(api, url=f"http://127.0.0.1:{server.server_port}/hook")
        rec = api.call("POST", "/forms/ticket/records", body={"data": {"title": "A"}}, **AGENT).json
        run_stream(rec["id"])
        headers, body = _Receiver.received[-1]
        assert signing.verify(hook["secret"], headers["X-Aftersales-Timestamp"], body, headers["X-Aftersales-Signature"],
                              now=int(time.time()))
        assert not signing.verify(hook["secret"], headers["X-Aftersales-Timestamp"], body + b" ",
                                  headers["X-Aftersales-Signature"], now=int(time.time()))
        assert not signing.verify(hook["secret"], headers["X-Aftersales-Timestamp"], body, headers["X-Aftersales-Signature"],
                                  now=int(time.time()) + 3600)  # replayed an hour later
        assert json.loads(body)["record_id"] == rec["id"]
    finally:
        server.shutdown()


def test_webhook_validation_and_permissions(events_api):
    api = events_api
    bad = api.call("POST", "/webhooks", body={"url": "http://example.com/x"})
    assert bad.status_code == 422 and bad.json["error"]["details"][0]["path"] == "url"
    bad = api.call("POST", "/webhooks", body={"url": "https://example.com/x", "types": ["record.exploded"]})
    assert bad.status_code == 422 and bad.json["error"]["details"][0]["path"].startswith("types")
    assert api.call("POST", "/webhooks", body={"url": "https://example.com/x"}, **AGENT).status_code == 403
    hook = register(api)
    assert api.call("GET", f"/webhooks/{hook['id']}", tenant="other", user="mallory", roles=["admin"]).status_code == 404
    changed = api.call("PUT", f"/webhooks/{hook['id']}", body={"url": "https://example.com/y", "active": False})
    assert changed.status_code == 200 and changed.json["active"] is False
    assert [h["id"] for h in api.call("GET", "/webhooks").json["items"]] == [hook["id"]]
    assert api.call("DELETE", f"/webhooks/{hook['id']}").status_code == 200
    assert api.call("GET", "/webhooks").json["items"] == []


def test_webhooks_never_call_private_addresses(monkeypatch):
    from chalicelib.services import events
    monkeypatch.setenv("STAGE", "prod")
    from chalicelib.config import reset_settings
    reset_settings()
    try:
        assert "non-public" in events.blocked_address("https://127.0.0.1/x")
        assert "non-public" in events.blocked_address("https://169.254.169.254/latest/meta-data")
        assert "non-public" in events.blocked_address("https://10.0.0.8/hook")
        assert events.blocked_address("https://8.8.8.8/hook") is None
    finally:
        monkeypatch.delenv("STAGE")
        reset_settings()
