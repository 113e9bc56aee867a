"""What the pure workflow engine may ask of the world (WorkflowContext): who is behind an assignee
rule, which engineer to dispatch, and field writes validated by the form engine."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..config import get_settings
from ..errors import NotFound
from ..forms.definition import FormDefinition
from ..forms.engine import validate_record
from ..storage import listing
from . import definitions

if TYPE_CHECKING:
    from ..workflow.definition import AssigneeRule

_lookup_cache: dict[tuple, tuple[float, tuple[str, ...]]] = {}


class ServiceContext:
    """What the pure engine may ask of the world: who is who, dispatch, validated field writes."""

    def __init__(self, tenant: str, form: FormDefinition) -> None:
        self.tenant, self.form = tenant, form
        self.dispatched: dict[str, int] = {}  # engineer chosen by a Dispatch step → the day's capacity to fit

    def resolve(self, rule: AssigneeRule, data: dict) -> list[str]:
        keys: list[str] = []
        if rule.Role:
            keys = [f"role:{rule.Role}"]
        elif rule.Field_:
            value = data.get(rule.Field_)
            keys = self._active([f"user:{value}"] if isinstance(value, str) and value else [])
        elif rule.Users:
            keys = [f"user:{u}" for u in rule.Users]
        elif rule.Lookup:
            keys = self._active(self._lookup(rule.Lookup, data))
        if not keys and rule.Fallback:
            return self.resolve(rule.Fallback, data)
        return keys

    def _active(self, keys: list[str]) -> list[str]:
        """A user the tenant's member roster marks inactive is nobody (the rule's Fallback takes over)."""
        if not keys:
            return keys
        from .identity import roster
        entries = roster(self.tenant)
        return [k for k in keys if not (k.startswith("user:") and k[5:] in entries and not entries[k[5:]][0])]

    def _lookup(self, lookup, data: dict) -> list[str]:
        value = data.get(lookup.ValueField)
        if value is None:
            return []
        # Reference data (a region's supervisor) changes rarely: cached as briefly as definitions are.
        key = (self.tenant, lookup.Form, lookup.MatchField, str(value), lookup.UserField)
        cached = _lookup_cache.get(key)
        ttl = get_settings().definition_cache_seconds
        if cached and time.monotonic() - cached[0] <= ttl:
            return list(cached[1])
        found = self._lookup_uncached(lookup, value)
        if ttl > 0:
            if len(_lookup_cache) > 5000:
                _lookup_cache.clear()
            _lookup_cache[key] = (time.monotonic(), tuple(found))
        return found

    def _lookup_uncached(self, lookup, value) -> list[str]:
        try:
            _v, target = definitions.published(self.tenant, "form", lookup.Form)
        except NotFound:
            return []
        slot = target.index_slot(lookup.MatchField)
        if slot is None:
            return []
        items, _ = listing.list_records(self.tenant, lookup.Form, target.storage.shards, primary=(slot, value),
                                        extra=[], limit=1, cursor=None)
        user = items[0].data.get(lookup.UserField) if items else None
        return [f"user:{user}"] if isinstance(user, str) and user else []

    def dispatch(self, spec: dict, data: dict) -> str:
        """The Dispatch step: the best engineer by the tenant's published dispatch policy (hard rules,
        then weighted objectives; see chalicelib.dispatch), or StepError Dispatch.NoCandidate with why."""
        from .dispatch import auto_dispatch
        user, capacity = auto_dispatch(self.tenant, self.form, spec, data)
        if capacity is not None:
            self.dispatched[user] = capacity
        return user

    def apply_fields(self, data: dict, updates: dict) -> dict:
        return validate_record(self.form, updates, previous=data, system=True).data
