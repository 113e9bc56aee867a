"""The printable service report of a completed record, as one self-contained HTML page.

Generic over the form: every field the caller may see is rendered by its label and type, in the
form's order (so check-in/out times, on-site duration and whatever a tenant adds later appear with
no code change); sub-tables become tables, with a Total row for the columns marked `total` (in the
column's own format: money with its currency, durations as durations); lookups show the linked
record's title; a signature shows its image, the hash it signed and whether the record still
matches it. Labels, options, the state and the page's own words are in the caller's language (en,
zh-CN), times in the reader's time zone (`tz`, else UTC).

Raster images are embedded as data: URIs read from S3 (files.read_typed), so they do not expire while
the page is open or printed later: each at most IMAGE_MAX_BYTES, all together at most
EMBED_BUDGET_BYTES (base64 adds a third: 4 MB of images is 5.3 MB of page, under Lambda's 6 MB
response). Past the budget an image is drawn from a presigned GET and the page says when that link
expires. Only raster images are drawn (<img>, declared and stored type both raster); other files, SVG
included, are download links (files.presigned_get); only keys under this record's prefix are opened.
Every value is tenant data and is escaped; fields hidden from the caller's roles are absent
(Access.mask)."""
from __future__ import annotations

import base64
import html
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from .. import mediatypes
from ..errors import BadRequest, Conflict
from ..locales import localize
from ..signatures import is_valid
from ..storage import files, keys
from ..storage import records as store
from . import definitions
from .caller import Caller
from .uploads import ATTACHMENT_TYPES

IMAGE_MAX_BYTES = 1_500_000  # one embedded image
EMBED_BUDGET_BYTES = 4_000_000  # all embedded images of one report, before base64

STYLE = """body{font:14px/1.45 system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#111}
h1{font-size:20px;margin:0 0 .2em}h2{font-size:16px;margin:1.4em 0 .4em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top}
table.kv th{width:28%}th{color:#444}td.n{text-align:right;white-space:nowrap}tr.total td,tr.total th{border-top:2px solid #999}
.pre{white-space:pre-wrap}.meta{color:#555}img{max-width:320px;max-height:240px;margin:4px}
.ok{color:#060}.bad{color:#b00;font-weight:bold}code{font-size:12px;word-break:break-all}
@media print{body{margin:0;font-size:11pt}h2{break-after:avoid}tr,img,.att{break-inside:avoid}
thead{display:table-header-group}a{color:inherit}}"""

WORDS = {
    "en": {
        "report": "Service report", "state": "State: {state}", "sep": ", ", "version": "version {n}", "printed": "printed {at}",
        "times": "times in {zone}", "details": "Details", "total": "Total", "yes": "Yes", "no": "No",
        "not_available": "{name} (not available)", "link": "shown by a link that expires at {time}",
        "unsigned": "Not a confirmed signature upload: it signs nothing.",
        "valid": "valid: the record still matches what was signed",
        "invalid": "NOT valid: signed fields changed after signing",
        "signed": "Signed {at} (collected by {by}) over: {fields}",
        "h": "h", "min": "min", "s": "s",
        "months": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    },
    "zh-CN": {
        "report": "服务报告", "state": "状态：{state}", "sep": "、", "version": "第 {n} 版", "printed": "打印于 {at}",
        "times": "时间为 {zone}", "details": "详情", "total": "合计", "yes": "是", "no": "否",
        "not_available": "{name}（不可用）", "link": "通过链接显示，链接于 {time} 失效",
        "unsigned": "不是经确认上传的签名：它不证明任何内容。",
        "valid": "有效：记录仍与签署时的内容一致",
        "invalid": "无效：签署后被签字段已修改",
        "signed": "签署于 {at}（由 {by} 采集），签署内容：{fields}",
        "h": "小时", "min": "分", "s": "秒",
        "months": (),
    },
}


def e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def render_report(caller: Caller, form_name: str, record_id: str, time_zone: str | None = None) -> str:
    from .records import access_for, load_visible
    zone = _zone(time_zone)
    _published, published_form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(published_form.permissions.read, f"reading {form_name} records")
    access = access_for(caller, published_form)
    rec = load_visible(access, caller.tenant, form_name, record_id)
    if not _completed(rec):
        raise Conflict("the service report is available once the record is completed", code="not_completed",
                       details=[{"path": "record", "message": f"in state {(rec.workflow or {}).get('state')}"}])
    language = caller.language if caller.language in WORDS else "en"
    form = localize(definitions.version_of(caller.tenant, "form", form_name, rec.form_version), language)
    data = access.mask(rec.data)
    return _Page(caller, form, rec, data, language, zone).html()


def _zone(name: str | None):
    if not name:
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        if len(name) > 64:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest("unknown time zone", code="bad_time_zone",
                         details=[{"path": "tz", "message": "an IANA time zone such as Asia/Shanghai"}]) from exc


def _completed(rec) -> bool:
    wf = rec.workflow
    return not wf or wf.get("status") != "running" or bool(rec.data.get("completed_at"))


class _Page:
    def __init__(self, caller: Caller, form, rec, data: dict, language: str, zone) -> None:
        self.caller, self.form, self.rec, self.data = caller, form, rec, data
        self.language, self.words, self.zone = language, WORDS[language], zone
        self.now = datetime.now(timezone.utc)
        self.embedded = 0  # bytes of images embedded so far

    def html(self) -> str:
        w = self.words
        title = self.form.title or self.form.name
        number = self.rec.number or self.rec.id
        details, tables, media = [], [], []
        for f in self.form.fields:
            value = self.data.get(f.name)
            if value is None or value == [] or value == "":
                continue
            label = e(f.label or f.name)
            if f.type == "subtable":
                tables.append(f"<h2>{label}</h2>{self._table(f, value)}")
            elif f.type in ATTACHMENT_TYPES:
                media.append(f"<h2>{label}</h2>{self._attachments(f, value)}")
            else:
                css = ' class="pre"' if f.type == "textarea" else ""
                details.append(f"<tr><th>{label}</th><td{css}>{e(self._text(f, value))}</td></tr>")
        printed = self._when(self.now)
        meta = [w["report"]]
        if (state := self._state()):
            meta.append(w["state"].format(state=state))
        meta += [w["version"].format(n=self.rec.version), w["printed"].format(at=printed), w["times"].format(zone=self._zone_name())]
        head = f"<header><h1>{e(title)} {e(number)}</h1><p class=\"meta\">{' · '.join(e(m) for m in meta)}</p></header>"
        body = (head + f"<h2>{e(w['details'])}</h2><table class=\"kv\">" + "".join(details) + "</table>"
                + "".join(tables) + "".join(media))
        page = (f"@page{{size:A4;margin:16mm 14mm 18mm;@top-left{{content:{_css_string(f'{title} {number}')};"
                f"font:9pt sans-serif;color:#555}}@top-right{{content:{_css_string(printed)};font:9pt sans-serif;color:#555}}"
                "@bottom-right{content:counter(page) \" / \" counter(pages);font:9pt sans-serif;color:#555}}")
        return (f"<!DOCTYPE html><html lang=\"{self.language}\"><head><meta charset=\"utf-8\">"
                "<meta name=\"referrer\" content=\"no-referrer\">"
                f"<title>{e(title)} {e(number)}</title><style>{STYLE}\n{page}</style></head>"
                f"<body>{body}</body></html>")

    def _state(self) -> str | None:
        """The workflow state's label in the page's language (its name if the definition is gone)."""
        wf = self.rec.workflow or {}
        state = wf.get("state")
        if not state:
            return None
        try:
            definition = definitions.version_of(self.caller.tenant, "workflow", wf["workflow"], wf["version"])
            return definition.state_label(state, self.language)
        except Exception:  # a report never fails on a missing label
            return state

    # --- values -------------------------------------------------------------------------------
    def _text(self, f, value: Any) -> str:
        t, w = f.type, self.words
        if t == "select":
            return next((o.label or o.value for o in f.options if o.value == value), value)
        if t == "multiselect" and isinstance(value, list):
            labels = {o.value: o.label or o.value for o in f.options}
            return ", ".join(str(labels.get(v, v)) for v in value)
        if t == "checkbox" or isinstance(value, bool):
            return w["yes"] if value is True else w["no"]
        if not _numeric(value) and t in ("money", "number", "percent", "computed", "duration"):
            return str(value)
        if t == "money":
            return f"{_number(value, f.scale)} {f.currency}"
        if t in ("number", "percent", "computed"):
            return _number(value, getattr(f, "scale", 2)) + ("%" if t == "percent" else "")
        if t == "duration":
            return self._duration(int(value))
        if t == "datetime" and isinstance(value, str):
            return self._when(value)
        if (t == "date" or getattr(f, "result", None) == "date") and isinstance(value, str):
            return self._day(value)
        if t == "geolocation" and isinstance(value, dict):
            return f"{value.get('lat')}, {value.get('lng')}"
        if t == "lookup":
            return self._title_of(f.form, value)
        if isinstance(value, (dict, list)):
            from .. import jsonutil
            return jsonutil.dumps(value)
        return str(value)

    def _when(self, value: Any) -> str:
        """An RFC 3339 time (or datetime) in the reader's zone: '1 Dec 2026, 18:05' / '2026年12月1日 18:05'."""
        try:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            local = moment.astimezone(self.zone)
        except ValueError:
            return str(value)
        return f"{self._day(local.date())} {local:%H:%M}" if self.language == "zh-CN" else f"{self._day(local.date())}, {local:%H:%M}"

    def _day(self, value: Any) -> str:
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if self.language == "zh-CN":
            return f"{day.year}年{day.month}月{day.day}日"
        return f"{day.day} {self.words['months'][day.month - 1]} {day.year}"

    def _duration(self, seconds: int) -> str:
        w = self.words
        hours, rest = divmod(abs(seconds), 3600)
        minutes, secs = divmod(rest, 60)
        text = (f"{hours} {w['h']} " if hours else "") + f"{minutes:02d} {w['min']}" + (f" {secs:02d} {w['s']}" if secs and not hours else "")
        return ("-" if seconds < 0 else "") + text

    def _zone_name(self) -> str:
        return "UTC" if self.zone is timezone.utc else str(self.zone)

    def _title_of(self, form_name: str, record_id: Any) -> str:
        """The linked record's title, if the caller may read it; else its id."""
        from .records import access_for
        if not isinstance(record_id, str):
            return str(record_id)
        try:
            ref = store.get_record(self.caller.tenant, record_id)
            if ref is None or ref.deleted or ref.form != form_name:
                return record_id
            _v, ref_form = definitions.published(self.caller.tenant, "form", form_name)
            ref_access = access_for(self.caller, ref_form)
            if not self.caller.has_any(ref_form.permissions.read) or not ref_access.row_visible(ref.data):
                return record_id
            shown = ref_access.mask(ref.data)
            for name in (ref_form.title_field, "name", "title"):
                if name and shown.get(name):
                    return str(shown[name])
            return ref.number or record_id
        except Exception:  # a report never fails on a dangling link
            return record_id

    def _table(self, f, rows: list) -> str:
        columns = list(f.fields)
        head = "".join(f"<th>{e(c.label or c.name)}</th>" for c in columns)
        totals = {c.name: Decimal(0) for c in columns if getattr(c, "total", False)}
        body = []
        for row in rows if isinstance(rows, list) else []:
            cells = []
            for c in columns:
                value = row.get(c.name) if isinstance(row, dict) else None
                numeric = c.type in ("number", "money", "computed", "duration", "percent") and _numeric(value)
                if numeric and c.name in totals:
                    totals[c.name] += Decimal(str(value))
                if c.type in ATTACHMENT_TYPES and value is not None:
                    text = self._attachments(c, value)
                else:
                    text = "" if value is None else e(self._text(c, value))
                css = ' class="n"' if numeric else ""
                cells.append(f"<td{css}>{text}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        total_row = ""
        if totals and body:
            word = e(self.words["total"])
            cells = []
            for i, c in enumerate(columns):
                if c.name in totals:
                    prefix = f"{word}: " if i == 0 else ""
                    cells.append(f"<td class=\"n\"><b>{prefix}{e(self._text(c, totals[c.name]))}</b></td>")
                elif i == 0:
                    cells.append(f"<th>{word}</th>")
                else:
                    cells.append("<td></td>")
            total_row = "<tr class=\"total\">" + "".join(cells) + "</tr>"
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}{total_row}</tbody></table>"

    # --- files --------------------------------------------------------------------------------
    def _attachments(self, f, value: Any) -> str:
        out = []
        for a in value if isinstance(value, list) else [value]:
            if not isinstance(a, dict):
                continue
            name = a.get("name") or str(a.get("key", "")).rsplit("/", 1)[-1]
            missing = f"<span class=\"meta\">{e(self.words['not_available'].format(name=name))}</span>"
            if not keys.is_attachment_key_of(a.get("key"), self.caller.tenant, self.rec.form, self.rec.id):
                item = missing  # only objects uploaded for this record, compared segment by segment
            elif mediatypes.is_raster_image(a.get("content_type")):  # never SVG or other active content
                embedded = self._embedded(a)
                if embedded:
                    item = f"<img src=\"{e(embedded)}\" alt=\"{e(name)}\">"
                elif embedded == "":
                    item = missing
                else:
                    url, seconds = self._url(a)
                    expires = (self.now + timedelta(seconds=seconds)).astimezone(self.zone).strftime("%H:%M")
                    item = (f"<img src=\"{e(url)}\" alt=\"{e(name)}\"><br><span class=\"meta\">"
                            f"{e(self.words['link'].format(time=expires))}</span>") if url else missing
            else:
                url, _seconds = self._url(a)
                item = f"<a href=\"{e(url)}\">{e(name)}</a>" if url else missing
            if f.type == "signature":
                item += self._signature_facts(a)
            out.append(f"<div class=\"att\">{item}</div>")
        return "".join(out)

    def _embedded(self, a: dict) -> str | None:
        """A data: URI of the image; '' when the object is gone; None when it is not embedded (over
        the budget, not a raster image in S3 either, storage unavailable)."""
        declared = a.get("size")
        left = min(IMAGE_MAX_BYTES, EMBED_BUDGET_BYTES - self.embedded)
        if _numeric(declared) and declared > left:
            return None  # not even read: it would not fit
        try:
            got = files.read_typed(a["key"], left)
        except Exception:  # TooLarge, storage errors: a link instead
            return None
        if got is None:
            return ""
        data, stored_type = got
        if not mediatypes.is_raster_image(stored_type) or data.lstrip()[:1] == b"<":
            return None  # what S3 holds is not the declared raster image: never inline markup
        self.embedded += len(data)
        return f"data:{mediatypes.essence(a.get('content_type'))};base64,{base64.b64encode(data).decode('ascii')}"

    def _url(self, a: dict) -> tuple[str | None, int]:
        try:
            return files.presigned_get(a["key"], a.get("name"), a.get("content_type"))
        except Exception:
            return None, 0

    def _signature_facts(self, a: dict) -> str:
        w = self.words
        if not a.get("signed_sha256"):
            return f"<p class=\"bad\">{e(w['unsigned'])}</p>"
        valid = is_valid(a, self.rec.data)
        verdict = (f"<span class=\"ok\">{e(w['valid'])}</span>" if valid else f"<span class=\"bad\">{e(w['invalid'])}</span>")
        signed = w["sep"].join(self._label(n) for n in a.get("signed_fields") or [])
        facts = w["signed"].format(at=self._when(a.get("signed_at")), by=a.get("signed_by"), fields=signed)
        return f"<p>{e(facts)}<br>SHA-256 <code>{e(a.get('signed_sha256'))}</code><br>{verdict}</p>"

    def _label(self, name: str) -> str:
        f = self.form.field(name)
        return (f.label or f.name) if f else name


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _number(value: Any, scale: int) -> str:
    number = Decimal(str(value))
    return f"{number:,.{scale}f}" if number.is_finite() else str(value)


def _css_string(text: str) -> str:
    """A CSS string literal: every character but letters, digits and spaces as a hex escape."""
    return '"' + re.sub(r"[^A-Za-z0-9 ]", lambda m: f"\\{ord(m.group()):x} ", text) + '"'


__all__ = ["render_report", "IMAGE_MAX_BYTES", "EMBED_BUDGET_BYTES"]
