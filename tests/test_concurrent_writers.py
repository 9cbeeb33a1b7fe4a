"""Two application instances on one store write to one project at once.

Each ``DecisionRecords`` keeps the projects it last wrote (``_written``) and lets
its own threads take turns per aggregate, so only another instance (another
process, in production) can win a race to the next version. The loser's insert
breaks the store's unique (project, version) key; it reloads, re-applies the
command and saves again. These tests make that happen and check that nothing
is lost or doubled.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from uuid import UUID

import pytest

from domain.errors import Conflict, DateTooEarly
from services.container import Waymark
from services.records import DecisionRecords
from services.settings import Settings

ROUNDS = 30


@pytest.fixture
def two_instances(settings: Settings) -> Iterator[tuple[Waymark, Waymark]]:
    """Given: two containers, each with its own application, on the same store."""
    first = Waymark(settings)
    try:
        second = Waymark(settings)
        try:
            yield first, second
        finally:
            second.close()
    finally:
        first.close()


def a_project(records: DecisionRecords) -> UUID:
    programme_id = records.launch_programme(
        name="Local Digital Accelerator", description="", sponsor_body="", actor="t"
    ).id
    cohort_id = records.form_cohort(
        programme_id=programme_id,
        name="Cohort 1",
        starts_on=date(2026, 1, 5),
        ends_on=date(2026, 6, 26),
        actor="t",
    ).id
    records.register_council(
        code="GB-EXE",
        name="Exeter",
        council_type="district",
        region="south_west",
        population=None,
        gss_code=None,
        political_control=None,
        actor="t",
    )
    return records.enrol_council(
        cohort_id=cohort_id, council_code="GB-EXE", title="Bins", actor="t"
    ).id


def write_in_step(
    instances: tuple[DecisionRecords, DecisionRecords], project_id: UUID
) -> list[int]:
    """When: each instance, from its own thread, records ROUNDS check-ins on the project;
    the two threads start each write together. Returns the versions the writes got."""
    together = threading.Barrier(len(instances))

    def writer(which: int) -> list[int]:
        records = instances[which]
        versions = []
        for n in range(ROUNDS):
            together.wait(timeout=60)
            versions.append(
                records.record_entry(
                    project_id=project_id,
                    kind="sponsor_check_in",
                    decided_on=None,
                    values={"team_health": "green", "team_health_note": f"{which}/{n}"},
                    actor=f"writer-{which}",
                ).version
            )
        return versions

    with ThreadPoolExecutor(max_workers=len(instances)) as pool:
        results = list(pool.map(writer, range(len(instances))))
    return [version for versions in results for version in versions]


def test_two_instances_writing_one_project_at_once_retry_and_lose_nothing(
    two_instances: tuple[Waymark, Waymark],
) -> None:
    first, second = (waymark.records for waymark in two_instances)
    project_id = a_project(first)
    second.get_project(project_id)  # both instances know the project before the race

    versions = write_in_step((first, second), project_id)

    # Then every write landed once, at its own version, with no gaps ...
    writes = 2 * ROUNDS
    assert sorted(versions) == list(range(2, writes + 2))
    stored = [e.originator_version for e in first.repository.event_store.get(project_id)]
    assert stored == list(range(1, writes + 2))
    for records in (first, second):
        project = records.get_project(project_id)
        assert project.version == writes + 1
        notes = Counter(e.fields["team_health_note"] for e in project.entries.values())
        assert notes == Counter(f"{w}/{n}" for w in (0, 1) for n in range(ROUNDS))
    # ... and the losers of the races did retry: more attempts than writes. A round has
    # one loser at most, whose retry cannot lose again: the winner waits for the next round.
    retried = first.conflicts_retried + second.conflicts_retried
    assert 0 < retried <= ROUNDS


def test_an_instance_writing_after_another_reads_what_the_other_wrote(
    two_instances: tuple[Waymark, Waymark],
) -> None:
    first, second = (waymark.records for waymark in two_instances)
    project_id = a_project(first)
    first.record_entry(
        project_id=project_id,
        kind="problem_statement_iterated",
        decided_on=None,
        values={"statement": "One."},
        actor="first",
    )

    # When the other instance writes, then the first writes again from its kept copy
    second.record_entry(
        project_id=project_id,
        kind="problem_statement_iterated",
        decided_on=None,
        values={"statement": "Two."},
        actor="second",
    )
    third = first.record_entry(
        project_id=project_id,
        kind="problem_statement_iterated",
        decided_on=None,
        values={"statement": "Three."},
        actor="first",
    )

    # Then the first's kept copy was brought up to date, not overwritten: no race lost.
    assert third.version == 4
    project = second.get_project(project_id)
    assert [project.statement_text(v) for v in (1, 2, 3)] == ["One.", "Two.", "Three."]
    assert first.conflicts_retried == second.conflicts_retried == 0


def test_a_write_sees_what_another_instance_changed_of_the_cohort_since_its_last(
    two_instances: tuple[Waymark, Waymark],
) -> None:
    """Each write keeps its cohort's facts (start, closed) and reads only the cohort's
    events since: a change made by another process must still count at the next write."""
    first, second = (waymark.records for waymark in two_instances)
    project_id = a_project(first)
    cohort_id = first.get_project(project_id).cohort_id

    def check_in(records: DecisionRecords, on: date) -> int:
        return records.record_entry(
            project_id=project_id,
            kind="sponsor_check_in",
            decided_on=on,
            values={"team_health": "green"},
            actor="first",
        ).version

    # Given the first instance has written to the cohort's project (its facts are kept)
    assert check_in(first, date(2026, 2, 2)) == 2
    assert first.cohort_facts(cohort_id).starts_on == date(2026, 1, 5)

    # When the other instance moves the cohort's start later, a check-in decided
    # before the new start needs confirming, in the first instance too
    second.change_cohort_details(
        cohort_id=cohort_id,
        name="Cohort 1",
        starts_on=date(2026, 3, 2),
        ends_on=date(2026, 6, 26),
        actor="second",
    )
    with pytest.raises(DateTooEarly, match="2026-03-02"):
        check_in(first, date(2026, 2, 9))
    assert check_in(first, date(2026, 3, 9)) == 3

    # and once the other instance closes the cohort, the first records nothing more
    second.close_cohort(cohort_id=cohort_id, actor="second")
    with pytest.raises(Conflict, match="the cohort is closed"):
        check_in(first, date(2026, 3, 16))
    facts = first.cohort_facts(cohort_id)
    assert facts.closed and facts.version == second.get_cohort(cohort_id).version
    assert first.get_project(project_id).version == 3
