"""Issue 15's acceptance test: a small new app — an equipment inspection "site_check" — built end to end
through the designers alone in a real browser on the real local stack (tools.localstack; Debian's chromium
driven by `console/e2e/new_app.mjs`), no definition sent through the API: the form (a text, a pass/fail
select, a checklist sub-table, a photo), its permissions (engineer create/read/update, supervisor
read/update), a new three-state workflow with an approval (started from the form's "Design workflow" link,
version 1 published at once), a report and a dashboard with a bar chart of it. Then the engineer creates a
record in the operations console, fills the checklist, adds a photo and submits; the supervisor approves it
(zh-CN); the record reaches Done. The API then holds what the pages did. Needs the console built
(CONSOLE_DIST or console/dist)."""
from __future__ import annotations

import time
import urllib.error
from decimal import Decimal

import pytest

from tools import localstack

from .conftest import run_script

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


def test_a_new_app_is_built_through_the_designers_and_used_by_its_roles(tmp_path, browser_ready):
    with localstack.running(tmp_path) as stack:
        call = lambda method, path, user, body=None: localstack.call(stack, method, path, user, body)  # noqa: E731
        for kind, name in (("form", "site_check"), ("workflow", "site_check"), ("report", "site_checks_by_result"),
                           ("dashboard", "site_checks")):
            with pytest.raises(urllib.error.HTTPError):  # nothing of the app exists before the walk
                call("GET", f"/definitions/{kind}/{name}", "admin")

        summary = run_script("new_app.mjs", stack)
        assert summary["seconds"] < 240, summary  # ~120 s on a quiet machine

        # the definitions the designers made
        form_head = call("GET", "/definitions/form/site_check", "admin")
        form = call("GET", f"/definitions/form/site_check/versions/{form_head['published']}", "admin")["definition"]
        fields = {f["name"]: f for f in form["fields"]}
        assert {n: f["type"] for n, f in fields.items()} == {"site": "text", "result": "select", "checklist": "subtable", "photo": "image"}
        assert [o["value"] for o in fields["result"]["options"]] == ["pass", "fail"]
        assert [(c["name"], c["type"]) for c in fields["checklist"]["fields"]] == [("item", "text"), ("ok", "checkbox")]
        grants = form["permissions"]
        assert sorted(grants["create"]) == ["engineer"] and sorted(grants["read"]) == sorted(grants["update"]) == ["engineer", "supervisor"], grants

        flow_head = call("GET", "/definitions/workflow/site_check", "admin")
        assert flow_head["published"] == flow_head["latest"] == 1  # the first version, published as it was saved
        flow = call("GET", "/definitions/workflow/site_check/versions/1", "admin")["definition"]
        assert flow["StartAt"] == "Inspect" and set(flow["States"]) == {"Inspect", "Review", "Done"}
        inspect, review = flow["States"]["Inspect"], flow["States"]["Review"]
        assert inspect["Type"] == "Task" and inspect["Assignee"] == {"Role": "engineer"} and {"photo", "checklist"} <= set(inspect["Editable"])
        assert inspect["Actions"]["submit"]["Next"] == "Review"
        assert review["Type"] == "Approval" and review["Approvers"] == {"Role": "supervisor"}
        assert (review["OnApprove"], review["OnReject"]) == ("Done", "Inspect")
        assert flow["States"]["Done"]["Type"] == "Succeed"

        assert call("GET", "/definitions/report/site_checks_by_result", "admin")["published"] == 1
        report = call("GET", "/definitions/report/site_checks_by_result/versions/1", "admin")["definition"]
        assert report["form"] == "site_check" and [d["field"] for d in report["dimensions"]] == ["result"]
        assert [m["op"] for m in report["measures"]] == ["count"]
        assert call("GET", "/definitions/dashboard/site_checks", "admin")["published"] == 1
        [chart] = call("GET", "/definitions/dashboard/site_checks/versions/1", "admin")["definition"]["charts"]
        assert (chart["type"], chart["report"], chart["x"]) == ("bar", "site_checks_by_result", "result")

        # the record the engineer made and the supervisor approved
        [record] = call("GET", "/forms/site_check/records", "admin")["items"]
        record = call("GET", f"/forms/site_check/records/{record['id']}", "admin")
        assert record["workflow"]["state"] == "Done", record["workflow"]
        assert record["data"]["site"] == "North pump station" and record["data"]["result"] == "pass"
        assert [(r["item"], r["ok"]) for r in record["data"]["checklist"]] == [("Valves", True), ("Pressure gauge", True)]
        assert record["data"].get("photo"), record["data"]
        assert record["created_by"] == "eng.zhang", record.get("created_by")

        # the report counts it (the backfill of the new report, helped on by a rebuild)
        measure = report["measures"][0]["name"]
        for _ in range(30):
            try:
                if call("POST", "/reports/site_checks_by_result/rebuild", "admin")["status"] == "done":
                    rows = call("GET", "/reports/site_checks_by_result", "admin")["rows"]
                    if rows:
                        break
            except urllib.error.HTTPError:  # the stack's own schedule holds the backfill just now
                pass
            time.sleep(1)
        rows = call("GET", "/reports/site_checks_by_result", "admin")["rows"]
        assert {r["result"]: Decimal(str(r[measure])) for r in rows} == {"pass": 1}, rows
