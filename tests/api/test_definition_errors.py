"""Upload errors in plain words: what pydantic says ("Field required", "Extra inputs are not
permitted", "Input should be ...") never reaches the admin; each problem keeps its JSON path."""
import pytest

PYDANTIC_PHRASES = ("Field required", "Extra inputs are not permitted", "Input should", "String should", "List should",
                    "Dictionary should", "Value error", "Assertion failed", "Input tag", "Unable to extract tag",
                    "Object has no attribute", "valid dictionary", "should have at")

# (kind, name, document, {path: the whole message}) — a few broken definitions of each kind
CASES = [
    ("form", "inspection", {"title": "", "colour": "red", "fields": [
        {"name": "a", "type": "text", "max_length": 0, "hint": "x"}, {"name": "b", "type": "wat"}, {"name": "c"},
        {"name": "d", "type": "number", "maximum": "ten"}], "storage": {"shards": "many"}, "permissions": {"read": "admin"}},
     {"title": "must not be empty",
      "colour": "unknown key (allowed: description, fields, indexes, name, permissions, storage, title, title_field, translations)",
      "fields[0].max_length": "must be at least 1",
      "fields[1]": "unknown 'type': 'wat' (one of 'text', 'textarea', 'number', 'money', 'percent', 'date', 'datetime', "
                   "'time', 'duration', 'select', 'multiselect', 'checkbox', 'rating', 'phone', 'email', 'url', 'geolocation', "
                   "'image', 'file', 'signature', 'user', 'lookup', 'computed', 'subtable', 'auto_number')",
      "fields[2]": "needs 'type'",
      "storage.shards": "must be a whole number",
      "permissions.read": "must be a list"}),
    ("form", "empty", {"fields": []}, {"title": "is required", "fields": "must not be empty"}),
    ("workflow", "work_order", {"StartAt": "Review", "Colour": 1, "States": {
        "Review": {"Type": "Task", "Actions": [], "Next": "Done"}, "Done": {"Type": "Nap"}}},
     {"Colour": "unknown key (allowed: Comment, Deadlines, Fallback, StartAt, States, Translations, name, title)",
      "States.Review.Assignee": "is required",
      "States.Review.Next": "unknown key (allowed: Actions, Assignee, Comment, Deadlines, Editable, Edits, Label, Translations, Type)",
      "States.Done": "unknown 'Type': 'Nap' (one of 'Task', 'Approval', 'Choice', 'Wait', 'Action', 'Succeed', 'Fail')"}),
    ("dispatch_policy", "work_order", {"weights": {"speed": 1, "load": -1}, "rules": {"same_region": "maybe"}},
     {"weights.speed": "unknown key (allowed: distance, fairness, load, neighbour_region, preferred, skill)",
      "weights.load": "must be at least 0",
      "rules.same_region": "must be true or false"}),
    ("report", "broken", {"form": "work_order", "measures": "count"}, {"measures": "must be a list"}),
    ("dashboard", "broken", {"charts": [{"id": "a", "type": "donut", "report": "backlog_ageing", "size": 3}]},
     {"charts[0].type": "must be one of 'number', 'bar', 'line', 'pie', 'table' or 'ranking'",
      "charts[0].size": "unknown key (allowed: color, id, layout, limit, report, title, translations, type, x, y)"}),
    ("email_template", "broken", {"default_locale": "en", "locales": {"en": {"subject": "Hi"}}},
     {"locales.en.html": "is required", "locales.en.text": "is required"}),
    ("integration_mapping", "broken", {"form": "work_order", "fields": {}, "extra": 1},
     {"external_id": "is required", "fields": "must not be empty",
      "extra": "unknown key (allowed: event, external_id, fields, form, key_field, lookups, mode, name, title)"}),
]


def _details(response):
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "invalid_definition"
    return {d["path"]: d["message"] for d in response.json["error"]["details"]}


@pytest.mark.parametrize("kind, name, document, expected", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_upload_problems_are_in_plain_words_with_their_paths(demo_api, kind, name, document, expected):
    details = _details(demo_api.call("POST", f"/definitions/{kind}/{name}/versions", body=document))
    for path, message in expected.items():
        assert details.get(path) == message, (path, details)
    for path, message in details.items():
        assert not any(phrase in message for phrase in PYDANTIC_PHRASES), (path, message)


def test_field_service_and_survey_problems_are_plain_too(demo_api):
    details = _details(demo_api.call("POST", "/definitions/field_service/work_order/versions",
                                     body={"engineer_field": 3, "checkin": {"radius_m": -1}, "colour": 1}))
    assert details["engineer_field"] == "must be text"
    assert details["colour"].startswith("unknown key (allowed: ") and "engineer_field" in details["colour"]
    survey = demo_api.call("GET", "/definitions/survey/work_order/versions/1").json["definition"]
    details = _details(demo_api.call("POST", "/definitions/survey/work_order/versions",
                                     body={**survey, "reminder_after_days": "soon", "recipient": {"colour": 1}}))
    assert details["recipient.colour"].startswith("unknown key (allowed: ")
    for message in details.values():
        assert not any(phrase in message for phrase in PYDANTIC_PHRASES), details


def test_a_patch_answers_the_same_plain_words(demo_api):
    answer = demo_api.call("PATCH", "/definitions/form/customer?base=1", body={"storage": {"shards": "many"}, "colour": 1},
                           headers={"Content-Type": "application/merge-patch+json"})
    details = _details(answer)
    assert details["storage.shards"] == "must be a whole number"
    assert details["colour"].startswith("unknown key (allowed: description, fields")
