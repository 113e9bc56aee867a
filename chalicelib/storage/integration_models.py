"""Items of the integration features, in the records table (one partition per item, tenant first):
webhook registrations, their delivery log, bulk import jobs (part of models.RECORDS_TABLE_MODELS, so
configured with every other model)."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from .models import ByOwner, _Base


class WebhookItem(_Base):
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
    by_tenant = ByOwner()


class DeliveryItem(_Base):
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
    due = ByOwner()


class ImportJobItem(_Base):
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
    pending = ByOwner()


class ImportChunkItem(_Base):
    """Valid rows of a job, in order: pk = the job's pk, sk 'C#<chunk:05d>' (items stay far below 400 KB)."""

    class Meta:
        table_name = "records"

    rows = UnicodeAttribute()  # JSON list of [row number, data]


INTEGRATION_MODELS = (WebhookItem, DeliveryItem, ImportJobItem, ImportChunkItem)
