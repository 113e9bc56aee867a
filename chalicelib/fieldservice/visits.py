"""On-site check-in and check-out (pure): where the engineer was against the site, whether that needs a
reason, and how long travel and the visit took. Returns the record fields to write; the service
writes them with the record's own optimistic lock."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ..errors import Conflict, ValidationFailed
from ..forms.values import Invalid, check_number, normalize_datetime
from .definition import CheckinSettings


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _problem(path: str, message: str, code: str = "validation_failed") -> ValidationFailed:
    return ValidationFailed(message, code=code, details=[{"path": path, "message": message}])


def event_time(raw: Any, now: str, settings: CheckinSettings, path: str = "at") -> str:
    """The device's time of the event (offline phones sync later); never later than now + skew."""
    if raw is None:
        return now
    try:
        at = normalize_datetime(raw)
    except Invalid as exc:
        raise _problem(path, str(exc)) from exc
    if _moment(at) > _moment(now) + timedelta(seconds=settings.max_clock_skew_seconds):
        raise _problem(path, "is in the future (check the device clock)")
    return at


def parse_location(raw: Any, path: str = "location") -> dict:
    if not isinstance(raw, dict) or set(raw) - {"lat", "lng", "accuracy"} or not {"lat", "lng"} <= set(raw):
        raise _problem(path, "must be an object {lat, lng[, accuracy]}")
    try:
        out = {"lat": check_number(raw["lat"], 8, Decimal(-90), Decimal(90)),
               "lng": check_number(raw["lng"], 8, Decimal(-180), Decimal(180))}
        if raw.get("accuracy") is not None:
            out["accuracy"] = check_number(raw["accuracy"], 2, Decimal(0), None)
    except Invalid as exc:
        raise _problem(path, str(exc)) from exc
    return out


def _open_visit(rows: list[dict], settings: CheckinSettings) -> int | None:
    cols = settings.columns
    for index in range(len(rows) - 1, -1, -1):
        if rows[index].get(cols.checked_in_at) and not rows[index].get(cols.checked_out_at):
            return index
    return None


def check_in(settings: CheckinSettings, data: dict, location: dict, at: str, reason: str | None) -> tuple[dict, dict]:
    """(fields to write, facts for the caller: distance_m, flagged, within_m)."""
    from ..dispatch.geo import haversine_m
    cols = settings.columns
    rows = list(data.get(settings.visits_field) or [])
    if _open_visit(rows, settings) is not None:
        raise Conflict("already checked in: check out first", code="already_checked_in")
    last_out = max((r[cols.checked_out_at] for r in rows if r.get(cols.checked_out_at)), default=None)
    if last_out and _moment(at) < _moment(last_out):
        raise _problem("at", f"is before the last check-out ({last_out}): visits may not overlap")
    site = data.get(settings.location_field)
    distance = None
    if isinstance(site, dict) and "lat" in site and "lng" in site:
        distance = Decimal(round(haversine_m(float(site["lat"]), float(site["lng"]),
                                             float(location["lat"]), float(location["lng"]))))
    flagged = distance is not None and distance > settings.radius_m
    reason = (reason or "").strip() or None
    if flagged and not reason:
        raise ValidationFailed(f"you are {distance} m from the site (allowed {settings.radius_m} m): give a reason",
                               code="checkin_reason_required",
                               details=[{"path": "reason", "message": f"required beyond {settings.radius_m} m"}])
    row = {cols.checked_in_at: at, cols.location: location, cols.flagged: flagged}
    if distance is not None:
        row[cols.distance_m] = distance
    if reason:
        row[cols.reason] = reason[:500]
    rows.append(row)
    patch: dict[str, Any] = {settings.visits_field: rows}
    summary = settings.summary
    if summary.first_checkin_at and not data.get(summary.first_checkin_at):
        patch[summary.first_checkin_at] = at
        start = data.get(settings.travel_from_field) if settings.travel_from_field else None
        if summary.travel_seconds and start:
            patch[summary.travel_seconds] = max(0, int((_moment(at) - _moment(start)).total_seconds()))
    if summary.checkin_flagged and flagged:
        patch[summary.checkin_flagged] = True
    return patch, {"distance_m": distance, "flagged": flagged, "radius_m": settings.radius_m}


def check_out(settings: CheckinSettings, data: dict, at: str) -> tuple[dict, dict]:
    cols = settings.columns
    rows = [dict(r) for r in data.get(settings.visits_field) or []]
    index = _open_visit(rows, settings)
    if index is None:
        raise Conflict("not checked in", code="not_checked_in")
    started = _moment(rows[index][cols.checked_in_at])
    if _moment(at) < started:
        raise _problem("at", "is before the check-in")
    seconds = int((_moment(at) - started).total_seconds())
    rows[index][cols.checked_out_at] = at
    rows[index][cols.on_site_seconds] = seconds
    patch: dict[str, Any] = {settings.visits_field: rows}
    if settings.summary.on_site_seconds:
        patch[settings.summary.on_site_seconds] = sum(int(r.get(cols.on_site_seconds) or 0) for r in rows)
    return patch, {"on_site_seconds": seconds}


__all__ = ["check_in", "check_out", "event_time", "parse_location"]
