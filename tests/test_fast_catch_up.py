"""Issue 7: what makes catch-up fast changes nothing that read models hold.

The fast decoder gives the library mapper's events, COPY text keeps every
character, a rebuild shared between processes gives the tables one process
gives, and indexes dropped for a rebuild always come back; a read model started
over (a new version) is filled the way a rebuild is.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from eventsourcing.persistence import Mapper
from hypothesis import given
from hypothesis import strategies as st

from projections.catalogue import read_models
from projections.projector import DEFERRED_INDEXES_TABLE
from services.container import Waymark
from services.rebuilding import rebuild_processes, rebuild_read_models
from services.settings import Settings
from storage.codec import FastDecoder
from storage.times import instant
from tests.helpers import read_model_rows
from tests.test_read_model_rebuild import AuditLogV2, fresh_projector, play

HISTORY = [
    ("entry", 0, "problem_statement_iterated", 1),
    ("entry", 1, "capacity_decided", 2),
    ("entry", 2, "sponsor_check_in", 3),
    ("phase", 0, "alpha", 0),
    ("correct", 1, "", 0),
    ("entry", 3, "concern_raised", 1),
    ("resolve", 3, "", 0),
    ("assess", 1, "high", 2),
    ("mapping", 0, "", 1),
    ("succession", 0, "", 1),
    ("withdraw", 4, "", 0),
]


def test_the_fast_decoder_gives_the_events_the_library_mapper_gives(waymark: Waymark) -> None:
    # Given a history with every sort of value (ids, dates, decimals, nested replacements)
    play(waymark, HISTORY)
    records = waymark.records
    library = Mapper(records.mapper.transcoder)
    decode = FastDecoder.for_mapper(library)
    assert isinstance(decode, FastDecoder)

    # When every stored event is decoded both ways
    notifications = records.recorder.select_notifications(start=1, limit=10_000)
    assert notifications

    # Then the events are equal, value for value and type for type
    for notification in notifications:
        ours, theirs = decode(notification), library.to_domain_event(notification)
        assert type(ours) is type(theirs)
        assert _typed(vars(ours)) == _typed(vars(theirs))


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value), value)


def test_text_written_in_bulk_keeps_every_character(waymark: Waymark) -> None:
    # Given values with everything COPY text must escape, and NULLs
    values = ["tab\there", "new\nline", "carriage\rreturn", "back\\slash", "\\N", "", "é ✓ 🚀"]
    rows = [(n, value, None if n % 2 else value) for n, value in enumerate(values)]

    # When they are appended in one go and read back
    with waymark.database.transaction() as tx:
        tx.execute("CREATE TABLE bulk_text (n BIGINT PRIMARY KEY, value TEXT, maybe TEXT)")
        tx.insert_many("bulk_text", ("n", "value", "maybe"), rows)
    found = waymark.database.all("SELECT n, value, maybe FROM bulk_text ORDER BY n")

    # Then nothing was changed on the way
    assert [(r["n"], r["value"], r["maybe"]) for r in found] == rows


def test_a_rebuild_makes_again_the_indexes_it_dropped(waymark: Waymark) -> None:
    play(waymark, HISTORY)
    with waymark.database.reading() as tx:
        before = tx.secondary_indexes([t for m in read_models() for t in m.tables])
    assert before

    # A rebuild that stops before its end (here: started, never finished) ...
    waymark.projector.start_rebuild()
    with waymark.database.reading() as tx:
        assert tx.secondary_indexes([t for m in read_models() for t in m.tables]) == []

    # ... gets its indexes back when a worker next starts
    waymark.projector.prepare()
    with waymark.database.reading() as tx:
        assert tx.secondary_indexes([t for m in read_models() for t in m.tables]) == before
    assert waymark.database.all(f"SELECT * FROM {DEFERRED_INDEXES_TABLE}") == []


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_a_rebuild_shared_between_processes_gives_the_tables_one_process_gives(
    settings: Settings,
) -> None:
    waymark = Waymark(settings)
    try:
        play(waymark, HISTORY)
        waymark.projector.rebuild()
        alone = read_model_rows(waymark)
        count = rebuild_read_models(settings, workers=2)
        assert count == waymark.projector.log.head()
        assert read_model_rows(waymark) == alone
        assert {s.lag for s in waymark.projector.status()} == {0}
    finally:
        waymark.close()


@pytest.mark.parametrize(
    ("head", "configured", "cores", "processes"),
    [
        (49_999, None, 8, 1),  # a short log is done before processes would have started
        (10, 4, 8, 1),  # even where more are configured
        (50_000, None, 2, 2),  # a long one: two by default on two cores
        (1_000_000, None, 16, 2),  # and no more on more cores
        (50_000, None, 1, 1),  # one on one core
        (1_000_000, 4, 2, 4),  # what is configured, for a long log
        (1_000_000, 1, 8, 1),
    ],
)
def test_a_long_rebuild_is_shared_between_two_processes_unless_configured_or_one_core(
    head: int, configured: int | None, cores: int, processes: int
) -> None:
    assert rebuild_processes(head, configured, cores) == processes


def test_a_read_model_started_over_is_filled_as_a_rebuild_is_and_gets_its_indexes_back(
    waymark: Waymark,
) -> None:
    play(waymark, HISTORY)
    waymark.projector.catch_up()
    with waymark.database.reading() as tx:
        indexes = tx.secondary_indexes(AuditLogV2.tables)
    rows = read_model_rows(waymark)
    assert indexes and rows["audit_log"]

    # When the audit log's definition changes and a process starts (a web server, say)
    others = [m for m in read_models() if m.name != "audit_log"]
    assert fresh_projector(waymark, [*others, AuditLogV2()]).prepare() == ["audit_log"]

    # Then it is filled without its secondary indexes, by a worker (another process) ...
    with waymark.database.reading() as tx:
        assert tx.secondary_indexes(AuditLogV2.tables) == []
    worker = fresh_projector(waymark, [*others, AuditLogV2()])
    worker.start(poll_interval=0.01)
    try:
        deadline = time.monotonic() + 30
        while waymark.database.all(f"SELECT * FROM {DEFERRED_INDEXES_TABLE}"):
            assert time.monotonic() < deadline, "the indexes were never made"
            time.sleep(0.05)
    finally:
        worker.stop()

    # ... which the worker makes once it has caught up, with the planner's statistics
    assert worker.lag() == 0
    with waymark.database.reading() as tx:
        assert tx.secondary_indexes(AuditLogV2.tables) == indexes
    stats = (
        "SELECT 1 AS found FROM pg_stats WHERE tablename = 'audit_log'"
        if waymark.database.dialect == "postgres"
        else "SELECT 1 AS found FROM sqlite_stat1 WHERE tbl = 'audit_log'"
    )
    assert waymark.database.all(stats)
    assert read_model_rows(waymark) == rows


def test_a_worker_far_behind_the_log_reads_it_in_larger_batches(waymark: Waymark) -> None:
    play(waymark, HISTORY)
    head = waymark.projector.log.head()
    assert head > 12
    worker = fresh_projector(waymark)
    worker.batch_size = 5
    worker.start_rebuild()  # every read model back to the start of the log

    # A first batch of the usual size comes back full: the worker is far behind ...
    assert worker.catch_up_once() == 5
    # ... so it reads the rest at once, as a rebuild does
    assert worker.catch_up_once() == head - 5
    assert worker.catch_up_once() == 0
    # and, caught up, goes back to batches of the usual size for what comes next
    play(waymark, [])
    assert waymark.projector.log.head() - head > 5
    assert worker.catch_up_once() == 5


@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
    )
)
def test_an_instant_is_the_same_text_however_its_time_zone_is_given(moment: datetime) -> None:
    """The short way for UTC times (the record's) gives what the general way gives."""
    utc = moment.astimezone(UTC)
    expected = (
        f"{utc.year:04}-{utc.month:02}-{utc.day:02}T{utc.hour:02}:{utc.minute:02}:"
        f"{utc.second:02}.{utc.microsecond:06}Z"
    )
    assert instant(moment) == expected
    assert instant(utc) == expected
    assert instant(utc.replace(tzinfo=timezone(timedelta(0), "GMT"))) == expected  # not UTC
    assert len(expected) == len("2026-12-02T11:30:52.142999Z")
