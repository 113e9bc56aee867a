"""PATCH /definitions/{kind}/{name}?base=N: a JSON Merge Patch (RFC 7386) against the latest version,
stored as a new version through the same checks as an upload."""
import json
from pathlib import Path

from .helpers import AGENT, SUPERVISOR, new_customer, new_work_order

SHIPPED = Path(__file__).resolve().parents[2] / "definitions" / "after_sales"
MERGE = {"Content-Type": "application/merge-patch+json"}
FORM = {"title": "Site inspection", "description": "Yearly check",
        "fields": [{"name": "site", "type": "text", "required": True}, {"name": "score", "type": "number", "maximum": 10}],
        "permissions": {"create": ["admin", "agent"], "read": ["admin", "agent"]}}


def _patch(api, path, patch, base, *, query="", headers=MERGE, **who):
    return api.call("PATCH", f"{path}?base={base}{query}", body=patch, headers=headers, **who)


def _body(api, kind, name, version):
    return api.call("GET", f"/definitions/{kind}/{name}/versions/{version}").json["definition"]


def test_a_new_field_and_an_editable_entry_on_the_shipped_work_order(flow_api):
    """The issue's example: one field on the form and the step where it is filled in, each a patch."""
    form = json.loads((SHIPPED / "forms" / "work_order.json").read_text())
    workflow = json.loads((SHIPPED / "workflows" / "work_order.json").read_text())
    site_contact = {"name": "site_contact", "type": "text", "label": "Site contact", "max_length": 100}
    form_patch = {"fields": form["fields"] + [site_contact]}  # arrays are replaced whole (RFC 7386)
    editable = workflow["States"]["Review"]["Editable"] + ["site_contact"]
    workflow_patch = {"States": {"Review": {"Editable": editable}}}
    assert len(json.dumps(workflow_patch)) * 20 < len(json.dumps(workflow))  # a few hundred bytes of 16 KB

    # the workflow may not name a field the published form does not have yet: the upload's own check
    early = _patch(flow_api, "/definitions/workflow/work_order", workflow_patch, 1)
    assert early.status_code == 422, early.json
    assert "States.Review.Editable[11]" in {d["path"] for d in early.json["error"]["details"]}

    formed = _patch(flow_api, "/definitions/form/work_order", form_patch, 1)
    assert formed.status_code == 201, formed.json
    assert formed.json["version"] == 2 and formed.json["published"] == 2 and formed.json["warnings"] == []
    flowed = _patch(flow_api, "/definitions/workflow/work_order", workflow_patch, 1)
    assert flowed.status_code == 201, flowed.json
    assert (flowed.json["version"], flowed.json["published"]) == (2, 2)

    stored = _body(flow_api, "workflow", "work_order", 2)
    assert stored["States"]["Review"] == {**workflow["States"]["Review"], "Editable": editable}
    assert {k: v for k, v in stored["States"].items() if k != "Review"} == {
        k: v for k, v in workflow["States"].items() if k != "Review"}  # everything else as it was
    assert stored["Deadlines"] == workflow["Deadlines"] and stored["StartAt"] == workflow["StartAt"]

    # in use at once: the supervisor reviewing a new order fills in the new field
    order = new_work_order(flow_api, new_customer(flow_api)["id"])
    assert order["workflow"]["state"] == "Review"
    changed = flow_api.call("PATCH", f"/forms/work_order/records/{order['id']}",
                            body={"version": order["version"], "data": {"site_contact": "Mr Wu"}}, **SUPERVISOR)
    assert changed.status_code == 200, changed.json
    assert changed.json["data"]["site_contact"] == "Mr Wu"


def test_omitted_keys_keep_the_previous_value_and_null_brings_the_default_back(api):
    assert api.call("POST", "/definitions/form/inspection/versions", body=FORM).status_code == 201
    assert api.call("POST", "/forms/inspection/records", body={"data": {"site": "A"}}, **AGENT).status_code == 201

    renamed = _patch(api, "/definitions/form/inspection", {"title": "Site visit"}, 1)
    assert renamed.status_code == 201 and renamed.json["version"] == 2, renamed.json
    assert _body(api, "form", "inspection", 2) == {**FORM, "name": "inspection", "title": "Site visit"}
    # permissions were left out of the patch: the previous version's stay, agents still create
    assert api.call("POST", "/forms/inspection/records", body={"data": {"site": "B"}}, **AGENT).status_code == 201

    # nested objects merge: one key of permissions changes, the others stay
    merged = _patch(api, "/definitions/form/inspection", {"permissions": {"read": ["admin", "agent", "engineer"]}}, 2)
    assert merged.status_code == 201, merged.json
    assert _body(api, "form", "inspection", 3)["permissions"] == {"create": ["admin", "agent"], "read": ["admin", "agent", "engineer"]}

    # null removes the key: the model's default applies (permissions: admins only; description: empty)
    removed = _patch(api, "/definitions/form/inspection", {"permissions": None, "description": None}, 3)
    assert removed.status_code == 201, removed.json
    body = _body(api, "form", "inspection", 4)
    assert "permissions" not in body and "description" not in body
    refused = api.call("POST", "/forms/inspection/records", body={"data": {"site": "C"}}, **AGENT)
    assert refused.status_code == 403, refused.json
    assert api.call("GET", "/forms/inspection/schema").json.get("description", "") == ""


def test_the_same_checks_checksum_and_answer_as_an_upload_of_the_merged_document(api):
    api.call("POST", "/definitions/form/inspection/versions", body=FORM)
    patch = {"fields": FORM["fields"] + [{"name": "notes", "type": "textarea"}], "title": "Inspection"}
    patched = _patch(api, "/definitions/form/inspection", patch, 1, query="&publish=false")
    assert patched.status_code == 201, patched.json
    assert (patched.json["version"], patched.json["published"]) == (2, 1)  # publish=false as on upload
    assert api.call("GET", "/definitions/form/inspection").json["published"] == 1
    uploaded = api.call("POST", "/definitions/form/inspection/versions?publish=false", body={**FORM, **patch})
    assert uploaded.json["version"] == 3 and uploaded.json["checksum"] == patched.json["checksum"]
    assert _body(api, "form", "inspection", 2) == _body(api, "form", "inspection", 3)
    assert {**patched.json, "version": 3} == uploaded.json
    assert api.call("POST", "/definitions/form/inspection/versions/2/publish").json["published"] == 2

    log = api.call("GET", "/audit?limit=10").json["items"]
    assert [(e["action"], e["name"], e["version"]) for e in log] == [
        ("publish", "inspection", 2), ("upload", "inspection", 3), ("patch", "inspection", 2), ("upload+publish", "inspection", 1)]
    assert _patch(api, "/definitions/form/inspection", {"title": "Again"}, 3).status_code == 201
    assert api.call("GET", "/audit?limit=1").json["items"][0]["action"] == "patch+publish"


def test_workflow_warnings_come_back_as_on_upload(flow_api):
    # a Choice without a Default: stored, with a warning naming it
    answer = _patch(flow_api, "/definitions/workflow/work_order", {"States": {"FeedbackCheck": {"Default": None}}}, 1)
    assert answer.status_code == 201, answer.json
    assert {"path": "States.FeedbackCheck.Default",
            "message": "no Default: a record matching no choice stops with an error"} in answer.json["warnings"]


def test_a_patch_on_an_older_version_is_refused_naming_the_latest(api):
    api.call("POST", "/definitions/form/inspection/versions", body=FORM)
    assert _patch(api, "/definitions/form/inspection", {"title": "By Ann"}, 1).status_code == 201
    stale = _patch(api, "/definitions/form/inspection", {"description": "By Bob"}, 1)  # Bob still had version 1
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "stale_base" and "latest is 2" in stale.json["error"]["message"]
    assert stale.json["error"]["details"] == [{"path": "query.base", "message": "the latest version is 2", "latest": 2}]
    assert api.call("GET", "/definitions/form/inspection").json["latest"] == 2
    assert _patch(api, "/definitions/form/inspection", {"description": "By Bob"}, 9).status_code == 409


def test_bad_patches_are_refused_with_the_path_and_store_nothing(api):
    api.call("POST", "/definitions/form/inspection/versions", body=FORM)
    path = "/definitions/form/inspection"
    cases = [  # (patch, status, code, path)
        ({"fields": [{"name": "a", "type": "wat"}]}, 422, "invalid_definition", "fields[0]"),
        ({"fields": None}, 422, "invalid_definition", "fields"),
        ({"title": ""}, 422, "invalid_definition", "title"),
        ({"name": "other"}, 422, "invalid_definition", "name"),
        ({"storage": {"shards": "many"}}, 422, "invalid_definition", "storage.shards"),
        ({}, 422, "empty_patch", ""),
        ({"title": "Site inspection"}, 422, "empty_patch", ""),
        (["title"], 400, "invalid_patch", ""),
        ("Site visit", 400, "invalid_patch", ""),
    ]
    for patch, status, code, where in cases:
        answer = _patch(api, path, patch, 1)
        assert answer.status_code == status, (patch, answer.json)
        assert answer.json["error"]["code"] == code, (patch, answer.json)
        assert where in {d["path"] for d in answer.json["error"]["details"]}, (patch, answer.json)
    assert api.call("GET", path).json["latest"] == 1
    for query, where in (("", "query.base"), ("?base=x", "query.base"), ("?base=0", "query.base"),
                         ("?base=1&publish=maybe", "query.publish")):
        answer = api.call("PATCH", path + query, body={"title": "X"}, headers=MERGE)
        assert answer.status_code == 400 and answer.json["error"]["details"][0]["path"] == where, (query, answer.json)
    broken = api.call("PATCH", path + "?base=1", raw=b'{"title": ', headers=MERGE)
    assert broken.status_code == 400 and broken.json["error"]["code"] == "invalid_json"


def test_media_types_permissions_and_unknown_definitions(api):
    api.call("POST", "/definitions/form/inspection/versions", body=FORM)
    path = "/definitions/form/inspection"
    plain_json = _patch(api, path, {"title": "JSON"}, 1, headers={"Content-Type": "application/json"})
    assert plain_json.status_code == 201, plain_json.json
    other = _patch(api, path, {"title": "Text"}, 2, headers={"Content-Type": "text/plain"})
    assert other.status_code == 415 and other.json["error"]["code"] == "unsupported_media_type"
    denied = _patch(api, path, {"title": "Agent"}, 2, **AGENT)
    assert denied.status_code == 403 and denied.json["error"]["code"] == "forbidden"
    assert _patch(api, "/definitions/form/nothing_here", {"title": "X"}, 1).status_code == 404
    assert _patch(api, "/definitions/gizmo/inspection", {"title": "X"}, 1).status_code == 404
    assert _patch(api, path, {"title": "X"}, 1, tenant="other", user="x", roles=["admin"]).status_code == 404
    assert api.call("GET", path).json["latest"] == 2


OPS = {"Content-Type": "application/json-patch+json"}


def test_json_patch_appends_the_field_and_the_editable_entry_in_a_few_bytes(flow_api):
    """The same change as a JSON Patch (RFC 6902): arrays take one appended item, not the whole array."""
    form = json.loads((SHIPPED / "forms" / "work_order.json").read_text())
    workflow = json.loads((SHIPPED / "workflows" / "work_order.json").read_text())
    site_contact = {"name": "site_contact", "type": "text", "label": "Site contact", "max_length": 100}
    form_ops = [{"op": "add", "path": "/fields/-", "value": site_contact}]
    workflow_ops = [{"op": "test", "path": "/States/Review/Type", "value": "Task"},
                    {"op": "add", "path": "/States/Review/Editable/-", "value": "site_contact"}]
    assert len(json.dumps(form_ops)) * 50 < len(json.dumps(form))
    assert len(json.dumps(workflow_ops)) * 50 < len(json.dumps(workflow))
    formed = _patch(flow_api, "/definitions/form/work_order", form_ops, 1, headers=OPS)
    assert formed.status_code == 201 and formed.json["version"] == 2, formed.json
    flowed = _patch(flow_api, "/definitions/workflow/work_order", workflow_ops, 1, headers=OPS)
    assert flowed.status_code == 201 and flowed.json["version"] == 2, flowed.json
    assert _body(flow_api, "form", "work_order", 2)["fields"] == form["fields"] + [site_contact]
    assert _body(flow_api, "workflow", "work_order", 2)["States"]["Review"]["Editable"] == (
        workflow["States"]["Review"]["Editable"] + ["site_contact"])
    order = new_work_order(flow_api, new_customer(flow_api)["id"])
    changed = flow_api.call("PATCH", f"/forms/work_order/records/{order['id']}",
                            body={"version": order["version"], "data": {"site_contact": "Mr Wu"}}, **SUPERVISOR)
    assert changed.status_code == 200 and changed.json["data"]["site_contact"] == "Mr Wu", changed.json


def test_json_patch_errors_name_the_operation(api):
    api.call("POST", "/definitions/form/inspection/versions", body=FORM)
    path = "/definitions/form/inspection"
    failed = _patch(api, path, [{"op": "test", "path": "/title", "value": "Old title"},
                                {"op": "replace", "path": "/title", "value": "New"}], 1, headers=OPS)
    assert failed.status_code == 409 and failed.json["error"]["code"] == "patch_test_failed", failed.json
    assert failed.json["error"]["details"] == [{"path": "[0].value", "message": "test failed: /title is not the given value"}]
    cases = [  # (operations, status, code, path)
        ([{"op": "replace", "path": "/title", "value": "X"}, {"op": "remove", "path": "/fields/7"}], 422, "invalid_patch", "[1].path"),
        ([{"op": "launch", "path": "/title"}], 422, "invalid_patch", "[0].op"),
        ([{"op": "add", "path": "/fields/-", "value": {"name": "x", "type": "wat"}}], 422, "invalid_definition", "fields[2]"),
        ([{"op": "add", "path": "/colour", "value": "red"}], 422, "invalid_definition", "colour"),
        ({"title": "an object"}, 400, "invalid_patch", ""),
    ]
    for operations, status, code, where in cases:
        answer = _patch(api, path, operations, 1, headers=OPS)
        assert answer.status_code == status and answer.json["error"]["code"] == code, (operations, answer.json)
        assert where in {d["path"] for d in answer.json["error"]["details"]}, (operations, answer.json)
    assert api.call("GET", path).json["latest"] == 1
    moved = _patch(api, path, [{"op": "test", "path": "/title", "value": "Site inspection"},
                               {"op": "move", "from": "/fields/1", "path": "/fields/0"}], 1, headers=OPS)
    assert moved.status_code == 201, moved.json
    assert [f["name"] for f in _body(api, "form", "inspection", 2)["fields"]] == ["score", "site"]
    log = api.call("GET", "/audit?limit=1").json["items"]
    assert log[0]["action"] == "patch+publish" and log[0]["version"] == 2
