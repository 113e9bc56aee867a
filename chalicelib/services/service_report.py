"""The printable service report of a completed record, as one self-contained HTML page.

Generic over the form: every field the caller may see is rendered by its label and type, in the
form's order (so check-in/out times, on-site duration and whatever a tenant adds later appear with
no code change); sub-tables become tables with totals for number columns; lookups show the linked
record's title; images are shown through short-lived presigned GET URLs; a signature shows its
image, the hash it signed and whether the record still matches it. Only raster images are drawn
(<img>); other files, SVG included, are links to downloads (files.presigned_get). Every value is tenant data and
is escaped; fields hidden from the caller's roles are absent (Access.mask)."""
from __future__ import annotations

import html
from decimal import Decimal
from typing import Any

from .. import mediatypes
from ..errors import Conflict
from ..signatures import is_valid
from ..storage import files, keys
from ..storage import records as store
from . import definitions
from .caller import Caller
from .clock import utc_now
from .uploads import ATTACHMENT_TYPES

STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#111}h1{font-size:20px;margin:0 0 .2em}
h2{font-size:16px;margin:1.4em 0 .4em;border-bottom:1px solid #ccc}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top}th{width:28%;color:#444}
td.n{text-align:right}.pre{white-space:pre-wrap}.meta{color:#555}img{max-width:320px;max-height:240px;margin:4px}
.ok{color:#060}.bad{color:#b00;font-weight:bold}code{font-size:12px;word-break:break-all}
@media print{body{margin:1cm}}"""


def e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def render_report(caller: Caller, form_name: str, record_id: str) -> str:
    from .records import access_for, load_visible
    _published, published_form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(published_form.permissions.read, f"reading {form_name} records")
    access = access_for(caller, published_form)
    rec = load_visible(access, caller.tenant, form_name, record_id)
    if not _completed(rec):
        raise Conflict("the service report is available once the record is completed", code="not_completed",
                       details=[{"path": "record", "message": f"in state {(rec.workflow or {}).get('state')}"}])
    form = definitions.version_of(caller.tenant, "form", form_name, rec.form_version)
    data = access.mask(rec.data)
    return _Page(caller, form, rec, data).html()


def _completed(rec) -> bool:
    wf = rec.workflow
    return not wf or wf.get("status") != "running" or bool(rec.data.get("completed_at"))


class _Page:
    def __init__(self, caller: Caller, form, rec, data: dict) -> None:
        self.caller, self.form, self.rec, self.data = caller, form, rec, data

    def html(self) -> str:
        title = self.form.title or self.form.name
        state = (self.rec.workflow or {}).get("state")
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
        head = (f"<h1>{e(title)} {e(self.rec.number or self.rec.id)}</h1><p class=\"meta\">Service report"
                + (f" · state {e(state)}" if state else "") + f" · version {self.rec.version} · printed {e(utc_now())}</p>")
        body = head + "<h2>Details</h2><table>" + "".join(details) + "</table>" + "".join(tables) + "".join(media)
        return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">"
                f"<title>{e(title)} {e(self.rec.number or self.rec.id)}</title><style>{STYLE}</style></head>"
                f"<body>{body}</body></html>")

    # --- values -------------------------------------------------------------------------------
    def _text(self, f, value: Any) -> str:
        t = f.type
        if t == "select":
            return next((o.label or o.value for o in f.options if o.value == value), value)
        if t == "multiselect" and isinstance(value, list):
            labels = {o.value: o.label or o.value for o in f.options}
            return ", ".join(str(labels.get(v, v)) for v in value)
        if t == "checkbox":
            return "Yes" if value is True else "No"
        if t == "money":
            return f"{_number(value, f.scale)} {f.currency}"
        if t in ("number", "percent", "computed") and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return _number(value, getattr(f, "scale", 2)) + ("%" if t == "percent" else "")
        if t == "duration" and isinstance(value, (int, Decimal)):
            return _duration(int(value))
        if t == "geolocation" and isinstance(value, dict):
            return f"{value.get('lat')}, {value.get('lng')}"
        if t == "lookup":
            return self._title_of(f.form, value)
        if isinstance(value, (dict, list)):
            from .. import jsonutil
            return jsonutil.dumps(value)
        return str(value)

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
        body, totals = [], {}
        for row in rows if isinstance(rows, list) else []:
            cells = []
            for c in columns:
                value = row.get(c.name) if isinstance(row, dict) else None
                numeric = c.type in ("number", "money", "computed") and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
                if numeric:
                    totals[c.name] = totals.get(c.name, Decimal(0)) + Decimal(str(value))
                if c.type in ATTACHMENT_TYPES and value is not None:
                    text = self._attachments(c, value)
                else:
                    text = "" if value is None else e(self._text(c, value))
                css = ' class="n"' if numeric else ""
                cells.append(f"<td{css}>{text}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        total_row = ""
        if totals:
            total_row = "<tr><th>Total</th>" + "".join(
                f"<td class=\"n\"><b>{e(self._text(c, totals[c.name]))}</b></td>" if c.name in totals else "<td></td>"
                for c in columns[1:]) + "</tr>" if len(columns) > 1 else ""
        return f"<table><tr>{head}</tr>{''.join(body)}{total_row}</table>"

    def _attachments(self, f, value: Any) -> str:
        out = []
        for a in value if isinstance(value, list) else [value]:
            if not isinstance(a, dict):
                continue
            url = self._url(a)
            name = a.get("name") or a.get("key", "").rsplit("/", 1)[-1]
            if url and mediatypes.is_raster_image(a.get("content_type")):  # never SVG or other active content
                item = f"<img src=\"{e(url)}\" alt=\"{e(name)}\">"
            elif url:
                item = f"<a href=\"{e(url)}\">{e(name)}</a>"
            else:
                item = f"<span class=\"meta\">{e(name)} (not available)</span>"
            if f.type == "signature":
                item += self._signature_facts(a)
            out.append(f"<div>{item}</div>")
        return "".join(out)

    def _signature_facts(self, a: dict) -> str:
        if not a.get("signed_sha256"):
            return "<p class=\"bad\">Not a confirmed signature upload: it signs nothing.</p>"
        valid = is_valid(a, self.rec.data)
        verdict = ("<span class=\"ok\">valid: the record still matches what was signed</span>" if valid else
                   "<span class=\"bad\">NOT valid: signed fields changed after signing</span>")
        signed = ", ".join(self._label(n) for n in a.get("signed_fields") or [])
        return (f"<p>Signed {e(a.get('signed_at'))} (collected by {e(a.get('signed_by'))}) over: {e(signed)}<br>"
                f"SHA-256 <code>{e(a.get('signed_sha256'))}</code><br>{verdict}</p>")

    def _label(self, name: str) -> str:
        f = self.form.field(name)
        return (f.label or f.name) if f else name

    def _url(self, a: dict) -> str | None:
        key = a.get("key")
        if not keys.is_attachment_key_of(key, self.caller.tenant, self.rec.form, self.rec.id):
            return None  # only objects uploaded for this record, compared segment by segment
        try:
            return files.presigned_get(key, a.get("name"), a.get("content_type"))[0]
        except Exception:
            return None


def _number(value: Any, scale: int) -> str:
    number = Decimal(str(value))
    return f"{number:,.{scale}f}" if number.is_finite() else str(value)


def _duration(seconds: int) -> str:
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours} h " if hours else "") + f"{minutes:02d} min" + (f" {secs:02d} s" if secs and not hours else "")
    return ("-" if seconds < 0 else "") + text


__all__ = ["render_report"]
