"""A timer whose step fails is an incident on the record: visible through the API (which timer, why,
since when, how often), retried later and later instead of every minute, and an admin retries it
(after fixing the definition) or dismisses it with a comment — never silently failing forever."""
from chalicelib.services.workflow import INCIDENT_BACKOFF_SECONDS, fire_due_timers

from .test_review_workflow import EVERYONE, STAFF, _later, history, new_ticket, ticket_form, upload

ADMIN = dict(user="admin", roles=["admin"])


def _setup(api):
    ticket_form(api)
    upload(api, "form", "note", {"title": "Note", "fields": [{"name": "text", "type": "text", "required": True, "max_length": 8}],
                                 "permissions": EVERYONE})
    upload(api, "workflow", "ticket", {"StartAt": "Pause", "States": {
        "Pause": {"Type": "Wait", "Seconds": 600, "Next": "Log"},
        "Log": {"Type": "Action", "Steps": [{"CreateRecord": {"Form": "note", "Data": {"text": "title"}}}], "Next": "Work"},
        "Work": {"Type": "Task", "Assignee": {"Users": ["ann"]}, "Actions": {"done": {"Next": "End"}}},
        "End": {"Type": "Succeed"}}})


def _incidents(api, ticket, who=ADMIN, expect=200):
    response = api.call("GET", f"/forms/ticket/records/{ticket['id']}/incidents", **who)
    assert response.status_code == expect, response.json
    return response.json.get("items")


def test_a_failing_timer_is_an_incident_retried_with_back_off_then_by_an_admin(api):
    _setup(api)
    ticket = new_ticket(api, "far too long for a note")
    first = _later(minutes=11)
    assert fire_due_timers(first) == {"fired": 0, "skipped": 0, "failed": 1}
    [incident] = _incidents(api, ticket)
    assert incident["source"] == "timer" and incident["name"] == "wait" and incident["state"] == "Pause"
    assert incident["failures"] == 1 and incident["failed_since"] == first and incident["error"]["code"]
    assert "note" in incident["error"]["message"] and "text" in incident["error"]["message"]  # which record, which field
    assert incident["next_try_at"] > first
    assert _incidents(api, ticket, STAFF("opener")) == [incident]  # whoever reads the record sees it
    # not every minute: the next run before the back-off is over leaves it alone
    assert fire_due_timers(_later(minutes=11, seconds=30)) == {"fired": 0, "skipped": 0, "failed": 0}
    assert fire_due_timers(_later(minutes=11, seconds=INCIDENT_BACKOFF_SECONDS[0] + 5))["failed"] == 1
    [again] = _incidents(api, ticket)
    assert again["failures"] == 2 and again["failed_since"] == first and again["next_try_at"] > incident["next_try_at"]
    path = f"/forms/ticket/records/{ticket['id']}/incidents/{incident['name']}"
    assert api.call("POST", f"{path}/retry", **STAFF("opener")).json["error"]["code"] == "admin_only"
    # retried before the definition is fixed: the same error, counted
    assert api.call("POST", f"{path}/retry", **ADMIN).status_code == 422
    assert _incidents(api, ticket)[0]["failures"] == 3
    # the admin fixes the definition the step needs, then retries: the step runs, the incident is gone
    upload(api, "form", "note", {"title": "Note", "fields": [{"name": "text", "type": "text", "required": True}],
                                 "permissions": EVERYONE})
    done = api.call("POST", f"{path}/retry", **ADMIN)
    assert done.status_code == 200 and done.json["fired"] is True, done.json
    assert done.json["record"]["workflow"]["state"] == "Work"
    assert _incidents(api, ticket) == []
    assert api.call("POST", f"{path}/retry", **ADMIN).status_code == 404


def test_an_admin_dismisses_an_incident_with_a_comment(api):
    _setup(api)
    ticket = new_ticket(api, "far too long for a note")
    fire_due_timers(_later(minutes=11))
    [incident] = _incidents(api, ticket)
    path = f"/forms/ticket/records/{ticket['id']}/incidents/{incident['name']}/dismiss"
    refused = api.call("POST", path, body={}, **ADMIN)
    assert refused.status_code == 422 and refused.json["error"]["details"] == [{"path": "comment", "message": "is required"}]
    assert api.call("POST", path, body={"comment": "x"}, **STAFF("opener")).status_code == 403
    done = api.call("POST", path, body={"comment": "the note is not needed for this one"}, **ADMIN)
    assert done.status_code == 200, done.json
    record = done.json["record"]
    assert record["workflow"]["state"] == "Pause" and record["workflow"]["timers"] == [] and record["version"] == 2
    assert _incidents(api, ticket) == []
    entry = history(api, "ticket", ticket["id"])[-1]
    assert entry["kind"] == "incident" and entry["comment"] == "the note is not needed for this one"
    assert fire_due_timers(_later(days=2)) == {"fired": 0, "skipped": 0, "failed": 0}  # gone for good


def test_incidents_are_the_tenants_own(api):
    _setup(api)
    ticket = new_ticket(api, "far too long for a note")
    fire_due_timers(_later(minutes=11))
    assert len(_incidents(api, ticket)) == 1
    other = api.call("GET", f"/forms/ticket/records/{ticket['id']}/incidents", tenant="other", **ADMIN)
    assert other.status_code == 404
    name = _incidents(api, ticket)[0]["name"]
    retried = api.call("POST", f"/forms/ticket/records/{ticket['id']}/incidents/{name}/retry", tenant="other", **ADMIN)
    assert retried.status_code == 404 and _incidents(api, ticket)[0]["failures"] == 1
