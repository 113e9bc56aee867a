"""Public survey use cases (no login; the signed token is the credential): show the survey, answer it
once, opt out — as JSON for a front end, or as web pages for the customer's browser (`web_page`).
A forged, altered or expired token is rejected before any database read."""
from __future__ import annotations

import time
from typing import Any

from ..errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from ..forms.engine import record_variables, validate_record
from ..storage import outbox
from . import definitions, system_writes


class TokenRejected(Forbidden):
    code = "survey_token_invalid"


from ..config import UNSET_SURVEY_SECRET as UNSET_SECRET  # noqa: E402


def survey_secret() -> str:
    """The HMAC key of survey links; a deployed stage must set SURVEY_SECRET (no guessable default)."""
    from ..config import get_settings
    from ..errors import ServiceUnavailable
    secret = get_settings().survey_secret
    if secret == UNSET_SECRET or len(secret) < 32:
        raise ServiceUnavailable("survey links are not configured on this stage (SURVEY_SECRET)", code="survey_not_configured")
    return secret


def _claims(token: str) -> dict:
    from ..surveys import TokenError, verify_token
    try:
        return verify_token(survey_secret(), token, int(time.time()))
    except TokenError as exc:
        raise TokenRejected(exc.message, code=exc.code, details=[{"path": "token", "message": exc.message}]) from exc


def _survey(claims: dict):
    try:
        survey = definitions.published(claims["tenant"], "survey", claims["form"])[1]
        version, survey_form = definitions.published(claims["tenant"], "form", survey.survey_form)

    except NotFound as exc:
        raise NotFound("this survey is no longer available", details=[{"path": "token", "message": "no survey"}]) from exc
    return survey, survey_form, version


def _open_record(claims: dict):
    """The surveyed record, while its survey is still unanswered (409 once answered)."""
    if outbox.answered(claims["tenant"], claims["survey_id"]):
        raise Conflict("this survey was already answered; thank you", code="survey_already_answered",
                       details=[{"path": "token", "message": "already used"}])
    return system_writes.load(claims["tenant"], claims["record_id"], claims["form"])


def show(token: str) -> dict:
    from ..forms.schema import form_json_schema
    claims = _claims(token)
    survey, survey_form, version = _survey(claims)
    rec = _open_record(claims)
    return {"survey": survey.title or survey_form.title, "number": rec.number, "expires_at": claims["expires_at"],
            "form": survey_form.name, "schema": form_json_schema(survey_form, version)}


def answer(token: str, body: Any) -> dict:
    claims = _claims(token)
    survey, survey_form, _version = _survey(claims)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict) or set(body) - {"data"}:
        raise ValidationFailed("send {\"data\": {...answers}}", details=[{"path": "data", "message": "expected object"}])
    answers = validate_record(survey_form, body["data"]).data
    tenant, survey_id = claims["tenant"], claims["survey_id"]
    if outbox.answered(tenant, survey_id):  # a quick, clear answer; the conditional put below decides
        raise Conflict("this survey was already answered; thank you", code="survey_already_answered",
                       details=[{"path": "token", "message": "already used"}])

    def build(rec, form, now):
        patch = {dest: answers.get(src) for src, dest in survey.answers.items() if src in answers}
        if survey.answered_at_field:
            patch[survey.answered_at_field] = now
        if survey.status_field:
            patch[survey.status_field] = "answered"
        return patch, {"kind": "survey", "comment": "satisfaction survey answered"}, [
            outbox.answer_put(tenant, survey_id, rec.id, now)]

    step = _workflow_step(tenant, claims, survey, answers)
    if step is not None:
        return step
    system_writes.write(tenant, claims["record_id"], build, actor="customer", form_name=claims["form"])
    return {"answered": True}


def _workflow_step(tenant: str, claims: dict, survey, answers: dict) -> dict | None:
    """When the record waits for the answer (survey.await_state), the answer takes survey.action in the
    same transaction as the data and the single-use marker. None = no workflow step to take."""
    from ..storage import records as record_store
    from ..workflow import Instance, take_action
    from . import workflow
    from .clock import utc_now
    from .workflow_context import ServiceContext
    if not survey.await_state or not survey.action:
        return None
    for _attempt in range(system_writes.MAX_ATTEMPTS):
        rec = system_writes.load(tenant, claims["record_id"], claims["form"])
        inst = Instance.from_dict(rec.workflow) if rec.workflow else None
        if inst is None or inst.status != "running" or inst.state != survey.await_state:
            return None
        form = definitions.version_of(tenant, "form", rec.form, rec.form_version)
        wf = definitions.version_of(tenant, "workflow", inst.workflow, inst.version)
        now = utc_now()
        patch = {dest: answers.get(src) for src, dest in survey.answers.items() if src in answers}
        if survey.answered_at_field:
            patch[survey.answered_at_field] = now
        if survey.status_field:
            patch[survey.status_field] = "answered"
        patch = {k: v for k, v in patch.items() if form.field(k) is not None}
        data = validate_record(form, patch, previous=rec.data, system=True, record=rec).data
        try:
            outcome = take_action(wf, inst, data, survey.action, user_id="customer", roles=(), is_admin=True, now=now,
                                  ctx=ServiceContext(tenant, form), variables={**workflow.actor_variables(None, now), **record_variables(rec)})
        except AppError as exc:  # the action is not available (e.g. its condition): record the answer only
            import logging
            logging.getLogger("aftersales.surveys").warning(
                "survey answer took no workflow step", extra={"tenant": tenant, "record_id": rec.id,
                                                              "action": survey.action, "code": exc.code, "reason": exc.message})
            return None
        new, changed = workflow.next_record(rec, form, outcome, now, "customer")
        entry = workflow.history_entry("action", "customer", action=survey.action, from_state=inst.state, outcome=outcome,
                                       changed=changed, comment="satisfaction survey answered")
        plan = workflow.plan_for(tenant, form, rec, new, entry, creates=outcome.creates)
        plan.extra.append(outbox.answer_put(tenant, claims["survey_id"], rec.id, now))
        try:
            record_store.update_record(new, rec.version, plan)
        except Conflict as exc:
            if exc.code == "version_conflict":
                continue
            raise
        return {"answered": True, "state": outcome.instance.state,
                "follow_up": outcome.instance.state != survey.await_state and "FollowUp" in outcome.path}
    raise Conflict("the record keeps changing; retry", code="write_contention")


def _customer_of(claims: dict, survey) -> tuple[Any, str | None, str | None]:
    """(the surveyed record, the customer's record id, the customer's opt-out field)."""
    rec = system_writes.load(claims["tenant"], claims["record_id"], claims["form"])
    customer_id = rec.data.get(survey.recipient.lookup_field)
    field = survey.recipient.opt_out_field
    if not customer_id or not field:
        raise NotFound("there is nothing to opt out of", details=[{"path": "token", "message": "no customer"}])
    return rec, customer_id, field


def opt_out_status(token: str) -> dict:
    """What the opt-out link would do: the order number and whether the customer already opted out."""
    from ..storage.records import get_record
    claims = _claims(token)
    survey, _survey_form, _version = _survey(claims)
    rec, customer_id, field = _customer_of(claims, survey)
    customer = get_record(claims["tenant"], customer_id)
    return {"number": rec.number, "opted_out": bool(customer and not customer.deleted and customer.data.get(field) is True)}


def opt_out(token: str) -> dict:
    """Recorded on the customer (the survey's opt-out field): no further survey mail to them."""
    claims = _claims(token)
    survey, _survey_form, _version = _survey(claims)
    rec, customer_id, field = _customer_of(claims, survey)

    def build(customer, form, now):
        if customer.data.get(field) is True:
            return None
        return {field: True}, {"kind": "update", "comment": f"opted out of surveys (link of {rec.number or rec.id})"}, []

    written = system_writes.write(claims["tenant"], customer_id, build, actor="customer")
    return {"opted_out": True, "changed": written["written"]}


def _page_words(survey, lang: str | None, accept_language: str | None) -> dict:
    from ..surveys import page
    locales = tuple(survey.page) if survey is not None else ()
    locale = page.choose_locale(lang, accept_language, locales)
    overrides = survey.page[locale].model_dump(exclude_none=True) if survey is not None and locale in survey.page else None
    return page.words_for(locale, overrides)


def web_page(token: str, *, method: str, form_post: str | None = None, opt_out_page: bool = False,
             lang: str | None = None, accept_language: str | None = None) -> tuple[int, str]:
    """The survey for a browser (the e-mail's links): GET shows the form (or the opt-out question),
    a form post answers it (or opts out); every refusal is a short page in the customer's language
    with the status the JSON route would give. → (HTTP status, HTML)."""
    from ..surveys import page
    survey = None
    try:
        claims = _claims(token)
        survey, survey_form, _version = _survey(claims)
        words = _page_words(survey, lang, accept_language)
        if opt_out_page:
            if method == "POST":
                opt_out(token)
            return 200, page.opt_out_page(words, done=method == "POST")
        title = survey.title or survey_form.title
        if method == "GET":
            return 200, page.survey_form_page(survey_form, words, title=title, number=_open_record(claims).number)
        answers = page.answers_from_post(survey_form, form_post or "")
        try:
            answer(token, {"data": answers})
        except ValidationFailed as exc:
            number = system_writes.load(claims["tenant"], claims["record_id"], claims["form"]).number
            return exc.status, page.survey_form_page(survey_form, words, title=title, number=number, values=answers,
                                                     problems=exc.details)
        return 200, page.message_page(words, "thanks_title", words["thanks"])
    except TokenRejected as exc:
        words = _page_words(None, lang, accept_language)
        return exc.status, page.message_page(words, "invalid_title", words["expired" if exc.code == "survey_token_expired" else "invalid"])
    except AppError as exc:
        words = _page_words(survey, lang, accept_language)
        if exc.code == "survey_already_answered":
            return exc.status, page.message_page(words, "answered_title", words["answered"])
        if isinstance(exc, NotFound):
            return exc.status, page.message_page(words, "invalid_title", words["gone"])
        return exc.status, page.message_page(words, "error_title", words["error"])
