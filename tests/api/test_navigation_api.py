"""GET /navigation: the console's menus come from the tenant's published definitions (issue 13)."""
from .helpers import AGENT, ENGINEER

SECOND = {"title": "Asset inspection", "fields": [{"name": "asset_tag", "type": "text", "label": "Asset tag"},
                                                {"name": "cost", "type": "money", "label": "Cost"}],
          "indexes": ["asset_tag", "cost"],
          "permissions": {"create": ["agent"], "read": ["agent"], "update": ["agent"], "fields": {"agent": {"hidden": ["cost"]}}}}


def test_menus_follow_the_published_definitions_and_the_callers_grants(demo_api):
    nav = demo_api.call("GET", "/navigation", **AGENT).json
    forms = {f["name"]: f for f in nav["forms"]}
    assert {"work_order", "customer"} <= set(forms)
    order = forms["work_order"]
    assert order["title"] == "Work order" and order["workflow"] == "work_order" and order["can_create"]
    names = [s["name"] for s in order["states"]]
    assert names[0] == "Review" and {"OnSite", "Closed", "Cancelled"} <= set(names) and "AutoDispatch" not in names
    assert all(s["type"] in {"Task", "Approval", "Wait", "Succeed", "Fail"} for s in order["states"])
    field = order["field_service"]  # the record page offers check-in and parts from these settings
    assert field["engineer_field"] == "assigned_engineer" and field["checkin"]["states"] == ["Travelling", "OnSite"]
    assert field["parts"]["lines_field"] == "parts_used" and field["parts"]["van"] is True
    assert forms["customer"]["field_service"] is None
    assert {"name": "region", "label": "Service region"}.items() <= next(f for f in order["filters"] if f["name"] == "region").items()
    # a second app appears as soon as it is published, for those who may read it
    assert demo_api.call("POST", "/definitions/form/asset_inspection/versions", body=SECOND).status_code == 201
    again = {f["name"]: f for f in demo_api.call("GET", "/navigation", **AGENT).json["forms"]}
    assert again["asset_inspection"]["title"] == "Asset inspection"
    assert "cost" not in [c["name"] for c in again["asset_inspection"]["columns"]]  # hidden from agents
    assert "cost" not in [f["name"] for f in again["asset_inspection"]["filters"]]
    engineer = {f["name"] for f in demo_api.call("GET", "/navigation", **ENGINEER).json["forms"]}
    assert "asset_inspection" not in engineer and "work_order" in engineer
    assert not forms["work_order"].get("admin")
    assert {"name": "service_overview", "title": "After-sales service overview"} in nav["dashboards"]  # the sidebar's titles
    # engineers never see the hidden contract price among work-order columns or filters
    eng_order = next(f for f in demo_api.call("GET", "/navigation", **ENGINEER).json["forms"] if f["name"] == "work_order")
    assert "contract_price" not in [c["name"] for c in eng_order["columns"]] + [f["name"] for f in eng_order["filters"]]
