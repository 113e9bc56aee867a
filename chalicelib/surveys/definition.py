"""The `survey` definition kind, named after the form whose records are surveyed (work_order).
Which e-mail templates to send, who receives them (the lookup field naming the customer, its e-mail,
opt-out and locale fields), which survey form the customer fills, where each answer lands on the
record, and the timing (link lifetime, reminder). Every name is data; `check_against` verifies them
against the published forms at upload."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import DefinitionError

IDENT = r"^[a-z][a-z0-9_]{0,62}$"


class Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lookup_field: str = Field(pattern=IDENT, description="lookup on the surveyed form naming the customer record")
    email_field: str = Field(pattern=IDENT, description="e-mail field on the customer record")
    opt_out_field: str | None = Field(default=None, pattern=IDENT, description="checkbox on the customer: no surveys")
    locale_field: str | None = Field(default=None, pattern=IDENT, description="customer field holding en / zh-CN ...")


class PageWords(BaseModel):
    """Rewording of the survey web page in one locale; unset keys keep the built-in words."""
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=200)
    intro: str | None = Field(default=None, max_length=2000)
    thanks: str | None = Field(default=None, max_length=2000)
    labels: dict[str, str] = Field(default_factory=dict, description="survey form field → question in this locale")


class SurveyDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    title: str | None = None
    survey_form: str = Field(pattern=IDENT)
    template: str = Field(pattern=IDENT, description="the workflow's SendEmail Template that starts this survey")
    reminder_template: str | None = Field(default=None, pattern=IDENT)
    recipient: Recipient
    answers: dict[str, str] = Field(min_length=1, description="survey form field → surveyed form field")
    answered_at_field: str | None = Field(default=None, pattern=IDENT)
    status_field: str | None = Field(default=None, pattern=IDENT, description="records what happened to the mail")
    note_field: str | None = Field(default=None, pattern=IDENT, description="why a survey mail was not sent")
    await_state: str | None = Field(default=None, description="workflow state waiting for the answer")
    action: str | None = Field(default=None, description="workflow action the answer takes in await_state")
    link_days: int = Field(default=14, ge=1, le=90)
    reminder_days: int | None = Field(default=3, ge=1, le=60)
    page: dict[str, PageWords] = Field(default_factory=dict, description="locale (en, zh-CN ...) → words of the web page")

    @field_validator("page")
    @classmethod
    def _page_locales(cls, value: dict) -> dict:
        from .templates import locale_keys
        return locale_keys(value)


def parse_survey(raw: Any) -> SurveyDefinition:
    try:
        return SurveyDefinition.model_validate(raw)
    except ValidationError as exc:
        from ..plain_errors import problems
        raise DefinitionError("survey definition is invalid",
                              details=problems(exc, lambda loc: ".".join(str(p) for p in loc), SurveyDefinition)) from exc


def check_against(survey: SurveyDefinition, target, survey_form, customer_form) -> list[dict]:
    """Problems with the field names, given the published forms (None = that form does not exist)."""
    problems: list[dict] = []
    if survey_form is None:
        problems.append({"path": "survey_form", "message": f"no published form '{survey.survey_form}'"})
    if target is None:
        return problems + [{"path": "name", "message": f"no published form '{survey.name}'"}]
    lookup = target.field(survey.recipient.lookup_field)
    if lookup is None or lookup.type != "lookup":
        problems.append({"path": "recipient.lookup_field", "message": "must be a lookup field of the form"})
    elif customer_form is not None:
        email = customer_form.field(survey.recipient.email_field)
        if email is None or email.type not in ("email", "text"):
            problems.append({"path": "recipient.email_field", "message": f"no e-mail field on {customer_form.name}"})
        for key in ("opt_out_field", "locale_field"):
            name = getattr(survey.recipient, key)
            if name and customer_form.field(name) is None:
                problems.append({"path": f"recipient.{key}", "message": f"no field '{name}' on {customer_form.name}"})
    for source, dest in survey.answers.items():
        if survey_form is not None and survey_form.field(source) is None:
            problems.append({"path": f"answers.{source}", "message": f"no field '{source}' on {survey.survey_form}"})
        if target.field(dest) is None:
            problems.append({"path": f"answers.{source}", "message": f"no field '{dest}' on {survey.name}"})
    for locale, words in survey.page.items():
        for source in words.labels:
            if survey_form is not None and survey_form.field(source) is None:
                problems.append({"path": f"page.{locale}.labels.{source}", "message": f"no field '{source}' on {survey.survey_form}"})
    for key in ("answered_at_field", "status_field", "note_field"):
        name = getattr(survey, key)
        if name and target.field(name) is None:
            problems.append({"path": key, "message": f"no field '{name}' on {survey.name}"})
    return problems
