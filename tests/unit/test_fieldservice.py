"""Field-service settings (checked against the form at upload) and the pure visit rules."""
import json
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.errors import Conflict, DefinitionError, ValidationFailed
from chalicelib.fieldservice import managed_fields, parse_field_service
from chalicelib.fieldservice.visits import check_in, check_out, event_time, parse_location
from chalicelib.forms.definition import parse_form_definition

APP = Path(__file__).resolve().parents[2] / "definitions" / "after_sales"
WORK_ORDER = parse_form_definition(json.loads((APP / "forms" / "work_order.json").read_text()))
SHIPPED = json.loads((APP / "field_services" / "work_order.json").read_text())
SETTINGS = parse_field_service(SHIPPED, WORK_ORDER).checkin
SITE = {"lat": Decimal("31.2304"), "lng": Decimal("121.4737")}


def test_the_shipped_settings_fit_the_shipped_form():
    fs = parse_field_service(SHIPPED, WORK_ORDER)
    assert fs.checkin.on_action == "arrive" and fs.parts.lines_field == "parts_used"
    assert {"parts_used", "visits", "on_site_seconds", "travel_seconds"} <= managed_fields(fs)


@pytest.mark.parametrize("change, path", [
    ({"engineer_field": "customer"}, "engineer_field"),
    ({"engineer_field": "nobody"}, "engineer_field"),
    ({"checkin": {"location_field": "service_address"}}, "checkin.location_field"),
    ({"checkin": {"location_field": "service_location", "visits_field": "parts_used"}}, "checkin.columns.checked_in_at"),
    ({"parts": {"lines_field": "visits"}}, "parts.columns.line_id"),
    ({"parts": {"lines_field": "parts_used", "columns": {"quantity": "unit_price"}}}, "parts.columns.quantity"),
])
def test_settings_that_name_wrong_fields_are_refused_with_their_path(change, path):
    with pytest.raises(DefinitionError) as caught:
        parse_field_service({**SHIPPED, **change}, WORK_ORDER)
    assert path in [d["path"] for d in caught.value.details]


@pytest.mark.parametrize("raw, path", [
    ({**SHIPPED, "surprise": 1}, "surprise"),
    ({**SHIPPED, "checkin": {**SHIPPED["checkin"], "radius_m": 1}}, "checkin.radius_m"),
    ({**SHIPPED, "checkin": {**SHIPPED["checkin"], "radius_m": "300"}}, "checkin.radius_m"),
])
def test_malformed_settings_are_refused_with_their_path(raw, path):
    with pytest.raises(DefinitionError) as caught:
        parse_field_service(raw)
    assert caught.value.details[0]["path"] == path


def test_checkin_measures_the_distance_and_flags_far_ones():
    patch, facts = check_in(SETTINGS, {"service_location": SITE, "accepted_at": "2026-11-30T07:00:00Z"},
                            {"lat": Decimal("31.2310"), "lng": Decimal("121.4740")}, "2026-11-30T08:00:00Z", None)
    assert not facts["flagged"] and Decimal(60) < facts["distance_m"] < Decimal(90)
    assert patch["travel_seconds"] == 3600 and patch["first_checkin_at"] == "2026-11-30T08:00:00Z"
    with pytest.raises(ValidationFailed) as caught:
        check_in(SETTINGS, {"service_location": SITE}, {"lat": Decimal(31), "lng": Decimal(121)}, "2026-11-30T08:00:00Z", "  ")
    assert caught.value.code == "checkin_reason_required"
    patch, facts = check_in(SETTINGS, {"service_location": SITE}, {"lat": Decimal(31), "lng": Decimal(121)},
                            "2026-11-30T08:00:00Z", "gate moved")
    assert facts["flagged"] and patch["checkin_flagged"] is True and patch["visits"][0]["checkin_reason"] == "gate moved"


def test_a_site_without_coordinates_is_not_flagged_and_has_no_distance():
    patch, facts = check_in(SETTINGS, {}, {"lat": Decimal(1), "lng": Decimal(2)}, "2026-11-30T08:00:00Z", None)
    assert facts == {"distance_m": None, "flagged": False, "radius_m": 300}
    assert "checkin_distance_m" not in patch["visits"][0]


def test_visits_open_and_close_in_order():
    data = {"service_location": SITE}
    patch, _ = check_in(SETTINGS, data, SITE, "2026-11-30T08:00:00Z", None)
    data.update(patch)
    with pytest.raises(Conflict):
        check_in(SETTINGS, data, SITE, "2026-11-30T08:05:00Z", None)
    with pytest.raises(ValidationFailed):
        check_out(SETTINGS, data, "2026-11-30T07:59:59Z")  # before the check-in
    patch, facts = check_out(SETTINGS, data, "2026-11-30T08:45:00Z")
    assert facts["on_site_seconds"] == 2700 and patch["on_site_seconds"] == 2700
    data.update(patch)
    with pytest.raises(Conflict):
        check_out(SETTINGS, data, "2026-11-30T09:00:00Z")


def test_device_times_and_locations_are_checked():
    assert event_time(None, "2026-11-30T08:00:00.000Z", SETTINGS) == "2026-11-30T08:00:00.000Z"
    assert event_time("2026-11-30T16:00:00+08:00", "2026-11-30T08:00:00.000Z", SETTINGS) == "2026-11-30T08:00:00Z"
    with pytest.raises(ValidationFailed):
        event_time("2026-11-30T09:00:00Z", "2026-11-30T08:00:00.000Z", SETTINGS)  # an hour in the future
    for bad in ({"lat": 91, "lng": 0}, {"lat": 0}, {"lat": 0, "lng": 0, "alt": 3}, [1, 2], {"lat": True, "lng": 0}):
        with pytest.raises(ValidationFailed):
            parse_location(bad)
