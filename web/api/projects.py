"""Projects and the entries recorded against them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Response, status

from web.api import presenters
from web.deps import ActorDep, ExpectedVersionDep, WaymarkDep, etag
from web.schemas import EntryIn

router = APIRouter(prefix="/api/projects", tags=["projects"])


@router.get("/{project_id}")
def get_project(project_id: UUID, waymark: WaymarkDep, response: Response) -> dict[str, Any]:
    project = waymark.records.get_project(project_id)
    response.headers["ETag"] = etag(project.version)
    return presenters.project(project)


@router.post("/{project_id}/entries", status_code=status.HTTP_201_CREATED)
def record_entry(
    project_id: UUID,
    body: Annotated[EntryIn, Body()],
    waymark: WaymarkDep,
    actor: ActorDep,
    expected: ExpectedVersionDep,
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
    )
    response.headers["Location"] = f"/api/projects/{project_id}"
    response.headers["ETag"] = etag(written.version)
    return {
        "entry_id": str(written.id),
        "project_id": str(project_id),
        "version": written.version,
        "position": written.position,
    }
