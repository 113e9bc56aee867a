"""Small builders shared by the API tests."""

AGENT = dict(user="agent.li", roles=["agent"])
SUPERVISOR = dict(user="sup.north", roles=["supervisor"])
ENGINEER = dict(user="eng.zhang", roles=["engineer"])
MANAGER = dict(user="mgr.zhao", roles=["manager"])


def new_customer(api, name="ACME", tenant=None, **data):
    body = {"data": {"name": name, "phone": "13800138000", "region": "north", **data}}
    response = api.call("POST", "/forms/customer/records", body=body, tenant=tenant, **AGENT)
    assert response.status_code == 201, response.json
    return response.json


def work_order_data(customer_id, **extra):
    return {"customer": customer_id, "fault_description": "Compressor makes a grinding noise",
            "service_address": "88 Century Avenue, Shanghai", "region": "north", "product_line": "hvac", **extra}


def new_work_order(api, customer_id, tenant=None, headers=None, **extra):
    response = api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer_id, **extra)},
                        tenant=tenant, headers=headers, **AGENT)
    assert response.status_code == 201, response.json
    return response.json
