"""Downloads from the pages: each page's rows as CSV, and the verifiable export as a zip.

A CSV holds exactly what its page shows, with the same filters and the same
"as it stood on" date, every page of it, in words as the page has them. Cells
are spreadsheet-safe as in the API's exports (docs/EXPORT.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from domain.errors import InvalidValue
from domain.project import ENTRY_KINDS
from domain.vocabulary import Phase
from services.access import Permission
from services.container import Waymark
from web.api.exports import csv_line
from web.deps import WaymarkDep, allow
from web.pages import words
from web.pages.compare import check_ins_corrected, council_names, sharing
from web.pages.dates import date_fields, end_of, typed, typed_day
from web.pages.entry_forms import FieldError
from web.pages.find import audit_filters, audit_words
from web.pages.rendering import long_date, long_moment
from web.pages.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: Rows read at a time while a CSV is written.
CSV_BATCH = 500
CSV_TYPE = "text/csv; charset=utf-8; header=present"
TIMELINE_DATES = date_fields("since", "until")
AS_OF = date_fields("as_of")

AUDIT_COLUMNS = (
    "Recorded",
    "Decided on",
    "By",
    "Record",
    "Change",
    "What it says",
    "What changed",
    "Position in the log",
)
TIMELINE_COLUMNS = (
    "Council",
    "Project",
    "Kind of entry",
    "Decided on",
    "Recorded",
    "By",
    "What it says",
    "Phase at the time",
    "Corrected",
    "Entry id",
)
COMPARISON_COLUMNS = (
    "Council",
    "Project",
    "Partners",
    "Withdrawn",
    "Type",
    "Residents",
    "Region",
    "Financial segment",
    "Digital maturity (average level, 1 to 5)",
    "Phase",
    "Days in phase",
    "Problem statement iterations",
    "Make",
    "Buy",
    "Share",
    "Experiment",
    "Shares with",
    "Last check-in",
    "Team health at the last check-in",
    "Team health trend",
    "Member engagements",
    "Open concerns",
    "Quiet",
    "Latest service assessment",
    "Grants awarded (GBP)",
    "Paid (GBP)",
    "Match funding (GBP)",
)

Page = tuple[list[dict[str, Any]], str | None]


def _csv(
    columns: tuple[str, ...],
    first: Page,
    next_page: Callable[[str], Page],
    cells: Callable[[dict[str, Any]], list[str]],
    filename: str,
) -> StreamingResponse:
    """Rows page by page as CSV; the first page is read before anything is sent, so that
    a wrong filter is an error page, not a broken file."""

    def lines() -> Iterator[str]:
        yield csv_line(columns)
        rows, cursor = first
        while True:
            yield "".join(csv_line(cells(row)) for row in rows)
            if cursor is None:
                return
            rows, cursor = next_page(cursor)

    return StreamingResponse(
        lines(),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _refuse(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidValue(errors[0].input_name, errors[0].text)


def _as_of(request: Request, waymark: Waymark) -> datetime | None:
    """The "as it stood on" day the page was showing, as its last instant."""
    errors: list[FieldError] = []
    day = typed_day(typed(AS_OF, request.query_params), "as_of", "The date", errors)
    _refuse(errors)
    if day is not None and day > waymark.queries.today():
        raise InvalidValue("as_of", "The date must be today or in the past")
    return end_of(day) if day is not None else None


# -- the audit log --------------------------------------------------------------------------


@router.get("/audit.csv", dependencies=[allow(Permission.AUDIT)])
def audit_csv(
    request: Request,
    waymark: WaymarkDep,
    actor: Annotated[str, Query(max_length=200)] = "",
    aggregate: Annotated[str, Query(max_length=200)] = "",
    aggregate_type: Annotated[str, Query(max_length=100)] = "",
    kind: Annotated[str, Query(max_length=100)] = "",
    order: Annotated[str, Query(max_length=10)] = "desc",
) -> StreamingResponse:
    """The audit log's changes that the page shows with these filters, every page of them."""
    chosen = audit_filters(
        request,
        waymark,
        actor=actor,
        aggregate=aggregate,
        aggregate_type=aggregate_type,
        kind=kind,
        order=order,
    )
    _refuse(chosen.errors)

    def page(cursor: str | None) -> Page:
        return waymark.queries.audit(**chosen.query, cursor=cursor, limit=CSV_BATCH)

    def cells(row: dict[str, Any]) -> list[str]:
        w = audit_words(row)
        return [
            w["recorded"],
            w["decided"],
            w["by"],
            w["thing"],
            w["change"],
            w["says"],
            "; ".join(w["changed"]),
            w["position"],
        ]

    return _csv(AUDIT_COLUMNS, page(None), page, cells, "audit-log.csv")


# -- a cohort's timeline ------------------------------------------------------------------


@router.get("/cohorts/{cohort_id}/timeline.csv", dependencies=[allow(Permission.READ_COHORT)])
def timeline_csv(
    cohort_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    kind: Annotated[str, Query(max_length=50)] = "",
    council: Annotated[str, Query(max_length=64)] = "",
    phase: Annotated[str, Query(max_length=50)] = "",
    order: Annotated[str, Query(max_length=20)] = "recorded_at",
) -> StreamingResponse:
    """The cohort timeline's entries that the page shows with these filters, every page."""
    cohort = waymark.queries.cohort(cohort_id)
    errors: list[FieldError] = []
    raw = typed(TIMELINE_DATES, request.query_params)
    since = typed_day(raw, "since", "Decided from", errors)
    until = typed_day(raw, "until", "Decided up to", errors)
    _refuse(errors)
    as_of = _as_of(request, waymark)
    projects = waymark.queries.projects_of(cohort_id)
    councils = {p["council_code"] for p in projects}
    councils.update(code for p in projects for code in p["partner_council_codes"])
    titles = {p["project_id"]: p["title"] for p in projects}
    chosen: dict[str, Any] = {
        "kind": kind if kind in ENTRY_KINDS else None,
        "council": council.upper() if council.upper() in councils else None,
        "phase": phase if phase in set(Phase) else None,
        "since": since,
        "until": until,
        "as_of": as_of,
        "order": order if order in ("recorded_at", "decided_on") else "recorded_at",
    }

    def page(cursor: str | None) -> Page:
        return waymark.queries.timeline(cohort_id, **chosen, cursor=cursor, limit=CSV_BATCH)

    def cells(row: dict[str, Any]) -> list[str]:
        return [
            str(row["council_name"] or row["council_code"]),
            str(titles.get(row["project_id"], "")),
            words.kind_name(row["kind"]),
            long_date(row["decided_on"]),
            long_moment(row["recorded_at"]),
            str(row["actor"]),
            str(row["summary"]),
            words.label(row["phase"]) if row.get("phase") else "",
            "Corrected" if row.get("superseded_by") else "",
            str(row["entry_id"]),
        ]

    name = _file_name(cohort["name"], "timeline")
    return _csv(TIMELINE_COLUMNS, page(None), page, cells, name)


# -- a cohort's comparison ----------------------------------------------------------------


@router.get("/cohorts/{cohort_id}/compare.csv", dependencies=[allow(Permission.READ_COHORT)])
def comparison_csv(cohort_id: UUID, request: Request, waymark: WaymarkDep) -> StreamingResponse:
    """The comparison's councils side by side, as the page shows them (and as of its date)."""
    cohort = waymark.queries.cohort(cohort_id)
    as_of = _as_of(request, waymark)
    rows = waymark.queries.comparison_of_cohort(cohort_id, as_of=as_of)
    corrected = check_ins_corrected(
        waymark.queries.entries_of_kind(cohort_id, "sponsor_check_in", as_of=as_of)
    )

    names = council_names(waymark)

    def cells(r: dict[str, Any]) -> list[str]:
        check_in = r.get("last_check_in")
        maturity = r.get("maturity")
        choices = r["capacity_choices"]
        was = (
            corrected.get((r["project_id"], check_in["decided_on"], check_in["team_health"]))
            if check_in
            else None
        )
        day_was = f", was {long_date(was.decided_on)}" if was and was.decided_on else ""
        health_was = f", was {words.label(was.team_health)}" if was and was.team_health else ""
        return [
            str(r["council_name"] or r["council_code"]),
            str(r["title"]),
            ", ".join(r.get("partner_council_names") or []),
            "Withdrawn" if r.get("withdrawn") else "",
            words.label(r["council_type"]) if r.get("council_type") else "Not given",
            words.label(r["scale_band"]),
            words.label(r["region"]) if r.get("region") else "Not given",
            words.label(r["segment"]) if r.get("segment") else "Not assessed",
            f"{maturity['average']:.1f}" if maturity else "Not assessed",
            words.label(r["phase"]) if r.get("phase") else "Not started",
            str(r["days_in_phase"]) if r.get("phase") else "",
            str(r["problem_statement_iterations"]),
            *(str(choices[c]) for c in ("make", "buy", "share", "experiment")),
            sharing(r, names),
            long_date(check_in["decided_on"]) + day_was if check_in else "None yet",
            words.label(check_in["team_health"]) + health_was if check_in else "",
            ", ".join(words.label(h) for h in r.get("team_health_trend") or []) or "None yet",
            str(r["member_engagements"]),
            str(r["open_concerns"]),
            "Quiet" if r.get("quiet") else "No",
            _assessment(r.get("latest_assessment")),
            *(str((r.get("funding") or {}).get(k, "0.00")) for k in ("awarded", "paid", "matched")),
        ]

    name = _file_name(cohort["name"], "comparison")
    return _csv(COMPARISON_COLUMNS, (rows, None), lambda _: ([], None), cells, name)


def _assessment(found: dict[str, Any] | None) -> str:
    if not found:
        return "None yet"
    return (
        f"{words.label(found['phase'])}: {words.label(found['result'])}, "
        f"{long_date(found['decided_on'])}"
    )


def _file_name(name: str, what: str) -> str:
    """A download's file name from a record's name: letters, digits and hyphens only."""
    slug = "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())
    return f"{slug or 'cohort'}-{what}.csv"


# -- the verifiable export ----------------------------------------------------------------


@router.get("/ledger/bundle.zip", dependencies=[allow(Permission.AUDIT)])
def ledger_bundle(waymark: WaymarkDep) -> StreamingResponse:
    """Every event, the signed checkpoints, the public key and how to check them, as a zip
    that ``waymark verify --offline`` checks once unzipped."""
    exported, chunks = waymark.ledger.export_bundle()
    position = exported.checkpoint.position if exported.checkpoint else 0
    return StreamingResponse(
        chunks,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="waymark-record-{position}.zip"',
            "Cache-Control": "no-store",
        },
    )
