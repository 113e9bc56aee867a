"""Who is calling: built only from verified token claims, never from the URL or body."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import Forbidden

ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class Caller:
    tenant: str
    user_id: str
    roles: frozenset[str]
    name: str = ""
    attributes: tuple[tuple[str, str], ...] = ()  # verified custom claims, e.g. (("region", "north"),)
    language: str = "en"  # what definitions' labels are answered in (locales.negotiate of Accept-Language)

    def has_any(self, roles: list[str] | tuple[str, ...]) -> bool:
        return "*" in roles or bool(self.roles & set(roles)) or ADMIN_ROLE in self.roles

    def require_any(self, roles: list[str] | tuple[str, ...], action: str) -> None:
        if not self.has_any(roles):
            raise Forbidden(f"your roles do not allow {action}", code="forbidden",
                            details=[{"path": "", "message": f"needs one of: {', '.join(sorted(roles))}"}])

    def require_admin(self, action: str) -> None:
        self.require_any((ADMIN_ROLE,), action)

    def variables(self, now: str) -> dict:
        """Expression variables describing the caller ($user) and time ($now, $today)."""
        return {"$user": {"id": self.user_id, "roles": sorted(self.roles), "name": self.name,
                          "attributes": dict(self.attributes)},
                "$now": now, "$today": now[:10]}
