"""Records through the HTTP API (chalice test client + moto)."""
import json
import re

import pytest

from .helpers import AGENT, ENGINEER, SUPERVISOR, new_customer, new_work_order, work_order_data

MISSING_ID = "01JDQ3V9W6Y5R8T2M4N7P0K1AB"


@pytest.fixture
def demo_api(any_api):
    """These record tests run twice: on moto and on DynamoDB Local (the integration tier)."""
    from chalicelib.seed import install_app
    install_app("demo")
    return any_api


def test_create_get_and_numbering(demo_api):
    customer = new_customer(demo_api)
    first = new_work_order(demo_api, customer["id"])
    second = new_work_order(demo_api, customer["id"])
    assert re.fullmatch(r"WO-\d{4}-000001", first["number"])
    assert second["number"].endswith("000002")
    assert first["data"]["order_no"] == first["number"]
    assert first["data"]["priority"] == "normal"  # default applied
    assert first["version"] == 1 and first["form_version"] == 1
    got = demo_api.call("GET", f"/forms/work_order/records/{first['id']}", **AGENT)
    assert got.status_code == 200 and got.json == first
    # engineers read only the orders assigned to them (row rule in the shipped form)
    assert demo_api.call("GET", f"/forms/work_order/records/{first['id']}", **ENGINEER).status_code == 404
    assert got.headers["ETag"] == '"1"'


def test_invalid_record_is_rejected_with_paths_and_not_written(demo_api):
    customer = new_customer(demo_api)
    response = demo_api.call("POST", "/forms/work_order/records", body={"data": {
        "customer": customer["id"], "priority": "whenever", "bogus": 1, "parts_used": [{"quantity": -1}]}}, **AGENT)
    assert response.status_code == 422
    paths = {d["path"] for d in response.json["error"]["details"]}
    assert {"data.priority", "data.bogus", "data.fault_description", "data.service_address", "data.region",
            "data.parts_used[0].part", "data.parts_used[0].quantity"} <= paths
    listed = demo_api.call("GET", "/forms/work_order/records", **AGENT)
    assert listed.json["items"] == []


def test_references_must_exist(demo_api):
    customer = new_customer(demo_api)
    response = demo_api.call("POST", "/forms/work_order/records", body={"data": work_order_data(
        customer["id"], product=MISSING_ID, assigned_engineer="agent.li")}, **AGENT)
    assert response.status_code == 422
    details = {d["path"]: d["message"] for d in response.json["error"]["details"]}
    assert "does not exist" in details["data.product"]
    assert "role engineer" in details["data.assigned_engineer"]  # agent.li is a member but not an engineer
    # a customer id used as a product id is refused: lookups check the form too
    response = demo_api.call("POST", "/forms/work_order/records", body={"data": work_order_data(
        customer["id"], product=customer["id"])}, **AGENT)
    assert response.status_code == 422


def test_partial_update_with_optimistic_lock(flow_api):
    demo_api = flow_api  # the demo regions: a north order is sup.north's to review
    order = new_work_order(demo_api, new_customer(demo_api)["id"])
    path = f"/forms/work_order/records/{order['id']}"
    ok = demo_api.call("PATCH", path, body={"version": 1, "data": {"priority": "urgent"}}, **SUPERVISOR)
    assert ok.status_code == 200
    assert ok.json["version"] == 2 and ok.json["data"]["priority"] == "urgent"
    assert ok.json["data"]["fault_description"] == order["data"]["fault_description"]
    assert ok.json["changed_fields"] == ["priority"]
    stale = demo_api.call("PATCH", path, body={"version": 1, "data": {"priority": "low"}}, **SUPERVISOR)
    assert stale.status_code == 409
    assert stale.json["error"]["details"]["current_version"] == 2
    via_header = demo_api.call("PATCH", path, body={"data": {"priority": "low"}}, headers={"If-Match": '"2"'}, **SUPERVISOR)
    assert via_header.status_code == 200 and via_header.json["version"] == 3
    missing_version = demo_api.call("PATCH", path, body={"data": {"priority": "low"}}, **SUPERVISOR)
    assert missing_version.status_code == 422 and missing_version.json["error"]["code"] == "version_required"


def test_read_only_fields_cannot_be_changed_by_update(demo_api):
    order = new_work_order(demo_api, new_customer(demo_api)["id"])
    response = demo_api.call("PATCH", f"/forms/work_order/records/{order['id']}",
                             body={"version": 1, "data": {"accepted_at": "2026-11-25T09:00:00Z"}}, user="admin", roles=["admin"])
    assert response.status_code == 422
    assert response.json["error"]["details"][0]["path"] == "data.accepted_at"


def test_soft_delete(demo_api):
    order = new_work_order(demo_api, new_customer(demo_api)["id"])
    path = f"/forms/work_order/records/{order['id']}"
    assert demo_api.call("DELETE", path + "?version=2", **SUPERVISOR).status_code == 409
    assert demo_api.call("DELETE", path + "?version=1", **AGENT).status_code == 403  # agents may not delete
    deleted = demo_api.call("DELETE", path + "?version=1", **SUPERVISOR)
    assert deleted.status_code == 200 and deleted.json["deleted"] is True
    assert demo_api.call("GET", path, **AGENT).status_code == 404
    assert demo_api.call("GET", "/forms/work_order/records", **AGENT).json["items"] == []
    assert demo_api.call("PATCH", path, body={"version": 2, "data": {}}, **SUPERVISOR).status_code == 404


def test_unique_values_claimed_atomically_and_released_on_delete(demo_api):
    customer = new_customer(demo_api, email="ops@acme.example")
    clash = demo_api.call("POST", "/forms/customer/records", body={"data": {
        "name": "Other", "phone": "13900000000", "email": "ops@acme.example"}}, **AGENT)
    assert clash.status_code == 422
    assert clash.json["error"]["details"][0]["path"] == "data.email"
    # changing the value frees the old one
    moved = demo_api.call("PATCH", f"/forms/customer/records/{customer['id']}",
                          body={"version": 1, "data": {"email": "new@acme.example"}}, **AGENT)
    assert moved.status_code == 200
    new_customer(demo_api, name="Other", email="ops@acme.example")
    # deleting frees it too
    demo_api.call("DELETE", f"/forms/customer/records/{customer['id']}?version=2", user="admin", roles=["admin"])
    new_customer(demo_api, name="Third", email="new@acme.example")


def test_idempotency_key_replays_first_result(demo_api):
    customer = new_customer(demo_api)
    headers = {"Idempotency-Key": "order-from-crm-0001"}
    first = demo_api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer["id"])}, headers=headers, **AGENT)
    again = demo_api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer["id"])}, headers=headers, **AGENT)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers.get("Idempotent-Replayed") == "true"
    assert len(demo_api.call("GET", "/forms/work_order/records", **AGENT).json["items"]) == 1
    other_body = demo_api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer["id"], priority="low")},
                               headers=headers, **AGENT)
    assert other_body.status_code == 422 and other_body.json["error"]["code"] == "idempotency_key_reused"
    # the next order is numbered right after: a replay consumed no number
    assert new_work_order(demo_api, customer["id"])["number"].endswith("000002")
    bad_key = demo_api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer["id"])},
                            headers={"Idempotency-Key": "x"}, **AGENT)
    assert bad_key.status_code == 400


def test_list_pagination_across_shards_newest_first(demo_api):
    customer = new_customer(demo_api)
    created = [new_work_order(demo_api, customer["id"])["id"] for _ in range(11)]
    seen, cursor, pages = [], None, 0
    while True:
        path = "/forms/work_order/records?limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = demo_api.call("GET", path, **AGENT)
        assert page.status_code == 200
        seen += [item["id"] for item in page.json["items"]]
        cursor, pages = page.json["next_cursor"], pages + 1
        if not cursor:
            break
        assert pages < 10
    assert seen == list(reversed(created))  # every record once, newest first (work orders use 4 shards)


def test_filters_on_indexed_fields(demo_api):
    customer = new_customer(demo_api)
    north = new_work_order(demo_api, customer["id"], priority="urgent")
    new_work_order(demo_api, customer["id"], region="south", priority="urgent")
    new_work_order(demo_api, customer["id"], priority="low", assigned_engineer="eng.zhang")
    urgent_north = demo_api.call("GET", "/forms/work_order/records?filter.region=north&filter.priority=urgent", **AGENT)
    assert [i["id"] for i in urgent_north.json["items"]] == [north["id"]]
    mine = demo_api.call("GET", "/forms/work_order/records?filter.assigned_engineer=eng.zhang", **AGENT)
    assert [i["data"]["priority"] for i in mine.json["items"]] == ["low"]
    not_indexed = demo_api.call("GET", "/forms/work_order/records?filter.service_address=x", **AGENT)
    assert not_indexed.status_code == 400 and not_indexed.json["error"]["code"] == "filter_not_indexed"
    assert demo_api.call("GET", "/forms/work_order/records?sort=x", **AGENT).status_code == 400
    assert demo_api.call("GET", "/forms/work_order/records?limit=1000", **AGENT).status_code == 400


def test_filters_follow_updates(flow_api):
    demo_api = flow_api  # the demo regions: a north order is sup.north's to review
    order = new_work_order(demo_api, new_customer(demo_api)["id"])
    demo_api.call("PATCH", f"/forms/work_order/records/{order['id']}", body={"version": 1, "data": {"region": "east"}}, **SUPERVISOR)
    assert demo_api.call("GET", "/forms/work_order/records?filter.region=north", **AGENT).json["items"] == []
    assert len(demo_api.call("GET", "/forms/work_order/records?filter.region=east", **AGENT).json["items"]) == 1


def test_tampered_or_foreign_cursor_is_refused(demo_api):
    customer = new_customer(demo_api)
    for _ in range(3):
        new_work_order(demo_api, customer["id"])
    cursor = demo_api.call("GET", "/forms/work_order/records?limit=1", **AGENT).json["next_cursor"]
    payload, signature = cursor.split(".")
    forged = demo_api.call("GET", f"/forms/work_order/records?limit=1&cursor={payload}.AAAA{signature[4:]}", **AGENT)
    assert forged.status_code == 400 and forged.json["error"]["code"] == "invalid_cursor"
    other_query = demo_api.call("GET", f"/forms/work_order/records?limit=1&filter.region=north&cursor={cursor}", **AGENT)
    assert other_query.status_code == 400


def test_record_keeps_the_form_version_it_was_made_with(flow_api):
    demo_api = flow_api  # the demo regions: a north order is sup.north's to review
    from chalicelib.seed import load_form
    order = new_work_order(demo_api, new_customer(demo_api)["id"])
    v2 = load_form("work_order")
    v2["fields"].append({"name": "site_contact", "type": "text", "required": True})
    uploaded = demo_api.call("POST", "/definitions/form/work_order/versions", body=v2)
    assert uploaded.status_code == 201 and uploaded.json["version"] == 2
    # the old record is still validated against v1, where site_contact does not exist
    updated = demo_api.call("PATCH", f"/forms/work_order/records/{order['id']}", body={"version": 1, "data": {"priority": "high"}}, **SUPERVISOR)
    assert updated.status_code == 200 and updated.json["form_version"] == 1
    # new records use v2 and its new rule
    response = demo_api.call("POST", "/forms/work_order/records", body={"data": work_order_data(order["data"]["customer"])}, **AGENT)
    assert response.status_code == 422 and response.json["error"]["details"][0]["path"] == "data.site_contact"


def test_unknown_form_and_record(demo_api):
    assert demo_api.call("GET", "/forms/nope/records", **AGENT).status_code == 404
    assert demo_api.call("GET", f"/forms/work_order/records/{MISSING_ID}", **AGENT).status_code == 404
    assert demo_api.call("GET", "/forms/work_order/records/../../etc", **AGENT).status_code in (403, 404)
    customer = new_customer(demo_api)
    # a customer id fetched through the work order form is not found
    assert demo_api.call("GET", f"/forms/work_order/records/{customer['id']}", **AGENT).status_code == 404


@pytest.mark.parametrize("raw,status,code", [
    (b"{not json", 400, "invalid_json"),
    (b"", 400, "empty_body"),
    (b"[1,2]", 422, "validation_failed"),
    (json.dumps({"data": {"name": "x" * 300000}}).encode(), 413, "payload_too_large"),
    (("[" * 100 + "]" * 100).encode(), 400, "too_deep"),
    (b'{"data": {"name": NaN}}', 400, "invalid_json"),
])
def test_hostile_bodies_get_clear_4xx(demo_api, raw, status, code):
    response = demo_api.call("POST", "/forms/customer/records", raw=raw, **AGENT)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
