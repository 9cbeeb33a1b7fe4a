"""Recording a cohort's session (with check your answers), and a programme's support page.

The session journey asks its questions, shows them to check, then records through the
same request model (``SessionIn``) and command as ``POST /api/cohorts/{id}/sessions``.
Who came is typed one line per council and role; links one line each, as an entry's are
("title | address", ``links_from_lines``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from domain.errors import Conflict, InvalidValue
from domain.vocabulary import AttendeeRole, SessionKind, SupportSource, SupportStatus
from services.access import Permission
from web.deps import ActorDep, WaymarkDep, allow
from web.pages.entry_forms import FieldError, body_values, error_from_domain, links_from_lines
from web.pages.routing import PageRoute, PagesDep
from web.pages.setup import (
    MANAGE,
    Journey,
    Question,
    _check,
    _conflict,
    _date_parts_missing,
    _done,
    _form,
    _key,
    _open_cohort,
    _raw,
    _validate,
)
from web.schemas import SessionIn

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ROLE_WORDS = ", ".join(role.value.replace("_", " ") for role in AttendeeRole)
SESSION_FIELDS = (
    Question(
        "session_kind",
        "radios",
        True,
        tuple(k.value for k in SessionKind),
        question="What kind of session was it?",
    ),
    Question("held_on", "date", True, question="Date held", help="For example, 12 3 2026"),
    Question("topic", "text", True, question="Topic"),
    Question("run_by", "text", True, question="Who ran it", help="A person or an organisation"),
    Question(
        "attendance",
        "lines",
        False,
        question="Who came",
        help="One line for each council and role: the council’s code, the role and how many "
        f"people came, for example GB-EXE, cabinet member, 3. Roles: {ROLE_WORDS}.",
    ),
    Question("notes", "textarea", False, question="Notes", limit=20_000),
    Question(
        "links",
        "links",
        False,
        question="Links",
        help="One link per line: a title, a vertical bar, then the web address. "
        "For example, Slides | https://example.org/slides",
    ),
)
FIELD_NAMES = {q.name for q in SESSION_FIELDS}


def _attendance(text: str, errors: list[FieldError]) -> list[dict[str, Any]]:
    found = []
    for number, line in enumerate((t for t in text.splitlines() if t.strip()), start=1):
        parts = [part.strip() for part in line.split(",")]
        people = parts[2] if len(parts) == 3 else ""
        if not people.isdigit() or not parts[0] or not parts[1]:
            message = (
                f"Who came, line {number}, must be a council code, a role and a number of "
                "people, such as GB-EXE, leader, 1"
            )
            errors.append(FieldError("attendance", message, "#attendance"))
            return []
        role = parts[1].lower().replace(" ", "_").replace("-", "_")
        found.append({"council_code": parts[0], "role": role, "people": int(people)})
    return found


def _line_error(error: InvalidValue | FieldError) -> FieldError:
    """A refusal of one line of who came, on its field, naming the line."""
    if isinstance(error, FieldError):
        return error
    name, _, rest = error.field.partition(".")
    index, _, part = rest.partition(".")
    question = next(q for q in SESSION_FIELDS if q.name == name)
    where = f", line {int(index) + 1}" if index.isdigit() else ""
    what = f" {part.replace('_', ' ')}" if part else ""
    text = f"{question.label}{where}:{what} {error.message}"
    return FieldError(name, text, f"#{question.first_input_id}")


def _answers(raw: dict[str, str]) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """The session as the API takes it, or the errors to show."""
    errors = _date_parts_missing(SESSION_FIELDS, raw)
    values = body_values(SESSION_FIELDS[:4] + SESSION_FIELDS[5:6], raw)
    values["attendance"] = _attendance(raw.get("attendance", ""), errors)
    values["links"] = links_from_lines(raw.get("links", ""))
    body = _validate(SessionIn, SESSION_FIELDS, values, errors)
    if body is None or errors:
        return None, errors
    result: dict[str, Any] = body.model_dump(mode="json")
    return result, []


def _journey(cohort: dict[str, Any]) -> Journey:
    cohort_id = cohort["cohort_id"]
    return Journey(
        heading="Record a session",
        caption=cohort["name"],
        fields=SESSION_FIELDS,
        action=f"/cohorts/{cohort_id}/sessions/new",
        confirm=f"/cohorts/{cohort_id}/sessions/new/confirm",
        back=f"/cohorts/{cohort_id}#sessions",
        check_heading="Check the session before you record it",
        button="Record session",
        lead="A masterclass, a discussion or another session of the cohort, and who came to "
        "it from each council.",
    )


def _refused(error: InvalidValue) -> FieldError:
    if error.field.startswith("links"):  # as an entry's: "Link 1: the address ..."
        return error_from_domain(SESSION_FIELDS, error)
    if error.field.split(".")[0] == "attendance":
        return _line_error(error)
    question = next((q for q in SESSION_FIELDS if q.name == error.field), None)
    if question is None:
        return FieldError("", f"{error.field}: {error.message}", "")
    text = f"{question.label} {error.message}"
    return FieldError(question.input_name, text, f"#{question.first_input_id}")


@router.get("/cohorts/{cohort_id}/sessions/new", dependencies=MANAGE)
def new_session(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    journey = _journey(_open_cohort(waymark, cohort_id))
    return _form(request, pages, journey, _raw(journey.fields, request.query_params), [])


@router.post("/cohorts/{cohort_id}/sessions/new", dependencies=MANAGE)
async def check_session(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep, actor: ActorDep
) -> HTMLResponse:
    journey = _journey(_open_cohort(waymark, cohort_id))
    raw = _raw(journey.fields, await request.form())
    values, errors = _answers(raw)
    if values is None:
        return _form(request, pages, journey, raw, errors)
    try:
        waymark.records.check_session(cohort_id=cohort_id, values=values, actor=actor)
    except InvalidValue as error:
        return _form(request, pages, journey, raw, [_refused(error)])
    return _check(request, pages, journey, raw, journey.action)


@router.post("/cohorts/{cohort_id}/sessions/new/confirm", dependencies=MANAGE)
async def record_session(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep, actor: ActorDep
) -> Response:
    journey = _journey(_open_cohort(waymark, cohort_id))
    form = await request.form()
    raw = _raw(journey.fields, form)
    values, errors = _answers(raw)
    if values is None:
        return _form(request, pages, journey, raw, errors)
    try:
        waymark.records.hold_session(
            cohort_id=cohort_id, values=values, actor=actor, idempotency_key=_key(form)
        )
    except InvalidValue as error:
        return _form(request, pages, journey, raw, [_refused(error)])
    except Conflict as error:
        return _form(request, pages, journey, raw, [_conflict(error)])
    return _done(f"/cohorts/{cohort_id}", "session")


# -- a programme's support requests ------------------------------------------------------

STATUSES = ("unanswered", *(s.value for s in SupportStatus))


@router.get(
    "/programmes/{programme_id}/support", dependencies=[allow(Permission.READ_PROGRAMME_RECORD)]
)
def support(
    programme_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    """Every wish, grouped by whom it was asked of, then by its status."""
    requests = waymark.queries.support_requests(programme_id)
    groups = []
    for source in SupportSource:
        asked = [r for r in requests if r["from_whom"] == source.value]
        if asked:
            by_status = [(s, [r for r in asked if r["status"] == s]) for s in STATUSES]
            groups.append((source.value, len(asked), [(s, rs) for s, rs in by_status if rs]))
    answered = [r["days_to_answer"] for r in requests if r["days_to_answer"] is not None]
    return pages.render(
        request,
        "support.html",
        programme=waymark.queries.programme(programme_id),
        groups=groups,
        count=len(requests),
        unanswered=sum(1 for r in requests if r["status"] == "unanswered"),
        average_days=round(sum(answered) / len(answered), 1) if answered else None,
    )
