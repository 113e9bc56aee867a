"""Identity comes from verified tokens only; tenants never see each other's data."""
import time

import jwt
import pytest

from chalicelib.config import get_settings

from .helpers import AGENT, new_customer, new_work_order


def _token(**overrides):
    settings = get_settings()
    claims = {"sub": "agent.li", "custom:tenant": "demo", "cognito:groups": ["agent"], "iss": settings.jwt_issuer,
              "aud": "aftersales", "iat": int(time.time()), "exp": int(time.time()) + 600}
    claims.update(overrides)
    return claims


def test_health_needs_no_token(api):
    response = api.call("GET", "/health", user=None)
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_the_api_url_itself_says_where_to_go(api, monkeypatch):
    monkeypatch.setenv("CONSOLE_ORIGIN", "https://console.example")
    response = api.call("GET", "/", user=None)
    assert response.status_code == 200
    assert response.json["console"] == "https://console.example" and response.json["openapi"] == "/openapi.json"


def test_an_unknown_route_on_a_deployed_stage_answers_in_the_error_envelope():
    import json
    from pathlib import Path
    for stage in ("dev", "prod"):
        resources = json.loads((Path(__file__).parents[2] / ".chalice" / f"resources-{stage}.json").read_text())["Resources"]
        unknown = resources["ApiUnknownRoute"]["Properties"]
        assert unknown["ResponseType"] == "MISSING_AUTHENTICATION_TOKEN" and unknown["StatusCode"] == "404"
        body = json.loads(unknown["ResponseTemplates"]["application/json"])
        assert body["error"]["code"] == "not_found" and body["error"]["details"] == []


@pytest.mark.parametrize("name,make", [
    ("missing", lambda: None),
    ("expired", lambda: jwt.encode(_token(exp=int(time.time()) - 3600), get_settings().local_jwt_secret, algorithm="HS256")),
    ("wrong signature", lambda: jwt.encode(_token(), "another-secret-of-enough-length-1234567890", algorithm="HS256")),
    ("alg none", lambda: jwt.encode(_token(), None, algorithm="none")),
    ("wrong issuer", lambda: jwt.encode(_token(iss="evil"), get_settings().local_jwt_secret, algorithm="HS256")),
    ("wrong audience", lambda: jwt.encode(_token(aud="other"), get_settings().local_jwt_secret, algorithm="HS256")),
    ("no tenant", lambda: jwt.encode({k: v for k, v in _token().items() if k != "custom:tenant"}, get_settings().local_jwt_secret, algorithm="HS256")),
    ("garbage", lambda: "abc.def.ghi"),
    ("tenant with a key separator", lambda: jwt.encode(_token(**{"custom:tenant": "demo#R#x"}), get_settings().local_jwt_secret, algorithm="HS256")),
    ("subject with a key separator", lambda: jwt.encode(_token(sub="a#b"), get_settings().local_jwt_secret, algorithm="HS256")),
])
def test_bad_tokens_get_401(demo_api, name, make):
    token = make()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = demo_api.http.get("/forms/customer/records", headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 401, name
    assert b"error" in response.body and b"Traceback" not in response.body


def test_valid_handmade_token_works(demo_api):
    token = jwt.encode(_token(), get_settings().local_jwt_secret, algorithm="HS256")
    assert demo_api.call("GET", "/me", token=token).json == {"tenant": "demo", "user_id": "agent.li", "roles": ["agent"], "name": ""}


def test_tenant_b_cannot_reach_tenant_a(demo_api):
    from chalicelib.seed import install_app
    install_app("other")
    customer = new_customer(demo_api)
    order = new_work_order(demo_api, customer["id"])
    path = f"/forms/work_order/records/{order['id']}"
    intruder = dict(tenant="other", **AGENT)
    assert demo_api.call("GET", path, **intruder).status_code == 404
    assert demo_api.call("PATCH", path, body={"version": 1, "data": {"priority": "low"}}, **intruder).status_code == 404
    assert demo_api.call("DELETE", path + "?version=1", tenant="other", user="boss", roles=["admin"]).status_code == 404
    listed = demo_api.call("GET", "/forms/work_order/records", **intruder)
    assert listed.status_code == 200 and listed.json["items"] == []
    filtered = demo_api.call("GET", "/forms/work_order/records?filter.customer=" + customer["id"], **intruder)
    assert filtered.json["items"] == []
    # tenant A's cursor means nothing to tenant B
    for _ in range(2):
        new_work_order(demo_api, customer["id"])
    cursor = demo_api.call("GET", "/forms/work_order/records?limit=1", **AGENT).json["next_cursor"]
    assert demo_api.call("GET", f"/forms/work_order/records?limit=1&cursor={cursor}", **intruder).status_code == 400
    # tenant B cannot point its records at tenant A's data
    response = demo_api.call("POST", "/forms/work_order/records", body={"data": {
        "customer": customer["id"], "fault_description": "x", "service_address": "y", "region": "north"}}, **intruder)
    assert response.status_code == 422
    # the same unique value may exist in both tenants
    new_customer(demo_api, email="same@x.example")
    new_customer(demo_api, email="same@x.example", tenant="other")
    # and numbering is per tenant
    assert new_work_order(demo_api, new_customer(demo_api, tenant="other")["id"], tenant="other")["number"].endswith("000001")


def test_tenant_b_cannot_read_tenant_a_definitions(api):
    api.call("POST", "/definitions/form/secret_form/versions", body={"title": "S", "fields": [{"name": "a", "type": "text"}]})
    other = dict(tenant="other", user="boss", roles=["admin"])
    assert api.call("GET", "/definitions/form/secret_form", **other).status_code == 404
    assert api.call("GET", "/definitions/form/secret_form/versions/1", **other).status_code == 404
    assert api.call("GET", "/forms/secret_form/schema", **other).status_code == 404
    assert api.call("GET", "/definitions", **other).json["items"] == []
    assert api.call("GET", "/forms/secret_form/records", **other).status_code == 404


def test_form_permissions_by_role(demo_api):
    customer = new_customer(demo_api)
    engineer = dict(user="eng.zhang", roles=["engineer"])
    assert demo_api.call("POST", "/forms/work_order/records", body={"data": {}}, **engineer).status_code == 403
    assert demo_api.call("GET", "/forms/work_order/records", **engineer).status_code == 200
    assert demo_api.call("GET", "/forms/work_order/records", user="x", roles=["nobody"]).status_code == 403
    assert demo_api.call("POST", "/forms/region/records", body={"data": {"code": "n", "name": "N"}}, **AGENT).status_code == 403
    assert demo_api.call("GET", f"/forms/customer/records/{customer['id']}", user="x", roles=["nobody"]).status_code == 200  # read: '*'


def test_unhandled_errors_hide_internals(api, monkeypatch):
    from chalicelib.services import definitions

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")
    monkeypatch.setattr(definitions, "list_definitions", boom)
    response = api.call("GET", "/definitions")
    assert response.status_code == 500
    assert response.json == {"error": {"code": "internal_error", "message": "internal error", "details": []}}
