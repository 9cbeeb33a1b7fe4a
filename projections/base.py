"""What every read model shares: a name, a version, its tables, and event handlers."""

from __future__ import annotations

import base64
import inspect
import json
from collections.abc import Callable, Iterable, Sequence
from functools import singledispatchmethod
from operator import itemgetter
from typing import Any, ClassVar

from projections.database import Database, Transaction
from projections.summaries import summarise_entry
from storage.json import to_json
from storage.times import instant

Positioned = tuple[int, Any]  # (log position, domain event)


class ReadModel:
    """A table (or a few) kept up to date from the event log.

    ``version`` changes whenever the tables or the handlers change; a stored
    read model of another version is dropped and rebuilt on start.

    Events come in batches. For each batch a read model makes a ``Batch``:
    the rows it reads once (``prefetch``), then changes in memory and writes
    once at the end. A batch lives only as long as its transaction, so nothing
    held in memory can outlive a rollback.
    """

    name: ClassVar[str]
    version: ClassVar[int]
    tables: ClassVar[tuple[str, ...]]
    #: Roughly how much work an event is for this read model, to share a rebuild
    #: between processes evenly.
    rebuild_weight: ClassVar[int] = 1

    def create_tables(self, tx: Transaction) -> None:
        raise NotImplementedError

    def drop_tables(self, tx: Transaction) -> None:
        for table in self.tables:
            tx.execute(f"DROP TABLE IF EXISTS {table}")

    def process(self, events: Sequence[Positioned], tx: Transaction) -> None:
        """Apply a batch of events; the caller commits them with the new position."""
        batch = self.start_batch(tx)
        self.prefetch(events, batch)
        handler = self.handler
        for position, event in events:
            handler(type(event))(self, event, position, batch)
        batch.write()

    def handler(self, event_class: type) -> Callable[..., None]:
        """The ``handle`` function registered for an event class, looked up once per class.

        (``singledispatchmethod`` builds a new wrapper on every call: too slow for
        hundreds of thousands of events.)
        """
        found = self._handlers.get(event_class)
        if found is None:
            dispatcher = inspect.getattr_static(self, "handle")
            if isinstance(dispatcher, singledispatchmethod):
                found = dispatcher.dispatcher.dispatch(event_class)
            else:
                found = type(self).handle
            self._handlers[event_class] = found
        return found

    @property
    def _handlers(self) -> dict[type, Callable[..., None]]:
        handlers: dict[type, Callable[..., None]] | None = self.__dict__.get("_handler_cache")
        if handlers is None:
            handlers = self.__dict__["_handler_cache"] = {}
        return handlers

    def start_batch(self, tx: Transaction) -> Batch:
        return Batch(tx)

    def prefetch(self, events: Sequence[Positioned], batch: Batch) -> None:
        """Load, in a few queries, the stored rows this batch's events will change."""

    def handle(self, event: Any, position: int, batch: Batch) -> None:
        """Each read model dispatches on the event's class (``singledispatchmethod``).

        Events a read model has no use for change nothing; its position still moves.
        """


class Table:
    """One table's rows for one batch: those loaded, those added, those changed.

    Rows are dicts keyed by the table's key column. ``write`` appends the new
    rows in the order they came (COPY on PostgreSQL) and updates the changed
    ones; changes to rows that were never loaded are written blind, by key.
    """

    def __init__(self, name: str, key: str, columns: Sequence[str]) -> None:
        self.name = name
        self.key = key
        self.columns = tuple(columns)
        self.rows: dict[Any, dict[str, Any]] = {}
        self.added: dict[Any, None] = {}
        self.changed: dict[Any, None] = {}
        self.blind: list[tuple[Any, dict[str, Any]]] = []

    def load(self, tx: Transaction, keys: Iterable[Any]) -> None:
        missing = [k for k in keys if k not in self.rows]
        if missing:
            sql = f"SELECT {', '.join(self.columns)} FROM {self.name} WHERE {self.key} IN"
            for row in tx.all_in(sql, missing):
                self.rows[row[self.key]] = row

    def load_where(
        self, tx: Transaction, column: str, values: Iterable[Any]
    ) -> list[dict[str, Any]]:
        """Load the rows whose ``column`` holds one of ``values`` (those loaded before
        are kept as they are here); returns them."""
        sql = f"SELECT {', '.join(self.columns)} FROM {self.name} WHERE {column} IN"
        found = []
        for row in tx.all_in(sql, values):
            found.append(self.rows.setdefault(row[self.key], row))
        return found

    def get(self, key: Any) -> dict[str, Any] | None:
        return self.rows.get(key)

    def add(self, row: dict[str, Any]) -> dict[str, Any]:
        key = row[self.key]
        assert key not in self.rows, f"{self.name}: {key} is already there"
        self.rows[key] = row
        self.added[key] = None
        return row

    def change(self, key: Any, **values: Any) -> None:
        """Change a row: in memory if it is here, else by key when the batch is written."""
        row = self.rows.get(key)
        if row is None:
            self.blind.append((key, values))
            return
        row.update(values)
        if key not in self.added:
            self.changed[key] = None

    def touched(self, key: Any) -> None:
        """The row (changed in place) must be written."""
        if key not in self.added:
            self.changed[key] = None

    def write(self, tx: Transaction) -> None:
        if self.added:
            rows, values = self.rows, itemgetter(*self.columns)
            tx.insert_many(self.name, self.columns, [values(rows[k]) for k in self.added])
        if self.changed:
            others = [c for c in self.columns if c != self.key]
            values = itemgetter(*others, self.key)
            tx.update_many(
                self.name, self.key, others, [values(self.rows[k]) for k in self.changed]
            )
        merged: dict[Any, dict[str, Any]] = {}
        for key, changes in self.blind:
            merged.setdefault(key, {}).update(changes)
        by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for key, changes in merged.items():
            by_columns.setdefault(tuple(changes), []).append((*changes.values(), key))
        for columns, params in by_columns.items():
            tx.update_many(self.name, self.key, columns, params)


class Batch:
    """A read model's working set for one batch of events, written in one go."""

    def __init__(self, tx: Transaction, *tables: Table) -> None:
        self.tx = tx
        self.tables = {table.name: table for table in tables}

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]

    def write(self) -> None:
        for table in self.tables.values():
            table.write(self.tx)


class BadCursor(ValueError):
    pass


def encode_cursor(key: list[Any]) -> str:
    """An opaque page cursor: the sort key of the last row given out."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    """The sort key in a cursor: ``length - 1`` texts, then a log position.

    A cursor comes from the client, so its shape, types and sizes are checked
    before any of it reaches a query (a huge number or a NUL would otherwise
    fail in the database, not here). The cursors this server gives out are far
    shorter than 1,000 characters, and positions fit a BIGINT.
    """
    if len(cursor) > 1000:
        raise BadCursor("cursor is not one this server gave out")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, RecursionError):
        raise BadCursor("cursor is not one this server gave out") from None
    if not isinstance(key, list) or len(key) != length:
        raise BadCursor("cursor does not belong to this ordering")
    *texts, position = key
    if not all(isinstance(t, str) and len(t) <= 100 and "\x00" not in t for t in texts) or not (
        type(position) is int and 0 <= position < 2**63
    ):
        raise BadCursor("cursor does not belong to this ordering")
    return key


def keyset_page(
    db: Database, sql: str, params: Sequence[Any], limit: int, key: Sequence[str]
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a keyset-paged query, and the cursor of the next page (None at the end).

    ``sql`` selects the rows after the cursor, ordered by the ``key`` columns (the
    last of them unique), without its ``LIMIT``: one row more than ``limit`` is
    fetched, to tell whether another page follows; the cursor is the key of the
    last row given out.
    """
    rows = db.all(f"{sql} LIMIT ?", (*params, limit + 1))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor([last[column] for column in key])


class Digest:
    """What read models show of one entry event, worked out once per transaction."""

    __slots__ = (
        "position",
        "event",
        "project_id",
        "entry_id",
        "kind",
        "decided_on",
        "recorded_at",
        "values",
        "_json",
        "_summary",
    )

    def __init__(self, position: int, event: Any) -> None:
        self.position = position
        self.event = event
        self.project_id = str(event.originator_id)
        self.entry_id = str(event.entry_id)
        self.kind: str = event.KIND
        self.decided_on: str = event.decided_on.isoformat()
        self.recorded_at = instant(event.timestamp)
        self.values: dict[str, Any] = event.values()
        self._json: str | None = None
        self._summary: str | None = None

    @property
    def json(self) -> str:
        if self._json is None:
            self._json = to_json(self.values)
        return self._json

    @property
    def summary(self) -> str:
        if self._summary is None:
            self._summary = summarise_entry(self.kind, self.values)
        return self._summary


def digest(tx: Transaction, position: int, event: Any) -> Digest:
    """The entry event's digest, shared by every read model in the transaction."""
    digests: dict[int, Digest] | None = tx.shared.get(Digest)
    if digests is None:
        digests = tx.shared[Digest] = {}
    found = digests.get(position)
    if found is None or found.event is not event:
        found = digests[position] = Digest(position, event)
    return found
