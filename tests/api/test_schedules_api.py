"""Schedules (recurring work as data): upload checks against the forms, the first state at publish,
runs that make each occurrence's records once (retries, catch-up and the `latest` policy), per record
of another form with filter and where, an admin's skip / postpone / restore, the view, permissions."""
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.schedules.definition import parse_schedule
from chalicelib.schedules.plan import first_state, plan_run, upcoming

START = date.today() + timedelta(days=2)  # always in the future: publishing never back-fills
EQUIPMENT = {"name": "equipment", "title": "Equipment", "fields": [
    {"name": "code", "type": "text", "required": True},
    {"name": "site", "type": "text"},
    {"name": "status", "type": "select", "options": [{"value": "in_service"}, {"value": "retired"}], "default": "in_service"},
    {"name": "under_contract", "type": "checkbox", "default": False}],
    "indexes": ["status"],
    "permissions": {"create": ["admin"], "read": ["admin", "inspector"], "update": ["admin"], "delete": ["admin"]}}
INSPECTION = {"name": "inspection", "title": "Inspection", "fields": [
    {"name": "equipment", "type": "lookup", "form": "equipment"},
    {"name": "title", "type": "text", "required": True},
    {"name": "due_date", "type": "date", "required": True},
    {"name": "site", "type": "text"}],
    "permissions": {"create": ["admin"], "read": ["admin", "inspector"], "update": ["admin"], "delete": ["admin"]}}


def schedule(**extra):
    body = {"name": "monthly", "title": "Monthly check", "form": "inspection", "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
            "start": START.isoformat(), "at": "08:00", "time_zone": "+08:00",
            "values": {"title": "'Check ' + $occurrence", "due_date": "$occurrence"}}
    body.update(extra)
    return body


def at(local: str, zone_hours: int = 8) -> str:
    """The UTC instant of a local wall time in +08:00, as the run's `now`."""
    moment = datetime.fromisoformat(local).replace(tzinfo=timezone(timedelta(hours=zone_hours))).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def month_starts(count: int) -> list[str]:
    out, year, month = [], START.year, START.month
    if START.day > 1:
        month += 1
    for _ in range(count):
        if month > 12:
            year, month = year + 1, 1
        out.append(f"{year:04d}-{month:02d}-01")
        month += 1
    return out


@pytest.fixture
def sched_api(api):
    for form in (EQUIPMENT, INSPECTION):
        assert api.call("POST", f"/definitions/form/{form['name']}/versions?publish=true", body=form).status_code == 201
    return api


def publish(api, body):
    r = api.call("POST", f"/definitions/schedule/{body['name']}/versions?publish=true", body=body)
    assert r.status_code == 201, r.json
    return r.json


def run(now):
    from chalicelib.services.schedules import run_due
    return run_due(now=now)


def inspections(api):
    r = api.call("GET", "/forms/inspection/records?limit=100")
    assert r.status_code == 200
    return r.json["items"]


def test_upload_checks_what_the_schedule_names(sched_api):
    cases = [
        (schedule(rrule="FREQ=SECONDLY"), "rrule", "FREQ must be one of"),
        (schedule(rrule="FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2"), "rrule", "no occurrence"),
        (schedule(rrule="FREQ=DAILY;BYHOUR=3"), "rrule", "BYHOUR is not supported"),
        (schedule(form="nothing"), "form", "no published form 'nothing'"),
        (schedule(values={"title": "'x'", "due_date": "$occurrence", "colour": "'red'"}), "values.colour", "no field 'colour'"),
        (schedule(values={"title": "'x'"}), "values", "required field 'due_date'"),
        (schedule(values={"title": "nme", "due_date": "$occurrence"}), "values.title", "unknown field 'nme'"),
        (schedule(values={"title": "$occurence", "due_date": "$occurrence"}), "values.title", "unknown variable '$occurence'"),
        (schedule(for_each={"form": "equipment", "filter": {"site": "x"}}), "for_each.filter.site", "not among the indexes"),
        (schedule(time_zone="Mars/Olympus"), "time_zone", "unknown time zone"),
        (schedule(at="25:00"), "at", ""),
    ]
    for body, path, words in cases:
        r = sched_api.call("POST", "/definitions/schedule/monthly/versions", body=body)
        assert r.status_code == 422, (body, r.json)
        found = [d for d in r.json["error"]["details"] if d["path"] == path]
        assert found and words in found[0]["message"], (path, r.json["error"]["details"])


def test_a_form_change_that_breaks_a_schedule_is_refused(sched_api):
    publish(sched_api, schedule(values={"title": "'x'", "due_date": "$occurrence", "site": "'HQ'"}))
    without_site = {**INSPECTION, "fields": [f for f in INSPECTION["fields"] if f["name"] != "site"]}
    r = sched_api.call("POST", "/definitions/form/inspection/versions", body=without_site)
    assert r.status_code == 422, r.json
    assert any(d.get("dependant", {}).get("kind") == "schedule" for d in r.json["error"]["details"]), r.json


def test_each_occurrence_is_made_once_and_the_view_shows_what_comes(sched_api):
    publish(sched_api, schedule())
    months = month_starts(3)
    view = sched_api.call("GET", "/schedules/monthly").json
    assert [o["key"] for o in view["upcoming"][:3]] == [f"{m}T08:00" for m in months]
    assert view["upcoming"][0]["make_at"] == at(f"{months[0]}T08:00")
    assert run(at(f"{months[0]}T07:59"))["made"] == 0  # not yet
    assert run(at(f"{months[0]}T08:00"))["made"] == 1
    again = run(at(f"{months[0]}T08:05"))
    assert again["made"] == 0
    items = inspections(sched_api)
    assert [(i["data"]["title"], i["data"]["due_date"]) for i in items] == [(f"Check {months[0]}", months[0])]
    view = sched_api.call("GET", "/schedules/monthly").json
    assert view["made"] == 1 and view["log"][0]["outcome"] == "made" and view["log"][0]["records"] == 1
    assert view["upcoming"][0]["key"] == f"{months[1]}T08:00"
    # the state is lost track of (a retried Lambda, a restored backup): making again finds the record made
    from chalicelib.storage import schedules as store
    current = store.get_state("demo", "monthly")
    state = {**current["state"], "done_through": None, "queue": []}
    assert store.save_state("demo", "monthly", state, rev=current["rev"], next_at=at(f"{months[0]}T08:00"))
    replay = run(at(f"{months[0]}T08:10"))
    assert replay["made"] == 0 and replay["existed"] == 1
    assert len(inspections(sched_api)) == 1


def test_missed_runs_catch_up_within_the_limit_or_make_only_the_latest(sched_api):
    publish(sched_api, schedule(max_catch_up=2))
    months = month_starts(4)
    result = run(at(f"{months[3]}T09:00"))  # four were due: the oldest two are missed, visibly
    assert (result["made"], result["missed"]) == (2, 2)
    assert sorted(i["data"]["due_date"] for i in inspections(sched_api)) == months[2:]
    log = sched_api.call("GET", "/schedules/monthly").json["log"]
    assert [e["outcome"] for e in reversed(log)] == ["missed", "missed", "made", "made"]
    assert "max_catch_up" in log[-1]["reason"]

    publish(sched_api, {**schedule(missed="latest"), "name": "latest_only", "values": {"title": "'L'", "due_date": "$occurrence"}})
    from chalicelib.storage import schedules as store
    assert store.get_state("demo", "latest_only")["state"]["done_through"] is None
    result = run(at(f"{months[2]}T09:00"))
    assert (result["made"], result["missed"]) == (1, 2)
    assert sorted(i["data"]["due_date"] for i in inspections(sched_api) if i["data"]["title"] == "L") == [months[2]]


def test_skip_postpone_and_restore_an_occurrence(sched_api):
    publish(sched_api, schedule())
    months = month_starts(3)
    first, second, third = (f"{m}T08:00" for m in months)
    later = (datetime.fromisoformat(second) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    r = sched_api.call("POST", f"/schedules/monthly/occurrences/{first}", body={"skip": True, "comment": "plant shut"})
    assert r.status_code == 200, r.json
    assert r.json["upcoming"][0] == {**r.json["upcoming"][0], "key": first, "status": "skipped"}
    r = sched_api.call("POST", f"/schedules/monthly/occurrences/{second}", body={"postpone_to": later})
    assert r.status_code == 200 and any(o["key"] == second and o["status"] == "postponed" and o["at"] == later
                                        for o in r.json["upcoming"])
    r = sched_api.call("POST", f"/schedules/monthly/occurrences/{third}", body={"skip": True})
    r = sched_api.call("POST", f"/schedules/monthly/occurrences/{third}", body={"restore": True})
    assert next(o for o in r.json["upcoming"] if o["key"] == third)["status"] == "scheduled"
    # bad decisions
    assert sched_api.call("POST", f"/schedules/monthly/occurrences/{first[:-1]}9", body={"skip": True}).status_code == 404
    r = sched_api.call("POST", f"/schedules/monthly/occurrences/{second}", body={"postpone_to": first})
    assert r.status_code == 422 and r.json["error"]["details"][0]["path"] == "postpone_to"
    assert sched_api.call("POST", f"/schedules/monthly/occurrences/{second}", body={"skip": True, "restore": True}).status_code == 422
    assert sched_api.call("POST", f"/schedules/monthly/occurrences/{second}", user="ins", roles=["inspector"],
                          body={"skip": True}).status_code == 403

    assert run(at(f"{months[0]}T08:30"))["made"] == 0  # skipped
    assert run(at(f"{months[1]}T08:30"))["made"] == 0  # postponed
    assert sched_api.call("POST", f"/schedules/monthly/occurrences/{first}", body={"skip": True}).status_code == 409
    assert run(at(f"{later}"))["made"] == 1
    made = inspections(sched_api)
    assert [i["data"]["due_date"] for i in made] == [later[:10]]
    log = sched_api.call("GET", "/schedules/monthly").json["log"]
    assert log[0]["outcome"] == "made" and log[0]["postponed_to"] == later
    assert log[-1] == {**log[-1], "outcome": "skipped", "by": "admin", "reason": "plant shut"}


def test_one_record_per_source_record_that_passes_filter_and_where(sched_api):
    ids = {}
    for code, status, contract in (("E1", "in_service", True), ("E2", "in_service", False), ("E3", "retired", True),
                                   ("E4", "in_service", True)):
        r = sched_api.call("POST", "/forms/equipment/records",
                           body={"data": {"code": code, "site": f"site {code}", "status": status, "under_contract": contract}})
        assert r.status_code == 201
        ids[code] = r.json["id"]
    publish(sched_api, schedule(for_each={"form": "equipment", "filter": {"status": "in_service"}, "where": "under_contract"},
                                values={"equipment": "$source.id", "title": "code + ' ' + $occurrence",
                                        "due_date": "$occurrence", "site": "site"}))
    months = month_starts(1)
    assert run(at(f"{months[0]}T08:00"))["made"] == 2
    assert run(at(f"{months[0]}T08:01"))["made"] == 0
    made = sorted((i["data"]["equipment"], i["data"]["site"], i["data"]["title"]) for i in inspections(sched_api))
    assert made == sorted([(ids["E1"], "site E1", f"E1 {months[0]}"), (ids["E4"], "site E4", f"E4 {months[0]}")])


def test_a_source_record_that_fails_is_listed_and_the_others_are_made(sched_api):
    for code in ("A", "B"):
        sched_api.call("POST", "/forms/equipment/records", body={"data": {"code": code, "site": "" if code == "B" else "s"}})
    publish(sched_api, schedule(for_each={"form": "equipment"},
                                values={"equipment": "$source.id", "title": "site", "due_date": "$occurrence"}))
    result = run(at(f"{month_starts(1)[0]}T08:00"))
    assert (result["made"], result["failed"]) == (1, 1)
    view = sched_api.call("GET", "/schedules/monthly").json
    assert view["failures"][0]["message"] and view["failures"][0]["source"]
    assert view["log"][0] == {**view["log"][0], "records": 1, "failed": 1}


def test_who_sees_schedules(sched_api):
    publish(sched_api, schedule())
    assert sched_api.call("GET", "/schedules/monthly", user="ins", roles=["inspector"]).status_code == 200
    assert sched_api.call("GET", "/schedules/monthly", user="x", roles=["agent"]).status_code == 404
    assert sched_api.call("GET", "/schedules", user="x", roles=["agent"]).json["items"] == []
    assert [s["name"] for s in sched_api.call("GET", "/schedules").json["items"]] == ["monthly"]
    assert sched_api.call("GET", "/schedules/monthly", tenant="other").status_code == 404
    assert sched_api.call("POST", "/schedules/monthly/run", user="ins", roles=["inspector"]).status_code == 403
    r = sched_api.call("POST", "/schedules/monthly/run")
    assert r.status_code == 200 and r.json["ran"]["made"] == 0


def test_the_plan_is_pure_and_daily_rules_across_a_dst_change():
    defn = parse_schedule({"name": "d", "form": "f", "rrule": "FREQ=DAILY;INTERVAL=2", "start": "2027-03-27",
                           "at": "09:30", "time_zone": "Europe/Berlin", "lead_days": 1})
    state = first_state(defn, datetime(2027, 3, 1, tzinfo=timezone.utc))
    soon = upcoming(defn, state, 3)
    # Berlin moves to summer time on 2027-03-28: 09:30 local is 08:30 UTC before and 07:30 UTC after
    assert [(o["key"], o["make_at"]) for o in soon] == [("2027-03-27T09:30", "2027-03-26T08:30:00.000Z"),
                                                        ("2027-03-29T09:30", "2027-03-28T07:30:00.000Z"),
                                                        ("2027-03-31T09:30", "2027-03-30T07:30:00.000Z")]
    decision = plan_run(defn, state, datetime(2027, 3, 28, 7, 30, tzinfo=timezone.utc))
    assert [q["key"] for q in decision.queue_add] == ["2027-03-27T09:30", "2027-03-29T09:30"]
    assert decision.log_add == []  # catch_up within max_catch_up: nothing missed
    weekly = parse_schedule({"name": "w", "form": "f", "rrule": "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=3", "start": "2027-01-01"})
    assert [o["key"] for o in upcoming(weekly, first_state(weekly, datetime(2026, 1, 1, tzinfo=timezone.utc)), 5)] == \
        ["2027-01-04T08:00", "2027-01-07T08:00", "2027-01-11T08:00"]
