"""Projects and the entries recorded against them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Query, Request, Response, status

from services.access import Permission
from web.api import presenters
from web.api.created import write_headers
from web.api.reading import AsOf, WaitFor
from web.deps import (
    ActorDep,
    ExpectedVersionDep,
    IdempotencyKeyDep,
    PrincipalDep,
    WaymarkDep,
    allow,
    allow_correction,
    allow_kind,
    as_utc,
    etag,
)
from web.schemas import PROBLEM_RESPONSES, EntryIn

router = APIRouter(prefix="/api/projects", tags=["projects"], responses=PROBLEM_RESPONSES)


@router.get("/{project_id}", dependencies=[allow(Permission.READ_COHORT)])
def get_project(
    project_id: UUID,
    waymark: WaymarkDep,
    response: Response,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """The project's state and every entry: as it stands now, from the read models (which
    are waited for, briefly, to hold everything recorded), or as it stood ``as_of``."""
    project = waymark.queries.project(project_id, as_of=as_utc(as_of))
    response.headers["ETag"] = etag(project["version"])
    return project


@router.get("/{project_id}/funding", dependencies=[allow(Permission.READ_COHORT)])
def project_funding(project_id: UUID, waymark: WaymarkDep, as_of: AsOf = None) -> dict[str, Any]:
    """The project's grants (values in force, each with its payments, the sum paid and its
    closure), match funding, and the awarded, paid and matched totals; as it stands, or
    stood ``as_of``."""
    waymark.queries.project_origin(project_id)  # a project that does not exist is a 404
    return waymark.queries.funding_of_project(project_id, as_of=as_utc(as_of))


@router.get("/{project_id}/history", dependencies=[allow(Permission.READ_COHORT)])
def project_history(
    project_id: UUID, waymark: WaymarkDep, as_of: AsOf = None, wait_for: WaitFor = None
) -> dict[str, Any]:
    """Every entry in the order recorded: both dates, the actor, corrections linked both
    ways (`corrects`, `superseded_by`), a correction's `effective` values, and the
    problem statement's versions."""
    freshness = waymark.queries.fresh(wait_for)
    history = waymark.queries.history(project_id, as_of=as_utc(as_of))
    return {**history, "freshness": presenters.freshness(freshness)}


@router.get("/{project_id}/outcomes", dependencies=[allow(Permission.READ_COHORT)])
def project_outcomes(
    project_id: UUID, waymark: WaymarkDep, as_of: AsOf = None, wait_for: WaitFor = None
) -> dict[str, Any]:
    """The project's benefits (baseline, target, measurements oldest first, closure and
    `status`: met, on_track, missed or abandoned) and its assessments, oldest first, with
    the `latest_assessment`; as they stand, or stood `as_of`."""
    freshness = waymark.queries.fresh(wait_for)
    waymark.queries.project_origin(project_id)  # 404 for a project never started
    found = waymark.queries.project_outcomes(project_id, as_of=as_utc(as_of))
    return {**found, "freshness": presenters.freshness(freshness)}


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
    request: Request,
    principal: PrincipalDep,
) -> dict[str, Any]:
    """Record one entry; the body's `kind` picks the entry kind and its fields.
    A `support_answered` is the programme's: its managers' (and admins') only."""
    allow_kind(body.kind, request, principal)
    if body.kind == "entry_corrected":
        allow_correction(getattr(body, "corrects", None), request, principal)
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
