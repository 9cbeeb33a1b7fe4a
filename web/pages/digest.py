"""The weekly digest as a page (everyone signed in: their own), the choice to have it by
email, and the digests' sending on the operations page (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from services.access import Permission
from services.digests import SECTIONS, describe, detail, project_name
from web.deps import ActorDep, WaymarkDep, allow
from web.pages.entry_forms import FieldError
from web.pages.people import SIGNED_IN
from web.pages.routing import PageRoute, PagesDep, form_csrf_token

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CHOICE_MISSING = "Select whether you want the weekly digest by email"
DONE = {"on": "You will get the weekly digest by email", "off": "Your weekly digest is off"}


def _digest_page(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: str,
    *,
    errors: list[FieldError] | None = None,
    done: str | None = None,
    position: int | None = None,
) -> HTMLResponse:
    if position is not None and position <= waymark.projector.log.head():
        waymark.queries.fresh(position)
    digest = waymark.digests.of(actor, waymark.queries.today())
    return pages.render(
        request,
        "digest.html",
        digest=digest,
        sections=SECTIONS,
        detail=detail,
        project_name=project_name,
        describe=describe,
        smtp=waymark.settings.smtp_host is not None,
        quiet_after_days=waymark.settings.quiet_after_days,
        concern_days=waymark.settings.digest_concern_days,
        errors=errors or [],
        done=DONE.get(done or ""),
        status_code=400 if errors else 200,
    )


@router.get("/digest", dependencies=SIGNED_IN)
def digest_page(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
    done: Annotated[str | None, Query(max_length=20)] = None,
    position: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> HTMLResponse:
    """What needs your attention this week, and whether it comes by email."""
    return _digest_page(request, waymark, pages, actor, done=done, position=position)


@router.post("/digest/choice", dependencies=SIGNED_IN)
def choose_digest(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: ActorDep,
    wanted: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Turn one's own digest on or off (recorded, with oneself as the actor)."""
    if wanted not in ("yes", "no"):
        return _digest_page(
            request,
            waymark,
            pages,
            actor,
            errors=[FieldError("wanted", CHOICE_MISSING, "#wanted")],
        )
    written = waymark.records.choose_digest(username=actor, wanted=wanted == "yes", actor=actor)
    done = "on" if wanted == "yes" else "off"
    return RedirectResponse(f"/digest?done={done}&position={written.position}", status_code=303)


@router.get("/operations", dependencies=[Depends(form_csrf_token), allow(Permission.ADMINISTER)])
def operations(request: Request, waymark: WaymarkDep, pages: PagesDep) -> HTMLResponse:
    """What the server does on its own: the weekly digests, sent, failing, or stuck."""
    return pages.render(
        request,
        "operations.html",
        sends=waymark.digests.sends(),
        smtp_host=waymark.settings.smtp_host,
        retry_seconds=waymark.settings.digest_retry_seconds,
    )
