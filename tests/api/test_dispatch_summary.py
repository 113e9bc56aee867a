"""A dispatch explanation carries a one-line summary beside its factors (issue 18), in the caller's
language, for the best engineer, every ranked one, the excluded ones and the nobody-eligible case."""
from .helpers import AGENT, new_customer, work_order_data

SUP = dict(user="sup.north", roles=["supervisor"])
CHEN_HOME = {"lat": 31.1, "lng": 121.6}


def _candidates(api, order, language=None):
    headers = {"Accept-Language": language} if language else None
    response = api.call("GET", f"/forms/work_order/records/{order['id']}/dispatch/candidates", headers=headers, **SUP)
    assert response.status_code == 200, response.json
    return response.json


def _order(api, **extra):
    response = api.call("POST", "/forms/work_order/records", body={"data": work_order_data(new_customer(api)["id"], **extra)}, **AGENT)
    assert response.status_code == 201, response.json
    return response.json


def test_the_summary_names_distance_skill_and_load(flow_api):
    order = _order(flow_api, service_location=CHEN_HOME)
    body = _candidates(flow_api, order)
    best = body["candidates"][0]
    assert best["user"] == body["best"]
    km = best["parts"]["distance"]["value"]
    level = best["parts"]["skill"]["value"]
    assert body["summary"] == best["summary"]
    assert body["summary"] == f"Nearest qualified engineer with spare capacity: {km:.1f} km, skill {level}, {best['load']} open orders"
    second = body["candidates"][1]
    assert second["summary"].startswith("Ranked 2: ") and f"skill {second['parts']['skill']['value']}" in second["summary"]
    excluded = next(c for c in body["candidates"] if not c["eligible"])
    assert excluded["summary"].startswith("Not eligible: ") and "hvac skill" in excluded["summary"]
    zh = _candidates(flow_api, order, "zh-CN")
    assert zh["summary"].startswith("最合适的合格工程师") and f"距现场 {km:.1f} 公里" in zh["summary"] and f"技能 {level} 级" in zh["summary"]
    assert next(c for c in zh["candidates"] if not c["eligible"])["summary"].startswith("不可派：技能不足")


def test_nobody_eligible_has_a_summary_too(flow_api):
    order = _order(flow_api, region="north", product_line="medical", priority="high")
    for user in ("eng.chen",):
        [eng] = flow_api.call("GET", f"/forms/engineer/records?filter.user={user}", **SUP).json["items"]
        flow_api.call("PATCH", f"/forms/engineer/records/{eng['id']}", body={"version": eng["version"], "data": {"on_duty": False}}, **SUP)
    body = _candidates(flow_api, order)
    assert body["best"] is None and body["summary"] == f"No eligible engineer: {body['reason']}"
    assert _candidates(flow_api, order, "zh-CN")["summary"].startswith("没有合格的工程师")


def test_a_chinese_reader_gets_every_factor_note_and_rule_in_chinese(flow_api):
    """The cost parts' notes and the rules that exclude an engineer are the engine's English templates;
    a zh-CN reader gets each of them in Chinese (none left in English), an English reader unchanged."""
    import re
    order = _order(flow_api, service_location=CHEN_HOME)
    en, zh = _candidates(flow_api, order), _candidates(flow_api, order, "zh-CN")
    chinese = re.compile(r"[\u4e00-\u9fff]")  # what stays Latin is data: a skill or region code, a user id
    for c_zh in zh["candidates"]:
        for name, part in c_zh["parts"].items():
            assert chinese.search(part["note"]), (name, part["note"])
        for rule in c_zh["excluded"]:
            assert chinese.search(rule["message"]), rule
    assert any(not c["eligible"] for c in zh["candidates"])
    assert en["candidates"][0]["parts"]["distance"]["note"].endswith("km to the site")
