"""Inbound SQS messages → records through tenant mapping definitions: dedupe by external id,
dead letters with reasons, partial batch failures, nothing partial written."""
import json

import boto3
import pytest

FORM = {"name": "account", "title": "Account", "fields": [
    {"name": "crm_id", "type": "text", "unique": True},
    {"name": "name", "type": "text", "required": True},
    {"name": "tier", "type": "select", "options": [{"value": "gold"}, {"value": "basic"}]},
    {"name": "credit", "type": "money"}],
    "permissions": {"create": ["agent"], "read": ["agent"], "update": ["agent"], "delete": ["agent"]}}
UPSERT = {"form": "account", "mode": "upsert", "key_field": "crm_id", "external_id": "id",
          "fields": {"name": "trim(account.name)", "tier": "if(account.vip, 'gold', 'basic')", "credit": "account.credit / 100"}}
CREATE = {"form": "account", "mode": "create", "external_id": "concat('erp-', to_string(no))",
          "fields": {"name": "title"}}


@pytest.fixture
def inbound_api(api, monkeypatch):
    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = sqs.create_queue(QueueName="inbound-dlq")["QueueUrl"]
    monkeypatch.setenv("INBOUND_DLQ_URL", dlq)
    from chalicelib.config import reset_settings
    reset_settings()
    assert api.call("POST", "/definitions/form/account/versions", body=FORM).status_code == 201
    for name, body in (("crm_account", UPSERT), ("erp_account", CREATE)):
        response = api.call("POST", f"/definitions/integration_mapping/{name}/versions", body=body)
        assert response.status_code == 201, response.json
    api.sqs, api.dlq = sqs, dlq
    return api


def sqs_event(*bodies):
    return [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": b if isinstance(b, str) else json.dumps(b)}
            for i, b in enumerate(bodies)]


def crm(id_="C-1", name="ACME", vip=False, credit=12345, tenant="demo"):
    return {"tenant": tenant, "mapping": "crm_account",
            "data": {"id": id_, "account": {"name": f"  {name} ", "vip": vip, "credit": credit}}}


def accounts(api):
    return api.call("GET", "/forms/account/records?limit=100").json["items"]


def dead_letters(api):
    out = api.sqs.receive_message(QueueUrl=api.dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
    return [(m["MessageAttributes"]["reason"]["StringValue"], m["Body"]) for m in out]


def test_same_message_three_times_writes_once(inbound_api):
    from chalicelib.services import inbound
    api = inbound_api
    result = inbound.handle_batch(sqs_event(crm(), crm(), crm()))
    assert result == {"batchItemFailures": []}
    assert inbound.handle_batch(sqs_event({"tenant": "demo", "mapping": "erp_account", "data": {"no": 7, "title": "X"}}) * 3) \
        == {"batchItemFailures": []}
    [erp, acme] = sorted(accounts(api), key=lambda r: r["data"]["name"], reverse=True)
    assert acme["data"] == {"crm_id": "C-1", "name": "ACME", "tier": "basic", "credit": 123.45} and acme["version"] == 1
    assert acme["created_by"] == "integration:crm_account"
    assert erp["data"] == {"name": "X"}
    # the create mode's idempotency: a replay of the same external id and content writes nothing
    assert inbound.handle_message(json.dumps({"tenant": "demo", "mapping": "erp_account", "data": {"no": 7, "title": "X"}})) == "duplicate"
    assert dead_letters(api) == []


def test_upsert_updates_changed_fields_only_once(inbound_api):
    from chalicelib.services import inbound
    api = inbound_api
    inbound.handle_batch(sqs_event(crm()))
    inbound.handle_batch(sqs_event(crm(name="ACME Ltd", vip=True), crm(name="ACME Ltd", vip=True)))
    [acme] = accounts(api)
    assert acme["version"] == 2 and acme["data"]["name"] == "ACME Ltd" and acme["data"]["tier"] == "gold"
    history = api.call("GET", f"/forms/account/records/{acme['id']}/history").json["items"]
    assert history[-1]["changed_fields"] == ["name", "tier"]


def test_an_update_mapping_changes_known_records_and_dead_letters_an_unknown_key(inbound_api):
    from chalicelib.services import inbound
    api = inbound_api
    update_only = {**UPSERT, "mode": "update", "fields": {"tier": "if(account.vip, 'gold', 'basic')"}}
    assert api.call("POST", "/definitions/integration_mapping/crm_tier/versions", body=update_only).status_code == 201
    refused = api.call("POST", "/definitions/integration_mapping/crm_bad/versions", body={**update_only, "key_field": None})
    assert refused.status_code == 422 and "needs key_field" in json.dumps(refused.json)
    inbound.handle_batch(sqs_event(crm()))  # C-1 exists now (upsert mapping)
    tier = lambda id_, vip: {"tenant": "demo", "mapping": "crm_tier", "data": {"id": id_, "account": {"vip": vip}}}  # noqa: E731
    assert inbound.handle_batch(sqs_event(tier("C-1", True), tier("C-404", True))) == {"batchItemFailures": []}
    [acme] = accounts(api)
    assert acme["data"]["tier"] == "gold" and acme["version"] == 2
    [(reason, body)] = dead_letters(api)
    assert reason.startswith("unmappable: no account record with crm_id C-404") and json.loads(body)["data"]["id"] == "C-404"
    assert len(accounts(api)) == 1  # never a create


def expire_idempotency():
    from chalicelib.storage.models import IdempotencyItem
    for item in IdempotencyItem.scan(IdempotencyItem.pk.contains("#K#")):  # the table holds every item kind
        item.delete()


def test_a_create_mapping_with_a_unique_key_dedupes_past_the_idempotency_window(inbound_api):
    """The idempotency item expires (TTL); the record's unique external id does not: the sender's
    backlog replayed a week later writes nothing and dead-letters nothing."""
    from chalicelib.services import inbound
    api = inbound_api
    keyed = {**CREATE, "key_field": "crm_id"}
    assert api.call("POST", "/definitions/integration_mapping/erp_keyed/versions", body=keyed).status_code == 201
    message = {"tenant": "demo", "mapping": "erp_keyed", "data": {"no": 8, "title": "Y"}}
    assert inbound.handle_message(json.dumps(message)) == "written"
    expire_idempotency()  # the window passed (moto has no TTL)
    assert inbound.handle_message(json.dumps(message)) == "duplicate"
    assert inbound.handle_message(json.dumps({**message, "data": {"no": 8, "title": "Y, edited"}})) == "duplicate"
    [only] = accounts(api)
    assert only["data"] == {"crm_id": "erp-8", "name": "Y"} and only["version"] == 1
    # without a key field, the same replay past the window would have made a second account
    assert inbound.handle_message(json.dumps({"tenant": "demo", "mapping": "erp_account", "data": {"no": 8, "title": "Y"}})) == "written"
    expire_idempotency()
    assert inbound.handle_message(json.dumps({"tenant": "demo", "mapping": "erp_account", "data": {"no": 8, "title": "Y"}})) == "written"
    assert len(accounts(api)) == 3 and dead_letters(api) == []


def test_a_mapped_external_id_resolves_to_the_record_it_names(inbound_api):
    from chalicelib.services import inbound
    api = inbound_api
    ticket = {"name": "ticket", "title": "Ticket", "permissions": FORM["permissions"], "fields": [
        {"name": "title", "type": "text", "required": True}, {"name": "account", "type": "lookup", "form": "account"},
        {"name": "erp_no", "type": "text", "unique": True}]}
    assert api.call("POST", "/definitions/form/ticket/versions", body=ticket).status_code == 201
    mapping = {"form": "ticket", "mode": "upsert", "key_field": "erp_no", "external_id": "no",
               "fields": {"title": "title", "account": "crm"}, "lookups": {"account": {"form": "account", "key_field": "crm_id"}}}
    for broken, where in (({"account": {"form": "account", "key_field": "name"}}, "lookups.account.key_field"),
                          ({"account": {"form": "ticket", "key_field": "erp_no"}}, "lookups.account.form"),
                          ({"title": {"form": "account", "key_field": "crm_id"}}, "lookups.title.form")):
        refused = api.call("POST", "/definitions/integration_mapping/erp_ticket/versions", body={**mapping, "lookups": broken})
        assert refused.status_code == 422 and where in [d["path"] for d in refused.json["error"]["details"]], refused.json
    assert api.call("POST", "/definitions/integration_mapping/erp_ticket/versions", body=mapping).status_code == 201
    inbound.handle_batch(sqs_event(crm()))
    [acme] = accounts(api)
    message = lambda no, account: {"tenant": "demo", "mapping": "erp_ticket", "data": {"no": no, "title": "Door", "crm": account}}  # noqa: E731
    assert inbound.handle_batch(sqs_event(message("T-1", "C-1"), message("T-2", "C-404"))) == {"batchItemFailures": []}
    [made] = api.call("GET", "/forms/ticket/records").json["items"]
    assert made["data"]["account"] == acme["id"] and made["data"]["erp_no"] == "T-1"
    [(reason, _body)] = dead_letters(api)
    assert reason.startswith("unmappable: no account record with crm_id C-404")


def test_bad_messages_go_to_the_dead_letter_queue_with_the_reason(inbound_api):
    from chalicelib.services import inbound
    api = inbound_api
    bad = ["{not json", {"tenant": "demo"}, {"tenant": "demo", "mapping": "nope", "data": {}},
           crm(id_=""), crm(name=""),  # no external id; required name empty after trim
           {"tenant": "demo", "mapping": "crm_account", "data": {"id": "C-9", "account": {"name": "Z", "credit": "lots"}}}]
    result = inbound.handle_batch(sqs_event(*bad, crm(id_="C-2")))
    assert result == {"batchItemFailures": []}  # dead letters are handled, not redelivered
    reasons = [r for r, _ in dead_letters(api)]
    assert len(reasons) == 6
    assert reasons[0].startswith("malformed: body is not JSON")
    assert reasons[1].startswith("malformed")
    assert reasons[2].startswith("unmappable: no published mapping 'nope'")
    assert "external id" in reasons[3]
    assert reasons[4].startswith("rejected") and "data.name" in reasons[4]
    assert "credit" in reasons[5]
    assert [a["data"]["crm_id"] for a in accounts(api)] == ["C-2"]  # only the good one, nothing partial


def test_partial_batch_failure_redelivers_only_the_failed_message(inbound_api, monkeypatch):
    from chalicelib.errors import ServiceUnavailable
    from chalicelib.services import inbound, records
    real = records.create

    def flaky(caller, form, body, key):
        if body["data"]["name"] == "Flaky":
            raise ServiceUnavailable("throttled")
        return real(caller, form, body, key)
    monkeypatch.setattr(records, "create", flaky)
    result = inbound.handle_batch(sqs_event(crm(id_="A"), crm(id_="B", name="Flaky"), crm(id_="C")))
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert sorted(a["data"]["crm_id"] for a in accounts(inbound_api)) == ["A", "C"]


def test_sqs_handler_wiring(inbound_api):
    from chalice.test import Client
    from app import app
    with Client(app) as client:
        event = client.events.generate_sqs_event(message_bodies=[json.dumps(crm(id_="W")), "junk"], queue_name="aftersales-inbound")
        response = client.lambda_.invoke("inbound_messages", event)
    assert response.payload == {"batchItemFailures": []}
    assert [a["data"]["crm_id"] for a in accounts(inbound_api)] == ["W"]


def test_mapping_definition_checked_at_upload(inbound_api):
    api = inbound_api
    bad = {"form": "account", "mode": "upsert", "key_field": "name", "external_id": "id ==",
           "fields": {"nope": "x", "name": "upper(", "credit": "1"}}
    response = api.call("POST", "/definitions/integration_mapping/bad_one/versions", body=bad)
    assert response.status_code == 422
    paths = {d["path"] for d in response.json["error"]["details"]}
    assert {"external_id", "fields.nope", "fields.name", "key_field"} <= paths
    missing = api.call("POST", "/definitions/integration_mapping/other/versions", body={**CREATE, "form": "ghost"})
    assert missing.status_code == 422 and missing.json["error"]["details"][0]["path"] == "form"
