"""The cross-council comparison of a cohort: one row per project, and charts by week.

The tables are the content; each chart is drawn by Chart.js in the browser from
the same figures, carried as JSON in the chart's ``data-chart`` attribute.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from domain.vocabulary import Phase, SupportSource
from services.access import Permission
from services.container import Waymark
from web.deps import PrincipalDep, WaymarkDep, allow
from web.pages import present, words
from web.pages.dates import date_fields, past_day, typed
from web.pages.entry_forms import FieldError, by_input
from web.pages.routing import PageRoute, PagesDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

AS_OF = date_fields("as_of")
#: At most this many weeks are charted (the latest ones): one comparison is read per week.
MAX_WEEKS = 52
CHOICES = ("make", "buy", "share", "experiment")
HEALTH = ("red", "amber", "green")
NOT_STARTED = "not_started"

#: The columns of "Councils side by side" (after the council's own), in the order of the
#: whole table, and the groups a reader may choose between on a narrower screen.
COLUMN_GROUPS: dict[str, tuple[str, ...]] = {
    "profile": ("council_type", "residents", "region", "segment", "maturity"),
    "progress": ("phase", "days_in_phase", "iterations", "engagements", "assessment"),
    "capacity": ("make", "buy", "share", "experiment", "shares_with"),
    "health": ("last_check_in", "trend", "open_concerns", "quiet"),
    "money": ("awarded", "paid", "matched"),
}
ALL_COLUMNS = (
    *COLUMN_GROUPS["profile"],
    "phase",
    "days_in_phase",
    "iterations",
    *COLUMN_GROUPS["capacity"],
    "last_check_in",
    "trend",
    "engagements",
    "open_concerns",
    "quiet",
    "assessment",
    *COLUMN_GROUPS["money"],
)
assert sorted(ALL_COLUMNS) == sorted(c for g in COLUMN_GROUPS.values() for c in g)
COLUMN_CHOICES = ("all", *COLUMN_GROUPS)
COLUMN_GROUP_NAMES = {
    "all": "All columns",
    "profile": "Profile",
    "progress": "Progress",
    "capacity": "Capacity choices",
    "health": "Health",
    "money": "Money",
}
#: The figures whose cohort median is shown (services say which have one, and why).
MEDIAN_NAMES = {
    "population": "Residents",
    "maturity": "Digital maturity (average level, 1 to 5)",
    "days_in_phase": "Days in the current phase",
    "problem_statement_iterations": "Problem statement iterations",
    "capacity_decisions": "Capacity decisions",
    "member_engagements": "Member engagements",
    "open_concerns": "Open concerns",
}


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


def named(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The comparison's rows, each with the ``name`` it goes by in the charts and the
    tables after the first: its council's, and the project's title too where the council
    leads more than one project in the cohort (two bars called "Exeter City Council"
    would not say which is which)."""
    leads = Counter(r["council_code"] for r in rows)
    return [
        {
            **r,
            "name": council_of(r)
            if leads[r["council_code"]] == 1
            else f"{council_of(r)}: {r['title']}",
        }
        for r in rows
    ]


def one_per_council(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first row of each council: what is the council's, not its project's (who came
    to the cohort's sessions), is shown once however many projects it leads."""
    seen: set[str] = set()
    found = []
    for row in rows:
        if row["council_code"] not in seen:
            seen.add(row["council_code"])
            found.append(row)
    return found


def choices_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "bar",
        "horizontal": True,
        "stacked": True,
        "label": "Bar chart of each council's capacity choices: make, buy, share and "
        "experiment. The table below has the same figures.",
        "labels": [r["name"] for r in rows],
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
            {"label": p["name"], "values": [level(w, p["project_id"]) for w in weeks]}
            for p in projects
        ],
        "levels": [words.label(h) for h in HEALTH],
    }


def support_by_whom(asks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The support asks grouped by whom they are asked of, in the vocabulary's order."""
    order = [s.value for s in SupportSource]
    found: dict[str, list[dict[str, Any]]] = {}
    for ask in asks:
        values = ask["in_force"]["values"] if ask.get("in_force") else ask["values"]
        found.setdefault(str(values.get("from_whom")), []).append(ask)
    return [
        {"from_whom": key, "asks": found[key]}
        for key in sorted(found, key=lambda k: order.index(k) if k in order else len(order))
    ]


@dataclass(frozen=True)
class Was:
    """What a correction changed of a check-in the comparison shows, and where it is."""

    decided_on: str
    team_health: str
    href: str


def check_ins_corrected(check_ins: list[dict[str, Any]]) -> dict[tuple[str, str, str], Was]:
    """The cohort's corrected check-ins (timeline rows, oldest first), by project and the
    date and answer in force: the comparison names its last check-in by those alone,
    and the latest check-in of a project with them is the one it shows."""
    found: dict[tuple[str, str, str], Was | None] = {}
    for item in sorted(check_ins, key=lambda i: int(i["position"])):
        now = item["in_force"]["values"] if item["in_force"] else item["values"]
        decided_on = str(now.get("decided_on", item["decided_on"]))
        key = (str(item["project_id"]), decided_on, str(now["team_health"]))
        found[key] = None
        if item["in_force"]:
            recorded = item["values"]["team_health"]
            found[key] = Was(
                decided_on=item["decided_on"] if item["decided_on"] != decided_on else "",
                team_health=recorded if recorded != now["team_health"] else "",
                href=f"/projects/{item['project_id']}#entry-{item['in_force']['correction_id']}",
            )
    return {key: was for key, was in found.items() if was is not None}


def column_links(request: Request, chosen: str) -> list[dict[str, Any]]:
    """A link to the page showing each group of columns, keeping the rest of the query."""
    kept = [
        (k, v) for k, v in request.query_params.multi_items() if k not in ("columns", "wait_for")
    ]
    return [
        {
            "key": key,
            "href": f"?{urlencode([*kept, ('columns', key)])}#councils",
            "current": key == chosen,
            "count": len(ALL_COLUMNS) if key == "all" else len(COLUMN_GROUPS[key]),
        }
        for key in COLUMN_CHOICES
    ]


def sharing(row: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """The councils a council shares with, either way (``share_partners``), by name;
    "None" if none."""
    return ", ".join(names.get(code, code) for code in row["share_partners"]) or "None"


def council_names(waymark: Waymark) -> dict[str, str]:
    return {c["code"]: c["name"] for c in waymark.queries.councils()}


@router.get("/cohorts/{cohort_id}/compare", dependencies=[allow(Permission.READ_COHORT)])
def compare(
    cohort_id: UUID,
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    principal: PrincipalDep,
    wait_for: Annotated[int | None, Query(ge=0)] = None,
    columns: Annotated[str, Query(max_length=20)] = "all",
) -> HTMLResponse:
    cohort = waymark.queries.cohort(cohort_id)
    starts_on = date.fromisoformat(cohort["starts_on"])
    ends_on = date.fromisoformat(cohort["ends_on"])
    raw = typed(AS_OF, request.query_params)
    errors: list[FieldError] = []
    today = waymark.queries.today()
    as_of = past_day(raw, errors, today)
    day = as_of.date() if as_of is not None else None
    freshness = waymark.queries.fresh(wait_for)
    rows = named(waymark.queries.comparison_of_cohort(cohort_id, as_of=as_of))
    counted_to = day or today
    weeks = []
    for number in week_numbers(starts_on, ends_on, counted_to):
        week_ends_on = starts_on + timedelta(days=7 * number - 1)
        by_week = waymark.queries.comparison_of_cohort(
            cohort_id, as_of=as_of, week=number, attendance=False
        )
        weeks.append(
            Week(
                number,
                week_ends_on,
                week_ends_on > counted_to,
                {r["project_id"]: r for r in by_week},
            )
        )
    corrected = check_ins_corrected(
        waymark.queries.entries_of_kind(cohort_id, "sponsor_check_in", as_of=as_of)
    )

    def check_in_was(project_id: str, check_in: dict[str, Any] | None) -> Was | None:
        if not check_in:
            return None
        return corrected.get((project_id, check_in["decided_on"], check_in["team_health"]))

    chosen = columns if columns in COLUMN_CHOICES else "all"
    assert principal is not None  # allow() sent anyone else to sign in
    own = principal.councils()
    return pages.render(
        request,
        "compare.html",
        own_councils=own,
        own_rows=[r for r in rows if r["council_code"] in own],
        medians=waymark.queries.comparison_medians(rows),
        support=support_by_whom(
            [present.in_force(ask) for ask in waymark.queries.support_asks(cohort_id, as_of=as_of)]
        ),
        check_in_was=check_in_was,
        names=council_names(waymark),
        sharing=sharing,
        columns=ALL_COLUMNS if chosen == "all" else COLUMN_GROUPS[chosen],
        chosen_columns=chosen,
        column_group_names=COLUMN_GROUP_NAMES,
        all_count=len(ALL_COLUMNS),
        median_names=MEDIAN_NAMES,
        column_links=column_links(request, chosen),
        cohort=cohort,
        programme=waymark.queries.programme(UUID(cohort["programme_id"])),
        rows=rows,
        councils=one_per_council(rows),
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
        first_enrolled=waymark.queries.first_enrolled(cohort_id) if as_of and not rows else None,
        values=raw,
        errors=errors,
        error_for=by_input(errors),
        freshness=freshness,
    )
