"""Health checks for people and orchestrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from web.deps import WaymarkDep
from web.problems import problem

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, Any]:
    """The process is alive. Says nothing about the database."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(waymark: WaymarkDep) -> dict[str, Any] | JSONResponse:
    """The event store and the read models answer."""
    try:
        head = waymark.projector.log.head()
        positions = waymark.projector.positions()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        return problem(
            503, "not-ready", "Not ready", f"database unreachable: {type(error).__name__}"
        )
    lag = max(0, head - min(positions.values(), default=0))
    return {"status": "ready", "head": head, "lag": lag}
