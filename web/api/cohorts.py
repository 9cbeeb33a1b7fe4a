"""Cohorts: enrolment, withdrawal, closing, and the cohort timeline."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from domain.errors import InvalidValue
from services.access import Permission
from web.api import presenters
from web.api.created import created, write_headers
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
from web.schemas import PROBLEM_RESPONSES, IsoDate, ProjectIn, SessionIn, WithdrawalIn

router = APIRouter(prefix="/api/cohorts", tags=["cohorts"], responses=PROBLEM_RESPONSES)


@router.get("/{cohort_id}", dependencies=[allow(Permission.READ_COHORT)])
def get_cohort(cohort_id: UUID, waymark: WaymarkDep, response: Response) -> dict[str, Any]:
    cohort = waymark.queries.cohort_record(cohort_id)
    response.headers["ETag"] = etag(cohort["version"])
    money = waymark.queries.funding_of_cohort(cohort_id)
    return {
        **cohort,
        "projects": waymark.queries.projects_of(cohort_id),
        "funding": presenters.funding_totals(money),
    }


@router.get("/{cohort_id}/funding", dependencies=[allow(Permission.READ_COHORT)])
def cohort_funding(cohort_id: UUID, waymark: WaymarkDep, as_of: AsOf = None) -> dict[str, Any]:
    """Each project's grants, payments and match funding in force, and the cohort's awarded,
    paid and matched totals; as it stands, or stood ``as_of``."""
    waymark.queries.cohort(cohort_id)  # a cohort that does not exist is a 404
    return waymark.queries.funding_of_cohort(cohort_id, as_of=as_utc(as_of))


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
    as_of: AsOf = None,
    order: Literal["recorded_at", "decided_on"] = "recorded_at",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    wait_for: Annotated[
        int | None,
        Query(ge=0, description="A log position (from a write) to wait for, briefly."),
    ] = None,
) -> dict[str, Any]:
    if since is not None and until is not None and until < since:
        raise InvalidValue("until", "must not be before since")
    freshness = waymark.queries.fresh(wait_for)
    items, next_cursor = waymark.queries.timeline(
        cohort_id,
        kind=kind,
        council=council,
        phase=phase,
        since=since,
        until=until,
        as_of=as_utc(as_of),
        order=order,
        cursor=cursor,
        limit=limit,
    )
    return {
        "items": [_timeline_item(item) for item in items],
        "next_cursor": next_cursor,
        "freshness": presenters.freshness(freshness),
    }


def _timeline_item(row: dict[str, Any]) -> dict[str, Any]:
    """An entry's values beside the row's own fields (which win where the names meet, as
    ``council_code``: the project's council); ``values`` keeps them all as recorded."""
    values = row.pop("values")
    return {**values, **row, "values": values}


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
    freshness = waymark.queries.fresh(wait_for)
    items = waymark.queries.comparison_of_cohort(
        cohort_id,
        as_of=as_utc(as_of),
        week=week,
        today=today,
        follow_successors=follow_successors,
    )
    return {"items": items, "freshness": presenters.freshness(freshness)}


@router.post(
    "/{cohort_id}/sessions",
    status_code=status.HTTP_201_CREATED,
    dependencies=[allow(Permission.MANAGE_PROGRAMME)],
)
def hold_session(
    cohort_id: UUID,
    body: SessionIn,
    waymark: WaymarkDep,
    actor: ActorDep,
    expected: ExpectedVersionDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> dict[str, Any]:
    """Record a session of the cohort (a masterclass, a discussion, ...) and who came
    from each enrolled council, by role."""
    written = waymark.records.hold_session(
        cohort_id=cohort_id,
        values=body.model_dump(mode="json"),
        actor=actor,
        expected_version=expected,
        idempotency_key=key,
    )
    write_headers(response, written, f"/api/cohorts/{cohort_id}/sessions")
    return {
        "session_id": str(written.id),
        "cohort_id": str(cohort_id),
        **presenters.written(written),
    }


@router.get("/{cohort_id}/sessions", dependencies=[allow(Permission.READ_COHORT)])
def cohort_sessions(
    cohort_id: UUID, waymark: WaymarkDep, wait_for: WaitFor = None
) -> dict[str, Any]:
    """The cohort's sessions, latest first, each with its attendance by council and role."""
    freshness = waymark.queries.fresh(wait_for)
    return {
        "items": waymark.queries.sessions_of_cohort(cohort_id),
        "freshness": presenters.freshness(freshness),
    }


@router.get("/{cohort_id}/outcomes", dependencies=[allow(Permission.READ_COHORT)])
def cohort_outcomes(
    cohort_id: UUID, waymark: WaymarkDep, as_of: AsOf = None, wait_for: WaitFor = None
) -> dict[str, Any]:
    """Each project's benefits with their status and its latest assessment; `totals`
    counts benefits met, on track, missed and abandoned, cashable apart from
    non-cashable, with the savings so far of those counted in GBP."""
    freshness = waymark.queries.fresh(wait_for)
    found = waymark.queries.cohort_outcomes(cohort_id, as_of=as_utc(as_of))
    return {**found, "freshness": presenters.freshness(freshness)}
