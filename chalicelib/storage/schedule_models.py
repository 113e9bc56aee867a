"""The schedules' state items, in the records table (part of models.RECORDS_TABLE_MODELS)."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from .models import ByOwner, _Base


class ScheduleStateItem(_Base):
    """One schedule's progress: pk 'T#<t>#SCH#<name>', sk 'STATE'. `body` is the plan state (JSON:
    done_through, queue, cursor, deferred, overrides, log, failures); every change is conditioned on
    `rev`. While something is due or will be, opk 'SCHEDULES#<shard>', lsk '<next_at>#<tenant>#<name>'
    (the scheduled handler's Query, never a Scan); a paused or finished schedule leaves the index."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    name = UnicodeAttribute()
    body = UnicodeAttribute()
    rev = NumberAttribute()
    made = NumberAttribute(default=0)  # records made, all occurrences
    next_at = UnicodeAttribute(null=True)
    last_run_at = UnicodeAttribute(null=True)
    opk = UnicodeAttribute(null=True)
    lsk = UnicodeAttribute(null=True)
    due = ByOwner()


SCHEDULE_MODELS = (ScheduleStateItem,)
