"""E-mail templates: a tenant definition kind (`email_template`). One template has a subject, an
HTML body and a text body per locale (e.g. zh-CN and en). Bodies use `{{path}}` placeholders only
(`{{order_no}}`, `{{customer.name}}`, `{{survey_url}}`): no expressions, no eval. Values are
HTML-escaped in HTML bodies, and the subject is kept on one line."""
from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import DefinitionError

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_$][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*){0,3})\s*\}\}")
LOCALE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"


def locale_keys(value: dict) -> dict:
    """A definition's per-locale dict: every key a language tag (en, zh-CN)."""
    for key in value:
        if not re.fullmatch(LOCALE, key):
            raise ValueError(f"locale '{key}' is not a language tag like en or zh-CN")
    return value


class LocalizedTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(min_length=1, max_length=300)
    html: str = Field(min_length=1, max_length=100_000)
    text: str = Field(min_length=1, max_length=100_000)

    @field_validator("subject", "html", "text")
    @classmethod
    def _placeholders_well_formed(cls, value: str) -> str:
        leftover = PLACEHOLDER.sub("", value)
        if "{{" in leftover or "}}" in leftover:
            raise ValueError("placeholders are {{field}} or {{field.sub}} (letters, digits, _ only)")
        return value


class EmailTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    title: str | None = None
    default_locale: str = Field(pattern=LOCALE)
    locales: dict[str, LocalizedTemplate] = Field(min_length=1)

    @field_validator("locales")
    @classmethod
    def _locale_names(cls, value: dict) -> dict:
        return locale_keys(value)

    @model_validator(mode="after")
    def _default_exists(self) -> "EmailTemplate":
        if self.default_locale not in self.locales:
            raise ValueError(f"default_locale '{self.default_locale}' has no entry in locales")
        return self

    def pick(self, locale: str | None) -> tuple[str, LocalizedTemplate]:
        """The requested locale, else its language (zh for zh-TW → zh-CN if only that exists), else the default."""
        if locale and locale in self.locales:
            return locale, self.locales[locale]
        if locale:
            language = locale.split("-")[0].lower()
            for key, value in self.locales.items():
                if key.split("-")[0].lower() == language:
                    return key, value
        return self.default_locale, self.locales[self.default_locale]


def parse_email_template(raw: Any) -> EmailTemplate:
    try:
        return EmailTemplate.model_validate(raw)
    except ValidationError as exc:
        from ..plain_errors import problems
        raise DefinitionError("email template is invalid",
                              details=problems(exc, lambda loc: ".".join(str(p) for p in loc), EmailTemplate)) from exc


def _lookup(context: dict, path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (list, dict)):
        return ""  # sub-tables and attachments are not rendered into mail
    return str(value)


def fill(source: str, context: dict, *, escape: bool) -> str:
    def one(match: re.Match) -> str:
        value = _text(_lookup(context, match.group(1)))
        return html.escape(value, quote=True) if escape else value
    return PLACEHOLDER.sub(one, source)


def render(template: EmailTemplate, locale: str | None, context: dict) -> dict:
    """{locale, subject, html, text} for this context (record fields, links, the recipient)."""
    chosen, body = template.pick(locale)
    subject = " ".join(fill(body.subject, context, escape=False).split())[:300]  # one line: no header injection
    return {"locale": chosen, "subject": subject, "html": fill(body.html, context, escape=True),
            "text": fill(body.text, context, escape=False)}
