"""Read-model catch-up on PostgreSQL: ours against the stock runner and a raw batched INSERT.

    .venv/bin/python -m bench.catch_up [SIZE] [--stock-limit N] [--no-record]

On one generated record (``bench/generate.py``), in one run:

- ours: every read model rebuilt from the log (``rebuild_read_models``: large
  batches, rows and positions committed together, secondary indexes made at
  the end), indexes included, with the CPU time it took in this process and in
  PostgreSQL, per event;
- ours, two processes: the same with the read models shared between two
  processes; and each read model rebuilt alone, in µs an event (not at the
  largest size of ``make bench``, to keep it short);
- stock: the library's ``ProjectionRunner`` with a minimal view (one row per
  event with its tracking record, one transaction per event), on the first N
  events (its cost per event does not change along the log);
- raw: the events read with psycopg and written back as one row each by a
  batched INSERT (1,000 rows per transaction, at most 200,000 rows): the
  speed of the database alone, with no read model work.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from functools import singledispatchmethod
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg.sql import SQL, Identifier

from bench.common import CpuMeter, Results, data_dir_for, throwaway_database
from bench.generate import generate
from bench.report import Target
from projections.catalogue import read_models
from services.container import Waymark, application_env
from services.rebuilding import rebuild_read_models
from services.records import DecisionRecords
from services.settings import Settings

#: Catch-up against the library's stock runner doing the same work in the same run
#: (DESIGN.md, "Quality targets"), from this size of log up.
TARGET = Target.at_least(10, ">= 10x the stock runner, same run")
TARGET_FROM = 100_000


class StockView(PostgresTrackingRecorder):
    """One row per event, written with its tracking record: one transaction per event."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.table = Identifier(self.datastore.schema), Identifier("stock_events")
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.{1} (position bigint PRIMARY KEY, event text)"
            ).format(*self.table)
        )

    def record(self, event: Any, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                SQL("INSERT INTO {0}.{1} VALUES (%s, %s)").format(*self.table),
                (tracking.notification_id, type(event).__qualname__),
            )
            self._insert_tracking(cursor, tracking)


class StockProjection(Projection[StockView]):
    name = "stock"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.record(domain_event, tracking)


def measure_ours(settings: Settings, workers: int) -> tuple[int, float]:
    started = time.perf_counter()
    count = rebuild_read_models(settings, workers=workers)
    return count, time.perf_counter() - started


def measure_stock(settings: Settings, limit: int) -> tuple[int, float]:
    started = time.perf_counter()
    with ProjectionRunner(
        application_class=DecisionRecords,
        projection_class=StockProjection,
        view_class=StockView,
        env=application_env(settings),
    ) as runner:
        runner.wait(limit, timeout=3600)
        elapsed = time.perf_counter() - started
    return limit, elapsed


#: The event store's own tables: the events and their hash chain (the checkpoints are few).
EVENT_STORE_TABLES = ("waymark_events", "waymark_ledger_chain")


def measure_storage(url: str, size: int, results: Results) -> None:
    """Bytes on disk per event (tables, indexes and TOAST) of the event store and of the read
    models, all of them and each, once every read model is built and the store vacuumed."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")

        def size_of(tables: Sequence[str]) -> int:
            row = conn.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " WHERE c.relkind = 'r' AND c.relname = ANY(%s)",
                (list(tables),),
            ).fetchone()
            return int(row[0]) if row else 0

        events = conn.execute("SELECT COUNT(*) FROM waymark_events").fetchone()
        count = int(events[0]) if events else 0
        if not count:
            return
        store = results.add(
            "storage_event_store", size_of(EVENT_STORE_TABLES) / count, "bytes/event", size
        )
        models = read_models()
        every = size_of([table for model in models for table in model.tables]) / count
        mine = results.add("storage_read_models", every, "bytes/event", size)
        results.add(
            "storage_read_models_vs_event_store",
            every / store["value"],
            "x",
            size,
            of=mine,
            reference=store,
        )
        for model in models:
            results.add(f"storage_{model.name}", size_of(model.tables) / count, "bytes/event", size)


def measure_raw(url: str, limit: int) -> tuple[int, float]:
    """Read the events and INSERT them back, one row each, 1,000 rows per transaction."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE raw_copy (position bigint PRIMARY KEY, originator_id uuid,"
            " originator_version int, topic text, state bytea)"
        )
        conn.commit()
        started = time.perf_counter()
        after, count = 0, 0
        with conn.cursor() as read, conn.cursor() as write:
            while count < limit:
                read.execute(
                    "SELECT notification_id, originator_id, originator_version, topic, state"
                    " FROM waymark_events WHERE notification_id > %s"
                    " ORDER BY notification_id LIMIT 1000",
                    (after,),
                )
                rows = read.fetchall()
                if not rows:
                    break
                write.executemany("INSERT INTO raw_copy VALUES (%s, %s, %s, %s, %s)", rows)
                conn.commit()
                after, count = rows[-1][0], count + len(rows)
        return count, time.perf_counter() - started


def run(
    url: str,
    size: int,
    results: Results,
    stock_limit: int,
    *,
    generated: bool = False,
    each_alone: bool = True,
    raw_limit: int = 200_000,
) -> None:
    """Measure catch-up on the store at ``url`` (generating ``size`` events first unless
    ``generated``); leaves every read model built."""
    settings = Settings(database_url=url, data_dir=data_dir_for(url), in_process_projections=False)
    if not generated:
        records = DecisionRecords(env=application_env(settings))
        started = time.perf_counter()
        head = generate(records, size)
        records.close()
        results.add("generate_postgres", head / (time.perf_counter() - started), "events/s", size)
        # A live store is signed every 100 positions; sign the generated one once, checking
        # its whole chain first (what `waymark verify` does).
        waymark = Waymark(settings)
        try:
            started = time.perf_counter()
            waymark.ledger.checkpoint()
            results.add(
                "verify_and_sign_postgres", head / (time.perf_counter() - started), "events/s", size
            )
        finally:
            waymark.close()
    with CpuMeter() as cpu:
        count, seconds = measure_ours(settings, workers=1)
    ours = count / seconds
    mine = results.add("catch_up_postgres", ours, "events/s", size)
    # Where the time goes: this process's CPU and PostgreSQL's, per event.
    results.add("catch_up_cpu_waymark", cpu.used["client"] / count * 1e6, "µs/event", size)
    results.add("catch_up_cpu_postgres", cpu.used["postgres"] / count * 1e6, "µs/event", size)
    results.add("catch_up_machine_busy", cpu.busy, "%", size)
    measure_storage(url, size, results)
    count, seconds = measure_ours(settings, workers=2)
    two = count / seconds
    mine_two = results.add("catch_up_two_processes_postgres", two, "events/s", size)
    if each_alone:
        # What each read model costs, rebuilt alone (reading and decoding the log included).
        for model in read_models():
            started = time.perf_counter()
            count = rebuild_read_models(settings, [model.name], workers=1)
            seconds = time.perf_counter() - started
            results.add(f"catch_up_alone_{model.name}", seconds / count * 1e6, "µs/event", size)
    count, seconds = measure_stock(settings, min(stock_limit, count))
    stock = count / seconds
    reference = results.add("catch_up_stock_runner_postgres", stock, "events/s", size)
    count, seconds = measure_raw(url, min(size, raw_limit))
    raw = count / seconds
    results.add("catch_up_raw_insert_postgres", raw, "rows/s", size)
    target = TARGET if size >= TARGET_FROM else None
    for name, rate, figure in (
        ("catch_up_vs_stock", ours, mine),
        ("catch_up_two_processes_vs_stock", two, mine_two),
    ):
        results.add(name, rate / stock, "x", size, target, of=figure, reference=reference)
    results.add("catch_up_vs_raw_insert", ours / raw, "x", size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("size", nargs="?", type=int, default=100_000)
    parser.add_argument("--stock-limit", type=int, default=5_000)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    results = Results(record=not args.no_record)
    with throwaway_database() as url:
        run(url, args.size, results, args.stock_limit)
    results.save()


if __name__ == "__main__":
    main()
