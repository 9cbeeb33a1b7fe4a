"""The audit log: every event of every record, in the order of the log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from domain.errors import InvalidValue
from services.access import Permission
from web.api import presenters
from web.api.reading import Cursor, WaitFor
from web.deps import WaymarkDep, allow, as_utc
from web.schemas import PROBLEM_RESPONSES, IsoInstant

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=PROBLEM_RESPONSES)


@router.get("", dependencies=[allow(Permission.AUDIT)])
def audit_log(
    waymark: WaymarkDep,
    actor: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
    aggregate: Annotated[str | None, Query(max_length=200, description="An aggregate id.")] = None,
    aggregate_type: Annotated[
        str | None, Query(max_length=100, description="Programme, Cohort, Council, Project, ...")
    ] = None,
    since: Annotated[IsoInstant | None, Query(description="Recorded at or after.")] = None,
    until: Annotated[IsoInstant | None, Query(description="Recorded at or before.")] = None,
    order: Literal["asc", "desc"] = "asc",
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    wait_for: WaitFor = None,
) -> dict[str, Any]:
    """One row per event: recorded_at, actor, aggregate, event, summary, log position."""
    since, until = as_utc(since), as_utc(until)
    if since is not None and until is not None and until < since:
        raise InvalidValue("until", "must not be before since")
    freshness = waymark.queries.fresh(wait_for)
    items, next_cursor = waymark.queries.audit(
        actor=actor,
        aggregate=aggregate,
        aggregate_type=aggregate_type,
        since=since,
        until=until,
        order=order,
        cursor=cursor,
        limit=limit,
    )
    return {
        "items": items,
        "next_cursor": next_cursor,
        "freshness": presenters.freshness(freshness),
    }
