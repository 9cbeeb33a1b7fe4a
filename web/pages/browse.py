"""Pages that read: programmes, cohorts and their timelines, projects, councils."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from domain.errors import InvalidValue, NotFound
from domain.project import ENTRY_KINDS
from domain.vocabulary import Phase
from projections.cohort_timeline import TimelineQuery
from services.access import Permission
from web.api import presenters
from web.deps import PrincipalDep, WaymarkDep, allow
from web.pages import present
from web.pages.dates import date_fields, end_of, typed, typed_day
from web.pages.entry_forms import FieldError, by_input
from web.pages.routing import PageRoute, PagesDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TIMELINE_PAGE = 20
Day = Annotated[str, Query(max_length=10)]


@router.get("/", dependencies=[allow(Permission.READ)])
def programmes(request: Request, waymark: WaymarkDep, pages: PagesDep) -> HTMLResponse:
    return pages.render(request, "programmes.html", programmes=waymark.programmes())


@router.get("/councils", dependencies=[allow(Permission.READ)])
def councils(request: Request, waymark: WaymarkDep, pages: PagesDep) -> HTMLResponse:
    return pages.render(request, "councils.html", councils=waymark.councils())


@router.get("/councils/{code}", dependencies=[allow(Permission.READ)])
def council(code: str, request: Request, waymark: WaymarkDep, pages: PagesDep) -> HTMLResponse:
    try:
        found = waymark.records.get_council(code)
    except InvalidValue:
        raise NotFound("council", code) from None
    return pages.render(request, "council.html", council=presenters.council(found))


@router.get("/programmes/{programme_id}", dependencies=[allow(Permission.READ)])
def programme(
    programme_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    principal: PrincipalDep,
) -> HTMLResponse:
    found = waymark.records.get_programme(programme_id)
    cohorts = waymark.cohorts_of(programme_id)
    assert principal is not None
    for row in cohorts:
        scope = waymark.access.scope(cohort_id=UUID(row["cohort_id"]))
        row["readable"] = waymark.access.allows(principal, Permission.READ_COHORT, scope)
    return pages.render(
        request, "programme.html", programme=presenters.programme(found), cohorts=cohorts
    )


# -- the cohort timeline ----------------------------------------------------------------

FILTER_DATES = date_fields("since", "until")


@router.get("/cohorts/{cohort_id}", dependencies=[allow(Permission.READ_COHORT)])
def cohort(
    cohort_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    kind: Annotated[str, Query(max_length=50)] = "",
    council: Annotated[str, Query(max_length=64)] = "",
    phase: Annotated[str, Query(max_length=50)] = "",
    order: Annotated[str, Query(max_length=20)] = "recorded_at",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    wait_for: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    found = waymark.records.get_cohort(cohort_id)
    projects = waymark.projects_of(cohort_id)
    raw = typed(FILTER_DATES, request.query_params)
    errors: list[FieldError] = []
    since = typed_day(raw, "since", "Decided from", errors)
    until = typed_day(raw, "until", "Decided up to", errors)
    filters = {
        "kind": kind if kind in ENTRY_KINDS else "",
        "council": council.upper()
        if council.upper() in {p["council_code"] for p in projects}
        else "",
        "phase": phase if phase in set(Phase) else "",
        "order": order if order in ("recorded_at", "decided_on") else "recorded_at",
    }
    freshness = waymark.fresh(wait_for)
    items, next_cursor = waymark.timeline(
        TimelineQuery(
            cohort_id=str(cohort_id),
            kind=filters["kind"] or None,
            council=filters["council"] or None,
            phase=filters["phase"] or None,
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            order=filters["order"],
            cursor=cursor,
            limit=TIMELINE_PAGE,
        )
    )
    query = {k: v for k, v in {**filters, **raw}.items() if v}
    return pages.render(
        request,
        "cohort.html",
        cohort=presenters.cohort(found),
        programme=presenters.programme(waymark.records.get_programme(found.programme_id)),
        projects=projects,
        items=items,
        filters=filters,
        values=raw,
        errors=errors,
        error_for=by_input(errors),
        query=query,
        next_cursor=next_cursor,
        first_page=cursor is None,
        freshness=freshness,
        kinds=list(ENTRY_KINDS),
        phases=[p.value for p in Phase],
    )


# -- a project: its history, as it stands or stood ------------------------------------

AS_OF = date_fields("as_of")


@router.get("/projects/{project_id}", dependencies=[allow(Permission.READ_COHORT)])
def project(
    project_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    principal: PrincipalDep,
    diff_from: Annotated[int | None, Query(alias="from", ge=1)] = None,
    diff_to: Annotated[int | None, Query(alias="to", ge=1)] = None,
    recorded: Annotated[str | None, Query(max_length=40)] = None,
    position: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    current = waymark.records.get_project(project_id)
    raw = typed(AS_OF, request.query_params)
    errors: list[FieldError] = []
    as_of: datetime | None = None
    shown = current
    day = typed_day(raw, "as_of", "The date", errors)
    if day is not None:
        as_of = end_of(day)
        try:
            shown = waymark.records.get_project(project_id, as_of=as_of)
        except NotFound:
            errors.append(
                FieldError("as_of", "The project had not started by that date", "#as_of-day")
            )
            as_of = None
    entries = sorted(shown.entries.values(), key=lambda e: e.recorded_at, reverse=True)
    views = [present.entry_view(shown, e) for e in entries]
    statements = [
        {
            "version": e.statement_version,
            "decided_on": e.decided_on,
            "text": shown.statement_text(e.statement_version or 0),
        }
        for e in shown.statements()
    ]
    diff = None
    if len(statements) >= 2:
        to_v = diff_to or len(statements)
        from_v = diff_from or max(1, to_v - 1)
        try:
            before = shown.statement_text(from_v, "from")
            after = shown.statement_text(to_v, "to")
        except InvalidValue as error:
            message = f"There is no version {from_v if error.field == 'from' else to_v}"
            errors.append(FieldError(f"diff-{error.field}", message, f"#diff-{error.field}"))
        else:
            diff = {"from": from_v, "to": to_v, "changes": present.word_diff(before, after)}
    assert principal is not None
    scope = waymark.access.scope(project_id=project_id)
    may_record = as_of is None and waymark.access.allows(principal, Permission.RECORD_ENTRY, scope)
    just_recorded = None
    found = present.uuid_or_none(recorded)
    if found is not None and found in current.entries and as_of is None:
        just_recorded = present.entry_view(current, current.entries[found])
    return pages.render(
        request,
        "project.html",
        project=presenters.project(shown),
        council=waymark.records.get_council(shown.council_code),
        cohort=presenters.cohort(waymark.records.get_cohort(shown.cohort_id)),
        entries=views,
        statements=statements,
        diff=diff,
        as_of=as_of,
        values=raw,
        errors=errors,
        error_for=by_input(errors),
        may_record=may_record,
        just_recorded=just_recorded,
        position=position,
    )
