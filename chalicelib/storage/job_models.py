"""Record migration jobs, in the records table (part of models.RECORDS_TABLE_MODELS)."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from .models import ByOwner, _Base


class MigrationJobItem(_Base):
    """One migration of a form's records to newer definition versions: pk 'T#<t>#MIG#<job id>', sk 'J'.
    `body` (JSON): what it moves (versions, filter, states, state map), where the list stands, counts,
    the records that need values. Progress is conditioned on `rev`. While running it is listed on
    by_owner (opk 'MIGRATIONS#<shard>', lsk '<created_at>#<tenant>#<job id>') for the schedule to go on."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    job_id = UnicodeAttribute()
    form = UnicodeAttribute()
    status = UnicodeAttribute()  # running | done
    body = UnicodeAttribute()
    rev = NumberAttribute()
    created_at = UnicodeAttribute()
    opk = UnicodeAttribute(null=True)
    lsk = UnicodeAttribute(null=True)
    running = ByOwner()


JOB_MODELS = (MigrationJobItem,)
