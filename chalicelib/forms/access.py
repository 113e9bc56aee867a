"""Who may see and change what on one form's records: roles per action, row rules and field grants
from the form's `permissions`. Pure. Each of the caller's roles is evaluated on its own — its row
rule against the record, then its hidden/readonly fields — and only then combined, so holding two
roles never exposes a cell that no single role may see."""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable

from ..errors import AppError, Forbidden
from .definition import FormDefinition

ADMIN_ROLE = "admin"


def _truthy(value: Any) -> bool:
    return value not in (None, False, "", [], {}) and value != 0


@dataclass(frozen=True)
class Access:
    form: FormDefinition
    roles: frozenset[str]
    variables: dict

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    def roles_for(self, action: str) -> list[str]:
        """The caller's roles that grant `action`; '*' in the form grants it to a pseudo-role '*'."""
        allowed = getattr(self.form.permissions, action)
        if self.is_admin:
            return [ADMIN_ROLE]
        granted = sorted(self.roles & set(allowed))
        return granted + (["*"] if "*" in allowed else [])

    def can(self, action: str) -> bool:
        return bool(self.roles_for(action))

    def admits(self, role: str, data: dict) -> bool:
        rule = self.form.permissions.rows.get(role)
        if rule is None or role == ADMIN_ROLE:
            return True
        from ..expressions import compile_expression
        try:
            return _truthy(compile_expression(rule).evaluate({**data, **self.variables}))
        except AppError:
            return False  # a rule that cannot be evaluated on this record does not admit it

    def admitting_roles(self, action: str, data: dict) -> list[str]:
        return [r for r in self.roles_for(action) if self.admits(r, data)]

    def _hidden(self, role: str, grant) -> set[str]:
        """What `role` may not see: its grant's hidden fields and every computed field derived from one."""
        return set(self.form.hidden_closure(grant.hidden)) if grant and role != ADMIN_ROLE else set()

    def row_visible(self, data: dict) -> bool:
        return bool(self.admitting_roles("read", data))

    def visible_fields(self, data: dict) -> set[str]:
        names = set(self.form.fields_by_name)
        visible: set[str] = set()
        for role in self.admitting_roles("read", data):
            visible |= names - self._hidden(role, self.form.permissions.fields.get(role))
        return visible

    def writable_fields(self, data: dict) -> set[str]:
        names = set(self.form.fields_by_name)
        visible = self.visible_fields(data)
        writable: set[str] = set()
        for role in self.admitting_roles("update", data):
            grant = self.form.permissions.fields.get(role)
            if grant and role != ADMIN_ROLE:
                writable |= names - self._hidden(role, grant) - set(grant.readonly)
            else:
                writable |= names
        return writable & (visible if not self.is_admin else names)

    def creatable_fields(self) -> set[str]:
        names = set(self.form.fields_by_name)
        out: set[str] = set()
        for role in self.roles_for("create"):
            grant = self.form.permissions.fields.get(role)
            out |= names - self._hidden(role, grant) - set(grant.readonly) if grant and role != ADMIN_ROLE else names
        return out

    def require_writable(self, names, data: dict | None) -> None:
        """Forbidden naming each field of `names` the caller's roles may not set (data None = a create)."""
        allowed = self.creatable_fields() if data is None else self.writable_fields(data)
        locked = sorted(n for n in names if n in self.form.fields_by_name and n not in allowed)
        if locked:
            raise Forbidden("your roles may not set these fields", code="field_not_writable",
                            details=[{"path": f"data.{f}", "message": "not writable for your roles"} for f in locked])

    def mask(self, data: dict) -> dict:
        visible = self.visible_fields(data)
        return {k: v for k, v in data.items() if k in visible}

    def hidden_everywhere(self) -> set[str]:
        """Fields no role of the caller may ever see (so they may not filter on them either)."""
        names = set(self.form.fields_by_name)
        seen: set[str] = set()
        for role in self.roles_for("read"):
            seen |= names - self._hidden(role, self.form.permissions.fields.get(role))
        return names - seen

    def unseen(self, data: dict | None) -> set[str]:
        """Fields this caller may not see: on this record (`data`), or on any record (None: a create)."""
        if data is None:
            return self.hidden_everywhere()
        return set(self.form.fields_by_name) - self.visible_fields(data)

    def redact(self, exc: AppError, data: dict | None, supplied: Iterable[str] = ()) -> AppError:
        """`exc` as this caller may read it: details about fields they may not see are dropped and such
        names in messages are replaced (a field the caller sent themselves stays named)."""
        hidden = self.unseen(data) - set(supplied)
        if not hidden:
            return exc
        names = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(re.escape(n) for n in sorted(hidden, key=len, reverse=True))
                           + r")(?![A-Za-z0-9_])")

        def clean(text: Any) -> Any:
            return names.sub("(a field you may not see)", text) if isinstance(text, str) else text

        exc.message = clean(exc.message)
        if isinstance(exc.details, list):
            kept = []
            for detail in exc.details:
                if not isinstance(detail, dict):
                    continue
                path = str(detail.get("path", ""))
                head = re.match(r"(?:data\.)?([A-Za-z0-9_]+)", path)
                if path.startswith("data.") and head and head.group(1) in hidden:
                    continue
                kept.append({k: clean(v) for k, v in detail.items()})
            if exc.details and not kept:
                kept = [{"path": "data", "message": "a field you may not see does not allow this; ask someone who can see it"}]
            exc.details = kept
        return exc

    @contextmanager
    def hiding(self, data: dict | None, supplied: Iterable[str] = ()):
        """Errors raised inside name only what this caller may see (Access.redact)."""
        try:
            yield
        except AppError as exc:
            self.redact(exc, data, supplied)
            raise

