"""The FastAPI application, built by ``create_app`` (nothing is built at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services.container import Waymark
from services.demo import create_demo_users, load_and_sign_demo
from services.settings import Settings
from web import metrics, observability, problems
from web.api import (
    audit,
    auth,
    cohorts,
    councils,
    exports,
    ledger,
    operations,
    programmes,
    projects,
    search,
)
from web.pages import (
    browse,
    collaboration,
    compare,
    digest,
    downloads,
    find,
    integrity,
    people,
    public,
    record,
    session,
    sessions_support,
    setup,
)
from web.pages.rendering import Pages
from web.schemas import ENTRY_TAGS
from web.security import BodySizeLimit, SecurityHeaders

STATIC = Path(__file__).resolve().parent / "static"

DESCRIPTION = """
Waymark records every decision of every council's project in a digital
accelerator as an immutable event, and builds cohort timelines and
cross-council comparisons from them.

Errors are `application/problem+json` (RFC 9457). Writes return the log
`position`; pass it as `wait_for` to a read to see your own write.
"""


def create_app(settings: Settings | None = None, *, demo: bool | None = None) -> FastAPI:
    settings = settings or Settings()

    demo_mode = settings.demo if demo is None else demo
    if demo_mode and not settings.demo:
        settings = settings.model_copy(update={"demo": True})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        waymark = Waymark(settings)
        refusals = settings.refusals(waymark.credentials.has_demo_credentials())
        if refusals:
            waymark.close()
            raise RuntimeError("Waymark will not start: " + "; ".join(refusals))
        if demo_mode:
            load_and_sign_demo(waymark)
            create_demo_users(waymark)  # `waymark serve` tells them, once it is serving
        waymark.start()
        app.state.waymark = waymark
        try:
            with metrics.watching(waymark):
                yield
        finally:
            waymark.close()

    app = FastAPI(
        title="Waymark",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served below from our own copy of Swagger UI, not a CDN
        redoc_url=None,
    )
    app.add_api_route("/docs", api_docs, include_in_schema=False, response_class=HTMLResponse)
    problems.install(app, ENTRY_TAGS)
    for module in (
        programmes,
        cohorts,
        councils,
        projects,
        audit,
        search,
        ledger,
        exports,
        auth,
        operations,
    ):
        app.include_router(module.router)
    app.openapi = lambda: _openapi_with_problem_media_type(app)  # type: ignore[method-assign]
    app.state.pages = Pages()
    # setup first: its /programmes/new and /councils/find come before browse's /{id} pages.
    for pages in (
        setup,
        sessions_support,
        browse,
        collaboration,
        compare,
        downloads,
        find,
        integrity,
        people,
        public,
        record,
        session,
        digest,
    ):
        app.include_router(pages.router)
    # Built by `make assets` from the npm packages; the API works without them.
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    app.mount(
        "/assets",
        StaticFiles(directory=STATIC / "vendor" / "assets", check_dir=False),
        name="assets",
    )
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    observability.install(app)  # outside the body limit, so that 413s are logged too
    app.add_middleware(SecurityHeaders)
    if settings.forwarded_allow_ips:
        # Outermost, so that logs, limits and sign-in all see the client, not the proxy.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    return app


#: The interactive API documentation: Swagger UI from npm (built into static/vendor by
#: `make assets`), started by a script file, so its CSP allows no inline script.
API_DOCS = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Waymark API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/app/api-docs.js"></script>
</body>
</html>
"""


def api_docs() -> HTMLResponse:
    return HTMLResponse(API_DOCS)


def _openapi_with_problem_media_type(app: FastAPI) -> dict[str, Any]:
    """Errors are documented as ``application/problem+json``, the media type they are sent as."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for item in schema["paths"].values():
            for operation in item.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status.startswith(("4", "5")) and "application/json" in content:
                        content["application/problem+json"] = content.pop("application/json")
        app.openapi_schema = schema
    return app.openapi_schema
