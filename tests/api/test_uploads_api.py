"""Attachment uploads through the API with moto S3 in-process: presigned POST, server-verified confirm
(moto enforces none of the POST conditions, so every check here is the server's), presigned GET,
signatures bound to what they sign, and the printable service report."""
import base64
import json

import pytest

from . import helpers
from .helpers import AGENT, new_customer, work_order_data

SUP = dict(user="sup.north", roles=["supervisor"])
ZHANG = dict(user="eng.zhang", roles=["engineer"])
CHEN = dict(user="eng.chen", roles=["engineer"])
PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 120


def put_object(key, body=PNG, content_type="image/png"):
    from chalicelib.storage import files
    files.client().put_object(Bucket=files.bucket(), Key=key, Body=body, ContentType=content_type)


class Order(helpers.Order):
    """The shared work order plus the upload round trip: declare (presign), put to S3, confirm."""

    def presign(self, who=ZHANG, expect=201, tenant=None, **body):
        response = self.api.call("POST", f"{self.path}/uploads", body=body, tenant=tenant, **who)
        assert response.status_code == expect, response.json
        return response.json if expect < 300 else response.json["error"]

    def confirm(self, upload_id, who=ZHANG, expect=200, version=None, tenant=None):
        return self.post(f"uploads/{upload_id}/confirm", {**who, "tenant": tenant}, expect, version=version or self.version)

    def upload(self, field="fault_photos", who=ZHANG, body=PNG, content_type="image/png", **extra):
        declared = self.presign(who, field=field, content_type=content_type, size=len(body), **extra)
        put_object(declared["key"], body, content_type)
        return declared, self.confirm(declared["upload_id"], who)


def on_site_order(api, creator=AGENT, **extra):
    """A work order dispatched to eng.zhang, accepted, with him on site (OnSite: he edits photos, report, signature)."""
    customer = new_customer(api)
    created = api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer["id"], **extra)}, **creator)
    assert created.status_code == 201, created.json
    order = Order(api, created.json)
    order.act("auto_dispatch", SUP)
    order.act("accept", ZHANG)
    order.act("arrive", ZHANG)
    return order


@pytest.fixture
def order(flow_api):
    return on_site_order(flow_api)


def test_presign_returns_a_post_bound_to_key_type_and_size(order):
    declared = order.presign(field="fault_photos", content_type="image/jpeg", size=1000, name="valve.jpg")
    key = declared["key"]
    assert key == f"t/demo/work_order/{order.id}/fault_photos/{declared['upload_id']}"
    assert declared["fields"]["key"] == key and declared["fields"]["Content-Type"] == "image/jpeg"
    policy = json.loads(base64.b64decode(declared["fields"]["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1000, 1000] in conditions
    assert {"key": key} in conditions and {"Content-Type": "image/jpeg"} in conditions
    assert declared["expires_in"] == 900
    # the pending item remembers what was declared and by whom
    from chalicelib.storage import uploads
    pending = uploads.get("demo", declared["upload_id"])
    assert (pending.status, pending.size, pending.created_by, pending.field) == ("pending", 1000, "eng.zhang", "fault_photos")


@pytest.mark.parametrize("body, path", [
    ({"field": "fault_photos", "content_type": "application/pdf", "size": 10}, "content_type"),
    ({"field": "fault_photos", "content_type": "image/png", "size": 21 * 1024 * 1024}, "size"),
    ({"field": "fault_photos", "content_type": "image/png", "size": 0}, "size"),
    ({"field": "customer_signature", "content_type": "image/jpeg", "size": 10}, "content_type"),
    ({"field": "service_report", "content_type": "image/png", "size": 10}, "field"),
    ({"field": "fault_photos", "content_type": "image/png", "size": 10, "sha256": "XYZ"}, "sha256"),
    ({"field": "fault_photos", "content_type": "image/png", "size": 10, "extra": 1}, "extra"),
])
def test_presign_rejects_what_the_field_does_not_accept(order, body, path):
    error = order.presign(expect=422, **body)
    assert error["details"][0]["path"] == path


def test_presign_applies_the_update_rules(order, flow_api):
    # not editable in this state by the agent (only the assignee edits while OnSite)
    assert order.presign(AGENT, expect=403, field="fault_photos", content_type="image/png", size=10)["code"] == "not_assignee"
    # another engineer cannot see the order at all
    order.presign(CHEN, expect=404, field="fault_photos", content_type="image/png", size=10)
    # managers may read but not update
    order.presign(dict(user="mgr.zhao", roles=["manager"]), expect=403, field="fault_photos", content_type="image/png", size=10)


def test_confirm_attaches_once(order, flow_api):
    declared, confirmed = order.upload(name="valve.png")
    assert confirmed["replayed"] is False
    assert confirmed["data"]["fault_photos"] == [{"key": declared["key"], "content_type": "image/png", "size": len(PNG), "name": "valve.png"}]
    version = order.version
    again = order.confirm(declared["upload_id"], version=version - 1)  # a retry with the version it sent first
    assert again["replayed"] is True and again["version"] == version
    assert len(order.get()["data"]["fault_photos"]) == 1
    second, _ = order.upload()
    photos = order.get()["data"]["fault_photos"]
    assert [p["key"] for p in photos] == [declared["key"], second["key"]]  # multiple: appended
    history = flow_api.call("GET", f"{order.path}/history", **AGENT).json["items"]
    assert sum(1 for h in history if "attached upload" in h.get("comment", "")) == 2


@pytest.mark.parametrize("case", ["missing", "size", "type", "foreign"])
def test_confirm_verifies_the_object(order, case):
    declared = order.presign(field="fault_photos", content_type="image/png", size=len(PNG))
    if case == "size":
        put_object(declared["key"], PNG + b"more")
    elif case == "type":
        put_object(declared["key"], PNG, "text/html")
    elif case == "foreign":
        from chalicelib.storage import keys
        from chalicelib.storage.models import PendingUploadItem
        other = f"t/other/work_order/{order.id}/fault_photos/{declared['upload_id']}"
        put_object(other)
        item = PendingUploadItem.get(keys.upload_pk("demo", declared["upload_id"]), "UP")
        item.update(actions=[PendingUploadItem.key.set(other)])
    before = order.version
    error = order.confirm(declared["upload_id"], expect=422)
    assert error["details"][0]["path"] == "upload"
    assert error["code"] == {"missing": "upload_missing", "size": "upload_size_mismatch", "type": "upload_type_mismatch",
                             "foreign": "upload_key_mismatch"}[case]
    record = order.get()
    assert record["version"] == before and "fault_photos" not in record["data"]


def test_confirm_with_a_stale_version_is_a_conflict(order):
    declared = order.presign(field="fault_photos", content_type="image/png", size=len(PNG))
    put_object(declared["key"])
    order.patch(ZHANG, service_report="Checked the valve")  # someone wrote in between
    error = order.confirm(declared["upload_id"], version=order.version - 1, expect=409)
    assert error["code"] == "version_conflict" and error["details"]["current_version"] == order.version
    assert "fault_photos" not in order.get()["data"]
    assert tags(declared["key"]).get("upload") != "attached"
    order.confirm(declared["upload_id"])  # with the current version it attaches
    assert tags(declared["key"]) == {"upload": "attached"}


def tags(key):
    from chalicelib.storage import files
    tagging = files.client().get_object_tagging(Bucket=files.bucket(), Key=key)["TagSet"]
    return {t["Key"]: t["Value"] for t in tagging}


def test_concurrent_confirms_race_on_the_version(order):
    """Two uploads confirmed against the same version: the transaction lets one through."""
    from chalicelib.services import uploads as service
    from chalicelib.services.caller import Caller
    first = order.presign(field="fault_photos", content_type="image/png", size=len(PNG))
    second = order.presign(field="fault_photos", content_type="image/png", size=len(PNG))
    put_object(first["key"])
    put_object(second["key"])
    version = order.version
    zhang = Caller("demo", "eng.zhang", frozenset({"engineer"}))
    service.confirm(zhang, "work_order", order.id, first["upload_id"], {"version": version})
    from chalicelib.errors import Conflict
    with pytest.raises(Conflict):
        service.confirm(zhang, "work_order", order.id, second["upload_id"], {"version": version})
    assert len(order.get()["data"]["fault_photos"]) == 1


def test_a_write_racing_the_confirm_transaction_wins_and_nothing_is_attached(order, monkeypatch):
    """Another write lands between the confirm's read and its transaction: the version condition
    fails (409), the upload stays pending (tag too, so the lifecycle may expire it) and a retry attaches."""
    from chalicelib.services import records
    from chalicelib.services.caller import Caller
    from chalicelib.storage import files
    declared = order.presign(field="fault_photos", content_type="image/png", size=len(PNG))
    put_object(declared["key"])
    real_head, raced = files.head, []

    def head_then_race(key):
        if not raced:
            raced.append(True)
            records.update(Caller("demo", "eng.zhang", frozenset({"engineer"})), "work_order", order.id,
                           {"version": order.version, "data": {"service_report": "written meanwhile"}}, None)
        return real_head(key)
    monkeypatch.setattr(files, "head", head_then_race)
    error = order.confirm(declared["upload_id"], expect=409)
    assert error["code"] == "version_conflict"
    assert tags(declared["key"]) == {"upload": "pending"}
    from chalicelib.storage import uploads
    assert uploads.get("demo", declared["upload_id"]).status == "pending"
    record = order.get()
    assert "fault_photos" not in record["data"] and record["data"]["service_report"] == "written meanwhile"
    order.version = record["version"]
    assert len(order.confirm(declared["upload_id"])["data"]["fault_photos"]) == 1


def test_only_the_declaring_user_confirms(order, flow_api):
    declared = order.presign(field="fault_photos", content_type="image/png", size=len(PNG))
    put_object(declared["key"])
    error = order.confirm(declared["upload_id"], who=dict(user="admin", roles=["admin"]), expect=403)
    assert error["code"] == "not_your_upload"


def test_other_tenant_can_neither_confirm_nor_read(order, flow_api):
    from chalicelib.seed import install_app
    install_app("other")
    declared, _ = order.upload()
    pending = order.presign(field="fault_photos", content_type="image/png", size=len(PNG))
    put_object(pending["key"])
    mallory = dict(user="mallory", roles=["admin"])  # an admin of the other tenant (not a member here)
    order.confirm(pending["upload_id"], who=mallory, tenant="other", expect=404)
    response = flow_api.call("GET", f"{order.path}/files?key={declared['key']}", tenant="other", **mallory)
    assert response.status_code == 404
    order.presign(mallory, tenant="other", expect=404, field="fault_photos", content_type="image/png", size=10)
    assert len(order.get()["data"]["fault_photos"]) == 1


def test_presigned_get_only_for_attached_keys(order, flow_api):
    declared, _ = order.upload()
    ok = flow_api.call("GET", f"{order.path}/files?key={declared['key']}", **AGENT)
    assert ok.status_code == 200 and ok.json["expires_in"] == 300
    assert "X-Amz-Signature" in ok.json["url"] and declared["key"] in ok.json["url"]
    pending = order.presign(field="fault_photos", content_type="image/png", size=len(PNG))
    put_object(pending["key"])  # uploaded, not confirmed: not on the record
    for key in (pending["key"], "t/demo/elsewhere.png", ""):
        response = flow_api.call("GET", f"{order.path}/files?key={key}", **AGENT)
        assert response.status_code in (404, 422), key
    # the engineer of another order cannot read it either
    assert flow_api.call("GET", f"{order.path}/files?key={declared['key']}", **CHEN).status_code == 404


def test_a_hand_written_attachment_key_opens_nothing(flow_api):
    """Attachment values may be written directly (e.g. imports): the file route opens only keys
    under this record's own prefix, so a value naming another tenant's object leaks nothing."""
    customer = new_customer(flow_api)
    foreign = {"key": "t/other/work_order/01ABCDEFGHJKMNPQRSTVWXYZ00/fault_photos/x", "content_type": "image/png", "size": 3}
    created = flow_api.call("POST", "/forms/work_order/records",
                            body={"data": work_order_data(customer["id"], fault_photos=[foreign])}, **AGENT)
    assert created.status_code == 201, created.json
    response = flow_api.call("GET", f"/forms/work_order/records/{created.json['id']}/files?key={foreign['key']}", **AGENT)
    assert response.status_code == 404


def sign(order, who=ZHANG):
    declared, confirmed = order.upload("customer_signature", who)
    return declared, confirmed["data"]["customer_signature"]


def test_signature_is_bound_to_what_it_signs(order, flow_api):
    from chalicelib.signatures import signed_digest
    order.patch(ZHANG, service_report="Replaced the expansion valve")
    declared, signature = sign(order)
    assert signature["signed_fields"] == ["service_report", "parts_used"]
    assert signature["signed_by"] == "eng.zhang" and signature["key"] == declared["key"]
    record = order.get()
    assert signature["signed_sha256"] == signed_digest(declared["key"], ["service_report", "parts_used"], record["data"])
    actions = [a["action"] for a in flow_api.call("GET", f"{order.path}/actions", **ZHANG).json["actions"]]
    assert "complete" in actions
    # a signed field changes after signing: the signature no longer matches, completion is blocked
    order.patch(ZHANG, service_report="Replaced the expansion valve and the filter")
    actions = [a["action"] for a in flow_api.call("GET", f"{order.path}/actions", **ZHANG).json["actions"]]
    assert "complete" not in actions
    assert order.act("complete", ZHANG, expect=409)["code"] == "action_not_available"
    # changing a signed field in the completing call itself is caught the same way
    sign(order)
    order.act("complete", ZHANG, expect=409, data={"service_report": "something else"})
    # an unsigned field may change; the fresh signature completes the order
    order.patch(ZHANG, first_time_fix=True)
    done = order.act("complete", ZHANG)
    assert done["transition"]["to"] == "CustomerFeedback"


def test_completion_needs_a_signature(order):
    order.patch(ZHANG, service_report="Done")
    error = order.act("complete", ZHANG, expect=422)
    assert {d["path"] for d in error["details"]} == {"data.customer_signature"}


def test_a_forged_signature_without_hash_does_not_complete(order):
    order.patch(ZHANG, service_report="Done")
    fake = {"key": f"t/demo/work_order/{order.id}/customer_signature/x", "content_type": "image/png", "size": 10}
    error = order.act("complete", ZHANG, expect=422, data={"customer_signature": fake})
    assert error["details"] == [{"path": "data.customer_signature", "message": "is set by the platform and cannot be written"}]


def test_a_signature_computed_with_the_public_hash_is_refused(order):
    """signed_sha256 is a public function of the data: a client that computes it still cannot write a
    signature (only a confirmed upload does), nor pass signature_valid without the server's seal."""
    from chalicelib.signatures import is_valid, signed_digest
    order.patch(ZHANG, service_report="Done")
    data = order.get()["data"]
    key = f"t/demo/work_order/{order.id}/customer_signature/01JDQ3V9W6Y5R8T2M4N7P0K1AB"
    forged = {"key": key, "content_type": "image/png", "size": 10, "signed_fields": ["service_report", "parts_used"],
              "signed_sha256": signed_digest(key, ["service_report", "parts_used"], data),
              "signed_at": "2026-12-01T10:00:00Z", "signed_by": "eng.zhang", "signed_mac": "0" * 64}
    assert order.patch(ZHANG, expect=422, customer_signature=forged)["details"][0]["path"] == "data.customer_signature"
    assert order.act("complete", ZHANG, expect=422, data={"customer_signature": forged})["details"][0]["path"] == "data.customer_signature"
    assert not is_valid(forged, data) and not is_valid({k: v for k, v in forged.items() if k != "signed_mac"}, data)
    _declared, genuine = sign(order)
    assert is_valid(genuine, order.get()["data"])
    assert not is_valid({**genuine, "signed_by": "eng.chen"}, order.get()["data"])  # the seal covers who and when


def test_signs_must_name_fields_of_the_form(flow_api):
    form = json.load(open("definitions/after_sales/forms/work_order.json"))
    for f in form["fields"]:
        if f["name"] == "customer_signature":
            f["signs"] = ["service_report", "no_such_field"]
    response = flow_api.call("POST", "/definitions/form/work_order/versions?publish=false", body=form)
    assert response.status_code == 422
    assert any(d["path"].endswith(".signs[1]") for d in response.json["error"]["details"]), response.json


def completed_order(api, **extra):
    order = on_site_order(api, creator=SUP, **extra)
    order.upload()
    order.patch(ZHANG, service_report="Replaced the <b>valve</b> & tested")
    sign(order)
    order.act("complete", ZHANG)
    return order


def test_service_report_is_escaped_html_of_what_the_caller_may_see(flow_api):
    order = completed_order(flow_api, fault_description="<script>alert('x')</script> trips", contract_price=1234.5)
    response = flow_api.http.get(f"{order.path}/report", headers={
        "Authorization": f"Bearer {flow_api.token('eng.zhang', ['engineer'])}"})
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.body.decode() if isinstance(response.body, bytes) else response.body
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; trips" in page
    assert "Replaced the &lt;b&gt;valve&lt;/b&gt; &amp; tested" in page
    assert "ACME" in page  # the customer lookup shows the customer's name
    assert "Contract price" not in page and "1,234.50" not in page  # hidden from engineers
    # photo and signature embedded (they never expire), nothing presigned
    assert page.count('<img src="data:image/png;base64,') == 2 and "X-Amz-Signature" not in page
    assert "valid: the record still matches" in page
    sup = flow_api.http.get(f"{order.path}/report", headers={"Authorization": f"Bearer {flow_api.token('sup.north', ['supervisor'])}"})
    sup_page = sup.body.decode() if isinstance(sup.body, bytes) else sup.body
    assert "Contract price" in sup_page and "1,234.50 CNY" in sup_page


def test_service_report_needs_a_completed_visible_order(order, flow_api):
    response = flow_api.call("GET", f"{order.path}/report", **ZHANG)
    assert response.status_code == 409 and response.json["error"]["code"] == "not_completed"
    assert flow_api.call("GET", f"{order.path}/report", **CHEN).status_code == 404


def _report(api, order, who=ZHANG, language=None, query=""):
    headers = {"Authorization": f"Bearer {api.token(who['user'], who['roles'])}"}
    if language:
        headers["Accept-Language"] = language
    response = api.http.get(f"{order.path}/report{query}", headers=headers)
    assert response.status_code == 200, response.body
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def _section(page, heading):
    """The table under an <h2> heading."""
    return page.split(f"<h2>{heading}</h2>", 1)[1].split("</table>", 1)[0]


def _total_row(table):
    return table.split('<tr class="total">', 1)[1].split("</tr>", 1)[0] if '<tr class="total">' in table else None


def visited_order(api):
    """The shipped flow done with the field routes: two visits (90 + 30 min), parts 2 x 120.00 and
    3 x 35.50, a photo, the report and the signature, completed."""
    from .test_fieldwork_api import NEAR, make_part, make_warehouse, receive, travelling_order
    travelling = travelling_order(api)
    order = Order(api, {"id": travelling.id, "version": travelling.version})
    order.post("checkin", ZHANG, location=NEAR, at="2026-11-30T08:00:00Z")
    valve, filt, warehouse = make_part(api), make_part(api, "FLT-2", 35.5), make_warehouse(api)
    receive(api, warehouse, valve, 5)
    receive(api, warehouse, filt, 5)
    order.post("parts", ZHANG, expect=201, part=valve, quantity=2, warehouse=warehouse)
    order.post("parts", ZHANG, expect=201, part=filt, quantity=3, warehouse=warehouse)
    order.post("checkout", ZHANG, at="2026-11-30T09:30:00Z")
    order.post("checkin", ZHANG, location=NEAR, at="2026-11-30T13:00:00Z")
    order.post("checkout", ZHANG, at="2026-11-30T13:30:00Z")
    order.upload()
    order.patch(ZHANG, service_report="Replaced the valve and the filter")
    sign(order)
    order.act("complete", ZHANG)
    return order


def test_service_report_totals_only_the_columns_marked_total(flow_api):
    order = visited_order(flow_api)
    page = _report(flow_api, order)
    parts = _section(page, "Parts used")
    # unit prices are not summed; the line totals are, as money with the currency
    assert _total_row(parts) == ("<th>Total</th><td></td><td></td><td></td><td></td>"
                                 "<td class=\"n\"><b>346.50</b></td>")
    assert "120.00 CNY" in parts and "35.50 CNY" in parts and "155.50" not in parts
    visits = _section(page, "Site visits")
    # distances are not summed; the time on site is, as a duration
    assert _total_row(visits).endswith("<td class=\"n\"><b>2 h 00 min</b></td>")
    assert _total_row(visits).count("<b>") == 1
    assert "1 h 30 min" in visits and "30 min" in visits
    assert "30 Nov 2026, 08:00" in visits  # times in a readable form (UTC unless the reader says)
    shanghai = _report(flow_api, order, query="?tz=Asia/Shanghai")
    assert "30 Nov 2026, 16:00" in _section(shanghai, "Site visits") and "times in Asia/Shanghai" in shanghai
    bad = flow_api.call("GET", f"{order.path}/report?tz=Mars/Olympus", **ZHANG)
    assert bad.status_code == 400 and bad.json["error"]["details"][0]["path"] == "tz"


def test_service_report_in_chinese(flow_api):
    order = visited_order(flow_api)
    page = _report(flow_api, order, language="zh-CN,zh;q=0.9")
    assert page.startswith('<!DOCTYPE html><html lang="zh-CN">')
    assert "<h1>工单 " in page and "服务报告" in page and "<h2>详情</h2>" in page
    assert "<h2>已用备件</h2>" in page and "<th>单价</th>" in page and "<th>小计</th>" in page  # field labels
    assert "<th>合计</th>" in _total_row(_section(page, "已用备件"))
    assert "<b>2 小时 00 分</b>" in _total_row(_section(page, "上门记录"))
    assert "2026年11月30日 08:00" in page
    assert "有效：记录仍与签署时的内容一致" in page
    assert "Service report" not in page and "Total" not in page and "Details" not in page
    english = _report(flow_api, order)
    assert english.startswith('<!DOCTYPE html><html lang="en">') and "合计" not in english


def test_service_report_images_are_embedded_within_a_budget(flow_api, monkeypatch):
    import re

    from chalicelib.services import service_report
    order = visited_order(flow_api)
    page = _report(flow_api, order)
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) == 2 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert base64.b64decode(sources[0].split(",", 1)[1]) == PNG  # the bytes in S3
    assert "expires" not in page
    # a budget for one image only: the second (the signature) is drawn from a presigned GET, and said so
    monkeypatch.setattr(service_report, "EMBED_BUDGET_BYTES", len(PNG) + 10)
    page = _report(flow_api, order)
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert sources[0].startswith("data:image/png;base64,") and "X-Amz-Signature" in sources[1]
    assert re.search(r"shown by a link that expires at \d\d:\d\d</span>", page)
    # an image over the per-image cap is never read into the page
    monkeypatch.setattr(service_report, "IMAGE_MAX_BYTES", len(PNG) - 1)
    page = _report(flow_api, order)
    assert "data:image" not in page and page.count("shown by a link that expires at") == 2


def test_total_is_refused_where_it_sums_nothing(flow_api):
    form = json.load(open("definitions/after_sales/forms/work_order.json"))
    index = next(i for i, f in enumerate(form["fields"]) if f["name"] == "parts_total")
    form["fields"][index]["total"] = True  # a top-level field: there is no column to sum
    response = flow_api.call("POST", "/definitions/form/work_order/versions?publish=false", body=form)
    assert response.status_code == 422, response.json
    assert {"path": f"fields[{index}].total", "message": "total sums a sub-table column at the foot of its table; "
            "this field is not in a sub-table"} in response.json["error"]["details"]
    form["fields"][index].pop("total")
    visits = next(i for i, f in enumerate(form["fields"]) if f["name"] == "visits")
    column = next(j for j, c in enumerate(form["fields"][visits]["fields"]) if c["name"] == "checked_in_at")
    form["fields"][visits]["fields"][column]["total"] = True  # a datetime column
    response = flow_api.call("POST", "/definitions/form/work_order/versions?publish=false", body=form)
    assert response.status_code == 422
    assert any(d["path"] == f"fields[{visits}].fields[{column}].total" for d in response.json["error"]["details"]), response.json
