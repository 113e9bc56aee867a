"""Items of the records table for mail and notifications (imported into models.RECORDS_TABLE_MODELS)."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute

from .models import ByOwner, _Base


class OutboxItem(_Base):
    """A mail to send: pk 'T#<t>#OUT#<id>', sk 'OUT'. Written in the transaction of the workflow step
    that asks for it; the worker finds due items on by_owner (opk 'OUTBOX#<shard>', lsk
    '<due>#<tenant>#<id>'), claims one with a lease (conditional update), sends, then finishes it
    (status, opk/lsk removed) in the same transaction that records the result on the order."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    kind = UnicodeAttribute()  # "mail" (a workflow SendEmail) | "notification" (a member's e-mail copy)
    template = UnicodeAttribute()
    form = UnicodeAttribute(null=True)
    record_id = UnicodeAttribute(null=True)
    to_field = UnicodeAttribute(null=True)
    to_value = UnicodeAttribute(null=True)  # JSON of the ToField value (a lookup id or an address) / user id
    payload = UnicodeAttribute(null=True)  # JSON: survey_id, reminder, notification
    status = UnicodeAttribute(default="pending")  # pending | sent | skipped | failed
    attempts = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    due_at = UnicodeAttribute()
    lease_until = UnicodeAttribute(null=True)
    result = UnicodeAttribute(null=True)  # JSON: outcome, message id, reason
    opk = UnicodeAttribute(null=True)
    lsk = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL once finished
    due = ByOwner()


class NotificationItem(_Base):
    """One in-app notification: pk 'T#<t>#N#<user:u | role:r>', sk 'N#<ULID>' (newest last)."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    kind = UnicodeAttribute()  # task.assigned | approval.requested | sla.reminder | sla.breached | order.completed
    title = UnicodeAttribute()
    form = UnicodeAttribute(null=True)
    record_id = UnicodeAttribute(null=True)
    number = UnicodeAttribute(null=True)
    state = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    read = BooleanAttribute(default=False)
    expires_at = NumberAttribute(null=True)


class NotificationStateItem(_Base):
    """Per user: pk 'T#<t>#N#user:<u>', sk 'NS': unread count (ADD in the writing transaction), the
    newest role-feed notification already seen, and which kinds also go out by e-mail."""

    class Meta:
        table_name = "records"

    unread = NumberAttribute(default=0)
    roles_seen = UnicodeAttribute(null=True)
    email_kinds = ListAttribute(of=UnicodeAttribute, null=True)


class SurveyAnswerItem(_Base):
    """A survey answered: pk 'T#<t>#SVA#<survey id>', sk 'SVA'; put with attribute_not_exists in the
    answer's record transaction, so a survey link is used once."""

    class Meta:
        table_name = "records"

    record_id = UnicodeAttribute()
    answered_at = UnicodeAttribute()


class SuppressionItem(_Base):
    """An address that must not get tenant mail (bounce, complaint, opt-out): pk 'T#<t>#SUP#<sha256>', sk 'SUP'."""

    class Meta:
        table_name = "records"

    reason = UnicodeAttribute()
    at = UnicodeAttribute()


class RoleReadItem(_Base):
    """A member read one notification of a role feed: pk 'T#<t>#N#user:<u>', sk 'R#<ULID>'. Only
    needed for ids newer than the member's `roles_seen` mark; expires with the notification."""

    class Meta:
        table_name = "records"

    expires_at = NumberAttribute(null=True)


class RoleSubscriptionItem(_Base):
    """A member of a role who wants some kinds of that role's notifications by e-mail: pk
    'T#<t>#N#role:<r>' (next to the role feed), sk 'SUB#<user>'. Kept with the member's preferences
    and roles; the mail worker checks the membership again before sending."""

    class Meta:
        table_name = "records"

    user_id = UnicodeAttribute()
    kinds = ListAttribute(of=UnicodeAttribute, default=list)


MESSAGING_MODELS = (OutboxItem, NotificationItem, NotificationStateItem, SurveyAnswerItem, SuppressionItem, RoleReadItem,
                    RoleSubscriptionItem)
