"""The demo record: loaded into an empty store only, and showing every entry kind."""

from __future__ import annotations

from uuid import UUID

from domain.project import ENTRY_KINDS
from services.container import Waymark
from services.demo import load_and_sign_demo, load_demo


def test_the_demo_shows_every_kind_across_councils_of_different_types_and_segments(
    waymark: Waymark,
) -> None:
    assert load_demo(waymark.records) is True
    waymark.projector.catch_up()

    councils = waymark.councils()
    assert len({c["council_type"] for c in councils}) == 3
    segments = {waymark.records.get_council(c["code"]).latest_financial_context for c in councils}
    assert len(segments) == 3
    programme_id = waymark.programmes()[0]["programme_id"]
    cohorts = waymark.cohorts_of(UUID(programme_id))
    projects = waymark.projects_of(UUID(cohorts[0]["cohort_id"]))
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
