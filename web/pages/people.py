"""People and their roles (admins), and "Your account" (everyone signed in).

Adding a person, and giving or removing a role, go through "Check your answers"
before anything is recorded; each grant and revocation is recorded with the
signed-in admin as its actor. An API token is shown once, on the page that
issues it. Passwords, tokens and sessions are credentials, not events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from domain.errors import Conflict, InvalidValue, NotFound
from domain.fields import Text
from domain.user import User
from domain.vocabulary import Role
from services.access import Permission
from services.credentials import password_problem
from services.sign_in import TooManyAttempts
from web.deps import SESSION_COOKIE, ActorDep, WaymarkDep, allow, client_address
from web.pages import words
from web.pages.entry_forms import FieldError, by_input
from web.pages.routing import PageRoute, PagesDep, form_csrf_token

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ADMIN = [Depends(form_csrf_token), allow(Permission.ADMINISTER)]

ROLE_NAMES = {
    Role.ADMIN.value: "Admin",
    Role.PROGRAMME_MANAGER.value: "Programme manager",
    Role.REVIEWER.value: "Reviewer",
    Role.PARTICIPANT.value: "Participant",
}
ROLE_HINTS = {
    Role.ADMIN.value: "Sets up programmes and manages people",
    Role.PROGRAMME_MANAGER.value: "Runs one programme: its cohorts, councils and entries",
    Role.REVIEWER.value: "Reads everything, including the audit log, and records nothing",
    Role.PARTICIPANT.value: "Records their own council's projects and reads their cohorts",
}
FormText = Annotated[str, Form(max_length=1000)]
Secret = Annotated[str, Form(max_length=1000)]


def signed_in(actor: ActorDep) -> None:
    """Anyone signed in (the account pages are their own, whatever their roles)."""


SIGNED_IN = [Depends(form_csrf_token), Depends(signed_in)]


# -- words -------------------------------------------------------------------------------


def describe_grant(grant: dict[str, Any]) -> str:
    """ "Programme manager of Local Digital", "Participant of Exeter City Council", "Admin"."""
    role = ROLE_NAMES.get(grant["role"], words.label(grant["role"]))
    if grant.get("programme_id"):
        return f"{role} of {grant.get('programme_name') or grant['programme_id']}"
    if grant.get("council_code"):
        return f"{role} of {grant.get('council_name') or grant['council_code']}"
    return role


def _capitalised(message: str) -> str:
    return message[:1].upper() + message[1:]


def _person_or_404(waymark: WaymarkDep, username: str, wait_for: int | None = None) -> Any:
    try:
        return waymark.people.person(username, wait_for)
    except InvalidValue:
        raise NotFound("person", username) from None


# -- who has which role --------------------------------------------------------------------


@router.get("/people", dependencies=ADMIN)
def people(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    position: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> HTMLResponse:
    return pages.render(
        request,
        "people.html",
        people=waymark.people.everyone(_reachable(waymark, position)),
        describe=describe_grant,
    )


def _reachable(waymark: WaymarkDep, position: int | None) -> int | None:
    """A position to wait for, if it is one the log has (a stale address waits for nothing)."""
    if position is None or position > waymark.projector.log.head():
        return None
    return position


@router.get("/people/{username}", dependencies=ADMIN)
def person(
    username: str,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    position: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    found = _person_or_404(waymark, username, _reachable(waymark, position))
    return pages.render(
        request,
        "person.html",
        person=found,
        describe=describe_grant,
        tokens=waymark.people.tokens(found["username"]),
        done=DONE.get(done or ""),
    )


#: What the person's page says after a change, by the ``done`` it is sent back with.
DONE = {
    "added": "Person added",
    "granted": "Role given",
    "revoked": "Role removed",
    "token-revoked": "API token revoked",
    "tokens-revoked": "Every API token revoked and every session ended",
    "sessions-ended": "Sessions ended",
}


def _back_to(username: str, done: str, position: int | None = None) -> RedirectResponse:
    at = f"&position={position}" if position is not None else ""
    return RedirectResponse(f"/people/{username}?done={done}{at}", status_code=303)


# -- adding a person -----------------------------------------------------------------------


@dataclass(frozen=True)
class RoleAnswer:
    """A role and its scope as chosen on a form, checked against the record."""

    role: str
    programme_id: UUID | None
    council_code: str | None


def _role_answer(
    waymark: WaymarkDep, role: str, programme: str, council: str, *, required: bool
) -> tuple[RoleAnswer | None, list[FieldError]]:
    if not role:
        if required:
            return None, [FieldError("role", "Select a role", "#role")]
        return None, []
    if role not in ROLE_NAMES:
        return None, [FieldError("role", "Select a role", "#role")]
    programme_id = None
    council_code = None
    if role == Role.PROGRAMME_MANAGER.value:
        try:
            programme_id = UUID(programme) if programme else None
        except ValueError:
            programme_id = None
        if programme_id is None:
            return None, [FieldError("programme", "Select a programme", "#programme")]
    if role == Role.PARTICIPANT.value:
        council_code = council.strip() or None
        if council_code is None:
            return None, [FieldError("council", "Select a council", "#council")]
    try:
        grant = waymark.records.check_grant(role, programme_id, council_code)
    except NotFound as error:
        field = "programme" if programme_id else "council"
        return None, [FieldError(field, _capitalised(str(error)), f"#{field}")]
    except InvalidValue as error:
        return None, [FieldError("role", _capitalised(error.message), "#role")]
    return RoleAnswer(grant.role, grant.programme_id, grant.council_code), []


def _scope_name(waymark: WaymarkDep, answer: RoleAnswer) -> str:
    grant: dict[str, Any] = {"role": answer.role}
    if answer.programme_id:
        grant |= {
            "programme_id": str(answer.programme_id),
            "programme_name": waymark.queries.programme(answer.programme_id)["name"],
        }
    if answer.council_code:
        grant |= {
            "council_code": answer.council_code,
            "council_name": waymark.queries.council(answer.council_code)["name"],
        }
    return describe_grant(grant)


def _role_choices(waymark: WaymarkDep) -> dict[str, Any]:
    return {
        "roles": [(value, name, ROLE_HINTS[value]) for value, name in ROLE_NAMES.items()],
        "programmes": waymark.queries.programmes(),
        "councils": waymark.queries.councils(),
    }


def _person_form(
    request: Request,
    pages: PagesDep,
    waymark: WaymarkDep,
    values: dict[str, str],
    errors: list[FieldError],
) -> HTMLResponse:
    return pages.render(
        request,
        "person_form.html",
        values=values,
        errors=errors,
        error_for=by_input(errors),
        status_code=400 if errors else 200,
        **_role_choices(waymark),
    )


@router.get("/people/new/person", dependencies=ADMIN)
def new_person(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    username: Annotated[str, Query(max_length=200)] = "",
    display_name: Annotated[str, Query(max_length=200)] = "",
    role: Annotated[str, Query(max_length=50)] = "",
    programme: Annotated[str, Query(max_length=50)] = "",
    council: Annotated[str, Query(max_length=50)] = "",
) -> HTMLResponse:
    """The form; a "Change" link from "Check your answers" fills it with what was given
    (all but the password, which is never put in an address)."""
    values = {
        "username": username,
        "display_name": display_name,
        "role": role,
        "programme": programme,
        "council": council,
    }
    return _person_form(request, pages, waymark, values, [])


def _check_person(
    waymark: WaymarkDep, values: dict[str, str]
) -> tuple[RoleAnswer | None, list[FieldError]]:
    errors = []
    username = values["username"].strip()
    if not username:
        errors.append(FieldError("username", "Enter a username", "#username"))
    else:
        try:
            name = User.check_username(username)
        except InvalidValue:
            errors.append(
                FieldError(
                    "username",
                    "Username must be 2 to 100 lower-case letters, digits or . _ @ + -",
                    "#username",
                )
            )
        else:
            if waymark.records.exists(User.create_id(name)):
                errors.append(FieldError("username", f"{name} already has an account", "#username"))
    try:
        Text(required=False, max_length=200).clean("display_name", values["display_name"])
    except InvalidValue:
        errors.append(
            FieldError(
                "display_name",
                "Full name must be 200 characters or less, without control characters",
                "#display_name",
            )
        )
    answer, role_errors = _role_answer(
        waymark, values["role"], values["programme"], values["council"], required=False
    )
    errors += role_errors
    if values["password"] and (problem := password_problem(values["password"], username.lower())):
        errors.append(FieldError("password", f"Password {problem}", "#password"))
    return answer, errors


def _person_values(
    username: str, display_name: str, role: str, programme: str, council: str, password: str
) -> dict[str, str]:
    return {
        "username": username,
        "display_name": display_name.strip(),
        "role": role,
        "programme": programme if role == Role.PROGRAMME_MANAGER.value else "",
        "council": council if role == Role.PARTICIPANT.value else "",
        "password": password,
    }


@router.post("/people/new/person", dependencies=ADMIN)
def check_person(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    username: FormText = "",
    display_name: FormText = "",
    role: FormText = "",
    programme: FormText = "",
    council: FormText = "",
    password: Secret = "",
) -> HTMLResponse:
    values = _person_values(username, display_name, role, programme, council, password)
    answer, errors = _check_person(waymark, values)
    if errors:
        return _person_form(request, pages, waymark, values | {"password": ""}, errors)
    name = values["username"].strip().lower()
    change = "/people/new/person?" + "&".join(
        f"{k}={_quote(v)}" for k, v in values.items() if k not in ("password",) and v
    )
    rows = [
        ("Username", name, change + "#username"),
        ("Name", values["display_name"] or name, change + "#display_name"),
        ("Role", _scope_name(waymark, answer) if answer else "None yet", change + "#role"),
        (
            "Password",
            "Set (they sign in with it and can change it)"
            if password
            else "None (they use an API token)",
            change + "#password",
        ),
    ]
    return pages.render(
        request,
        "people_check_answers.html",
        title="Check the person's details",
        caption="Add a person",
        answers=rows,
        hidden=values,
        action="/people/new/confirmation",
        button="Add person",
        cancel="/people",
        warning="",
    )


def _quote(value: str) -> str:
    return quote(value, safe="")


@router.post("/people/new/confirmation", dependencies=ADMIN)
def add_person(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
    username: FormText = "",
    display_name: FormText = "",
    role: FormText = "",
    programme: FormText = "",
    council: FormText = "",
    password: Secret = "",
) -> Response:
    values = _person_values(username, display_name, role, programme, council, password)
    answer, errors = _check_person(waymark, values)
    if errors:
        return _person_form(request, pages, waymark, values | {"password": ""}, errors)
    try:
        written = waymark.people.add(
            username=values["username"],
            display_name=values["display_name"] or None,
            role=answer.role if answer else None,
            programme_id=answer.programme_id if answer else None,
            council_code=answer.council_code if answer else None,
            password=password or None,
            actor=actor,
        )
    except (InvalidValue, Conflict) as error:
        message = error.message if isinstance(error, InvalidValue) else str(error)
        failure = FieldError("username", _capitalised(message), "#username")
        return _person_form(request, pages, waymark, values | {"password": ""}, [failure])
    return _back_to(values["username"].strip().lower(), "added", written.position)


# -- giving and removing roles -------------------------------------------------------------


def _role_form(
    request: Request,
    pages: PagesDep,
    waymark: WaymarkDep,
    found: dict[str, Any],
    values: dict[str, str],
    errors: list[FieldError],
) -> HTMLResponse:
    return pages.render(
        request,
        "role_form.html",
        person=found,
        values=values,
        errors=errors,
        error_for=by_input(errors),
        status_code=400 if errors else 200,
        **_role_choices(waymark),
    )


@router.get("/people/{username}/roles/new", dependencies=ADMIN)
def new_role(
    username: str,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    role: Annotated[str, Query(max_length=50)] = "",
    programme: Annotated[str, Query(max_length=50)] = "",
    council: Annotated[str, Query(max_length=50)] = "",
) -> HTMLResponse:
    found = _person_or_404(waymark, username)
    values = {"role": role, "programme": programme, "council": council}
    return _role_form(request, pages, waymark, found, values, [])


@router.post("/people/{username}/roles/new", dependencies=ADMIN)
def check_role(
    username: str,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    role: FormText = "",
    programme: FormText = "",
    council: FormText = "",
) -> HTMLResponse:
    found = _person_or_404(waymark, username)
    values = {"role": role, "programme": programme, "council": council}
    answer, errors = _role_answer(waymark, role, programme, council, required=True)
    if answer is None or errors:
        return _role_form(request, pages, waymark, found, values, errors)
    name = found["username"]
    change = f"/people/{name}/roles/new?role={_quote(role)}&programme={_quote(programme)}"
    change += f"&council={_quote(council)}"
    return pages.render(
        request,
        "people_check_answers.html",
        title="Check the role before it is given",
        caption=found["display_name"],
        answers=[("Person", name, ""), ("Role", _scope_name(waymark, answer), change + "#role")],
        hidden=values,
        action=f"/people/{name}/roles/confirmation",
        button="Give role",
        cancel=f"/people/{name}",
        warning="The role is recorded with your name, and stays in the record once removed.",
    )


@router.post("/people/{username}/roles/confirmation", dependencies=ADMIN)
def give_role(
    username: str,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
    role: FormText = "",
    programme: FormText = "",
    council: FormText = "",
) -> Response:
    found = _person_or_404(waymark, username)
    values = {"role": role, "programme": programme, "council": council}
    answer, errors = _role_answer(waymark, role, programme, council, required=True)
    if answer is None or errors:
        return _role_form(request, pages, waymark, found, values, errors)
    try:
        written = waymark.records.grant_role(
            username=found["username"],
            role=answer.role,
            programme_id=answer.programme_id,
            council_code=answer.council_code,
            actor=actor,
        )
    except Conflict as error:
        failure = FieldError("role", _capitalised(str(error)), "#role")
        return _role_form(request, pages, waymark, found, values, [failure])
    return _back_to(found["username"], "granted", written.position)


def _held_grant(found: dict[str, Any], grant_key: str) -> dict[str, Any]:
    for grant in found["grants"]:
        if grant["grant_key"] == grant_key:
            return dict(grant)
    raise NotFound("role", grant_key)


@router.get("/people/{username}/roles/removal", dependencies=ADMIN)
def check_removal(
    username: str,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    grant: Annotated[str, Query(max_length=300)] = "",
) -> HTMLResponse:
    found = _person_or_404(waymark, username, waymark.projector.log.head())
    held = _held_grant(found, grant)
    name = found["username"]
    return pages.render(
        request,
        "people_check_answers.html",
        title="Check the role before it is removed",
        caption=found["display_name"],
        answers=[("Person", name, ""), ("Role to remove", describe_grant(held), "")],
        hidden={"grant": grant},
        action=f"/people/{name}/roles/removal",
        button="Remove role",
        cancel=f"/people/{name}",
        warning=f"{name} is signed out at once. The removal is recorded with your name.",
    )


@router.post("/people/{username}/roles/removal", dependencies=ADMIN)
def remove_role(
    username: str,
    waymark: WaymarkDep,
    actor: ActorDep,
    grant: FormText = "",
) -> Response:
    found = _person_or_404(waymark, username, waymark.projector.log.head())
    held = _held_grant(found, grant)
    written = waymark.records.revoke_role(
        username=found["username"],
        role=held["role"],
        programme_id=UUID(held["programme_id"]) if held["programme_id"] else None,
        council_code=held["council_code"] or None,
        actor=actor,
    )
    return _back_to(found["username"], "revoked", written.position)


# -- API tokens and sessions ---------------------------------------------------------------


@router.get("/people/{username}/tokens/new", dependencies=ADMIN)
def new_token(username: str, request: Request, waymark: WaymarkDep, pages: PagesDep) -> Response:
    found = _person_or_404(waymark, username)
    return pages.render(
        request, "token_form.html", person=found, values={}, errors=[], error_for={}
    )


@router.post("/people/{username}/tokens/new", dependencies=ADMIN)
def issue_token(
    username: str,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    label: FormText = "",
) -> Response:
    found = _person_or_404(waymark, username)
    errors = []
    if not label.strip():
        errors.append(FieldError("label", "Enter what the token is for", "#label"))
    elif len(label.strip()) > 100:
        errors.append(
            FieldError("label", "What the token is for must be 100 characters or less", "#label")
        )
    elif any(not c.isprintable() for c in label):
        errors.append(
            FieldError(
                "label", "What the token is for must not contain control characters", "#label"
            )
        )
    if errors:
        return pages.render(
            request,
            "token_form.html",
            person=found,
            values={"label": label},
            errors=errors,
            error_for=by_input(errors),
            status_code=400,
        )
    token = waymark.people.issue_token(
        found["username"], label=label, days=waymark.settings.token_days
    )
    return pages.render(
        request,
        "token_issued.html",
        person=found,
        token=token,
        label=label.strip(),
        days=waymark.settings.token_days,
    )


@router.post("/people/{username}/tokens/{token_id}/revocation", dependencies=ADMIN)
def revoke_token(username: str, token_id: str, waymark: WaymarkDep) -> Response:
    found = _person_or_404(waymark, username)
    waymark.people.revoke_token(found["username"], token_id)
    return _back_to(found["username"], "token-revoked")


@router.get("/people/{username}/sessions/end", dependencies=ADMIN)
def check_end_sessions(
    username: str, request: Request, waymark: WaymarkDep, pages: PagesDep
) -> HTMLResponse:
    found = _person_or_404(waymark, username)
    name = found["username"]
    return pages.render(
        request,
        "people_check_answers.html",
        title="End every session of this person",
        caption=found["display_name"],
        answers=[("Person", name, "")],
        hidden={},
        action=f"/people/{name}/sessions/end",
        button="End sessions",
        cancel=f"/people/{name}",
        warning=f"{name} is signed out of every browser at once. Their API tokens keep working.",
        extra_action=(f"/people/{name}/tokens/revocation", "Also revoke every API token"),
    )


@router.post("/people/{username}/sessions/end", dependencies=ADMIN)
def end_sessions(username: str, waymark: WaymarkDep) -> Response:
    found = _person_or_404(waymark, username)
    waymark.people.end_sessions(found["username"])
    return _back_to(found["username"], "sessions-ended")


@router.post("/people/{username}/tokens/revocation", dependencies=ADMIN)
def revoke_tokens(username: str, waymark: WaymarkDep) -> Response:
    found = _person_or_404(waymark, username)
    waymark.people.revoke_tokens(found["username"])
    return _back_to(found["username"], "tokens-revoked")


# -- your account ----------------------------------------------------------------------------


@router.get("/account", dependencies=SIGNED_IN)
def account(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    principal = request.state.principal
    grants = [
        {
            "role": g.role,
            "programme_id": str(g.programme_id) if g.programme_id else "",
            "programme_name": _name_of_programme(waymark, g.programme_id),
            "council_code": g.council_code or "",
            "council_name": _name_of_council(waymark, g.council_code),
        }
        for g in principal.grants
    ]
    return pages.render(
        request,
        "account.html",
        username=actor,
        grants=[describe_grant(g) for g in grants],
        tokens=waymark.people.tokens(actor),
        done={
            "password": "Password changed",
            "token-revoked": "API token revoked",
        }.get(done or ""),
    )


def _name_of_programme(waymark: WaymarkDep, programme_id: UUID | None) -> str:
    if programme_id is None:
        return ""
    try:
        return str(waymark.queries.programme(programme_id)["name"])
    except NotFound:
        return str(programme_id)


def _name_of_council(waymark: WaymarkDep, code: str | None) -> str:
    if not code:
        return ""
    try:
        return str(waymark.queries.council(code)["name"])
    except NotFound:
        return code


@router.post("/account/tokens/{token_id}/revocation", dependencies=SIGNED_IN)
def revoke_own_token(token_id: str, waymark: WaymarkDep, actor: ActorDep) -> Response:
    waymark.people.revoke_token(actor, token_id)
    return RedirectResponse("/account?done=token-revoked", status_code=303)


def _password_form(
    request: Request, pages: PagesDep, errors: list[FieldError], status_code: int = 200
) -> HTMLResponse:
    return pages.render(
        request,
        "password_form.html",
        errors=errors,
        error_for=by_input(errors),
        status_code=status_code,
    )


@router.get("/account/password", dependencies=SIGNED_IN)
def password_page(request: Request, pages: PagesDep) -> HTMLResponse:
    return _password_form(request, pages, [])


#: What the service says of a new password, in the Design System's words for the page.
PASSWORD_FIELDS = {"current_password": "Current password", "new_password": "New password"}


@router.post("/account/password", dependencies=SIGNED_IN)
def change_password(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
    current_password: Secret = "",
    new_password: Secret = "",
    confirm_password: Secret = "",
) -> Response:
    errors = []
    if not current_password:
        errors.append(
            FieldError("current_password", "Enter your current password", "#current_password")
        )
    if not new_password:
        errors.append(FieldError("new_password", "Enter a new password", "#new_password"))
    elif not confirm_password:
        errors.append(
            FieldError("confirm_password", "Confirm your new password", "#confirm_password")
        )
    elif new_password != confirm_password:
        errors.append(
            FieldError(
                "confirm_password",
                "The passwords you entered do not match",
                "#confirm_password",
            )
        )
    if errors:
        return _password_form(request, pages, errors, 400)
    try:
        waymark.people.change_password(
            actor,
            current=current_password,
            new=new_password,
            address=client_address(request),
            keep_session_id=request.cookies.get(SESSION_COOKIE),
        )
    except InvalidValue as error:
        field = error.field if error.field in PASSWORD_FIELDS else "new_password"
        message = error.message
        if not message[:1].isupper():
            message = f"{PASSWORD_FIELDS[field]} {message}"
        return _password_form(request, pages, [FieldError(field, message, f"#{field}")], 400)
    except TooManyAttempts as refusal:
        minutes = max(1, -(-refusal.retry_after // 60))
        wait = f"{minutes} minutes" if minutes > 1 else "a minute"
        failure = FieldError(
            "current_password", f"Too many tries. Wait {wait}, then try again.", "#current_password"
        )
        return _password_form(request, pages, [failure], 429)
    return RedirectResponse("/account?done=password", status_code=303)
