"""Schedule routes (recurring work): list, one schedule with its upcoming occurrences and log, an
admin's skip / postpone / restore of an occurrence, run now; and the one-minute scheduled handler
that makes the due occurrences' records."""
from chalice import Blueprint, Rate

from ..errors import parse_count
from .common import LazyModule, body_of, configure_once, handler, query_params, route

service = LazyModule("chalicelib.services.schedules")

bp = Blueprint(__name__)


@route(bp, "/schedules", methods=["GET"])
def list_schedules(request, caller):
    return service.list_schedules(caller)


@route(bp, "/schedules/{name}", methods=["GET"])
def one_schedule(request, caller, name):
    count = query_params(request).get("count")
    return service.view(caller, name, min(parse_count(count, "query.count", minimum=1), 100) if count is not None else 10)


@route(bp, "/schedules/{name}/occurrences/{occurrence}", methods=["POST"])
def decide(request, caller, name, occurrence):
    from urllib.parse import unquote
    # "2027-01-01T08:00": a client may send the colon percent-encoded, and not every server decodes it
    return service.decide(caller, name, unquote(occurrence), body_of(request))


@route(bp, "/schedules/{name}/run", methods=["POST"])
def run_now(request, caller, name):
    return service.run_now(caller, name)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
@handler
def run_schedules(event):
    configure_once()
    return service.run_due()
