"""GET /definitions/schemas[/{kind}]: each kind's JSON Schema from its pydantic model, and the same
schemas in the OpenAPI document's upload body."""
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

SHIPPED = Path(__file__).resolve().parents[2] / "definitions"  # every shipped app: after_sales, inspection
FOLDERS = {"forms": "form", "workflows": "workflow", "field_services": "field_service", "dispatch_policies": "dispatch_policy",
           "email_templates": "email_template", "surveys": "survey", "reports": "report", "dashboards": "dashboard",
           "schedules": "schedule"}
MAPPING = {"name": "crm_orders", "form": "work_order", "external_id": "ref", "fields": {"fault_description": "text"}}


def _shipped():
    for folder, kind in FOLDERS.items():
        for path in sorted(SHIPPED.glob(f"*/{folder}/*.json")):
            yield kind, path.stem, json.loads(path.read_text())


def test_every_kind_has_a_schema_served_without_a_token(api):
    from chalicelib.services.definitions import PARSERS
    answer = api.call("GET", "/definitions/schemas", user=None)
    assert answer.status_code == 200, answer.json
    kinds = answer.json["kinds"]
    assert set(kinds) == set(PARSERS)  # a kind registered without a schema fails here
    for kind, schema in kinds.items():
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert "name" not in schema.get("required", [])  # the URL names it
        one = api.call("GET", f"/definitions/schemas/{kind}", user=None)
        assert one.status_code == 200 and one.json == schema
    assert {"title", "fields"} <= set(kinds["form"]["required"])
    assert kinds["form"]["additionalProperties"] is False
    missing = api.call("GET", "/definitions/schemas/gizmo", user=None)
    assert missing.status_code == 404 and missing.json["error"]["details"][0]["path"] == "kind"


def test_the_shipped_definitions_fit_their_schemas_and_broken_ones_do_not(api):
    kinds = api.call("GET", "/definitions/schemas", user=None).json["kinds"]
    seen = set()
    for kind, name, document in [*_shipped(), ("integration_mapping", "crm_orders", MAPPING)]:
        errors = list(Draft202012Validator(kinds[kind]).iter_errors(document))
        assert errors == [], (kind, name, [e.message for e in errors][:3])
        seen.add(kind)
    assert seen == set(kinds)
    form = kinds["form"]
    assert list(Draft202012Validator(form).iter_errors({"title": "X", "fields": [], "colour": "red"}))
    assert list(Draft202012Validator(form).iter_errors({"title": "X", "fields": [{"name": "a", "type": "wat"}]}))
    assert list(Draft202012Validator(kinds["workflow"]).iter_errors({"StartAt": "A", "States": {"A": {"Type": "Nap"}}}))


def test_a_definition_named_schema_is_still_reachable(api):
    form = {"title": "Schema", "fields": [{"name": "a", "type": "text"}]}
    assert api.call("POST", "/definitions/form/schema/versions", body=form).status_code == 201
    described = api.call("GET", "/definitions/form/schema")
    assert described.status_code == 200 and described.json["name"] == "schema"
    assert api.call("PATCH", "/definitions/form/schema?base=1", body={"title": "Schema 2"}).status_code == 201
    assert api.call("GET", "/definitions/schemas/form", user=None).json["title"] == "FormDefinition"


def test_the_openapi_upload_body_is_each_kinds_schema(api):
    document = json.loads(api.call("GET", "/openapi.json", user=None).body)
    components = document["components"]["schemas"]
    upload = document["paths"]["/definitions/{kind}/{name}/versions"]["post"]["requestBody"]
    refs = [alt["$ref"] for alt in upload["content"]["application/json"]["schema"]["anyOf"]]
    from chalicelib.services.definitions import PARSERS
    assert refs == [f"#/components/schemas/Definition.{kind}" for kind in sorted(PARSERS)]
    assert "$defs" not in json.dumps(components)  # nested models are components, not local $defs
    for kind, name, body in [*_shipped(), ("integration_mapping", "crm_orders", MAPPING)]:
        validator = Draft202012Validator({"$ref": f"#/components/schemas/Definition.{kind}", "components": document["components"]})
        assert list(validator.iter_errors(body)) == [], (kind, name)
        assert list(validator.iter_errors({**body, "surprise": 1})), (kind, name)
    patch = document["paths"]["/definitions/{kind}/{name}"]["patch"]
    assert set(patch["requestBody"]["content"]) == {"application/merge-patch+json", "application/json", "application/json-patch+json"}
    assert {p["name"]: p.get("required", False) for p in patch["parameters"] if p["in"] == "query"} == {"base": True, "publish": False}
    assert document["paths"]["/definitions/schemas/{kind}"]["get"]["security"] == []


@pytest.mark.parametrize("kind", ["form", "dispatch_policy", "email_template"])
def test_the_schema_and_the_parser_agree_on_unknown_keys(api, kind):
    """The schema is the model's own: a key the schema refuses, the upload refuses too."""
    answer = api.call("POST", f"/definitions/{kind}/thing/versions", body={"surprise": True})
    assert answer.status_code == 422
    assert "surprise" in {d["path"] for d in answer.json["error"]["details"]}
