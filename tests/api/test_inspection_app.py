"""The second shipped app (definitions/inspection), installed beside the after-sales app and driven
end to end through the HTTP API as the roles it names: the monthly schedule makes one inspection per
piece of equipment under contract, an inspector works the checklist, a failed item opens a repair
work order (numbered, linked through the CreateRecord's IdField) and the inspection waits for it;
the order's completion signals it on, a supervisor closes it, and the dashboard counts it all."""
import pytest

from chalicelib.seed import INSPECTION_DIR, install_app, install_demo_data

from .helpers import AGENT, Order
from .test_events_api import run_stream
from .test_reports_api import deliver, stream_event
from .test_workflow_e2e import SITE, _sign

INSPECTOR = dict(user="insp.liu", roles=["inspector"])
SUP = dict(user="sup.north", roles=["supervisor"])
MANAGER = dict(user="mgr.zhao", roles=["manager"])


@pytest.fixture
def inspection_api(flow_api):
    install_app("demo", app_dir=INSPECTION_DIR)
    assert install_demo_data("demo", app_dir=INSPECTION_DIR) == 5  # 2 customers, 3 pieces of equipment
    assert install_demo_data("demo", app_dir=INSPECTION_DIR) == 0  # a re-run adds nothing
    again = install_app("demo", app_dir=INSPECTION_DIR)  # and re-installing uploads nothing new
    assert again["schedule:monthly_inspection"] == 1 and again["workflow:inspection"] == 1
    return flow_api


class Inspection(Order):
    reader = INSPECTOR

    def __init__(self, api, record):
        super().__init__(api, record)
        self.path = f"/forms/inspection/records/{self.id}"


def test_the_inspection_app_end_to_end(inspection_api):
    api = inspection_api
    from chalicelib.services.schedules import run_due
    view = api.call("GET", "/schedules/monthly_inspection", **MANAGER).json
    first = view["upcoming"][0]
    assert first["status"] == "scheduled" and first["key"].endswith("-01T08:00")
    assert run_due(now=first["make_at"])["made"] == 2  # EL-001 and EL-002; the chiller is not under contract
    assert run_due(now=first["make_at"])["made"] == 0
    listed = api.call("GET", "/forms/inspection/records", **INSPECTOR).json["items"]
    assert len(listed) == 2
    by_name = {r["data"]["title"].rsplit(" ", 1)[0]: r for r in listed}
    assert set(by_name) == {"Harbour Tower lift A", "Harbour Tower lift B"}
    lift_a = by_name["Harbour Tower lift A"]
    assert lift_a["data"]["due_date"] == first["key"][:10] and lift_a["data"]["region"] == "north"  # fetched from the equipment
    assert lift_a["data"]["inspection_no"].startswith("INS-") and len(lift_a["data"]["checklist"]) == 4
    assert lift_a["workflow"]["state"] == "Inspect"
    inbox = api.call("GET", "/tasks", **INSPECTOR).json["items"]
    assert {t["record_id"] for t in inbox} == {r["id"] for r in listed}

    # lift A passes: submit → review → closed
    a = Inspection(api, lift_a)
    rows = [{**row, "result": "pass"} for row in lift_a["data"]["checklist"]]
    half = [rows[0], {k: v for k, v in rows[1].items() if k != "result"}, *rows[2:]]
    a.patch(INSPECTOR, checklist=half)
    assert "submit" not in a.actions(INSPECTOR)  # every item must be judged first
    a.patch(INSPECTOR, checklist=rows)
    assert a.act("submit", INSPECTOR)["transition"]["to"] == "Review"
    assert a.act("close", SUP)["transition"]["to"] == "Closed"
    assert a.get()["data"]["closed_at"] and a.get()["data"]["failed"] is False

    # lift B fails its doors: a repair work order is opened and the inspection waits for it
    lift_b = by_name["Harbour Tower lift B"]
    b = Inspection(api, lift_b)
    rows = [{**row, "result": "fail" if row["item"].startswith("Doors") else "pass"} for row in lift_b["data"]["checklist"]]
    b.patch(INSPECTOR, checklist=rows, findings="Door B2 interlock worn")
    moved = b.act("submit", INSPECTOR)
    assert moved["transition"]["path"][-2:] == ["OpenRepair", "WaitingForRepair"]
    waiting = b.get()
    repair_id = waiting["data"]["repair_order"]
    order = Order(api, {"id": repair_id, "version": 1})
    created = order.get(SUP)
    assert created["workflow"]["state"] == "Review" and created["data"]["priority"] == "high"
    assert created["data"]["order_no"] and created["number"] == created["data"]["order_no"]  # auto-numbered
    assert created["data"]["customer"] == waiting["data"]["customer"]
    assert "Door B2 interlock worn" in created["data"]["fault_description"]
    assert waiting["data"]["inspection_no"] in created["data"]["fault_description"]

    # the after-sales flow runs the repair as any other order
    order.version = created["version"]
    engineer = dict(user=order.act("auto_dispatch", SUP)["record"]["data"]["assigned_engineer"], roles=["engineer"])
    order.act("accept", engineer)
    assert order.post("checkin", engineer, location=SITE)["transition"]["to"] == "OnSite"
    order.patch(engineer, service_report="Replaced the door interlock")
    order.version = _sign(api, order, engineer)
    assert order.act("complete", engineer)["transition"]["to"] == "CustomerFeedback"
    assert b.get()["workflow"]["state"] == "WaitingForRepair"  # the signal travels on the records stream
    assert run_stream(repair_id)["signals"] == 1
    repaired = b.get()
    assert repaired["workflow"]["state"] == "Review" and repaired["data"]["repaired_at"]
    assert run_stream(repair_id)["signals"] == 0  # a redelivered batch moves nothing twice
    b.version = repaired["version"]
    b.act("close", SUP)

    # the dashboard, from the reports' aggregates (maintained from the records stream)
    assert deliver(stream_event("demo", [a.id, b.id]))["applied"] > 0
    dash = api.call("GET", "/dashboards/inspections", **MANAGER).json
    charts = {c["id"]: c for c in dash["charts"]}
    [month] = charts["due_done"]["rows"]
    assert (month["due"], month["done"], month["failed"]) == (2, 2, 1)
    items = {r["item"]: r for r in charts["items"]["rows"]}
    assert items["Doors and interlocks"]["failure_rate"] == 50 and items["Emergency phone"]["failure_rate"] == 0
    # the inspector sees no work orders, the engineer no inspections: each app's permissions hold
    assert api.call("GET", f"/forms/work_order/records/{repair_id}", **INSPECTOR).status_code == 403
    assert api.call("GET", "/forms/inspection/records", **engineer).status_code == 403
    assert api.call("GET", "/forms/inspection/records", **AGENT).status_code == 403
