"""Programmes and their cohorts."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

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
from web.schemas import PROBLEM_RESPONSES, CohortIn, ProgrammeIn, SegmentMappingIn

router = APIRouter(prefix="/api/programmes", tags=["programmes"], responses=PROBLEM_RESPONSES)


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=[allow(Permission.LAUNCH_PROGRAMME)]
)
def launch_programme(
    body: ProgrammeIn,
    waymark: WaymarkDep,
    actor: ActorDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> dict[str, Any]:
    written = waymark.records.launch_programme(
        name=body.name,
        description=body.description,
        sponsor_body=body.sponsor_body,
        actor=actor,
        idempotency_key=key,
    )
    return created(response, written, "programme_id", f"/api/programmes/{written.id}")


@router.get("", dependencies=[allow(Permission.READ)])
def list_programmes(waymark: WaymarkDep) -> dict[str, Any]:
    return {"items": waymark.programmes()}


@router.get("/{programme_id}", dependencies=[allow(Permission.READ)])
def get_programme(programme_id: UUID, waymark: WaymarkDep, response: Response) -> dict[str, Any]:
    programme = waymark.records.get_programme(programme_id)
    response.headers["ETag"] = etag(programme.version)
    return {**presenters.programme(programme), "cohorts": waymark.cohorts_of(programme_id)}


@router.put("/{programme_id}/segment-mapping", dependencies=[allow(Permission.MANAGE_PROGRAMME)])
def configure_segments(
    programme_id: UUID,
    body: SegmentMappingIn,
    waymark: WaymarkDep,
    actor: ActorDep,
    expected: ExpectedVersionDep,
    response: Response,
) -> dict[str, Any]:
    """Set how this programme maps demand and financial pressure to segments."""
    written = waymark.records.configure_segments(
        programme_id=programme_id,
        mapping=body.mapping.model_dump(by_alias=True, mode="json"),
        actor=actor,
        expected_version=expected,
    )
    response.headers["ETag"] = etag(written.version)
    return {"programme_id": str(programme_id), **presenters.written(written)}


@router.post(
    "/{programme_id}/cohorts",
    status_code=status.HTTP_201_CREATED,
    dependencies=[allow(Permission.MANAGE_PROGRAMME)],
)
def form_cohort(
    programme_id: UUID,
    body: CohortIn,
    waymark: WaymarkDep,
    actor: ActorDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> dict[str, Any]:
    written = waymark.records.form_cohort(
        programme_id=programme_id,
        name=body.name,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        actor=actor,
        idempotency_key=key,
    )
    return created(response, written, "cohort_id", f"/api/cohorts/{written.id}")


@router.get("/{programme_id}/comparison", dependencies=[allow(Permission.READ_PROGRAMME_RECORD)])
def programme_comparison(
    programme_id: UUID,
    waymark: WaymarkDep,
    group_by: Annotated[
        Literal["council_type", "segment", "scale_band", "region"] | None,
        Query(description="Group the projects of every cohort, with each group's totals."),
    ] = None,
    as_of: AsOf = None,
    week: Week = None,
    today: Today = None,
    follow_successors: FollowSuccessors = False,
    wait_for: WaitFor = None,
) -> dict[str, Any]:
    """The comparison across the programme's cohorts: rows, or groups of rows."""
    freshness = waymark.fresh(wait_for)
    found = waymark.comparison_of_programme(
        programme_id,
        group_by=group_by,
        as_of=as_utc(as_of),
        week=week,
        today=today,
        follow_successors=follow_successors,
    )
    key = "groups" if group_by else "items"
    return {key: found, "group_by": group_by, "freshness": presenters.freshness(freshness)}
