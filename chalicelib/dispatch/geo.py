"""Great-circle distance. Pure; other modules (check-in radius, dispatch) import `haversine_m`."""
from __future__ import annotations

import math
from typing import Any

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), metres


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Distance in metres between two WGS84 points given in decimal degrees (haversine formula)."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp = p2 - p1
    dl = math.radians(float(lng2) - float(lng1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def point(value: Any) -> tuple[float, float] | None:
    """(lat, lng) from a geolocation field value ({"lat", "lng"[, "accuracy"]}), or None if absent/invalid."""
    if not isinstance(value, dict):
        return None
    try:
        lat, lng = float(value["lat"]), float(value["lng"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0):
        return None
    return lat, lng


__all__ = ["haversine_m", "point", "EARTH_RADIUS_M"]
