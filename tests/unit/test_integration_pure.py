"""Pure integration logic: the event envelope, webhook signatures, CSV/JSON-lines rows, mappings."""
from decimal import Decimal

import pytest

from chalicelib.errors import DefinitionError
from chalicelib.forms.definition import parse_form_definition
from chalicelib.integration import envelope, rows, signing
from chalicelib.integration.mapping import MappingError, apply, parse_mapping

FORM = parse_form_definition({"name": "part", "title": "Part", "fields": [
    {"name": "code", "type": "text", "unique": True}, {"name": "qty", "type": "number"},
    {"name": "ok", "type": "checkbox"}, {"name": "tags", "type": "multiselect", "options": [{"value": "a"}, {"value": "b"}]},
    {"name": "where", "type": "geolocation"}, {"name": "total", "type": "computed", "expression": "qty * 2"}]})


@pytest.mark.parametrize("entry, kind", [
    ({"kind": "create"}, "record.created"), ({"kind": "update"}, "record.updated"), ({"kind": "delete"}, "record.deleted"),
    ({"kind": "action", "action": "approve", "from": "A", "to": "B"}, "workflow.transitioned"),
    ({"kind": "timer", "from": "A", "to": "B"}, "workflow.transitioned"),
    ({"kind": "fieldwork", "from": "A", "to": "A"}, "record.updated"),
])
def test_event_types(entry, kind):
    assert envelope.event_type(entry) == kind


def test_envelope_hidden_fields_and_subscriptions():
    event = envelope.build("t1", "part", "01ARZ3NDEKTSV4RRFFQ69G5FAV", 3, "2026-01-01T00:00:00.000Z",
                           {"kind": "update", "actor": "u", "changed_fields": ["qty", "code"]})
    assert event["id"] == "01ARZ3NDEKTSV4RRFFQ69G5FAV-0000000003" and event["changed_fields"] == ["code", "qty"]
    assert envelope.for_hidden(event, {"qty"})["changed_fields"] == ["code"] and event["changed_fields"] == ["code", "qty"]
    assert envelope.matches(event, ["record.*"], []) and envelope.matches(event, ["*"], ["part"])
    assert not envelope.matches(event, ["workflow.*"], []) and not envelope.matches(event, ["*"], ["order"])
    assert envelope.from_stream_image({"sk": {"S": "R"}}) is None
    assert envelope.from_stream_image({"sk": {"S": "H#x"}}) is None


def test_signature_and_replay_window():
    body = b'{"a":1}'
    sig = signing.sign("s3cret", 1000, body)
    assert signing.verify("s3cret", "1000", body, sig, now=1100)
    assert not signing.verify("other", "1000", body, sig, now=1100)
    assert not signing.verify("s3cret", "1000", body, sig, now=1000 + signing.TOLERANCE_SECONDS + 1)
    assert not signing.verify("s3cret", "soon", body, sig, now=1000)


def test_csv_cells_are_typed_by_field():
    parsed = rows.parse('code,qty,ok,tags,where\nA,1.50,yes,a;b,"{""lat"": 1, ""lng"": 2}"\nB,x,maybe,,{bad\n', "csv", FORM)
    assert parsed[0] == (1, {"code": "A", "qty": Decimal("1.50"), "ok": True, "tags": ["a", "b"],
                             "where": {"lat": 1, "lng": 2}}, [])
    assert {p["path"] for p in parsed[1][2]} == {"data.qty", "data.ok", "data.where"}
    with pytest.raises(rows.RowsError):
        rows.parse("code,nope\n", "csv", FORM)


def test_export_neutralises_formulas():
    text = rows.to_csv(FORM, ["code", "tags"], [{"id": "1", "data": {"code": "=HYPERLINK()", "tags": ["a", "b"]}}])
    assert text.splitlines()[1].endswith("'=HYPERLINK(),a;b")


def test_mapping_checked_and_applied():
    mapping = parse_mapping({"name": "m", "form": "part", "mode": "upsert", "key_field": "code", "external_id": "id",
                             "fields": {"qty": "n * 2"}}, FORM)
    assert apply(mapping, {"id": "X1", "n": 2}) == ("X1", {"qty": 4, "code": "X1"})
    with pytest.raises(MappingError):
        apply(mapping, {"n": 1})
    with pytest.raises(DefinitionError) as info:
        parse_mapping({"name": "m", "form": "part", "mode": "upsert", "key_field": "qty", "external_id": "id",
                       "fields": {"total": "1", "qty": "(("}}, FORM)
    assert {d["path"] for d in info.value.details} == {"fields.total", "fields.qty", "key_field"}
