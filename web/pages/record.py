"""Forms that record: one per entry kind, and a correction of any entry.

Every write goes through the same pydantic model and the same command as
``POST /api/projects/{id}/entries``; the session's CSRF token comes in the form.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from domain.errors import Conflict, InvalidValue, NotFound
from domain.project import Project
from services.access import Permission
from web.deps import ActorDep, WaymarkDep, allow
from web.pages import present, words
from web.pages.entry_forms import (
    CORRECTION_FIELDS,
    ENTRY_MODELS,
    FORMS,
    RECORDABLE,
    FieldError,
    FormField,
    body_values,
    by_input,
    error_from_domain,
    errors_from_validation,
    form_values,
    raw_values,
    same_value,
)
from web.pages.routing import PageRoute, PagesDep, form_csrf_token
from web.schemas import EntryCorrected

router = APIRouter(route_class=PageRoute, include_in_schema=False)
RECORD = [Depends(form_csrf_token), allow(Permission.RECORD_ENTRY)]


def _recorded(project_id: UUID, entry_id: UUID, position: int) -> RedirectResponse:
    return RedirectResponse(
        f"/projects/{project_id}?recorded={entry_id}&position={position}#entry-{entry_id}",
        status_code=303,
    )


def _concerns(project: Project, open_only: bool) -> list[tuple[str, str]]:
    open_ones = set(project.open_concerns())
    return [
        (str(e.entry_id), f"{words.label(e.fields['category'])}: {e.fields['description']}")
        for e in project.entries.values()
        if e.kind == "concern_raised" and (e.entry_id in open_ones or not open_only)
    ]


# -- choosing what to record ------------------------------------------------------------


@router.get("/projects/{project_id}/entries/new", dependencies=RECORD)
def choose_kind(
    project_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    kind: Annotated[str | None, Query(max_length=50)] = None,
    chosen: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    if kind in RECORDABLE:
        return RedirectResponse(f"/projects/{project_id}/entries/new/{kind}", status_code=303)
    errors = []
    if kind is not None or chosen is not None:
        errors.append(FieldError("kind", "Select what you want to record", "#kind"))
    project = waymark.records.get_project(project_id)
    return pages.render(
        request,
        "choose_kind.html",
        project=project,
        council=waymark.records.get_council(project.council_code),
        kinds=RECORDABLE,
        errors=errors,
        status_code=400 if errors else 200,
    )


# -- one entry kind ----------------------------------------------------------------------


def _entry_form(
    request: Request,
    pages: PagesDep,
    waymark: WaymarkDep,
    project_id: UUID,
    kind: str,
    values: dict[str, str],
    errors: list[FieldError],
) -> HTMLResponse:
    project = waymark.records.get_project(project_id)
    return pages.render(
        request,
        "entry_form.html",
        project=project,
        council=waymark.records.get_council(project.council_code),
        kind=kind,
        fields=FORMS[kind],
        values=values,
        errors=errors,
        error_for=by_input(errors),
        concerns=_concerns(project, open_only=True),
        action=f"/projects/{project_id}/entries/new/{kind}",
        status_code=400 if errors else 200,
    )


def _kind(kind: str) -> str:
    if kind not in RECORDABLE:
        raise NotFound("kind of entry", kind)
    return kind


@router.get("/projects/{project_id}/entries/new/{kind}", dependencies=RECORD)
def new_entry(
    project_id: UUID, kind: str, request: Request, waymark: WaymarkDep, pages: PagesDep
) -> HTMLResponse:
    return _entry_form(request, pages, waymark, project_id, _kind(kind), {}, [])


@router.post("/projects/{project_id}/entries/new/{kind}", dependencies=RECORD)
async def record_entry(
    project_id: UUID,
    kind: str,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
) -> Response:
    fields = FORMS[_kind(kind)]
    raw = raw_values(fields, await request.form())
    try:
        body = ENTRY_MODELS[kind].model_validate({"kind": kind, **body_values(fields, raw)})
    except ValidationError as error:
        errors = errors_from_validation(fields, error)
        return _entry_form(request, pages, waymark, project_id, kind, raw, errors)
    values = body.model_dump(mode="json", exclude={"kind", "decided_on"})
    try:
        written = waymark.records.record_entry(
            project_id=project_id,
            kind=kind,
            decided_on=getattr(body, "decided_on", None),
            values=values,
            actor=actor,
        )
    except InvalidValue as error:
        errors = [error_from_domain(fields, error)]
        return _entry_form(request, pages, waymark, project_id, kind, raw, errors)
    except Conflict as error:
        errors = [FieldError("", str(error)[:1].upper() + str(error)[1:], "")]
        return _entry_form(request, pages, waymark, project_id, kind, raw, errors)
    return _recorded(project_id, written.id, written.position)


# -- correcting an entry --------------------------------------------------------------------


def _correction_fields(project: Project, entry_id: UUID) -> tuple[str, tuple[FormField, ...]]:
    entry = project.entries.get(entry_id)
    if entry is None:
        raise NotFound("entry", entry_id)
    kind = project.corrected_kind(entry)
    fields = tuple(
        replace(f, kind="correction") if f.name == "decided_on" else f for f in FORMS[kind]
    )
    return kind, fields


def _correction_form(
    request: Request,
    pages: PagesDep,
    waymark: WaymarkDep,
    project: Project,
    entry_id: UUID,
    values: dict[str, str],
    errors: list[FieldError],
) -> HTMLResponse:
    kind, fields = _correction_fields(project, entry_id)
    entry = project.entries[entry_id]
    return pages.render(
        request,
        "correction_form.html",
        project=project,
        council=waymark.records.get_council(project.council_code),
        kind=kind,
        entry=present.entry_view(project, entry),
        latest=str(project.current(entry_id).entry_id),
        fields=fields,
        correction_fields=CORRECTION_FIELDS,
        values=values,
        errors=errors,
        error_for=by_input(errors),
        concerns=_concerns(project, open_only=False),
        action=f"/projects/{project.id}/entries/{entry_id}/correction",
        status_code=400 if errors else 200,
    )


@router.get("/projects/{project_id}/entries/{entry_id}/correction", dependencies=RECORD)
def new_correction(
    project_id: UUID, entry_id: UUID, request: Request, waymark: WaymarkDep, pages: PagesDep
) -> HTMLResponse:
    project = waymark.records.get_project(project_id)
    _, fields = _correction_fields(project, entry_id)
    current = present.current_values(project, project.entries[entry_id])
    values = form_values(fields, current)
    return _correction_form(request, pages, waymark, project, entry_id, values, [])


@router.post("/projects/{project_id}/entries/{entry_id}/correction", dependencies=RECORD)
async def record_correction(
    project_id: UUID,
    entry_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
) -> Response:
    project = waymark.records.get_project(project_id)
    kind, fields = _correction_fields(project, entry_id)
    form = await request.form()
    raw = raw_values(fields, form) | raw_values(CORRECTION_FIELDS, form)

    def again(errors: list[FieldError]) -> HTMLResponse:
        return _correction_form(request, pages, waymark, project, entry_id, raw, errors)

    errors: list[FieldError] = []
    new_values: dict[str, Any] = {}
    try:
        entered = ENTRY_MODELS[kind].model_validate({"kind": kind, **body_values(fields, raw)})
        new_values = entered.model_dump(mode="json", exclude={"kind"})
    except ValidationError as error:
        errors += errors_from_validation(fields, error)
    try:
        correction = EntryCorrected.model_validate(
            {"kind": "entry_corrected", "corrects": str(entry_id), "replacement": {}}
            | body_values(CORRECTION_FIELDS, raw)
        )
    except ValidationError as error:
        errors += errors_from_validation(CORRECTION_FIELDS, error)
    if errors:
        return again(errors)
    current = present.current_values(project, project.entries[entry_id])
    by_name = {f.name: f for f in fields}
    replacement = {
        name: value
        for name, value in new_values.items()
        if name in by_name
        and not (name == "decided_on" and value is None)
        and not same_value(by_name[name], current.get(name), value)
    }
    values = correction.model_dump(mode="json", exclude={"kind", "decided_on"})
    values["replacement"] = replacement
    try:
        written = waymark.records.record_entry(
            project_id=project_id,
            kind="entry_corrected",
            decided_on=None,
            values=values,
            actor=actor,
        )
    except InvalidValue as error:
        if error.field == "replacement":
            return again([FieldError("", "Change at least one answer to correct the entry", "")])
        own = not error.field.startswith("replacement.")
        return again([error_from_domain(CORRECTION_FIELDS if own else fields, error)])
    except Conflict as error:
        return again([FieldError("", str(error)[:1].upper() + str(error)[1:], "")])
    return _recorded(project_id, written.id, written.position)
