"""Cohorts: enrolment, withdrawal, closing, and the cohort timeline."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from projections.base import instant
from projections.cohort_timeline import TimelineQuery
from services.access import Permission
from web.api import presenters
from web.api.created import created
from web.api.reading import AsOf, FollowSuccessors, Today, WaitFor, Week
from web.deps import (
    ActorDep,
    ExpectedVersionDep,
    IdempotencyKeyDep,
    WaymarkDep,
    allow,
    as_utc,
    etag,
)
from web.schemas import PROBLEM_RESPONSES, IsoDate, IsoInstant, ProjectIn, WithdrawalIn

router = APIRouter(prefix="/api/cohorts", tags=["cohorts"], responses=PROBLEM_RESPONSES)


@router.get("/{cohort_id}", dependencies=[allow(Permission.READ_COHORT)])
def get_cohort(cohort_id: UUID, waymark: WaymarkDep, response: Response) -> dict[str, Any]:
    cohort = waymark.records.get_cohort(cohort_id)
    response.headers["ETag"] = etag(cohort.version)
    return {**presenters.cohort(cohort), "projects": waymark.projects_of(cohort_id)}


@router.post(
    "/{cohort_id}/projects",
    status_code=status.HTTP_201_CREATED,
    dependencies=[allow(Permission.MANAGE_PROGRAMME)],
)
def enrol_council(
    cohort_id: UUID,
    body: ProjectIn,
    waymark: WaymarkDep,
    actor: ActorDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> dict[str, Any]:
    """Enrol a council in the cohort, starting its project."""
    written = waymark.records.enrol_council(
        cohort_id=cohort_id,
        council_code=body.council_code,
        title=body.title,
        actor=actor,
        idempotency_key=key,
    )
    return created(response, written, "project_id", f"/api/projects/{written.id}")


@router.post("/{cohort_id}/withdrawals", dependencies=[allow(Permission.MANAGE_PROGRAMME)])
def withdraw_council(
    cohort_id: UUID, body: WithdrawalIn, waymark: WaymarkDep, actor: ActorDep, response: Response
) -> dict[str, Any]:
    """A council leaves the cohort; its project keeps its history and takes no more entries."""
    written = waymark.records.withdraw_council(
        cohort_id=cohort_id, council_code=body.council_code, reason=body.reason, actor=actor
    )
    response.headers["ETag"] = etag(written.version)
    return {"cohort_id": str(cohort_id), **presenters.written(written)}


@router.post("/{cohort_id}/close", dependencies=[allow(Permission.MANAGE_PROGRAMME)])
def close_cohort(
    cohort_id: UUID,
    waymark: WaymarkDep,
    actor: ActorDep,
    expected: ExpectedVersionDep,
    response: Response,
) -> dict[str, Any]:
    """Close the cohort: its record stays, and nothing more is recorded in it."""
    written = waymark.records.close_cohort(
        cohort_id=cohort_id, actor=actor, expected_version=expected
    )
    response.headers["ETag"] = etag(written.version)
    return {"cohort_id": str(cohort_id), **presenters.written(written)}


@router.get("/{cohort_id}/timeline", dependencies=[allow(Permission.READ_COHORT)])
def cohort_timeline(
    cohort_id: UUID,
    waymark: WaymarkDep,
    kind: str | None = None,
    council: str | None = None,
    phase: str | None = None,
    since: Annotated[IsoDate | None, Query(description="Decided on or after.")] = None,
    until: Annotated[IsoDate | None, Query(description="Decided on or before.")] = None,
    as_of: Annotated[
        IsoInstant | None, Query(description="Show the record as it stood at this instant.")
    ] = None,
    order: Literal["recorded_at", "decided_on"] = "recorded_at",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    wait_for: Annotated[
        int | None,
        Query(ge=0, description="A log position (from a write) to wait for, briefly."),
    ] = None,
) -> dict[str, Any]:
    freshness = waymark.fresh(wait_for)
    items, next_cursor = waymark.timeline(
        TimelineQuery(
            cohort_id=str(cohort_id),
            kind=kind,
            council=council.upper() if council else None,
            phase=phase,
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            as_of=instant(as_utc(as_of)) if as_of else None,
            order=order,
            cursor=cursor,
            limit=limit,
        )
    )
    return {
        "items": [_timeline_item(item) for item in items],
        "next_cursor": next_cursor,
        "freshness": presenters.freshness(freshness),
    }


def _timeline_item(row: dict[str, Any]) -> dict[str, Any]:
    values = row.pop("values")
    return {**values, **row}


@router.get("/{cohort_id}/comparison", dependencies=[allow(Permission.READ_COHORT)])
def cohort_comparison(
    cohort_id: UUID,
    waymark: WaymarkDep,
    as_of: AsOf = None,
    week: Week = None,
    today: Today = None,
    follow_successors: FollowSuccessors = False,
    wait_for: WaitFor = None,
) -> dict[str, Any]:
    """One row per project: the council's profile and financial segment, maturity, phase,
    problem-statement iterations, capacity choices, check-ins, concerns, quiet flag."""
    freshness = waymark.fresh(wait_for)
    items = waymark.comparison_of_cohort(
        cohort_id,
        as_of=as_utc(as_of),
        week=week,
        today=today,
        follow_successors=follow_successors,
    )
    return {"items": items, "freshness": presenters.freshness(freshness)}
