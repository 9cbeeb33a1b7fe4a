"""The FastAPI application, built by ``create_app`` (nothing is built at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.container import Waymark
from services.demo import load_demo
from services.settings import Settings
from web import problems
from web.api import audit, cohorts, councils, operations, programmes, projects, search
from web.schemas import ENTRY_TAGS

DESCRIPTION = """
Waymark records every decision of every council's project in a digital
accelerator as an immutable event, and builds cohort timelines and
cross-council comparisons from them.

Errors are `application/problem+json` (RFC 9457). Writes return the log
`position`; pass it as `wait_for` to a read to see your own write.
"""


def create_app(settings: Settings | None = None, *, demo: bool | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        waymark = Waymark(settings)
        if demo if demo is not None else settings.demo:
            load_demo(waymark.records)
        waymark.start()
        app.state.waymark = waymark
        try:
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
    for module in (programmes, cohorts, councils, projects, audit, search, operations):
        app.include_router(module.router)
    return app
