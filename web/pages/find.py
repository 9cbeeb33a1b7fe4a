"""Finding things in the record: the audit log (admins and reviewers) and search (anyone)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.access import Permission
from services.container import Waymark
from web.deps import PrincipalDep, WaymarkDep, allow
from web.pages import present, words
from web.pages.dates import date_fields, end_of, past_day, start_of, typed, typed_range
from web.pages.entry_forms import FieldError, by_input
from web.pages.rendering import long_date, long_moment
from web.pages.routing import PageRoute, PagesDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

AUDIT_PAGE = 50
SEARCH_PAGE = 20
#: As the API's search takes them (web/api/search.py).
MAX_QUERY_LENGTH = 500
AGGREGATE_TYPES = ("Programme", "Cohort", "Council", "Project", "User")
AUDIT_DATES = date_fields("since", "until")
AS_OF = date_fields("as_of")

Cursor = Annotated[str | None, Query(max_length=200)]
WaitFor = Annotated[int | None, Query(ge=0)]


@dataclass
class AuditFilters:
    """The audit page's filters as typed, checked, and as the query takes them."""

    values: dict[str, str]
    filters: dict[str, str]
    errors: list[FieldError]
    query: dict[str, Any]
    thing: dict[str, Any] | None = None
    #: "As it stood on" a day: the end of that day, where one was asked for.
    as_of: datetime | None = None

    @property
    def link_query(self) -> dict[str, str]:
        """The filters as a link's query: the same changes, on another page or in a CSV."""
        return {k: v for k, v in self.values.items() if v}


def audit_filters(
    request: Request,
    waymark: Waymark,
    *,
    actor: str,
    aggregate: str,
    aggregate_type: str,
    kind: str,
    order: str,
) -> AuditFilters:
    """Read and check the audit log's filters: by whom, which record, what kind, when."""
    raw = typed(AUDIT_DATES + AS_OF, request.query_params)
    errors: list[FieldError] = []
    since, until = typed_range(raw, ("Recorded from", "Recorded up to"), errors)
    as_of = past_day(raw, errors, waymark.queries.today())
    up_to = end_of(until) if until else None
    if as_of is not None:
        up_to = min(up_to, as_of) if up_to else as_of
    who = actor.strip()
    if any(unicodedata.category(c) == "Cc" for c in who):
        errors.append(FieldError("actor", "By must be a username, like demo-manager", "#actor"))
        who = ""
    record = aggregate.strip()
    thing = None
    if record:
        try:
            record = str(UUID(record))
        except ValueError:
            message = "Record id must be an id like those in a record’s “Audit trail” link"
            errors.append(FieldError("aggregate", message, "#thing"))
            record = ""
        else:
            thing = waymark.queries.names([record]).get(record)
    events = dict(waymark.queries.audit_events())
    filters = {
        "actor": who,
        "aggregate": aggregate.strip(),
        "aggregate_type": aggregate_type if aggregate_type in AGGREGATE_TYPES else "",
        "kind": kind if kind in events else "",
        "order": order if order in ("asc", "desc") else "desc",
    }
    return AuditFilters(
        values={**raw, **filters},
        filters=filters,
        errors=errors,
        query={
            "actor": filters["actor"] or None,
            "aggregate": record or None,
            "aggregate_type": filters["aggregate_type"] or None,
            "event": filters["kind"] or None,
            "since": start_of(since) if since else None,
            "until": up_to,
            "order": filters["order"],
        },
        thing=thing,
        as_of=as_of,
    )


def thing_name(thing: dict[str, Any]) -> str:
    """A record as the audit log names it: "Bins online, Exeter City Council", "Cohort 1"."""
    name, kind = thing.get("name"), thing["type"]
    if not name:
        return f"A {kind.lower()} not yet named"
    if kind == "Project" and thing.get("council_name"):
        return f"{name}, {thing['council_name']}"
    if kind == "User":
        return f"User {name}"
    return str(name)


def thing_page(row: dict[str, Any]) -> str:
    """Where a change's record has a page of its own ("" where it has none)."""
    kind, thing = row["aggregate_type"], row["thing"]
    if not thing.get("name"):
        return ""
    if kind in ("Programme", "Cohort", "Project"):
        return f"/{kind.lower()}s/{row['aggregate_id']}"
    if kind == "Council" and thing.get("code"):
        return f"/councils/{quote(thing['code'])}"
    return ""


def change_name(row: dict[str, Any]) -> str:
    """The kind of change in words: an entry's kind, or the event's name."""
    return (
        words.kind_name(row["entry_kind"])
        if row.get("entry_kind")
        else words.event_name(row["event"])
    )


def what_changed(row: dict[str, Any]) -> list[str]:
    """A correction's changes, one line each: "Estimated cost: £4,800.00 → £48,000.00"."""
    return [f"{c['label']}: {c['before']} → {c['after']}" for c in row.get("changes", [])]


def audit_words(row: dict[str, Any]) -> dict[str, Any]:
    """One change as the page and its CSV show it, every cell in words."""
    return {
        "recorded": long_moment(row["recorded_at"]),
        "by": row["actor"] or "Not recorded",
        "thing": thing_name(row["thing"]),
        "change": change_name(row),
        "decided": long_date(row.get("decided_on")),
        "says": row["summary"],
        "changed": what_changed(row),
        "position": str(row["position"]),
    }


def event_choices(waymark: Waymark) -> list[tuple[str, str]]:
    """The kinds of change to filter by, as (event name, words)."""
    return [
        (name, words.kind_name(kind) if kind else words.event_name(name))
        for name, kind in waymark.queries.audit_events()
    ]


@router.get("/audit", dependencies=[allow(Permission.AUDIT)])
def audit(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    actor: Annotated[str, Query(max_length=200)] = "",
    aggregate: Annotated[str, Query(max_length=200)] = "",
    aggregate_type: Annotated[str, Query(max_length=100)] = "",
    kind: Annotated[str, Query(max_length=100)] = "",
    order: Annotated[str, Query(max_length=10)] = "desc",
    cursor: Cursor = None,
    wait_for: WaitFor = None,
) -> HTMLResponse:
    chosen = audit_filters(
        request,
        waymark,
        actor=actor,
        aggregate=aggregate,
        aggregate_type=aggregate_type,
        kind=kind,
        order=order,
    )
    freshness = waymark.queries.fresh(wait_for)
    items: list[dict[str, Any]] = []
    next_cursor = None
    if not chosen.errors:
        items, next_cursor = waymark.queries.audit(**chosen.query, cursor=cursor, limit=AUDIT_PAGE)
    for row in items:
        row["words"] = audit_words(row)
        row["page"] = thing_page(row)
    return pages.render(
        request,
        "audit.html",
        items=items,
        filters=chosen.filters,
        aggregate_types=AGGREGATE_TYPES,
        event_choices=event_choices(waymark),
        thing=thing_name(chosen.thing) if chosen.thing else None,
        values=chosen.values,
        errors=chosen.errors,
        error_for=by_input(chosen.errors),
        query=chosen.link_query,
        every_record={k: v for k, v in chosen.link_query.items() if k != "aggregate"},
        next_cursor=next_cursor,
        first_page=cursor is None,
        freshness=freshness,
        as_of=chosen.as_of,
        first_change=waymark.queries.first_change() if chosen.as_of and not items else None,
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
    freshness = waymark.queries.fresh(wait_for)
    if words and not errors:
        items, next_cursor = waymark.queries.search(
            words, principal, cursor=cursor, limit=SEARCH_PAGE
        )
        for item in items:
            present.in_force(item)
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
