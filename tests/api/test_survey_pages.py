"""The survey in the customer's browser: the e-mail's links open web pages (no script, no login),
the form post answers once, refusals are pages in the customer's language, and the opt-out link
asks before it changes anything."""
import re
from urllib.parse import urlencode

from .test_surveys_api import _deliver, _link, completed_order, ses  # noqa: F401  (fixture)

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}


def _get(api, path, **headers):
    return api.call("GET", path, user=None, headers={**BROWSER, **headers})


def _post(api, path, fields, **headers):
    return api.call("POST", path, user=None, headers={**FORM, **headers}, raw=urlencode(fields, doseq=True).encode())


def _html(response) -> str:
    assert response.headers["Content-Type"].startswith("text/html"), response.headers
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def test_the_mail_link_opens_a_page_whose_post_answers_once(flow_api, ses):
    order, _customer = completed_order(flow_api, {"email": "buyer@example.com", "language": "en"})
    _deliver()
    [message] = ses.sent_messages
    assert re.search(r"/surveys/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\?lang=en", message.body)  # the page opens in English
    token = _link(message)
    page = _get(flow_api, f"/surveys/{token}?lang=en")
    assert page.status_code == 200
    html = _html(page)
    number = order.get()["number"]
    assert number in html and '<form method="post">' in html and "<script" not in html
    assert html.count('name="rating"') == 5 and html.count('name="nps"') == 11  # 1–5 and 0–10 as rows of choices
    assert 'name="problem_solved" value="yes"' in html and "<textarea" in html
    # the token is in the URL: nothing may cache, frame or leak it
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]

    wrong = _post(flow_api, f"/surveys/{token}?lang=en", {"rating": "9", "comment": "<b>hi</b>"})
    assert wrong.status_code == 422
    html = _html(wrong)
    assert 'class=bad' in html and "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html  # re-shown, escaped
    assert order.get()["data"].get("satisfaction_rating") is None

    done = _post(flow_api, f"/surveys/{token}?lang=en", {"rating": "4", "nps": "8", "problem_solved": "yes", "comment": "Quick"})
    assert done.status_code == 200 and "Thank you" in _html(done)
    data = order.get()["data"]
    assert (data["satisfaction_rating"], data["satisfaction_nps"], data["problem_solved"], data["satisfaction_comment"]) == (
        4, 8, True, "Quick")
    again = _post(flow_api, f"/surveys/{token}", {"rating": "1"})
    assert again.status_code == 409 and "already been answered" in _html(again)
    assert _get(flow_api, f"/surveys/{token}").status_code == 409
    assert order.get()["data"]["satisfaction_rating"] == 4


def test_pages_speak_the_customers_language_and_refuse_bad_links(flow_api, ses):
    _order, _customer = completed_order(flow_api, {"email": "buyer@example.com", "language": "zh-CN"})
    _deliver()
    token = _link(ses.sent_messages[0])
    zh = _html(_get(flow_api, f"/surveys/{token}?lang=zh-CN"))
    assert '<html lang="zh-CN">' in zh and "提交" in zh
    # the shipped survey words the Chinese page (definitions/after_sales/surveys/work_order.json: page.zh-CN)
    assert "您对本次服务满意吗" in zh
    by_browser = _html(_get(flow_api, f"/surveys/{token}", **{"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"}))
    assert '<html lang="zh-CN">' in by_browser
    english = _html(_get(flow_api, f"/surveys/{token}", **{"Accept-Language": "fr-FR"}))
    assert '<html lang="en">' in english and "Send" in english

    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    refused = _get(flow_api, f"/surveys/{forged}?lang=en")
    assert refused.status_code == 403 and "not valid" in _html(refused)
    # an API client (no text/html) still gets JSON
    api_view = flow_api.call("GET", f"/surveys/{token}", user=None)
    assert api_view.status_code == 200 and "schema" in api_view.json


def test_opt_out_link_asks_first_and_the_post_opts_out(flow_api, ses):
    _order, customer = completed_order(flow_api, {"email": "buyer@example.com", "language": "en"})
    _deliver()
    [message] = ses.sent_messages
    token = _link(message, "opt-out")
    assert f"/surveys/{token}/opt-out?lang=en" in message.body
    question = _get(flow_api, f"/surveys/{token}/opt-out?lang=en")
    assert question.status_code == 200 and '<form method="post">' in _html(question)
    path = f"/forms/customer/records/{customer['id']}"
    assert not flow_api.call("GET", path).json["data"].get("survey_opt_out")  # following the link changed nothing
    status = flow_api.call("GET", f"/surveys/{token}/opt-out", user=None)  # a front end asks as JSON
    assert status.status_code == 200 and status.json["opted_out"] is False and status.json["number"]
    done = _post(flow_api, f"/surveys/{token}/opt-out?lang=en", {})
    assert done.status_code == 200 and "not receive survey e-mails" in _html(done)
    assert flow_api.call("GET", path).json["data"]["survey_opt_out"] is True
    assert flow_api.call("GET", f"/surveys/{token}/opt-out", user=None).json["opted_out"] is True


def test_form_post_is_read_as_the_form_types():
    from chalicelib.forms.definition import parse_form_definition as parse_form
    from chalicelib.surveys.page import answers_from_post
    form = parse_form({"name": "s", "title": "S", "fields": [
        {"name": "rating", "type": "rating", "max": 5}, {"name": "nps", "type": "number", "minimum": 0, "maximum": 10},
        {"name": "ok", "type": "checkbox"}, {"name": "tags", "type": "multiselect", "options": [{"value": "a"}, {"value": "b"}]},
        {"name": "note", "type": "textarea"}, {"name": "who", "type": "lookup", "form": "customer"}],
        "permissions": {"create": ["admin"], "read": ["admin"], "update": ["admin"], "delete": ["admin"]}})
    got = answers_from_post(form, "rating=4&nps=abc&ok=no&tags=a&tags=b&note=&who=01ARZ3NDEKTSV4RRFFQ69G5FAV&extra=1")
    assert got == {"rating": 4, "nps": "abc", "ok": False, "tags": ["a", "b"]}  # blank, non-answerable, unknown left out
    import pytest

    from chalicelib.errors import ValidationFailed
    with pytest.raises(ValidationFailed):
        answers_from_post(form, "&".join(f"f{i}=1" for i in range(300)))
