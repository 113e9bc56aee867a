"""Reads the inbound integration needs: which record holds a unique value (the external id)."""
from __future__ import annotations

from . import keys
from .models import UniqueItem


def unique_owner(tenant: str, form: str, field: str, value: str) -> str | None:
    """The id of the record that claimed `value` in the form's unique field, or None (consistent read)."""
    try:
        return UniqueItem.get(keys.unique_pk(tenant, form, field, value), "U", consistent_read=True).record_id
    except UniqueItem.DoesNotExist:
        return None
