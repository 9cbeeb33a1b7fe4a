"""One log line and one metric sample per request, tied together by a request id.

The log line names the route template (``/api/projects/{project_id}``), never
the raw path or query string, and carries no header or body: nothing a
client sends as a secret can reach the logs through it.
"""

from __future__ import annotations

import re
import time
from uuid import uuid4

import structlog
from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web import metrics
from web.logs import configure_structlog
from web.problems import internal_error

REQUEST_ID_HEADER = "X-Request-Id"
#: An incoming request id is kept only if it is this tame; otherwise a new one is made.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_log = structlog.get_logger("waymark.access")


def request_id_of(scope: Scope) -> str:
    given = Headers(scope=scope).get(REQUEST_ID_HEADER)
    if given and REQUEST_ID_PATTERN.match(given):
        return given
    return uuid4().hex


def route_of(scope: Scope) -> str:
    """The template of the route that answered: an API route's, or a mount's plus ``{path}``."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    endpoint = scope.get("endpoint")
    for candidate in getattr(scope.get("app"), "routes", ()):
        if isinstance(candidate, Mount) and candidate.app is endpoint:
            return f"{candidate.path}/{{path}}"
    return metrics.UNMATCHED


class RequestObserver:
    """ASGI middleware: request id in and out, an access log line, request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        # Request.state lives here: web.deps notes the signed-in principal in it.
        state = scope.setdefault("state", {})
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                if not response_started:
                    await internal_error(scope)(scope, receive, send_with_id)
                raise
            finally:
                seconds = time.perf_counter() - started
                route = route_of(scope)
                metrics.observe_request(route, scope["method"], status, seconds)
                access_log.info(
                    "request",
                    method=scope["method"],
                    route=route,
                    status=status,
                    duration_ms=round(seconds * 1000, 3),
                    actor=getattr(state.get("principal"), "username", None),
                )


def install(app: FastAPI) -> None:
    """Request ids, access logs and metrics for every request, and the ``/metrics`` route."""
    configure_structlog()
    app.add_middleware(RequestObserver)
    app.include_router(metrics.router)
