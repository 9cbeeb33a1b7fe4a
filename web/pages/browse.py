"""Pages that read: programmes, cohorts and their timelines, projects, councils."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from domain.errors import InvalidValue, NotFound
from domain.project import ENTRY_KINDS
from domain.vocabulary import Phase
from services.access import Permission
from web.api.councils import council_as_shown, shares_as_shown
from web.deps import PrincipalDep, WaymarkDep, allow
from web.pages import outcomes, present
from web.pages.dates import date_fields, past_day, typed, typed_range
from web.pages.entry_forms import FieldError, by_input
from web.pages.routing import PageRoute, PagesDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TIMELINE_PAGE = 20
Day = Annotated[str, Query(max_length=10)]


@router.get("/", dependencies=[allow(Permission.READ)])
def programmes(
    request: Request, waymark: WaymarkDep, pages: PagesDep, principal: PrincipalDep
) -> HTMLResponse:
    assert principal is not None  # allow() sent anyone else to sign in
    # A participant starts from their own council: its projects, then its cohorts.
    own = waymark.queries.projects_of_councils(principal.councils())
    councils: dict[str, dict[str, Any]] = {}
    for p in own:
        council = councils.setdefault(
            p["member_code"],
            {"code": p["member_code"], "name": p["member_name"], "projects": []},
        )
        council["projects"].append(p)
    # A partner reads its projects, not the rest of their cohorts.
    cohorts = list({p["cohort_id"]: p for p in own if p["role"] == "lead"}.values())
    return pages.render(
        request,
        "programmes.html",
        programmes=waymark.queries.programmes(),
        own_councils=sorted(principal.councils()),
        own=list(councils.values()),
        own_cohorts=cohorts,
    )


@router.get("/councils", dependencies=[allow(Permission.READ)])
def councils(request: Request, waymark: WaymarkDep, pages: PagesDep) -> HTMLResponse:
    return pages.render(request, "councils.html", councils=waymark.queries.councils())


@router.get("/councils/{code}", dependencies=[allow(Permission.READ)])
def council(
    code: str, request: Request, waymark: WaymarkDep, pages: PagesDep, principal: PrincipalDep
) -> HTMLResponse:
    try:
        found = waymark.queries.council_record(code)
    except InvalidValue:
        raise NotFound("council", code) from None
    assert principal is not None  # allow() sent anyone else to sign in
    code = found["code"]
    shown = council_as_shown(waymark, principal, found)
    projects = waymark.queries.projects_of_councils({code})
    readable = set()
    for row in projects:
        scope = waymark.access.scope(cohort_id=UUID(row["cohort_id"]))
        row["cohort_readable"] = waymark.access.allows(principal, Permission.READ_COHORT, scope)
        if row["cohort_readable"]:
            readable.add(row["cohort_id"])
        # A partner's participants read the project, not the rest of its cohort.
        row["readable"] = row["cohort_readable"] or waymark.access.allows(
            principal,
            Permission.READ_COHORT,
            waymark.access.scope(project_id=UUID(row["project_id"])),
        )
    sessions = [s for s in waymark.queries.sessions_of_council(code) if s["cohort_id"] in readable]
    return pages.render(
        request,
        "council.html",
        council=shown,
        projects=projects,
        sessions=sessions,
        shares=shares_as_shown(waymark, principal, code),
        own=code in principal.councils(),
        audit_id=waymark.queries.council(code)["council_id"],
        outputs=waymark.queries.outputs_of_council(code),
    )


@router.get("/programmes/{programme_id}", dependencies=[allow(Permission.READ)])
def programme(
    programme_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    principal: PrincipalDep,
) -> HTMLResponse:
    found = waymark.queries.programme_record(programme_id)
    cohorts = waymark.queries.cohorts_of(programme_id)
    assert principal is not None
    for row in cohorts:
        scope = waymark.access.scope(cohort_id=UUID(row["cohort_id"]))
        row["readable"] = waymark.access.allows(principal, Permission.READ_COHORT, scope)
    raw = typed(PROGRAMME_AS_OF, request.query_params)
    errors: list[FieldError] = []
    as_of = past_day(raw, errors, waymark.queries.today())
    may_read = waymark.access.allows(
        principal, Permission.READ_PROGRAMME_RECORD, waymark.access.scope(programme_id=programme_id)
    )
    outcomes_then = (
        _outcomes(waymark.queries.programme_outcomes(programme_id, as_of=as_of))
        if may_read
        else None
    )
    return pages.render(
        request,
        "programme.html",
        programme=found,
        cohorts=cohorts,
        funding=waymark.queries.funding_of_programme(programme_id, as_of=as_of),
        outcomes=outcomes_then,
        as_of=as_of,
        values=raw,
        errors=errors,
        error_for=by_input(errors),
    )


def _outcomes(found: dict[str, Any]) -> dict[str, Any]:
    """Cohort or programme outcomes with each benefit and assessment ready to show."""
    for project in found["projects"]:
        project["benefits"] = [outcomes.benefit_view(b) for b in project["benefits"]]
        project["latest_assessment"] = outcomes.assessment_view(project["latest_assessment"])
    return found


PROGRAMME_AS_OF = date_fields("as_of")


# -- the cohort timeline ----------------------------------------------------------------

FILTER_DATES = date_fields("since", "until")
AS_OF = date_fields("as_of")


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
    found = waymark.queries.cohort(cohort_id)
    projects = waymark.queries.projects_of(cohort_id)
    raw = typed(FILTER_DATES + AS_OF, request.query_params)
    errors: list[FieldError] = []
    since, until = typed_range(raw, ("Decided from", "Decided up to"), errors)
    as_of = past_day(raw, errors, waymark.queries.today())
    first_recorded = None
    if as_of is not None:
        # The councils and projects enrolled by then, as they stood
        projects = waymark.queries.comparison_of_cohort(cohort_id, as_of=as_of)
        first_recorded = waymark.queries.first_recorded(cohort_id)
    names = {c["code"]: c["name"] for c in waymark.queries.councils()}
    councils = present.councils_taking_part(projects, names)
    filters = {
        "kind": kind if kind in ENTRY_KINDS else "",
        "council": council.upper() if council.upper() in {c["code"] for c in councils} else "",
        "phase": phase if phase in set(Phase) else "",
        "order": order if order in ("recorded_at", "decided_on") else "recorded_at",
    }
    freshness = waymark.queries.fresh(wait_for)
    items, next_cursor = waymark.queries.timeline(
        cohort_id,
        kind=filters["kind"] or None,
        council=filters["council"] or None,
        phase=filters["phase"] or None,
        since=since,
        until=until,
        as_of=as_of,
        order=filters["order"],
        cursor=cursor,
        limit=TIMELINE_PAGE,
    )
    for item in items:
        present.in_force(item)
        item["taking_part"] = present.taking_part(
            item["lead_council_name"] or item["lead_council_code"], item["partner_council_names"]
        )
    query = {k: v for k, v in {**filters, **raw}.items() if v}
    cohort_outcomes = _outcomes(waymark.queries.cohort_outcomes(cohort_id, as_of=as_of))
    names = {p["council_code"]: p.get("council_name") for p in projects}
    for p in cohort_outcomes["projects"]:
        p["council_name"] = names.get(p["council_code"])
    return pages.render(
        request,
        "cohort.html",
        cohort=found,
        funding=waymark.queries.funding_of_cohort(cohort_id, as_of=as_of),
        programme=waymark.queries.programme(UUID(found["programme_id"])),
        projects=projects,
        councils=councils,
        sessions=waymark.queries.sessions_of_cohort(cohort_id, as_of=as_of),
        items=items,
        filters=filters,
        values=raw,
        errors=errors,
        error_for=by_input(errors),
        query=query,
        next_cursor=next_cursor,
        first_page=cursor is None,
        freshness=freshness,
        as_of=as_of,
        first_recorded=first_recorded,
        outcomes=cohort_outcomes,
        kinds=list(ENTRY_KINDS),
        phases=[p.value for p in Phase],
    )


# -- a project: its history, as it stands or stood ------------------------------------


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
    raw = typed(AS_OF, request.query_params)
    errors: list[FieldError] = []
    as_of = past_day(raw, errors, waymark.queries.today())
    now = waymark.queries.project(project_id)
    shown: dict[str, Any] | None = now
    if as_of is not None:
        try:
            shown = waymark.queries.project(project_id, as_of=as_of)
        except NotFound:
            shown = None  # not started by then
    if shown is None or not shown["entries"]:
        # Before anything was recorded: nothing of today's record is shown.
        first = min((e["recorded_at"] for e in now["entries"]), default=None)
        if as_of is not None:
            cohort_now = waymark.queries.cohort(UUID(now["cohort_id"]))
            return pages.render(
                request,
                "project.html",
                project={k: now[k] for k in ("project_id", "title", "cohort_id")},
                council=waymark.queries.council(now["council_code"]),
                cohort=cohort_now,
                programme=waymark.queries.programme(UUID(cohort_now["programme_id"])),
                as_of=as_of,
                nothing_yet=True,
                first_recorded=date.fromisoformat(first[:10]) if first else None,
                values=raw,
                errors=errors,
                error_for=by_input(errors),
            )
        shown = now
    entries = present.by_id(shown["entries"])
    newest_first = sorted(shown["entries"], key=lambda e: str(e["recorded_at"]), reverse=True)
    views = [present.entry_view(entries, e) for e in newest_first]
    statements = [
        {
            "version": s["version"],
            "decided_on": entries[s["entry_id"]]["decided_on"],
            "text": present.statement_text(entries, shown, s["version"]),
        }
        for s in shown["problem_statements"]
    ]
    diff = None
    if len(statements) >= 2:
        to_v = diff_to or len(statements)
        from_v = diff_from or max(1, to_v - 1)
        try:
            before = present.statement_text(entries, shown, from_v, "from")
            after = present.statement_text(entries, shown, to_v, "to")
        except InvalidValue as error:
            message = f"There is no version {from_v if error.field == 'from' else to_v}"
            errors.append(FieldError(f"diff-{error.field}", message, f"#diff-{error.field}"))
        else:
            diff = {"from": from_v, "to": to_v, "changes": present.word_diff(before, after)}
    assert principal is not None
    scope = waymark.access.scope(project_id=project_id)
    may_record = as_of is None and waymark.access.allows(principal, Permission.RECORD_ENTRY, scope)
    just_recorded = None
    just_changed: list[present.Line] = []
    found = present.uuid_or_none(recorded)
    if found is not None and str(found) in entries and as_of is None:
        just_recorded = present.entry_view(entries, entries[str(found)])
        if just_recorded.corrects:
            # What the correction put in force, each value with what it was
            root = entries[just_recorded.corrects]
            while root["kind"] == "entry_corrected":
                root = entries[root["corrects"]]
            just_changed = [line for line in present.entry_view(entries, root).lines if line.was]
    cohort_shown = waymark.queries.cohort(UUID(shown["cohort_id"]))
    # A partner's participants read the project, not the rest of its cohort.
    may_read_cohort = waymark.access.allows(
        principal,
        Permission.READ_COHORT,
        waymark.access.scope(cohort_id=UUID(shown["cohort_id"])),
    )
    programme_shown = waymark.queries.programme(UUID(cohort_shown["programme_id"]))
    # Entries a person who records may make public (they are not yet), where it is allowed
    may_publish = may_record and programme_shown["publishing_allowed"]
    public_ids = waymark.queries.public_entry_ids(project_id) if may_publish else frozenset()
    found_outcomes = waymark.queries.project_outcomes(project_id, as_of=as_of)
    return pages.render(
        request,
        "project.html",
        project=shown,
        council=waymark.queries.council(shown["council_code"]),
        partners=[waymark.queries.council(code) for code in shown["partner_council_codes"]],
        cohort=cohort_shown,
        may_read_cohort=may_read_cohort,
        programme=programme_shown,
        may_publish=may_publish,
        public_ids=public_ids,
        entries=views,
        statements=statements,
        diff=diff,
        as_of=as_of,
        values=raw,
        errors=errors,
        error_for=by_input(errors),
        may_record=may_record,
        support=waymark.queries.support_of_project(project_id) if as_of is None else [],
        just_recorded=just_recorded,
        just_changed=just_changed,
        position=position,
        outputs=waymark.queries.outputs_of_project(project_id) if as_of is None else None,
        funding=waymark.queries.funding_of_project(project_id, as_of=as_of),
        benefits=[outcomes.benefit_view(b) for b in found_outcomes["benefits"]],
        assessments=[outcomes.assessment_view(a) for a in found_outcomes["assessments"]],
    )
