"""Tenant members (admin): the users that user fields may name."""
from chalice import Blueprint

from .common import body_of, route

bp = Blueprint(__name__)


@route(bp, "/members/{user_id}", methods=["PUT"])
def put_member(request, caller, user_id):
    from ..services import members as service  # admin-only path: keep it out of the cold start

    return service.put(caller, user_id, body_of(request))


@route(bp, "/members", methods=["GET"])
def list_members(request, caller):
    from ..services import members as service

    return service.list_all(caller)


@route(bp, "/members/{user_id}", methods=["GET"])
def get_member(request, caller, user_id):
    from ..services import members as service

    return service.get(caller, user_id)


@route(bp, "/me", methods=["GET"])
def me(request, caller):
    return {"tenant": caller.tenant, "user_id": caller.user_id, "roles": sorted(caller.roles), "name": caller.name}


@route(bp, "/navigation", methods=["GET"])
def navigation(request, caller):
    from ..services.navigation import navigation as service  # the console's menus

    return service(caller)
