"""Definition upload, versions, publish and JSON Schema through the API."""
import json

import jsonschema

from .helpers import AGENT

FORM = {"title": "Site inspection", "fields": [
    {"name": "site", "type": "text", "required": True},
    {"name": "score", "type": "number", "minimum": 0, "maximum": 10}]}


def test_invalid_definition_is_rejected_with_every_path_and_not_stored(api):
    bad = {"title": "", "fields": [{"name": "a", "type": "text", "max_length": 0}, {"name": "b", "type": "wat"}],
           "indexes": ["zzz"]}
    response = api.call("POST", "/definitions/form/inspection/versions", body=bad)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_definition"
    paths = {d["path"] for d in response.json["error"]["details"]}
    assert {"title", "fields[0].max_length", "fields[1]"} <= paths
    assert api.call("GET", "/definitions/form/inspection").status_code == 404
    assert api.call("GET", "/definitions").json["items"] == []


def test_semantic_problems_after_shape_is_valid(api):
    response = api.call("POST", "/definitions/form/inspection/versions", body={**FORM, "indexes": ["zzz"],
                        "fields": FORM["fields"] + [{"name": "c", "type": "computed", "expression": "scroe * 2"}]})
    assert response.status_code == 422
    details = {d["path"]: d["message"] for d in response.json["error"]["details"]}
    assert "unknown field 'zzz'" in details["indexes[0]"]
    assert "did you mean 'score'" in details["fields[2].expression"]


def test_versions_publish_and_get(api):
    first = api.call("POST", "/definitions/form/inspection/versions", body=FORM)
    assert first.status_code == 201 and first.json["version"] == 1 and first.json["published"] == 1
    draft = api.call("POST", "/definitions/form/inspection/versions?publish=false",
                     body={**FORM, "fields": FORM["fields"] + [{"name": "notes", "type": "textarea"}]})
    assert draft.status_code == 201 and draft.json["version"] == 2 and draft.json["published"] == 1
    described = api.call("GET", "/definitions/form/inspection").json
    assert described["latest"] == 2 and described["published"] == 1
    assert [v["version"] for v in described["versions"]] == [2, 1]
    schema = api.call("GET", "/forms/inspection/schema").json
    assert "notes" not in schema["properties"]
    assert api.call("POST", "/definitions/form/inspection/versions/2/publish").json["published"] == 2
    assert "notes" in api.call("GET", "/forms/inspection/schema").json["properties"]
    assert "notes" not in api.call("GET", "/forms/inspection/schema?version=1").json["properties"]
    got = api.call("GET", "/definitions/form/inspection/versions/1").json
    assert got["definition"]["fields"] == FORM["fields"]
    assert api.call("POST", "/definitions/form/inspection/versions/9/publish").status_code == 404
    assert api.call("GET", "/definitions/form/inspection/versions/9").status_code == 404
    listed = api.call("GET", "/definitions?kind=form").json["items"]
    assert [(d["name"], d["latest"], d["published"]) for d in listed] == [("inspection", 2, 2)]


def test_name_in_body_must_match_url_and_kind_must_exist(api):
    assert api.call("POST", "/definitions/form/inspection/versions", body={**FORM, "name": "other"}).status_code == 422
    assert api.call("POST", "/definitions/gizmo/inspection/versions", body=FORM).status_code == 404
    assert api.call("POST", "/definitions/form/Bad-Name/versions", body=FORM).status_code == 400


def test_only_admins_change_definitions(api):
    response = api.call("POST", "/definitions/form/inspection/versions", body=FORM, **AGENT)
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    api.call("POST", "/definitions/form/inspection/versions", body=FORM)
    assert api.call("POST", "/definitions/form/inspection/versions/1/publish", **AGENT).status_code == 403
    # raw definitions (with their permission rules) are for admins; others get the JSON Schema
    for path in ("/definitions", "/definitions/form/inspection", "/definitions/form/inspection/versions/1"):
        assert api.call("GET", path, **AGENT).status_code == 403
    assert api.call("GET", "/forms/inspection/schema", user="x", roles=["admin"]).status_code == 200


def test_shipped_schemas_pass_the_metaschema(demo_api):
    for name in ("customer", "product", "engineer", "warehouse", "spare_part", "work_order", "region"):
        response = demo_api.call("GET", f"/forms/{name}/schema")
        assert response.status_code == 200
        schema = json.loads(response.body)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_definition_and_permission_changes_are_audited(api):
    api.call("POST", "/definitions/form/inspection/versions", body=FORM, user="ada", roles=["admin"])
    api.call("POST", "/definitions/form/inspection/versions?publish=false", body=FORM, user="ada", roles=["admin"])
    api.call("POST", "/definitions/form/inspection/versions/2/publish", user="bob", roles=["admin"])
    assert api.call("PUT", "/members/eve", body={"roles": ["agent"]}, user="ada", roles=["admin"]).status_code == 200
    log = api.call("GET", "/audit?limit=10").json["items"]
    assert [(e["action"], e["user"], e["name"], e["version"]) for e in log] == [
        ("member roles=agent active=True", "ada", "eve", None),
        ("publish", "bob", "inspection", 2),
        ("upload", "ada", "inspection", 2),
        ("upload+publish", "ada", "inspection", 1)]
    assert api.call("GET", "/audit", **AGENT).status_code == 403
    assert api.call("GET", "/audit?limit=0").status_code == 400
    assert api.call("GET", "/audit", tenant="other", user="x", roles=["admin"]).json["items"] == []
