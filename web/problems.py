"""Every error as ``application/problem+json`` (RFC 9457), naming the field at fault."""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.persistence import InterfaceError as PersistenceInterfaceError
from eventsourcing.persistence import OperationalError as PersistenceOperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from domain.errors import Conflict, DomainError, InvalidValue, NotFound, StaleVersion
from services.access import Forbidden, Unauthenticated
from services.giving360 import NoGrants
from services.queries import DatabaseUnavailable
from services.sign_in import TooManyAttempts
from services.waiting import TooManyWaiting

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("waymark.errors")
LOCATIONS = ("body", "query", "path", "header", "cookie")


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field_of(loc: tuple[Any, ...], tags: frozenset[str]) -> str:
    parts = [str(p) for p in loc]
    if len(parts) == 2 and parts[0] == "header":
        return "-".join(word.capitalize() for word in parts[1].split("-"))
    if parts and parts[0] in LOCATIONS:
        parts = parts[1:]
    if parts and parts[0] in tags:  # the discriminated union's branch, e.g. capacity_decided
        parts = parts[1:]
    parts = [p for p in parts if not p.startswith("function-")]
    return ".".join(parts)


def _validation_errors(error: RequestValidationError, tags: frozenset[str]) -> list[dict[str, str]]:
    found = []
    for item in error.errors():
        field = _field_of(tuple(item.get("loc", ())), tags)
        kind = item.get("type", "")
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            field = ".".join([*field.split(".")[:-1], "kind"]) if field else "kind"
        if kind == "json_invalid":
            field = ""
        found.append({"field": field, "message": str(item.get("msg", "is not valid"))})
    return found


def install(app: FastAPI, union_tags: frozenset[str] = frozenset()) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(error, union_tags)
        first = errors[0] if errors else {"field": "", "message": "is not valid"}
        if any(e.get("type") == "json_invalid" for e in error.errors()):
            return problem(
                400, "malformed-json", "Malformed JSON", "The request body is not valid JSON."
            )
        detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return problem(
            422, "invalid", "Invalid request", detail, field=first["field"], errors=errors
        )

    @app.exception_handler(InvalidValue)
    async def _invalid_value(request: Request, error: InvalidValue) -> JSONResponse:
        return problem(
            422,
            "invalid",
            "Invalid request",
            f"{error.field}: {error.message}",
            field=error.field,
            errors=[{"field": error.field, "message": error.message}],
        )

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, error: NotFound) -> JSONResponse:
        return problem(404, "not-found", f"No such {error.what}", str(error))

    @app.exception_handler(StaleVersion)
    async def _stale(request: Request, error: StaleVersion) -> JSONResponse:
        return problem(
            412,
            "stale-version",
            "The record has changed",
            f"{error}: reload it and try again",
            current_version=error.actual,
        )

    @app.exception_handler(NoGrants)
    async def _no_grants(request: Request, error: NoGrants) -> JSONResponse:
        return problem(409, "no-grants", "No grants to publish", str(error))

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, error: Conflict) -> JSONResponse:
        return problem(409, "conflict", "Refused by the record's rules", str(error))

    @app.exception_handler(Unauthenticated)
    async def _unauthenticated(request: Request, error: Unauthenticated) -> JSONResponse:
        response = problem(401, "unauthenticated", "Sign in needed", str(error))
        response.headers["WWW-Authenticate"] = 'Bearer realm="waymark"'
        return response

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, error: Forbidden) -> JSONResponse:
        return problem(403, "forbidden", "Not allowed", str(error))

    @app.exception_handler(TooManyAttempts)
    async def _throttled(request: Request, error: TooManyAttempts) -> JSONResponse:
        response = problem(429, "too-many-attempts", "Too many attempts", str(error))
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.exception_handler(TooManyWaiting)
    async def _too_many_waiting(request: Request, error: TooManyWaiting) -> JSONResponse:
        response = problem(503, "too-many-waiting", "Too many reads waiting", str(error))
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(DatabaseUnavailable)
    @app.exception_handler(PersistenceOperationalError)
    @app.exception_handler(PersistenceInterfaceError)
    async def _unavailable(request: Request, error: Exception) -> JSONResponse:
        response = problem(
            503,
            "unavailable",
            "Database unavailable",
            "the database cannot be reached just now: try again (a write retried with the "
            "same Idempotency-Key is never recorded twice)",
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        return problem(400, "refused", "Refused", str(error))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if _wants_page(request):
            from web.pages.routing import http_error_page

            page = http_error_page(request, error.status_code)
            if page is not None:
                return page
        titles = {404: "Not found", 405: "Method not allowed", 413: "Request too large"}
        response = problem(
            error.status_code,
            f"http-{error.status_code}",
            titles.get(error.status_code, "Error"),
            str(error.detail),
        )
        response.headers.update(error.headers or {})
        if error.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response


def internal_error(scope: Scope) -> Response:
    """The answer to a bug (called with the exception being handled): logged with its
    traceback; a browser gets the GOV.UK page, a client problem+json, and no details."""
    log.error("unexpected error", exc_info=True)
    request = Request(scope)
    if _wants_page(request):
        from web.pages.routing import server_error_page

        return server_error_page(request)
    return problem(500, "internal", "Internal error", "Something went wrong on our side.")


def _wants_page(request: Request) -> bool:
    """A browser asking for a page, which gets an error page, not problem+json."""
    from web.pages.routing import is_page_request

    return is_page_request(request.url.path, request.headers.get("accept", ""))


def _allowed_methods(request: Request) -> list[str]:
    """Every method any route offers at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods - {"HEAD"})
