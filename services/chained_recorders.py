"""Application recorders that extend a hash chain in the same transaction as each insert.

Chosen through the eventsourcing setting ``APPLICATION_RECORDER_TOPIC`` (see
``services.container.application_env``). Beside the library's events table
each keeps two tables of its own: the chain (one row per log position: the
event's hash and the chain hash) and the signed checkpoints.

The chain's previous hash is read inside the insert's transaction, after the
events table is locked for writing (PostgreSQL takes ``LOCK TABLE ... IN
EXCLUSIVE MODE``; SQLite has a single writer), so two writers never chain
from the same hash.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.errors import DuplicateObject
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from services.ledger_chain import GENESIS, Checkpoint, Link, link_events
from storage.schema import LOCK_SCHEMA, use_wal


class LedgerBroken(PersistenceError):
    """The chain is ahead of the events table: events were removed behind Waymark's back."""


class StoreNotEmpty(PersistenceError):
    """A restore was asked of a store that already holds events."""


class ChainedRecorder(ApplicationRecorder, ABC):
    """The ledger's view of a recorder: chain links, checkpoints, and restore."""

    chain_table: str
    checkpoints_table: str

    @abstractmethod
    def position_of(self, aggregate_id: UUID, version: int) -> int:
        """The log position of one stored event (0 if there is none), to give an
        idempotent retry the first result back."""

    @abstractmethod
    def select_links(self, after: int, limit: int, upto: int | None = None) -> Sequence[Link]:
        """Chain links with ``after < position <= upto``, in position order."""

    @abstractmethod
    def select_links_at(self, positions: Sequence[int]) -> Sequence[Link]:
        """The chain links at these positions (those the chain holds), in position order."""

    @abstractmethod
    def chain_head(self) -> Link | None:
        """The link with the highest position, if any."""

    @abstractmethod
    def select_checkpoints(
        self, after: int = 0, limit: int | None = None, key_id: str | None = None
    ) -> Sequence[Checkpoint]:
        """Checkpoints with a position above ``after``, in position order."""

    @abstractmethod
    def latest_checkpoint(self, key_id: str) -> Checkpoint | None: ...

    @abstractmethod
    def insert_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Store a checkpoint; one already stored at that position is kept."""

    @abstractmethod
    def restore(self, events: Iterable[tuple[int, StoredEvent]]) -> Link | None:
        """Write events at the given positions into an empty store, chaining them.

        All or nothing, in one transaction; raises ``StoreNotEmpty`` if the
        store holds events or chain entries. Returns the new chain head.
        """


def _table_names(events_table_name: str) -> tuple[str, str]:
    """The chain and checkpoint tables beside an events table, named after it.

    ``waymark_events`` (PostgreSQL) -> ``waymark_ledger_chain``, ``waymark_ledger_checkpoints``;
    ``stored_events`` (SQLite) -> ``stored_ledger_chain``, ``stored_ledger_checkpoints``.
    """
    prefix = events_table_name.removesuffix("events")
    return f"{prefix}ledger_chain", f"{prefix}ledger_checkpoints"


def _check_extends(head: Link | None, first_position: int) -> bytes:
    if head is not None and head.position >= first_position:
        raise LedgerBroken(
            f"the ledger's chain reaches position {head.position} but the event log gave out "
            f"position {first_position}: events were removed outside Waymark. "
            "Run `waymark verify`; writes are refused until the store is repaired"
        )
    return head.chain_hash if head is not None else GENESIS


NOT_EMPTY = "the store already holds events: restore needs an empty one"


def _checkpoint_row(checkpoint: Checkpoint) -> tuple[int, bytes, str, str, bytes]:
    return (
        checkpoint.position,
        checkpoint.chain_hash,
        checkpoint.signed_at,
        checkpoint.key_id,
        checkpoint.signature,
    )


def _checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(
        position=int(row["position"]),
        chain_hash=bytes(row["chain_hash"]),
        signed_at=str(row["signed_at"]),
        key_id=str(row["key_id"]),
        signature=bytes(row["signature"]),
    )


def _link(row: Any) -> Link:
    return Link(int(row["position"]), bytes(row["event_hash"]), bytes(row["chain_hash"]))


# -- SQLite ---------------------------------------------------------------------------------


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder, ChainedRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        if not datastore.pool.is_sqlite_memory_mode:
            # Before the library's first connection tries to switch it, racing other processes.
            use_wal(Path(datastore.pool.db_name))
        self.chain_table, self.checkpoints_table = _table_names(events_table_name)
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.chain_table} ("
            "position INTEGER PRIMARY KEY, event_hash BLOB NOT NULL, chain_hash BLOB NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.checkpoints_table} ("
            "position INTEGER PRIMARY KEY, chain_hash BLOB NOT NULL, signed_at TEXT NOT NULL,"
            " key_id TEXT NOT NULL, signature BLOB NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        if positions:
            self._extend_chain(c, list(zip(positions, stored_events, strict=True)))
        return positions

    def _extend_chain(self, c: SQLiteCursor, positioned: list[tuple[int, StoredEvent]]) -> Link:
        c.execute(f"SELECT * FROM {self.chain_table} ORDER BY position DESC LIMIT 1")
        row = c.fetchone()
        previous = _check_extends(_link(row) if row else None, positioned[0][0])
        links = link_events(previous, positioned)
        c.executemany(
            f"INSERT INTO {self.chain_table} VALUES (?, ?, ?)",
            [(link.position, link.event_hash, link.chain_hash) for link in links],
        )
        return links[-1]

    def position_of(self, aggregate_id: UUID, version: int) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid AS position FROM {self.events_table_name}"
                " WHERE originator_id = ? AND originator_version = ?",
                (aggregate_id.hex, version),
            )
            row = c.fetchone()
            return int(row["position"]) if row else 0

    def select_links(self, after: int, limit: int, upto: int | None = None) -> Sequence[Link]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {self.chain_table} WHERE position > ? AND position <= ?"
                " ORDER BY position LIMIT ?",
                (after, upto if upto is not None else 2**63 - 1, limit),
            )
            return [_link(row) for row in c.fetchall()]

    def select_links_at(self, positions: Sequence[int]) -> Sequence[Link]:
        if not positions:
            return []
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {self.chain_table} WHERE position IN"
                f" ({', '.join('?' * len(positions))}) ORDER BY position",
                list(positions),
            )
            return [_link(row) for row in c.fetchall()]

    def chain_head(self) -> Link | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT * FROM {self.chain_table} ORDER BY position DESC LIMIT 1")
            row = c.fetchone()
            return _link(row) if row else None

    def select_checkpoints(
        self, after: int = 0, limit: int | None = None, key_id: str | None = None
    ) -> Sequence[Checkpoint]:
        sql = f"SELECT * FROM {self.checkpoints_table} WHERE position > ?"
        params: list[Any] = [after]
        if key_id is not None:
            sql += " AND key_id = ?"
            params.append(key_id)
        sql += " ORDER BY position LIMIT ?"
        params.append(limit if limit is not None else -1)
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, params)
            return [_checkpoint(row) for row in c.fetchall()]

    def latest_checkpoint(self, key_id: str) -> Checkpoint | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {self.checkpoints_table} WHERE key_id = ?"
                " ORDER BY position DESC LIMIT 1",
                (key_id,),
            )
            row = c.fetchone()
            return _checkpoint(row) if row else None

    def insert_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {self.checkpoints_table} VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (position) DO NOTHING",
                _checkpoint_row(checkpoint),
            )

    def restore(self, events: Iterable[tuple[int, StoredEvent]]) -> Link | None:
        head: Link | None = None
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"SELECT (SELECT COUNT(*) FROM {self.events_table_name})"
                f" + (SELECT COUNT(*) FROM {self.chain_table}) AS n"
            )
            if c.fetchone()["n"]:
                raise StoreNotEmpty(NOT_EMPTY)
            for batch in _batches(events, 1000):
                c.executemany(
                    f"INSERT INTO {self.events_table_name}"
                    " (rowid, originator_id, originator_version, topic, state)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [
                        (
                            position,
                            e.originator_id.hex
                            if isinstance(e.originator_id, UUID)
                            else e.originator_id,
                            e.originator_version,
                            e.topic,
                            e.state,
                        )
                        for position, e in batch
                    ],
                )
                head = self._extend_chain(c, batch)
        return head


# -- PostgreSQL -----------------------------------------------------------------------------

T = TypeVar("T")


def fail_fast(method: Callable[..., T]) -> Callable[..., T]:
    """Two attempts, not the library's ten (each after waiting a whole connection
    timeout: with the database down a request would hang for half a minute).

    Between them every idle connection in the pool is checked: after the database
    restarts, each one it had is dead, and a second attempt on the next dead one
    would fail too. The check costs a round trip per idle connection, only then.
    """

    @wraps(method)
    def attempts(self: ChainedPostgresApplicationRecorder, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except (InterfaceError, OperationalError):
            self.datastore.pool.check()
            return method(self, *args, **kwargs)

    return attempts


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder, ChainedRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        if datastore.enable_db_functions:
            raise ValueError(
                "the ledger chains events in Python: POSTGRES_ENABLE_DB_FUNCTIONS must be off"
            )
        super().__init__(datastore, events_table_name=events_table_name)
        self.chain_table, self.checkpoints_table = _table_names(events_table_name)
        for name in (self.chain_table, self.checkpoints_table):
            self.check_identifier_length(name)
        self.sql_create_statements.append(
            self._sql(
                "CREATE TABLE IF NOT EXISTS {chain} (position bigint PRIMARY KEY,"
                " event_hash bytea NOT NULL, chain_hash bytea NOT NULL)"
            )
        )
        self.sql_create_statements.append(
            self._sql(
                "CREATE TABLE IF NOT EXISTS {checkpoints} (position bigint PRIMARY KEY,"
                " chain_hash bytea NOT NULL, signed_at text NOT NULL, key_id text NOT NULL,"
                " signature bytea NOT NULL)"
            )
        )
        self._select_head = self._sql("SELECT * FROM {chain} ORDER BY position DESC LIMIT 1")

    def create_table(self) -> None:
        """The library's statements in one transaction, under the lock every Waymark
        process takes for DDL: run by two processes at once, its ``CREATE TYPE`` and
        ``CREATE OR REPLACE FUNCTION`` fail (a duplicate type; "tuple concurrently
        updated"), and uvicorn stops the whole server when one worker fails to start."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(LOCK_SCHEMA)
            for statement in self.sql_create_statements:
                if "CREATE TYPE" in statement.as_string():  # it has no IF NOT EXISTS
                    with suppress(DuplicateObject), curs.connection.transaction():
                        curs.execute(statement, prepare=False)
            self._create_table(curs)
        self.datastore.register_type_adapters()

    def _sql(self, text: str) -> Composed:
        schema = Identifier(self.datastore.schema)
        return SQL(text).format(
            chain=Composed([schema, SQL("."), Identifier(self.chain_table)]),
            checkpoints=Composed([schema, SQL("."), Identifier(self.checkpoints_table)]),
            events=Composed([schema, SQL("."), Identifier(self.events_table_name)]),
        )

    @fail_fast
    def select_events(self, *args: Any, **kwargs: Any) -> Any:
        return PostgresApplicationRecorder.select_events.__wrapped__(self, *args, **kwargs)

    @fail_fast
    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        return PostgresApplicationRecorder.select_notifications.__wrapped__(self, *args, **kwargs)

    @fail_fast
    def max_notification_id(self) -> int | None:
        result: int | None = PostgresApplicationRecorder.max_notification_id.__wrapped__(self)
        return result

    @fail_fast
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's insert (lock, notify, insert) with the chain added before commit.

        The library's own method commits whatever its try block swallowed; here
        any failure, in SQL or in Python, rolls the whole transaction back.
        """
        if not stored_events:
            return []
        with (
            self.datastore.get_connection() as conn,
            conn.pipeline() as pipeline,
            conn.transaction(),
            conn.cursor() as curs,
            conn.cursor() as head_curs,
        ):
            # Pipelined: lock, notify, insert and read the chain head in one round trip.
            self._insert_events(curs, stored_events, **kwargs)
            self._insert_stored_events(curs, stored_events, **kwargs)
            head_curs.execute(self._select_head)
            pipeline.sync()
            positions = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
            assert positions is not None
            self._append_links(
                curs, head_curs.fetchone(), list(zip(positions, stored_events, strict=True))
            )
        return positions

    def _extend_chain(
        self, curs: Cursor[DictRow], positioned: list[tuple[int, StoredEvent]]
    ) -> Link:
        curs.execute(self._select_head)
        return self._append_links(curs, curs.fetchone(), positioned)

    def _append_links(
        self,
        curs: Cursor[DictRow],
        head: DictRow | None,
        positioned: list[tuple[int, StoredEvent]],
    ) -> Link:
        previous = _check_extends(_link(head) if head else None, positioned[0][0])
        links = link_events(previous, positioned)
        curs.executemany(
            self._sql("INSERT INTO {chain} VALUES (%s, %s, %s)"),
            [(link.position, link.event_hash, link.chain_hash) for link in links],
        )
        return links[-1]

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def position_of(self, aggregate_id: UUID, version: int) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    "SELECT notification_id AS position FROM {events}"
                    " WHERE originator_id = %s AND originator_version = %s"
                ),
                (aggregate_id, version),
            )
            row = curs.fetchone()
            return int(row["position"]) if row else 0

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def select_links(self, after: int, limit: int, upto: int | None = None) -> Sequence[Link]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    "SELECT * FROM {chain} WHERE position > %s AND position <= %s"
                    " ORDER BY position LIMIT %s"
                ),
                (after, upto if upto is not None else 2**63 - 1, limit),
            )
            return [_link(row) for row in curs.fetchall()]

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def select_links_at(self, positions: Sequence[int]) -> Sequence[Link]:
        if not positions:
            return []
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql("SELECT * FROM {chain} WHERE position = ANY(%s) ORDER BY position"),
                (list(positions),),
            )
            return [_link(row) for row in curs.fetchall()]

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def chain_head(self) -> Link | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_head)
            row = curs.fetchone()
            return _link(row) if row else None

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def select_checkpoints(
        self, after: int = 0, limit: int | None = None, key_id: str | None = None
    ) -> Sequence[Checkpoint]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    "SELECT * FROM {checkpoints} WHERE position > %s"
                    " AND (%s::text IS NULL OR key_id = %s) ORDER BY position LIMIT %s"
                ),
                (after, key_id, key_id, limit),
            )
            return [_checkpoint(row) for row in curs.fetchall()]

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def latest_checkpoint(self, key_id: str) -> Checkpoint | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    "SELECT * FROM {checkpoints} WHERE key_id = %s ORDER BY position DESC LIMIT 1"
                ),
                (key_id,),
            )
            row = curs.fetchone()
            return _checkpoint(row) if row else None

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def insert_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._sql(
                    "INSERT INTO {checkpoints} VALUES (%s, %s, %s, %s, %s)"
                    " ON CONFLICT (position) DO NOTHING"
                ),
                _checkpoint_row(checkpoint),
            )

    def restore(self, events: Iterable[tuple[int, StoredEvent]]) -> Link | None:
        head: Link | None = None
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            curs.execute(
                self._sql(
                    "SELECT EXISTS (SELECT 1 FROM {events}) OR EXISTS (SELECT 1 FROM {chain})"
                    " AS found"
                )
            )
            row = curs.fetchone()
            if row is not None and row["found"]:
                raise StoreNotEmpty(NOT_EMPTY)
            for batch in _batches(events, 1000):
                curs.executemany(
                    self._sql(
                        "INSERT INTO {events}"
                        " (originator_id, originator_version, topic, state, notification_id)"
                        " VALUES (%s, %s, %s, %s, %s)"
                    ),
                    [
                        (e.originator_id, e.originator_version, e.topic, e.state, position)
                        for position, e in batch
                    ],
                )
                head = self._extend_chain(curs, batch)
            if head is not None:
                # New events must be numbered after the restored ones.
                curs.execute(
                    SQL("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)"),
                    (f'"{self.datastore.schema}"."{self.events_table_name}"', head.position),
                )
        return head


def _batches(
    items: Iterable[tuple[int, StoredEvent]], size: int
) -> Iterable[list[tuple[int, StoredEvent]]]:
    batch: list[tuple[int, StoredEvent]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
