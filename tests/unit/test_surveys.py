"""Survey tokens, e-mail templates and survey definitions (pure, no AWS)."""
import json
from pathlib import Path

import pytest

from chalicelib.errors import DefinitionError
from chalicelib.surveys import TokenError, parse_email_template, parse_survey, render, sign_token, verify_token

SECRET = "s" * 40
APP = Path(__file__).resolve().parents[2] / "definitions" / "after_sales"


def _token(**over):
    claims = dict(tenant="demo", form="work_order", record_id="01ARZ3NDEKTSV4RRFFQ69G5FAV", survey_id="01ARZ3NDEKTSV4RRFFQ69G5FAW",
                  expires_at=2_000_000_000)
    claims.update(over)
    return sign_token(SECRET, **claims)


def test_token_round_trip():
    claims = verify_token(SECRET, _token(), now=1_900_000_000)
    assert claims == {"tenant": "demo", "form": "work_order", "record_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
                      "survey_id": "01ARZ3NDEKTSV4RRFFQ69G5FAW", "expires_at": 2_000_000_000}


@pytest.mark.parametrize("mutate, code", [
    (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "survey_token_invalid"),  # MAC changed
    (lambda t: ("f" if t[0] != "f" else "g") + t[1:], "survey_token_invalid"),  # payload changed
    (lambda t: t.replace(".", ""), "survey_token_invalid"),
    (lambda t: t + "." + t, "survey_token_invalid"),
    (lambda t: "", "survey_token_invalid"),
    (lambda t: t * 20, "survey_token_invalid"),
    (lambda t: _token(expires_at=1_800_000_000), "survey_token_expired"),
    (lambda t: sign_token("x" * 40, tenant="demo", form="work_order", record_id="r", survey_id="s", expires_at=2_000_000_000),
     "survey_token_invalid"),
])
def test_bad_tokens(mutate, code):
    with pytest.raises(TokenError) as exc:
        verify_token(SECRET, mutate(_token()), now=1_900_000_000)
    assert exc.value.code == code


def test_other_tenant_in_the_payload_breaks_the_mac():
    payload, mac = _token().split(".")
    other = _token(tenant="other").split(".")[0]
    with pytest.raises(TokenError):
        verify_token(SECRET, f"{other}.{mac}", now=1)


def test_shipped_templates_render_both_locales_and_escape_html():
    template = parse_email_template(json.loads((APP / "email_templates" / "satisfaction_survey.json").read_text()))
    context = {"order_no": "WO-1", "completed_at": "2026-11-30", "customer": {"name": "<script>alert(1)</script> & Co"},
               "survey_url": "https://x.example/surveys/a.b?x=1&y=2"}
    en = render(template, "en", context)
    assert en["locale"] == "en" and en["subject"] == "Work order WO-1 is complete: how did we do?"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in en["html"] and "<script>" not in en["html"]
    assert "https://x.example/surveys/a.b?x=1&amp;y=2" in en["html"]
    assert "<script>alert(1)</script> & Co" in en["text"]  # text bodies are not HTML
    assert render(template, "zh-TW", context)["locale"] == "zh-CN"  # same language
    assert render(template, "fr", context)["locale"] == "zh-CN"  # the default


def test_subject_stays_on_one_line():
    template = parse_email_template({"name": "t", "default_locale": "en",
                                     "locales": {"en": {"subject": "Hi {{name}}", "html": "<p>x</p>", "text": "x"}}})
    assert render(template, None, {"name": "a\r\nBcc: evil@example.com"})["subject"] == "Hi a Bcc: evil@example.com"


@pytest.mark.parametrize("raw, path", [
    ({"name": "t", "default_locale": "de", "locales": {"en": {"subject": "s", "html": "h", "text": "t"}}}, ""),
    ({"name": "t", "default_locale": "en", "locales": {"en": {"subject": "{{ bad-name }}", "html": "h", "text": "t"}}},
     "locales.en.subject"),
    ({"name": "t", "default_locale": "en", "locales": {"en": {"subject": "s", "html": "{{x", "text": "t"}}}, "locales.en.html"),
    ({"name": "t", "default_locale": "en", "locales": {"en": {"subject": "s", "html": "h", "text": "t", "x": 1}}}, "locales.en.x"),
    ({"name": "t", "default_locale": "en", "locales": {"EN!": {"subject": "s", "html": "h", "text": "t"}}}, "locales"),
])
def test_bad_templates_are_rejected_with_a_path(raw, path):
    with pytest.raises(DefinitionError) as exc:
        parse_email_template(raw)
    assert exc.value.details[0]["path"] == path


def test_survey_definition_checks_field_names():
    from chalicelib.forms.definition import parse_form_definition
    from chalicelib.surveys.definition import check_against
    survey = parse_survey(json.loads((APP / "surveys" / "work_order.json").read_text()))
    forms = {n: parse_form_definition(json.loads((APP / "forms" / f"{n}.json").read_text()))
             for n in ("work_order", "satisfaction_survey", "customer")}
    assert check_against(survey, forms["work_order"], forms["satisfaction_survey"], forms["customer"]) == []
    broken = survey.model_copy(update={"answers": {"rating": "no_such_field", "stars": "satisfaction_rating"}})
    problems = check_against(broken, forms["work_order"], forms["satisfaction_survey"], forms["customer"])
    assert {p["path"] for p in problems} == {"answers.rating", "answers.stars"}
    with pytest.raises(DefinitionError):
        parse_survey({**survey.model_dump(), "link_days": 0})
