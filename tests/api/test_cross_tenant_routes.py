"""Every route, called by tenant B's admin with tenant A's ids: nothing of tenant A comes back and
nothing of tenant A changes. Routes are enumerated from the app, so a new route is covered at once."""
import json

from .helpers import AGENT, new_customer, work_order_data

SECRET = "Secret Customer of Tenant A"


def test_no_route_leaks_across_tenants(demo_api):
    from app import app
    from chalicelib.seed import install_app
    api = demo_api
    install_app("other")
    customer = new_customer(api, name=SECRET)
    order = api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer["id"])}, **AGENT).json
    before = api.call("GET", f"/forms/work_order/records/{order['id']}", user="admin", roles=["admin"]).json
    params = {"form": "work_order", "record_id": order["id"], "kind": "form", "name": "work_order", "version": "1",
              "action": "auto_dispatch", "user_id": "sup.north",
              "upload_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "line_id": "line-0001",
              "token": "eyJ0IjoiZGVtbyJ9.forged",
              "webhook_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "event_id": order["id"] + "-0000000001", "job_id": "job-00000001", "chart": "sla"}
    intruder = dict(tenant="other", user="mallory", roles=["admin"])
    checked = 0
    for path, methods in app.routes.items():
        for method in methods:
            url = path
            for key, value in params.items():
                url = url.replace("{" + key + "}", value)
            query = "?user=sup.north" if url.endswith("/access") else ""
            response = api.call(method, url + query, body={"version": 1, "data": {}, "roles": []}, **intruder)
            checked += 1
            assert response.status_code < 500, (method, url, response.body[:200])
            text = response.body.decode() if isinstance(response.body, bytes) else str(response.body)
            # an error may echo the id the caller sent; nothing else of tenant A may appear, ever
            markers = (order["id"], customer["id"], SECRET) if response.status_code < 400 else (customer["id"], SECRET)
            for marker in markers:
                assert marker not in text, (method, url, "leaked", marker)
    assert checked >= 20
    after = api.call("GET", f"/forms/work_order/records/{order['id']}", user="admin", roles=["admin"]).json
    assert after == before  # tenant A's order was not touched
    history = api.call("GET", f"/forms/work_order/records/{order['id']}/history", user="admin", roles=["admin"]).json
    assert [h["actor"] for h in history["items"]] == ["agent.li"]
    member = api.call("GET", "/members/sup.north", user="admin", roles=["admin"]).json
    assert member["roles"] == ["supervisor"]  # B's PUT /members/sup.north wrote B's own member only
    assert json.dumps(api.call("GET", "/tasks", user="sup.north", roles=["supervisor"], tenant="other").json).count(order["id"]) == 0
