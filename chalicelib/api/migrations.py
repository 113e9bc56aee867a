"""Record migration routes: move a form's records to newer definition versions (a paged job), read
its progress; and the one-minute schedule that goes on with running jobs."""
from chalice import Blueprint, Rate

from .common import LazyModule, body_of, configure_once, handler, route

service = LazyModule("chalicelib.services.migrations")

bp = Blueprint(__name__)


@route(bp, "/forms/{form}/migrations", methods=["POST"])
def start_migration(request, caller, form):
    """Move the form's records to newer form/workflow versions, or dry-run it: the impact (records per state, needed values, reports whose numbers it rebuilds)"""
    return service.start(caller, form, body_of(request))


@route(bp, "/forms/{form}/migrations/{job_id}", methods=["GET"])
def get_migration(request, caller, form, job_id):
    """A migration job's progress and findings"""
    return service.get(caller, form, job_id)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
@handler
def continue_migrations(event):
    configure_once()
    return service.continue_running()
