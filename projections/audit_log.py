"""Audit log: one row per event of every aggregate, in the order of the log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.project import Project
from domain.user import User
from projections.base import Positioned, ReadModel, decode_cursor, digest, keyset_page
from projections.database import Database, Transaction
from projections.summaries import summarise_event
from storage.times import instant

COLUMNS = (
    "position",
    "recorded_at",
    "actor",
    "aggregate_type",
    "aggregate_id",
    "aggregate_version",
    "event",
    "summary",
    "entry_kind",
    "decided_on",
    "subject",
)


def event_name(event: Any) -> tuple[str, str]:
    """(aggregate type, event name) from the event's class, e.g. ("Project", "CapacityDecided")."""
    qualname = type(event).__qualname__
    aggregate, _, name = qualname.rpartition(".")
    return aggregate.rpartition(".")[2] or type(event).__module__, name


class AuditLog(ReadModel):
    name = "audit_log"
    # 2: amounts of money in summaries as £125,000.00; 3: an entry's kind and decided
    # date, a user's name (``subject``), and users' role changes in words; 4: choices
    # in summaries as their words say them ("From LGA", not "From lga")
    version = 4
    rebuild_weight = 2
    tables = ("audit_log", "audit_users")

    def create_tables(self, tx: Transaction) -> None:
        tx.execute(
            "CREATE TABLE audit_log (position BIGINT PRIMARY KEY, recorded_at TEXT NOT NULL,"
            " actor TEXT NOT NULL, aggregate_type TEXT NOT NULL, aggregate_id TEXT NOT NULL,"
            " aggregate_version INTEGER NOT NULL, event TEXT NOT NULL, summary TEXT NOT NULL,"
            " entry_kind TEXT, decided_on TEXT, subject TEXT NOT NULL)"
        )
        # A user's events name the user only in the first: the name, by the user's id.
        tx.execute("CREATE TABLE audit_users (user_id TEXT PRIMARY KEY, username TEXT NOT NULL)")
        tx.execute("CREATE INDEX audit_log_actor ON audit_log (actor, position)")
        tx.execute("CREATE INDEX audit_log_aggregate ON audit_log (aggregate_id, position)")
        tx.execute("CREATE INDEX audit_log_type ON audit_log (aggregate_type, position)")
        tx.execute("CREATE INDEX audit_log_kind ON audit_log (event, position)")

    def process(self, events: Sequence[Positioned], tx: Transaction) -> None:
        rows = []
        names: dict[type, tuple[str, str]] = {}
        users = self._users(events, tx)
        for position, event in events:
            cls = type(event)
            found = names.get(cls)
            if found is None:
                found = names[cls] = event_name(event)
            kind = decided_on = None
            subject = ""
            if isinstance(event, Project.EntryRecorded):
                # Worked out once for every read model that shows the entry.
                entry = digest(tx, position, event)
                recorded_at, aggregate_id, summary = (
                    entry.recorded_at,
                    entry.project_id,
                    entry.summary,
                )
                kind, decided_on = entry.kind, entry.decided_on
            else:
                recorded_at = instant(event.timestamp)
                aggregate_id = str(event.originator_id)
                summary = summarise_event(event)
                if isinstance(event, User.Registered):
                    users[aggregate_id] = event.username
                    tx.execute(
                        "INSERT INTO audit_users VALUES (?, ?)", (aggregate_id, event.username)
                    )
                if found[0] == "User":
                    subject = users.get(aggregate_id, "")
            rows.append(
                (
                    position,
                    recorded_at,
                    str(getattr(event, "actor", "") or ""),
                    found[0],
                    aggregate_id,
                    event.originator_version,
                    found[1],
                    summary,
                    kind,
                    decided_on,
                    subject,
                )
            )
        tx.insert_many("audit_log", COLUMNS, rows)

    @staticmethod
    def _users(events: Sequence[Positioned], tx: Transaction) -> dict[str, str]:
        """The names of the users whose events are in the batch, as far as known before it."""
        ids = {str(e.originator_id) for _, e in events if event_name(e)[0] == "User"}
        if not ids:
            return {}
        rows = tx.all_in("SELECT user_id, username FROM audit_users WHERE user_id IN", ids)
        return {row["user_id"]: row["username"] for row in rows}


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    aggregate: str | None = None
    aggregate_type: str | None = None
    event: str | None = None
    since: str | None = None
    until: str | None = None
    order: str = "asc"
    cursor: str | None = None
    limit: int = 100


def audit_log(db: Database, query: AuditQuery) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the log, and the cursor of the next page (or None at the end)."""
    where, params = ["1 = 1"], []
    for column, value in (
        ("actor", query.actor),
        ("aggregate_id", query.aggregate),
        ("aggregate_type", query.aggregate_type),
        ("event", query.event),
    ):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if query.since:
        where.append("recorded_at >= ?")
        params.append(query.since)
    if query.until:
        where.append("recorded_at <= ?")
        params.append(query.until)
    ascending = query.order == "asc"
    if query.cursor:
        (after,) = decode_cursor(query.cursor, 1)
        where.append("position > ?" if ascending else "position < ?")
        params.append(after)
    return keyset_page(
        db,
        f"SELECT {', '.join(COLUMNS)} FROM audit_log WHERE {' AND '.join(where)}"
        f" ORDER BY position {'ASC' if ascending else 'DESC'}",
        params,
        query.limit,
        ("position",),
    )


def first_recorded(db: Database) -> str | None:
    """When the earliest change to the record was recorded (None if there is none)."""
    row = db.one("SELECT MIN(recorded_at) AS at FROM audit_log")
    return None if row is None or row["at"] is None else str(row["at"])
