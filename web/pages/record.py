"""Forms that record: one per entry kind, and a correction of any entry.

Every write goes through the same pydantic model and the same command as
``POST /api/projects/{id}/entries``; the session's CSRF token comes in the form.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from domain.errors import Conflict, InvalidValue, NotFound
from domain.project import GRANT_REFERENCES, Project
from services.access import Forbidden, Permission
from services.queries import pounds, project_view
from web.deps import ActorDep, PrincipalDep, WaymarkDep, allow, allow_kind, allow_path_kind
from web.pages import answers, present, words
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
RECORD = [
    Depends(form_csrf_token),
    allow(Permission.RECORD_ENTRY),
    Depends(allow_path_kind),
]


def _recorded(project_id: UUID, entry_id: UUID, position: int) -> RedirectResponse:
    return RedirectResponse(
        f"/projects/{project_id}?recorded={entry_id}&position={position}#entry-{entry_id}",
        status_code=303,
    )


def _choices(
    waymark: WaymarkDep, project: Project, kind: str, open_only: bool
) -> list[tuple[str, str]]:
    """The entries an entry of ``kind`` may name: a reuse names an output published in the
    programme; a payment or a closure a grant of the project; a measurement or a
    closure a benefit (a closure one not closed yet); an answer a support request
    not yet fulfilled or declined; a resolution (and anything else) an open concern."""
    if kind == "support_answered":
        return _support_requests(project)
    if kind in GRANT_REFERENCES:
        return _grants(project)
    if kind in ("benefit_measured", "benefit_closed"):
        return _benefits(project, kind, open_only)
    if kind == "output_reused":
        programme_id = waymark.queries.cohort_programme(project.cohort_id)
        return [
            (o["entry_id"], f"{o['title']} ({o['council_name'] or o['council_code']})")
            for o in waymark.queries.outputs(programme_id)
        ]
    return _concerns(project, open_only)


def _benefits(project: Project, kind: str, open_only: bool) -> list[tuple[str, str]]:
    """The project's benefits, by their values in force (not those closed, to close)."""
    closed = project.closed_benefits() if kind == "benefit_closed" and open_only else set()
    return [
        (str(e.entry_id), f"{values['measure']} ({values['unit']})")
        for e in project.entries.values()
        if e.kind == "benefit_defined" and e.entry_id not in closed
        for values in [project.in_force(e)]
    ]


def _grants(project: Project) -> list[tuple[str, str]]:
    """The project's grants, each with its funder and amount in force."""
    return [
        (str(grant.entry_id), f"{values['funder']}: {pounds(values['amount'])}")
        for grant in project.grants()
        for values in [project.in_force(grant)]
    ]


def _concerns(project: Project, open_only: bool) -> list[tuple[str, str]]:
    open_ones = set(project.open_concerns())
    return [
        (str(e.entry_id), f"{words.label(e.fields['category'])}: {e.fields['description']}")
        for e in project.entries.values()
        if e.kind == "concern_raised" and (e.entry_id in open_ones or not open_only)
    ]


def _support_requests(project: Project) -> list[tuple[str, str]]:
    """The project's support requests not yet fulfilled or declined, to be answered."""
    return [
        (str(e.entry_id), f"{words.label(e.fields['from_whom'])}: {e.fields['wish']}")
        for e in project.entries.values()
        if e.kind == "support_requested"
        and project.support_status(e.entry_id) not in ("fulfilled", "declined")
    ]


def _offered(request: Request, principal: PrincipalDep) -> list[str]:
    """The kinds this person may record here (the programme's own kinds only for it)."""
    kinds = []
    for kind in RECORDABLE:
        try:
            allow_kind(kind, request, principal)
        except Forbidden:
            continue
        kinds.append(kind)
    return kinds


# -- choosing what to record ------------------------------------------------------------


@router.get("/projects/{project_id}/entries/new", dependencies=RECORD)
def choose_kind(
    project_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    kind: Annotated[str | None, Query(max_length=50)] = None,
    chosen: Annotated[str | None, Query(max_length=10)] = None,
    principal: PrincipalDep = None,
) -> Response:
    offered = _offered(request, principal)
    if kind in offered:
        return RedirectResponse(f"/projects/{project_id}/entries/new/{kind}", status_code=303)
    errors = []
    if kind is not None or chosen is not None:
        errors.append(FieldError("kind", "Select what you want to record", "#kind"))
    project = waymark.records.get_project(project_id)
    return pages.render(
        request,
        "choose_kind.html",
        project=project,
        council=waymark.queries.council(project.council_code),
        kinds=offered,
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
    draft_saved: datetime | None = None,
    draft_kept: datetime | None = None,
) -> HTMLResponse:
    project = waymark.records.get_project(project_id)
    return pages.render(
        request,
        "entry_form.html",
        draft_saved=draft_saved,
        draft_kept=draft_kept,
        project=project,
        council=waymark.queries.council(project.council_code),
        kind=kind,
        fields=FORMS[kind],
        values=values,
        errors=errors,
        error_for=by_input(errors),
        concerns=_choices(waymark, project, kind, open_only=True),
        action=f"/projects/{project_id}/entries/new/{kind}/check",
        status_code=400 if errors else 200,
    )


def _kind(kind: str) -> str:
    if kind not in RECORDABLE:
        raise NotFound("kind of entry", kind)
    return kind


@router.get("/projects/{project_id}/entries/new/{kind}", dependencies=RECORD)
def new_entry(
    project_id: UUID,
    kind: str,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
) -> HTMLResponse:
    """The form, filled with the person's draft of it if they saved one."""
    draft = waymark.drafts.find(actor, project_id, _kind(kind))
    if draft is None:
        return _entry_form(request, pages, waymark, project_id, kind, {}, [])
    values = {k: str(v) for k, v in draft["answers"].items() if isinstance(k, str)}
    kept = raw_values(FORMS[kind], FormData(values))  # only this form's fields
    return _entry_form(
        request, pages, waymark, project_id, kind, kept, [], draft_kept=draft["saved_at"]
    )


def _entry_body(kind: str, raw: dict[str, str]) -> tuple[dict[str, Any], Any]:
    """The entry's values and ``decided_on`` as the API takes them; ValidationError if wrong."""
    fields = FORMS[kind]
    body = ENTRY_MODELS[kind].model_validate({"kind": kind, **body_values(fields, raw)})
    values = body.model_dump(mode="json", exclude={"kind", "decided_on"})
    return values, getattr(body, "decided_on", None)


def _refusal(fields: tuple[FormField, ...], error: InvalidValue | Conflict) -> FieldError:
    if isinstance(error, InvalidValue):
        return error_from_domain(fields, error)
    return FieldError("", str(error)[:1].upper() + str(error)[1:], "")


@router.post("/projects/{project_id}/entries/new/{kind}/check", dependencies=RECORD)
async def check_entry(
    project_id: UUID,
    kind: str,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
) -> Response:
    """The answers as they will be recorded, before anything is: nothing recorded is edited."""
    fields = FORMS[_kind(kind)]
    form = await request.form()
    raw = raw_values(fields, form)
    if form.get("save_draft"):
        # Kept for this person alone, not recorded: the form again, saying so.
        now = waymark.records.now()
        waymark.drafts.save(actor, project_id, kind, raw, now)
        return _entry_form(request, pages, waymark, project_id, kind, raw, [], draft_saved=now)
    try:
        values, decided_on = _entry_body(kind, raw)
        waymark.records.check_entry(
            project_id=project_id, kind=kind, decided_on=decided_on, values=values, actor=actor
        )
    except ValidationError as error:
        errors = errors_from_validation(fields, error, raw)
        return _entry_form(request, pages, waymark, project_id, kind, raw, errors)
    except (InvalidValue, Conflict) as error:
        refused = [_refusal(fields, error)]
        return _entry_form(request, pages, waymark, project_id, kind, raw, refused)
    project = waymark.records.get_project(project_id)
    base = f"/projects/{project_id}/entries/new/{kind}"
    return pages.render(
        request,
        "check_answers.html",
        project=project,
        council=waymark.queries.council(project.council_code),
        heading=f"Check your answers: {words.kind_name(kind).lower()}",
        rows=answers.rows(fields, raw, dict(_choices(waymark, project, kind, open_only=True))),
        hidden=raw,
        action=base,
        change=f"{base}/change",
        button="Record " + words.kind_name(kind).lower(),
        cancel=f"/projects/{project_id}",
    )


@router.post("/projects/{project_id}/entries/new/{kind}/change", dependencies=RECORD)
async def change_entry(
    project_id: UUID, kind: str, request: Request, waymark: WaymarkDep, pages: PagesDep
) -> Response:
    """The form again, with what was typed (from the check page's hidden fields)."""
    fields = FORMS[_kind(kind)]
    raw = raw_values(fields, await request.form())
    return _entry_form(request, pages, waymark, project_id, kind, raw, [])


@router.post("/projects/{project_id}/entries/new/{kind}", dependencies=RECORD)
async def record_entry(
    project_id: UUID,
    kind: str,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
) -> Response:
    """Record what the check page showed, every rule checked again."""
    fields = FORMS[_kind(kind)]
    raw = raw_values(fields, await request.form())
    try:
        values, decided_on = _entry_body(kind, raw)
    except ValidationError as error:
        errors = errors_from_validation(fields, error, raw)
        return _entry_form(request, pages, waymark, project_id, kind, raw, errors)
    try:
        written = waymark.records.record_entry(
            project_id=project_id, kind=kind, decided_on=decided_on, values=values, actor=actor
        )
    except (InvalidValue, Conflict) as error:
        refused = [_refusal(fields, error)]
        return _entry_form(request, pages, waymark, project_id, kind, raw, refused)
    waymark.drafts.discard(actor, project_id, kind)
    return _recorded(project_id, written.id, written.position)


# -- correcting an entry --------------------------------------------------------------------


def _correction_fields(project: Project, entry_id: UUID) -> tuple[str, tuple[FormField, ...]]:
    entry = project.entries.get(entry_id)
    if entry is None:
        raise NotFound("entry", entry_id)
    kind = project.corrected_kind(entry)
    # The date decided it corrects is held to the rule it was recorded under, and may be
    # confirmed as an earlier decision the same way (the confirmation is the correction's).
    fields = tuple(
        replace(f, kind="correction") if f.name == "decided_on" else f
        for f in FORMS[kind]
        # A correction is public by its own answer (its "correction-public" field).
        if f.name != "public"
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
    entries = present.by_id(project_view(project)["entries"])
    return pages.render(
        request,
        "correction_form.html",
        project=project,
        council=waymark.queries.council(project.council_code),
        kind=kind,
        entry=present.entry_view(entries, entries[str(entry_id)]),
        latest=str(project.current(entry_id).entry_id),
        fields=fields,
        correction_fields=CORRECTION_FIELDS,
        values=values,
        errors=errors,
        error_for=by_input(errors),
        concerns=_choices(waymark, project, kind, open_only=False),
        action=f"/projects/{project.id}/entries/{entry_id}/correction/check",
        status_code=400 if errors else 200,
    )


@router.get("/projects/{project_id}/entries/{entry_id}/correction", dependencies=RECORD)
def new_correction(
    project_id: UUID, entry_id: UUID, request: Request, waymark: WaymarkDep, pages: PagesDep
) -> HTMLResponse:
    project = waymark.records.get_project(project_id)
    _, fields = _correction_fields(project, entry_id)
    current = present.current_values(project, project.entries[entry_id])
    current.pop("earlier_decision_confirmed", None)  # confirmed anew if the date needs it
    values = form_values(fields, current)
    if project.is_public(entry_id):  # a correction is public only if it says so: offer it
        values["correction-public"] = "yes"
    return _correction_form(request, pages, waymark, project, entry_id, values, [])


def _correction_values(
    project: Project, entry_id: UUID, fields: tuple[FormField, ...], raw: dict[str, str]
) -> tuple[dict[str, Any], list[FieldError]]:
    """The correction as the API takes it, or what is wrong with the form."""
    kind = project.corrected_kind(project.entries[entry_id])
    errors: list[FieldError] = []
    new_values: dict[str, Any] = {}
    try:
        entered = ENTRY_MODELS[kind].model_validate({"kind": kind, **body_values(fields, raw)})
        new_values = entered.model_dump(mode="json", exclude={"kind"})
    except ValidationError as error:
        errors += errors_from_validation(fields, error, raw)
    try:
        correction = EntryCorrected.model_validate(
            {"kind": "entry_corrected", "corrects": str(entry_id), "replacement": {}}
            | body_values(CORRECTION_FIELDS, raw)
        )
    except ValidationError as error:
        errors += errors_from_validation(CORRECTION_FIELDS, error, raw)
    if errors:
        return {}, errors
    current = present.current_values(project, project.entries[entry_id])
    by_name = {f.name: f for f in fields}
    confirmed = new_values.pop("earlier_decision_confirmed", None)
    replacement = {
        name: value
        for name, value in new_values.items()
        if name in by_name
        and not (name == "decided_on" and value is None)
        and not same_value(by_name[name], current.get(name), value)
    }
    values = correction.model_dump(mode="json", exclude={"kind", "decided_on"})
    values["replacement"] = replacement
    if confirmed:
        values["earlier_decision_confirmed"] = True
    return values, []


def _correction_refusal(
    fields: tuple[FormField, ...], error: InvalidValue | Conflict
) -> FieldError:
    if isinstance(error, InvalidValue):
        if error.field == "replacement":
            return FieldError("", "Change at least one answer to correct the entry", "")
        own = not error.field.startswith("replacement.")
        return error_from_domain(CORRECTION_FIELDS if own else fields, error)
    return _refusal(fields, error)


async def _correction_raw(request: Request, fields: tuple[FormField, ...]) -> dict[str, str]:
    form = await request.form()
    return raw_values(fields, form) | raw_values(CORRECTION_FIELDS, form)


@router.post("/projects/{project_id}/entries/{entry_id}/correction/check", dependencies=RECORD)
async def check_correction(
    project_id: UUID,
    entry_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
) -> Response:
    """The correction as it will be recorded, before anything is."""
    project = waymark.records.get_project(project_id)
    kind, fields = _correction_fields(project, entry_id)
    raw = await _correction_raw(request, fields)
    values, errors = _correction_values(project, entry_id, fields, raw)
    if not errors:
        try:
            waymark.records.check_entry(
                project_id=project_id,
                kind="entry_corrected",
                decided_on=None,
                values=values,
                actor=actor,
            )
        except (InvalidValue, Conflict) as error:
            errors = [_correction_refusal(fields, error)]
    if errors:
        return _correction_form(request, pages, waymark, project, entry_id, raw, errors)
    changed = set(values["replacement"]) | (
        {"earlier_decision_confirmed"} if values.get("earlier_decision_confirmed") else set()
    )
    base = f"/projects/{project_id}/entries/{entry_id}/correction"
    concerns = dict(_choices(waymark, project, kind, open_only=False))
    return pages.render(
        request,
        "check_answers.html",
        project=project,
        council=waymark.queries.council(project.council_code),
        heading="Check your correction",
        intro="The entry stays in the history, marked as corrected; these answers replace it.",
        rows=answers.rows(tuple(f for f in fields if f.name in changed), raw, concerns),
        rows_heading="What the correction changes",
        more_rows=answers.rows(CORRECTION_FIELDS, raw, concerns),
        more_heading="About the correction",
        hidden=raw,
        action=base,
        change=f"{base}/change",
        button="Record the correction",
        cancel=f"/projects/{project_id}#entry-{entry_id}",
    )


@router.post("/projects/{project_id}/entries/{entry_id}/correction/change", dependencies=RECORD)
async def change_correction(
    project_id: UUID, entry_id: UUID, request: Request, waymark: WaymarkDep, pages: PagesDep
) -> Response:
    project = waymark.records.get_project(project_id)
    _, fields = _correction_fields(project, entry_id)
    raw = await _correction_raw(request, fields)
    return _correction_form(request, pages, waymark, project, entry_id, raw, [])


@router.post("/projects/{project_id}/entries/{entry_id}/correction", dependencies=RECORD)
async def record_correction(
    project_id: UUID,
    entry_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
) -> Response:
    """Record what the check page showed, every rule checked again."""
    project = waymark.records.get_project(project_id)
    kind, fields = _correction_fields(project, entry_id)
    raw = await _correction_raw(request, fields)
    values, errors = _correction_values(project, entry_id, fields, raw)
    if not errors:
        try:
            written = waymark.records.record_entry(
                project_id=project_id,
                kind="entry_corrected",
                decided_on=None,
                values=values,
                actor=actor,
            )
        except (InvalidValue, Conflict) as error:
            errors = [_correction_refusal(fields, error)]
    if errors:
        return _correction_form(request, pages, waymark, project, entry_id, raw, errors)
    return _recorded(project_id, written.id, written.position)


# -- making an earlier entry public ------------------------------------------------------

#: What making an entry public asks: why it can be public (optional).
MADE_PUBLIC_FIELDS = tuple(f for f in FORMS["entry_made_public"] if f.name == "reason")


def _make_public_page(
    request: Request,
    pages: PagesDep,
    waymark: WaymarkDep,
    project_id: UUID,
    entry_id: UUID,
    raw: dict[str, str],
    errors: list[FieldError],
) -> HTMLResponse:
    shown = waymark.queries.project(project_id)
    entries = present.by_id(shown["entries"])
    found = entries.get(str(entry_id))
    if found is None or found["kind"] in ("entry_corrected", "entry_made_public"):
        raise NotFound("entry", entry_id)
    cohort = waymark.queries.cohort(UUID(shown["cohort_id"]))
    return pages.render(
        request,
        "make_public.html",
        project=shown,
        council=waymark.queries.council(shown["council_code"]),
        entry=present.entry_view(entries, found),
        publishing_allowed=waymark.queries.programme(UUID(cohort["programme_id"]))[
            "publishing_allowed"
        ],
        fields=MADE_PUBLIC_FIELDS,
        values=raw,
        errors=errors,
        error_for=by_input(errors),
        status_code=400 if errors else 200,
    )


@router.get("/projects/{project_id}/entries/{entry_id}/make-public", dependencies=RECORD)
def make_public_page(
    project_id: UUID, entry_id: UUID, request: Request, waymark: WaymarkDep, pages: PagesDep
) -> HTMLResponse:
    """Are you sure? An earlier entry shown on the project's public page, to anyone."""
    return _make_public_page(request, pages, waymark, project_id, entry_id, {}, [])


@router.post("/projects/{project_id}/entries/{entry_id}/make-public", dependencies=RECORD)
async def make_public(
    project_id: UUID,
    entry_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
) -> Response:
    """Record that the entry is public (``entry_made_public``): the domain's rules decide."""
    raw = raw_values(MADE_PUBLIC_FIELDS, await request.form())
    values = {"made_public_entry_id": str(entry_id), **body_values(MADE_PUBLIC_FIELDS, raw)}
    try:
        written = waymark.records.record_entry(
            project_id=project_id,
            kind="entry_made_public",
            decided_on=None,
            values=values,
            actor=actor,
        )
    except (InvalidValue, Conflict) as error:
        errors = [_refusal(MADE_PUBLIC_FIELDS, error)]
        return _make_public_page(request, pages, waymark, project_id, entry_id, raw, errors)
    return _recorded(project_id, written.id, written.position)
