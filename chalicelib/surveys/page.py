"""The survey as a web page, for the customer who clicks the e-mail link in a browser: the survey
form rendered as plain HTML (no script), its answers read back from a form post, and the short
pages around it (thank you, already answered, link expired, opt-out). Pure: strings in, strings
out. Every value shown is escaped; the words are English or Chinese by the link's `lang`, the
browser's Accept-Language, else English, and a survey definition may reword them per locale
(`page`)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any
from urllib.parse import parse_qs

LOCALES = ("en", "zh-CN")

WORDS: dict[str, dict[str, str]] = {
    "en": {"submit": "Send", "yes": "Yes", "no": "No", "required": "required", "order": "Service order",
           "fix": "Please check the answers marked below.", "thanks_title": "Thank you",
           "thanks": "Your answers have been recorded. Thank you for your time.",
           "answered_title": "Already answered", "answered": "This survey has already been answered. Thank you!",
           "invalid_title": "This link cannot be used", "expired": "This survey link has expired.",
           "invalid": "This survey link is not valid. Please use the link from your e-mail.",
           "gone": "This survey is no longer available.",
           "optout_title": "Stop survey e-mails",
           "optout_question": "Do you want to stop receiving satisfaction surveys from us?",
           "optout_button": "Stop survey e-mails", "optout_done": "You will not receive survey e-mails from us any more.",
           "error_title": "Something went wrong", "error": "Please try again in a few minutes.", "choose": "Choose…"},
    "zh-CN": {"submit": "提交", "yes": "是", "no": "否", "required": "必填", "order": "服务单",
              "fix": "请检查下面标出的回答。", "thanks_title": "谢谢", "thanks": "您的回答已记录，感谢您抽出宝贵时间。",
              "answered_title": "已回答", "answered": "此问卷已经回答过了，谢谢！",
              "invalid_title": "此链接无法使用", "expired": "此问卷链接已过期。",
              "invalid": "此问卷链接无效，请使用邮件中的链接。", "gone": "此问卷已不再提供。",
              "optout_title": "退订问卷邮件", "optout_question": "您是否不再希望收到我们的满意度问卷？",
              "optout_button": "退订问卷邮件", "optout_done": "您将不再收到我们的问卷邮件。",
              "error_title": "出错了", "error": "请几分钟后再试。", "choose": "请选择…"},
}

# Field types a customer can answer on the page; anything else (lookups, attachments, computed...)
# is not asked.
ANSWERABLE = ("text", "textarea", "number", "rating", "checkbox", "select", "multiselect", "email", "phone", "date", "url")
SCALE_LIMIT = 11  # a whole-number field with at most this many values is shown as a row of choices (NPS 0–10)


def choose_locale(requested: str | None, accept_language: str | None, extra: tuple[str, ...] = ()) -> str:
    """The page's language: the link's `lang` if known, else the first known one in Accept-Language."""
    known = {loc.lower(): loc for loc in (*LOCALES, *extra)}
    for wanted in [requested or ""] + [part.split(";")[0].strip() for part in (accept_language or "").split(",")]:
        wanted = wanted.lower()
        if wanted in known:
            return known[wanted]
        base = wanted.split("-")[0]
        for key, loc in known.items():
            if base and key.split("-")[0] == base:
                return loc
    return "en"


def words_for(locale: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Built-in words of the locale, reworded by the survey's `page.<locale>` (title, intro, thanks, labels)."""
    words: dict[str, Any] = {**WORDS.get(locale, WORDS["en"]), "labels": {}, "title": None, "intro": None, "locale": locale}
    for key, value in (overrides or {}).items():
        if value is not None:
            words[key] = value
    return words


def _scale(field) -> list[int] | None:
    if field.type == "rating":
        return list(range(1, field.max + 1))
    if field.type == "number" and field.minimum is not None and field.maximum is not None \
            and field.scale == 0:
        low, high = int(field.minimum), int(field.maximum)
        if low == field.minimum and high == field.maximum and 0 < high - low + 1 <= SCALE_LIMIT:
            return list(range(low, high + 1))
    return None


def _choices(name: str, options: list[tuple[str, str]], chosen: set[str], kind: str = "radio") -> str:
    return "".join(
        f'<label class="choice"><input type="{kind}" name="{escape(name)}" value="{escape(value)}"'
        f'{" checked" if value in chosen else ""}><span>{escape(label)}</span></label>' for value, label in options)


def _control(field, value: Any, words: dict, labelled_by: str = "") -> str:
    """The field's input; a free-text one is named by its legend (`labelled_by`) for screen readers."""
    name = field.name
    named = f' aria-labelledby="{escape(labelled_by)}"' if labelled_by else ""
    scale = _scale(field)
    if scale is not None:
        return f'<div class="scale">{_choices(name, [(str(n), str(n)) for n in scale], {_text(value)})}</div>'
    if field.type == "checkbox":
        chosen = {"yes"} if value is True else {"no"} if value is False else set()
        return f'<div class="scale">{_choices(name, [("yes", words["yes"]), ("no", words["no"])], chosen)}</div>'
    if field.type in ("select", "multiselect"):
        chosen = set(value) if isinstance(value, list) else {_text(value)}
        kind = "checkbox" if field.type == "multiselect" else "radio"
        return f'<div class="options">{_choices(name, [(o.value, o.text("label", words.get("locale")) or o.value) for o in field.options], chosen, kind)}</div>'
    if field.type == "textarea":
        return f'<textarea name="{escape(name)}"{named} rows="4" maxlength="{field.max_length}">{escape(_text(value))}</textarea>'
    kind = {"number": "number", "email": "email", "phone": "tel", "date": "date", "url": "url"}.get(field.type, "text")
    extra = f' maxlength="{field.max_length}"' if getattr(field, "max_length", None) else ""
    if field.type == "number":
        extra = "".join(f' {attr}="{getattr(field, key)}"' for attr, key in (("min", "minimum"), ("max", "maximum"))
                        if getattr(field, key) is not None) + (' step="1"' if field.scale == 0 else ' step="any"')
    return f'<input type="{kind}" name="{escape(name)}"{named} value="{escape(_text(value))}"{extra}>'


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def answerable_fields(form) -> list:
    return [f for f in form.fields if f.type in ANSWERABLE and not f.read_only]


def survey_form_page(form, words: dict, *, title: str, number: str | None, values: dict | None = None,
                     problems: list[dict] | None = None) -> str:
    """The survey form; `values` and `problems` (error details with `path`) re-show a rejected post."""
    values = values or {}
    by_field: dict[str, list[str]] = {}
    for problem in problems or []:
        name = str(problem.get("path", "")).removeprefix("data.").split(".")[0].split("[")[0]
        by_field.setdefault(name, []).append(str(problem.get("message", "")))
    parts = []
    for field in answerable_fields(form):
        label = words["labels"].get(field.name) or field.text("label", words.get("locale")) or field.name
        required = f' <span class="req">({escape(words["required"])})</span>' if field.required else ""
        errors = "".join(f'<p class="err">{escape(m)}</p>' for m in by_field.get(field.name, []))
        legend = f"q-{field.name}"
        parts.append(f'<fieldset{" class=bad" if errors else ""}><legend id="{escape(legend)}">{escape(label)}{required}</legend>'
                     f'{errors}{_control(field, values.get(field.name), words, legend)}</fieldset>')
    unplaced = [m for name, msgs in by_field.items() if name not in {f.name for f in answerable_fields(form)} for m in msgs]
    notice = ""
    if problems:
        notice = f'<p class="err">{escape(words["fix"])}</p>' + "".join(f'<p class="err">{escape(m)}</p>' for m in unplaced)
    intro = f"<p>{escape(words['intro'])}</p>" if words.get("intro") else ""
    order = f'<p class="muted">{escape(words["order"])} {escape(number)}</p>' if number else ""
    body = (f"{order}{intro}{notice}<form method=\"post\">{''.join(parts)}"
            f'<button type="submit">{escape(words["submit"])}</button></form>')
    return document(words.get("title") or title, body, words)


def message_page(words: dict, heading_key: str, message: str) -> str:
    return document(words[heading_key], f"<p>{escape(message)}</p>", words)


def opt_out_page(words: dict, *, done: bool) -> str:
    if done:
        return message_page(words, "optout_title", words["optout_done"])
    body = (f"<p>{escape(words['optout_question'])}</p>"
            f'<form method="post"><button type="submit">{escape(words["optout_button"])}</button></form>')
    return document(words["optout_title"], body, words)


STYLE = ("body{font:16px/1.5 system-ui,-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;margin:0;"
         "background:#f4f5f7;color:#1d2433}main{max-width:36rem;margin:0 auto;padding:1.5rem 1rem;background:#fff;"
         "min-height:100vh}h1{font-size:1.4rem}fieldset{border:0;padding:0;margin:0 0 1.25rem}legend{font-weight:600;"
         "margin-bottom:.4rem}.choice{display:inline-flex;align-items:center;margin:0 .5rem .4rem 0;padding:.35rem .6rem;"
         "border:1px solid #c5cad3;border-radius:.4rem}.choice input{margin:0 .35rem 0 0}textarea,input[type=text],"
         "input[type=number],input[type=email],input[type=tel],input[type=date],input[type=url]{width:100%;box-sizing:"
         "border-box;padding:.5rem;border:1px solid #c5cad3;border-radius:.4rem;font:inherit}button{font:inherit;"
         "padding:.6rem 1.4rem;border:0;border-radius:.4rem;background:#1f5fd1;color:#fff}.err{color:#b42318}"
         ".bad legend{color:#b42318}.req,.muted{color:#5b6475;font-weight:400}")


def document(title: str, body: str, words: dict) -> str:
    return (f'<!doctype html><html lang="{escape(words.get("locale", "en"))}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>")


def answers_from_post(form, raw: str) -> dict:
    """A form post (application/x-www-form-urlencoded) → answers typed as the form expects. A value
    that cannot be read (e.g. "abc" for a number) is passed on as text, so the form engine names it."""
    try:
        posted = parse_qs(raw, keep_blank_values=True, max_num_fields=200)
    except ValueError as exc:  # more fields than any survey has: not a post of this page
        from ..errors import ValidationFailed
        raise ValidationFailed("the form post has too many fields", details=[{"path": "", "message": "too many fields"}]) from exc
    out: dict[str, Any] = {}
    for field in answerable_fields(form):
        given = [v for v in posted.get(field.name, []) if v.strip() != ""]
        if not given:
            continue
        if field.type == "multiselect":
            out[field.name] = given
        elif field.type == "checkbox":
            out[field.name] = {"yes": True, "true": True, "on": True, "no": False, "false": False}.get(given[0].lower(), given[0])
        elif field.type in ("number", "rating"):
            out[field.name] = _number(given[0].strip())
        else:
            out[field.name] = given[0]
    return out


def _number(text: str) -> Any:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if not value.is_finite():
        return text
    return int(value) if value == value.to_integral_value() else value
