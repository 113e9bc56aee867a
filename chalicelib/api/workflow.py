"""Workflow routes: actions on a record (list, take, dry-run), history, incidents (a failed timer:
list, retry, dismiss), events another system delivers to waiting records, the task inbox, diagram data,
the designer's dry run of an action on a record (on a draft, a stored or the published version); and
the scheduled Lambda that fires due timers."""
from chalice import Blueprint, Rate

from ..errors import parse_count
from .common import LazyModule, body_of, configure_once, handler, flag, query_params, route

service = LazyModule("chalicelib.services.workflow")  # the workflow engine loads on first use (cold start)
dry_runs = LazyModule("chalicelib.services.workflow_dry_run")

bp = Blueprint(__name__)


@route(bp, "/forms/{form}/records/{record_id}/actions", methods=["GET"])
def list_actions(request, caller, form, record_id):
    return service.list_actions(caller, form, record_id)


@route(bp, "/forms/{form}/records/{record_id}/actions/{action}", methods=["POST"])
def take_action(request, caller, form, record_id, action):
    dry_run = flag(query_params(request), "dry_run", False)
    return service.act(caller, form, record_id, action, body_of(request), dry_run=dry_run)


@route(bp, "/forms/{form}/records/{record_id}/history", methods=["GET"])
def history(request, caller, form, record_id):
    return service.history(caller, form, record_id, query_params(request).get("after"))


@route(bp, "/tasks", methods=["GET"])
def inbox(request, caller):
    return service.inbox(caller, query_params(request))


@route(bp, "/workflows/{name}/diagram", methods=["GET"])
def diagram(request, caller, name):
    version = query_params(request).get("version")
    return service.diagram(caller, name, parse_count(version, "query.version", minimum=1) if version is not None else None)


@route(bp, "/workflows/{name}/dry-run", methods=["POST"])
def workflow_dry_run(request, caller, name):
    """What an action on a record would do on a workflow draft (or a stored version), nothing written"""
    return dry_runs.dry_run(caller, name, body_of(request))


@route(bp, "/forms/{form}/records/{record_id}/incidents", methods=["GET"])
def incidents(request, caller, form, record_id):
    return service.incidents(caller, form, record_id)


@route(bp, "/forms/{form}/records/{record_id}/incidents/{name}/retry", methods=["POST"])
def retry_incident(request, caller, form, record_id, name):
    return service.retry_incident(caller, form, record_id, name)


@route(bp, "/forms/{form}/records/{record_id}/incidents/{name}/dismiss", methods=["POST"])
def dismiss_incident(request, caller, form, record_id, name):
    return service.dismiss_incident(caller, form, record_id, name, body_of(request))


@route(bp, "/forms/{form}/events/{event}", methods=["POST"])
def deliver_event(request, caller, form, event):
    return service.receive_event_call(caller, form, event, body_of(request))


@bp.schedule(Rate(1, unit=Rate.MINUTES))
@handler
def fire_timers(event):
    configure_once()
    return service.fire_due_timers()
