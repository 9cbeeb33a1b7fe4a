"""The cross-council comparison of a cohort: one row per project, and charts by week.

The tables are the content; each chart is drawn by Chart.js in the browser from
the same figures, carried as JSON in the chart's ``data-chart`` attribute.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from domain.vocabulary import Phase
from services.access import Permission
from web.api import presenters
from web.deps import WaymarkDep, allow
from web.pages import words
from web.pages.dates import date_fields, end_of, typed, typed_day
from web.pages.entry_forms import FieldError, by_input
from web.pages.routing import PageRoute, PagesDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

AS_OF = date_fields("as_of")
#: At most this many weeks are charted (the latest ones): one comparison is read per week.
MAX_WEEKS = 52
CHOICES = ("make", "buy", "share", "experiment")
HEALTH = ("red", "amber", "green")
NOT_STARTED = "not_started"


@dataclass(frozen=True)
class Week:
    number: int
    ends_on: date
    #: The week is not over yet on the day the comparison is counted to.
    so_far: bool
    #: The comparison's rows by the end of the week, by project id.
    rows: dict[str, dict[str, Any]]


def week_numbers(starts_on: date, ends_on: date, day: date) -> range:
    """The weeks of a cohort that have begun by ``day``: 1 is its first seven days."""
    if day < starts_on:
        return range(1, 1)
    length = (ends_on - starts_on).days // 7 + 1
    current = (day - starts_on).days // 7 + 1
    last = min(length, current)
    return range(max(1, last - MAX_WEEKS + 1), last + 1)


def council_of(row: dict[str, Any]) -> str:
    return str(row["council_name"] or row["council_code"])


def choices_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "bar",
        "horizontal": True,
        "stacked": True,
        "label": "Bar chart of each council's capacity choices: make, buy, share and "
        "experiment. The table below has the same figures.",
        "labels": [council_of(r) for r in rows],
        "series": [
            {"key": c, "label": words.label(c), "values": [r["capacity_choices"][c] for r in rows]}
            for c in CHOICES
        ],
        "axis": "Capacity decisions",
    }


def phase_of(row: dict[str, Any]) -> str:
    return str(row["phase"] or NOT_STARTED)


def phases_chart(weeks: list[Week]) -> dict[str, Any]:
    counts = [Counter(phase_of(r) for r in w.rows.values()) for w in weeks]
    seen = {phase for c in counts for phase in c}
    order = [NOT_STARTED, *(p.value for p in Phase)]
    return {
        "type": "bar",
        "stacked": True,
        "label": "Stacked bar chart of how many projects were in each phase at the end of "
        "each week. The table below says which phase each council was in.",
        "labels": [f"Week {w.number}" for w in weeks],
        "series": [
            {"key": p, "label": words.label(p), "values": [c[p] for c in counts]}
            for p in order
            if p in seen
        ],
        "axis": "Projects",
    }


def health_chart(weeks: list[Week], projects: list[dict[str, Any]]) -> dict[str, Any]:
    def level(week: Week, project_id: str) -> int | None:
        check_in = week.rows[project_id]["last_check_in"] if project_id in week.rows else None
        return HEALTH.index(check_in["team_health"]) + 1 if check_in else None

    return {
        "type": "line",
        "label": "Line chart of each council's team health, from its latest sponsor "
        "check-in by the end of each week. The table below has the same answers.",
        "labels": [f"Week {w.number}" for w in weeks],
        "series": [
            {"label": council_of(p), "values": [level(w, p["project_id"]) for w in weeks]}
            for p in projects
        ],
        "levels": [words.label(h) for h in HEALTH],
    }


@router.get("/cohorts/{cohort_id}/compare", dependencies=[allow(Permission.READ_COHORT)])
def compare(
    cohort_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    wait_for: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    found = waymark.records.get_cohort(cohort_id)
    raw = typed(AS_OF, request.query_params)
    errors: list[FieldError] = []
    today = waymark.today()
    day = typed_day(raw, "as_of", "The date", errors)
    if day is not None and day > today:
        errors.append(FieldError("as_of", "The date must be today or in the past", "#as_of-day"))
        day = None
    as_of = end_of(day) if day is not None else None
    freshness = waymark.fresh(wait_for)
    rows = waymark.comparison_of_cohort(cohort_id, as_of=as_of)
    counted_to = day or today
    weeks = []
    for number in week_numbers(found.starts_on, found.ends_on, counted_to):
        ends_on = found.starts_on + timedelta(days=7 * number - 1)
        by_week = waymark.comparison_of_cohort(cohort_id, as_of=as_of, week=number)
        weeks.append(
            Week(number, ends_on, ends_on > counted_to, {r["project_id"]: r for r in by_week})
        )
    return pages.render(
        request,
        "compare.html",
        cohort=presenters.cohort(found),
        programme=presenters.programme(waymark.records.get_programme(found.programme_id)),
        rows=rows,
        weeks=weeks,
        weeks_cut=bool(weeks) and weeks[0].number > 1,
        charts={
            "choices": choices_chart(rows),
            "phases": phases_chart(weeks),
            "health": health_chart(weeks, rows),
        },
        choices=CHOICES,
        quiet_after_days=waymark.settings.quiet_after_days,
        as_of=as_of,
        values=raw,
        errors=errors,
        error_for=by_input(errors),
        freshness=freshness,
    )
