"""Every error as ``application/problem+json`` (RFC 9457), naming the field at fault."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import InterfaceError as PersistenceInterfaceError
from eventsourcing.persistence import OperationalError as PersistenceOperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from domain.errors import Conflict, DomainError, InvalidValue, NotFound, StaleVersion
from projections.errors import DatabaseUnavailable
from services.access import Forbidden, Unauthenticated
from services.container import TooManyAttempts

PROBLEM_JSON = "application/problem+json"
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
        response.headers["Retry-After"] = "900"
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
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
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


def _allowed_methods(request: Request) -> list[str]:
    """Every method any route offers at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods - {"HEAD"})
