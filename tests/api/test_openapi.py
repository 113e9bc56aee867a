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
        install_demo_data("demo")
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
