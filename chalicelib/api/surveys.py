"""Survey routes (public: the signed token is the credential), the caller's notifications, the
scheduled mail worker (outbox → SES) and SES bounce/complaint feedback (SNS)."""
import os

from chalice import Blueprint, Rate

from ..services import notifications as notes
from ..services import surveys as service
from .common import body_of, configure_once, query_params, route

bp = Blueprint(__name__)

# The deployed template replaces this placeholder with the stack's topic (.chalice/resources-<stage>.json
# points the MailFeedback SNS event at MailFeedbackTopic, which the SES configuration set publishes to).
MAIL_FEEDBACK_TOPIC_ARN = os.environ.get("MAIL_FEEDBACK_TOPIC_ARN", "arn:aws:sns:us-east-1:000000000000:aftersales-mail-feedback")


@route(bp, "/surveys/{token}", methods=["GET"], public=True)
def show_survey(request, caller, token):
    """The survey behind a signed link: its form (JSON Schema) and the order number."""
    return service.show(token)


@route(bp, "/surveys/{token}", methods=["POST"], public=True)
def answer_survey(request, caller, token):
    """Answer once: {"data": {rating, nps, problem_solved, comment}}; written onto the order."""
    return service.answer(token, body_of(request))


@route(bp, "/surveys/{token}/opt-out", methods=["POST"], public=True)
def opt_out(request, caller, token):
    """No more survey e-mail for this customer (recorded on the customer record)."""
    return service.opt_out(token)


@route(bp, "/notifications", methods=["GET"])
def list_notifications(request, caller):
    """The caller's notifications (own and their roles'), newest first, with the unread count."""
    return notes.list_notifications(caller, query_params(request))


@route(bp, "/notifications/read", methods=["POST"])
def mark_read(request, caller):
    """Mark notifications read: {"ids": [...]} or {"all": true}."""
    return notes.mark_read(caller, body_of(request))


@route(bp, "/notifications/preferences", methods=["GET"])
def get_preferences(request, caller):
    """Which notification kinds the caller also gets by e-mail."""
    return notes.get_preferences(caller)


@route(bp, "/notifications/preferences", methods=["PUT"])
def set_preferences(request, caller):
    """{"email": ["task.assigned", "sla.breached", ...]}."""
    return notes.set_preferences(caller, body_of(request))


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def send_mail(event):
    configure_once()
    from ..services.mail import deliver_due
    return deliver_due()


@bp.on_sns_message(topic=MAIL_FEEDBACK_TOPIC_ARN)
def mail_feedback(event):
    """SES bounce and complaint events → suppressed addresses + "bounced"/"complained" on the order (once)."""
    configure_once()
    from ..services.mail import handle_feedback
    return handle_feedback(event.to_dict().get("Records", []))
