"""Survey routes (public: the signed token is the credential), the caller's notifications, the
scheduled mail worker (outbox → SES) and SES bounce/complaint feedback (SNS)."""
import os

from chalice import Blueprint, Rate

from ..errors import PayloadTooLarge
from .common import LazyModule, body_of, configure_once, handler, header, html_response, query_params, route

notes = LazyModule("chalicelib.services.notifications")  # loads on first use (cold start)
service = LazyModule("chalicelib.services.surveys")

bp = Blueprint(__name__)

# The deployed template replaces this placeholder with the stack's topic (.chalice/resources-<stage>.json
# points the MailFeedback SNS event at MailFeedbackTopic, which the SES configuration set publishes to).
MAIL_FEEDBACK_TOPIC_ARN = os.environ.get("MAIL_FEEDBACK_TOPIC_ARN", "arn:aws:sns:us-east-1:000000000000:aftersales-mail-feedback")


FORM_POST = "application/x-www-form-urlencoded"


def _wants_page(request) -> bool:
    """A browser following the e-mail link (Accept: text/html) or posting the page's form."""
    if request.method == "POST":
        return (header(request, "Content-Type") or "").split(";")[0].strip().lower() == FORM_POST
    return "text/html" in (header(request, "Accept") or "")


def _page(request, token: str, *, opt_out_page: bool = False):
    form_post = None
    if request.method == "POST":
        raw = request.raw_body or b""
        if len(raw) > 65536:
            raise PayloadTooLarge("the survey answer is too large")
        form_post = raw.decode("utf-8", errors="replace")
    status, html = service.web_page(token, method=request.method, form_post=form_post, opt_out_page=opt_out_page,
                                    lang=(request.query_params or {}).get("lang"),
                                    accept_language=header(request, "Accept-Language"))
    return html_response(status, html)


@route(bp, "/surveys/{token}", methods=["GET"], public=True)
def show_survey(request, caller, token):
    """The survey behind a signed link: a web page for a browser (Accept: text/html), else its form
    (JSON Schema) and the order number."""
    return _page(request, token) if _wants_page(request) else service.show(token)


@route(bp, "/surveys/{token}", methods=["POST"], public=True, content_types=("application/json", FORM_POST))
def answer_survey(request, caller, token):
    """Answer once: {"data": {rating, nps, problem_solved, comment}} (or the web page's form post);
    written onto the order."""
    return _page(request, token) if _wants_page(request) else service.answer(token, body_of(request))


@route(bp, "/surveys/{token}/opt-out", methods=["GET"], public=True)
def opt_out_question(request, caller, token):
    """The e-mail's opt-out link: a page asking to confirm (a GET changes nothing: mail scanners
    follow links); as JSON, the order number and whether the customer already opted out."""
    return _page(request, token, opt_out_page=True) if _wants_page(request) else service.opt_out_status(token)


@route(bp, "/surveys/{token}/opt-out", methods=["POST"], public=True, content_types=("application/json", FORM_POST))
def opt_out(request, caller, token):
    """No more survey e-mail for this customer (recorded on the customer record)."""
    return _page(request, token, opt_out_page=True) if _wants_page(request) else service.opt_out(token)


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
@handler
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
