"""Connections to the read-model database: SQLite (embedded) or PostgreSQL.

Read-model SQL is written once, with ``?`` placeholders; ``Database.sql``
adapts it for psycopg. Rows come back as dicts on both backends.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import orjson
import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from projections.errors import DatabaseUnavailable
from storage.schema import LOCK_SCHEMA, use_wal

#: Seconds since its last use within which a pooled connection is used without a ping.
RECENTLY_USED = 2.0


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Database(ABC):
    dialect: str

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction: everything done through it commits together or not at all."""

    @abstractmethod
    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """A connection for queries."""

    @abstractmethod
    def close(self) -> None: ...

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.reading() as tx:
            return tx.all(sql, params)

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        with self.reading() as tx:
            return tx.one(sql, params)


class Transaction:
    """A cursor that speaks ``?`` placeholders and returns dict rows on both backends."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self.cursor = cursor
        self.dialect = dialect
        #: Values worth working out once per transaction and sharing between read
        #: models (an event's JSON, say); they go with the transaction.
        self.shared: dict[Any, Any] = {}

    def sql(self, text: str) -> str:
        return _to_psycopg(text) if self.dialect == "postgres" else text

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self.sql(sql), params)

    def lock_schema(self) -> None:
        """Wait until no other process is creating or changing tables (until commit)."""
        if self.dialect == "postgres":
            self.cursor.execute(LOCK_SCHEMA)

    def analyze(self, tables: Sequence[str]) -> None:
        """Gather the query planner's statistics on these tables (after filling them)."""
        if self.dialect == "postgres":
            self.cursor.execute(f"ANALYZE {', '.join(tables)}")
        else:
            for table in tables:
                self.cursor.execute(f"ANALYZE {table}")

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor.executemany(self.sql(sql), rows)

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Append rows in one go: on PostgreSQL one INSERT of a few rows (while following
        the log) or COPY (more rows, as in a rebuild: COPY takes two round trips, an INSERT
        one); on SQLite one prepared INSERT."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.dialect == "postgres":
            if len(rows) <= FEW_ROWS:
                row = f"({', '.join(['%s'] * len(columns))})"
                self.cursor.execute(
                    f"INSERT INTO {table} ({names}) VALUES {', '.join([row] * len(rows))}",
                    [value for values in rows for value in values],
                )
                return
            with self.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                copy.write(copy_text(rows))
        else:
            marks = ", ".join("?" * len(columns))
            self.cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def update_many(
        self, table: str, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Set ``columns`` of many rows found by ``key``; each row is the columns' values
        followed by its key. One statement on PostgreSQL, one prepared UPDATE on SQLite."""
        if not rows:
            return
        if self.dialect == "postgres":
            # The rows travel as one JSON array, typed by the table's own row type.
            names = (*columns, key)
            assignments = ", ".join(f"{c} = v.{c}" for c in columns)
            self.cursor.execute(
                f"UPDATE {table} AS t SET {assignments}"
                f" FROM json_populate_recordset(NULL::{table}, %s) AS v"
                f" WHERE t.{key} = v.{key}",
                (orjson.dumps([dict(zip(names, row, strict=True)) for row in rows]).decode(),),
            )
        else:
            assignments = ", ".join(f"{c} = ?" for c in columns)
            self.cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {key} = ?", rows)

    def secondary_indexes(self, tables: Sequence[str]) -> list[tuple[str, str]]:
        """(name, definition) of the indexes on ``tables`` that no constraint needs."""
        marks = ", ".join("?" * len(tables))
        if self.dialect == "postgres":
            sql = (
                "SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i"
                f" WHERE i.schemaname = current_schema() AND i.tablename IN ({marks})"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname"
                " AND c.connamespace = current_schema()::regnamespace)"
                " ORDER BY i.indexname"
            )
        else:
            sql = (
                "SELECT name, sql AS definition FROM sqlite_master WHERE type = 'index'"
                f" AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY name"
            )
        return [(row["name"], row["definition"]) for row in self.all(sql, tables)]

    def all_in(
        self,
        sql: str,
        keys: Iterable[Any],
        params: Sequence[Any] = (),
        *,
        then: str = "",
        chunk: int = 500,
    ) -> list[dict[str, Any]]:
        """Rows for many keys: ``sql`` ends with ``IN`` and gets the key list, chunk by
        chunk, followed by ``then`` (which must not take parameters)."""
        keys = list(dict.fromkeys(keys))
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), chunk):
            part = keys[start : start + chunk]
            marks = ", ".join("?" * len(part))
            found.extend(self.all(f"{sql} ({marks}) {then}", [*params, *part]))
        return found

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.cursor.execute(self.sql(sql), params)
        return [dict(row) for row in self.cursor.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        self.cursor.execute(self.sql(sql), params)
        row = self.cursor.fetchone()
        return dict(row) if row is not None else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(sql, params)
        return None if row is None else next(iter(row.values()))


#: Up to this many rows are appended by one INSERT rather than COPY (PostgreSQL).
FEW_ROWS = 16

_COPY_SPECIAL = re.compile(r"[\\\n\r\t]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if type(value) is str:
        return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value
    return _copy_other(value)


def _copy_other(value: Any) -> str:
    if type(value) is bool:
        return "t" if value else "f"
    if type(value) is int:
        return str(value)
    raise TypeError(f"cannot COPY a {type(value).__name__}")


def copy_text(rows: Iterable[Sequence[Any]]) -> str:
    """Rows in PostgreSQL's COPY text format (tab-separated, ``\\N`` for NULL), in one string.

    One ``write`` of this is several times faster than ``write_row`` per row. Each
    row is joined as it is and checked as a whole; only a row with something to
    escape (a tab, newline, carriage return, backslash or NUL in a value) is
    written field by field.
    """
    lines = []
    for row in rows:
        line = "\t".join(
            ["\0" if v is None else v if type(v) is str else _copy_other(v) for v in row]
        )
        nones = row.count(None)
        if (
            "\\" not in line
            and "\n" not in line
            and "\r" not in line
            and line.count("\t") == len(row) - 1
            and line.count("\0") == nones
        ):
            lines.append(line.replace("\0", "\\N") if nones else line)
        else:
            lines.append("\t".join([_copy_field(v) for v in row]))
    lines.append("")
    return "\n".join(lines)


@lru_cache(maxsize=1024)
def _to_psycopg(text: str) -> str:
    return text.replace("%", "%%").replace("?", "%s")


class SQLiteDatabase(Database):
    """One connection per thread; writers take turns (SQLite allows one at a time)."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        use_wal(path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        conn = self._connection()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(conn.cursor(), self.dialect)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            yield Transaction(conn.cursor(), self.dialect)
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:
                    pass  # closed from another thread already
            self._connections.clear()
        self._local = threading.local()


class PostgresDatabase(Database):
    dialect = "postgres"

    def __init__(self, conninfo: str, *, pool_size: int = 5, timeout: float = 5.0) -> None:
        self._returned: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            # Autocommit: a read is one round trip, not BEGIN, the query and COMMIT (read
            # committed gives each statement its own snapshot either way); a transaction
            # is begun and ended by ``transaction`` itself.
            kwargs={
                "row_factory": dict_row,
                "connect_timeout": max(1, int(timeout)),
                "autocommit": True,
            },
            timeout=timeout,
            check=self._check,
            reset=self._returning,
            open=True,
        )

    def _returning(self, conn: Any) -> None:
        self._returned[conn] = time.monotonic()

    def _check(self, conn: Any) -> None:
        """Ping a connection before use only if it sat idle: one that was in use a moment
        ago is alive, and a ping per query would cost a round trip each time."""
        if time.monotonic() - self._returned.get(conn, 0.0) > RECENTLY_USED:
            ConnectionPool.check_connection(conn)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with (
            _unavailable_as_error(),
            self.pool.connection() as conn,
            conn.transaction(),
            conn.cursor() as cur,
        ):
            yield Transaction(cur, self.dialect)

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        with _unavailable_as_error(), self.pool.connection() as conn, conn.cursor() as cur:
            yield Transaction(cur, self.dialect)

    def close(self) -> None:
        self.pool.close()


@contextmanager
def _unavailable_as_error() -> Iterator[None]:
    """A lost connection or an exhausted pool is "unavailable", not a bug."""
    try:
        yield
    except (psycopg.OperationalError, PoolTimeout) as error:
        raise DatabaseUnavailable(str(error).strip().splitlines()[0]) from error


def postgres_conninfo(parts: dict[str, str]) -> str:
    return psycopg.conninfo.make_conninfo(**parts)
