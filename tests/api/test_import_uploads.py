"""Imports larger than a request body: presigned POST to S3 (moto in-process), then the import job
reads the object under the caller's tenant prefix; and the export's media types and file name."""
import codecs
import json

import pytest

from .test_bulk_api import CLERK, VIEWER, csv_text, download, parts
from .test_bulk_api import FORM as BULK_FORM

# the bulk tests' part form, plus a long text field for large rows
FORM = {**BULK_FORM, "fields": [*BULK_FORM["fields"], {"name": "notes", "type": "textarea", "max_length": 20000}]}


@pytest.fixture
def bulk_api(api, monkeypatch):
    from chalicelib.services import bulk
    monkeypatch.setattr(bulk, "WORKERS", 1)  # moto's in-process backend is not thread-safe
    for tenant in ("demo", "other"):
        assert api.call("POST", "/definitions/form/part/versions", body=FORM, tenant=tenant).status_code == 201
    return api


def presign(api, tenant=None, expect=201, **body):
    response = api.call("POST", "/forms/part/imports/uploads", body=body or {}, tenant=tenant, **CLERK)
    assert response.status_code == expect, response.json
    return response.json


def put(key, data: bytes, content_type="text/csv"):
    from chalicelib.storage import files
    files.client().put_object(Bucket=files.bucket(), Key=key, Body=data, ContentType=content_type)


def uploaded(api, data: bytes, tenant=None, fmt="csv"):
    """Presign, then store the object as the browser's POST would; → upload id."""
    post = presign(api, tenant=tenant, format=fmt)
    put(post["key"], data, post["content_type"])
    return post["upload_id"]


def start(api, tenant=None, expect=202, **body):
    response = api.call("POST", "/forms/part/imports", body=body, tenant=tenant, **CLERK)
    assert response.status_code == expect, response.json
    return response.json


def test_presigned_post_is_tenant_scoped_size_limited_and_short_lived(bulk_api):
    from chalicelib.config import get_settings
    post = presign(bulk_api)
    assert post["key"] == f"t/demo/_imports/{post['upload_id']}" and post["format"] == "csv"
    assert post["content_type"] == "text/csv" and post["fields"]["Content-Type"] == "text/csv"
    assert post["fields"]["key"] == post["key"] and "tagging" in post["fields"]  # pending: the lifecycle expires it
    assert post["max_bytes"] == get_settings().import_upload_max_bytes == 50 * 1024 * 1024
    assert post["expires_in"] == 300
    policy = json.loads(codecs.decode(post["fields"]["policy"].encode(), "base64"))
    assert ["content-length-range", 1, 50 * 1024 * 1024] in policy["conditions"]
    exact = presign(bulk_api, format="jsonl", size=1234)
    assert exact["content_type"] == "application/x-ndjson" and exact["max_bytes"] == 1234
    policy = json.loads(codecs.decode(exact["fields"]["policy"].encode(), "base64"))
    assert ["content-length-range", 1234, 1234] in policy["conditions"]
    too_big = presign(bulk_api, expect=413, size=50 * 1024 * 1024 + 1)
    assert too_big["error"]["details"][0]["path"] == "size"
    assert presign(bulk_api, expect=422, format="xml")["error"]["details"][0]["path"] == "format"
    # the same permissions as an inline import
    denied = bulk_api.call("POST", "/forms/part/imports/uploads", body={}, **VIEWER)
    assert denied.status_code == 403


NOTE = "冷媒" * 1500 + " R-410A"


def big_csv(n, note=NOTE):
    """n rows of ~8 KB (mostly 3-byte characters): a few hundred KB, above the 256 KB request body limit,
    and more than one chunk item of rows."""
    return "code,name,price,line,notes\n" + "".join(
        f"G{i:05d},Part {i},{i}.5,{'hvac' if i % 2 else 'medical'},{note}\n" for i in range(n))


def test_a_file_larger_than_a_request_body_imports_through_an_upload(bulk_api, monkeypatch):
    from chalicelib.config import get_settings
    from chalicelib.services import bulk
    from chalicelib.storage import files, imports
    api = bulk_api
    n = 60
    text = big_csv(n) + "BAD1,,1,hvac,\nBAD2,Bad price,-5,hvac,\nG00007,Duplicate code,1,hvac,\n"
    # 540 KB of UTF-8 in 180,000 characters: too large to send inline, more than one chunk item of rows
    assert len(text.encode()) > 2 * imports.CHUNK_BYTES and len(text) < imports.CHUNK_BYTES
    assert len(text.encode()) > get_settings().max_body_bytes
    assert api.call("POST", "/forms/part/imports", body={"content": text}, **CLERK).status_code == 413
    upload_id = uploaded(api, text.encode())
    # the POST validates and stores every row, then runs out of time: the job goes on in the background
    real_run = bulk.run_import
    monkeypatch.setattr(bulk, "run_import", lambda tenant, job_id, *, budget: real_run(tenant, job_id, budget=0))
    job = start(api, format="csv", upload_id=upload_id, job_id="big-upload-0001")
    monkeypatch.setattr(bulk, "run_import", real_run)
    assert job["status"] == "running" and job["total"] == n + 3 and job["valid"] == n + 1 and job["processed"] == 0
    assert {(e["row"], e["path"]) for e in job["errors"]} == {(n + 1, "data.name"), (n + 2, "data.price")}
    assert len(imports.get_job("demo", "big-upload-0001").chunks) >= 3
    # a worker writes one batch, records it, then dies after writing the next one
    real_save, saves = imports.save_progress, {"n": 0}

    def dies_on_second(job, started, expected_status="running"):
        saves["n"] += 1
        if saves["n"] == 2:
            raise RuntimeError("Lambda timed out")
        return real_save(job, started, expected_status)
    monkeypatch.setattr(imports, "save_progress", dies_on_second)
    with pytest.raises(RuntimeError):
        bulk.run_import("demo", "big-upload-0001", budget=600)
    monkeypatch.setattr(imports, "save_progress", real_save)
    progress = api.call("GET", "/forms/part/imports/big-upload-0001", **CLERK).json
    assert progress["status"] == "running" and progress["processed"] == bulk.BATCH and progress["created"] == bulk.BATCH
    # the rows are in DynamoDB now: the schedule finishes the job without the object
    files.client().delete_object(Bucket=files.bucket(), Key=f"t/demo/_imports/{upload_id}")
    assert bulk.continue_imports(budget=600)["resumed"] == 1
    done = api.call("GET", "/forms/part/imports/big-upload-0001", **CLERK).json
    assert done["status"] == "completed" and done["processed"] == n + 1
    assert done["created"] == n - bulk.BATCH and done["replayed"] == bulk.BATCH and done["failed"] == 3
    assert (n + 3, "data.code") in {(e["row"], e["path"]) for e in done["errors"]}  # duplicate code at write time
    # sending the same job again answers from the job (the object is gone, it is not read again)
    again = start(api, expect=200, format="csv", upload_id=upload_id, job_id="big-upload-0001")
    assert again["status"] == "completed" and again["created"] == done["created"]
    stored = parts(api)
    assert len(stored) == n and len({p["data"]["code"] for p in stored}) == n
    g7 = next(p for p in stored if p["data"]["code"] == "G00007")["data"]
    assert g7["name"] == "Part 7" and g7["notes"] == NOTE
    # the same job id with another file is refused
    other = api.call("POST", "/forms/part/imports", body={"upload_id": uploaded(api, b"code,name\nX1,x\n"),
                                                          "job_id": "big-upload-0001"}, **CLERK)
    assert other.status_code == 409 and other.json["error"]["details"][0]["path"] == "job_id"


def test_a_job_that_died_while_storing_rows_reloads_them_from_the_upload(bulk_api, monkeypatch):
    from chalicelib.storage import imports
    api = bulk_api
    upload_id = uploaded(api, csv_text(40).encode())
    real_put = imports.put_chunks
    monkeypatch.setattr(imports, "put_chunks", lambda *a: (_ for _ in ()).throw(RuntimeError("died")))
    body = {"upload_id": upload_id, "job_id": "died-loading-upload"}
    assert api.call("POST", "/forms/part/imports", body=body, **CLERK).status_code == 500
    monkeypatch.setattr(imports, "put_chunks", real_put)
    again = start(api, expect=200, **body)
    assert again["status"] == "completed" and again["created"] == 40


def test_another_tenant_cannot_import_an_upload(bulk_api):
    api = bulk_api
    upload_id = uploaded(api, csv_text(5).encode())  # tenant demo's file
    stolen = api.call("POST", "/forms/part/imports", body={"upload_id": upload_id}, tenant="other", **CLERK)
    assert stolen.status_code == 422 and stolen.json["error"]["code"] == "upload_missing"
    assert stolen.json["error"]["details"][0]["path"] == "upload_id"
    # ids are validated: no path or arbitrary key can be named
    for forged in ("../demo/_imports/" + upload_id, "t/demo/_imports/" + upload_id, upload_id.lower()):
        response = api.call("POST", "/forms/part/imports", body={"upload_id": forged}, tenant="other", **CLERK)
        assert response.status_code == 422 and response.json["error"]["details"][0]["path"] == "upload_id"
    assert start(api, upload_id=upload_id)["created"] == 5  # the owner's tenant imports it


def test_missing_object_and_content_or_upload_id(bulk_api):
    from chalicelib.ids import new_id
    api = bulk_api
    post = presign(api)  # presigned, never uploaded
    missing = api.call("POST", "/forms/part/imports", body={"upload_id": post["upload_id"]}, **CLERK)
    assert missing.status_code == 422 and missing.json["error"]["code"] == "upload_missing"
    assert missing.json["error"]["details"][0]["path"] == "upload_id"
    never = api.call("POST", "/forms/part/imports", body={"upload_id": new_id()}, **CLERK)
    assert never.status_code == 422 and never.json["error"]["details"][0]["path"] == "upload_id"
    both = api.call("POST", "/forms/part/imports", body={"content": csv_text(1), "upload_id": post["upload_id"]}, **CLERK)
    assert both.status_code == 422 and both.json["error"]["code"] == "content_or_upload_id"
    assert both.json["error"]["details"][0]["path"] == "upload_id"
    neither = api.call("POST", "/forms/part/imports", body={"format": "csv"}, **CLERK)
    assert neither.status_code == 422 and neither.json["error"]["details"][0]["path"] == "content"
    put(post["key"], b"  \n")
    empty = api.call("POST", "/forms/part/imports", body={"upload_id": post["upload_id"]}, **CLERK)
    assert empty.status_code == 422 and empty.json["error"]["code"] == "upload_empty"
    # without import permission the upload is not read at all
    assert api.call("POST", "/forms/part/imports", body={"upload_id": post["upload_id"]}, **VIEWER).status_code == 403


def test_upload_too_large_is_refused_before_reading(bulk_api, monkeypatch):
    api = bulk_api
    monkeypatch.setenv("IMPORT_UPLOAD_MAX_BYTES", "1000")
    from chalicelib.config import reset_settings
    reset_settings()
    upload_id = uploaded(api, csv_text(100).encode())
    response = api.call("POST", "/forms/part/imports", body={"upload_id": upload_id}, **CLERK)
    assert response.status_code == 413 and response.json["error"]["code"] == "upload_too_large"
    assert response.json["error"]["details"][0]["path"] == "upload_id"
    monkeypatch.delenv("IMPORT_UPLOAD_MAX_BYTES")
    reset_settings()


def test_utf8_with_or_without_bom_and_other_encodings_refused(bulk_api):
    api = bulk_api
    text = "code,name\nU1,Kältemittel 冷媒\nU2,Pièce\n"
    with_bom = start(api, upload_id=uploaded(api, codecs.BOM_UTF8 + text.replace("U", "B").encode()))
    plain = start(api, upload_id=uploaded(api, text.encode()))
    assert with_bom["created"] == plain["created"] == 2 and with_bom["errors"] == []
    names = {p["data"]["code"]: p["data"]["name"] for p in parts(api)}
    assert names["B1"] == names["U1"] == "Kältemittel 冷媒"
    lines = codecs.BOM_UTF8 + (json.dumps({"code": "J1", "name": "Ünïcode"}, ensure_ascii=False) + "\n").encode()
    assert start(api, format="jsonl", upload_id=uploaded(api, lines, fmt="jsonl"))["created"] == 1
    # inline content with a BOM (a JSON-lines file pasted as is) is read the same way
    assert start(api, format="jsonl", content="\ufeff" + json.dumps({"code": "J2", "name": "x"}))["created"] == 1
    for data, hint in (("code,name\nW1,Pièce\n".encode("cp1252"), "offset 15"),
                       (codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "UTF-16")):
        response = api.call("POST", "/forms/part/imports", body={"upload_id": uploaded(api, data)}, **CLERK)
        assert response.status_code == 422 and response.json["error"]["code"] == "not_utf8", response.json
        problem = response.json["error"]["details"][0]
        assert problem["path"] == "upload_id" and hint in problem["message"] and "UTF-8" in problem["message"]


def test_export_media_types_and_file_name(bulk_api):
    api = bulk_api
    start(api, content=csv_text(12))
    response = download(api, "/forms/part/export?format=csv", **CLERK)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="part.csv"'
    assert "Content-Disposition" in response.headers["Access-Control-Expose-Headers"]
    assert response.text.splitlines()[0].startswith("id,number,version")
    response = download(api, "/forms/part/export?format=jsonl", **VIEWER)
    assert response.headers["Content-Type"] == "application/x-ndjson"
    assert response.headers["Content-Disposition"] == 'attachment; filename="part.jsonl"'
    assert len([json.loads(line) for line in response.text.splitlines()]) == 12
    # errors stay JSON
    failed = api.http.get("/forms/part/export?format=xls", headers={"Authorization": f"Bearer {api.token(**CLERK)}"})
    assert failed.status_code == 400 and failed.headers["Content-Type"] == "application/json"


def test_export_too_large_for_a_response_is_refused_clearly(bulk_api, monkeypatch):
    from chalicelib.services import bulk
    start(bulk_api, content=csv_text(20))
    monkeypatch.setattr(bulk, "MAX_EXPORT_BYTES", 500)
    response = bulk_api.call("GET", "/forms/part/export", **CLERK)
    assert response.status_code == 413 and response.json["error"]["code"] == "export_too_large"


def test_openapi_documents_the_export_media_types_and_the_upload_route(api):
    document = json.loads(api.call("GET", "/openapi.json", user=None).body)
    export = document["paths"]["/forms/{form}/export"]["get"]
    assert set(export["responses"]["200"]["content"]) == {"text/csv; charset=utf-8", "application/x-ndjson"}
    assert "Content-Disposition" in export["responses"]["200"]["headers"]
    assert {p["name"] for p in export["parameters"]} >= {"form", "format", "limit"}
    upload = document["paths"]["/forms/{form}/imports/uploads"]["post"]
    assert upload["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ImportUploadRequest")
    assert {"upload_id", "url", "fields"} <= set(upload["responses"]["201"]["content"]["application/json"]["schema"]["properties"])
    imports = document["components"]["schemas"]["ImportRequest"]
    assert {"content", "upload_id"} <= set(imports["properties"]) and "oneOf" in imports
