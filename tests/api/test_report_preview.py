"""A report designer's live chart (issue 15): POST /reports/{name}/preview computes a draft report over
the form's newest records (bounded, stated in the answer), stores nothing, refuses a bad draft with
the upload's paths, and is the admin's alone."""
from decimal import Decimal

from .helpers import AGENT, new_customer, new_work_order

DRAFT = {"title": "Orders by priority", "form": "work_order",
         "dimensions": [{"name": "priority", "field": "priority"}],
         "measures": [{"name": "orders", "op": "count"}], "scope": ["region"]}


def test_a_draft_report_is_computed_over_the_newest_records_and_stored_nowhere(demo_api):
    customer = new_customer(demo_api)["id"]
    for priority in ("urgent", "urgent", "normal"):
        new_work_order(demo_api, customer, priority=priority)
    answer = demo_api.call("POST", "/reports/by_priority/preview", body={
        "definition": DRAFT, "chart": {"type": "bar", "x": "priority", "y": "orders"}})
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert {r["priority"]: Decimal(str(r["orders"])) for r in body["rows"]} == {"urgent": 2, "normal": 1}
    assert body["records_read"] == 3 and body["complete"] is True and body["bound"] == 500
    spec = body["vega_lite"]
    assert spec["mark"]["type"] == "bar" and len(spec["data"]["values"]) == 2
    assert [d["name"] for d in body["dimensions"]] == ["priority"]
    # nothing was stored: no such report
    assert demo_api.call("GET", "/reports/by_priority").status_code == 404
    assert demo_api.call("GET", "/definitions/report/by_priority").status_code == 404


def test_a_bad_draft_or_chart_is_refused_at_its_path_and_only_admins_preview(demo_api):
    bad = demo_api.call("POST", "/reports/r1/preview", body={"definition": {**DRAFT, "dimensions": [{"name": "p", "field": "no_such_field"}]}})
    assert bad.status_code == 422 and any("dimensions" in d["path"] for d in bad.json["error"]["details"]), bad.json
    chart = demo_api.call("POST", "/reports/r1/preview", body={"definition": DRAFT, "chart": {"type": "donut"}})
    assert chart.status_code == 400 and chart.json["error"]["details"][0]["path"].startswith("chart"), chart.json
    assert demo_api.call("POST", "/reports/r1/preview", body={"report": DRAFT}).status_code == 400
    assert demo_api.call("POST", "/reports/r1/preview", body={"definition": DRAFT}, **AGENT).status_code == 403
