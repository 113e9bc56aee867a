"""Bulk import jobs (row-level errors, batches, progress, restart without duplicates) and export
(CSV / JSON lines, filters, permissions)."""
import csv
import io
import json

import pytest

FORM = {"name": "part", "title": "Part", "fields": [
    {"name": "code", "type": "text", "required": True, "unique": True},
    {"name": "name", "type": "text", "required": True},
    {"name": "price", "type": "money", "minimum": 0},
    {"name": "cost", "type": "money"},
    {"name": "line", "type": "select", "options": [{"value": "hvac"}, {"value": "medical"}]},
    {"name": "active", "type": "checkbox"},
    {"name": "tags", "type": "multiselect", "options": [{"value": "a"}, {"value": "b"}]}],
    "indexes": ["line"],
    "permissions": {"create": ["clerk"], "read": ["clerk", "viewer"], "update": ["clerk"], "delete": ["clerk"],
                    "import": ["clerk"], "export": ["clerk", "viewer"],
                    "fields": {"viewer": {"hidden": ["cost"]}}}}
CLERK = dict(user="clerk.wu", roles=["clerk"])
VIEWER = dict(user="view.li", roles=["viewer"])


@pytest.fixture
def bulk_api(api, monkeypatch):
    from chalicelib.services import bulk
    monkeypatch.setattr(bulk, "WORKERS", 1)  # moto's in-process backend is not thread-safe; DynamoDB Local runs 8
    assert api.call("POST", "/definitions/form/part/versions", body=FORM).status_code == 201
    return api


def csv_text(n, start=0, extra=""):
    lines = ["code,name,price,cost,line,active,tags"]
    lines += [f"P{i:05d},Part {i},{i}.50,{i},{'hvac' if i % 2 else 'medical'},{'yes' if i % 3 else 'no'},a;b" for i in range(start, start + n)]
    return "\n".join(lines) + "\n" + extra


def download(api, path, user, roles):
    """The export is not JSON: call the chalice client directly."""
    response = api.http.get(path, headers={"Authorization": f"Bearer {api.token(user, roles)}"})
    response.text = response.body.decode() if isinstance(response.body, bytes) else response.body
    return response


def parts(api, **who):
    out, cursor = [], None
    while True:
        page = api.call("GET", "/forms/part/records?limit=100" + (f"&cursor={cursor}" if cursor else ""), **(who or CLERK)).json
        out += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return out


def test_import_csv_with_row_errors(bulk_api):
    api = bulk_api
    bad = "BAD1,,1,1,hvac,yes,\nBAD2,Bad price,-5,1,hvac,,\nBAD3,Line,1,1,cars,,\nBAD4,Flag,1,1,hvac,maybe,\nP00001,Dup in file,1,,,,\n"
    response = api.call("POST", "/forms/part/imports", body={"format": "csv", "content": csv_text(60, extra=bad)}, **CLERK)
    assert response.status_code == 202, response.json
    job = response.json
    assert job["status"] == "completed" and job["total"] == 65 and job["valid"] == 61
    assert job["created"] == 60 and job["failed"] == 5  # 4 invalid rows + the duplicate code at write time
    errors = {(e["row"], e["path"]) for e in job["errors"]}
    assert {(61, "data.name"), (62, "data.price"), (63, "data.line"), (64, "data.active"), (65, "data.code")} <= errors
    assert len(parts(api)) == 60
    p7 = next(p for p in parts(api) if p["data"]["code"] == "P00007")
    assert p7["data"] == {"code": "P00007", "name": "Part 7", "price": 7.5, "cost": 7, "line": "hvac", "active": True, "tags": ["a", "b"]}
    assert api.call("GET", f"/forms/part/imports/{job['id']}", **CLERK).json["created"] == 60


def test_import_jsonl_and_file_errors(bulk_api):
    api = bulk_api
    lines = [json.dumps({"code": "J1", "name": "One"}), json.dumps({"data": {"code": "J2", "name": "Two", "price": 2.25}}),
             "not json", json.dumps([1]), json.dumps({"code": "J3", "name": "x", "ghost": 1})]
    job = api.call("POST", "/forms/part/imports", body={"format": "jsonl", "content": "\n".join(lines)}, **CLERK).json
    assert job["created"] == 2 and {(e["row"], e["path"]) for e in job["errors"]} == {(3, ""), (4, ""), (5, "data.ghost")}
    bad = api.call("POST", "/forms/part/imports", body={"format": "csv", "content": "code,wat\nx,y\n"}, **CLERK)
    assert bad.status_code == 422 and bad.json["error"]["details"][0]["path"] == "content.header"
    bad = api.call("POST", "/forms/part/imports", body={"format": "xml", "content": "x"}, **CLERK)
    assert bad.status_code == 422 and bad.json["error"]["details"][0]["path"] == "format"
    assert api.call("POST", "/forms/part/imports", body={"content": "code\n"}, **VIEWER).status_code == 403


def test_import_restarts_without_duplicates(bulk_api, monkeypatch):
    from chalicelib.services import bulk
    from chalicelib.storage import imports
    api = bulk_api
    # the first run dies after writing its first batch, before recording progress
    real_save = imports.save_progress
    calls = {"n": 0}

    def crash_once(job, started, expected_status="running"):
        if expected_status == "running":
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("Lambda timed out")
        return real_save(job, started, expected_status)
    monkeypatch.setattr(imports, "save_progress", crash_once)
    body = {"format": "csv", "content": csv_text(70), "job_id": "nightly-2026-11-30"}
    crashed = api.call("POST", "/forms/part/imports", body=body, **CLERK)
    assert crashed.status_code == 500
    progress = api.call("GET", "/forms/part/imports/nightly-2026-11-30", **CLERK).json
    assert progress["status"] == "running" and progress["processed"] == 0 and progress["valid"] == 70
    assert len(parts(api)) == bulk.BATCH  # written, not yet recorded
    # sending the same job again resumes it: the first batch replays, nothing is duplicated
    resumed = api.call("POST", "/forms/part/imports", body=body, **CLERK)
    assert resumed.status_code == 200 and resumed.json["status"] == "completed"
    assert resumed.json["replayed"] == bulk.BATCH and resumed.json["created"] == 70 - bulk.BATCH
    assert len(parts(api)) == 70 and len({p["data"]["code"] for p in parts(api)}) == 70
    other = api.call("POST", "/forms/part/imports", body={**body, "content": csv_text(3, start=500)}, **CLERK)
    assert other.status_code == 409 and other.json["error"]["details"][0]["path"] == "job_id"


def test_import_recovers_a_job_that_died_while_storing_its_rows(bulk_api, monkeypatch):
    from chalicelib.storage import imports
    api = bulk_api
    real_put = imports.put_chunks
    monkeypatch.setattr(imports, "put_chunks", lambda *a: (_ for _ in ()).throw(RuntimeError("died")))
    body = {"content": csv_text(5), "job_id": "died-while-loading"}
    assert api.call("POST", "/forms/part/imports", body=body, **CLERK).status_code == 500
    fresh = api.call("GET", "/forms/part/imports/died-while-loading", **CLERK).json
    assert fresh["status"] == "loading" and "stalled" not in fresh  # its POST may still be at work
    from chalicelib.services import bulk
    monkeypatch.setattr(bulk, "STALLED_SECONDS", -1)
    stalled = api.call("GET", "/forms/part/imports/died-while-loading", **CLERK).json
    assert stalled["status"] == "loading" and stalled["stalled"] is True and "job_id" in stalled["hint"]
    monkeypatch.setattr(imports, "put_chunks", real_put)
    again = api.call("POST", "/forms/part/imports", body=body, **CLERK)
    assert again.status_code == 200 and again.json["status"] == "completed" and again.json["created"] == 5


def test_scheduled_worker_finishes_a_job(bulk_api):
    from chalicelib.services import bulk
    from chalicelib.services.caller import Caller
    api = bulk_api
    caller = Caller("demo", "clerk.wu", frozenset({"clerk"}))
    job, status = bulk.start_import(caller, "part", {"content": csv_text(40)}, budget=0)
    assert status == 202 and job["status"] == "running" and job["processed"] == 0
    assert api.call("GET", f"/forms/part/imports/{job['id']}", **CLERK).json["status"] == "running"
    assert api.call("GET", f"/forms/part/imports/{job['id']}", user="other.clerk", roles=["clerk"]).status_code == 404
    assert bulk.continue_imports()["resumed"] == 1
    done = api.call("GET", f"/forms/part/imports/{job['id']}", **CLERK).json
    assert done["status"] == "completed" and done["created"] == 40
    assert bulk.continue_imports()["resumed"] == 0


def test_export_csv_and_jsonl_respect_permissions(bulk_api):
    api = bulk_api
    api.call("POST", "/forms/part/imports", body={"content": csv_text(30) + "=CMD,=1+1,,,,,\n"}, **CLERK)
    response = download(api, "/forms/part/export?format=csv&filter.line=hvac", **VIEWER)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 15 and "cost" not in rows[0] and {r["line"] for r in rows} == {"hvac"}
    assert rows[0]["tags"] == "a;b" and rows[0]["active"] in ("true", "false")
    text = download(api, "/forms/part/export?format=csv", **CLERK).text
    assert "'=CMD" in text and "cost" in text.splitlines()[0]  # formula cells neutralised
    lines = [json.loads(x) for x in download(api, "/forms/part/export?format=jsonl&limit=5", **VIEWER).text.splitlines()]
    assert len(lines) == 5 and all("cost" not in x["data"] for x in lines)
    assert api.call("GET", "/forms/part/export", user="nobody", roles=["agent"]).status_code == 403
    assert api.call("GET", "/forms/part/export?format=xls", **CLERK).status_code == 400
    assert api.call("GET", "/forms/part/export?filter.cost=1", **VIEWER).status_code == 400  # hidden: not filterable
