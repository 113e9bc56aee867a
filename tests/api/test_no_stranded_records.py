"""No record is ever stranded (issue 18): every demo region has a supervisor and engineers, and a step
whose assignee rule finds nobody — a region without a supervisor, a deactivated member, an empty user
field — goes to the workflow's Fallback (the admin desk), who sees it in the inbox and can open and act
on it. The workflow upload warns where a rule may find nobody or a role may not open the record."""
import json
from pathlib import Path

from chalicelib.seed import demo_tokens

from .helpers import AGENT, Order, new_customer, new_work_order

APP = Path(__file__).resolve().parents[2] / "definitions" / "after_sales"
ADMIN = dict(user="admin", roles=["admin"])
NORTH = dict(user="sup.north", roles=["supervisor"])
SUPERVISORS = {"north": "sup.north", "south": "sup.south", "east": "sup.east", "west": "sup.west"}


def _order(api, **extra):
    return Order(api, new_work_order(api, new_customer(api)["id"], **extra))


def _region(api, code):
    [region] = api.call("GET", f"/forms/region/records?filter.code={code}", **ADMIN).json["items"]
    return region


def test_every_demo_region_has_a_supervisor_engineers_a_store_and_stocked_vans(demo_api):
    from chalicelib.seed import install_demo_data
    install_demo_data("demo")  # all of it, as `make run` installs it: stores, parts, vans, stock
    flow_api = demo_api
    users = {u["user"]: u for u in demo_tokens()}  # what the local sign-in page lists
    engineers = flow_api.call("GET", "/forms/engineer/records?limit=100", **ADMIN).json["items"]
    warehouses = flow_api.call("GET", "/forms/warehouse/records?limit=100", **ADMIN).json["items"]
    for code, supervisor in SUPERVISORS.items():
        assert _region(flow_api, code)["data"]["supervisor"] == supervisor
        assert "supervisor" in users[supervisor]["roles"]
        crew = [e for e in engineers if e["data"]["region"] == code]
        assert len(crew) >= 2 and all(e["data"]["user"] in users for e in crew), code
        if code != "north":  # the north's stores and vans are made by the browser walks themselves
            assert any(w["data"]["kind"] == "central" and w["data"]["region"] == code for w in warehouses)
            for engineer in crew:
                van = engineer["data"]["van_warehouse"]
                stock = flow_api.call("GET", f"/inventory/stock?warehouse={van}", **ADMIN).json["items"]
                assert stock and all(s["on_hand"] > 0 for s in stock), engineer["data"]["user"]
    codes = {w["data"]["code"] for w in warehouses}
    assert "VAN-ZHANG" not in codes  # tests/console and console/e2e create it
    parts = {p["data"]["part_no"] for p in flow_api.call("GET", "/forms/spare_part/records?limit=100", **ADMIN).json["items"]}
    assert parts and "VLV-1" not in parts


def test_demo_data_installs_once(demo_api):
    from chalicelib.seed import install_demo_data
    assert install_demo_data("demo") > 0  # all of it, as `make run` installs it
    flow_api = demo_api
    before = flow_api.call("GET", "/forms/warehouse/records?limit=100", **ADMIN).json["items"]
    van = next(w for w in before if w["data"]["code"] == "VAN-HUANG")
    stock = flow_api.call("GET", f"/inventory/stock?warehouse={van['id']}", **ADMIN).json["items"]
    assert install_demo_data("demo") == 0
    assert flow_api.call("GET", f"/inventory/stock?warehouse={van['id']}", **ADMIN).json["items"] == stock


def test_each_region_routes_to_a_supervisor_who_can_open_the_order(flow_api):
    for code, supervisor in SUPERVISORS.items():
        order = _order(flow_api, region=code)
        record = order.get()
        assert record["workflow"]["assignees"] == [f"user:{supervisor}"], code
        who = dict(user=supervisor, roles=["supervisor"])
        assert flow_api.call("GET", order.path, **who).status_code == 200
        inbox = flow_api.call("GET", "/tasks", **who).json["items"]
        assert order.id in {t["record_id"] for t in inbox}


def test_a_region_without_a_supervisor_goes_to_the_admin_desk(flow_api):
    south = _region(flow_api, "south")
    flow_api.call("PATCH", f"/forms/region/records/{south['id']}", body={"version": south["version"], "data": {"supervisor": None}}, **ADMIN)
    order = _order(flow_api, region="south")
    assert order.get()["workflow"]["assignees"] == ["role:admin"]
    # the north supervisor is not handed an order their row rule hides
    assert order.id not in {t["record_id"] for t in flow_api.call("GET", "/tasks", **NORTH).json["items"]}
    assert order.id in {t["record_id"] for t in flow_api.call("GET", "/tasks", **ADMIN).json["items"]}
    assert flow_api.call("GET", order.path, **ADMIN).status_code == 200
    assert "assign" in order.actions(ADMIN)
    notes = flow_api.call("GET", "/notifications", **ADMIN).json["items"]
    assert any(n["kind"] == "task.assigned" and n["record_id"] == order.id for n in notes)


def test_a_deactivated_supervisor_is_nobody(flow_api):
    member = flow_api.call("GET", "/members/sup.east", **ADMIN).json
    body = {k: member[k] for k in ("display_name", "email", "roles", "attributes")}
    assert flow_api.call("PUT", "/members/sup.east", body={**body, "active": False}, **ADMIN).status_code == 200
    order = _order(flow_api, region="east")
    assert order.get()["workflow"]["assignees"] == ["role:admin"]


def test_an_empty_user_field_falls_to_the_desk(flow_api):
    """AwaitAcceptance is assigned by the engineer field: with it empty the desk holds the order."""
    from chalicelib.services.workflow_context import ServiceContext
    from chalicelib.services import definitions
    from chalicelib.workflow.engine import resolve_assignees
    _v, form = definitions.published("demo", "form", "work_order")
    _v, wf = definitions.published("demo", "workflow", "work_order")
    ctx = ServiceContext("demo", form)
    rule = wf.States["AwaitAcceptance"].Assignee
    assert resolve_assignees(ctx, wf, rule, {"assigned_engineer": None}) == ["role:admin"]
    assert resolve_assignees(ctx, wf, rule, {"assigned_engineer": "eng.zhang"}) == ["user:eng.zhang"]
    escalation = wf.States["AwaitAcceptance"].Deadlines[0].Escalate[0].Notify
    assert resolve_assignees(ctx, wf, escalation, {"region": "nowhere"}) == ["role:admin"]


def test_the_upload_warns_where_a_record_could_be_stranded(flow_api):
    raw = json.loads((APP / "workflows" / "work_order.json").read_text())
    shipped = flow_api.call("POST", "/definitions/workflow/work_order/versions", body=raw, **ADMIN)
    assert shipped.status_code == 201 and shipped.json["warnings"] == []
    risky = json.loads(json.dumps(raw))
    del risky["Fallback"]
    risky["States"]["Review"]["Assignee"]["Fallback"] = {"Role": "supervisor"}
    warned = flow_api.call("POST", "/definitions/workflow/work_order/versions", body=risky, **ADMIN).json["warnings"]
    paths = {w["path"] for w in warned}
    assert "States.Review.Assignee.Fallback.Role" in paths  # the supervisor row rule may not admit it
    assert "States.ManualDispatch.Assignee" in paths  # a Lookup with no Fallback may find nobody
    assert "States.AwaitAcceptance.Assignee" in paths  # an empty engineer field
    assert "States.PartsApproval.Approvers" in paths
    assert "States.AwaitAcceptance.Deadlines[0].Escalate[0].Notify" in paths
    assert all(w["message"] for w in warned)
    assert flow_api.call("GET", "/forms/work_order/records?limit=1", **AGENT).status_code == 200
