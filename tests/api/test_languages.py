"""Definitions speak the caller's language: labels, titles, options, states, actions, deadlines and
chart titles come back in the language the request's Accept-Language prefers (locales.py)."""
import pytest

from .test_reports_api import deliver, stream_event

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}
STAFF = dict(user="ann", roles=["staff"])
EVERYONE = {"create": ["staff"], "read": ["staff"], "update": ["staff"], "report": ["staff"]}

FORM = {"title": "Ticket", "translations": {"zh-CN": {"title": "工单"}},
        "fields": [{"name": "subject", "type": "text", "label": "Subject", "required": True,
                    "description": "What is wrong", "translations": {"zh-CN": {"label": "主题", "description": "哪里出了问题"}}},
                   {"name": "level", "type": "select", "label": "Level", "translations": {"zh-CN": {"label": "级别"}},
                    "options": [{"value": "high", "label": "High", "translations": {"zh-CN": {"label": "高"}}},
                                {"value": "low", "label": "Low"}]},
                   {"name": "lines", "type": "subtable", "label": "Lines", "fields": [
                       {"name": "item", "type": "text", "label": "Item", "translations": {"zh-CN": {"label": "物品"}}}]}],
        "indexes": ["level"], "permissions": EVERYONE}
FLOW = {"StartAt": "Open", "title": "Ticket flow", "Translations": {"zh-CN": {"title": "工单流程"}},
        "States": {"Open": {"Type": "Task", "Label": "Open", "Translations": {"zh-CN": {"Label": "待处理"}},
                            "Assignee": {"Role": "staff"},
                            "Deadlines": [{"Name": "response", "Seconds": 3600, "Label": "Response",
                                           "Translations": {"zh-CN": {"Label": "响应"}}}],
                            "Actions": {"close": {"Label": "Close", "Next": "Done", "Translations": {"zh-CN": {"Label": "关闭"}}}}},
                   "Done": {"Type": "Succeed"}}}
REPORT = {"title": "Tickets by level", "translations": {"zh-CN": {"title": "各级别工单"}}, "form": "ticket",
          "dimensions": [{"name": "level", "field": "level", "label": "Level", "translations": {"zh-CN": {"label": "级别"}}},
                         {"name": "state", "field": "$state", "label": "State"}],
          "measures": [{"name": "tickets", "op": "count", "label": "Tickets", "translations": {"zh-CN": {"label": "工单数"}}}]}
BOARD = {"title": "Desk", "translations": {"zh-CN": {"title": "服务台"}},
         "charts": [{"id": "levels", "type": "bar", "report": "tickets", "x": "level", "y": "tickets", "title": "By level",
                     "translations": {"zh-CN": {"title": "按级别"}}}]}


def upload(api, kind, name, body):
    response = api.call("POST", f"/definitions/{kind}/{name}/versions", body=body)
    assert response.status_code == 201, response.json


@pytest.fixture
def ticket_api(api):
    upload(api, "form", "ticket", FORM)
    upload(api, "workflow", "ticket", FLOW)
    upload(api, "report", "tickets", REPORT)
    upload(api, "dashboard", "desk", BOARD)
    return api


def test_menus_schema_and_actions_answer_in_the_callers_language(ticket_api):
    api = ticket_api
    zh = next(f for f in api.call("GET", "/navigation", headers=ZH, **STAFF).json["forms"] if f["name"] == "ticket")
    en = next(f for f in api.call("GET", "/navigation", headers=EN, **STAFF).json["forms"] if f["name"] == "ticket")
    assert (zh["title"], en["title"]) == ("工单", "Ticket")
    assert {c["name"]: c["label"] for c in zh["columns"]}["subject"] == "主题"
    level = next(f for f in zh["filters"] if f["name"] == "level")
    assert level["label"] == "级别" and level["options"] == [{"value": "high", "label": "高"}, {"value": "low", "label": "Low"}]
    assert zh["states"][0]["label"] == "待处理" and en["states"][0]["label"] == "Open"
    assert zh["states"][1]["label"] == "Done"  # untranslated and unlabelled: its name, never nothing
    assert zh["deadlines"] == {"response": "响应"} and en["deadlines"] == {"response": "Response"}
    assert zh["actions"] == {"close": "关闭"} and en["actions"] == {"close": "Close"}
    assert api.call("GET", "/navigation", headers={"Accept-Language": "fr-FR"}, **STAFF).json["language"] == "en"
    assert api.call("GET", "/navigation", headers=ZH, **STAFF).json["language"] == "zh-CN"

    schema = api.call("GET", "/forms/ticket/schema", headers=ZH, **STAFF).json
    assert schema["title"] == "工单"
    subject, lvl = schema["properties"]["subject"], schema["properties"]["level"]
    assert (subject["title"], subject["description"]) == ("主题", "哪里出了问题")
    assert lvl["x-options"] == [{"value": "high", "label": "高"}, {"value": "low", "label": "Low"}]
    assert schema["properties"]["lines"]["anyOf"][0]["items"]["properties"]["item"]["title"] == "物品"
    assert api.call("GET", "/forms/ticket/schema", headers=EN, **STAFF).json["properties"]["subject"]["title"] == "Subject"

    record = api.call("POST", "/forms/ticket/records", body={"data": {"subject": "Door", "level": "high"}}, **STAFF).json
    actions = api.call("GET", f"/forms/ticket/records/{record['id']}/actions", headers=ZH, **STAFF).json["actions"]
    assert [(a["action"], a["label"]) for a in actions] == [("close", "关闭")]
    diagram = api.call("GET", "/workflows/ticket/diagram", headers=ZH, **STAFF).json
    assert {s["name"]: s["label"] for s in diagram["states"]} == {"Open": "待处理", "Done": "Done"}
    assert [e["text"] for e in diagram["edges"] if e["label"] == "action:close"] == ["关闭"]


def test_charts_answer_in_the_callers_language_and_name_options_by_label(ticket_api):
    api = ticket_api
    ids = [api.call("POST", "/forms/ticket/records", body={"data": {"subject": s, "level": lv}}, **STAFF).json["id"]
           for s, lv in (("a", "high"), ("b", "low"), ("c", "high"))]
    deliver(stream_event("demo", ids))
    board = api.call("GET", "/dashboards/desk", headers=ZH, **STAFF).json
    chart = board["charts"][0]
    assert board["title"] == "服务台" and chart["title"] == "按级别"
    spec = chart["vega_lite"]
    assert spec["title"] == "按级别"
    assert spec["encoding"]["x"]["title"] == "级别" and spec["encoding"]["y"]["title"] == "工单数"
    assert spec["encoding"]["x"]["field"] == "level_title"  # the axis shows option labels, the datum keeps the value
    assert {(v["level"], v["level_title"]) for v in spec["data"]["values"]} == {("high", "高"), ("low", "Low")}
    report = api.call("GET", "/reports/tickets", headers=ZH, **STAFF).json
    assert report["title"] == "各级别工单"
    assert {(r["state"], r["state_title"]) for r in report["rows"]} == {("Open", "待处理")}  # state labels too
    assert "state_title" not in api.call("GET", "/reports/tickets", headers=EN, **STAFF).json["rows"][0]  # labels = names: no column
    en = api.call("GET", "/dashboards/desk", headers=EN, **STAFF).json["charts"][0]["vega_lite"]
    assert en["title"] == "By level" and {v["level_title"] for v in en["data"]["values"]} == {"High", "Low"}
    nav = api.call("GET", "/navigation", headers=ZH, **STAFF).json
    assert {"name": "desk", "title": "服务台"} in nav["dashboards"]


@pytest.mark.parametrize("where, bad, message", [
    ("fields", {"name": "a", "type": "text", "translations": {"fr": {"label": "x"}}}, "fr"),
    ("fields", {"name": "a", "type": "text", "translations": {"zh-CN": {"lable": "x"}}}, "'lable' is not translatable"),
    ("fields", {"name": "a", "type": "text", "translations": {"zh-CN": {"label": "  "}}}, "give 1 to"),
])
def test_a_translation_that_cannot_be_shown_is_refused_at_its_path(api, where, bad, message):
    response = api.call("POST", "/definitions/form/bad/versions", body={"title": "Bad", where: [bad]})
    assert response.status_code == 422, response.json
    details = response.json["error"]["details"]
    assert any(d["path"].startswith("fields[0]") and message in (d["path"] + d["message"]) for d in details), details


def test_accept_language_is_negotiated_against_the_languages_offered():
    from chalicelib.locales import negotiate
    assert negotiate("zh-CN,zh;q=0.9,en;q=0.8") == "zh-CN"
    assert negotiate("zh-TW") == "zh-CN"  # the only Chinese offered
    assert negotiate("en-US") == "en" and negotiate(None) == "en" and negotiate("fr") == "en"
    assert negotiate("fr;q=1, zh;q=0.5, en;q=0.6") == "en"  # weights count
    assert negotiate("en, zh-CN") == "en"  # equal weights: the first wins
    assert negotiate("zh-CN;q=0") == "en"  # q=0: not acceptable
    assert negotiate("zh-CN;q=abc, en") == "en"


def test_a_localized_copy_never_keeps_the_originals_cached_lookups():
    from chalicelib.forms.definition import FormDefinition
    from chalicelib.locales import localize
    form = FormDefinition.model_validate({"name": "t", "title": "T", "fields": [FORM["fields"][0]]})
    assert form.fields_by_name["subject"].label == "Subject"  # cached on the original
    zh = localize(form, "zh-CN")
    assert zh.fields_by_name["subject"].label == "主题" and form.fields_by_name["subject"].label == "Subject"
    assert localize(form, "zh-CN") is zh and localize(form, "en") is form  # nothing to translate: the same object
