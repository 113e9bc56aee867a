"""Integrity and security of exports and files: CSV that a spreadsheet reads as the rows we wrote
(quoting of every line break, formula guard after quoting), attachment keys compared by segment (no
path tricks, no look-alike prefixes), and active content (SVG, HTML, XML, JavaScript) never accepted
by image or signature fields and only ever served as a download."""
import base64
import csv
import io
import json
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import spreadsheet
from chalicelib.storage import keys

from .test_bulk_api import CLERK, bulk_api, download  # noqa: F401  (bulk_api is a fixture)
from .test_uploads_api import PNG, ZHANG, completed_order, on_site_order, put_object

ADMIN = dict(user="admin", roles=["admin"])
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"/>'
HOSTILE = ["a\rb", "\r=HYPERLINK(\"http://x\")", "x\n=1+1", "tail\r", '"quoted"', "a,b", "=1+1", "+1+1", "-1+1",
           "@SUM(A1)", "\t=x", "line\u2028=x", "crlf\r\n@x", "=\"a,b\r\"", " plain "]


# --- CSV: read back the way a spreadsheet does ---------------------------------------------------

def excel_rows(text: str) -> list[list[str]]:
    """RFC 4180 with universal line breaks: outside quotes EVERY str.splitlines() break (CR alone
    included; CRLF counts once) ends a row, the way Excel and LibreOffice treat a bare CR."""
    rows, row, cell, quoted, i = [], [], [], False, 0
    while i < len(text):
        c = text[i]
        if quoted:
            if c == '"' and text[i + 1:i + 2] == '"':
                cell.append('"')
                i += 1
            elif c == '"':
                quoted = False
            else:
                cell.append(c)
        elif c == '"' and not cell:
            quoted = True
        elif c == ",":
            row.append("".join(cell))
            cell = []
        elif c in spreadsheet.LINE_BREAKS:
            row.append("".join(cell))
            rows.append(row)
            row, cell = [], []
            if c == "\r" and text[i + 1:i + 2] == "\n":
                i += 1
        else:
            cell.append(c)
        i += 1
    assert not quoted, "unterminated quote"
    if cell or row:
        row.append("".join(cell))
        rows.append(row)
    return rows


def universal_newline_rows(text: str) -> list[list[str]]:
    """What Python's csv module reads from the file opened with newline=None (CR → new line)."""
    return list(csv.reader(io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8", newline=None)))


def guarded(cell: str) -> bool:
    return not cell.startswith(spreadsheet.FORMULA_START)


def _form(**types):
    fields = {name: SimpleNamespace(name=name, type=kind) for name, kind in types.items()}
    return SimpleNamespace(fields_by_name=fields)


def test_record_export_quotes_every_line_break_and_guards_after_quoting():
    from chalicelib.integration.rows import EXPORT_META, to_csv
    form = _form(note="text", tags="multiselect", qty="number")
    records = [{"id": f"R{i}", "number": "=cmd" if i == 0 else f"N{i}", "version": 1, "created_at": "t", "updated_at": "t",
                "data": {"note": text, "tags": ["=evil()", "b"], "qty": Decimal(-3)}} for i, text in enumerate(HOSTILE)]
    payload = to_csv(form, ["note", "tags", "qty"], records)
    for rows in (excel_rows(payload), universal_newline_rows(payload)):
        assert len(rows) == 1 + len(HOSTILE), rows  # no cell started a row of its own
        assert all(len(r) == len(EXPORT_META) + 3 for r in rows)
        body = rows[1:]
        assert all(guarded(cell) for r in body for cell in r[:-1]), body  # the formula guard survived quoting
        assert {r[-2] for r in body} == {"'=evil();b"}  # multiselect joined, then guarded
        assert {r[-1] for r in body} == {"-3"}  # a negative number is data
        assert body[0][1] == "'=cmd"
    notes = [r[len(EXPORT_META)] for r in excel_rows(payload)[1:]]
    assert notes == [spreadsheet.neutralise(t) for t in HOSTILE]  # exactly what was written, quoted back


def test_report_csv_quotes_every_line_break_and_guards_after_quoting():
    from chalicelib.reports import parse_report, to_csv
    report = parse_report({"name": "parts", "form": "work_order", "rows": "parts_used",
                           "dimensions": [{"name": "part", "field": "part"}],
                           "measures": [{"name": "qty", "op": "sum", "field": "quantity"}]})
    rows = [{"part": text, "qty": Decimal(-2) if i % 2 else Decimal("1.5")} for i, text in enumerate(HOSTILE)]
    payload = to_csv(report, rows)
    assert payload.startswith("part,qty\r\n")
    for parsed in (excel_rows(payload), universal_newline_rows(payload)):
        assert len(parsed) == 1 + len(HOSTILE), parsed
        assert all(len(r) == 2 and guarded(r[0]) for r in parsed[1:])
        assert [r[1] for r in parsed[1:]] == ["1.5" if i % 2 == 0 else "-2" for i in range(len(HOSTILE))]
    assert [r[0] for r in excel_rows(payload)[1:]] == [spreadsheet.neutralise(t, numbers_ok=True) for t in HOSTILE]
    assert excel_rows(to_csv(report, [{"part": "-5", "qty": 1}]))[1] == ["-5", "1"]  # a numeric text stays a number


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.text(alphabet=st.sampled_from(list(',"=+-@ \t\r\nab\u2028\u0085\x0b')), max_size=8),
                         min_size=1, max_size=4), min_size=1, max_size=5))
def test_any_cells_read_back_as_written(rows):
    cells = [[spreadsheet.neutralise(c) for c in r] for r in rows]
    for terminator in ("\r\n", "\n"):
        assert excel_rows(spreadsheet.write(cells, terminator)) == cells
    assert all(guarded(c) for r in cells for c in r)


def test_export_route_keeps_a_bare_cr_inside_its_cell(bulk_api):  # noqa: F811
    api = bulk_api
    hostile = "Valve\r=HYPERLINK(A1)\r@SUM(1+1)"  # no quote or comma: only the CRs call for quoting
    created = api.call("POST", "/forms/part/records", body={"data": {"code": "P1", "name": hostile, "tags": ["a"]}}, **CLERK)
    assert created.status_code == 201, created.json
    response = download(api, "/forms/part/export?format=csv", **CLERK)
    assert response.status_code == 200
    for rows in (excel_rows(response.text), universal_newline_rows(response.text)):
        assert len(rows) == 2, rows
        header, row = rows
        name = row[header.index("name")]
        assert name.replace("\n", "\r") == hostile  # newline=None reads the quoted CR as LF: still one cell
        assert all(guarded(c) for c in row)


# --- attachment keys: segments, never string prefixes ---------------------------------------------

RECORD = "01ABCDEFGHJKMNPQRSTVWXYZ00"


@pytest.mark.parametrize("key", [
    f"t/acme/work_order/{RECORD}/photos/../../{RECORD}X/photos/u",
    f"t/acme/work_order/{RECORD}/../other/x/y",
    f"t/acme/work_order/{RECORD}/./photos/u",
    f"t/acme/work_order/{RECORD}//u",
    f"t/acme/work_order/{RECORD}/photos/u/",
    f"/t/acme/work_order/{RECORD}/photos/u",
    f"t/acme/work_order/{RECORD}/photos%2F..%2Fu/x",
    f"t/acme/work_order/{RECORD}/photos/%2e%2e",
    f"t\\acme\\work_order\\{RECORD}\\photos\\u",
    f"t/acme/work_order/{RECORD}/photos\\..\\u",
    f"t/acme/work_order/{RECORD}D/photos/u",  # look-alike record id
    f"t/acme/work_order/{RECORD}/photos/u/extra",
    f"t/acme/work_order/{RECORD}/photos",
    f"t/other/work_order/{RECORD}/photos/u",
    "",
    None,
])
def test_only_exact_attachment_keys_of_the_record_pass(key):
    assert not keys.is_attachment_key_of(key, "acme", "work_order", RECORD)


def test_attachment_key_layout_round_trips():
    key = keys.upload_object_key("acme", "work_order", RECORD, "photos", "01JDQ3V9W6Y5R8T2M4N7P0K1AB")
    assert key == f"t/acme/work_order/{RECORD}/photos/01JDQ3V9W6Y5R8T2M4N7P0K1AB"
    assert keys.is_attachment_key_of(key, "acme", "work_order", RECORD)
    assert not keys.is_attachment_key_of(key, "acme", "work_order", RECORD[:-1])  # prefix of the id
    assert keys.import_object_key("acme", "01JDQ3V9W6Y5R8T2M4N7P0K1AB") == "t/acme/_imports/01JDQ3V9W6Y5R8T2M4N7P0K1AB"


@pytest.mark.parametrize("segment", ["..", ".", "", "a/b", "a\\b", "%2F", "a%2e", "/abs", "x y", "é", None, 5])
def test_keys_are_never_built_from_unsafe_segments(segment):
    with pytest.raises(keys.UnsafeKey):
        keys.upload_object_key("acme", "work_order", RECORD, segment, "01JDQ3V9W6Y5R8T2M4N7P0K1AB")
    with pytest.raises(keys.UnsafeKey):
        keys.import_object_key(segment, "01JDQ3V9W6Y5R8T2M4N7P0K1AB")


def test_storage_refuses_unsafe_keys_at_every_call(demo_api):
    from chalicelib.storage import files
    bad = f"t/demo/work_order/{RECORD}/photos/../../x"
    for call in (lambda: files.presigned_get(bad), lambda: files.presigned_post(bad, "image/png", 1),
                 lambda: files.head(bad), lambda: files.read(bad, 10), lambda: files.mark_attached(bad)):
        with pytest.raises(keys.UnsafeKey):
            call()


@pytest.mark.parametrize("trick", ["../{other}/fault_photos/u", "./fault_photos/u", "fault_photos//u",
                                   "fault_photos/u/", "fault_photos/../u", "fault_photos/u/x"])
def test_hand_written_path_tricks_open_nothing(flow_api, trick):
    order = on_site_order(flow_api)
    declared, _ = order.upload()  # a genuine photo, so the record holds attachments
    key = f"t/demo/work_order/{order.id}/" + trick.format(other=RECORD)
    photos = order.get(ZHANG)["data"]["fault_photos"] + [{"key": key, "content_type": "image/png", "size": 3}]
    order.patch(ZHANG, fault_photos=photos)
    assert key in [p["key"] for p in order.get(ZHANG)["data"]["fault_photos"]]  # stored as written...
    response = flow_api.call("GET", f"{order.path}/files?key={quote(key, safe='')}", **ZHANG)
    assert response.status_code == 404  # ...but opens nothing
    assert flow_api.call("GET", f"{order.path}/files?key={quote(declared['key'], safe='')}", **ZHANG).status_code == 200


# --- active content ---------------------------------------------------------------------------

DOC_FORM = {"name": "asset_doc", "title": "Asset document", "fields": [
    {"name": "title", "type": "text"},
    {"name": "photo", "type": "image", "accept": [], "multiple": True},
    {"name": "doc", "type": "file"},
    {"name": "sig", "type": "signature", "accept": []}]}


@pytest.fixture
def doc_api(api):
    assert api.call("POST", "/definitions/form/asset_doc/versions", body=DOC_FORM).status_code == 201
    return api


def _with_field(form, name, **changes):
    return {**form, "fields": [{**f, **changes} if f["name"] == name else f for f in form["fields"]]}


@pytest.mark.parametrize("field, accept", [
    ("photo", ["image/png", "image/svg+xml"]), ("photo", ["text/html"]), ("photo", ["application/xhtml+xml"]),
    ("photo", ["text/javascript"]), ("photo", ["application/xml"]), ("photo", ["Image/SVG+XML"]),
    ("sig", ["image/svg+xml"]), ("sig", ["image/png", "application/javascript"]), ("sig", ["text/xml"]),
])
def test_definitions_refuse_active_types_for_image_and_signature_fields(api, field, accept):
    response = api.call("POST", "/definitions/form/asset_doc/versions", body=_with_field(DOC_FORM, field, accept=accept))
    assert response.status_code == 422, response.json
    index = [f["name"] for f in DOC_FORM["fields"]].index(field)
    assert any(d["path"] == f"fields[{index}].accept" and "active content" in d["message"]
               for d in response.json["error"]["details"]), response.json


def test_a_file_field_may_accept_active_types_and_signatures_default_to_png(api):
    body = _with_field(DOC_FORM, "doc", accept=["image/svg+xml", "text/html"])
    assert api.call("POST", "/definitions/form/asset_doc/versions", body=body).status_code == 201
    from chalicelib.forms.definition import parse_form_definition
    form = parse_form_definition({"name": "x", "title": "X", "fields": [{"name": "s", "type": "signature"}]})
    assert form.fields[0].accept == ["image/png"]


def _record(api, **data):
    created = api.call("POST", "/forms/asset_doc/records", body={"data": {"title": "Pump", **data}}, **ADMIN)
    assert created.status_code == 201, created.json
    return created.json


def _presign(api, rec, **body):
    return api.call("POST", f"/forms/asset_doc/records/{rec['id']}/uploads", body=body, **ADMIN)


def _upload(api, rec, field, content_type, data, name=None):
    extra = {"name": name} if name else {}
    declared = _presign(api, rec, field=field, content_type=content_type, size=len(data), **extra)
    assert declared.status_code == 201, declared.json
    put_object(declared.json["key"], data, content_type)
    confirmed = api.call("POST", f"/forms/asset_doc/records/{rec['id']}/uploads/{declared.json['upload_id']}/confirm",
                         body={"version": rec["version"]}, **ADMIN)
    assert confirmed.status_code == 200, confirmed.json
    rec.update(version=confirmed.json["version"])
    return declared.json["key"]


@pytest.mark.parametrize("field, content_type", [
    ("photo", "image/svg+xml"), ("photo", "text/html"), ("photo", "application/xhtml+xml"), ("photo", "text/xml"),
    ("photo", "application/javascript"), ("sig", "image/svg+xml"), ("sig", "text/html"), ("sig", "application/rss+xml"),
])
def test_upload_declaration_refuses_active_content_for_image_and_signature_fields(doc_api, field, content_type):
    rec = _record(doc_api)
    response = _presign(doc_api, rec, field=field, content_type=content_type, size=len(SVG))
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "active_content_refused" and field in error["message"]
    assert error["details"][0]["path"] == "content_type" and field in error["details"][0]["message"]


def test_the_shipped_signature_field_refuses_svg(flow_api):
    order = on_site_order(flow_api)
    error = order.presign(expect=422, field="customer_signature", content_type="image/svg+xml", size=len(SVG))
    assert error["details"][0]["path"] == "content_type" and "customer_signature" in error["message"]


def _served(api, rec, key):
    response = api.call("GET", f"/forms/asset_doc/records/{rec['id']}/files?key={quote(key, safe='')}", **ADMIN)
    assert response.status_code == 200, response.json
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.json["url"]).query).items()}
    return query.get("response-content-disposition", ""), query.get("response-content-type", "")


def test_active_file_content_is_served_only_as_a_download(doc_api):
    rec = _record(doc_api)
    key = _upload(doc_api, rec, "doc", "image/svg+xml", SVG, name='../../"logo"\r\n<x>.svg')
    disposition, content_type = _served(doc_api, rec, key)
    assert disposition.startswith("attachment;") and content_type == "application/octet-stream"
    assert not any(c in disposition for c in "\r\n<>/\\") and disposition.count('"') == 2
    assert 'filename="_logo__x_.svg"' in disposition  # the name's last part, quotes and controls replaced
    other = _record(doc_api)
    html = _upload(doc_api, other, "doc", "text/html", b"<script>alert(1)</script>")
    assert _served(doc_api, other, html) == (f'attachment; filename="{html.rsplit("/", 1)[-1]}"; '
                                             f"filename*=UTF-8''{html.rsplit('/', 1)[-1]}", "application/octet-stream")


def test_only_raster_images_are_served_inline_and_the_stored_type_never_decides(doc_api):
    rec = _record(doc_api)
    photo = _upload(doc_api, rec, "photo", "image/png", PNG, name="pump.png")
    assert _served(doc_api, rec, photo) == ("inline; filename=\"pump.png\"; filename*=UTF-8''pump.png", "image/png")
    pdf_rec = _record(doc_api)
    pdf = _upload(doc_api, pdf_rec, "doc", "application/pdf", b"%PDF-1.4 x")
    assert _served(doc_api, pdf_rec, pdf)[0].startswith("attachment;")
    assert _served(doc_api, pdf_rec, pdf)[1] == "application/pdf"
    # a hand-written value naming an object of this record as SVG: still a download, typed octet-stream
    put_object(photo, SVG, "image/svg+xml")  # whatever S3 holds, the presigned GET fixes the response type
    value = [{"key": photo, "content_type": "image/svg+xml", "size": len(SVG)}]
    patched = doc_api.call("PATCH", f"/forms/asset_doc/records/{rec['id']}", body={"version": rec["version"], "data": {"photo": value}},
                           **ADMIN)
    assert patched.status_code == 200, patched.json
    assert _served(doc_api, rec, photo)[1] == "application/octet-stream"


def _page(api, path, who=ADMIN):
    response = api.http.get(path, headers={"Authorization": f"Bearer {api.token(who['user'], who['roles'])}"})
    assert response.status_code == 200, response.body
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def test_service_report_draws_only_raster_images(doc_api):
    rec = _record(doc_api)
    png = _upload(doc_api, rec, "photo", "image/png", PNG, name="pump.png")
    svg = _upload(doc_api, rec, "doc", "image/svg+xml", SVG, name="drawing.svg")
    photos = doc_api.call("GET", f"/forms/asset_doc/records/{rec['id']}", **ADMIN).json["data"]["photo"]
    photos.append({"key": svg, "content_type": "image/svg+xml", "size": len(SVG), "name": "as-photo.svg"})
    photos.append({"key": f"t/demo/asset_doc/{rec['id']}/photo/../doc/x", "content_type": "image/png", "size": 3, "name": "tricked.png"})
    patched = doc_api.call("PATCH", f"/forms/asset_doc/records/{rec['id']}", body={"version": rec["version"], "data": {"photo": photos}},
                           **ADMIN)
    assert patched.status_code == 200, patched.json
    page = _page(doc_api, f"/forms/asset_doc/records/{rec['id']}/report")
    images = [chunk.split('"', 1)[0] for chunk in page.split('<img src="')[1:]]
    assert images == ["data:image/png;base64," + base64.b64encode(PNG).decode()]  # only the PNG, embedded
    links = [chunk.split('"', 1)[0] for chunk in page.split('<a href="')[1:]]
    assert len(links) == 2 and all("response-content-disposition=attachment" in link for link in links)
    assert all("response-content-type=application%2Foctet-stream" in link for link in links)
    assert "tricked.png (not available)" in page  # a path trick under the record's prefix is not signed
    assert "data:image/svg" not in page and "<svg" not in page


def test_service_report_never_embeds_markup_behind_a_raster_type(doc_api):
    """A value that says image/png over an object S3 holds as SVG (a hand-written value, a swapped
    object): the report does not inline its bytes, whatever the declared type."""
    rec = _record(doc_api)
    png = _upload(doc_api, rec, "photo", "image/png", PNG, name="pump.png")
    put_object(png, SVG, "image/svg+xml")
    page = _page(doc_api, f"/forms/asset_doc/records/{rec['id']}/report")
    images = [chunk.split('"', 1)[0] for chunk in page.split('<img src="')[1:]]
    assert len(images) == 1 and images[0].startswith("http") and "response-content-type=image%2Fpng" in images[0]
    assert "data:" not in page.split("<body>", 1)[1] and base64.b64encode(SVG).decode() not in page
    put_object(png, SVG, "image/png")  # stored as PNG, but markup: not inlined either
    page = _page(doc_api, f"/forms/asset_doc/records/{rec['id']}/report")
    assert "data:image" not in page and base64.b64encode(SVG).decode() not in page


def test_shipped_service_report_still_shows_photos_and_signature(flow_api):
    order = completed_order(flow_api)
    page = _page(flow_api, f"{order.path}/report", dict(user="eng.zhang", roles=["engineer"]))
    assert page.count("<img src=") == 2 and "valid: the record still matches" in page
