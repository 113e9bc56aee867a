"""Hidden means hidden, and unique means unique to a person (issue 12):

- a computed field derived from a hidden field is hidden too, through other computed fields as well
  (a price-with-tax would reveal the hidden price);
- the form's JSON Schema, error details, action lists and the access explanation shown to a role do
  not name fields hidden from it;
- unique e-mail, phone and case-insensitive text values compare normalised (case, Unicode width,
  spaces, phone separators), on create, update, delete and inbound upserts.
"""
QUOTE = {
    "title": "Quote", "indexes": ["price", "owner"],
    "fields": [
        {"name": "owner", "type": "text"},
        {"name": "price", "type": "money", "required": True},
        {"name": "tax_rate", "type": "number", "scale": 2},
        {"name": "price_with_tax", "type": "computed", "expression": "price * (1 + tax_rate)"},
        {"name": "band", "type": "computed", "expression": "price_with_tax > 1000", "result": "boolean"},  # via price_with_tax
        {"name": "rate_label", "type": "computed", "expression": "tax_rate * 100"},       # no hidden input: shown
        {"name": "discount_code", "type": "text", "visible_if": "price > 1000"},
        {"name": "note", "type": "text", "required_if": "tax_rate > 0.5"},
    ],
    "permissions": {"create": ["sales", "engineer"], "read": ["sales", "engineer"], "update": ["sales", "engineer"],
                    "fields": {"engineer": {"hidden": ["price"]}}},
}
SALES = dict(user="sam", roles=["sales"])
ENGINEER = dict(user="eve", roles=["engineer"])
HIDDEN_FROM_ENGINEERS = {"price", "price_with_tax", "band"}


def _quote(api):
    assert api.call("POST", "/definitions/form/quote/versions", body=QUOTE).status_code == 201
    made = api.call("POST", "/forms/quote/records", body={"data": {"owner": "sam", "price": 1200, "tax_rate": 0.13}}, **SALES)
    assert made.status_code == 201, made.json
    return made.json


def _names_in(value) -> str:
    import json
    return json.dumps(value)


def test_a_computed_field_over_a_hidden_field_is_hidden_too(api):
    quote = _quote(api)
    seen = api.call("GET", f"/forms/quote/records/{quote['id']}", **ENGINEER).json["data"]
    assert not HIDDEN_FROM_ENGINEERS & set(seen), seen
    assert seen["rate_label"] == 13  # a computed field over visible inputs stays visible
    full = api.call("GET", f"/forms/quote/records/{quote['id']}", **SALES).json["data"]
    assert HIDDEN_FROM_ENGINEERS <= set(full)
    # nor can an engineer set or filter on it
    listed = api.call("GET", "/forms/quote/records?filter.price=1200", **ENGINEER)
    assert listed.status_code == 400


def test_the_schema_a_role_gets_omits_what_it_may_not_see(api):
    _quote(api)
    schema = api.call("GET", "/forms/quote/schema", **ENGINEER).json
    assert not HIDDEN_FROM_ENGINEERS & set(schema["properties"])
    assert "price" not in schema.get("required", []) and "price" not in schema["x-indexes"]
    discount = schema["properties"]["discount_code"]
    assert "x-visible-if" not in discount and discount["x-server-condition"] is True
    assert "price" not in _names_in(schema)
    assert schema["properties"]["note"]["x-required-if"] == "tax_rate > 0.5"  # names only visible fields: kept
    full = api.call("GET", "/forms/quote/schema", **SALES).json
    assert HIDDEN_FROM_ENGINEERS <= set(full["properties"]) and full["properties"]["discount_code"]["x-visible-if"]


def test_error_details_do_not_name_hidden_fields(api):
    _quote(api)
    refused = api.call("POST", "/forms/quote/records", body={"data": {"owner": "eve", "tax_rate": 0.1}}, **ENGINEER)
    assert refused.status_code == 422
    assert "price" not in _names_in(refused.json), refused.json  # 'data.price is required' would name it
    assert refused.json["error"]["details"], "the caller still learns the write was refused, and why in general"
    # what the caller sent themselves is named as usual
    bad = api.call("POST", "/forms/quote/records", body={"data": {"owner": "eve", "tax_rate": "high"}}, **ENGINEER)
    assert any(d["path"] == "data.tax_rate" for d in bad.json["error"]["details"])
    # those who may see the field are told exactly
    told = api.call("POST", "/forms/quote/records", body={"data": {"owner": "sam", "tax_rate": 0.1}}, **SALES)
    assert any(d["path"] == "data.price" for d in told.json["error"]["details"])


def test_the_access_explanation_names_the_derived_hidden_fields(api):
    quote = _quote(api)
    api.call("PUT", "/members/eve", body={"roles": ["engineer"]})
    explained = api.call("GET", f"/forms/quote/records/{quote['id']}/access?user=eve").json
    engineer = next(r for r in explained["per_role"] if r["role"] == "engineer")
    assert set(engineer["hidden"]) == HIDDEN_FROM_ENGINEERS
    assert not HIDDEN_FROM_ENGINEERS & set(explained["visible_fields"])


CONTACT = {
    "title": "Contact",
    "fields": [{"name": "email", "type": "email", "unique": True},
               {"name": "phone", "type": "phone", "unique": True},
               {"name": "code", "type": "text", "unique": True, "case_insensitive": True},
               {"name": "label", "type": "text", "unique": True}],
}


def test_unique_values_compare_normalised(api):
    assert api.call("POST", "/definitions/form/contact/versions", body=CONTACT).status_code == 201
    first = api.call("POST", "/forms/contact/records",
                     body={"data": {"email": "Ann.Lee@Example.com", "phone": "+86 138-0013-8000", "code": "ACME Ltd",
                                    "label": "Ann"}})
    assert first.status_code == 201, first.json
    for field, same in (("email", "ann.lee@example.COM"), ("phone", "+8613800138000"), ("code", "acme  ltd"),
                        ("code", "ＡＣＭＥ Ltd")):  # full-width letters are the same text to a person
        taken = api.call("POST", "/forms/contact/records", body={"data": {field: same}})
        assert taken.status_code == 422, (field, same, taken.json)
        assert any(d["path"] == f"data.{field}" for d in taken.json["error"]["details"])
    # a field not marked case-insensitive keeps exact comparison
    assert api.call("POST", "/forms/contact/records", body={"data": {"label": "ann"}}).status_code == 201
    # an update to another spelling of the same address keeps its own claim, and a delete frees it
    rid = first.json["id"]
    moved = api.call("PATCH", f"/forms/contact/records/{rid}", body={"version": 1, "data": {"email": "ANN.LEE@example.com"}})
    assert moved.status_code == 200, moved.json
    assert api.call("DELETE", f"/forms/contact/records/{rid}?version=2").status_code in (200, 204)
    again = api.call("POST", "/forms/contact/records", body={"data": {"email": "ann.lee@example.com", "phone": "+86 13800138000",
                                                                      "code": "acme ltd"}})
    assert again.status_code == 201, again.json


def test_case_insensitive_is_a_text_option_only(api):
    bad = {"title": "Bad", "fields": [{"name": "n", "type": "number", "case_insensitive": True}]}
    response = api.call("POST", "/definitions/form/bad/versions", body=bad)
    assert response.status_code == 422
