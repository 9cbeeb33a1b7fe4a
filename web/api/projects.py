"""Projects and the entries recorded against them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response, status

from services.access import Permission
from web.api import presenters
from web.api.created import write_headers
from web.api.reading import AsOf, WaitFor
from web.deps import (
    ActorDep,
    ExpectedVersionDep,
    IdempotencyKeyDep,
    WaymarkDep,
    allow,
    as_utc,
    etag,
)
from web.schemas import PROBLEM_RESPONSES, EntryIn, IsoInstant

router = APIRouter(prefix="/api/projects", tags=["projects"], responses=PROBLEM_RESPONSES)


@router.get("/{project_id}", dependencies=[allow(Permission.READ_COHORT)])
def get_project(
    project_id: UUID,
    waymark: WaymarkDep,
    response: Response,
    as_of: Annotated[
        IsoInstant | None,
        Query(description="The project exactly as the record stood at this instant (UTC)."),
    ] = None,
) -> dict[str, Any]:
    project = waymark.records.get_project(project_id, as_of=as_utc(as_of))
    response.headers["ETag"] = etag(project.version)
    return presenters.project(project)


@router.get("/{project_id}/history", dependencies=[allow(Permission.READ_COHORT)])
def project_history(
    project_id: UUID, waymark: WaymarkDep, as_of: AsOf = None, wait_for: WaitFor = None
) -> dict[str, Any]:
    """Every entry in the order recorded: both dates, the actor, corrections linked both
    ways (`corrects`, `superseded_by`), a correction's `effective` values, and the
    problem statement's versions."""
    freshness = waymark.fresh(wait_for)
    history = waymark.history(project_id, as_of=as_utc(as_of))
    return {**history, "freshness": presenters.freshness(freshness)}


@router.get("/{project_id}/problem-statements/diff", dependencies=[allow(Permission.READ_COHORT)])
def problem_statement_diff(
    project_id: UUID,
    waymark: WaymarkDep,
    from_version: Annotated[int, Query(alias="from", ge=1)],
    to_version: Annotated[int, Query(alias="to", ge=1)],
) -> dict[str, Any]:
    """A unified line diff between two iterations of the problem statement."""
    project = waymark.records.get_project(project_id)
    return {
        "project_id": str(project_id),
        "from": from_version,
        "to": to_version,
        "from_text": project.statement_text(from_version, "from"),
        "to_text": project.statement_text(to_version, "to"),
        "diff": project.statement_diff(from_version, to_version),
    }


@router.post(
    "/{project_id}/entries",
    status_code=status.HTTP_201_CREATED,
    dependencies=[allow(Permission.RECORD_ENTRY)],
)
def record_entry(
    project_id: UUID,
    body: Annotated[EntryIn, Body()],
    waymark: WaymarkDep,
    actor: ActorDep,
    expected: ExpectedVersionDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> dict[str, Any]:
    """Record one entry; the body's `kind` picks the entry kind and its fields."""
    values = body.model_dump(mode="json", exclude={"kind", "decided_on"})
    written = waymark.records.record_entry(
        project_id=project_id,
        kind=body.kind,
        decided_on=body.decided_on,
        values=values,
        actor=actor,
        expected_version=expected,
        idempotency_key=key,
    )
    write_headers(response, written, f"/api/projects/{project_id}")
    return {
        "entry_id": str(written.id),
        "project_id": str(project_id),
        **presenters.written(written),
    }
