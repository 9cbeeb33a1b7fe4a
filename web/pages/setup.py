"""Setting a programme up from the pages (issue 17, point 1).

Each journey starts from a button on the page where the thing belongs, asks its
questions, shows "Check your answers" with a change link per answer, and only
then records, through the same commands and request models as the API. What
was answered travels in hidden fields (and in the change links' query string),
so no draft is kept on the server; the last step checks it all again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError

from domain.errors import Conflict, InvalidValue, NotFound
from domain.user import User
from domain.vocabulary import CouncilType, DigitalMeaning, Pressure, Region, Role, Segment
from services.access import Permission
from web.api.councils import MayChange
from web.deps import ActorDep, WaymarkDep, allow
from web.pages import words
from web.pages.entry_forms import (
    DATE_PARTS,
    FieldError,
    FormField,
    body_values,
    by_input,
    error_from_domain,
    errors_from_validation,
    links_from_lines,
    raw_values,
)
from web.pages.rendering import long_date
from web.pages.routing import PageRoute, PagesDep, form_csrf_token
from web.schemas import (
    CohortIn,
    CouncilIn,
    CouncilProfileIn,
    FinancialContextIn,
    MaturityIn,
    ProgrammeIn,
    ProjectIn,
    SegmentMappingIn,
    WithdrawalIn,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CSRF = Depends(form_csrf_token)
LAUNCH = [CSRF, allow(Permission.LAUNCH_PROGRAMME)]
B = TypeVar("B", ProjectIn, WithdrawalIn)

MANAGE = [CSRF, allow(Permission.MANAGE_PROGRAMME)]
REGISTER = [CSRF, allow(Permission.MANAGE_COUNCILS)]
CHANGE_COUNCIL = [CSRF, MayChange]
#: The longest text the request models take (web/schemas.py ``Text``).
LONG_TEXT = 20_000
#: Councils a search shows at most.
FOUND_AT_MOST = 50


@dataclass(frozen=True)
class Question(FormField):
    """A form field with its wording given here, not by an entry kind's catalogue."""

    question: str = ""
    help: str = ""
    #: The most characters the record takes (shown by the character count), 0 for no count.
    limit: int = 0

    @property
    def label(self) -> str:
        return self.question

    @property
    def hint(self) -> str:
        return self.help


@dataclass(frozen=True)
class Journey:
    """One set-up journey's wording and addresses."""

    heading: str
    caption: str
    fields: tuple[Question, ...]
    action: str  # where the questions are posted (to be checked)
    confirm: str  # where the checked answers are posted (to be recorded)
    back: str
    check_heading: str
    button: str
    warning: str = ""
    lead: str = ""
    #: Radios whose choices are worked out from the record: field name -> (value, text) pairs.
    choices: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: Answers from earlier steps, carried in hidden fields.
    carried: tuple[tuple[str, str], ...] = ()


def _choices(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


# -- reading answers and their errors -------------------------------------------------------


def _raw(fields: tuple[Question, ...], source: Any) -> dict[str, str]:
    return raw_values(fields, source)


def _date_parts_missing(fields: tuple[Question, ...], raw: dict[str, str]) -> list[FieldError]:
    """A date with some of its parts typed: say which part is missing, as GOV.UK does."""
    errors = []
    for f in fields:
        if f.widget != "date":
            continue
        parts = {p: raw.get(f"{f.input_name}-{p}", "").strip() for p in DATE_PARTS}
        missing = [p for p, v in parts.items() if not v]
        if missing and len(missing) < len(DATE_PARTS):
            what = " and ".join(f"a {p}" for p in missing)
            errors.append(
                FieldError(
                    f.input_name, f"{f.label} must include {what}", f"#{f.input_name}-{missing[0]}"
                )
            )
    return errors


def _validate(
    model: type[BaseModel],
    fields: tuple[Question, ...],
    body: dict[str, Any],
    errors: list[FieldError],
    field_of: Callable[[tuple[Any, ...]], str] = lambda loc: str(loc[0]) if loc else "",
) -> Any:
    """The request model made from ``body``; its errors (on fields not already wrong) added."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        already = {e.input_name for e in errors}
        for item in error.errors():
            name = field_of(tuple(item.get("loc", ())))
            if name in already:
                continue
            single = ValidationError.from_exception_data(
                error.title,
                [
                    {
                        "type": item["type"],
                        "loc": (name,),
                        "input": item.get("input"),
                        **({"ctx": item["ctx"]} if "ctx" in item else {}),
                    }
                ],
            )
            found = errors_from_validation(fields, single)
            errors.extend(_worded(fields, e) for e in found)
            already.add(name)
        return None


def _worded(fields: tuple[Question, ...], error: FieldError) -> FieldError:
    """The Design System's wording where the generic message would be a programmer's."""
    f = next((q for q in fields if q.input_name == error.input_name), None)
    if f is not None and f.name == "code" and not error.text.startswith("Enter"):
        text = f"{f.label} must be letters, digits, dots, dashes or underscores, up to 64 long"
        return FieldError(error.input_name, text, error.href)
    if f is not None and f.limit and error.text.endswith("is too long"):
        text = f"{f.label} must be {f.limit:,} characters or less"
        return FieldError(error.input_name, text, error.href)
    if f is not None and f.widget == "level":
        text = f"Select a level for {f.label[:1].lower() + f.label[1:]}"
        return FieldError(error.input_name, text, error.href)
    return error


def _domain_error(fields: tuple[Question, ...], error: InvalidValue) -> FieldError:
    name = error.field
    if name.startswith("levels."):
        name = "level_" + name.removeprefix("levels.")
    f = next((q for q in fields if q.name == name), None)
    if f is not None and "later than today" in error.message:
        return FieldError(
            f.input_name, f"{f.label} must be today or in the past", f"#{f.first_input_id}"
        )
    if f is not None and name == "ends_on" and "before" in error.message:
        text = f"{f.label} must be the same as or after the start date"
        return FieldError(f.input_name, text, f"#{f.first_input_id}")
    if f is not None and f.name != error.field:
        return FieldError(f.input_name, f"{f.label} {error.message}", f"#{f.first_input_id}")
    return error_from_domain(fields, error)


def _conflict(error: Conflict) -> FieldError:
    text = str(error)
    return FieldError("", text[:1].upper() + text[1:], "")


# -- the three pages every journey has ---------------------------------------------------


def _form(
    request: Request,
    pages: PagesDep,
    journey: Journey,
    values: Mapping[str, str],
    errors: list[FieldError],
    template: str = "setup_form.html",
    **context: Any,
) -> HTMLResponse:
    return pages.render(
        request,
        template,
        j=journey,
        values=values,
        errors=errors,
        error_for=by_input(errors),
        status_code=400 if errors else 200,
        **context,
    )


def _shown(f: Question, raw: Mapping[str, str], journey: Journey) -> str:
    """An answer as the check page shows it."""
    if f.widget == "date":
        text = body_values((f,), dict(raw)).get(f.name)
        try:
            return long_date(date.fromisoformat(text)) if text else "Not given"
        except ValueError:
            return text or ""
    value = raw.get(f.input_name, "").strip()
    if not value:
        return "Not given"
    if f.widget == "level":
        return f"Level {value}: {words.maturity_level(f.name.removeprefix('level_'), value)}"
    if f.widget == "entry":
        return dict(journey.choices.get(f.name, [])).get(value, value)
    if f.widget == "radios":
        return words.label(value)
    if f.widget == "lines":
        return ", ".join(line.strip() for line in value.splitlines() if line.strip())
    if f.widget == "links":
        return "; ".join(f"{link['title']}: {link['url']}" for link in links_from_lines(value))
    return value


def _check(
    request: Request,
    pages: PagesDep,
    journey: Journey,
    raw: Mapping[str, str],
    form_url: str,
) -> HTMLResponse:
    """Check your answers: every answer with a link back to change it; nothing recorded yet."""
    answers = {k: v for k, v in raw.items() if v}
    back_with = f"{form_url}?{urlencode(list(journey.carried) + list(answers.items()))}"
    rows = [
        {
            "key": {"text": f.label},
            "value": {"text": _shown(f, raw, journey)},
            "actions": {
                "items": [
                    {
                        "href": f"{back_with}#{f.first_input_id}",
                        "text": "Change",
                        "visuallyHiddenText": f.label[:1].lower() + f.label[1:],
                    }
                ]
            },
        }
        for f in journey.fields
    ]
    return pages.render(
        request,
        "setup_check.html",
        j=journey,
        rows=rows,
        hidden=sorted(raw.items()),
        key=str(uuid4()),
        errors=[],
    )


def _done(where: str, what: str, **more: str) -> RedirectResponse:
    return RedirectResponse(f"{where}/done?{urlencode({'what': what, **more})}", status_code=303)


# -- launching a programme (admins) ---------------------------------------------------------

PROGRAMME_FIELDS = (
    Question("name", "text", True, question="Programme name"),
    Question(
        "sponsor_body",
        "text",
        False,
        question="Sponsor body",
        help="The national body that runs the programme, such as a ministry",
    ),
    Question(
        "description",
        "textarea",
        False,
        question="Description",
        help="What the programme is for and who it is for",
        limit=LONG_TEXT,
    ),
)


def _programme_journey() -> Journey:
    return Journey(
        heading="Launch a programme",
        caption="Programmes",
        fields=PROGRAMME_FIELDS,
        action="/programmes/new",
        confirm="/programmes/new/confirm",
        back="/",
        check_heading="Check the programme before you launch it",
        button="Launch programme",
        lead="Once launched, a programme's managers form its cohorts and enrol councils.",
    )


def _programme_answers(raw: dict[str, str]) -> tuple[ProgrammeIn | None, list[FieldError]]:
    errors: list[FieldError] = []
    body = _validate(ProgrammeIn, PROGRAMME_FIELDS, body_values(PROGRAMME_FIELDS, raw), errors)
    return body, errors


#: The second step of launching: who manages the programme. Chosen people travel as one
#: hidden field of usernames separated by commas (a username has none).
MANAGERS = Question(
    "managers", "choose", False, question="Programme managers", help="People with an account"
)
INVITED = Question(
    "invited",
    "lines",
    False,
    question="Invite people who have no account yet",
    help="One username a line, such as sam.jones. Each is added as a person who manages "
    "this programme; an admin then gives them a password or a token from People.",
)
MANAGER_FIELDS = (MANAGERS, INVITED)
#: At most this many managers are named when a programme is launched.
MOST_MANAGERS = 20


@dataclass(frozen=True)
class Managers:
    """The programme's managers, as the launcher named them."""

    existing: tuple[str, ...]
    invited: tuple[str, ...]

    def shown(self) -> str:
        named = [*self.existing, *(f"{n} (invited: an account is added)" for n in self.invited)]
        return ", ".join(named) or "None yet"


def _managers_answers(
    waymark: WaymarkDep, raw: Mapping[str, str], *, recording: bool = False
) -> tuple[Managers, list[FieldError]]:
    """The people named: existing ones must have an account, invited ones must not
    (unless ``recording`` the same answers again: those invited then have one)."""
    errors: list[FieldError] = []

    def known(name: str) -> bool:
        try:
            return waymark.records.exists(User.create_id(User.check_username(name)))
        except InvalidValue:
            return False

    if recording:
        invited_now = {n.strip().lower() for n in raw.get("invited", "").splitlines()}
        raw = {
            "managers": ",".join(
                [raw.get("managers", ""), *sorted(n for n in invited_now if known(n))]
            ),
            "invited": "\n".join(sorted(n for n in invited_now if not known(n))),
        }
    chosen = [n for n in (v.strip() for v in raw.get("managers", "").split(",")) if n]
    existing = tuple(dict.fromkeys(n for n in chosen if known(n)))
    if len(existing) < len(set(chosen)):
        errors.append(FieldError("managers", "Select people who have an account", "#managers"))
    invited: list[str] = []
    for line in raw.get("invited", "").splitlines():
        name = line.strip().lower()
        if not name:
            continue
        try:
            name = User.check_username(name)
        except InvalidValue:
            text = f"‘{line.strip()[:100]}’ is not a username: use 2 to 100 lower-case letters, "
            errors.append(FieldError("invited", text + "digits or . _ @ + -", "#invited"))
            break
        if known(name):
            text = f"{name} already has an account: select them instead"
            errors.append(FieldError("invited", text, "#invited"))
            break
        if name not in invited and name not in existing:
            invited.append(name)
    if len(existing) + len(invited) > MOST_MANAGERS:
        text = f"Name at most {MOST_MANAGERS} programme managers"
        errors.append(FieldError("invited", text, "#invited"))
    return Managers(existing, tuple(invited)), errors


def _managers_raw(source: Any) -> dict[str, str]:
    """The managers step's answers, from its form (checkboxes) or a hidden or query field."""
    getlist = getattr(source, "getlist", None)
    chosen = getlist("managers") if getlist else [source.get("managers", "")]
    names = ",".join(n.strip() for v in chosen for n in str(v).split(",") if n.strip())
    return {"managers": names[:5000], "invited": str(source.get("invited", ""))[:5000]}


def _managers_form(
    request: Request,
    pages: PagesDep,
    waymark: WaymarkDep,
    details: dict[str, str],
    raw: Mapping[str, str],
    errors: list[FieldError],
) -> HTMLResponse:
    journey = _programme_journey()
    back = f"/programmes/new?{urlencode({**{k: v for k, v in details.items() if v}, **raw})}"
    return pages.render(
        request,
        "setup_managers.html",
        j=journey,
        caption=details.get("name") or journey.caption,
        # everyone recorded so far: a person added a moment ago is offered, as the check
        # of the answers (against the record) counts them as having an account
        people=waymark.people.everyone(waymark.projector.log.head()),
        chosen=set(raw.get("managers", "").split(",")),
        invited=INVITED,
        details=sorted(details.items()),
        values=raw,
        back=back,
        errors=errors,
        error_for=by_input(errors),
        status_code=400 if errors else 200,
    )


def _launch_check(
    request: Request,
    pages: PagesDep,
    details: dict[str, str],
    raw: Mapping[str, str],
    managers: Managers,
) -> HTMLResponse:
    """Check your answers for a launch: the details, then the managers, each with its
    change link (to the step that asked it, with every answer)."""
    journey = _programme_journey()
    answers = {**{k: v for k, v in details.items() if v}, **{k: v for k, v in raw.items() if v}}
    rows = [
        {
            "key": {"text": f.label},
            "value": {"text": _shown(f, details, journey)},
            "actions": {
                "items": [
                    {
                        "href": f"/programmes/new?{urlencode(answers)}#{f.first_input_id}",
                        "text": "Change",
                        "visuallyHiddenText": f.label[:1].lower() + f.label[1:],
                    }
                ]
            },
        }
        for f in journey.fields
    ]
    rows.append(
        {
            "key": {"text": MANAGERS.label},
            "value": {"text": managers.shown()},
            "actions": {
                "items": [
                    {
                        "href": f"/programmes/new/managers?{urlencode(answers)}#managers",
                        "text": "Change",
                        "visuallyHiddenText": "programme managers",
                    }
                ]
            },
        }
    )
    return pages.render(
        request,
        "setup_check.html",
        j=journey,
        rows=rows,
        hidden=sorted({**details, **raw}.items()),
        key=str(uuid4()),
        errors=[],
    )


@router.get("/programmes/new", dependencies=LAUNCH)
def new_programme(request: Request, pages: PagesDep) -> HTMLResponse:
    journey = _programme_journey()
    carried = tuple(_managers_raw(request.query_params).items())
    journey = replace(journey, carried=carried, action="/programmes/new")
    return _form(request, pages, journey, _raw(journey.fields, request.query_params), [])


@router.post("/programmes/new", dependencies=LAUNCH)
async def programme_details(request: Request, pages: PagesDep, waymark: WaymarkDep) -> Response:
    """The details, checked; then who manages the programme."""
    journey = _programme_journey()
    form = await request.form()
    raw = _raw(journey.fields, form)
    _, errors = _programme_answers(raw)
    managers = _managers_raw(form)
    if errors:
        journey = replace(journey, carried=tuple(managers.items()))
        return _form(request, pages, journey, raw, errors)
    return _managers_form(request, pages, waymark, raw, managers, [])


@router.get("/programmes/new/managers", dependencies=LAUNCH)
def programme_managers(request: Request, pages: PagesDep, waymark: WaymarkDep) -> HTMLResponse:
    """The managers step again, from a change link, with every answer given so far."""
    details = _raw(PROGRAMME_FIELDS, request.query_params)
    return _managers_form(request, pages, waymark, details, _managers_raw(request.query_params), [])


@router.post("/programmes/new/managers", dependencies=LAUNCH)
async def check_programme(request: Request, pages: PagesDep, waymark: WaymarkDep) -> Response:
    journey = _programme_journey()
    form = await request.form()
    details = _raw(journey.fields, form)
    raw = _managers_raw(form)
    _, errors = _programme_answers(details)
    if errors:
        return _form(request, pages, replace(journey, carried=tuple(raw.items())), details, errors)
    managers, errors = _managers_answers(waymark, raw)
    if errors:
        return _managers_form(request, pages, waymark, details, raw, errors)
    return _launch_check(request, pages, details, raw, managers)


@router.post("/programmes/new/confirm", dependencies=LAUNCH)
async def launch_programme(
    request: Request, pages: PagesDep, waymark: WaymarkDep, actor: ActorDep
) -> Response:
    """Launch the programme, then give each person named the manager's role for it
    (adding those invited), each recorded with the signed-in admin as the actor."""
    journey = _programme_journey()
    form = await request.form()
    raw = _raw(journey.fields, form)
    chosen = _managers_raw(form)
    body, errors = _programme_answers(raw)
    if body is None:
        return _form(request, pages, replace(journey, carried=tuple(chosen.items())), raw, errors)
    managers, errors = _managers_answers(waymark, chosen, recording=True)
    if errors:
        return _managers_form(request, pages, waymark, raw, chosen, errors)
    try:
        written = waymark.records.launch_programme(
            name=body.name,
            description=body.description,
            sponsor_body=body.sponsor_body,
            actor=actor,
            idempotency_key=_key(form),
        )
    except InvalidValue as error:
        return _form(request, pages, journey, raw, [_domain_error(journey.fields, error)])
    role = Role.PROGRAMME_MANAGER.value
    for name in managers.existing:
        try:
            waymark.records.grant_role(
                username=name, role=role, programme_id=written.id, actor=actor
            )
        except Conflict:
            pass  # holds it already (the same answers posted twice)
    for name in managers.invited:
        waymark.people.add(
            username=name,
            display_name=None,
            role=role,
            programme_id=written.id,
            council_code=None,
            password=None,
            actor=actor,
        )
    return _done(f"/programmes/{written.id}", "launched")


def _key(form: Any) -> str:
    """The check page's one-off key: posting the same answers twice records them once."""
    key = str(form.get("idempotency_key", ""))
    return key if 1 <= len(key) <= 200 else str(uuid4())


# -- a programme's segment mapping --------------------------------------------------------

PRESSURES = [p.value for p in Pressure]


def _mapping_name(demand: str, financial: str) -> str:
    return f"segment-{demand}-{financial}"


SEGMENT_FIELDS = tuple(
    Question(
        _mapping_name(d, f),
        "radios",
        True,
        _choices(Segment),
        question=f"{words.label(d)} demand pressure and {f} financial pressure",
    )
    for d in PRESSURES
    for f in PRESSURES
)


def _segment_journey(programme_id: UUID, name: str) -> Journey:
    return Journey(
        heading="Change the segment mapping",
        caption=name,
        fields=SEGMENT_FIELDS,
        action=f"/programmes/{programme_id}/segments/change",
        confirm=f"/programmes/{programme_id}/segments/change/confirm",
        back=f"/programmes/{programme_id}/segments",
        check_heading="Check the segment mapping before you change it",
        button="Change segment mapping",
        lead="Choose the segment for each pair of demand and financial pressure. "
        "Comparisons show every council's segment by this mapping.",
    )


def _segment_answers(raw: dict[str, str]) -> tuple[dict[str, str] | None, list[FieldError]]:
    errors: list[FieldError] = []
    mapping = {
        f"{d}/{f}": raw.get(_mapping_name(d, f), "").strip() or None
        for d in PRESSURES
        for f in PRESSURES
    }

    def field_of(loc: tuple[Any, ...]) -> str:
        demand, _, financial = str(loc[-1]).partition("/")
        return _mapping_name(demand, financial)

    body = _validate(
        SegmentMappingIn,
        SEGMENT_FIELDS,
        {"mapping": {k: v for k, v in mapping.items() if v is not None}},
        errors,
        field_of,
    )
    return (body.mapping.model_dump(by_alias=True, mode="json") if body else None), errors


@router.get("/programmes/{programme_id}/segments", dependencies=[allow(Permission.READ)])
def segments(
    programme_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    found = waymark.records.get_programme(programme_id)
    return pages.render(
        request,
        "setup_segments.html",
        programme=found,
        pressures=PRESSURES,
        mapping=found.segment_mapping,
    )


@router.get("/programmes/{programme_id}/segments/change", dependencies=MANAGE)
def change_segments(
    programme_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    found = waymark.records.get_programme(programme_id)
    journey = _segment_journey(programme_id, found.name)
    values = _raw(journey.fields, request.query_params)
    if not any(values.values()):
        values = {_mapping_name(*k.split("/")): v for k, v in found.segment_mapping.items()}
    return _form(request, pages, journey, values, [])


@router.post("/programmes/{programme_id}/segments/change", dependencies=MANAGE)
async def check_segments(
    programme_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    found = waymark.records.get_programme(programme_id)
    journey = _segment_journey(programme_id, found.name)
    raw = _raw(journey.fields, await request.form())
    _, errors = _segment_answers(raw)
    if errors:
        return _form(request, pages, journey, raw, errors)
    return _check(request, pages, journey, raw, journey.action)


@router.post("/programmes/{programme_id}/segments/change/confirm", dependencies=MANAGE)
async def configure_segments(
    programme_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep, actor: ActorDep
) -> Response:
    found = waymark.records.get_programme(programme_id)
    journey = _segment_journey(programme_id, found.name)
    raw = _raw(journey.fields, await request.form())
    mapping, errors = _segment_answers(raw)
    if mapping is None:
        return _form(request, pages, journey, raw, errors)
    waymark.records.configure_segments(programme_id=programme_id, mapping=mapping, actor=actor)
    return _done(f"/programmes/{programme_id}", "segments")


@router.get("/programmes/{programme_id}/done", dependencies=[allow(Permission.READ)])
def programme_done(
    programme_id: UUID,
    request: Request,
    pages: PagesDep,
    waymark: WaymarkDep,
    what: Annotated[str, Query(max_length=30)] = "",
) -> HTMLResponse:
    found = waymark.queries.programme(programme_id)
    return pages.render(request, "setup_done.html", what=what, programme=found, subject="programme")


# -- cohorts: forming, changing, closing --------------------------------------------------

COHORT_FIELDS = (
    Question("name", "text", True, question="Cohort name", help="For example, Cohort 1"),
    Question("starts_on", "date", True, question="Start date", help="For example, 5 1 2026"),
    Question("ends_on", "date", True, question="End date", help="For example, 26 6 2026"),
)


def _cohort_answers(raw: dict[str, str]) -> tuple[CohortIn | None, list[FieldError]]:
    errors = _date_parts_missing(COHORT_FIELDS, raw)
    body = _validate(CohortIn, COHORT_FIELDS, body_values(COHORT_FIELDS, raw), errors)
    if body is not None and body.ends_on < body.starts_on:
        # Checked again by the cohort itself; said here so that the check page never shows it.
        end = COHORT_FIELDS[2]
        errors.append(
            FieldError(
                end.input_name,
                "End date must be the same as or after the start date",
                f"#{end.first_input_id}",
            )
        )
        body = None
    return (None if errors else body), errors


def _new_cohort_journey(programme_id: UUID, name: str) -> Journey:
    return Journey(
        heading="Form a cohort",
        caption=name,
        fields=COHORT_FIELDS,
        action=f"/programmes/{programme_id}/cohorts/new",
        confirm=f"/programmes/{programme_id}/cohorts/new/confirm",
        back=f"/programmes/{programme_id}",
        check_heading="Check the cohort before you form it",
        button="Form cohort",
        lead="A cohort is the councils that go through the programme together.",
    )


@router.get("/programmes/{programme_id}/cohorts/new", dependencies=MANAGE)
def new_cohort(
    programme_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    journey = _new_cohort_journey(programme_id, waymark.queries.programme(programme_id)["name"])
    return _form(request, pages, journey, _raw(journey.fields, request.query_params), [])


@router.post("/programmes/{programme_id}/cohorts/new", dependencies=MANAGE)
async def check_cohort(
    programme_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    journey = _new_cohort_journey(programme_id, waymark.queries.programme(programme_id)["name"])
    raw = _raw(journey.fields, await request.form())
    _, errors = _cohort_answers(raw)
    if errors:
        return _form(request, pages, journey, raw, errors)
    return _check(request, pages, journey, raw, journey.action)


@router.post("/programmes/{programme_id}/cohorts/new/confirm", dependencies=MANAGE)
async def form_cohort(
    programme_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep, actor: ActorDep
) -> Response:
    journey = _new_cohort_journey(programme_id, waymark.queries.programme(programme_id)["name"])
    form = await request.form()
    raw = _raw(journey.fields, form)
    body, errors = _cohort_answers(raw)
    if body is None:
        return _form(request, pages, journey, raw, errors)
    try:
        written = waymark.records.form_cohort(
            programme_id=programme_id,
            name=body.name,
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            actor=actor,
            idempotency_key=_key(form),
        )
    except InvalidValue as error:
        return _form(request, pages, journey, raw, [_domain_error(journey.fields, error)])
    return _done(f"/cohorts/{written.id}", "formed")


def _details_journey(cohort: dict[str, Any]) -> Journey:
    cohort_id = cohort["cohort_id"]
    return Journey(
        heading="Change the cohort's details",
        caption=cohort["name"],
        fields=COHORT_FIELDS,
        action=f"/cohorts/{cohort_id}/details",
        confirm=f"/cohorts/{cohort_id}/details/confirm",
        back=f"/cohorts/{cohort_id}",
        check_heading="Check the cohort's details before you change them",
        button="Change details",
        lead="The record keeps the name and dates the cohort had before.",
    )


def _open_cohort(waymark: Any, cohort_id: UUID) -> dict[str, Any]:
    """The cohort as it stands after every write so far; refused (409) once it is closed."""
    _caught_up(waymark)
    found: dict[str, Any] = waymark.queries.cohort(cohort_id)
    if found["closed"]:
        raise Conflict("the cohort is closed: nothing more is recorded in it")
    return found


@router.get("/cohorts/{cohort_id}/details", dependencies=MANAGE)
def cohort_details(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    found = _open_cohort(waymark, cohort_id)
    journey = _details_journey(found)
    values = _raw(journey.fields, request.query_params)
    if not any(values.values()):
        values = {"name": found["name"]}
        for name in ("starts_on", "ends_on"):
            day = date.fromisoformat(found[name])
            values |= {f"{name}-day": str(day.day), f"{name}-month": str(day.month)}
            values[f"{name}-year"] = str(day.year)
    return _form(request, pages, journey, values, [])


@router.post("/cohorts/{cohort_id}/details", dependencies=MANAGE)
async def check_details(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    journey = _details_journey(_open_cohort(waymark, cohort_id))
    raw = _raw(journey.fields, await request.form())
    _, errors = _cohort_answers(raw)
    if errors:
        return _form(request, pages, journey, raw, errors)
    return _check(request, pages, journey, raw, journey.action)


@router.post("/cohorts/{cohort_id}/details/confirm", dependencies=MANAGE)
async def change_details(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep, actor: ActorDep
) -> Response:
    journey = _details_journey(_open_cohort(waymark, cohort_id))
    raw = _raw(journey.fields, await request.form())
    body, errors = _cohort_answers(raw)
    if body is None:
        return _form(request, pages, journey, raw, errors)
    try:
        waymark.records.change_cohort_details(
            cohort_id=cohort_id,
            name=body.name,
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            actor=actor,
        )
    except InvalidValue as error:
        return _form(request, pages, journey, raw, [_domain_error(journey.fields, error)])
    except Conflict as error:
        return _form(request, pages, journey, raw, [_conflict(error)])
    return _done(f"/cohorts/{cohort_id}", "changed")


@router.get("/cohorts/{cohort_id}/close", dependencies=MANAGE)
def close_warning(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    found = _open_cohort(waymark, cohort_id)
    projects = waymark.queries.projects_of(cohort_id)
    return pages.render(request, "setup_close.html", cohort=found, projects=projects, errors=[])


@router.post("/cohorts/{cohort_id}/close", dependencies=MANAGE)
def close_cohort(cohort_id: UUID, waymark: WaymarkDep, actor: ActorDep) -> Response:
    waymark.records.close_cohort(cohort_id=cohort_id, actor=actor)
    return _done(f"/cohorts/{cohort_id}", "closed")


# -- enrolling councils, several at once, and withdrawing one ----------------------------


def _caught_up(waymark: Any) -> None:
    """Wait, briefly, for the read models to hold every write so far: a council registered
    or enrolled a moment ago is offered as a choice."""
    waymark.queries.fresh(waymark.projector.log.head())


def _enrollable(waymark: Any, cohort_id: UUID) -> list[dict[str, Any]]:
    """Registered councils not yet enrolled in the cohort (after ``_open_cohort``, which
    waits for every write so far)."""
    enrolled = {p["council_code"] for p in waymark.queries.projects_of(cohort_id)}
    return [c for c in waymark.queries.councils() if c["code"] not in enrolled]


def _chosen(form: Any, allowed: Iterable[str]) -> list[str]:
    wanted = set(form.getlist("councils")) if hasattr(form, "getlist") else set()
    return [code for code in allowed if code in wanted]


@router.get("/cohorts/{cohort_id}/enrol", dependencies=MANAGE)
def choose_councils(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    found = _open_cohort(waymark, cohort_id)
    councils = _enrollable(waymark, cohort_id)
    chosen = _chosen(request.query_params, [c["code"] for c in councils])
    return pages.render(
        request,
        "setup_enrol.html",
        cohort=found,
        councils=councils,
        chosen=chosen,
        errors=[],
        error_for={},
    )


def _titles_journey(cohort: dict[str, Any], councils: list[dict[str, Any]]) -> Journey:
    cohort_id = cohort["cohort_id"]
    fields = tuple(
        Question(
            f"title-{c['code']}",
            "text",
            True,
            question=f"Project title for {c['name']}",
            help="What the council's project is, in a few words",
        )
        for c in councils
    )
    return Journey(
        heading="What is each council's project?",
        caption=cohort["name"],
        fields=fields,
        action=f"/cohorts/{cohort_id}/enrol/check",
        confirm=f"/cohorts/{cohort_id}/enrol/confirm",
        back=f"/cohorts/{cohort_id}/enrol?"
        + urlencode([("councils", c["code"]) for c in councils]),
        check_heading="Check the councils before you enrol them",
        button="Enrol councils",
        carried=tuple(("councils", c["code"]) for c in councils),
    )


async def _chosen_councils(
    request: Request, waymark: Any, cohort_id: UUID
) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
    found = _open_cohort(waymark, cohort_id)
    form = await request.form()
    councils = _enrollable(waymark, cohort_id)
    codes = _chosen(form, [c["code"] for c in councils])
    return found, [c for c in councils if c["code"] in codes], form


@router.post("/cohorts/{cohort_id}/enrol", dependencies=MANAGE)
async def enrol_titles(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    found, chosen, _ = await _chosen_councils(request, waymark, cohort_id)
    if not chosen:
        errors = [FieldError("councils", "Select the councils to enrol", "#councils")]
        return pages.render(
            request,
            "setup_enrol.html",
            cohort=found,
            councils=_enrollable(waymark, cohort_id),
            chosen=[],
            errors=errors,
            error_for=by_input(errors),
            status_code=400,
        )
    journey = _titles_journey(found, chosen)
    return _form(request, pages, journey, {}, [])


def _title_answers(
    journey: Journey, chosen: list[dict[str, Any]], raw: dict[str, str]
) -> tuple[list[ProjectIn], list[FieldError]]:
    errors: list[FieldError] = []
    bodies = []
    for f, council in zip(journey.fields, chosen, strict=True):
        body = _validate(
            ProjectIn,
            (f,),
            {"council_code": council["code"], **({"title": raw[f.name]} if raw[f.name] else {})},
            errors,
            lambda loc, name=f.name: name,
        )
        if body is not None:
            bodies.append(body)
    return bodies, errors


@router.post("/cohorts/{cohort_id}/enrol/check", dependencies=MANAGE)
async def check_enrolment(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    found, chosen, form = await _chosen_councils(request, waymark, cohort_id)
    if not chosen:
        raise InvalidValue("councils", "no council was chosen")
    journey = _titles_journey(found, chosen)
    raw = _raw(journey.fields, form)
    _, errors = _title_answers(journey, chosen, raw)
    if errors:
        return _form(request, pages, journey, raw, errors)
    return _check(request, pages, journey, raw, f"/cohorts/{cohort_id}/enrol/titles")


@router.get("/cohorts/{cohort_id}/enrol/titles", dependencies=MANAGE)
def change_titles(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    found = _open_cohort(waymark, cohort_id)
    councils = _enrollable(waymark, cohort_id)
    codes = _chosen(request.query_params, [c["code"] for c in councils])
    chosen = [c for c in councils if c["code"] in codes]
    if not chosen:
        raise InvalidValue("councils", "no council was chosen")
    journey = _titles_journey(found, chosen)
    return _form(request, pages, journey, _raw(journey.fields, request.query_params), [])


@router.post("/cohorts/{cohort_id}/enrol/confirm", dependencies=MANAGE)
async def enrol_councils(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep, actor: ActorDep
) -> Response:
    found, chosen, form = await _chosen_councils(request, waymark, cohort_id)
    if not chosen:
        raise InvalidValue("councils", "no council was chosen")
    journey = _titles_journey(found, chosen)
    raw = _raw(journey.fields, form)
    bodies, errors = _title_answers(journey, chosen, raw)
    if errors:
        return _form(request, pages, journey, raw, errors)
    key = _key(form)
    for body in bodies:
        waymark.records.enrol_council(
            cohort_id=cohort_id,
            council_code=body.council_code,
            title=body.title,
            actor=actor,
            idempotency_key=f"{key}/{body.council_code}",
        )
    return _done(f"/cohorts/{cohort_id}", "enrolled", count=str(len(bodies)))


def _councils_with_titles(taking_part: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each council taking part once, with the titles of the projects it leads."""
    titles: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for p in taking_part:
        titles.setdefault(p["council_code"], []).append(p["title"])
        names[p["council_code"]] = p["council_name"] or p["council_code"]
    return [(code, f"{names[code]}: {', '.join(t)}") for code, t in titles.items()]


def _withdraw_journey(cohort: dict[str, Any], taking_part: list[dict[str, Any]]) -> Journey:
    cohort_id = cohort["cohort_id"]
    return Journey(
        heading="Withdraw a council",
        caption=cohort["name"],
        fields=(
            Question("council_code", "entry", True, question="Which council is withdrawing?"),
            Question(
                "reason",
                "textarea",
                True,
                question="Why is it withdrawing?",
                help="Reviewers will read this in the record",
                limit=LONG_TEXT,
            ),
        ),
        action=f"/cohorts/{cohort_id}/withdraw",
        confirm=f"/cohorts/{cohort_id}/withdraw/confirm",
        back=f"/cohorts/{cohort_id}",
        check_heading="Check before you withdraw the council",
        button="Withdraw council",
        warning="A withdrawn council's projects keep their history but take no more entries.",
        choices={"council_code": _councils_with_titles(taking_part)},
    )


def _taking_part(waymark: Any, cohort_id: UUID) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The open cohort and its projects not withdrawn."""
    found = _open_cohort(waymark, cohort_id)
    return found, [p for p in waymark.queries.projects_of(cohort_id) if not p["withdrawn"]]


def _withdrawal(waymark: Any, cohort_id: UUID) -> Journey:
    return _withdraw_journey(*_taking_part(waymark, cohort_id))


def _answers_naming_a_council(
    model: type[B], journey: Journey, raw: dict[str, str], unchosen: str
) -> tuple[B | None, list[FieldError]]:
    """The answers as ``model``, the council among the journey's choices (else ``unchosen``)."""
    errors: list[FieldError] = []
    body = _validate(model, journey.fields, body_values(journey.fields, raw), errors)
    allowed = {code for code, _ in journey.choices["council_code"]}
    if body is not None and body.council_code.strip().upper() not in allowed:
        errors.append(FieldError("council_code", unchosen, "#council_code"))
        body = None
    return body, errors


def _withdraw_answers(
    journey: Journey, raw: dict[str, str]
) -> tuple[WithdrawalIn | None, list[FieldError]]:
    return _answers_naming_a_council(
        WithdrawalIn, journey, raw, "Select the council that is withdrawing"
    )


@router.get("/cohorts/{cohort_id}/withdraw", dependencies=MANAGE)
def new_withdrawal(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    journey = _withdrawal(waymark, cohort_id)
    return _form(request, pages, journey, _raw(journey.fields, request.query_params), [])


@router.post("/cohorts/{cohort_id}/withdraw", dependencies=MANAGE)
async def check_withdrawal(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    journey = _withdrawal(waymark, cohort_id)
    raw = _raw(journey.fields, await request.form())
    _, errors = _withdraw_answers(journey, raw)
    if errors:
        return _form(request, pages, journey, raw, errors)
    return _check(request, pages, journey, raw, journey.action)


@router.post("/cohorts/{cohort_id}/withdraw/confirm", dependencies=MANAGE)
async def withdraw_council(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep, actor: ActorDep
) -> Response:
    journey = _withdrawal(waymark, cohort_id)
    raw = _raw(journey.fields, await request.form())
    body, errors = _withdraw_answers(journey, raw)
    if body is None:
        return _form(request, pages, journey, raw, errors)
    try:
        waymark.records.withdraw_council(
            cohort_id=cohort_id, council_code=body.council_code, reason=body.reason, actor=actor
        )
    except InvalidValue as error:
        return _form(request, pages, journey, raw, [_domain_error(journey.fields, error)])
    except Conflict as error:
        return _form(request, pages, journey, raw, [_conflict(error)])
    return _done(f"/cohorts/{cohort_id}", "withdrawn", council=body.council_code.strip().upper())


# -- an enrolled council starts another project --------------------------------------------


def _start_journey(cohort: dict[str, Any], taking_part: list[dict[str, Any]]) -> Journey:
    cohort_id = cohort["cohort_id"]
    return Journey(
        heading="Start another project",
        caption=cohort["name"],
        lead="A council enrolled in the cohort may lead more than one project in it.",
        fields=(
            Question(
                "council_code",
                "entry",
                True,
                question="Which council leads the project?",
                help="Councils enrolled in the cohort, with the projects they lead already",
            ),
            Question(
                "title",
                "text",
                True,
                question="Project title",
                help="What the project is, in a few words",
                limit=300,
            ),
        ),
        action=f"/cohorts/{cohort_id}/projects/new",
        confirm=f"/cohorts/{cohort_id}/projects/new/confirm",
        back=f"/cohorts/{cohort_id}",
        check_heading="Check the project before you start it",
        button="Start project",
        choices={"council_code": _councils_with_titles(taking_part)},
    )


def _starting(waymark: Any, cohort_id: UUID) -> Journey:
    return _start_journey(*_taking_part(waymark, cohort_id))


def _start_answers(
    journey: Journey, raw: dict[str, str]
) -> tuple[ProjectIn | None, list[FieldError]]:
    return _answers_naming_a_council(
        ProjectIn, journey, raw, "Select the council that leads the project"
    )


@router.get("/cohorts/{cohort_id}/projects/new", dependencies=MANAGE)
def new_project(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    journey = _starting(waymark, cohort_id)
    return _form(request, pages, journey, _raw(journey.fields, request.query_params), [])


@router.post("/cohorts/{cohort_id}/projects/new", dependencies=MANAGE)
async def check_project(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    journey = _starting(waymark, cohort_id)
    raw = _raw(journey.fields, await request.form())
    _, errors = _start_answers(journey, raw)
    if errors:
        return _form(request, pages, journey, raw, errors)
    return _check(request, pages, journey, raw, journey.action)


@router.post("/cohorts/{cohort_id}/projects/new/confirm", dependencies=MANAGE)
async def start_project(
    cohort_id: UUID, request: Request, pages: PagesDep, waymark: WaymarkDep, actor: ActorDep
) -> Response:
    journey = _starting(waymark, cohort_id)
    form = await request.form()
    raw = _raw(journey.fields, form)
    body, errors = _start_answers(journey, raw)
    if body is None:
        return _form(request, pages, journey, raw, errors)
    try:
        written = waymark.records.enrol_council(
            cohort_id=cohort_id,
            council_code=body.council_code,
            title=body.title,
            actor=actor,
            idempotency_key=_key(form),
        )
    except InvalidValue as error:
        return _form(request, pages, journey, raw, [_domain_error(journey.fields, error)])
    except Conflict as error:
        return _form(request, pages, journey, raw, [_conflict(error)])
    return _done(
        f"/cohorts/{cohort_id}",
        "started",
        council=body.council_code.strip().upper(),
        project=str(written.id),
    )


@router.get("/cohorts/{cohort_id}/done", dependencies=[allow(Permission.READ_COHORT)])
def cohort_done(
    cohort_id: UUID,
    request: Request,
    pages: PagesDep,
    waymark: WaymarkDep,
    what: Annotated[str, Query(max_length=30)] = "",
    count: Annotated[int, Query(ge=0, le=10_000)] = 0,
    council: Annotated[str, Query(max_length=64)] = "",
    project: UUID | None = None,
) -> HTMLResponse:
    found = waymark.queries.cohort(cohort_id)
    return pages.render(
        request,
        "setup_done.html",
        what=what,
        cohort=found,
        count=count,
        council=council,
        project=project,
        programme=waymark.queries.programme(UUID(found["programme_id"])),
        subject="cohort",
    )


# -- councils: finding, registering, assessing ---------------------------------------------


@router.get("/councils/find", dependencies=[allow(Permission.MANAGE_COUNCILS)])
def find_council(
    request: Request,
    pages: PagesDep,
    waymark: WaymarkDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """Is the council registered already? Found by a part of its name or code."""
    found = waymark.queries.find_councils(q)
    return pages.render(
        request,
        "setup_find_council.html",
        q=q,
        found=found[:FOUND_AT_MOST],
        more=len(found) > FOUND_AT_MOST,
        errors=[],
    )


COUNCIL_FIELDS = (
    Question(
        "code",
        "text",
        True,
        question="Council code",
        help="A stable code of the programme's choosing that never changes, "
        "such as an org-id like GB-LAE-EXE",
    ),
    Question("name", "text", True, question="Council name"),
    Question("council_type", "radios", True, _choices(CouncilType), question="Type of council"),
    Question("region", "radios", True, _choices(Region), question="Region"),
    Question("population", "text", False, question="Population", help="For example, 130000"),
    Question(
        "gss_code",
        "text",
        False,
        question="ONS GSS code",
        help="The Office for National Statistics code, such as E07000041",
    ),
    Question(
        "political_control",
        "text",
        False,
        question="Political control",
        help="For example, Labour, or No overall control",
    ),
    Question(
        "suppliers",
        "lines",
        False,
        question="Technology suppliers",
        help="One supplier on each line",
    ),
    Question(
        "tried_before",
        "lines",
        False,
        question="What has been tried before",
        help="One thing on each line",
    ),
    Question(
        "innovation_history",
        "textarea",
        False,
        question="History of innovation",
        help="What the council has changed before, and how it went",
        limit=LONG_TEXT,
    ),
)
REGISTERED = ("code", "name", "council_type", "region", "population", "gss_code")
REGISTERED_TOO = ("political_control",)
LEGACIES = ("suppliers", "tried_before", "innovation_history")


def _council_journey() -> Journey:
    return Journey(
        heading="Register a council",
        caption="Councils",
        fields=COUNCIL_FIELDS,
        action="/councils/new",
        confirm="/councils/new/confirm",
        back="/councils/find",
        check_heading="Check the council before you register it",
        button="Register council",
        lead="Its profile is what the programme compares councils by.",
    )


def _council_answers(
    raw: dict[str, str],
) -> tuple[tuple[CouncilIn, CouncilProfileIn] | None, list[FieldError]]:
    errors: list[FieldError] = []
    body = body_values(COUNCIL_FIELDS, raw)
    population = str(body.get("population", "")).replace(",", "").strip()
    if population:
        if population.isascii() and population.isdigit() and len(population) <= 12:
            body["population"] = int(population)
        else:
            errors.append(
                FieldError(
                    "population", "Population must be a whole number, like 130000", "#population"
                )
            )
            body.pop("population")
    registered = {k: v for k, v in body.items() if k in REGISTERED + REGISTERED_TOO}
    legacies = {k: v for k, v in body.items() if k in LEGACIES}
    council = _validate(CouncilIn, COUNCIL_FIELDS, registered, errors)
    profile = _validate(CouncilProfileIn, COUNCIL_FIELDS, legacies, errors)
    if errors or council is None or profile is None:
        return None, errors
    return (council, profile), errors


@router.get("/councils/new", dependencies=REGISTER)
def new_council(request: Request, pages: PagesDep) -> HTMLResponse:
    journey = _council_journey()
    return _form(request, pages, journey, _raw(journey.fields, request.query_params), [])


@router.post("/councils/new", dependencies=REGISTER)
async def check_council(request: Request, pages: PagesDep) -> HTMLResponse:
    journey = _council_journey()
    raw = _raw(journey.fields, await request.form())
    _, errors = _council_answers(raw)
    if errors:
        return _form(request, pages, journey, raw, errors)
    return _check(request, pages, journey, raw, journey.action)


@router.post("/councils/new/confirm", dependencies=REGISTER)
async def register_council(
    request: Request, pages: PagesDep, waymark: WaymarkDep, actor: ActorDep
) -> Response:
    journey = _council_journey()
    raw = _raw(journey.fields, await request.form())
    answers, errors = _council_answers(raw)
    if answers is None:
        return _form(request, pages, journey, raw, errors)
    council, profile = answers
    try:
        waymark.records.register_council(
            code=council.code,
            name=council.name,
            council_type=council.council_type.value,
            region=council.region.value,
            population=council.population,
            gss_code=council.gss_code,
            political_control=council.political_control,
            actor=actor,
        )
    except InvalidValue as error:
        return _form(request, pages, journey, raw, [_domain_error(journey.fields, error)])
    except Conflict:
        taken = FieldError("code", "A council with this code is already registered", "#code")
        return _form(request, pages, journey, raw, [taken])
    code = waymark.records.get_council(council.code).code
    legacies = profile.model_dump(mode="json", exclude_unset=True)
    if legacies:
        # The talk's legacies are part of the profile, recorded with it as the registrar.
        waymark.records.update_council_profile(code=code, changes=legacies, actor=actor)
    return _done(f"/councils/{code}", "registered")


ASSESSED_ON = Question(
    "assessed_on",
    "date",
    True,
    question="Date assessed",
    help="For example, 27 3 2026",
)
FINANCIAL_FIELDS = (
    ASSESSED_ON,
    Question(
        "demand_pressure",
        "radios",
        True,
        _choices(Pressure),
        question="Demand pressure",
        help="How hard demand for the council's services is pressing on it",
    ),
    Question(
        "financial_pressure",
        "radios",
        True,
        _choices(Pressure),
        question="Financial pressure",
        help="How tight the council's money is",
    ),
    Question(
        "note",
        "textarea",
        False,
        question="Notes",
        help="What the assessment rests on",
        limit=LONG_TEXT,
    ),
)
MATURITY_FIELDS = (
    ASSESSED_ON,
    *(
        Question(
            f"level_{m.value}",
            "level",
            True,
            ("1", "2", "3", "4", "5"),
            question=words.MEANINGS[m.value][0],
            help=words.MEANINGS[m.value][1],
        )
        for m in DigitalMeaning
    ),
    Question(
        "note",
        "textarea",
        False,
        question="Notes",
        help="What the assessment rests on",
        limit=LONG_TEXT,
    ),
)


def _assessment_journey(council: dict[str, Any], kind: str) -> Journey:
    code = council["code"]
    base = f"/councils/{code}/{kind}"
    financial = kind == "financial-context"
    return Journey(
        heading="Record financial context" if financial else "Record digital maturity",
        caption=council["name"],
        fields=FINANCIAL_FIELDS if financial else MATURITY_FIELDS,
        action=base,
        confirm=f"{base}/confirm",
        back=f"/councils/{code}",
        check_heading="Check the assessment before you record it",
        button="Record financial context" if financial else "Record digital maturity",
        lead=(
            "Demand and financial pressure, each low, medium or high, give the council's "
            "segment in comparisons."
            if financial
            else "Choose the level, from 1 to 5, that best describes the council on each "
            "of the five meanings of digital."
        ),
    )


def _financial_answers(raw: dict[str, str]) -> tuple[FinancialContextIn | None, list[FieldError]]:
    errors = _date_parts_missing(FINANCIAL_FIELDS, raw)
    body = _validate(
        FinancialContextIn, FINANCIAL_FIELDS, body_values(FINANCIAL_FIELDS, raw), errors
    )
    return (None if errors else body), errors


def _maturity_answers(raw: dict[str, str]) -> tuple[MaturityIn | None, list[FieldError]]:
    errors = _date_parts_missing(MATURITY_FIELDS, raw)
    body = body_values(MATURITY_FIELDS, raw)
    levels: dict[str, Any] = {}
    for m in DigitalMeaning:
        typed = body.pop(f"level_{m.value}", None)
        if typed is not None:
            levels[m.value] = int(typed) if typed in ("1", "2", "3", "4", "5") else typed
    body["levels"] = levels

    def field_of(loc: tuple[Any, ...]) -> str:
        return f"level_{loc[1]}" if len(loc) > 1 and loc[0] == "levels" else str(loc[0])

    checked = _validate(MaturityIn, MATURITY_FIELDS, body, errors, field_of)
    return (None if errors else checked), errors


def _assessable(waymark: Any, code: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = waymark.queries.council(code)
    except InvalidValue:
        raise NotFound("council", code) from None
    return found


@router.get("/councils/{code}/financial-context", dependencies=CHANGE_COUNCIL)
@router.get("/councils/{code}/maturity", dependencies=CHANGE_COUNCIL)
def new_assessment(
    code: str, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    kind = request.url.path.rsplit("/", 1)[1]
    journey = _assessment_journey(_assessable(waymark, code), kind)
    values = _raw(journey.fields, request.query_params)
    return _form(request, pages, journey, values, [], levels=words.MATURITY_LEVELS)


@router.post("/councils/{code}/financial-context", dependencies=CHANGE_COUNCIL)
@router.post("/councils/{code}/maturity", dependencies=CHANGE_COUNCIL)
async def check_assessment(
    code: str, request: Request, pages: PagesDep, waymark: WaymarkDep
) -> HTMLResponse:
    kind = request.url.path.rsplit("/", 1)[1]
    journey = _assessment_journey(_assessable(waymark, code), kind)
    raw = _raw(journey.fields, await request.form())
    answers = _financial_answers if kind == "financial-context" else _maturity_answers
    _, errors = answers(raw)
    if errors:
        return _form(request, pages, journey, raw, errors, levels=words.MATURITY_LEVELS)
    return _check(request, pages, journey, raw, journey.action)


@router.post("/councils/{code}/financial-context/confirm", dependencies=CHANGE_COUNCIL)
@router.post("/councils/{code}/maturity/confirm", dependencies=CHANGE_COUNCIL)
async def record_assessment(
    code: str, request: Request, pages: PagesDep, waymark: WaymarkDep, actor: ActorDep
) -> Response:
    kind = request.url.path.rsplit("/", 2)[1]
    council = _assessable(waymark, code)
    journey = _assessment_journey(council, kind)
    raw = _raw(journey.fields, await request.form())
    try:
        if kind == "financial-context":
            money, errors = _financial_answers(raw)
            if money is None:
                return _form(request, pages, journey, raw, errors, levels=words.MATURITY_LEVELS)
            waymark.records.assess_financial_context(
                code=council["code"],
                assessed_on=money.assessed_on,
                demand_pressure=money.demand_pressure.value,
                financial_pressure=money.financial_pressure.value,
                note=money.note,
                actor=actor,
            )
        else:
            maturity, errors = _maturity_answers(raw)
            if maturity is None:
                return _form(request, pages, journey, raw, errors, levels=words.MATURITY_LEVELS)
            waymark.records.assess_maturity(
                code=council["code"],
                assessed_on=maturity.assessed_on,
                levels=maturity.levels.model_dump(),
                note=maturity.note,
                actor=actor,
            )
    except InvalidValue as error:
        wrong = [_domain_error(journey.fields, error)]
        return _form(request, pages, journey, raw, wrong, levels=words.MATURITY_LEVELS)
    return _done(f"/councils/{council['code']}", kind.replace("-", "_"))


@router.get("/councils/{code}/done", dependencies=[allow(Permission.READ)])
def council_done(
    code: str,
    request: Request,
    pages: PagesDep,
    waymark: WaymarkDep,
    what: Annotated[str, Query(max_length=30)] = "",
) -> HTMLResponse:
    return pages.render(
        request,
        "setup_done.html",
        what=what,
        council=_assessable(waymark, code),
        subject="council",
    )
