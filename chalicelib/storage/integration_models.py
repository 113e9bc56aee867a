"""Items of the integration features, in the records table (one partition per item, tenant first):
webhook registrations, their delivery log, bulk import jobs. Configured on first use from the same
settings as every other model (see `configured()`), so models.py stays untouched."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..config import get_settings


class _Owner(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    opk = UnicodeAttribute(hash_key=True)
    lsk = UnicodeAttribute(range_key=True)


class _Item(Model):
    class Meta:
        abstract = True

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class WebhookItem(_Item):
    """pk 'T#<t>#WH#<id>', sk 'WH'; listed per tenant on by_owner (opk 'T#<t>#WEBHOOKS', lsk id)."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    webhook_id = UnicodeAttribute()
    url = UnicodeAttribute()
    secret = UnicodeAttribute()
    types = UnicodeAttribute()  # JSON list
    forms = UnicodeAttribute()  # JSON list (empty = every form)
    role = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    opk = UnicodeAttribute()
    lsk = UnicodeAttribute()
    by_tenant = _Owner()


class DeliveryItem(_Item):
    """One event for one webhook: pk = the webhook's pk, sk 'D#<event id>' (the delivery log, in
    event order). While a retry is due it carries opk 'WHRETRY#<shard>', lsk '<next_at>#...'."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    webhook_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    body = UnicodeAttribute()  # the exact JSON sent (already filtered for the webhook's role)
    status = UnicodeAttribute()  # pending | delivered | dead
    attempts = NumberAttribute(default=0)
    last_status = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    next_at = UnicodeAttribute(null=True)
    opk = UnicodeAttribute(null=True)
    lsk = UnicodeAttribute(null=True)
    due = _Owner()


class ImportJobItem(_Item):
    """pk 'T#<t>#IMP#<job id>', sk 'J'. While unfinished: opk 'IMPORTS#<shard>' (the worker's queue)."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    job_id = UnicodeAttribute()
    form = UnicodeAttribute()
    format = UnicodeAttribute()
    status = UnicodeAttribute()  # running | completed
    total = NumberAttribute()
    next_row = NumberAttribute(default=0)  # rows before this one are done: restart resumes here
    created = NumberAttribute(default=0)
    replayed = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    errors = UnicodeAttribute()  # JSON list of {row, path, message} (bounded)
    chunks = UnicodeAttribute()  # JSON list: index of the first valid row of each chunk item
    valid = NumberAttribute(default=0)
    content_sha = UnicodeAttribute()
    owner = UnicodeAttribute()  # JSON of the importing caller (tenant, user, roles, attributes)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    opk = UnicodeAttribute(null=True)
    lsk = UnicodeAttribute(null=True)
    pending = _Owner()


class ImportChunkItem(_Item):
    """Valid rows of a job, in order: pk = the job's pk, sk 'C#<chunk:05d>' (items stay far below 400 KB)."""

    class Meta:
        table_name = "records"

    rows = UnicodeAttribute()  # JSON list of [row number, data]


MODELS = (WebhookItem, DeliveryItem, ImportJobItem, ImportChunkItem)
_configured_for = None


def configured() -> None:
    """Point these models at the stage's records table (again whenever the settings were reloaded,
    as tests do between cases)."""
    global _configured_for
    settings = get_settings()
    if _configured_for is not settings:
        for model in MODELS:
            model.Meta.table_name = settings.records_table
            model.Meta.host = settings.ddb_endpoint
            model.Meta.region = settings.region
            model._connection = None
        _configured_for = settings
