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
    """The database answers (within a time bound) and no read model lags too far behind."""
    readiness = waymark.readiness.check()
    if not readiness.ready:
        return problem(
            503,
            "not-ready",
            "Not ready",
            readiness.reason,
            lag=readiness.lag,
            max_lag=readiness.max_lag,
        )
    return {
        "status": "ready",
        "head": readiness.head,
        "lag": readiness.lag,
        "max_lag": readiness.max_lag,
    }
