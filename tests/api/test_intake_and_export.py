"""The desk attaches fault photos at intake, and managers and supervisors export work orders (issue 18),
through the HTTP API: row rules and field grants still shape what an export holds."""
import csv
import io

from chalicelib.storage import files

from .helpers import AGENT, MANAGER, Order, new_customer, new_work_order

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NORTH = dict(user="sup.north", roles=["supervisor"], attributes={"region": "north"})
ZHANG = dict(user="eng.zhang", roles=["engineer"])


def _token(user, roles, attributes=None):
    from chalicelib.auth import issue_local_token
    return issue_local_token("demo", user, roles, attributes=attributes)


def test_the_desk_attaches_fault_photos_right_after_taking_the_order(flow_api):
    order = Order(flow_api, new_work_order(flow_api, new_customer(flow_api)["id"]))
    assert order.get()["workflow"]["state"] == "Review"
    for n in range(2):
        response = flow_api.call("POST", f"{order.path}/uploads", body={"field": "fault_photos", "content_type": "image/png",
                                                                       "size": len(PNG)}, **AGENT)
        assert response.status_code == 201, response.json
        declared = response.json
        files.client().put_object(Bucket=files.bucket(), Key=declared["key"], Body=PNG, ContentType="image/png")
        order.post(f"uploads/{declared['upload_id']}/confirm", AGENT)
    photos = order.get()["data"]["fault_photos"]
    assert len(photos) == 2 and all(p["content_type"] == "image/png" for p in photos)
    # the desk's grant covers the photos only, not the supervisor's fields
    assert order.patch(AGENT, expect=403, priority="urgent")["code"] in ("field_not_editable", "not_assignee")


def test_managers_and_supervisors_export_work_orders_as_their_rows_allow(flow_api):
    customer = new_customer(flow_api)["id"]
    north = new_work_order(flow_api, customer, region="north")
    south = new_work_order(flow_api, customer, region="south")
    everything = flow_api.call("GET", "/forms/work_order/export", **MANAGER)
    assert everything.status_code == 200
    rows = list(csv.DictReader(io.StringIO(everything.body.decode() if isinstance(everything.body, bytes) else everything.body)))
    assert {north["number"], south["number"]} <= {r["order_no"] for r in rows}
    mine = flow_api.call("GET", "/forms/work_order/export?format=jsonl", token=_token("sup.north", ["supervisor"], {"region": "north"}))
    assert mine.status_code == 200
    text = mine.body.decode() if isinstance(mine.body, bytes) else mine.body
    assert north["id"] in text and south["id"] not in text  # the supervisor's row rule: their region only
    for who in (AGENT, ZHANG):
        assert flow_api.call("GET", "/forms/work_order/export", **who).status_code == 403
