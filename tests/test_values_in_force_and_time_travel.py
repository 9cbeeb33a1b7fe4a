"""Issue 18, points 1 and 2: a corrected entry shows the value in force, with what it was,
wherever it is shown; and "as it stood on" works the same on every page that has it."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from services.container import Waymark
from web.pages.rendering import long_date

HINT = (
    "The record as it had been recorded by the end of that day. "
    "Dates decided are shown on each entry."
)
EXETER = {
    "code": "GB-EXE",
    "name": "Exeter City Council",
    "council_type": "district",
    "region": "south_west",
    "population": 130_000,
    "gss_code": "E07000041",
    "political_control": "Labour",
}


@dataclass
class World:
    waymark: Waymark
    cohort: UUID
    project: UUID
    decision: str
    correction: str
    #: The day the programme was set up, the decision recorded, and the correction recorded
    set_up: date
    decided: date
    corrected: date


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), UTC)


@pytest.fixture
def world(client: TestClient) -> World:
    """Exeter's capacity decision recorded at £4,800 and corrected to £48,000 three
    weeks later, over simulated days (the way the demo is recorded)."""
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    records = waymark.records
    today = waymark.queries.today()
    set_up, decided, corrected = (today - timedelta(days=d) for d in (40, 30, 9))
    with records.recording_at(_at(set_up)):
        programme = records.launch_programme(
            name="Local Digital", description="A programme", sponsor_body="MHCLG", actor="pm"
        )
        cohort = records.form_cohort(
            programme_id=programme.id,
            name="Cohort 1",
            starts_on=set_up,
            ends_on=set_up + timedelta(weeks=24),
            actor="pm",
        )
        records.register_council(actor="pm", **EXETER)
        project = records.enrol_council(
            cohort_id=cohort.id, council_code="GB-EXE", title="Bins online", actor="pm"
        )
    with records.recording_at(_at(decided)):
        decision = records.record_entry(
            project_id=project.id,
            kind="capacity_decided",
            decided_on=decided - timedelta(days=1),
            values={
                "capability": "Collection calendar",
                "choice": "share",
                "estimated_cost": "4800.00",
            },
            actor="pm",
        )
    with records.recording_at(_at(corrected)):
        correction = records.record_entry(
            project_id=project.id,
            kind="entry_corrected",
            decided_on=None,
            values={
                "corrects": str(decision.id),
                "reason_kind": "recording_error",
                "reason": "The estimate lost a digit.",
                "replacement": {"estimated_cost": "48000.00"},
            },
            actor="pm",
        )
    waymark.projector.catch_up()
    return World(
        waymark,
        cohort.id,
        project.id,
        str(decision.id),
        str(correction.id),
        set_up,
        decided,
        corrected,
    )


def _as_of(path: str, day: date, **others: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in others.items())
    joiner = "&" if "?" in path else "?"
    days = f"as_of-day={day.day}&as_of-month={day.month}&as_of-year={day.year}"
    return f"{path}{joiner}{days}" + (f"&{query}" if query else "")


def _main(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    main = re.search(r"<main[^>]*>(.*)</main>", response.text, re.S)
    assert main is not None
    return " ".join(re.sub(r"<[^>]+>", " ", main.group(1)).split()).replace(" ,", ",")


# -- values in force --------------------------------------------------------------------------


def test_a_corrected_entry_shows_its_value_in_force_with_what_it_was_on_every_page(
    client: TestClient, world: World
) -> None:
    to_correction = f'href="/projects/{world.project}#entry-{world.correction}"'

    # The project's history: the value in force, what it was, and the way to the correction
    page = client.get(f"/projects/{world.project}").text
    text = _main(client, f"/projects/{world.project}")
    assert "Estimated cost £48,000.00, was £4,800.00" in text
    assert f'href="#entry-{world.correction}"' in page
    assert "Estimated cost becomes £48,000.00" in text  # the correction itself, as recorded

    # The cohort timeline: the summary in force, and what it was
    timeline = client.get(f"/cohorts/{world.cohort}").text
    text = _main(client, f"/cohorts/{world.cohort}")
    assert "Share: Collection calendar (est. £48,000.00)" in text
    assert "(est. £4,800.00)" not in text
    assert "Estimated cost £48,000.00, was £4,800.00" in text
    assert to_correction in timeline

    # Search results
    found = client.get("/search?q=collection+calendar").text
    text = _main(client, "/search?q=collection+calendar")
    assert "Share: Collection calendar (est. £48,000.00)" in text
    assert "Estimated cost £48,000.00, was £4,800.00" in text
    assert to_correction in found

    # The comparison counts the choice in force (it always has): one share
    compare = _main(client, f"/cohorts/{world.cohort}/compare")
    assert "Exeter City Council" in compare


def test_the_timeline_and_its_csv_carry_the_values_in_force_and_as_they_stood(
    client: TestClient, world: World
) -> None:
    path = f"/api/cohorts/{world.cohort}/timeline"
    items = {i["entry_id"]: i for i in client.get(path).json()["items"]}
    decision = items[world.decision]
    # The entry as recorded stays as it was; its values in force come beside it
    assert decision["estimated_cost"] == "4800.00"
    assert decision["summary"] == "Share: Collection calendar (est. £4,800.00)"
    in_force = decision["in_force"]
    assert in_force["correction_id"] == world.correction
    assert in_force["values"]["estimated_cost"] == "48000.00"
    assert in_force["changes"] == [{"field": "estimated_cost", "was": "4800.00", "now": "48000.00"}]
    assert in_force["summary"] == "Share: Collection calendar (est. £48,000.00)"
    assert items[world.correction]["in_force"] is None  # a correction is not itself corrected

    # As it stood before the correction was recorded: nothing was in force but the entry
    then = client.get(path, params={"as_of": f"{world.corrected - timedelta(days=1)}T23:59:59Z"})
    [stood] = then.json()["items"]
    assert stood["entry_id"] == world.decision
    assert stood["superseded_by"] is None and stood["in_force"] is None

    # The CSV export: the values as recorded, then the values in force at the end
    export = client.get("/api/export/timeline.csv", params={"cohort": str(world.cohort)})
    rows = {r["entry_id"]: r for r in csv.DictReader(io.StringIO(export.text, newline=""))}
    row = rows[world.decision]
    assert row["estimated_cost"] == "4800.00"
    assert row["in_force_summary"] == "Share: Collection calendar (est. £48,000.00)"
    assert row["in_force_changes"] == "Estimated cost: £48,000.00, was £4,800.00"
    assert row["in_force_correction_id"] == world.correction
    assert rows[world.correction]["in_force_summary"] == ""


def test_a_chain_of_corrections_shows_the_latest_values_and_the_first_recorded(
    client: TestClient, world: World
) -> None:
    # Given the correction corrected in turn, with a new date decided
    second = client.post(
        f"/api/projects/{world.project}/entries",
        json={
            "kind": "entry_corrected",
            "corrects": world.correction,
            "reason_kind": "change_of_mind",
            "reason": "Shared with two districts.",
            "replacement": {"estimated_cost": "24000.00", "decided_on": str(world.set_up)},
        },
    ).json()
    wait = second["position"]
    items = client.get(f"/api/cohorts/{world.cohort}/timeline", params={"wait_for": wait}).json()[
        "items"
    ]
    decision = next(i for i in items if i["entry_id"] == world.decision)
    assert decision["in_force"]["correction_id"] == second["entry_id"]
    assert decision["in_force"]["changes"] == [
        {
            "field": "decided_on",
            "was": str(world.decided - timedelta(days=1)),
            "now": str(world.set_up),
        },
        {"field": "estimated_cost", "was": "4800.00", "now": "24000.00"},
    ]

    # The pages say it in words, dates too
    for path in (f"/projects/{world.project}", f"/cohorts/{world.cohort}"):
        text = _main(client, path)
        assert "Estimated cost £24,000.00, was £4,800.00" in text, path
        was = long_date(world.decided - timedelta(days=1))
        assert f"Decided {long_date(world.set_up)}, was {was}" in text, path
        assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), path  # no ISO dates on pages


def test_the_banner_after_recording_names_what_was_recorded_in_words(
    client: TestClient, world: World
) -> None:
    correction = _main(client, f"/projects/{world.project}?recorded={world.correction}")
    assert "Correction recorded" in correction
    assert "Entry corrected recorded" not in correction
    assert "Estimated cost: £48,000.00, was £4,800.00." in correction
    decision = _main(client, f"/projects/{world.project}?recorded={world.decision}")
    assert "Capacity decided recorded" in decision


# -- as it stood on --------------------------------------------------------------------------


def test_the_project_as_it_stood_before_the_correction_shows_the_value_then(
    client: TestClient, world: World
) -> None:
    three_weeks_in = world.set_up + timedelta(weeks=3)
    path = _as_of(f"/projects/{world.project}", three_weeks_in)
    page = client.get(path).text
    text = _main(client, path)
    assert f"as it stood at the end of {long_date(three_weeks_in)}" in text
    assert (
        f'<a class="govuk-link" href="/projects/{world.project}">See it as it stands now</a>'
        in page
    )
    assert "Estimated cost £4,800.00" in text
    assert "48,000" not in text and "See the correction" not in text
    assert HINT in text


@pytest.mark.parametrize(
    "page, first",
    [
        ("project", "the first entry was recorded on {decided}"),
        ("cohort", "the first entry was recorded on {decided}"),
        ("compare", "the first council was enrolled on {set_up}"),
        ("audit", "the first change was recorded on {set_up}"),
    ],
)
def test_a_date_before_anything_was_recorded_shows_an_empty_state_and_nothing_of_today(
    client: TestClient, world: World, page: str, first: str
) -> None:
    paths = {
        "project": f"/projects/{world.project}",
        "cohort": f"/cohorts/{world.cohort}",
        "compare": f"/cohorts/{world.cohort}/compare",
        "audit": "/audit",
    }
    before = world.set_up - timedelta(days=1)
    if page == "project":
        before = world.decided - timedelta(days=1)  # started, but nothing recorded on it yet
    response = client.get(_as_of(paths[page], before))
    text = _main(client, _as_of(paths[page], before))
    # The page says what it shows, how to get back to today, and what the control means
    assert f"as it stood at the end of {long_date(before)}" in text
    assert f'href="{paths[page]}">See it as it stands now</a>' in response.text
    assert HINT in text
    # and that nothing had been recorded by then, and when the first thing was
    said = first.format(decided=long_date(world.decided), set_up=long_date(world.set_up))
    assert f"Nothing had been recorded by {long_date(before)}; {said}." in text
    # and nothing of today's record
    for today_s in ("Collection calendar", "£4,800.00", "£48,000.00", "Record an entry"):
        assert today_s not in text, (page, today_s)
    if page != "project":
        assert "Bins online" not in text
    assert "There is a problem" not in text


def test_the_cohort_and_the_audit_log_as_they_stood_on_a_date(
    client: TestClient, world: World
) -> None:
    day = world.decided + timedelta(days=1)
    cohort = _main(client, _as_of(f"/cohorts/{world.cohort}", day))
    assert "Share: Collection calendar (est. £4,800.00)" in cohort
    assert "48,000" not in cohort and "See the correction" not in cohort
    assert "Exeter City Council" in cohort
    audit = client.get(_as_of("/audit", day)).text
    assert "The estimate lost a digit" not in audit  # the correction was recorded later
    assert "Collection calendar" in audit
    # A future date is refused, the same on every page, and today's record is shown instead
    future = datetime.now(UTC).date() + timedelta(days=2)
    for path in (f"/projects/{world.project}", f"/cohorts/{world.cohort}", "/audit"):
        text = _main(client, _as_of(path, future))
        assert "The date must be today or in the past" in text, path
        assert "as it stood at the end of" not in text, path
