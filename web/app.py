"""The FastAPI application, built by ``create_app`` (nothing is built at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

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
from web.demo import announce_demo_sign_ins
from web.pages import browse, compare, find, integrity, record, session
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
            announce_demo_sign_ins(create_demo_users(waymark))
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
    )
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
    for pages in (browse, compare, find, integrity, record, session):
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
    return app


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
