"""Programmes and their cohorts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status

from services.access import Permission
from web.api import presenters
from web.api.created import created
from web.deps import ActorDep, ExpectedVersionDep, IdempotencyKeyDep, WaymarkDep, allow, etag
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
