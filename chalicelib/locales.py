"""The languages definitions speak: a label in the author's words plus its translations, and the
caller's language chosen from the request.

A definition object that people read (a field, an option, a form, an action, a state, a report's
dimension, a chart...) keeps its text where it always was (`label`, `title`, `description`; `Label` in
workflows) and may add `translations` (`Translations` in workflows): per language, the same keys
with that language's text. The API answers in the caller's language (HTTP Accept-Language, negotiated
against LANGUAGES); a text without a translation falls back to the author's words, never to nothing.

    {"name": "priority", "type": "select", "label": "Priority",
     "translations": {"zh-CN": {"label": "优先级"}},
     "options": [{"value": "urgent", "label": "Urgent", "translations": {"zh-CN": {"label": "紧急"}}}]}

Pure: no HTTP, no storage."""
from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, model_validator

LANGUAGES: tuple[str, ...] = ("en", "zh-CN")
DEFAULT_LANGUAGE = "en"
Language = Literal["en", "zh-CN"]
_BY_PRIMARY = {"en": "en", "zh": "zh-CN"}
MAX_TEXT = 4000

TranslationMap = dict[Language, dict[str, str]]


def negotiate(header: str | None) -> str:
    """The supported language an Accept-Language header prefers most ("zh-CN,zh;q=0.9,en;q=0.8" ->
    zh-CN; "zh-TW" -> zh-CN, the only Chinese offered; "fr" or nothing -> the default)."""
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for position, part in enumerate((header or "")[:500].split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        tag = tag.strip()
        match = next((lang for lang in LANGUAGES if lang.lower() == tag.lower()), None) \
            or _BY_PRIMARY.get(tag.split("-")[0].lower())
        if match and q > 0 and q - position * 1e-6 > best_q:  # equal weights: the earlier wins
            best, best_q = match, q - position * 1e-6
    return best


class _Translated(BaseModel):
    """What both spellings share: `translations_key` names the field holding the translations, whose
    keys must be the model's `translatable` attributes."""

    translatable: ClassVar[tuple[str, ...]] = ()
    translations_key: ClassVar[str] = "translations"

    @model_validator(mode="after")
    def _known_keys(self):
        _check(getattr(self, self.translations_key), self.translatable, self.translations_key)
        return self

    def text(self, attr: str, language: str | None) -> str:
        return localized(self, attr, language)


class Translatable(_Translated):
    """Mixin for definition models: `translations` (snake_case definitions)."""

    translatable: ClassVar[tuple[str, ...]] = ("label",)
    translations: TranslationMap = Field(default_factory=dict)


class TranslatablePascal(_Translated):
    """The same for workflow models (PascalCase): `Translations` of `Label`."""

    translatable: ClassVar[tuple[str, ...]] = ("Label",)
    translations_key: ClassVar[str] = "Translations"
    Translations: TranslationMap = Field(default_factory=dict)


def _check(translations: dict, allowed: tuple[str, ...], where: str) -> None:
    for language, texts in translations.items():
        for key, value in texts.items():
            if key not in allowed:
                raise ValueError(f"{where}.{language}: '{key}' is not translatable here; use {', '.join(allowed)}")
            if not value.strip() or len(value) > MAX_TEXT:
                raise ValueError(f"{where}.{language}.{key}: give 1 to {MAX_TEXT} characters")


def localized(obj: Any, attr: str, language: str | None) -> str:
    """obj.attr in `language` when translated, else the author's text (never None)."""
    translations = getattr(obj, "translations", None) or getattr(obj, "Translations", None) or {}
    if language and (text := (translations.get(language) or {}).get(attr)):
        return text
    return getattr(obj, attr, None) or ""


_LOCALIZED: dict[tuple[int, str], tuple[Any, Any]] = {}
_LOCALIZED_MAX = 512


def localize(model: Any, language: str | None) -> Any:
    """A copy of a definition model with every translatable text, at any depth, in `language`
    (untranslated texts keep the author's words). Definitions are frozen and their parses cached, so
    the copies are cached by identity too."""
    if not language or not isinstance(model, BaseModel):
        return model
    key = (id(model), language)
    hit = _LOCALIZED.get(key)
    if hit is not None and hit[0] is model:
        return hit[1]
    out = _localize(model, language)
    if len(_LOCALIZED) >= _LOCALIZED_MAX:
        _LOCALIZED.clear()
    _LOCALIZED[key] = (model, out)
    return out


def _localize(value: Any, language: str) -> Any:
    if isinstance(value, BaseModel):
        update = {}
        for name in type(value).model_fields:
            item = getattr(value, name)
            new = _localize(item, language)
            if new is not item:
                update[name] = new
        for attr in getattr(value, "translatable", ()):
            text = localized(value, attr, language)
            if text and text != getattr(value, attr, None):
                update[attr] = text
        if not update:
            return value
        copy = value.model_copy(update=update)
        for cached in [k for k in copy.__dict__ if k not in type(value).model_fields]:
            del copy.__dict__[cached]  # cached properties (fields_by_name...) of the original's texts
        return copy
    if isinstance(value, list):
        items = [_localize(v, language) for v in value]
        return items if any(a is not b for a, b in zip(items, value)) else value
    if isinstance(value, dict):
        items = {k: _localize(v, language) for k, v in value.items()}
        return items if any(items[k] is not value[k] for k in value) else value
    return value


__all__ = ["localize", "LANGUAGES", "DEFAULT_LANGUAGE", "Language", "negotiate", "Translatable", "TranslatablePascal", "localized"]
