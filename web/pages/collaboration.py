"""Pages of a programme's work across councils: its outputs and who reused them, and
its capabilities with every council's capacity decisions about each."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from domain.errors import InvalidValue
from domain.vocabulary import OutputKind, Phase
from services.access import Permission
from web.deps import WaymarkDep, allow
from web.pages.entry_forms import FieldError, by_input
from web.pages.routing import PageRoute, PagesDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)
READ = [allow(Permission.READ)]
Filter = Annotated[str, Query(max_length=100)]

#: What the error summary says of a filter value that is not one of its choices.
FILTER_ERRORS = {
    "kind": "Select a kind of output from the list",
    "phase": "Select a phase from the list",
    "council": "Select a council from the list",
    "cohort": "Select a cohort from the list",
}


@router.get("/programmes/{programme_id}/outputs", dependencies=READ)
def outputs(
    programme_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    kind: Filter = "",
    phase: Filter = "",
    council: Filter = "",
    cohort: Filter = "",
) -> HTMLResponse:
    programme = waymark.queries.programme(programme_id)
    filters = {"kind": kind, "phase": phase, "council": council.upper(), "cohort": cohort}
    errors: list[FieldError] = []
    while True:
        try:
            items = waymark.queries.outputs(programme_id, **filters)
            break
        except InvalidValue as error:
            if error.field not in filters or not filters[error.field]:
                raise
            errors.append(FieldError(error.field, FILTER_ERRORS[error.field], f"#{error.field}"))
            filters[error.field] = ""  # shown unfiltered by it, with the error
    councils = {c["code"]: c["name"] for c in waymark.queries.councils()}
    publishing = sorted(
        {i["council_code"] for i in waymark.queries.outputs(programme_id)},
        key=lambda code: councils.get(code, code),
    )
    return pages.render(
        request,
        "outputs.html",
        programme=programme,
        items=items,
        filters=filters,
        errors=errors,
        error_for=by_input(errors),
        kinds=[k.value for k in OutputKind],
        phases=[p.value for p in Phase],
        councils=[(code, councils.get(code, code)) for code in publishing],
        cohorts=waymark.queries.cohorts_of(programme_id),
        status_code=400 if errors else 200,
    )


@router.get("/programmes/{programme_id}/capabilities", dependencies=READ)
def capabilities(
    programme_id: UUID, request: Request, waymark: WaymarkDep, pages: PagesDep
) -> HTMLResponse:
    return pages.render(
        request,
        "capabilities.html",
        programme=waymark.queries.programme(programme_id),
        items=waymark.queries.capabilities(programme_id),
    )


@router.get("/programmes/{programme_id}/capabilities/{slug}", dependencies=READ)
def capability(
    programme_id: UUID,
    slug: Annotated[str, Path(max_length=100)],
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
) -> HTMLResponse:
    found: dict[str, Any] = waymark.queries.capability(programme_id, slug)
    return pages.render(
        request,
        "capability.html",
        programme=waymark.queries.programme(programme_id),
        capability=found,
    )
