"""The form designer in a real browser on the real local stack (tools.localstack; Debian's chromium driven by
`console/e2e/form_designer.mjs`): the admin builds the form "equipment_check" without writing JSON — a text,
a number with min/max, a select of three options labelled in both languages (placed as a required text,
its type changed after: label and required kept), a sub-table "checklist" (a
pass/fail select and notes), a photo, a visibility rule typed first with a typo (the problem at the field,
the server's refusal of a save at its path) — reorders fields by drag and drop and by keyboard, saves, sees
the changes, publishes; then changes one label of the shipped work order, sees just that change, does not
publish; axe-clean in en and zh-CN. The API then holds what the designer drew. Needs the console built."""
from __future__ import annotations

import pytest

from tools import localstack

from .conftest import run_script

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


def test_an_admin_designs_publishes_and_changes_forms(tmp_path, browser_ready):
    with localstack.running(tmp_path) as stack:
        # two live work orders, for the work order's change impact
        customer = localstack.call(stack, "POST", "/forms/customer/records", "agent.li", {"data": {
            "name": "Harbour Hotel", "phone": "13800138000", "region": "north"}})
        for fault in ("The chiller is noisy", "No cooling"):
            localstack.call(stack, "POST", "/forms/work_order/records", "agent.li", {"data": {
                "customer": customer["id"], "fault_description": fault, "region": "north", "product_line": "hvac",
                "priority": "high", "service_address": "1 Harbour Road, Shanghai"}})
        summary = run_script("form_designer.mjs", stack)
        head = localstack.call(stack, "GET", "/definitions/form/equipment_check", "admin")
        assert head["published"] == head["latest"] == 1
        form = localstack.call(stack, "GET", "/definitions/form/equipment_check/versions/1", "admin")["definition"]
        fields = {f["name"]: f for f in form["fields"]}
        assert [f["name"] for f in form["fields"]] == summary["order"] == ["photo", "serial", "pressure", "condition", "checklist"]
        assert form["title"] == "Equipment check" and form["translations"]["zh-CN"]["title"] == "设备检查"
        assert fields["serial"]["type"] == "text" and fields["serial"]["translations"]["zh-CN"]["label"] == "序列号"
        assert (fields["pressure"]["type"], fields["pressure"]["minimum"], fields["pressure"]["maximum"]) == ("number", 0, 10)
        assert [(o["value"], o["label"], o["translations"]["zh-CN"]["label"]) for o in fields["condition"]["options"]] == [
            ("good", "Good", "良好"), ("worn", "Worn", "磨损"), ("broken", "Broken", "损坏")]
        columns = {c["name"]: c for c in fields["checklist"]["fields"]}
        assert list(columns) == ["notes", "result"] and columns["notes"]["type"] == "text"
        assert [o["value"] for o in columns["result"]["options"]] == ["pass", "fail"]
        assert fields["photo"]["type"] == "image" and fields["photo"]["visible_if"] == "condition == 'broken'"
        assert "unknown field 'conditon'" in summary["typo"] and "visible_if" in summary["refused"]
        assert summary["expression_check"]["error"]["position"] == 0  # the work order's typo, from the endpoint
        # the new form was never published: its typo checked against the draft the designer sent along
        draft_check = summary["draft_expression_check"]
        assert draft_check["status"] == 200 and draft_check["sent_definition"], draft_check
        assert draft_check["answer"]["error"]["position"] == 0 and "did you mean 'condition'" in draft_check["answer"]["error"]["message"]
        # condition was placed as a required text with a maximum length, then turned into a select
        assert fields["condition"]["type"] == "select" and fields["condition"]["required"] is True
        assert "max_length" not in fields["condition"] and "max_length" in summary["type_change"]
        assert fields["condition"]["label"] == "Condition" and fields["condition"]["translations"]["zh-CN"]["label"] == "状况"

        record = localstack.call(stack, "POST", "/forms/equipment_check/records", "admin", {"data": {
            "serial": "EQ-0001", "pressure": 7, "condition": "worn",
            "checklist": [{"result": "pass", "notes": "valve ok"}, {"result": "fail", "notes": "seal worn"}]}})
        stored = localstack.call(stack, "GET", f"/forms/equipment_check/records/{record['id']}", "admin")
        assert stored["data"]["pressure"] == 7 and [r["result"] for r in stored["data"]["checklist"]] == ["pass", "fail"]
        # the filterable fields set in the form's settings: the list filters by them
        assert form["indexes"] == summary["filterable"] == ["serial", "condition"]
        worn = localstack.call(stack, "GET", "/forms/equipment_check/records?filter.condition=worn", "admin")
        assert [r["id"] for r in worn["items"]] == [record["id"]]
        assert localstack.call(stack, "GET", "/forms/equipment_check/records?filter.condition=good", "admin")["items"] == []

        # the work order: version 2 saved with the one label changed, not published
        work_order = localstack.call(stack, "GET", "/definitions/form/work_order", "admin")
        assert work_order["latest"] == 2 and work_order["published"] == 1
        # its change impact was a dry run over the live orders: every one would move (a label changed: nothing
        # newly required, no report's numbers), and none did
        orders = localstack.call(stack, "GET", "/forms/work_order/records?limit=100", "admin")["items"]
        assert summary["form_impact"] == {"moved": len(orders), "needs_values": 0, "reports": 1}, summary["form_impact"]
        assert len(orders) == 2 and {o["form_version"] for o in orders} == {1}
        diff = localstack.call(stack, "GET", "/definitions/form/work_order/diff?from=1&to=2", "admin")
        assert diff["changes"] == [{"op": "replace", "path": "/fields/11/translations/zh-CN/label", "value": "紧急程度", "old_value": "优先级"}]
