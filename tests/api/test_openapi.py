"""The OpenAPI document covers every route, is a valid OpenAPI 3.1 document, and schemathesis
cases generated from it never get a 500 (and 4xx answers always carry the error envelope)."""
import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

os.environ.setdefault("AUTH_MODE", "local")


def _document():
    from app import app
    from chalicelib.api.openapi import build
    return build(app)


def test_every_route_is_documented_and_the_document_is_valid(api):
    from openapi_spec_validator import validate

    from app import app
    document = json.loads(api.call("GET", "/openapi.json", user=None).body)
    validate(document)
    for path, methods in app.routes.items():
        for method in methods:
            assert method.lower() in document["paths"].get(path, {}), (method, path)


@pytest.fixture(scope="module")
def shared_api():
    """One moto + client for all generated cases (hypothesis reuses the fixture across examples)."""
    from chalice.test import Client

    from app import app
    from chalicelib.seed import install_app, install_demo_data
    from tests.conftest import ApiClient, moto_tables

    with moto_tables("fuzz"):
        install_app("demo")
        install_demo_data("demo", forms={"region", "engineer"})
        with Client(app) as client:
            yield ApiClient(client.http)


schema = schemathesis.openapi.from_dict(_document())


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_never_get_a_500(case, shared_api):
    if case.method.upper() == "OPTIONS":
        return  # CORS preflight is answered by API Gateway; chalice's test gateway returns no body for it
    path = case.path
    for name, value in (case.path_parameters or {}).items():
        path = path.replace("{" + name + "}", str(value))
    query = "&".join(f"{k}={v}" for k, v in (case.query or {}).items())
    url = path + (f"?{query}" if query else "")
    from urllib.parse import quote
    url = quote(url, safe="/?&=%.-_~")
    body = case.body
    raw = json.dumps(body) if isinstance(body, (dict, list, str, int, float, bool)) else ""
    headers = {"Content-Type": "application/json",
               "Authorization": f"Bearer {shared_api.token('admin', ['admin'])}"}
    response = shared_api.http.request(case.method.upper(), url, headers=headers, body=raw)
    assert response.status_code < 500, (case.method, url, body, response.body[:300])
    if response.status_code >= 400:
        payload = json.loads(response.body)
        assert set(payload) == {"error"} and {"code", "message", "details"} <= set(payload["error"]), payload


def _closed(node):
    """The schema with every object that lists its properties closed (additionalProperties: false): a
    TypedDict's schema leaves extras allowed, so a key the service returns but its type does not
    declare would pass unseen; here it fails."""
    if isinstance(node, list):
        return [_closed(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _closed(v) for k, v in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _checker(api):
    """(document, conforms, checked): `conforms(method, path, response)` validates a real answer against
    the document's typed (closed) schema for its status."""
    from jsonschema import Draft202012Validator

    document = json.loads(api.call("GET", "/openapi.json", user=None, headers={"Host": "127.0.0.1:8000"}).body)
    components = _closed(document["components"])
    checked = []

    def conforms(method, path, response):
        documented = document["paths"][path][method.lower()]["responses"][str(response.status_code)]
        schema = documented["content"]["application/json"]["schema"]
        assert schema.get("$ref"), (method, path, "no typed answer documented")
        Draft202012Validator({**schema, "components": components}).validate(response.json)
        checked.append((method, path))
        return response.json

    return document, conforms, checked


def test_a_key_the_type_does_not_declare_fails(demo_api):
    from jsonschema import ValidationError

    _document, conforms, _checked = _checker(demo_api)

    class Answer:
        status_code = 200
        json = {"status": "ok", "extra": 1}
    with pytest.raises(ValidationError):
        conforms("GET", "/health", Answer)


def test_the_answers_are_what_the_document_says(demo_api):
    """The response schemas come from the services' return types: real answers validate against them
    (a field renamed or added in the code without its type, or the other way round, fails here)."""
    from tests.api.helpers import AGENT, new_customer, new_work_order
    document, conforms, checked = _checker(demo_api)
    assert document["servers"] == [{"url": "http://127.0.0.1:8000", "description": "this stage"}]
    operation_ids = [op["operationId"] for methods in document["paths"].values() for op in methods.values()]
    assert len(operation_ids) == len(set(operation_ids))

    asset = {"title": "Asset", "fields": [{"name": "serial", "type": "text"}, {"name": "owner", "type": "user"}],
             "permissions": {"create": ["admin", "agent"], "read": ["admin", "agent"], "update": ["admin"], "delete": ["admin"],
                             "rows": {"agent": "owner == $user.id"}}}
    uploaded = conforms("POST", "/definitions/{kind}/{name}/versions", demo_api.call("POST", "/definitions/form/asset/versions", body=asset))
    assert uploaded["version"] == 1
    again = conforms("POST", "/definitions/{kind}/{name}/versions", demo_api.call(
        "POST", "/definitions/form/asset/versions?publish=false", body={**asset, "title": "Asset v2"}))
    conforms("POST", "/definitions/{kind}/{name}/versions/{version}/publish",
             demo_api.call("POST", f"/definitions/form/asset/versions/{again['version']}/publish"))
    conforms("GET", "/definitions", demo_api.call("GET", "/definitions"))
    assert len(conforms("GET", "/definitions/{kind}/{name}", demo_api.call("GET", "/definitions/form/asset"))["versions"]) == 2
    patched = conforms("PATCH", "/definitions/{kind}/{name}", demo_api.call(
        "PATCH", f"/definitions/form/asset?base={again['version']}", body={"title": "Asset v3"},
        headers={"Content-Type": "application/merge-patch+json"}))
    assert patched["version"] == again["version"] + 1 and patched["published"] == patched["version"]
    mine = demo_api.call("POST", "/forms/asset/records", body={"data": {"serial": "A-1", "owner": "agent.li"}}, **AGENT)
    conforms("POST", "/forms/{form}/records", mine)
    hidden = demo_api.call("POST", "/forms/asset/records", body={"data": {"serial": "A-2", "owner": "admin"}}, **AGENT)
    assert set(hidden.json) == {"id", "form", "version", "number"}  # the RecordRef branch
    conforms("POST", "/forms/{form}/records", hidden)
    changed = demo_api.call("PATCH", f"/forms/asset/records/{mine.json['id']}", body={"version": 1, "data": {"serial": "A-1b"}})
    conforms("PATCH", "/forms/{form}/records/{record_id}", changed)
    order = new_work_order(demo_api, new_customer(demo_api)["id"])
    got = demo_api.call("GET", f"/forms/work_order/records/{order['id']}", **AGENT)
    assert got.json["workflow"]["state"]  # the workflow view is filled in
    conforms("GET", "/forms/{form}/records/{record_id}", got)
    conforms("GET", "/forms/{form}/records", demo_api.call("GET", "/forms/work_order/records?limit=5", **AGENT))
    conforms("DELETE", "/forms/{form}/records/{record_id}",
             demo_api.call("DELETE", f"/forms/asset/records/{hidden.json['id']}", headers={"If-Match": '"1"'}))
    put = demo_api.call("PUT", "/members/ann.lee", body={"display_name": "Ann", "roles": ["agent"], "attributes": {"region": "north"}})
    conforms("PUT", "/members/{user_id}", put)
    conforms("GET", "/members/{user_id}", demo_api.call("GET", "/members/ann.lee"))
    conforms("GET", "/members", demo_api.call("GET", "/members"))
    draft = {"title": "Draft", "fields": [{"name": "qty", "type": "number"}]}
    assert conforms("POST", "/forms/{form}/expressions/check", demo_api.call(
        "POST", "/forms/draft_only/expressions/check", body={"expression": "qty > 1", "definition": draft, "data": {"qty": 2}}))["value"] is True
    assert conforms("POST", "/forms/{form}/expressions/check", demo_api.call(
        "POST", "/forms/draft_only/expressions/check", body={"expression": "qyt", "definition": draft}))["error"]["position"] == 0
    flow_answers(demo_api, conforms)
    from chalicelib.api.openapi import RESPONSE_TYPES
    assert set(checked) == set(RESPONSE_TYPES)  # every typed answer is checked against a real one


def flow_answers(api, conforms):
    """The routes of the work-order flow: actions, the inbox, notifications, health."""
    from chalicelib.seed import install_demo_data
    from tests.api.helpers import AGENT, ENGINEER, SUPERVISOR, new_customer, new_work_order
    install_demo_data("demo", forms={"region", "engineer"})
    order = new_work_order(api, new_customer(api, name="Flow")["id"])
    base = f"/forms/work_order/records/{order['id']}"
    offered = conforms("GET", "/forms/{form}/records/{record_id}/actions", api.call("GET", f"{base}/actions", **SUPERVISOR))
    assert offered["actions"] and offered["editable"] is not None
    act = "/forms/{form}/records/{record_id}/actions/{action}"
    tried = conforms("POST", act, api.call("POST", f"{base}/actions/auto_dispatch?dry_run=true", body={"version": 1}, **SUPERVISOR))
    assert tried["dry_run"] is True
    designed = conforms("POST", "/workflows/{name}/dry-run", api.call("POST", "/workflows/work_order/dry-run", body={
        "record_id": order["id"], "action": "auto_dispatch", "as_user": "sup.north"}))
    assert designed["allowed"] and designed["path"] and designed["written"] is False
    refused = conforms("POST", "/workflows/{name}/dry-run", api.call("POST", "/workflows/work_order/dry-run", body={
        "record_id": order["id"], "action": "assign", "as_user": "sup.north"}))
    assert refused["problems"][0]["path"] == "data.assigned_engineer"
    moved = conforms("POST", act, api.call("POST", f"{base}/actions/auto_dispatch", body={"version": 1}, **SUPERVISOR))
    assert moved["record"]["data"]["assigned_engineer"] == "eng.zhang"
    tasks = conforms("GET", "/tasks", api.call("GET", "/tasks", **ENGINEER))
    assert tasks["items"]
    rejected = conforms("POST", act, api.call("POST", f"{base}/actions/reject", body={"version": moved["record"]["version"],
                                                                                     "comment": "Too far"}, **ENGINEER))
    assert set(rejected["record"]) == {"id", "version"}  # the RecordVersion branch
    notes = conforms("GET", "/notifications", api.call("GET", "/notifications", **ENGINEER))
    assert notes["items"]
    conforms("POST", "/notifications/read", api.call("POST", "/notifications/read", body={"all": True}, **ENGINEER))
    conforms("GET", "/notifications/preferences", api.call("GET", "/notifications/preferences", **AGENT))
    conforms("PUT", "/notifications/preferences",
             api.call("PUT", "/notifications/preferences", body={"email": ["task.assigned"]}, **AGENT))
    conforms("GET", "/health", api.call("GET", "/health", user=None))
    create = {"op_id": "op-openapi-0001", "type": "create", "form": "customer",
              "data": {"name": "Offline", "phone": "13800138000", "region": "north"}}
    for _ in range(2):  # applied, then replayed
        pushed = conforms("POST", "/sync", api.call("POST", "/sync", body={"operations": [create]}, **AGENT))
        assert pushed["results"][0]["status"] == "applied", pushed
    pulled = conforms("POST", "/sync", api.call("POST", "/sync", body={"operations": []}, user="eng.chen", roles=["engineer"]))
    assert pulled["changes"]["records"], pulled
    for who in (SUPERVISOR, ENGINEER, AGENT, {}):  # {}: the admin, every menu
        assert conforms("GET", "/navigation", api.call("GET", "/navigation", **who))["forms"]
    uploads_answers(api, conforms)
    dispatch_answers(api, conforms)
    migration_answers(api, conforms)


def migration_answers(api, conforms):
    """A migration's dry run (the impact, a report's line in it) and the job read again."""
    from tests.api.helpers import MANAGER
    assert api.call("GET", "/reports/orders_by_region_status", **MANAGER).status_code == 200  # built: the stream keeps it
    wf = api.call("GET", "/definitions/workflow/work_order").json
    body = api.call("GET", f"/definitions/workflow/work_order/versions/{wf['published']}").json["definition"]
    renamed = json.loads(json.dumps(body).replace('"Review"', '"Triage"'))
    version = api.call("POST", "/definitions/workflow/work_order/versions?publish=false", body=renamed).json["version"]
    dry = conforms("POST", "/forms/{form}/migrations", api.call("POST", "/forms/work_order/migrations", body={
        "workflow_version": version, "state_map": {"Review": "Triage"}, "dry_run": True}))
    assert dry["reports"] and dry["reports"][0]["why"], dry
    job = conforms("GET", "/forms/{form}/migrations/{job_id}", api.call("GET", f"/forms/work_order/migrations/{dry['id']}"))
    assert job["counts"] == dry["counts"]


def dispatch_answers(api, conforms):
    """Ranked candidates of one order, a batch plan (dry run) and a batch dispatch."""
    from tests.api.helpers import SUPERVISOR, new_customer, new_work_order
    order = new_work_order(api, new_customer(api, name="Dispatch")["id"])
    ranked = conforms("GET", "/forms/{form}/records/{record_id}/dispatch/candidates",
                      api.call("GET", f"/forms/work_order/records/{order['id']}/dispatch/candidates", **SUPERVISOR))
    assert ranked["best"] and ranked["candidates"][0]["summary"]
    for dry_run, status in ((True, "planned"), (False, "assigned")):
        plan = conforms("POST", "/dispatch/batch", api.call("POST", "/dispatch/batch", body={
            "form": "work_order", "record_ids": [order["id"], "01ARZ3NDEKTSV4RRFFQ69G5FAV"], "dry_run": dry_run}, **SUPERVISOR))
        assert [r["status"] for r in plan["results"]] == [status, "not_found"], plan


def uploads_answers(api, conforms):
    """Declare an upload, put the file, confirm it (and again: the replay), get its link."""
    from chalicelib.storage import files
    from tests.api.helpers import AGENT, new_customer, new_work_order
    png = b"\x89PNG\r\n\x1a\n" + b"p" * 64
    order = new_work_order(api, new_customer(api, name="Photos")["id"])
    base = f"/forms/work_order/records/{order['id']}"
    declared = conforms("POST", "/forms/{form}/records/{record_id}/uploads", api.call(
        "POST", f"{base}/uploads", body={"field": "fault_photos", "content_type": "image/png", "size": len(png)}, **AGENT))
    files.client().put_object(Bucket=files.bucket(), Key=declared["key"], Body=png, ContentType="image/png")
    confirm = "/forms/{form}/records/{record_id}/uploads/{upload_id}/confirm"
    for replayed in (False, True):
        answer = conforms("POST", confirm, api.call("POST", f"{base}/uploads/{declared['upload_id']}/confirm",
                                                    body={"version": order["version"]}, **AGENT))
        assert answer["replayed"] is replayed and answer["attachment"]["key"] == declared["key"]
    link = conforms("GET", "/forms/{form}/records/{record_id}/files",
                    api.call("GET", f"{base}/files?key={declared['key']}", **AGENT))
    assert link["url"]
