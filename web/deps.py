"""Dependencies shared by routes: the container, who is asking, the expected version."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Header, Request, Response

from domain.errors import InvalidValue
from services.access import Forbidden, Permission, Principal, Unauthenticated
from services.container import Waymark

SESSION_COOKIE = "waymark_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_waymark(request: Request) -> Waymark:
    waymark: Waymark = request.app.state.waymark
    return waymark


def current_principal(request: Request) -> Principal | None:
    """Who is asking: a bearer token, or a browser session (with its CSRF token for writes)."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    waymark = get_waymark(request)
    principal = None
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("use 'Authorization: Bearer <token>'")
        principal = waymark.principal_for_token(token.strip())
        if principal is None:
            raise Unauthenticated("the token is unknown, expired or revoked")
    elif session_id := request.cookies.get(SESSION_COOKIE):
        session = waymark.credentials.session(session_id)
        if session is not None:
            if request.method not in SAFE_METHODS and not _csrf_ok(request, session.csrf_token):
                raise Forbidden("the form or request is missing its CSRF token")
            principal = waymark.principal(session.username)
    request.state.principal = principal
    return principal


def start_browser_session(response: Response, waymark: Waymark, session_id: str) -> str:
    """Set the session cookie (secure, HTTP-only, same-site); returns its CSRF token."""
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(waymark.settings.session_hours * 3600),
        httponly=True,
        secure=waymark.settings.cookie_secure,
        samesite="strict",
        path="/",
    )
    return waymark.credentials.csrf_token(session_id)


def end_browser_session(request: Request, response: Response, waymark: Waymark) -> None:
    if session_id := request.cookies.get(SESSION_COOKIE):
        waymark.credentials.end_session(session_id)
    response.delete_cookie(SESSION_COOKIE, path="/")


def session_csrf_token(request: Request) -> str:
    """The CSRF token that forms carry for this browser session ("" without one)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return ""
    session = get_waymark(request).credentials.session(session_id)
    return session.csrf_token if session is not None else ""


def _csrf_ok(request: Request, expected: str) -> bool:
    given = request.headers.get(CSRF_HEADER) or getattr(request.state, "csrf_form_token", "")
    return bool(given) and hmac.compare_digest(given, expected)


PrincipalDep = Annotated[Principal | None, Depends(current_principal)]


def current_actor(principal: PrincipalDep) -> str:
    """Who is acting: every write is attributed to a signed-in user."""
    if principal is None:
        raise Unauthenticated("sign in to use Waymark")
    return principal.username


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


def allow(permission: Permission) -> Any:
    """A route dependency: the signed-in user must hold ``permission`` for the path's scope."""

    def check(request: Request, principal: PrincipalDep) -> None:
        if principal is None:
            raise Unauthenticated("sign in to use Waymark")
        params = request.path_params
        scope = get_waymark(request).access.scope(
            programme_id=_uuid(params.get("programme_id")),
            cohort_id=_uuid(params.get("cohort_id")),
            project_id=_uuid(params.get("project_id")),
        )
        get_waymark(request).access.require(principal, permission, scope)

    return Depends(check)


def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            description="The version the change is based on (its ETag).",
            pattern=r'^(\*|(W/)?"?[0-9]{1,18}"?)$',
        ),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    if not tag.isdigit():
        raise InvalidValue("If-Match", "must be a version number as given in the ETag")
    return int(tag)


def idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=200,
            description="Send the same key when retrying: the first result comes back "
            "and nothing is recorded twice.",
        ),
    ] = None,
) -> str | None:
    return idempotency_key


def etag(version: int) -> str:
    return f'"{version}"'


WaymarkDep = Annotated[Waymark, Depends(get_waymark)]
ActorDep = Annotated[str, Depends(current_actor)]
ExpectedVersionDep = Annotated[int | None, Depends(expected_version)]
IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]


def as_utc(moment: datetime | None) -> datetime | None:
    """Instants without a zone are taken as UTC, as the API documents."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
