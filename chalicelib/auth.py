"""Bearer-token identity. Local stage: HS256 tokens signed with a generated secret, verified here.
Deployed stages: API Gateway's Cognito authorizer verified the token; its claims arrive in the
request context. Either way the tenant and roles come from verified claims only."""
from __future__ import annotations

import os
import re
import time
from typing import Any

from .config import get_settings
from .errors import Unauthorized
from .services.caller import Caller

TENANT_CLAIM = "custom:tenant"
ROLES_CLAIM = "cognito:groups"
LEEWAY_SECONDS = 30
TENANT_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
USER_ID = re.compile(r"[A-Za-z0-9_.@:\-]{1,128}")


def route_authorizer():
    """The API Gateway authorizer for protected routes: Cognito on deployed stages, none locally
    (local tokens are verified in-process by caller_from_request)."""
    if os.environ.get("AUTH_MODE", "cognito") != "cognito":
        return None
    from chalice import CognitoUserPoolAuthorizer

    arn = os.environ.get("COGNITO_USER_POOL_ARN", "")
    if not arn:
        raise RuntimeError("COGNITO_USER_POOL_ARN must be set for AUTH_MODE=cognito (deployed stages)")
    return CognitoUserPoolAuthorizer("aftersales-users", provider_arns=[arn])


def issue_local_token(tenant: str, user_id: str, roles: list[str], name: str = "", ttl_seconds: int = 12 * 3600,
                      attributes: dict[str, str] | None = None) -> str:
    import jwt  # imported on use: deployed stages (Cognito) never need it at cold start

    settings = get_settings()
    now = int(time.time())
    claims = {"sub": user_id, TENANT_CLAIM: tenant, ROLES_CLAIM: roles, "name": name, "iss": settings.jwt_issuer,
              "aud": "aftersales", "iat": now, "exp": now + ttl_seconds,
              **{f"custom:{k}": str(v) for k, v in (attributes or {}).items()}}
    return jwt.encode(claims, settings.local_jwt_secret, algorithm="HS256")


def caller_from_request(headers: dict, context: dict) -> Caller:
    settings = get_settings()
    if settings.auth_mode == "cognito":
        claims = ((context or {}).get("authorizer") or {}).get("claims")
        if not claims:
            raise Unauthorized("missing verified identity", details=[{"path": "headers.Authorization", "message": "no authorizer claims"}])
    else:
        claims = _verify_local(headers)
    from .locales import negotiate
    return _caller(claims, negotiate(headers.get("accept-language") or headers.get("Accept-Language")))


def _verify_local(headers: dict) -> dict:
    header = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer token is required", details=[{"path": "headers.Authorization", "message": "expected 'Bearer <token>'"}])
    import jwt

    settings = get_settings()
    try:
        # algorithms pinned: 'none' and key-confusion tokens are refused by PyJWT.
        return jwt.decode(token, settings.local_jwt_secret, algorithms=["HS256"], audience="aftersales",
                          issuer=settings.jwt_issuer, leeway=LEEWAY_SECONDS,
                          options={"require": ["exp", "sub", "iss", "aud"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token has expired", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"token is invalid: {exc}", code="invalid_token") from exc


def _caller(claims: dict[str, Any], language: str = "en") -> Caller:
    tenant = claims.get(TENANT_CLAIM)
    user = claims.get("sub")
    roles = claims.get(ROLES_CLAIM) or []
    if isinstance(roles, str):  # API Gateway flattens lists into "a,b" or "[a b]"
        roles = [r for r in roles.strip("[]").replace(",", " ").split() if r]
    if not isinstance(tenant, str) or not TENANT_ID.fullmatch(tenant) or not isinstance(user, str) or not USER_ID.fullmatch(user):
        # '#' separates key parts: a tenant or user id must never be able to add one
        raise Unauthorized("token lacks valid tenant or subject claims", code="invalid_token")
    # Other custom:* claims (Cognito custom attributes, e.g. custom:region) become $user.attributes for row rules.
    attributes = tuple(sorted((k[7:], str(v)) for k, v in claims.items()
                              if k.startswith("custom:") and k != TENANT_CLAIM and isinstance(v, (str, int))))
    return Caller(tenant=tenant, user_id=user, roles=frozenset(str(r) for r in roles), name=str(claims.get("name", "")),
                  attributes=attributes, language=language)
