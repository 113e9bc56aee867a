"""Review: hostile input through the HTTP API (moto tier).

Tests marked xfail(strict=True) describe the CORRECT behaviour of a bug found in review; the lead
removes the mark once fixed. Unmarked tests are regression tests that already pass.
"""
import itertools
import json

import pytest

from .helpers import AGENT, ENGINEER, MANAGER, SUPERVISOR, new_customer, work_order_data

MISSING_ID = "01JDQ3V9W6Y5R8T2M4N7P0K1AB"
ALL = {"create": ["*"], "read": ["*"], "update": ["*"], "delete": ["*"]}


_tenants = itertools.count()


@pytest.fixture(scope="module")
def _shared_http():
    """One moto + chalice client for the whole module (per-test setup dominated the run time);
    every test gets its own tenant, so tests stay independent."""
    from chalice.test import Client

    from tests.conftest import moto_tables

    with moto_tables("review"):
        from app import app
        with Client(app) as client:
            yield client.http


@pytest.fixture
def api(_shared_http):
    from tests.conftest import ApiClient
    return ApiClient(_shared_http, tenant=f"review{next(_tenants)}")


@pytest.fixture
def demo_api(api):
    from chalicelib.seed import install_app
    install_app(api.tenant)
    return api


def upload(api, name, fields, publish=True, tenant=None, **extra):
    body = {"title": name, "fields": fields, "permissions": ALL, **extra}
    suffix = "" if publish else "?publish=false"
    return api.call("POST", f"/definitions/form/{name}/versions{suffix}", body=body, tenant=tenant)


def ok_upload(api, name, fields, **extra):
    response = upload(api, name, fields, **extra)
    assert response.status_code == 201, response.json
    return response.json


def create(api, form, data, **kw):
    return api.call("POST", f"/forms/{form}/records", body={"data": data}, **kw)


def assert_error_envelope(response, status):
    assert response.status_code == status, (response.status_code, response.body[:300])
    body = json.loads(response.body)
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])


# ---------------------------------------------------------------------------------------------
# Path parameters and query strings
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/definitions/form/customer/versions/²",
    "/definitions/form/customer/versions/" + "9" * 5000,
    "/forms/customer/schema?version=²",
])
def test_non_ascii_or_huge_version_is_400(api, path):
    ok_upload(api, "customer", [{"name": "name", "type": "text"}])
    assert_error_envelope(api.call("GET", path), 400)


@pytest.mark.parametrize("path,status", [
    ("/definitions/form/customer/versions/0", 404),
    ("/definitions/form/customer/versions/-1", 400),
    ("/definitions/form/customer/versions/1.0", 400),
    ("/definitions/form/Customer/versions/1", 400),
    ("/definitions/workflow/customer", 404),
    ("/forms/customer/schema?version=abc", 400),
    ("/forms/customer/records/not-an-id", 404),
    (f"/forms/customer/records/{MISSING_ID.lower()}", 404),
    ("/forms/customer/records?limit=101", 400),
    ("/forms/customer/records?limit=-1", 400),
    ("/forms/customer/records?limit=1e2", 400),
    ("/forms/customer/records?bogus=1", 400),
    ("/forms/customer/records?filter.name=x", 400),  # not indexed
    ("/forms/customer/records?filter.=x", 400),
    ("/forms/customer/records?filter.score=abc", 400),
    ("/forms/customer/records?filter.vip=yes", 400),
    ("/forms/customer/records?cursor=abc", 400),
    ("/forms/customer/records?cursor=%C3%A9%C3%A9.%C3%A9", 400),
    ("/forms/customer/records?cursor=..", 400),
])
def test_weird_path_and_query_params_get_clean_4xx(api, path, status):
    ok_upload(api, "customer", [{"name": "name", "type": "text"}, {"name": "score", "type": "number"},
                                {"name": "vip", "type": "checkbox"}], indexes=["score", "vip"])
    assert_error_envelope(api.call("GET", path), status)


def test_number_filter_snan_is_400(api):
    ok_upload(api, "priced", [{"name": "price", "type": "number", "scale": 2}], indexes=["price"])
    assert_error_envelope(api.call("GET", "/forms/priced/records?filter.price=sNaN"), 400)


def test_limit_zero_is_rejected(api):
    ok_upload(api, "thing", [{"name": "name", "type": "text"}])
    assert_error_envelope(api.call("GET", "/forms/thing/records?limit=0"), 400)


def test_duplicate_query_params_and_filters_with_pagination(api):
    ok_upload(api, "item", [{"name": "color", "type": "select", "options": [{"value": "red"}, {"value": "blue"}]},
                            {"name": "n", "type": "number"}], indexes=["color"], storage={"shards": 3})
    ids = [create(api, "item", {"color": "red" if i % 2 else "blue", "n": i}).json["id"] for i in range(7)]
    red = [i for n, i in enumerate(ids) if n % 2][::-1]
    # duplicated params: the last one wins, never a 500
    assert api.call("GET", "/forms/item/records?filter.color=blue&filter.color=red&limit=50").json["items"][0]["id"] == red[0]
    seen, cursor = [], None
    while True:
        query = "/forms/item/records?filter.color=red&limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = api.call("GET", query)
        assert page.status_code == 200
        seen += [r["id"] for r in page.json["items"]]
        cursor = page.json["next_cursor"]
        if not cursor:
            break
    assert seen == red
    # a cursor from one filter is refused on another filter
    first = api.call("GET", "/forms/item/records?filter.color=red&limit=1").json["next_cursor"]
    assert api.call("GET", f"/forms/item/records?filter.color=blue&cursor={first}").status_code == 400


def test_unsupported_content_type_uses_error_envelope(api):
    ok_upload(api, "thing", [{"name": "name", "type": "text"}])
    response = api.call("POST", "/forms/thing/records", body={"data": {"name": "x"}}, headers={"Content-Type": "text/plain"})
    assert_error_envelope(response, 415)


@pytest.mark.parametrize("header", ["Bearer", "Bearer  ", "Basic YWRtaW46YWRtaW4=", "bearer x.y.z", "Token abc"])
def test_malformed_authorization_headers_are_401(api, header):
    response = api.call("GET", "/definitions", headers={"Authorization": header})
    assert_error_envelope(response, 401)


# ---------------------------------------------------------------------------------------------
# Bodies: wrong types in every position
# ---------------------------------------------------------------------------------------------

HOSTILE_VALUES = [None, True, 0, -1, 1.5, 1e308, "", "x" * 2000, "\u202e\u0000", [], [[]], {}, {"a": {"b": 1}}]

TYPED_FIELDS = [
    {"name": "t", "type": "text", "max_length": 20},
    {"name": "ta", "type": "textarea", "max_length": 50},
    {"name": "n", "type": "number", "scale": 2},
    {"name": "m", "type": "money"},
    {"name": "p", "type": "percent"},
    {"name": "d", "type": "date"},
    {"name": "dt", "type": "datetime"},
    {"name": "tm", "type": "time"},
    {"name": "du", "type": "duration"},
    {"name": "s", "type": "select", "options": [{"value": "a"}]},
    {"name": "ms", "type": "multiselect", "options": [{"value": "a"}]},
    {"name": "cb", "type": "checkbox"},
    {"name": "r", "type": "rating"},
    {"name": "ph", "type": "phone"},
    {"name": "em", "type": "email"},
    {"name": "u", "type": "url"},
    {"name": "g", "type": "geolocation"},
    {"name": "im", "type": "image", "multiple": True},
    {"name": "f", "type": "file"},
    {"name": "sg", "type": "signature"},
    {"name": "us", "type": "user"},
    {"name": "lk", "type": "lookup", "form": "typed"},
    {"name": "st", "type": "subtable", "fields": [{"name": "q", "type": "number"}, {"name": "w", "type": "text"}]},
    {"name": "c", "type": "computed", "expression": "n * 2"},
    {"name": "an", "type": "auto_number"},
]


def test_every_field_type_with_hostile_values_never_500(api):
    ok_upload(api, "typed", TYPED_FIELDS)
    for field in TYPED_FIELDS:
        for value in HOSTILE_VALUES:
            response = create(api, "typed", {field["name"]: value})
            assert response.status_code in (201, 422), (field["name"], value, response.status_code, response.body[:200])
    # subtable rows with hostile content
    for rows in ([None], [1], ["x"], [{"q": "x"}], [{"zz": 1}], [{"q": {"$ne": 1}}], [{}] * 101):
        assert create(api, "typed", {"st": rows}).status_code == 422, rows


@pytest.mark.parametrize("body", [
    [], "data", 5, None, {"data": []}, {"data": "x"}, {"data": None}, {"data": {}, "extra": 1},
    {"data": {"__proto__": 1}}, {"data": {"constructor": {"prototype": 1}}},
])
def test_record_body_shapes(api, body):
    ok_upload(api, "thing", [{"name": "name", "type": "text"}])
    response = api.call("POST", "/forms/thing/records", raw=json.dumps(body).encode())
    assert_error_envelope(response, 422)


@pytest.mark.parametrize("version,header,status", [
    ("1", None, 422), (True, None, 422), (1.0, None, 422), (0, None, 422), (-1, None, 422), (None, None, 422),
    (10**30, None, 409), (None, "abc", 400), (None, "9" * 5000, 400), (None, '"2"', 409), (None, 'W/"1"', 200),
])
def test_update_version_positions(api, version, header, status):
    ok_upload(api, "thing", [{"name": "name", "type": "text"}])
    rec = create(api, "thing", {"name": "a"}).json
    body = {"data": {"name": "b"}}
    if version is not None:
        body["version"] = version
    response = api.call("PATCH", f"/forms/thing/records/{rec['id']}", raw=json.dumps(body).encode(),
                        headers={"If-Match": header} if header else None)
    assert response.status_code == status, response.body


def test_if_match_with_underscores_is_400(api):
    ok_upload(api, "thing", [{"name": "name", "type": "text"}])
    rec = create(api, "thing", {"name": "a"}).json
    response = api.call("PATCH", f"/forms/thing/records/{rec['id']}", body={"data": {}}, headers={"If-Match": "1_0"})
    assert_error_envelope(response, 400)


def test_lone_surrogate_in_body_is_400(api):
    raw = b'{"title": "\\ud800", "fields": [{"name": "a", "type": "text"}], "permissions": {"create": ["*"]}}'
    response = api.call("POST", "/definitions/form/sur/versions", raw=raw)
    assert_error_envelope(response, 400)


def test_unicode_and_control_characters_round_trip(api):
    ok_upload(api, "thing", [{"name": "name", "type": "text", "max_length": 20}])
    value = "\u202e\u0000😀\u00e9\ufeff\u0301"
    rec = create(api, "thing", {"name": value}).json
    got = api.call("GET", f"/forms/thing/records/{rec['id']}")
    assert got.json["data"]["name"] == value


# ---------------------------------------------------------------------------------------------
# Field value holes
# ---------------------------------------------------------------------------------------------

def test_trailing_newline_values_are_rejected(api):
    ok_upload(api, "person", [{"name": "email", "type": "email", "unique": True}, {"name": "phone", "type": "phone"},
                              {"name": "at", "type": "time"}, {"name": "site", "type": "url"}])
    assert create(api, "person", {"email": "a@b.co"}).status_code == 201
    for data in ({"email": "a@b.co\n"}, {"phone": "13800138000\n"}, {"at": "10:00\n"}, {"site": "https://x.example\n"}):
        assert create(api, "person", data).status_code == 422, data


def test_duration_with_huge_exponent_is_422(api):
    ok_upload(api, "timer", [{"name": "dur", "type": "duration"}])
    response = api.call("POST", "/forms/timer/records", raw=b'{"data": {"dur": 1e5000}}')
    assert_error_envelope(response, 422)


def test_very_long_unique_value_is_4xx_not_500(api):
    ok_upload(api, "node", [{"name": "u", "type": "text", "max_length": 1000, "unique": True}])
    response = create(api, "node", {"u": "😀" * 1000})
    assert response.status_code in (201, 422), response.body[:200]


def test_record_over_item_size_limit_is_4xx_not_500(api):
    # Each request body is under the 256 KB limit, but updates merge into a record over 350 KB.
    fields = [{"name": f"t{i}", "type": "textarea", "max_length": 100000} for i in range(4)]
    ok_upload(api, "big", fields)
    record = create(api, "big", {"t0": "x" * 100000, "t1": "x" * 100000}).json
    response = api.call("PATCH", f"/forms/big/records/{record['id']}",
                        body={"version": 1, "data": {"t2": "y" * 100000, "t3": "y" * 100000}})
    assert response.status_code in (413, 422), response.body[:200]
    assert api.call("GET", f"/forms/big/records/{record['id']}").json["version"] == 1  # nothing written


def test_self_reference_update_is_not_500(api):
    ok_upload(api, "node", [{"name": "n", "type": "text"}, {"name": "parent", "type": "lookup", "form": "node"}])
    rec = create(api, "node", {"n": "a"}).json
    response = api.call("PATCH", f"/forms/node/records/{rec['id']}", body={"version": 1, "data": {"parent": rec["id"]}})
    assert response.status_code in (200, 422), response.body[:200]


def test_subtable_row_read_only_is_enforced(api):
    ok_upload(api, "order", [{"name": "rows", "type": "subtable", "fields": [
        {"name": "qty", "type": "number", "read_only": True}, {"name": "note", "type": "text"}]}])
    rec = create(api, "order", {"rows": [{"qty": 1, "note": "a"}]}).json
    response = api.call("PATCH", f"/forms/order/records/{rec['id']}", body={"version": 1, "data": {"rows": [{"qty": 99, "note": "b"}]}})
    assert response.status_code == 422


def test_required_if_on_computed_field_sees_the_new_value(api):
    ok_upload(api, "calc", [{"name": "amount", "type": "number"}, {"name": "total", "type": "computed", "expression": "amount * 2"},
                            {"name": "approval", "type": "text", "required_if": "total > 100"}])
    assert create(api, "calc", {"amount": 100}).status_code == 422


def test_filter_on_indexed_auto_number_finds_new_record(api):
    ok_upload(api, "ticket", [{"name": "no", "type": "auto_number", "format": "T{seq:3}"}, {"name": "s", "type": "text"}], indexes=["no"])
    rec = create(api, "ticket", {"s": "x"}).json
    listed = api.call("GET", "/forms/ticket/records?filter.no=T001")
    assert [r["id"] for r in listed.json["items"]] == [rec["id"]]


def test_computed_text_and_date_results_are_clean(api):
    ok_upload(api, "txt", [{"name": "rows", "type": "subtable", "fields": [{"name": "q", "type": "number"}]},
                           {"name": "s", "type": "computed", "result": "text", "expression": "rows.q"},
                           {"name": "d", "type": "computed", "result": "date", "expression": "'hello world'"}])
    data = create(api, "txt", {"rows": [{"q": 1}]}).json["data"]
    assert "Decimal" not in str(data.get("s")) and data.get("d") is None


def test_required_text_rejects_empty_string(api):
    ok_upload(api, "thing", [{"name": "name", "type": "text", "required": True}])
    assert create(api, "thing", {"name": ""}).status_code == 422


def test_null_clearing_required_and_read_only_fields(api):
    ok_upload(api, "thing", [{"name": "name", "type": "text", "required": True}, {"name": "code", "type": "text", "read_only": True},
                             {"name": "pri", "type": "select", "default": "low", "required": True, "options": [{"value": "low"}, {"value": "hi"}]}])
    rec = create(api, "thing", {"name": "a", "code": "c1"}).json
    path = f"/forms/thing/records/{rec['id']}"
    for patch in ({"name": None}, {"code": None}, {"code": "c2"}, {"pri": None}):
        response = api.call("PATCH", path, body={"version": 1, "data": patch})
        assert response.status_code == 422, patch
    assert api.call("GET", path).json["version"] == 1  # nothing was written


def test_unique_value_back_and_forth_and_swap(api):
    ok_upload(api, "acct", [{"name": "email", "type": "email", "unique": True}])
    a = create(api, "acct", {"email": "a@x.io"}).json
    b = create(api, "acct", {"email": "b@x.io"}).json
    pa, pb = f"/forms/acct/records/{a['id']}", f"/forms/acct/records/{b['id']}"
    assert api.call("PATCH", pa, body={"version": 1, "data": {"email": "b@x.io"}}).status_code == 422
    assert api.call("PATCH", pa, body={"version": 1, "data": {"email": "c@x.io"}}).status_code == 200
    assert api.call("PATCH", pb, body={"version": 1, "data": {"email": "a@x.io"}}).status_code == 200
    assert api.call("PATCH", pa, body={"version": 2, "data": {"email": "b@x.io"}}).status_code == 200
    assert api.call("PATCH", pa, body={"version": 3, "data": {"email": None}}).status_code == 200
    assert create(api, "acct", {"email": "c@x.io"}).status_code == 201
    assert create(api, "acct", {"email": "b@x.io"}).status_code == 201  # released when cleared
    assert create(api, "acct", {"email": "a@x.io"}).status_code == 422  # b holds it


# ---------------------------------------------------------------------------------------------
# Definitions: degenerate uploads
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields,extra", [
    ([{"name": f"f{i}", "type": "text"} for i in range(201)], {}),
    ([{"name": "s", "type": "select", "options": [{"value": str(i)} for i in range(501)]}], {}),
    ([{"name": "a", "type": "text", "visible_if": "a == " + "(" * 60 + "1" + ")" * 60}], {}),
    ([{"name": "a", "type": "text", "visible_if": " + ".join(["1"] * 1200)}], {}),
    ([{"name": "a", "type": "text", "visible_if": "__import__('os')"}], {}),
    ([{"name": "a", "type": "text", "visible_if": "a.__class__ == 1"}], {}),  # dunder is a field name -> rejected? see below
    ([{"name": "a", "type": "computed", "expression": "b"}, {"name": "b", "type": "computed", "expression": "a"}], {}),
    ([{"name": "a", "type": "text", "pattern": "(a+)+$"}], {}),
    ([{"name": "a", "type": "text", "pattern": "[" }], {}),
    ([{"name": "a", "type": "text"}], {"indexes": ["a", "a"]}),
    ([{"name": "a", "type": "textarea"}], {"indexes": ["a"]}),
    ([{"name": "a", "type": "text"}], {"storage": {"shards": 0}}),
    ([{"name": "a", "type": "text", "default": 5}], {}),
    ([{"name": "a", "type": "text", "bogus": 1}], {}),
    ([{"name": "A", "type": "text"}], {}),
    ([{"name": "a", "type": "auto_number", "format": "{seq:6}{seq:6}"}], {}),
    ([{"name": "a", "type": "subtable", "fields": [{"name": "x", "type": "subtable", "fields": [{"name": "y", "type": "text"}]}]}], {}),
    ([{"name": "a", "type": "number", "minimum": 5, "maximum": 1}], {}),
])
def test_degenerate_definitions_are_422_and_not_stored(api, fields, extra):
    response = upload(api, "degenerate", fields, **extra)
    if fields[0].get("visible_if") == "a.__class__ == 1":
        # member access is data-only: allowed, but must evaluate harmlessly
        assert response.status_code == 201
        assert create(api, "degenerate", {"a": "x"}).status_code == 201
        return
    assert_error_envelope(response, 422)
    assert api.call("GET", "/definitions/form/degenerate").status_code == 404


@pytest.mark.parametrize("pattern", ["^(a|aa)+$", "^((a+))+$", "^(\\w|\\d)+$"])
def test_catastrophic_text_patterns_are_rejected(api, pattern):
    assert_error_envelope(upload(api, "redos", [{"name": "s", "type": "text", "pattern": pattern}]), 422)


def test_date_bounds_are_validated_at_upload(api):
    response = upload(api, "dmin", [{"name": "d", "type": "date", "minimum": "yesterday"}])
    if response.status_code == 201:  # if accepted, records must at least not crash
        assert create(api, "dmin", {"d": "2026-01-01"}).status_code in (201, 422)
    assert_error_envelope(response, 422)


def test_out_of_range_number_in_definition_cannot_brick_the_form(api):
    raw = b'{"title":"t","permissions":{"create":["*"],"read":["*"]},"fields":[{"name":"n","type":"number","minimum":-1e400}]}'
    response = api.call("POST", "/definitions/form/inf/versions", raw=raw)
    if response.status_code == 201:
        assert api.call("GET", "/definitions/form/inf/versions/1").status_code == 200
        assert create(api, "inf", {"n": 1}).status_code == 201
    else:
        assert_error_envelope(response, 422)


def test_upload_response_published_is_a_version_number(api):
    body = ok_upload(api, "thing", [{"name": "a", "type": "text"}])
    assert body["published"] == 1 and not isinstance(body["published"], bool)


def test_index_slots_cannot_be_remapped_by_publishing_an_old_version(api):
    fields = [{"name": "a", "type": "text"}, {"name": "b", "type": "text"}, {"name": "c", "type": "text"}]
    ok_upload(api, "remap", fields, indexes=["a"])
    ok_upload(api, "remap", fields, indexes=["a", "b"])
    create(api, "remap", {"b": "x"})
    assert api.call("POST", "/definitions/form/remap/versions/1/publish").status_code == 200
    third = upload(api, "remap", fields, indexes=["a", "c"])
    if third.status_code == 201:
        listed = api.call("GET", "/forms/remap/records?filter.c=x").json["items"]
        assert all(r["data"].get("c") == "x" for r in listed), listed


# ---------------------------------------------------------------------------------------------
# Roles
# ---------------------------------------------------------------------------------------------

def test_update_only_role_cannot_read_records(api):
    ok_upload(api, "secret", [{"name": "s", "type": "text"}],
              permissions={"create": ["admin"], "read": ["admin"], "update": ["clerk"], "delete": ["admin"]})
    rec = create(api, "secret", {"s": "top secret"}).json
    clerk = dict(user="c", roles=["clerk"])
    assert api.call("GET", f"/forms/secret/records/{rec['id']}", **clerk).status_code == 403
    response = api.call("PATCH", f"/forms/secret/records/{rec['id']}", body={"version": 99, "data": {}}, **clerk)
    assert response.status_code == 409 and b"top secret" not in response.body


def test_role_matrix_of_the_shipped_work_order(demo_api):
    api = demo_api
    customer = new_customer(api)
    wo = create(api, "work_order", work_order_data(customer["id"]), **AGENT).json
    path = f"/forms/work_order/records/{wo['id']}"
    assert create(api, "work_order", work_order_data(customer["id"]), **ENGINEER).status_code == 403
    assert create(api, "work_order", work_order_data(customer["id"]), **MANAGER).status_code == 403
    assert api.call("PATCH", path, body={"version": 1, "data": {"priority": "high"}}, **MANAGER).status_code == 403
    assert api.call("DELETE", path + "?version=1", **AGENT).status_code == 403
    assert api.call("DELETE", path + "?version=1", **ENGINEER).status_code == 403
    assert api.call("GET", path, user="x", roles=["nobody"]).status_code == 403
    assert api.call("GET", "/forms/work_order/records", user="x", roles=["nobody"]).status_code == 403
    assert api.call("GET", "/forms/work_order/schema", user="x", roles=["nobody"]).status_code == 403
    for method, route in (("POST", "/definitions/form/work_order/versions"), ("POST", "/definitions/form/work_order/versions/1/publish"),
                          ("PUT", "/members/eng.zhang"), ("GET", "/members/agent.li")):
        assert api.call(method, route, body={"title": "x", "fields": []}, **SUPERVISOR).status_code == 403, route
    assert api.call("DELETE", path + "?version=1", **SUPERVISOR).status_code == 200


# ---------------------------------------------------------------------------------------------
# Idempotency
# ---------------------------------------------------------------------------------------------

def test_idempotency_edges(api):
    ok_upload(api, "thing", [{"name": "name", "type": "text"}, {"name": "no", "type": "auto_number", "format": "N{seq:3}"}])
    key = {"Idempotency-Key": "retry-key-0001"}
    first = create(api, "thing", {"name": "a"}, headers=key)
    again = create(api, "thing", {"name": "a"}, headers=key)
    assert first.status_code == again.status_code == 201 and again.json == first.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    # same key, other body -> 422, other user with same body -> 422 (the key is bound to the caller)
    assert create(api, "thing", {"name": "b"}, headers=key).status_code == 422
    assert create(api, "thing", {"name": "a"}, headers=key, user="someone", roles=["x"]).status_code == 422
    # replay after the record was deleted still returns the first result and writes nothing
    assert api.call("DELETE", f"/forms/thing/records/{first.json['id']}?version=1").status_code == 200
    assert create(api, "thing", {"name": "a"}, headers=key).json["id"] == first.json["id"]
    # same key in another tenant is a different request
    ok_upload(api, "thing", [{"name": "name", "type": "text"}], tenant=api.tenant + "-2")
    other = create(api, "thing", {"name": "a"}, headers=key, tenant=api.tenant + "-2")
    assert other.status_code == 201 and other.json["id"] != first.json["id"]
    for bad in ("short", "x" * 129, "spaces are bad", "ünïcode-key", "", "a/b/c/d/e/f"):
        assert create(api, "thing", {"name": "a"}, headers={"Idempotency-Key": bad}).status_code == 400, bad
    numbers = [r["number"] for r in api.call("GET", "/forms/thing/records").json["items"]]
    assert numbers == []  # the only record was deleted; no extra record or number was burnt by replays
    assert create(api, "thing", {"name": "z"}).json["number"] == "N002"


# ---------------------------------------------------------------------------------------------
# Tenant isolation
# ---------------------------------------------------------------------------------------------

def test_tenant_isolation_of_references_unique_values_members_and_definitions(api):
    fields = [{"name": "email", "type": "email", "unique": True}, {"name": "peer", "type": "lookup", "form": "acct"},
              {"name": "owner", "type": "user"}]
    ok_upload(api, "acct", fields, indexes=["email"])
    ok_upload(api, "acct", fields, indexes=["email"], tenant=api.tenant + "-b")
    api.call("PUT", "/members/alice", body={"display_name": "Alice"})
    a = create(api, "acct", {"email": "x@y.io", "owner": "alice"})
    assert a.status_code == 201
    b = dict(tenant=api.tenant + "-b")
    # the same unique value is free in another tenant
    assert create(api, "acct", {"email": "x@y.io"}, **b).status_code == 201
    # tenant b cannot point at tenant a's record or member
    assert create(api, "acct", {"peer": a.json["id"]}, **b).status_code == 422
    assert create(api, "acct", {"owner": "alice"}, **b).status_code == 422
    # nor read, list, filter, change or delete it, nor its definitions
    path = f"/forms/acct/records/{a.json['id']}"
    assert api.call("GET", path, **b).status_code == 404
    assert api.call("PATCH", path, body={"version": 1, "data": {}}, **b).status_code == 404
    assert api.call("DELETE", path + "?version=1", **b).status_code == 404
    assert [r["id"] for r in api.call("GET", "/forms/acct/records?filter.email=x@y.io", **b).json["items"]] != [a.json["id"]]
    assert api.call("GET", "/members/alice", **b).status_code == 404
    ok_upload(api, "only_a", [{"name": "s", "type": "text"}])
    assert api.call("GET", "/definitions/form/only_a", **b).status_code == 404
    assert api.call("GET", "/forms/only_a/schema", **b).status_code == 404
    assert "only_a" not in {d["name"] for d in api.call("GET", "/definitions", **b).json["items"]}
    assert api.call("POST", "/definitions/form/only_a/versions/1/publish", **b).status_code == 404
    # a cursor issued to tenant a is refused in tenant b
    create(api, "acct", {"email": "z@y.io"})
    cursor = api.call("GET", "/forms/acct/records?limit=1").json["next_cursor"]
    assert cursor and api.call("GET", f"/forms/acct/records?limit=1&cursor={cursor}", **b).status_code == 400
