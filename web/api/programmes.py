"""Programmes and their cohorts."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import JSONResponse

from services import giving360
from services.access import Permission
from web.api import presenters
from web.api.created import created
from web.api.exports import csv_line
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
from web.schemas import (
    PROBLEM_RESPONSES,
    CohortIn,
    ProgrammeIn,
    PublishingIn,
    SegmentMappingIn,
    problem_response,
)

#: What the 360Giving exports answer for a programme with no grants (as of the instant asked).
NO_GRANTS = problem_response(
    "The programme has awarded no grants (as of the instant asked for): nothing to publish"
)

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
    return {"items": waymark.queries.programmes()}


@router.get("/{programme_id}", dependencies=[allow(Permission.READ)])
def get_programme(programme_id: UUID, waymark: WaymarkDep, response: Response) -> dict[str, Any]:
    programme = waymark.queries.programme_record(programme_id)
    response.headers["ETag"] = etag(programme["version"])
    money = waymark.queries.funding_of_programme(programme_id)
    return {
        **programme,
        "cohorts": waymark.queries.cohorts_of(programme_id),
        "funding": presenters.funding_totals(money),
    }


@router.get("/{programme_id}/funding", dependencies=[allow(Permission.READ_PROGRAMME_RECORD)])
def programme_funding(
    programme_id: UUID, waymark: WaymarkDep, as_of: AsOf = None
) -> dict[str, Any]:
    """Each project's grants, payments and match funding in force across the programme's
    cohorts, and the awarded, paid and matched totals; as it stands, or stood ``as_of``."""
    waymark.queries.programme(programme_id)  # a programme that does not exist is a 404
    return waymark.queries.funding_of_programme(programme_id, as_of=as_utc(as_of))


@router.get(
    "/{programme_id}/360giving.json",
    dependencies=[allow(Permission.READ_PROGRAMME_RECORD)],
    responses={200: {"content": {"application/json": {}}}, 409: NO_GRANTS},
)
def giving360_json(programme_id: UUID, waymark: WaymarkDep, as_of: AsOf = None) -> JSONResponse:
    """The programme's grants as a 360Giving data package (schema 1.4; docs/EXPORT.md)."""
    found = waymark.queries.giving360(programme_id, as_of=as_utc(as_of))
    return JSONResponse(
        found,
        headers={"Content-Disposition": f'attachment; filename="360giving-{programme_id}.json"'},
    )


@router.get(
    "/{programme_id}/360giving.csv",
    dependencies=[allow(Permission.READ_PROGRAMME_RECORD)],
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}, 409: NO_GRANTS},
)
def giving360_csv(programme_id: UUID, waymark: WaymarkDep, as_of: AsOf = None) -> Response:
    """The same grants in 360Giving's flat CSV columns, spreadsheet-safe (docs/EXPORT.md)."""
    found = waymark.queries.giving360(programme_id, as_of=as_utc(as_of))
    lines = [csv_line(giving360.CSV_COLUMNS), *(csv_line(r) for r in giving360.csv_rows(found))]
    return Response(
        "".join(lines),
        media_type="text/csv; charset=utf-8; header=present",
        headers={"Content-Disposition": f'attachment; filename="360giving-{programme_id}.csv"'},
    )


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


@router.put("/{programme_id}/publishing", dependencies=[allow(Permission.MANAGE_PROGRAMME)])
def allow_publishing(
    programme_id: UUID,
    body: PublishingIn,
    waymark: WaymarkDep,
    actor: ActorDep,
    expected: ExpectedVersionDep,
    response: Response,
) -> dict[str, Any]:
    """Allow the public pages of this programme's projects (`/open/projects/{id}`), or
    take them down (`allowed: false`). Recorded on the programme, with who and when."""
    written = waymark.records.allow_publishing(
        programme_id=programme_id, allowed=body.allowed, actor=actor, expected_version=expected
    )
    response.headers["ETag"] = etag(written.version)
    return {
        "programme_id": str(programme_id),
        "publishing_allowed": body.allowed,
        **presenters.written(written),
    }


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
    freshness = waymark.queries.fresh(wait_for)
    found = waymark.queries.comparison_of_programme(
        programme_id,
        group_by=group_by,
        as_of=as_utc(as_of),
        week=week,
        today=today,
        follow_successors=follow_successors,
    )
    key = "groups" if group_by else "items"
    return {key: found, "group_by": group_by, "freshness": presenters.freshness(freshness)}


@router.get(
    "/{programme_id}/support-requests", dependencies=[allow(Permission.READ_PROGRAMME_RECORD)]
)
def programme_support_requests(
    programme_id: UUID, waymark: WaymarkDep, wait_for: WaitFor = None
) -> dict[str, Any]:
    """Every support request ("the one wish") of the programme's cohorts, oldest first: the
    council, whom it was asked of, its answers, its `status` (the latest answer's, or
    `unanswered`) and `days_to_answer` (from asking to the first answer)."""
    freshness = waymark.queries.fresh(wait_for)
    return {
        "items": waymark.queries.support_requests(programme_id),
        "freshness": presenters.freshness(freshness),
    }


# -- outputs and capabilities across councils ------------------------------------------


@router.get("/{programme_id}/outputs", dependencies=[allow(Permission.READ)])
def programme_outputs(
    programme_id: UUID,
    waymark: WaymarkDep,
    kind: Annotated[
        str | None, Query(max_length=100, description="A kind of output, e.g. code_repository.")
    ] = None,
    phase: Annotated[
        str | None, Query(max_length=100, description="The phase it was made in.")
    ] = None,
    council: Annotated[
        str | None, Query(max_length=100, description="The publishing council's code.")
    ] = None,
    cohort: Annotated[
        str | None, Query(max_length=100, description="A cohort id of this programme.")
    ] = None,
    wait_for: WaitFor = None,
) -> dict[str, Any]:
    """Every output the programme's projects published (newest first), each with how
    often it was reused (`reuse_count`) and by whom (`reused_by`)."""
    freshness = waymark.queries.fresh(wait_for)
    items = waymark.queries.outputs(
        programme_id, kind=kind, phase=phase, council=council, cohort=cohort
    )
    return {"items": items, "freshness": presenters.freshness(freshness)}


@router.get("/{programme_id}/capabilities", dependencies=[allow(Permission.READ)])
def programme_capabilities(
    programme_id: UUID, waymark: WaymarkDep, wait_for: WaitFor = None
) -> dict[str, Any]:
    """The programme's capabilities: each name its capacity decisions give (matched by
    `slug`), with how many decisions chose make, buy, share or experiment."""
    freshness = waymark.queries.fresh(wait_for)
    items = waymark.queries.capabilities(programme_id)
    return {"items": items, "freshness": presenters.freshness(freshness)}


@router.get("/{programme_id}/capabilities/{slug}", dependencies=[allow(Permission.READ)])
def programme_capability(
    programme_id: UUID,
    slug: Annotated[str, Path(max_length=100)],
    waymark: WaymarkDep,
    wait_for: WaitFor = None,
) -> dict[str, Any]:
    """Every council's capacity decisions about one capability, across cohorts, with
    dates and costs in force."""
    freshness = waymark.queries.fresh(wait_for)
    found = waymark.queries.capability(programme_id, slug)
    return {**found, "freshness": presenters.freshness(freshness)}


@router.get("/{programme_id}/outcomes", dependencies=[allow(Permission.READ_PROGRAMME_RECORD)])
def programme_outcomes(
    programme_id: UUID, waymark: WaymarkDep, as_of: AsOf = None, wait_for: WaitFor = None
) -> dict[str, Any]:
    """The outcomes of every cohort's projects (as `GET /api/cohorts/{id}/outcomes`)."""
    freshness = waymark.queries.fresh(wait_for)
    found = waymark.queries.programme_outcomes(programme_id, as_of=as_utc(as_of))
    return {**found, "freshness": presenters.freshness(freshness)}
