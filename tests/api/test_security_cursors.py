"""Cursors (issue 12, Bounded cost): a forged, malformed or foreign cursor is a 400 `invalid_cursor` on
every paged route — never a 500 and never a query into positions the API did not hand out — and a
deployed stage never signs with a built-in key (its CURSOR_SECRET is generated at deploy)."""
import base64
import json
from pathlib import Path

import pytest

from .helpers import AGENT, new_customer, new_work_order

ROOT = Path(__file__).resolve().parents[2]
SUP = dict(user="sup.north", roles=["supervisor"])

MALFORMED = [
    "abc",                                   # no signature
    "a.b.c",                                 # extra dots
    "." ,                                    # empty parts
    "é.x",                                   # not ASCII
    "x" * 5000 + ".y",                       # longer than any cursor the API hands out
    base64.urlsafe_b64encode(b"[1,2]").decode() + ".AAAAAAAAAAAAAAAAAAAAAAAA",  # unsigned JSON
]


def _signed(label, body):
    from chalicelib import cursors
    return cursors.seal(label, body)


def _assert_invalid(response):
    assert response.status_code == 400, (response.status_code, response.json)
    assert response.json["error"]["code"] == "invalid_cursor"
    assert response.json["error"]["details"][0]["path"] in ("query.cursor", "cursor")


@pytest.mark.parametrize("cursor", MALFORMED)
def test_malformed_cursors_are_400_on_every_paged_route(demo_api, cursor):
    from urllib.parse import quote
    _assert_invalid(demo_api.call("GET", f"/forms/work_order/records?limit=1&cursor={quote(cursor)}", **AGENT))
    _assert_invalid(demo_api.call("GET", f"/tasks?limit=1&cursor={quote(cursor)}", **SUP))
    _assert_invalid(demo_api.call("POST", "/sync", body={"operations": [], "cursor": cursor}, **SUP))


def test_validly_signed_cursors_of_the_wrong_shape_are_400_not_500(demo_api):
    """Defence in depth: even a cursor signed with the stage's key must have the shape the API makes."""
    customer = new_customer(demo_api)
    for _ in range(2):
        new_work_order(demo_api, customer["id"])
    real = demo_api.call("GET", "/forms/work_order/records?limit=1", **AGENT).json["next_cursor"]
    query_id = json.loads(base64.urlsafe_b64decode(real.split(".")[0]))["q"]
    shapes = [{"q": query_id, "p": {"999": ""}},          # a shard the form does not have
              {"q": query_id, "p": {"0": 5}},             # a position that is not a key
              {"q": query_id, "p": {"0": "x" * 2000}},    # an absurdly long key
              {"q": query_id, "p": []},                   # not a map
              {"q": query_id}]                            # no positions
    for body in shapes:
        _assert_invalid(demo_api.call("GET", f"/forms/work_order/records?limit=1&cursor={_signed('list', body)}", **AGENT))
    # another kind's cursor (same key, other label) opens nothing here, and the reverse
    sync_cursor = _signed("sync", {"t": "demo", "u": "agent.li", "v": {}})
    _assert_invalid(demo_api.call("GET", f"/forms/work_order/records?limit=1&cursor={sync_cursor}", **AGENT))
    _assert_invalid(demo_api.call("POST", "/sync", body={"operations": [], "cursor": real}, **AGENT))
    bad_versions = _signed("sync", {"t": "demo", "u": "agent.li", "v": {"01ABC": "one"}})
    _assert_invalid(demo_api.call("POST", "/sync", body={"operations": [], "cursor": bad_versions}, **AGENT))
    # an inbox cursor naming an assignee the caller is not
    inbox_id = f"inbox:demo:role:supervisor,user:{SUP['user']}"
    foreign = _signed("list", {"q": inbox_id, "p": {"user:eng.zhang": ""}})
    _assert_invalid(demo_api.call("GET", f"/tasks?limit=1&cursor={foreign}", **SUP))
    # and the real cursor still pages
    assert demo_api.call("GET", f"/forms/work_order/records?limit=1&cursor={real}", **AGENT).status_code == 200


def test_a_stage_without_its_generated_secret_never_signs_with_a_default(monkeypatch):
    from chalicelib import cursors
    from chalicelib.config import reset_settings
    from chalicelib.errors import ServiceUnavailable
    from chalicelib.signatures import signature_mac
    monkeypatch.setenv("AUTH_MODE", "cognito")
    monkeypatch.delenv("LOCAL_JWT_SECRET", raising=False)
    monkeypatch.delenv("CURSOR_SECRET", raising=False)
    monkeypatch.delenv("SURVEY_SECRET", raising=False)
    reset_settings()
    try:
        with pytest.raises(ServiceUnavailable) as cursor_error:
            cursors.seal("list", {"q": "x", "p": {"0": ""}})
        assert cursor_error.value.code == "cursor_secret_unset"
        with pytest.raises(ServiceUnavailable) as seal_error:
            signature_mac("t/demo/f/r/sig/u", "00", [], "2026-01-01T00:00:00Z", "eng.zhang")
        assert seal_error.value.code == "survey_secret_unset"
        monkeypatch.setenv("CURSOR_SECRET", "g" * 64)
        reset_settings()
        assert cursors.open_("list", cursors.seal("list", {"p": {"0": ""}}), "query.cursor") == {"p": {"0": ""}}
    finally:
        monkeypatch.undo()
        reset_settings()


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_deployed_stacks_generate_both_secrets_for_every_function_that_signs(stage):
    resources = json.loads((ROOT / ".chalice" / f"resources-{stage}.json").read_text())["Resources"]
    for secret in ("CursorSecret", "SurveySecret"):
        generated = resources[secret]
        assert generated["Type"] == "AWS::SecretsManager::Secret"
        assert generated["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    for function in ("APIHandler", "FireTimers", "InboundMessages", "ContinueImports", "SendMail"):
        variables = resources[function]["Properties"]["Environment"]["Variables"]
        assert "${CursorSecret}" in variables["CURSOR_SECRET"]["Fn::Sub"]
        assert "${SurveySecret}" in variables["SURVEY_SECRET"]["Fn::Sub"]
