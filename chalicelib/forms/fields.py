"""Field types of the form engine, as pydantic models discriminated on `type`.

Each field model knows only its own static settings; checking values lives in values.py and
JSON Schema export in schema.py, so the three stay readable side by side.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from ..errors import ExpressionError
from ..expressions.patterns import compile_pattern, repeats_an_alternation
from ..locales import Translatable
from .names import NAME_PATTERN  # noqa: F401  (re-exported: forms.fields.NAME_PATTERN)

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MAX_SIGNIFICANT_DIGITS = 15  # values round-trip exactly through JSON doubles and DynamoDB numbers
MAX_DURATION_SECONDS = 10**12  # ~31,700 years: any real duration, and int() stays cheap


def _json_number(value: Any) -> Any:
    # Definitions arrive as JSON parsed to int / Decimal (float from json.loads): numbers only.
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError("must be a number")
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


Number = Annotated[Decimal, BeforeValidator(_json_number)]


class _Strict(BaseModel):
    # strict: "required": "yes" or "max_length": "10" are mistakes, not values to coerce.
    # defer_build: validators are built on first parse, not at import (Lambda cold start).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)


class Option(Translatable, _Strict):
    value: str = Field(min_length=1, max_length=100)
    label: str = Field(default="", max_length=200)


def unique_text(value: str, *, phone: bool = False) -> str:
    """Unicode NFKC, case-folded, surrounding and repeated whitespace collapsed; a phone number
    also loses its separators (spaces, dots, dashes, brackets): "+86 138-0013-8000" = "+8613800138000"."""
    import unicodedata
    text = " ".join(unicodedata.normalize("NFKC", value).casefold().split())
    if phone:
        text = "".join(c for c in text if c not in " .-()")
    return text


class _FieldBase(Translatable, _Strict):
    translatable: ClassVar[tuple[str, ...]] = ("label", "description")
    name: str = Field(pattern=NAME_PATTERN)
    label: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)
    required: bool = False
    unique: bool = False
    read_only: bool = False
    server_owned: bool = False  # only the platform writes it (workflow steps, surveys, mail, uploads)
    visible_if: str | None = Field(default=None, max_length=4000)
    required_if: str | None = Field(default=None, max_length=4000)
    readonly_if: str | None = Field(default=None, max_length=4000)
    default: Any = None
    # "<lookup field>.<field of the looked-up form>": the platform copies that value in when the lookup
    # is set or changes (unless the same write sets this field itself), as Frappe's fetch_from does
    fetch_from: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,62}\.[a-z][a-z0-9_]{0,62}$")

    # Settings that only make sense for some types are rejected for the others in definition.py.
    supports_unique: ClassVar[bool] = False
    computed_by_server: ClassVar[bool] = False

    def unique_key(self, value: Any) -> Any:
        """The value a unique claim is keyed by: two values that are the same to a person share one
        key (fields.unique_text; e-mail always, text/phone where `case_insensitive` or by type)."""
        if isinstance(value, str) and (self.type in ("email", "phone") or getattr(self, "case_insensitive", False)):
            return unique_text(value, phone=self.type == "phone")
        return value

    @property
    def platform_written(self) -> bool:
        """A client may never supply it: marked server_owned, or a signature (only a confirmed upload
        of the customer's signature writes one)."""
        return self.server_owned or self.type == "signature"


class TextField(_FieldBase):
    type: Literal["text"]
    case_insensitive: bool = False  # unique values compare normalised (unique_text): "ACME Ltd" = "acme ltd"
    min_length: int = Field(default=0, ge=0, le=1000)
    max_length: int = Field(default=255, ge=1, le=1000)
    pattern: str | None = Field(default=None, max_length=200)
    supports_unique: ClassVar[bool] = True

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:  # the same screening as matches(); the cost for max_length is checked in definition.py
            compile_pattern(value)
        except ExpressionError as exc:
            raise ValueError(exc.message.removeprefix("matches(): ")) from None
        if repeats_an_alternation(value):
            raise ValueError("pattern repeats an alternation, which can take exponential time; use a class: (a|b)+ -> [ab]+")
        return value


class TextAreaField(_FieldBase):
    type: Literal["textarea"]
    max_length: int = Field(default=10000, ge=1, le=100000)


class NumberField(_FieldBase):
    type: Literal["number"]
    scale: int = Field(default=0, ge=0, le=6)  # digits after the decimal point; 0 = integer
    minimum: Number | None = None
    maximum: Number | None = None
    total: bool = False  # a sub-table column summed at the foot of its table (report, console)
    supports_unique: ClassVar[bool] = True


class MoneyField(_FieldBase):
    type: Literal["money"]
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    scale: int = Field(default=2, ge=0, le=4)
    minimum: Number | None = None
    maximum: Number | None = None
    total: bool = False  # a sub-table column summed at the foot of its table (report, console)


class PercentField(_FieldBase):
    type: Literal["percent"]
    scale: int = Field(default=2, ge=0, le=4)
    minimum: Number | None = Decimal(0)
    maximum: Number | None = Decimal(100)


class DateField(_FieldBase):
    type: Literal["date"]
    minimum: str | None = None  # YYYY-MM-DD, inclusive
    maximum: str | None = None

    @field_validator("minimum", "maximum")
    @classmethod
    def _is_date(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:  # the regex too: fromisoformat also takes 20260101 and 2026-W01-1
            valid = re.fullmatch(DATE_PATTERN, value) is not None and date.fromisoformat(value) is not None
        except ValueError:
            valid = False
        if not valid:
            raise ValueError("must be a date YYYY-MM-DD")
        return value


class DateTimeField(_FieldBase):
    type: Literal["datetime"]


class TimeField(_FieldBase):
    type: Literal["time"]


class DurationField(_FieldBase):
    type: Literal["duration"]  # whole seconds
    minimum: int | None = Field(default=0, ge=0, le=MAX_DURATION_SECONDS)
    maximum: int | None = Field(default=None, ge=0, le=MAX_DURATION_SECONDS)
    total: bool = False  # a sub-table column summed at the foot of its table (report, console)


class SelectField(_FieldBase):
    type: Literal["select"]
    options: list[Option] = Field(min_length=1, max_length=500)
    supports_unique: ClassVar[bool] = True


class MultiSelectField(_FieldBase):
    type: Literal["multiselect"]
    options: list[Option] = Field(min_length=1, max_length=500)
    min_items: int = Field(default=0, ge=0)
    max_items: int | None = Field(default=None, ge=1)


class CheckboxField(_FieldBase):
    type: Literal["checkbox"]


class RatingField(_FieldBase):
    type: Literal["rating"]
    max: int = Field(default=5, ge=2, le=10)


class PhoneField(_FieldBase):
    type: Literal["phone"]
    supports_unique: ClassVar[bool] = True


class EmailField(_FieldBase):
    type: Literal["email"]
    supports_unique: ClassVar[bool] = True


class UrlField(_FieldBase):
    type: Literal["url"]


class GeolocationField(_FieldBase):
    type: Literal["geolocation"]


class _AttachmentBase(_FieldBase):
    multiple: bool = False
    max_files: int = Field(default=10, ge=1, le=50)
    max_size_mb: int = Field(default=20, ge=1, le=100)


def _images_only(accept: list[str]) -> list[str]:
    """Image and signature fields are drawn inline (record views, the service report): they may not
    accept active content (SVG, HTML, XML, JavaScript). File fields may; those are served as downloads."""
    from ..mediatypes import is_active
    refused = [t for t in accept if is_active(t)]
    if refused:
        raise ValueError(f"{', '.join(refused)}: active content (it can run scripts) is not accepted by image or "
                         "signature fields; use raster types such as image/png, or a file field")
    return accept


class ImageField(_AttachmentBase):
    type: Literal["image"]
    accept: list[str] = Field(default_factory=lambda: ["image/jpeg", "image/png", "image/webp", "image/heic"])
    # the longest side, in pixels, a photo is reduced to in the browser before it goes up (phones take 4000+)
    max_edge_px: int | None = Field(default=None, ge=320, le=10000)

    @field_validator("accept")
    @classmethod
    def _accept_images(cls, value: list[str]) -> list[str]:
        return _images_only(value)


class FileField(_AttachmentBase):
    type: Literal["file"]
    accept: list[str] = Field(default_factory=list)  # empty = any content type (active ones served as downloads)


class SignatureField(_FieldBase):
    type: Literal["signature"]
    accept: list[str] = Field(default_factory=lambda: ["image/png"])  # raster only: never image/svg+xml
    # Fields of the form this signature signs: confirming the upload stores the SHA-256 of their
    # canonical JSON in the attachment (signed_sha256); signature_valid() recomputes it.
    signs: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("accept")
    @classmethod
    def _accept_images(cls, value: list[str]) -> list[str]:
        return _images_only(value)


class UserField(_FieldBase):
    type: Literal["user"]
    role: str | None = Field(default=None, max_length=64)  # the member must hold this role
    supports_unique: ClassVar[bool] = True


class LookupField(_FieldBase):
    type: Literal["lookup"]
    form: str = Field(pattern=NAME_PATTERN)


class ComputedField(_FieldBase):
    type: Literal["computed"]
    expression: str = Field(min_length=1, max_length=4000)
    result: Literal["number", "text", "boolean", "date"] = "number"
    scale: int = Field(default=2, ge=0, le=6)
    total: bool = False  # a sub-table column summed at the foot of its table (report, console)
    computed_by_server: ClassVar[bool] = True


class AutoNumberField(_FieldBase):
    type: Literal["auto_number"]
    # {YYYY} {YY} {MM} pick the counter period; {seq:N} is the zero-padded sequence.
    format: str = Field(default="{seq:6}", max_length=60, pattern=r"^[A-Za-z0-9_\-/.#]*(\{(YYYY|YY|MM|seq:[1-9]|seq:1[0-2])\}[A-Za-z0-9_\-/.#]*)+$")
    computed_by_server: ClassVar[bool] = True

    @field_validator("format")
    @classmethod
    def _has_sequence(cls, value: str) -> str:
        if value.count("{seq:") != 1:
            raise ValueError("format needs exactly one {seq:N} placeholder")
        return value


RowField = Annotated[
    Union[TextField, TextAreaField, NumberField, MoneyField, PercentField, DateField, DateTimeField, TimeField,
          DurationField, SelectField, MultiSelectField, CheckboxField, RatingField, PhoneField, EmailField,
          UrlField, GeolocationField, ImageField, FileField, SignatureField, UserField, LookupField, ComputedField],
    Field(discriminator="type"),
]


class SubTableField(_FieldBase):
    type: Literal["subtable"]
    fields: list[RowField] = Field(min_length=1, max_length=50)
    min_rows: int = Field(default=0, ge=0)
    max_rows: int = Field(default=100, ge=1, le=200)


FormField = Annotated[
    Union[TextField, TextAreaField, NumberField, MoneyField, PercentField, DateField, DateTimeField, TimeField,
          DurationField, SelectField, MultiSelectField, CheckboxField, RatingField, PhoneField, EmailField,
          UrlField, GeolocationField, ImageField, FileField, SignatureField, UserField, LookupField, ComputedField,
          SubTableField, AutoNumberField],
    Field(discriminator="type"),
]

INDEXABLE_TYPES = {"text", "number", "money", "date", "select", "checkbox", "phone", "email", "user", "lookup",
                   "auto_number", "rating"}
