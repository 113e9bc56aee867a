"""Row rules and field grants (form `permissions.rows` / `permissions.fields`) through the API."""
from .helpers import AGENT, new_customer, work_order_data

ENG_ZHANG = dict(user="eng.zhang", roles=["engineer"])


def _order(api, **extra):
    customer = new_customer(api)
    response = api.call("POST", "/forms/work_order/records",
                        body={"data": work_order_data(customer["id"], **extra)}, user="sup.north", roles=["supervisor"])
    assert response.status_code == 201, response.json
    return response.json


def _token_call(api, method, path, *, user, roles, attributes=None, **kwargs):
    from chalicelib.auth import issue_local_token
    token = issue_local_token("demo", user, roles, attributes=attributes)
    return api.call(method, path, token=token, **kwargs)


def test_engineers_see_only_their_orders_and_never_the_contract_price(demo_api):
    mine = _order(demo_api, assigned_engineer="eng.zhang", contract_price=1500)
    _order(demo_api, assigned_engineer="eng.chen", contract_price=900)
    _order(demo_api)
    listed = demo_api.call("GET", "/forms/work_order/records", **ENG_ZHANG).json["items"]
    assert [r["id"] for r in listed] == [mine["id"]]
    assert "contract_price" not in listed[0]["data"]
    got = demo_api.call("GET", f"/forms/work_order/records/{mine['id']}", **ENG_ZHANG).json
    assert "contract_price" not in got["data"] and got["data"]["assigned_engineer"] == "eng.zhang"
    assert demo_api.call("GET", f"/forms/work_order/records/{mine['id']}", **AGENT).json["data"]["contract_price"] == 1500


def test_supervisors_see_their_region(demo_api):
    north = _order(demo_api, region="north")
    south = _order(demo_api, region="south")
    seen = _token_call(demo_api, "GET", "/forms/work_order/records", user="sup.north", roles=["supervisor"],
                       attributes={"region": "north"}).json["items"]
    assert [r["id"] for r in seen] == [north["id"]]
    assert _token_call(demo_api, "GET", f"/forms/work_order/records/{south['id']}", user="sup.north",
                       roles=["supervisor"], attributes={"region": "north"}).status_code == 404


def test_two_roles_never_add_up_to_a_hidden_cell(demo_api):
    """A south supervisor who is also an engineer: on a north order assigned to them only the engineer
    rule admits the record, and engineers may not see the contract price — so it stays hidden, even
    though supervisors may see contract prices (on the records their own rule admits)."""
    registered = demo_api.call("PUT", "/members/eng.zhang", body={"display_name": "Zhang San", "roles": ["engineer", "supervisor"]},
                               user="admin", roles=["admin"])
    assert registered.status_code == 200  # the registry grants both roles (a token alone only narrows it)
    north_assigned = _order(demo_api, region="north", assigned_engineer="eng.zhang", contract_price=1500)
    south_other = _order(demo_api, region="south", contract_price=700)
    who = dict(user="eng.zhang", roles=["engineer", "supervisor"], attributes={"region": "south"})
    north_view = _token_call(demo_api, "GET", f"/forms/work_order/records/{north_assigned['id']}", **who).json
    assert "contract_price" not in north_view["data"]
    south_view = _token_call(demo_api, "GET", f"/forms/work_order/records/{south_other['id']}", **who).json
    assert south_view["data"]["contract_price"] == 700


def test_field_grants_on_create_update_and_filters(api):
    form = {"title": "Deal", "indexes": ["owner", "margin"],
            "fields": [{"name": "owner", "type": "text"}, {"name": "amount", "type": "money"},
                       {"name": "margin", "type": "number"}],
            "permissions": {"create": ["sales"], "read": ["sales", "viewer"], "update": ["sales"], "delete": ["admin"],
                            "rows": {"sales": "owner == $user.id"},
                            "fields": {"sales": {"readonly": ["amount"]}, "viewer": {"hidden": ["margin"]}}}}
    assert api.call("POST", "/definitions/form/deal/versions", body=form).status_code == 201
    sales = dict(user="sam", roles=["sales"])
    refused = api.call("POST", "/forms/deal/records", body={"data": {"owner": "sam", "amount": 10}}, **sales)
    assert refused.status_code == 403 and refused.json["error"]["details"][0]["path"] == "data.amount"
    deal = api.call("POST", "/forms/deal/records", body={"data": {"owner": "sam", "margin": 3}}, **sales).json
    patch = api.call("PATCH", f"/forms/deal/records/{deal['id']}", body={"version": 1, "data": {"amount": 99}}, **sales)
    assert patch.status_code == 403 and patch.json["error"]["code"] == "field_not_writable"
    # another salesperson's row is invisible, for reading and for writing
    other = dict(user="sue", roles=["sales"])
    assert api.call("GET", f"/forms/deal/records/{deal['id']}", **other).status_code == 404
    assert api.call("PATCH", f"/forms/deal/records/{deal['id']}", body={"version": 1, "data": {"owner": "sue"}}, **other).status_code == 404
    # viewers never see the margin, and cannot probe it by filtering
    viewer = dict(user="val", roles=["viewer"])
    assert "margin" not in api.call("GET", f"/forms/deal/records/{deal['id']}", **viewer).json["data"]
    probe = api.call("GET", "/forms/deal/records?filter.margin=3", **viewer)
    assert probe.status_code == 400 and probe.json["error"]["code"] == "filter_not_indexed"
    assert len(api.call("GET", "/forms/deal/records?filter.owner=sam", **viewer).json["items"]) == 1


def test_permission_rules_are_checked_at_upload(api):
    form = {"title": "Bad", "fields": [{"name": "a", "type": "text"}],
            "permissions": {"rows": {"engineer": "nope == $user.id"}, "fields": {"engineer": {"hidden": ["zzz"]}},
                            "read": ["bad role!"]}}
    response = api.call("POST", "/definitions/form/bad/versions", body=form)
    assert response.status_code == 422
    paths = {d["path"] for d in response.json["error"]["details"]}
    assert {"permissions.rows.engineer", "permissions.fields.engineer.hidden[0]", "permissions.read[0]"} <= paths


def test_admin_asks_what_a_user_may_do_on_a_record_and_why(flow_api):
    demo_api = flow_api  # the demo regions: the north's order goes to its supervisor
    order = _order(demo_api, assigned_engineer="eng.zhang", contract_price=1500, region="north")
    path = f"/forms/work_order/records/{order['id']}/access"
    zhang = demo_api.call("GET", f"{path}?user=eng.zhang").json
    assert zhang["can"] == {"read": True, "update": True, "delete": False}
    assert "contract_price" not in zhang["visible_fields"]
    role = next(r for r in zhang["per_role"] if r["role"] == "engineer")
    assert role["row_rule"] == "assigned_engineer == $user.id" and role["row_admits"] is True
    assert role["hidden"] == ["contract_price"]
    assert zhang["workflow"]["state"] == "Review" and zhang["workflow"]["actions"] == []
    chen = demo_api.call("GET", f"{path}?user=eng.chen").json
    assert chen["can"]["read"] is False
    sup = demo_api.call("GET", f"{path}?user=sup.north").json  # seeded with attribute region=north
    assert sup["attributes"] == {"region": "north"} and sup["can"]["read"] is True
    assert sup["workflow"]["is_assignee"] is True and "auto_dispatch" in sup["workflow"]["actions"]
    assert demo_api.call("GET", f"{path}?user=eng.zhang", user="sup.north", roles=["supervisor"]).status_code == 403
    assert demo_api.call("GET", f"{path}?user=nobody").status_code == 404
    assert demo_api.call("GET", path).status_code == 400


def test_history_never_names_a_hidden_field(flow_api):
    demo_api = flow_api  # the demo regions: the north's supervisor holds the Review task
    order = _order(demo_api, assigned_engineer="eng.zhang")
    path = f"/forms/work_order/records/{order['id']}"
    assert demo_api.call("PATCH", path, body={"version": 1, "data": {"contract_price": 999}},
                         user="sup.north", roles=["supervisor"]).status_code == 200
    mine = demo_api.call("GET", f"{path}/history", **ENG_ZHANG).json["items"]
    assert all("contract_price" not in h["changed_fields"] for h in mine)
    full = demo_api.call("GET", f"{path}/history", user="sup.north", roles=["supervisor"]).json["items"]
    assert ["contract_price"] in [h["changed_fields"] for h in full]


def test_inbox_hides_tasks_on_records_the_row_rules_hide(demo_api):
    # a tenant's workflow whose Review falls back to the supervisor role (the upload warns of it), and
    # no region records: the south's order waits in the role's inbox, which row rules still filter
    import json
    from pathlib import Path
    raw = json.loads((Path(__file__).resolve().parents[2] / "definitions/after_sales/workflows/work_order.json").read_text())
    del raw["Fallback"]
    raw["States"]["Review"]["Assignee"]["Fallback"] = {"Role": "supervisor"}
    uploaded = demo_api.call("POST", "/definitions/workflow/work_order/versions", body=raw)
    assert uploaded.status_code == 201 and "States.Review.Assignee.Fallback.Role" in {w["path"] for w in uploaded.json["warnings"]}
    south = _order(demo_api, region="south")
    assert south["workflow"]["assignees"] == ["role:supervisor"]
    north_sup = dict(user="sup.north", roles=["supervisor"], attributes={"region": "north"})
    tasks = _token_call(demo_api, "GET", "/tasks", **north_sup).json["items"]
    assert south["id"] not in [t["record_id"] for t in tasks]
    any_sup = _token_call(demo_api, "GET", "/tasks", user="sup.any", roles=["supervisor"]).json["items"]
    assert south["id"] in [t["record_id"] for t in any_sup]  # no region attribute: sees every region
