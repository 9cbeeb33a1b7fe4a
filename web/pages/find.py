"""Finding things in the record: the audit log (admins and reviewers) and search (anyone)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from domain.council import Council
from projections.audit_log import AuditQuery
from projections.search import SearchQuery
from services.access import Permission
from services.container import Waymark
from web.api import presenters
from web.deps import PrincipalDep, WaymarkDep, allow
from web.pages.dates import date_fields, end_of, start_of, typed, typed_day
from web.pages.entry_forms import FieldError, by_input
from web.pages.routing import PageRoute, PagesDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

AUDIT_PAGE = 50
SEARCH_PAGE = 20
#: As the API's search takes them (web/api/search.py).
MAX_QUERY_LENGTH = 500
AGGREGATE_TYPES = ("Programme", "Cohort", "Council", "Project", "User")
AUDIT_DATES = date_fields("since", "until")

Cursor = Annotated[str | None, Query(max_length=200)]
WaitFor = Annotated[int | None, Query(ge=0)]


def _council_codes(waymark: Waymark) -> dict[str, str]:
    """Each council's code by its record id (the code's uuid5)."""
    return {str(Council.create_id(c["code"])): c["code"] for c in waymark.councils()}


def _record(row: dict[str, Any], councils: dict[str, str]) -> tuple[str, str]:
    """What a change's record is called on the page, and where its page is (if it has one)."""
    kind, record = row["aggregate_type"], row["aggregate_id"]
    if kind in ("Programme", "Cohort", "Project"):
        return kind, f"/{kind.lower()}s/{record}"
    if kind == "Council" and record in councils:
        return f"Council {councils[record]}", f"/councils/{councils[record]}"
    return kind, ""


@router.get("/audit", dependencies=[allow(Permission.AUDIT)])
def audit(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: Annotated[str, Query(max_length=200)] = "",
    aggregate: Annotated[str, Query(max_length=200)] = "",
    aggregate_type: Annotated[str, Query(max_length=100)] = "",
    order: Annotated[str, Query(max_length=10)] = "desc",
    cursor: Cursor = None,
    wait_for: WaitFor = None,
) -> HTMLResponse:
    raw = typed(AUDIT_DATES, request.query_params)
    errors: list[FieldError] = []
    since = typed_day(raw, "since", "Recorded from", errors)
    until = typed_day(raw, "until", "Recorded up to", errors)
    who = actor.strip()
    if any(unicodedata.category(c) == "Cc" for c in who):
        errors.append(FieldError("actor", "By must be a username, like demo-manager", "#actor"))
        who = ""
    record = aggregate.strip()
    if record:
        try:
            record = str(UUID(record))
        except ValueError:
            message = "Record id must be an id like 93e581ca-edfd-597a-8d16-cc296242a73e"
            errors.append(FieldError("aggregate", message, "#aggregate"))
            record = ""
    filters = {
        "actor": who,
        "aggregate": aggregate.strip(),
        "aggregate_type": aggregate_type if aggregate_type in AGGREGATE_TYPES else "",
        "order": order if order in ("asc", "desc") else "desc",
    }
    freshness = waymark.fresh(wait_for)
    items, next_cursor = [], None
    if not errors:
        items, next_cursor = waymark.audit(
            AuditQuery(
                actor=filters["actor"] or None,
                aggregate=record or None,
                aggregate_type=filters["aggregate_type"] or None,
                since=presenters.plain(start_of(since)) if since else None,
                until=presenters.plain(end_of(until)) if until else None,
                order=filters["order"],
                cursor=cursor,
                limit=AUDIT_PAGE,
            )
        )
    councils = _council_codes(waymark)
    for row in items:
        row["record_name"], row["page"] = _record(row, councils)
    return pages.render(
        request,
        "audit.html",
        items=items,
        filters=filters,
        aggregate_types=AGGREGATE_TYPES,
        values={**raw, **filters},
        errors=errors,
        error_for=by_input(errors),
        query={k: v for k, v in {**filters, **raw}.items() if v},
        next_cursor=next_cursor,
        first_page=cursor is None,
        freshness=freshness,
    )


@router.get("/search", dependencies=[allow(Permission.READ)])
def search(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    principal: PrincipalDep,
    q: str = "",
    cursor: Cursor = None,
    wait_for: WaitFor = None,
) -> HTMLResponse:
    assert principal is not None  # allow() sent anyone else to sign in
    errors: list[FieldError] = []
    words = q.strip()
    if len(words) > MAX_QUERY_LENGTH:
        message = f"Search words must be {MAX_QUERY_LENGTH} characters or fewer"
        errors.append(FieldError("q", message, "#q"))
    items: list[dict[str, Any]] = []
    next_cursor = None
    freshness = waymark.fresh(wait_for)
    if words and not errors:
        items, next_cursor = waymark.search(
            SearchQuery(q=words, cursor=cursor, limit=SEARCH_PAGE), principal
        )
    return pages.render(
        request,
        "search.html",
        q=q,
        searched=bool(words) and not errors,
        items=items,
        errors=errors,
        error_for=by_input(errors),
        next_cursor=next_cursor,
        first_page=cursor is None,
        freshness=freshness,
    )
