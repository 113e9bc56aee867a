"""Side effects of a workflow step, as extra ops of the step's own transaction: an outbox item per
SendEmail (delivered by services.mail), and in-app notifications (task assigned, approval requested,
SLA reminder/breach, order completed) with the unread counters and, where a member asked for it,
an e-mail copy. Nothing here writes by itself: a step that fails leaves no mail and no notification."""
from __future__ import annotations

import logging

from ..ids import new_id
from ..storage import notifications as feed
from ..storage import outbox

MAX_TARGETS_PER_STEP = 30  # a transaction holds 100 items; the record step needs the rest
MAX_ROLE_MAILS_PER_STEP = 10  # e-mail copies of role notifications (members who asked for them) per step
log = logging.getLogger("aftersales.effects")
KINDS = ("task.assigned", "approval.requested", "sla.reminder", "sla.breached", "order.completed")
NOT_USERS = {"workflow", "system", "survey", "customer"}


def step_ops(tenant: str, old, new, entry: dict) -> list[tuple]:
    """`old` is None for a create; `new` is the StoredRecord being written; `entry` its history entry."""
    return step_effects(tenant, old, new, entry)[0]


def step_effects(tenant: str, old, new, entry: dict) -> tuple[list[tuple], list[dict]]:
    """(ops, notifications made): the list says, for the step's history entry, which notification
    went to whom — id, kind, recipient (`user:…`/`role:…`) and, for a deadline, its name; never a
    title or any record value."""
    now = new.updated_at
    ops: list[tuple] = []
    for mail in entry.get("emails") or []:
        ops.append(outbox.outbox_put(tenant, new_id(), kind="mail", template=mail.get("template") or "", due_at=now,
                                     created_at=now, form=new.form, record_id=new.id, to_value=mail.get("to")))
    wanted = _notifications(old, new, entry)
    made: list[dict] = []
    if wanted:
        ops += _notification_ops(tenant, new, wanted[:MAX_TARGETS_PER_STEP], now, made)
    deadlines = {n.get("kind"): n.get("deadline") for n in entry.get("notifications") or [] if n.get("deadline")}
    for note in made:
        if note["kind"] in deadlines:
            note["deadline"] = deadlines[note["kind"]]
    return ops, made


def planned_notifications(old, new, entry: dict) -> list[dict]:
    """The in-app notifications a step would send, as a dry run tells them: kind, recipient
    (`user:…`/`role:…`), title, and at most MAX_TARGETS_PER_STEP of them, as the step sends."""
    return [{"kind": kind, "to": target, "title": title}
            for target, kind, title in _notifications(old, new, entry)[:MAX_TARGETS_PER_STEP]]


def _notifications(old, new, entry: dict) -> list[tuple[str, str, str]]:
    """(target, kind, title) without repeats."""
    number = new.number or new.id
    state = (new.workflow or {}).get("state")
    out: list[tuple[str, str, str]] = []
    old_tasks = {t["assignee"]: t for t in ((old.workflow if old else None) or {}).get("tasks", [])}
    for task in (new.workflow or {}).get("tasks", []):
        before = old_tasks.get(task["assignee"])
        if before is None or before.get("state") != task["state"] or before.get("created_at") != task["created_at"]:
            kind = "approval.requested" if task["kind"] == "approval" else "task.assigned"
            label = "Approval requested" if kind == "approval.requested" else "New task"
            out.append((task["assignee"], kind, f"{label}: {number} ({task['state']})"))
    for note in entry.get("notifications") or []:
        kind = note.get("kind")
        if kind not in KINDS:
            continue
        text = "is near" if kind == "sla.reminder" else "was missed"
        for target in note.get("to") or []:
            out.append((target, kind, f"Deadline '{note.get('deadline')}' {text}: {number} ({state})"))
    if any(e.get("custom") and str(e.get("type", "")).endswith(".completed") for e in entry.get("events") or []):
        if new.created_by and new.created_by not in NOT_USERS:
            out.append((f"user:{new.created_by}", "order.completed", f"Completed: {number}"))
    seen, unique = set(), []
    for target, kind, title in out:
        if (target, kind) not in seen and (target.startswith("user:") or target.startswith("role:")):
            seen.add((target, kind))
            unique.append((target, kind, title))
    return unique


def _notification_ops(tenant: str, new, wanted: list[tuple[str, str, str]], now: str,
                      made: list[dict] | None = None) -> list[tuple]:
    ops: list[tuple] = []
    per_user: dict[str, int] = {}
    mails: list[tuple[str, dict]] = []
    users = [t[5:] for t, _k, _title in wanted if t.startswith("user:")]
    preferences = feed.email_kinds_of(tenant, users) if users else {}
    subscribers = {t[5:]: feed.role_subscribers(tenant, t[5:]) for t, _k, _title in wanted if t.startswith("role:")}
    state = (new.workflow or {}).get("state")
    mailed: set[tuple[str, str]] = set()  # (user, kind): one copy even when a user and their role are both told
    role_mails = 0
    for target, kind, title in wanted:
        nid = new_id()
        ops.append(feed.notification_put(tenant, target, nid, kind=kind, title=title, created_at=now, form=new.form,
                                         record_id=new.id, number=new.number, state=state))
        if made is not None:
            made.append({"id": nid, "kind": kind, "to": target})
        note = {"id": nid, "kind": kind, "title": title, "form": new.form, "record_id": new.id,
                "number": new.number or new.id, "state": state}
        if target.startswith("user:"):
            user = target[5:]
            per_user[user] = per_user.get(user, 0) + 1
            if kind in preferences.get(user, []) and (user, kind) not in mailed:
                mailed.add((user, kind))
                mails.append((user, note))
            continue
        role = target[5:]
        for user, kinds in sorted(subscribers.get(role, {}).items()):
            if kind not in kinds or (user, kind) in mailed:
                continue
            if role_mails >= MAX_ROLE_MAILS_PER_STEP:
                log.warning("%s %s: more than %d e-mail copies of role notifications in one step; %s not mailed",
                            new.form, new.id, MAX_ROLE_MAILS_PER_STEP, user)
                continue
            role_mails += 1
            mailed.add((user, kind))
            mails.append((user, {**note, "audience": target}))
    ops += [feed.unread_add_op(tenant, user, count) for user, count in per_user.items()]
    for user, note in mails:
        ops.append(outbox.outbox_put(tenant, new_id(), kind="notification", template="notification", due_at=now,
                                     created_at=now, form=new.form, record_id=new.id, to_value=user,
                                     payload={"notification": note}))
    return ops
