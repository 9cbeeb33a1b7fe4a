"""Setting up a store that several processes share: the schema lock and the switch to WAL.

Every Waymark process (server workers, projection workers, rebuild processes)
may create tables at start; these keep them from tripping over each other,
for the event store (``services.chained_recorders``) and the read models
(``projections.database``) alike.
"""

from __future__ import annotations

import fcntl
import sqlite3
from pathlib import Path

#: Takes the PostgreSQL advisory lock under which every Waymark process creates or
#: changes tables, until commit: concurrent DDL on one catalog row (``CREATE OR REPLACE
#: FUNCTION``, say) fails with "tuple concurrently updated". (SQLite has one writer.)
LOCK_SCHEMA = f"SELECT pg_advisory_xact_lock({0x5761796D61726B})"  # "Waymark"


def use_wal(path: Path) -> None:
    """Put an SQLite file (made if missing) in write-ahead-log mode, once.

    The switch needs the file to itself: processes opening a new store together
    would each try it, and all but one fail with "database is locked" (SQLite's
    busy timeout does not cover it). So it is made under a lock on a file beside
    it; once made it lasts, and every later connection finds the file in WAL mode.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_name(f"{path.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        conn = sqlite3.connect(path, timeout=30)
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()
