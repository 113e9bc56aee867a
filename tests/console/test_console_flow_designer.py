"""The workflow designer in a real browser on the real local stack (tools.localstack; Debian's chromium
driven by `console/e2e/flow_designer.mjs`): three work orders are made through the API, one of them
dispatched (AwaitAcceptance), two left in Review. The admin opens the shipped work_order workflow in the
designer, adds an Inspection task between Travelling and OnSite (one edge dragged on the diagram, one
set in the keyboard table), sees the server's check on the new node until it is connected, renames
Review (which holds live records) to Triage, saves a new version, reads its impact (the 2 records in
Review, mapped to Triage; the per-region-and-status report, whose numbers those 2 would rebuild),
publishes with that mapping and waits for the migration job; then makes PartsCheck's first rule a
compound one (And with a nested Not) in the panel's rule tree and saves it; en and zh-CN,
axe-clean. The API then holds what the page did. Needs the console built (CONSOLE_DIST or console/dist)."""
from __future__ import annotations

import pytest

from tools import localstack

from .conftest import run_script

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


def test_an_admin_designs_a_workflow_and_publishes_it_with_a_migration(tmp_path, browser_ready):
    with localstack.running(tmp_path) as stack:
        call = lambda method, path, user, body=None: localstack.call(stack, method, path, user, body)  # noqa: E731
        customer = call("POST", "/forms/customer/records", "agent.li", {"data": {"name": "Harbour Hotel", "phone": "13800138000", "region": "north"}})
        made = [call("POST", "/forms/work_order/records", "agent.li", {"data": {
            "customer": customer["id"], "fault_description": fault, "region": "north", "product_line": "hvac", "priority": "high",
            "service_address": "1 Harbour Road, Shanghai"}}) for fault in ("The chiller is noisy", "The fan coil drips", "No cooling")]
        assert {r["workflow"]["state"] for r in made} == {"Review"}
        dispatched = call("POST", f"/forms/work_order/records/{made[2]['id']}/actions/assign", "sup.north",
                          {"version": made[2]["version"], "data": {"assigned_engineer": "eng.zhang"}})["record"]
        assert dispatched["workflow"]["state"] == "AwaitAcceptance"
        before = call("GET", "/definitions/workflow/work_order", "admin")

        summary = run_script("flow_designer.mjs", stack)
        assert summary["impact_review"] == 2, summary
        assert summary["report_impact"].startswith("2 records") and "orders_by_region_status" in summary["reports_listed"], summary
        assert "unreachable" in summary["node_problem"] or "unknown state" in summary["node_problem"], summary

        head = call("GET", "/definitions/workflow/work_order", "admin")
        assert head["published"] == before["published"] + 1 == summary["version"]
        published = call("GET", f"/definitions/workflow/work_order/versions/{head['published']}", "admin")["definition"]
        assert published["StartAt"] == "Triage" and "Review" not in published["States"]
        assert published["States"]["Travelling"]["Actions"]["arrive"]["Next"] == "Inspection"
        assert published["States"]["Inspection"]["Type"] == "Task"
        assert published["States"]["Inspection"]["Actions"]["done"]["Next"] == "OnSite"
        states = {r["id"]: call("GET", f"/forms/work_order/records/{r['id']}", "admin")["workflow"] for r in made}
        assert [states[r["id"]]["state"] for r in made] == ["Triage", "Triage", "AwaitAcceptance"]
        assert {w["version"] for w in states.values()} == {head["published"]}
        # the compound Choice rule drawn in the panel's rule tree, in the version saved after (not published)
        assert head["latest"] == summary["compound_version"] == head["published"] + 1
        compound = call("GET", f"/definitions/workflow/work_order/versions/{head['latest']}", "admin")["definition"]
        assert compound["States"]["PartsCheck"]["Choices"][0] == {"And": [
            {"Variable": "$.parts_total", "NumericGreaterThan": 10000},
            {"Not": {"Variable": "$.warranty_status", "StringEquals": "in_warranty"}}], "Next": "PartsApprovalTwoLevel"}
