import json, time
import pytest
from .helpers import AGENT, ENGINEER, SUPERVISOR, new_customer, new_work_order, work_order_data
ALL = {"create": ["*"], "read": ["*"], "update": ["*"], "delete": ["*"]}
def up(api, name, form, publish=True):
    return api.call("POST", f"/definitions/form/{name}/versions" + ("" if publish else "?publish=false"), body=form)

def show(label, r):
    print(label, r.status_code, (r.body[:300] if r.body else r.body))

def test_probe(api):
    show("self", up(api, "node", {"title": "t", "fields": [{"name": "n", "type": "text"}, {"name": "parent", "type": "lookup", "form": "node"}, {"name": "num", "type": "auto_number", "format": "N{seq:3}"}, {"name": "rows", "type": "subtable", "fields": [{"name": "q", "type": "number", "read_only": True}, {"name": "z", "type": "text", "readonly_if": "true"}]}, {"name": "price", "type": "number", "scale": 2}], "indexes": ["num", "price"], "permissions": ALL}))
    a = api.call("POST", "/forms/node/records", body={"data": {"n": "a", "rows": [{"q": 1, "z": "x"}], "price": 5}}).json
    show("self-ref", api.call("PATCH", f"/forms/node/records/{a['id']}", body={"version": 1, "data": {"parent": a["id"]}}))
    show("filter num", api.call("GET", f"/forms/node/records?filter.num=N001"))
    show("row ro", api.call("PATCH", f"/forms/node/records/{a['id']}", body={"version": 1, "data": {"rows": [{"q": 2, "z": "y"}]}}))
    show("filter sNaN", api.call("GET", f"/forms/node/records?filter.price=sNaN"))
    t=time.time(); show("filter 1e100000", api.call("GET", f"/forms/node/records?filter.price=1e100000")); print(time.time()-t)
    show("filter 1e2", api.call("GET", f"/forms/node/records?filter.price=5.00"))
    # update-only leak
    show("uo", up(api, "secret", {"title": "t", "fields": [{"name": "s", "type": "text"}], "permissions": {"create": ["admin"], "read": ["admin"], "update": ["clerk"], "delete": ["admin"]}}))
    s = api.call("POST", "/forms/secret/records", body={"data": {"s": "top secret"}}).json
    show("uo get", api.call("GET", f"/forms/secret/records/{s['id']}", user="c", roles=["clerk"]))
    show("uo patch", api.call("PATCH", f"/forms/secret/records/{s['id']}", body={"version": 99, "data": {}}, user="c", roles=["clerk"]))
    # unique newline
    show("u", up(api, "person", {"title": "t", "fields": [{"name": "email", "type": "email", "unique": True}, {"name": "t", "type": "time"}, {"name": "big", "type": "text", "max_length": 1000, "unique": True}], "permissions": ALL}))
    show("u1", api.call("POST", "/forms/person/records", body={"data": {"email": "a@b.co", "t": "10:00\n"}}))
    show("u2", api.call("POST", "/forms/person/records", body={"data": {"email": "a@b.co\n"}}))
    show("bigkey", api.call("POST", "/forms/person/records", body={"data": {"big": "😀"*1000}}))
    show("inf", api.call("POST", "/definitions/form/inf/versions", raw=b'{"title":"t","fields":[{"name":"n","type":"number","minimum":-1e400}]}'))
    show("inf rec", api.call("POST", "/forms/inf/records", body={"data": {"n": 1}}))
    show("inf get", api.call("GET", "/definitions/form/inf/versions/1"))
    show("prec", api.call("POST", "/definitions/form/prec/versions", raw=b'{"title":"t","fields":[{"name":"n","type":"number","scale":6,"maximum":0.1234567890123456789}]}'))
    show("prec get", api.call("GET", "/definitions/form/prec/versions/1"))
    show("prec rec", api.call("POST", "/forms/prec/records", raw=b'{"data":{"n":0.123457}}'))
