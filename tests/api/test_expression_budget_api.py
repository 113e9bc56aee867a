"""Expression budget per request through the API: a form whose expressions together cannot fit one
request's budget is refused at upload (with the paths), and a list page whose row rule adds up past the
budget stops with 422 expression_budget_exceeded naming the form and the rule (never runs long)."""
from chalicelib.expressions.limits import MAX_EVALUATION_STEPS, MAX_REQUEST_STEPS

ROWS = 200  # the platform's sub-table row limit (SubTableField.max_rows <= 200)
# ~16,000 steps on a record with 200 rows (under the per-expression 20,000), ~161 nodes: estimated 20,000.
HEAVY = "sum([" + ", ".join(["sum(rows.q)"] * 40) + "])"


def _form(extra_fields=(), rows_rules=None):
    return {"title": "Ledger", "fields": [
        {"name": "label", "type": "text"},
        {"name": "rows", "type": "subtable", "max_rows": ROWS, "fields": [{"name": "q", "type": "number"}]},
        *extra_fields],
        "permissions": {"read": ["admin", "auditor", "viewer"], "rows": rows_rules or {}}}


def test_form_whose_computed_fields_together_exceed_the_request_budget_is_refused_with_paths(api):
    count = MAX_REQUEST_STEPS // MAX_EVALUATION_STEPS + 2  # each one under the per-expression limit
    heavy = [{"name": f"total_{i}", "type": "computed", "result": "number", "expression": HEAVY} for i in range(count)]
    response = api.call("POST", "/definitions/form/ledger/versions", body=_form(heavy))
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "invalid_definition"
    paths = [d["path"] for d in error["details"]]
    assert paths and all(p.startswith("fields[") and p.endswith("].expression") for p in paths)
    assert str(MAX_REQUEST_STEPS) in error["details"][0]["message"]
    assert api.call("GET", "/definitions/form/ledger").status_code == 404
    # The same fields, few enough to fit one request, are accepted.
    fits = api.call("POST", "/definitions/form/ledger/versions", body=_form(heavy[: MAX_REQUEST_STEPS // MAX_EVALUATION_STEPS - 1]))
    assert fits.status_code == 201, fits.json


def test_sub_table_conditions_count_once_per_row(api):
    # A visible_if on a row field runs for each of the 200 rows: 200 x ~20 nodes x 201 rows, far over.
    form = _form()
    form["fields"][1]["fields"].append({"name": "note", "type": "text", "visible_if": "sum(rows.q) > 0 and q > 0"})
    response = api.call("POST", "/definitions/form/ledger/versions", body=form)
    assert response.status_code == 422, response.json
    assert response.json["error"]["details"][0]["path"] == "fields[1].fields[1].visible_if"


def test_list_page_with_an_expensive_row_rule_stops_with_the_budget_error(api):
    upload = api.call("POST", "/definitions/form/ledger/versions",
                      body=_form(rows_rules={"auditor": f"{HEAVY} >= 0", "viewer": "count(rows.q) >= 0"}))
    assert upload.status_code == 201, upload.json
    for n in range(8):  # ~16,000 steps per rule evaluation: 8 records are well past 200,000
        created = api.call("POST", "/forms/ledger/records",
                           body={"data": {"label": f"l{n}", "rows": [{"q": 1}] * ROWS}})
        assert created.status_code == 201, created.json
    page = api.call("GET", "/forms/ledger/records?limit=20", user="aud", roles=["auditor"])
    assert page.status_code == 422, page.json
    error = page.json["error"]
    assert error["code"] == "expression_budget_exceeded"
    assert "form 'ledger'" in error["message"]
    assert error["details"][0]["path"] == "permissions.rows.auditor"
    # The same page under a cheap rule is served, and the next request has a budget of its own.
    cheap = api.call("GET", "/forms/ledger/records?limit=20", user="view", roles=["viewer"])
    assert cheap.status_code == 200, cheap.json
    assert len(cheap.json["items"]) == 8
    one = api.call("GET", f"/forms/ledger/records/{cheap.json['items'][0]['id']}", user="aud", roles=["auditor"])
    assert one.status_code == 200, one.json
