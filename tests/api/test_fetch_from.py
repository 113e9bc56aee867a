"""Fields that follow a lookup (`fetch_from`): copied in when the lookup is set or changes (one read
per lookup), kept when the same write sets them, cleared with the lookup, not re-copied on other
edits; written by the platform even where the caller may not edit them; checked at upload against
the looked-up form."""
from chalicelib.services import lookups

from .test_review_workflow import EVERYONE, STAFF, upload

PRODUCT = {"title": "Product", "permissions": EVERYONE, "fields": [
    {"name": "serial", "type": "text", "required": True}, {"name": "line", "type": "select", "options": [{"value": "hvac"}, {"value": "lift"}]},
    {"name": "units", "type": "number"}]}


def _order_form(api, **extra):
    upload(api, "form", "product", PRODUCT)
    upload(api, "form", "order", {"title": "Order", "permissions": EVERYONE, "fields": [
        {"name": "title", "type": "text"}, {"name": "product", "type": "lookup", "form": "product"},
        {"name": "serial", "type": "text", "fetch_from": "product.serial", **extra},
        {"name": "line", "type": "select", "options": [{"value": "hvac"}, {"value": "lift"}, {"value": "other"}],
         "fetch_from": "product.line"},
        {"name": "units_text", "type": "text", "fetch_from": "product.units"}]})


def _product(api, serial, line, units=2):
    return api.call("POST", "/forms/product/records", body={"data": {"serial": serial, "line": line, "units": units}},
                    **STAFF("desk")).json["id"]


def test_a_lookup_brings_its_fields_and_a_change_brings_the_new_ones(api, monkeypatch):
    _order_form(api)
    a, b = _product(api, "SN-A", "hvac"), _product(api, "SN-B", "lift", 3)
    reads = []
    real = lookups.record_store.get_record
    monkeypatch.setattr(lookups.record_store, "get_record",  # reads of a product (the module serves other reads too)
                        lambda tenant, rid, **kw: (rid in (a, b) and reads.append(rid)) or real(tenant, rid, **kw))
    made = api.call("POST", "/forms/order/records", body={"data": {"title": "x", "product": a}}, **STAFF("desk"))
    assert made.status_code == 201, made.json
    assert {k: made.json["data"].get(k) for k in ("serial", "line", "units_text")} == {"serial": "SN-A", "line": "hvac", "units_text": "2"}
    assert len(reads) == 1  # three fields, one lookup: one read
    path = f"/forms/order/records/{made.json['id']}"
    edited = api.call("PATCH", path, body={"version": 1, "data": {"title": "y"}}, **STAFF("desk")).json
    assert edited["data"]["serial"] == "SN-A" and len(reads) == 1  # another field's edit fetches nothing
    hand = api.call("PATCH", path, body={"version": 2, "data": {"serial": "typed"}}, **STAFF("desk")).json
    assert hand["data"]["serial"] == "typed"  # editable by hand
    moved = api.call("PATCH", path, body={"version": 3, "data": {"product": b}}, **STAFF("desk")).json
    assert (moved["data"]["serial"], moved["data"]["line"]) == ("SN-B", "lift")
    assert set(moved["changed_fields"]) >= {"product", "serial", "line", "units_text"}
    both = api.call("PATCH", path, body={"version": 4, "data": {"product": a, "serial": "mine"}}, **STAFF("desk")).json
    assert (both["data"]["serial"], both["data"]["line"]) == ("mine", "hvac")  # the write's own value wins
    cleared = api.call("PATCH", path, body={"version": 5, "data": {"product": None}}, **STAFF("desk")).json
    assert cleared["data"].get("serial") is None and cleared["data"].get("line") is None


def test_a_missing_product_is_refused_at_the_lookup_not_copied(api):
    _order_form(api)
    gone = api.call("POST", "/forms/order/records", body={"data": {"product": "01J00000000000000000000000"}}, **STAFF("desk"))
    assert gone.status_code == 422
    assert [d["path"] for d in gone.json["error"]["details"]] == ["data.product"]


def test_fetch_from_is_checked_at_upload(api):
    upload(api, "form", "product", PRODUCT)
    base = {"title": "Order", "permissions": EVERYONE}
    cases = [
        ([{"name": "serial", "type": "text", "fetch_from": "product.serial"}], "fields[0].fetch_from", "not a lookup field"),
        ([{"name": "product", "type": "lookup", "form": "product"}, {"name": "x", "type": "text", "fetch_from": "product.nope"}],
         "fields[1].fetch_from", "has no field 'nope'"),
        ([{"name": "product", "type": "lookup", "form": "product"}, {"name": "x", "type": "number", "fetch_from": "product.serial"}],
         "fields[1].fetch_from", "cannot be copied"),
        ([{"name": "product", "type": "lookup", "form": "product"},
          {"name": "line", "type": "select", "options": [{"value": "hvac"}], "fetch_from": "product.line"}],
         "fields[1].fetch_from", "options this field lacks: lift"),
        ([{"name": "product", "type": "lookup", "form": "product"}, {"name": "x", "type": "computed", "expression": "1",
                                                                     "fetch_from": "product.units"}],
         "fields[1].fetch_from", "top-level fields"),
        ([{"name": "product", "type": "lookup", "form": "ghost"}, {"name": "x", "type": "text", "fetch_from": "product.serial"}],
         "fields[1].fetch_from", "not published"),
    ]
    for fields, where, says in cases:
        refused = api.call("POST", "/definitions/form/order/versions", body={**base, "fields": fields})
        assert refused.status_code == 422, (fields, refused.json)
        details = refused.json["error"]["details"]
        assert any(d["path"] == where and says in d["message"] for d in details), (fields, details)


def test_the_copy_is_the_platforms_where_the_state_lets_the_caller_edit_only_the_lookup(api):
    _order_form(api)
    upload(api, "workflow", "order", {"StartAt": "Fix", "States": {
        "Fix": {"Type": "Task", "Assignee": {"Users": ["ann"]}, "Editable": ["product"], "Actions": {"ok": {"Next": "End"}}},
        "End": {"Type": "Succeed"}}})
    a, b = _product(api, "SN-A", "hvac"), _product(api, "SN-B", "lift")
    made = api.call("POST", "/forms/order/records", body={"data": {"product": a}}, **STAFF("desk")).json
    path = f"/forms/order/records/{made['id']}"
    assert api.call("PATCH", path, body={"version": 1, "data": {"serial": "x"}}, **STAFF("ann")).status_code == 403
    moved = api.call("PATCH", path, body={"version": 1, "data": {"product": b}}, **STAFF("ann"))
    assert moved.status_code == 200, moved.json
    assert moved.json["data"]["serial"] == "SN-B"
