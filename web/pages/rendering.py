"""Jinja2 with the GOV.UK Frontend macros, and how a page is answered."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    select_autoescape,
)
from markupsafe import Markup

from domain.errors import NotFound
from services.access import Access, Permission, Principal, Scope
from services.queries import pounds
from web.deps import session_csrf_token
from web.pages import words

TEMPLATES = Path(__file__).resolve().parent / "templates"


def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(TEMPLATES),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        day=long_date,
        moment=long_moment,
        label=words.label,
        kind_name=words.kind_name,
        event_name=words.event_name,
        kind_hint=words.kind_hint,
        choice_item=words.choice_item,
        link=link,
        pounds=pounds,
        maturity_level=words.maturity_level,
    )
    return env


def link(text: object, href: str) -> Markup:
    """A GOV.UK link, its text and address escaped."""
    return Markup('<a class="govuk-link" href="{}">{}</a>').format(href, text)


def long_date(value: date | str | None) -> str:
    """1 March 2026, as GOV.UK writes dates."""
    if value in (None, ""):
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {day:%B %Y}"


def long_moment(value: datetime | str | None) -> str:
    """1 March 2026 at 2:05pm UTC."""
    if value in (None, ""):
        return ""
    moment = (
        datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    )
    moment = moment.astimezone(UTC)
    hour = moment.hour % 12 or 12
    noon = "am" if moment.hour < 12 else "pm"
    return f"{long_date(moment.date())} at {hour}:{moment:%M}{noon} UTC"


class Pages:
    """Renders templates with what every page needs: who is signed in and their CSRF token."""

    def __init__(self) -> None:
        self.env = environment()

    def render(
        self, request: Request, template: str, *, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        principal: Principal | None = getattr(request.state, "principal", None)
        access: Access = request.app.state.waymark.access

        def may(permission: str, **about: str) -> bool:
            """Whether the signed-in person may do this, so a page shows its start button."""
            return principal is not None and allowed(access, principal, permission, about)

        html = self.env.get_template(template).render(
            request=request,
            path=request.url.path,
            principal=principal,
            may_audit=principal is not None and access.allows(principal, Permission.AUDIT, Scope()),
            may_administer=principal is not None
            and access.allows(principal, Permission.ADMINISTER, Scope()),
            csrf_token=session_csrf_token(request),
            may=may,
            **context,
        )
        return HTMLResponse(html, status_code=status_code)


def allowed(access: Access, principal: Principal, permission: str, about: dict[str, str]) -> bool:
    """``may("manage_programme", programme_id=...)`` in a template; False for what is not there."""
    try:
        scope = access.scope(
            **{k: (v if k == "council_code" else UUID(str(v))) for k, v in about.items()}
        )
        return access.allows(principal, Permission(permission), scope)
    except (NotFound, ValueError):
        return False


def get_pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages
