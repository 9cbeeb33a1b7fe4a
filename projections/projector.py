"""Keeps read models up to date from the event log, exactly once, in batches.

Each batch of events is applied to every read model that has not seen it,
and each read model's position moves in the same transaction as its rows: a
crash between batches loses nothing and repeats nothing. Positions are
locked while a batch is applied, so two workers never apply the same batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from projections.base import ReadModel
from projections.database import Database, Transaction
from projections.log import EventLog

log = logging.getLogger(__name__)

POSITIONS_TABLE = "read_model_positions"
#: Secondary indexes dropped for a rebuild, made again once it has caught up.
DEFERRED_INDEXES_TABLE = "read_model_deferred_indexes"
#: Events per transaction while rebuilding: fewer, larger batches write faster.
REBUILD_BATCH_SIZE = 10_000


@dataclass(frozen=True)
class Status:
    name: str
    version: int
    position: int
    head: int

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)


class Projector:
    def __init__(
        self,
        database: Database,
        log_: EventLog,
        read_models: Iterable[ReadModel],
        *,
        batch_size: int = 1000,
        retired: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.database = database
        #: Read models no longer kept, by name, and their tables: dropped by ``prepare``.
        self.retired = dict(retired or {})
        self.log = log_
        self.read_models = {model.name: model for model in read_models}
        self.batch_size = batch_size
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: BaseException | None = None
        #: The last batch read was full: the log is far ahead (a read model started over).
        self._behind = False
        #: Read models this projector has filled from the start of the log: their deferred
        #: indexes are made, and their tables analysed, once caught up.
        self._refilled: set[str] = set()

    # -- set-up ---------------------------------------------------------------

    def prepare(self) -> list[str]:
        """Create missing read models; drop and rebuild any whose version changed; drop
        those no longer kept.

        Returns the names of the read models that start again from the beginning.
        """
        started_over = []
        with self.database.transaction() as tx:
            tx.lock_schema()
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {POSITIONS_TABLE} ("
                "name TEXT PRIMARY KEY, version INTEGER NOT NULL, position BIGINT NOT NULL)"
            )
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {DEFERRED_INDEXES_TABLE} ("
                "name TEXT PRIMARY KEY, read_model TEXT NOT NULL, definition TEXT NOT NULL)"
            )
        self._drop_retired()
        # A rebuild that stopped before its end left indexes to make.
        self.make_deferred_indexes()
        # A read model started over on a log that holds events is filled as a rebuild is:
        # its indexes are made once it has caught up.
        refill = self.log.head() > 0
        for model in self.read_models.values():
            with self.database.transaction() as tx:
                # Under the lock: a process that waited sees the version another just set.
                tx.lock_schema()
                row = tx.one(f"SELECT version FROM {POSITIONS_TABLE} WHERE name = ?", (model.name,))
                if row is not None and row["version"] == model.version:
                    continue
                if row is not None:
                    log.warning(
                        "read model %s changed from version %s to %s: rebuilding",
                        model.name,
                        row["version"],
                        model.version,
                    )
                self._reset(model, tx, defer_indexes=refill)
                started_over.append(model.name)
        return started_over

    def _drop_retired(self) -> None:
        """Drop the tables of the read models no longer kept, if this store has them."""
        if not self.retired:
            return
        with self.database.transaction() as tx:
            tx.lock_schema()
            rows = tx.all_in(f"SELECT name FROM {POSITIONS_TABLE} WHERE name IN", self.retired)
            for name in sorted(row["name"] for row in rows):
                log.warning("read model %s is no longer kept: dropping its tables", name)
                for table in self.retired[name]:
                    tx.execute(f"DROP TABLE IF EXISTS {table}")
                tx.execute(f"DELETE FROM {DEFERRED_INDEXES_TABLE} WHERE read_model = ?", (name,))
                tx.execute(f"DELETE FROM {POSITIONS_TABLE} WHERE name = ?", (name,))

    def _reset(self, model: ReadModel, tx: Transaction, *, defer_indexes: bool = False) -> None:
        tx.execute(f"DELETE FROM {DEFERRED_INDEXES_TABLE} WHERE read_model = ?", (model.name,))
        model.drop_tables(tx)
        model.create_tables(tx)
        if defer_indexes:
            # Filling tables without their secondary indexes and making the indexes
            # once at the end is much faster than keeping them up to date row by row.
            for name, definition in tx.secondary_indexes(model.tables):
                tx.execute(
                    f"INSERT INTO {DEFERRED_INDEXES_TABLE} (name, read_model, definition)"
                    " VALUES (?, ?, ?)",
                    (name, model.name, definition),
                )
                tx.execute(f"DROP INDEX {name}")
        tx.execute(f"DELETE FROM {POSITIONS_TABLE} WHERE name = ?", (model.name,))
        tx.execute(
            f"INSERT INTO {POSITIONS_TABLE} (name, version, position) VALUES (?, ?, 0)",
            (model.name, model.version),
        )

    # -- catching up -----------------------------------------------------------

    def positions(self) -> dict[str, int]:
        rows = self.database.all(f"SELECT name, position FROM {POSITIONS_TABLE}")
        stored = {row["name"]: int(row["position"]) for row in rows}
        return {name: stored.get(name, 0) for name in self.read_models}

    def catch_up_once(self, limit: int | None = None, *, durable: bool = True) -> int:
        """Apply the next batch of events; returns how many events were read.

        ``durable=False`` (rebuilds) commits without waiting for the disk: a crash
        may then lose the last batches, but always rows and position together, so
        they are applied again, exactly once. Without a ``limit``, a projector far
        behind the log (the last batch was full) reads batches of a rebuild's size
        and commits them that way too, until it has caught up.
        """
        positions = self.positions()
        if not positions:
            return 0
        if limit is None:
            limit = REBUILD_BATCH_SIZE if self._behind else self.batch_size
            durable = durable and not self._behind
        start = min(positions.values())
        batch = self.log.read(start, limit)
        if not batch:
            self._behind = False
            return 0
        self._behind = len(batch) >= limit
        # Read models starting from the beginning of the log (new, a new version, or
        # rebuilt, by this process or another) get their deferred indexes and the
        # query planner's statistics once caught up.
        self._refilled.update(name for name, position in positions.items() if position == 0)
        with self.database.transaction() as tx:
            if not durable and tx.dialect == "postgres":
                tx.execute("SET LOCAL synchronous_commit = off")
            locked = self._lock_positions(tx)
            # The read models that reached each position: usually all of them one, so
            # one statement moves every position (a statement each was a round trip
            # each, twelve a write while following the log).
            reached: dict[int, list[str]] = {}
            for name, model in self.read_models.items():
                position = locked.get(name, 0)
                unseen = [item for item in batch if item[0] > position]
                if not unseen:
                    continue
                model.process(unseen, tx)
                reached.setdefault(unseen[-1][0], []).append(name)
            for position, names in reached.items():
                tx.execute(
                    f"UPDATE {POSITIONS_TABLE} SET position = ?"
                    f" WHERE name IN ({', '.join('?' * len(names))})",
                    (position, *names),
                )
        return len(batch)

    def _lock_positions(self, tx: Transaction) -> dict[str, int]:
        """This projector's positions, locked (other read models' workers are not held up)."""
        lock = " FOR UPDATE" if tx.dialect == "postgres" else ""
        names = sorted(self.read_models)
        rows = tx.all(
            f"SELECT name, position FROM {POSITIONS_TABLE}"
            f" WHERE name IN ({', '.join('?' * len(names))}) ORDER BY name{lock}",
            names,
        )
        return {row["name"]: int(row["position"]) for row in rows}

    def catch_up(
        self,
        progress: Callable[[int], None] | None = None,
        *,
        batch_size: int | None = None,
        durable: bool = True,
    ) -> int:
        """Apply every event in the log now; returns how many were read."""
        total = 0
        while True:
            count = self.catch_up_once(batch_size, durable=durable)
            if not count:
                self.caught_up()
                return total
            total += count
            if progress is not None:
                progress(count)

    def caught_up(self) -> None:
        """After filling read models from the start of the log: make the indexes they were
        filled without, and gather the query planner's statistics on their tables (filled
        at once, they have none until autovacuum gets round to them, and reads served
        meanwhile pay for it)."""
        if not self._refilled:
            return
        refilled, self._refilled = self._refilled, set()
        self.make_deferred_indexes()
        with self.database.transaction() as tx:
            tx.analyze([t for name in sorted(refilled) for t in self.read_models[name].tables])

    def make_deferred_indexes(self) -> None:
        """Make the indexes a rebuild dropped, one transaction each."""
        names = sorted(self.read_models)
        pending = self.database.all(
            f"SELECT name FROM {DEFERRED_INDEXES_TABLE}"
            f" WHERE read_model IN ({', '.join('?' * len(names))}) ORDER BY name",
            names,
        )
        for row in pending:
            with self.database.transaction() as tx:
                found = tx.one(
                    f"DELETE FROM {DEFERRED_INDEXES_TABLE} WHERE name = ? RETURNING definition",
                    (row["name"],),
                )
                if found is not None:  # another worker may have made it meanwhile
                    if tx.dialect == "postgres":
                        tx.execute("SET LOCAL maintenance_work_mem = '256MB'")
                    tx.execute(found["definition"])

    def rebuild(
        self, names: Sequence[str] | None = None, progress: Callable[[int], None] | None = None
    ) -> int:
        """Drop the named read models (all by default) and build them again from the log."""
        self.start_rebuild(names)
        return self.finish_rebuild(progress)

    def start_rebuild(self, names: Sequence[str] | None = None) -> list[str]:
        """Empty the named read models (all by default), their positions back to 0.

        Their secondary indexes are dropped until ``finish_rebuild`` makes them.
        Returns the names.
        """
        chosen = list(names) if names else list(self.read_models)
        unknown = [name for name in chosen if name not in self.read_models]
        if unknown:
            raise KeyError(f"no read model named {unknown[0]!r}")
        self.prepare()
        with self.database.transaction() as tx:
            self._lock_positions(tx)
            for name in chosen:
                self._reset(self.read_models[name], tx, defer_indexes=True)
        return chosen

    def finish_rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Catch up in large batches, then make the indexes; returns how many events were read.

        Each read model keeps its own position, so projectors of disjoint sets of
        read models can finish a rebuild side by side, in separate processes.
        """
        count = self.catch_up(
            progress, batch_size=max(self.batch_size, REBUILD_BATCH_SIZE), durable=False
        )
        self.make_deferred_indexes()  # an empty log fills nothing, but its indexes come back
        return count

    def status(self) -> list[Status]:
        head = self.log.head()
        rows = self.database.all(f"SELECT name, version, position FROM {POSITIONS_TABLE}")
        stored = {row["name"]: row for row in rows}
        return [
            Status(
                name=name,
                version=int(stored[name]["version"]) if name in stored else model.version,
                position=int(stored[name]["position"]) if name in stored else 0,
                head=head,
            )
            for name, model in self.read_models.items()
        ]

    # -- waiting ---------------------------------------------------------------

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until every read model has reached ``position``, at most ``timeout`` s."""
        deadline = time.monotonic() + timeout
        pause = 0.002
        while True:
            if min(self.positions().values(), default=0) >= position:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.wake.set()
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, 0.05)

    def lag(self) -> int:
        return max(0, self.log.head() - min(self.positions().values(), default=0))

    # -- running -----------------------------------------------------------------

    def run(
        self,
        poll_interval: float = 0.2,
        stop: threading.Event | None = None,
        *,
        gather: float = 0.0,
    ) -> None:
        """Catch up, then follow the log until stopped. Errors are logged and retried.

        Woken less than ``gather`` seconds after the last batch, it waits out the rest
        first: under a stream of writes each batch then takes the writes of that while
        (a batch costs the same few statements for each read model however many events
        it holds), while a write after a quiet spell is applied at once.
        """
        stop = stop or self._stop
        backoff = poll_interval
        finished = -gather
        while not stop.is_set():
            early = finished + gather - time.monotonic()
            if early > 0:
                stop.wait(early)
            self.wake.clear()  # what wakes it from now on comes after this batch
            try:
                # A batch shorter than asked for reached the head of the log: wait to be
                # woken (each write wakes this thread) rather than ask again at once.
                while not stop.is_set() and self.catch_up_once() and self._behind:
                    pass
                if not stop.is_set():
                    self.caught_up()
                finished = time.monotonic()
                self.last_error = None
                backoff = poll_interval
            except Exception as error:  # noqa: BLE001 - a worker must outlive a lost database
                self.last_error = error
                log.exception("read models could not catch up; retrying")
                backoff = min(backoff * 2, 5.0)
            self.wake.wait(backoff)

    def start(self, poll_interval: float = 0.2) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, args=(poll_interval,), name="waymark-projector", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
