"""The audit log: every event of every record, in the order of the log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from projections.audit_log import AuditQuery
from web.api import presenters
from web.api.reading import Cursor, WaitFor
from web.deps import WaymarkDep, as_utc

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("")
def audit_log(
    waymark: WaymarkDep,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    aggregate: Annotated[str | None, Query(max_length=200, description="An aggregate id.")] = None,
    aggregate_type: Annotated[
        str | None, Query(max_length=100, description="Programme, Cohort, Council, Project, ...")
    ] = None,
    since: Annotated[datetime | None, Query(description="Recorded at or after.")] = None,
    until: Annotated[datetime | None, Query(description="Recorded at or before.")] = None,
    order: Literal["asc", "desc"] = "asc",
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    wait_for: WaitFor = None,
) -> dict[str, Any]:
    """One row per event: recorded_at, actor, aggregate, event, summary, log position."""
    freshness = waymark.fresh(wait_for)
    items, next_cursor = waymark.audit(
        AuditQuery(
            actor=actor,
            aggregate=aggregate,
            aggregate_type=aggregate_type,
            since=presenters.plain(as_utc(since)),
            until=presenters.plain(as_utc(until)),
            order=order,
            cursor=cursor,
            limit=limit,
        )
    )
    return {
        "items": items,
        "next_cursor": next_cursor,
        "freshness": presenters.freshness(freshness),
    }
