"""Dependencies shared by routes: the container, who is asking, the expected version."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit
from uuid import UUID

from fastapi import Depends, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from domain.errors import InvalidValue, NotFound
from services.access import (
    PROGRAMME_KINDS,
    Forbidden,
    Permission,
    Principal,
    Unauthenticated,
    sees_everything,
)
from services.container import Waymark

SESSION_COOKIE = "waymark_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_waymark(request: Request) -> Waymark:
    waymark: Waymark = request.app.state.waymark
    return waymark


async def the_waymark(request: Request) -> Waymark:
    """``get_waymark`` as a dependency: a coroutine, so that FastAPI calls it on the event
    loop instead of handing it to the thread pool (it does no I/O)."""
    return get_waymark(request)


def current_principal(request: Request) -> Principal | None:
    """Who is asking: a bearer token, or a browser session (with its CSRF token for writes).

    Worked out once a request (it reads the database), then kept in ``request.state``."""
    if getattr(request.state, "principal_known", False):
        cached: Principal | None = request.state.principal
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
    request.state.principal_known = True
    return principal


async def the_principal(request: Request) -> Principal | None:
    """``current_principal`` as a dependency: on the event loop once known (an access check
    that ran before it found it), else in the thread pool, since it reads the database."""
    if getattr(request.state, "principal_known", False):
        return current_principal(request)
    return await run_in_threadpool(current_principal, request)


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


def client_address(request: Request) -> str:
    """The client's address: the connection's, or a trusted proxy's X-Forwarded-For.

    Forwarded headers are believed only from the proxies named in
    ``WAYMARK_FORWARDED_ALLOW_IPS`` (``create_app`` installs the middleware that
    reads them); from anyone else, loopback included, they are ignored.
    """
    return request.client.host[:100] if request.client else "unknown"


def same_origin(request: Request) -> None:
    """Refuse a sign-in or sign-out form posted from another site.

    Browsers say where a form comes from (``Sec-Fetch-Site``, ``Origin``); a page of
    another site could otherwise sign a visitor in to an account of its choosing or
    out of theirs. Clients that send neither header are not browsers, and pass.
    """
    refusal = Forbidden("sign-in and sign-out forms are accepted only from Waymark's own pages")
    site = request.headers.get("sec-fetch-site")
    if site is not None and site.lower() not in ("same-origin", "none"):
        raise refusal
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = (request.headers.get("host") or "").lower()
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        raise refusal from None
    if parts.scheme not in ("http", "https") or not host or parts.netloc.lower() != host:
        raise refusal


SameOriginDep = Depends(same_origin)


def _csrf_ok(request: Request, expected: str) -> bool:
    given = request.headers.get(CSRF_HEADER) or getattr(request.state, "csrf_form_token", "")
    return bool(given) and hmac.compare_digest(given, expected)


PrincipalDep = Annotated[Principal | None, Depends(the_principal)]


async def current_actor(principal: PrincipalDep) -> str:
    """Who is acting: every write is attributed to a signed-in user.

    This and the other dependencies that do no I/O are coroutines: FastAPI runs a
    plain function in the thread pool, and those hand-offs were a fifth of a write's
    time (docs/PERFORMANCE.md)."""
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

    async def check(request: Request) -> None:
        # Who is asking and what they may do, in one hand-off to the thread pool (each
        # hand-off costs about as much as the check itself).
        await run_in_threadpool(checked, request)

    def checked(request: Request) -> None:
        principal = current_principal(request)
        if principal is None:
            raise Unauthenticated("sign in to use Waymark")
        params = request.path_params
        access = get_waymark(request).access
        try:
            scope = access.scope(
                programme_id=_uuid(params.get("programme_id")),
                cohort_id=_uuid(params.get("cohort_id")),
                project_id=_uuid(params.get("project_id")),
            )
        except NotFound:
            # Ids of projects can be worked out from a cohort and a council: one who may
            # not read what is asked for hears the same whether or not it exists, so the
            # answer says nothing about which councils are enrolled in a cohort.
            if sees_everything(principal):
                raise
            raise _refusal(principal, permission) from None
        if not access.allows(principal, permission, scope):
            raise _refusal(principal, permission)

    return Depends(check)


def allow_kind(kind: str, request: Request, principal: Principal | None) -> None:
    """The permission an entry kind that the programme records needs, beside
    ``RECORD_ENTRY`` (see ``services.access.PROGRAMME_KINDS``)."""
    permission = PROGRAMME_KINDS.get(kind)
    if permission is None:
        return
    if principal is None:
        raise Unauthenticated("sign in to use Waymark")
    access = get_waymark(request).access
    project_id = _uuid(request.path_params.get("project_id"))
    if not access.allows(principal, permission, access.scope(project_id=project_id)):
        raise _refusal(principal, permission)


def allow_correction(corrects: Any, request: Request, principal: Principal | None) -> None:
    """``allow_kind`` for the kind of the entry a correction corrects: only those who may
    record a kind correct it."""
    project_id = _uuid(request.path_params.get("project_id"))
    if project_id is None or not PROGRAMME_KINDS:
        return
    kind = get_waymark(request).records.corrected_kind(project_id, corrects)
    if kind is not None:
        allow_kind(kind, request, principal)


def allow_path_kind(request: Request, principal: PrincipalDep) -> None:
    """A route dependency: ``allow_kind`` for the path's ``kind``, or for the kind of the
    entry its ``entry_id`` names (a correction of it), if it has either."""
    kind = request.path_params.get("kind")
    if kind is not None:
        allow_kind(kind, request, principal)
    entry_id = request.path_params.get("entry_id")
    if entry_id is not None:
        allow_correction(entry_id, request, principal)


def _refusal(principal: Principal, permission: Permission) -> Forbidden:
    """The one refusal for a scoped permission, whether or not the thing asked about exists."""
    return Forbidden(f"{principal.username} may not {permission.value.replace('_', ' ')}")


async def expected_version(
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


async def idempotency_key(
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


WaymarkDep = Annotated[Waymark, Depends(the_waymark)]
ActorDep = Annotated[str, Depends(current_actor)]
ExpectedVersionDep = Annotated[int | None, Depends(expected_version)]
IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]


def as_utc(moment: datetime | None) -> datetime | None:
    """Instants without a zone are taken as UTC, as the API documents."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
