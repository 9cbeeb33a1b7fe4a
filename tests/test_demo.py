"""The demo record: loaded into an empty store only, and showing every entry kind."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from domain.errors import NotFound
from domain.project import ENTRY_KINDS, Project
from services.container import Waymark
from services.demo import load_and_sign_demo, load_demo
from services.settings import Settings
from tests.test_pages import waymark_of
from web.app import create_app


def test_the_demo_shows_every_kind_across_councils_of_different_types_and_segments(
    waymark: Waymark,
) -> None:
    assert load_demo(waymark.records) is True
    waymark.projector.catch_up()

    councils = waymark.queries.councils()
    assert len({c["council_type"] for c in councils}) == 3
    segments = {waymark.records.get_council(c["code"]).latest_financial_context for c in councils}
    assert len(segments) == 3
    programme_id = waymark.queries.programmes()[0]["programme_id"]
    cohorts = waymark.queries.cohorts_of(UUID(programme_id))
    projects = waymark.queries.projects_of(UUID(cohorts[0]["cohort_id"]))
    # ... Exeter leading two projects in the cohort
    assert sorted(p["council_code"] for p in projects).count("GB-EXE") == 2
    kinds: set[str] = set()
    phases: list[str] = []
    for row in projects:
        project = waymark.records.get_project(UUID(row["project_id"]))
        kinds.update(e.kind for e in project.entries.values())
        phases.extend(
            e.fields["phase"] for e in project.entries.values() if e.kind == "phase_changed"
        )
    assert kinds == set(ENTRY_KINDS)
    assert {"discovery", "alpha", "paused"} <= set(phases)


def test_the_demo_is_not_loaded_into_a_store_that_has_events(waymark: Waymark) -> None:
    assert load_demo(waymark.records) is True
    head = waymark.projector.log.head()
    assert load_demo(waymark.records) is False
    assert waymark.projector.log.head() == head


def test_the_demo_record_is_signed_at_its_head_once_loaded(waymark: Waymark) -> None:
    assert load_and_sign_demo(waymark) is True
    head = waymark.ledger.head()
    latest = waymark.ledger.latest_checkpoint()
    assert head is not None and latest is not None
    assert (latest.position, latest.chain_hash) == (head.position, head.chain_hash)
    assert waymark.ledger.verify().signed_up_to == head.position
    assert load_and_sign_demo(waymark) is False


def test_the_demo_is_recorded_over_the_cohorts_weeks_so_the_past_can_be_read(
    waymark: Waymark,
) -> None:
    # Given the demo loaded today
    today = waymark.records.now().date()
    assert load_demo(waymark.records) is True

    # Then its events were recorded over weeks, in the log's order
    records = waymark.records
    notifications = records.recorder.select_notifications(start=1, limit=10_000)
    events = [records.mapper.to_domain_event(n) for n in notifications]
    instants = [event.timestamp for event in events]
    assert instants == sorted(instants)
    assert (today - instants[0].date()).days >= 10 * 7
    assert len({moment.date() for moment in instants}) > 20

    # And some decisions were recorded days after they were made
    late = [e for e in events if hasattr(e, "decided_on") and e.timestamp.date() > e.decided_on]
    assert any((e.timestamp.date() - e.decided_on).days >= 2 for e in late)

    # And Exeter's capacity decision, read as it stood three weeks into the cohort,
    # shows the cost as first typed; today it shows the correction recorded weeks later
    cohort = next(e for e in events if type(e).__qualname__ == "Cohort.Formed")
    exeter = Project.create_id(cohort.originator_id, "GB-EXE")
    three_weeks_in = datetime.combine(cohort.starts_on + timedelta(weeks=3), time.max, UTC)

    def costs(project: Project) -> list[str]:
        found = []
        for entry in project.entries.values():
            if entry.kind == "capacity_decided" and entry.superseded_by is None:
                found.append(str(entry.fields["estimated_cost"]))
            if entry.kind == "entry_corrected":
                found.append(str(entry.effective["estimated_cost"]))
        return found

    assert costs(records.get_project(exeter, as_of=three_weeks_in)) == ["4800.00"]
    assert costs(records.get_project(exeter)) == ["48000.00"]

    # And before anything was recorded, the project had not started
    with pytest.raises(NotFound):
        records.get_project(exeter, as_of=instants[0] - timedelta(seconds=1))


def test_the_demo_has_a_partner_council_s_participant_who_records_on_the_partnered_project(
    settings: Settings,
) -> None:
    """Devon is a partner on Exeter's bins project in the demo: its participant signs in
    with the demo's password, follows the cohort, and records on Devon's own project
    and on the one it is a partner on, not on Exeter's other project nor Hackney's."""
    with TestClient(create_app(settings, demo=True)) as client:
        signed_in = client.post(
            "/auth/sign-in", data={"username": "devon", "password": "demo-devon-password"}
        )
        assert signed_in.status_code == 200, signed_in.text
        start = client.get("/")
        assert "Bin collection information online" in start.text
        assert "Adult social care front door" in start.text
        client.cookies.clear()

        waymark = waymark_of(client)
        token = waymark.credentials.issue_token("devon", label="test")
        programme_id = waymark.queries.programmes()[0]["programme_id"]
        cohort_id = waymark.queries.cohorts_of(UUID(programme_id))[0]["cohort_id"]
        projects = {p["title"]: p for p in waymark.queries.projects_of(UUID(cohort_id))}
        assert projects["Bin collection information online"]["partner_council_codes"] == ["GB-DEV"]

        def check_in(title: str) -> int:
            return client.post(
                f"/api/projects/{projects[title]['project_id']}/entries",
                json={"kind": "sponsor_check_in", "team_health": "green"},
                headers={"Authorization": f"Bearer {token}"},
            ).status_code

        assert check_in("Bin collection information online") == 201
        assert check_in("Adult social care front door") == 201
        assert check_in("Parking permit renewals") == 403
        assert check_in("Housing repairs reporting") == 403
