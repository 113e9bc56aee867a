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


class Order:
    """A work order under test: its id, path and the version the next write sends.

    Every write asserts the expected status. A successful one (2xx) moves `version` on (from the
    response's `record`, or the body when it is the record) and returns the whole body; a refused one
    returns the error object (`body["error"]`). Files add their own extras in a subclass."""
    reader = AGENT  # who `get` reads as unless told

    def __init__(self, api, record):
        self.api, self.id, self.version = api, record["id"], record["version"]
        self.path = f"/forms/work_order/records/{self.id}"

    def _checked(self, response, expect):
        assert response.status_code == expect, response.json
        if response.status_code >= 300:
            return response.json["error"]
        self.version = (response.json.get("record") or response.json)["version"]
        return response.json

    def post(self, suffix, who, expect=200, **body):
        """POST to a sub-route (`checkin`, `parts`, `actions/accept`...) with the current version
        (a `version` in `body` overrides it)."""
        response = self.api.call("POST", f"{self.path}/{suffix}", body={"version": self.version, **body}, **who)
        return self._checked(response, expect)

    def act(self, action, who, expect=200, **body):
        return self.post(f"actions/{action}", who, expect, **body)

    def patch(self, who, expect=200, **data):
        response = self.api.call("PATCH", self.path, body={"version": self.version, "data": data}, **who)
        return self._checked(response, expect)

    def get(self, who=None):
        return self.api.call("GET", self.path, **(who or self.reader)).json

    def actions(self, who):
        response = self.api.call("GET", f"{self.path}/actions", **who)
        if response.status_code == 404:  # a record the caller may not see offers them nothing
            return []
        return [a["action"] for a in response.json["actions"]]
