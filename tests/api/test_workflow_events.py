"""Events that move records (issue 17): a Wait state waits for a named event correlated to the record
by a field's value (with a timeout); an inbound mapping or another system's call delivers it; exactly
once under redelivery; an unknown correlation key is a dead letter with the reason."""
import json

import boto3
import pytest

REPAIR = {"title": "Repair", "fields": [
    {"name": "title", "type": "text", "required": True},
    {"name": "parts_request_no", "type": "text"},
    {"name": "parts_arrived_at", "type": "datetime"},
    {"name": "parts_note", "type": "text"}],
    "permissions": {"create": ["agent"], "read": ["agent"], "update": ["agent"], "delete": ["agent"]}}
FLOW = {"StartAt": "WaitingForParts", "States": {
    "WaitingForParts": {"Type": "Wait", "Seconds": 86400, "Next": "Chase", "Events": {
        "part_arrived": {"Key": "parts_request_no", "Next": "Repair",
                         "SetFields": {"parts_arrived_at": "$event.arrived_at", "parts_note": "$event.note"}}}},
    "Chase": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"resume": {"Next": "WaitingForParts"}}},
    "Repair": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"done": {"Next": "Done"}}},
    "Done": {"Type": "Succeed"}}}
AGENT = dict(user="agent.li", roles=["agent"])
ERP = {"form": "repair", "mode": "event", "event": "part_arrived", "external_id": "request_no",
       "fields": {"arrived_at": "arrived", "note": "concat('batch ', batch)"}}


@pytest.fixture
def events_api(api, monkeypatch):
    sqs = boto3.client("sqs", region_name="us-east-1")
    monkeypatch.setenv("INBOUND_DLQ_URL", sqs.create_queue(QueueName="events-dlq")["QueueUrl"])
    from chalicelib.config import reset_settings
    reset_settings()
    for kind, name, body in (("form", "repair", REPAIR), ("workflow", "repair", FLOW), ("integration_mapping", "erp_parts", ERP)):
        response = api.call("POST", f"/definitions/{kind}/{name}/versions", body=body)
        assert response.status_code == 201, response.json
    api.sqs, api.dlq = sqs, sqs.get_queue_url(QueueName="events-dlq")["QueueUrl"]
    return api


def repair(api, request_no="PR-7"):
    response = api.call("POST", "/forms/repair/records", body={"data": {"title": "Compressor", "parts_request_no": request_no}}, **AGENT)
    assert response.status_code == 201, response.json
    return response.json


def get(api, rec):
    return api.call("GET", f"/forms/repair/records/{rec['id']}", **AGENT).json


def message(request_no="PR-7", arrived="2026-12-07T09:30:00Z", batch="B1", **extra):
    return json.dumps({"tenant": "demo", "mapping": "erp_parts",
                       "data": {"request_no": request_no, "arrived": arrived, "batch": batch}, **extra})


def dead_letters(api):
    out = api.sqs.receive_message(QueueUrl=api.dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
    return [m["MessageAttributes"]["reason"]["StringValue"] for m in out]


def test_an_erp_message_moves_the_waiting_record_once_however_often_it_is_delivered(events_api):
    from chalicelib.services import inbound
    api = events_api
    waiting, other = repair(api), repair(api, "PR-8")
    assert waiting["workflow"]["state"] == "WaitingForParts"
    assert inbound.handle_message(message()) == "written"
    moved = get(api, waiting)
    assert moved["workflow"]["state"] == "Repair" and moved["version"] == 2
    assert moved["data"]["parts_arrived_at"].startswith("2026-12-07T09:30:00") and moved["data"]["parts_note"] == "batch B1"
    assert moved["workflow"]["timers"] == []  # the timeout went with the state
    history = api.call("GET", f"/forms/repair/records/{waiting['id']}/history", **AGENT).json["items"]
    assert history[-1]["kind"] == "event" and history[-1]["action"] == "part_arrived" and history[-1]["actor"] == "integration:erp_parts"
    # redelivered (SQS at-least-once) three times: nothing moves twice
    for _ in range(3):
        assert inbound.handle_message(message()) == "duplicate"
    assert get(api, waiting)["version"] == 2
    assert get(api, other)["workflow"]["state"] == "WaitingForParts"  # another key, untouched
    assert dead_letters(api) == []


def test_an_unknown_correlation_key_is_a_dead_letter_naming_it(events_api):
    from chalicelib.services import inbound
    api = events_api
    repair(api)
    assert inbound.handle_batch([{"messageId": "m1", "receiptHandle": "r1", "body": message("PR-404")}]) == {"batchItemFailures": []}
    [reason] = dead_letters(api)
    assert reason.startswith("unmappable: no repair record waits for part_arrived with key PR-404")


def test_the_timeout_leads_on_and_a_resumed_wait_takes_the_event(events_api):
    from chalicelib.services import inbound, workflow
    api = events_api
    rec = repair(api)
    from datetime import datetime, timedelta
    due = datetime.fromisoformat(rec["workflow"]["timers"][0]["due_at"].replace("Z", "+00:00")) + timedelta(minutes=1)
    assert workflow.fire_due_timers(due.strftime("%Y-%m-%dT%H:%M:%S.000Z"))["fired"] == 1
    assert get(api, rec)["workflow"]["state"] == "Chase"  # the part never came: someone chases it
    assert inbound.handle_batch([{"messageId": "m1", "receiptHandle": "r1", "body": message()}]) == {"batchItemFailures": []}
    [reason] = dead_letters(api)
    assert reason.startswith("unmappable: no repair record waits for part_arrived with key PR-7")  # not waiting now
    response = api.call("POST", f"/forms/repair/records/{rec['id']}/actions/resume", body={"version": 2}, **AGENT)
    assert response.status_code == 200, response.json
    # a different message (another batch) is a new delivery: the record waits again and takes it
    assert inbound.handle_message(message(batch="B2")) == "written"
    assert get(api, rec)["workflow"]["state"] == "Repair"


def test_another_system_delivers_by_http_with_its_own_delivery_id(events_api):
    api = events_api
    rec = repair(api, "PR-9")
    body = {"key": "PR-9", "id": "wms-evt-1", "data": {"arrived_at": "2026-12-07T10:00:00Z", "note": "dock 3"}}
    first = api.call("POST", "/forms/repair/events/part_arrived", body=body)
    assert first.status_code == 200 and first.json == {"delivered": [rec["id"]], "duplicate": False}
    again = api.call("POST", "/forms/repair/events/part_arrived", body={**body, "data": {"note": "resent"}})
    assert again.status_code == 200 and again.json == {"delivered": [], "duplicate": True}  # same id: same delivery
    assert get(api, rec)["data"]["parts_note"] == "dock 3"
    unknown = api.call("POST", "/forms/repair/events/part_arrived", body={"key": "PR-0"})
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "no_waiting_record"
    assert api.call("POST", "/forms/repair/events/part_arrived", body={"key": "PR-9"}, **AGENT).status_code == 403
    bad = api.call("POST", "/forms/repair/events/part_arrived", body={"data": {}})
    assert bad.status_code == 422 and bad.json["error"]["details"][0]["path"] == "key"
    # tenants are apart: the same key in another tenant finds nothing
    other = api.call("POST", "/forms/repair/events/part_arrived", body={"key": "PR-9", "id": "x"}, tenant="other")
    assert other.status_code == 404


def test_an_event_state_is_checked_at_upload(events_api):
    api = events_api
    bad = json.loads(json.dumps(FLOW))
    bad["States"]["WaitingForParts"]["Events"]["part_arrived"]["Next"] = "Nowhere"
    response = api.call("POST", "/definitions/workflow/repair/versions", body=bad)
    assert response.status_code == 422
    assert [d["path"] for d in response.json["error"]["details"]] == ["States.WaitingForParts.Events.part_arrived.Next"]
    bad = json.loads(json.dumps(FLOW))
    bad["States"]["WaitingForParts"]["Events"]["part_arrived"]["Key"] = "no_such_field"
    bad["States"]["WaitingForParts"]["Events"]["part_arrived"]["SetFields"]["parts_note"] = "$event."
    response = api.call("POST", "/definitions/workflow/repair/versions", body=bad)
    assert response.status_code == 422
    paths = {d["path"] for d in response.json["error"]["details"]}
    assert {"States.WaitingForParts.Events.part_arrived.Key",
            "States.WaitingForParts.Events.part_arrived.SetFields.parts_note"} <= paths, paths
    only_events = json.loads(json.dumps(FLOW))
    del only_events["States"]["WaitingForParts"]["Seconds"], only_events["States"]["WaitingForParts"]["Next"]
    del only_events["States"]["Chase"]  # nothing leads there without the timeout
    assert api.call("POST", "/definitions/workflow/repair/versions", body=only_events).status_code == 201  # no timeout
    refused = api.call("POST", "/definitions/integration_mapping/bad_event/versions", body={**ERP, "event": None})
    assert refused.status_code == 422 and "needs event" in json.dumps(refused.json)


INSPECTION = {"title": "Inspection", "fields": [{"name": "inspection_no", "type": "text", "required": True},
                                                {"name": "repaired_by", "type": "text"}],
              "permissions": REPAIR["permissions"]}
INSPECTION_FLOW = {"StartAt": "Inspect", "States": {
    "Inspect": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"fail_item": {"Next": "OpenRepair"}}},
    "OpenRepair": {"Type": "Action", "Next": "WaitingForRepair", "Steps": [{"CreateRecord": {
        "Form": "repair", "Data": {"title": "concat('Repair for ', inspection_no)", "parts_request_no": "inspection_no"}}}]},
    "WaitingForRepair": {"Type": "Wait", "Events": {"repair_closed": {
        "Key": "inspection_no", "Next": "Passed", "SetFields": {"repaired_by": "$event.record_id"}}}},
    "Passed": {"Type": "Succeed"}}}
REPAIR_FLOW = {"StartAt": "Repair", "States": {
    "Repair": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"done": {"Next": "Tell"}}},
    "Tell": {"Type": "Action", "End": True, "Steps": [{"Signal": {"Event": "repair_closed", "Key": "parts_request_no",
                                                                  "Form": "inspection"}}]}}}


def test_another_record_reaching_a_state_moves_the_record_waiting_for_it(events_api):
    """A failed inspection item opens a repair order and the inspection waits for it; the repair
    order's Signal step, once committed, moves the inspection on (from the records stream, once)."""
    from tests.api.test_events_api import run_stream
    api = events_api
    for kind, name, body in (("workflow", "repair", REPAIR_FLOW), ("form", "inspection", INSPECTION),
                             ("workflow", "inspection", INSPECTION_FLOW)):
        assert api.call("POST", f"/definitions/{kind}/{name}/versions", body=body).status_code == 201
    created = api.call("POST", "/forms/inspection/records", body={"data": {"inspection_no": "INS-1"}}, **AGENT).json
    moved = api.call("POST", f"/forms/inspection/records/{created['id']}/actions/fail_item", body={"version": 1}, **AGENT).json
    assert moved["transition"]["to"] == "WaitingForRepair"
    [order] = [r for r in api.call("GET", "/forms/repair/records", **AGENT).json["items"] if r["data"]["parts_request_no"] == "INS-1"]
    assert api.call("POST", f"/forms/repair/records/{order['id']}/actions/done", body={"version": order["version"]},
                    **AGENT).status_code == 200
    assert run_stream(order["id"])["signals"] == 1
    inspection = api.call("GET", f"/forms/inspection/records/{created['id']}", **AGENT).json
    assert inspection["workflow"]["state"] == "Passed" and inspection["data"]["repaired_by"] == order["id"]
    assert run_stream(order["id"])["signals"] == 0  # the stream retried the batch: nothing moves twice
    assert api.call("GET", f"/forms/inspection/records/{created['id']}", **AGENT).json["version"] == inspection["version"]
