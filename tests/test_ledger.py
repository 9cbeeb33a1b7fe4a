"""Issue 6: the record is hash-chained and signed, so changes made behind Waymark's back show.

Each scenario loads the demo record (a checkpoint signed every ten positions),
tampers with the stored events in SQL, and expects `verify` to name the first
position that no longer holds what was recorded.
"""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from datetime import date
from itertools import pairwise
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from bench.generate import generate
from services.chained_recorders import LedgerBroken
from services.container import Waymark
from services.demo import load_demo
from services.ledger import LedgerTampered
from services.ledger_chain import Problem, load_public_key
from services.settings import Settings
from tests.tamper import BACKDATED, STAMP, tampering


@pytest.fixture
def store(settings: Settings) -> Iterator[Waymark]:
    """The demo record, with a checkpoint signed every ten positions."""
    waymark = Waymark(settings.model_copy(update={"checkpoint_interval": 10}))
    try:
        load_demo(waymark.records)
        yield waymark
    finally:
        waymark.close()


def head(store: Waymark) -> int:
    link = store.ledger.head()
    assert link is not None
    return link.position


def signed(store: Waymark) -> list[int]:
    return [c.position for c in store.ledger.checkpoints()]


def first_problem(store: Waymark) -> Problem:
    verdict = store.ledger.verify()
    assert not verdict.ok, verdict.summary()
    assert verdict.problem is not None
    return verdict.problem


def test_an_untouched_record_verifies_clean_and_signed(store: Waymark) -> None:
    verdict = store.ledger.verify()

    assert verdict.ok, verdict.summary()
    assert verdict.events == verdict.head == head(store)
    assert verdict.checkpoints == len(signed(store)) >= 2
    assert verdict.signed_up_to == signed(store)[-1]
    link = store.ledger.head()
    assert link is not None and verdict.chain_hash == link.chain_hash


def test_an_event_changed_in_sql_is_named_at_its_position(
    store: Waymark, settings: Settings
) -> None:
    with tampering(settings) as sql:
        sql.replace_in_state(14, STAMP, BACKDATED)

    problem = first_problem(store)

    assert (problem.position, problem.kind) == (14, "changed")
    assert "position 14" in problem.detail


def test_an_event_deleted_in_sql_is_named_at_its_position(
    store: Waymark, settings: Settings
) -> None:
    with tampering(settings) as sql:
        sql.delete(7)

    problem = first_problem(store)

    assert (problem.position, problem.kind) == (7, "deleted")


def test_two_events_swapped_in_sql_are_named_at_the_first(
    store: Waymark, settings: Settings
) -> None:
    with tampering(settings) as sql:
        sql.swap(23, 5)

    problem = first_problem(store)

    assert (problem.position, problem.kind) == (5, "changed")


def test_writes_are_refused_once_the_newest_events_are_removed_and_their_positions_reused(
    store: Waymark, settings: Settings
) -> None:
    """The chain must never fork: if events are removed behind Waymark's back and the
    log hands out their positions again, the next write is refused, not chained."""
    events = head(store)
    with tampering(settings) as sql:
        sql.sql("DELETE FROM {events} WHERE {pos} > ?", (events - 3,))
        if sql.postgres:  # SQLite's rowid reuses them by itself
            sql.sql(
                "SELECT setval(pg_get_serial_sequence('{events}', 'notification_id'), ?)",
                (events - 3,),
            )
    store.projector.catch_up()
    project_id = UUID(
        str(store.database.all("SELECT project_id FROM dir_projects")[0]["project_id"])
    )

    with pytest.raises(
        LedgerBroken, match=f"chain reaches position {events} .* gave out position {events - 2}:"
    ):
        store.records.record_entry(
            project_id=project_id,
            kind="sponsor_check_in",
            decided_on=None,
            values={"team_health": "green", "member_engagement": "Briefed"},
            actor="pm",
        )

    assert head(store) == events  # nothing was chained
    assert store.ledger.verify().problem is not None


def test_an_event_inserted_in_sql_is_named_at_its_position(
    store: Waymark, settings: Settings
) -> None:
    events = head(store)
    with tampering(settings) as sql:
        sql.insert_copy(20)

    problem = first_problem(store)

    assert (problem.position, problem.kind) == (events + 1, "inserted")


def test_events_and_chain_rewritten_together_are_caught_by_a_signed_checkpoint(
    store: Waymark, settings: Settings
) -> None:
    # Given someone who changes an event and recomputes the whole chain table to match
    with tampering(settings) as sql:
        sql.replace_in_state(14, STAMP, BACKDATED)
        sql.rechain()

    problem = first_problem(store)

    # Then the chain agrees with itself, but not with the first checkpoint signed after 14
    before = max(p for p in signed(store) if p < 14)
    after = min(p for p in signed(store) if p >= 14)
    assert (problem.position, problem.kind) == (after, "checkpoint-mismatch")
    assert problem.since == before + 1
    assert f"positions {before + 1} to {after}" in problem.detail


def test_an_edited_checkpoint_fails_its_signature(store: Waymark, settings: Settings) -> None:
    with tampering(settings) as sql:
        sql.sql("UPDATE {checkpoints} SET signed_at = '2020-01-01T00:00:00.000000Z'")

    problem = first_problem(store)

    assert (problem.position, problem.kind) == (signed(store)[0], "bad-signature")


def test_a_checkpoint_is_not_signed_over_a_tampered_tail(
    store: Waymark, settings: Settings
) -> None:
    # Given an event written after the last checkpoint, then changed in SQL
    checkpoints = signed(store)
    written = store.records.launch_programme(
        name="Second programme", description=None, sponsor_body=None, actor="demo-manager"
    )
    with tampering(settings) as sql:
        sql.replace_in_state(written.position, STAMP, BACKDATED)

    # When a checkpoint is asked for, then it is refused, naming the event
    with pytest.raises(LedgerTampered) as raised:
        store.ledger.checkpoint()

    assert raised.value.problem.position == written.position
    assert signed(store) == checkpoints


def test_writes_stay_chained_and_checkpoints_keep_coming(store: Waymark) -> None:
    events, checkpoints = head(store), signed(store)
    programme = store.records.launch_programme(
        name="Second programme", description=None, sponsor_body=None, actor="pm"
    )
    for week in range(12):
        store.records.form_cohort(
            programme_id=programme.id,
            name=f"Cohort {week}",
            starts_on=date(2026, 1, 5),
            ends_on=date(2026, 6, 26),
            actor="pm",
        )

    verdict = store.ledger.verify()

    assert verdict.ok, verdict.summary()
    assert verdict.events == events + 13
    new = signed(store)[len(checkpoints) :]
    assert signed(store)[: len(checkpoints)] == checkpoints
    assert new and all(later - earlier >= 10 for earlier, later in pairwise(signed(store)))
    assert head(store) - new[-1] < 10


def test_a_duplicate_write_is_refused_without_touching_the_chain(store: Waymark) -> None:
    head = store.ledger.head()
    event = store.records.recorder.select_notifications(1, 1)[0]

    with pytest.raises(IntegrityError):
        store.records.recorder.insert_events([event])

    assert store.ledger.head() == head
    assert store.ledger.verify().ok


def test_the_signing_key_is_made_private_and_its_public_half_verifies(
    store: Waymark, settings: Settings
) -> None:
    key_file = settings.signing_key_path
    assert not key_file.is_relative_to(settings.data_dir)

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    public = load_public_key(store.ledger.public_key_pem())
    for checkpoint in store.ledger.checkpoints():
        public.verify(checkpoint.signature, checkpoint.message())


def test_concurrent_writers_extend_one_unbroken_chain(store: Waymark) -> None:
    events = head(store)

    def launch(writer: int) -> None:
        for n in range(10):
            store.records.launch_programme(
                name=f"Programme {writer}.{n}", description=None, sponsor_body=None, actor="pm"
            )

    threads = [threading.Thread(target=launch, args=(writer,)) for writer in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    verdict = store.ledger.verify()
    assert verdict.ok, verdict.summary()
    assert verdict.events == events + 40


def test_verifying_where_there_is_no_key_makes_none_and_trusts_no_checkpoint(
    store: Waymark, settings: Settings, tmp_path: Path
) -> None:
    # Given a process that checks the record but was given no signing key and no checkpoint
    # log (whose lines name the keys that signed, so that a rotated key's checkpoints verify)
    elsewhere = Waymark(
        settings.model_copy(
            update={
                "signing_key_file": tmp_path / "none.pem",
                "checkpoint_log": tmp_path / "none.ndjson",
            }
        )
    )
    try:
        verdict = elsewhere.ledger.verify()
    finally:
        elsewhere.close()

    assert not (tmp_path / "none.pem").exists()
    assert verdict.problem is not None
    assert (verdict.problem.position, verdict.problem.kind) == (signed(store)[0], "unknown-key")
    assert store.ledger.verify(also_trust=[]).ok


def test_a_check_of_every_event_tells_its_progress_a_thousand_at_a_time(
    settings: Settings,
) -> None:
    waymark = Waymark(settings)
    try:
        generate(waymark.records, 2_500)
        reported: list[int] = []
        verdict = waymark.ledger.verify(progress=reported.append)
        assert verdict.ok
        assert sum(reported) == verdict.events > 2000
        assert reported[:-1] == [1000] * (len(reported) - 1) and 0 < reported[-1] <= 1000
    finally:
        waymark.close()
