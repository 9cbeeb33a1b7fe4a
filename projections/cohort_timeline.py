"""Cohort timeline: one row per entry across a cohort's projects, newest first."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any

from domain.council import Council
from domain.project import Project
from projections.base import ReadModel, instant, to_json
from projections.database import Database, Transaction
from projections.summaries import summarise_entry

ORDERS = ("recorded_at", "decided_on")


class CohortTimeline(ReadModel):
    name = "cohort_timeline"
    version = 1
    tables = ("tl_entries", "tl_projects", "tl_councils")

    def create_tables(self, tx: Transaction) -> None:
        tx.execute("CREATE TABLE tl_councils (code TEXT PRIMARY KEY, name TEXT NOT NULL)")
        tx.execute(
            "CREATE TABLE tl_projects (project_id TEXT PRIMARY KEY, cohort_id TEXT NOT NULL,"
            " council_code TEXT NOT NULL, title TEXT NOT NULL, phase TEXT)"
        )
        tx.execute(
            "CREATE TABLE tl_entries ("
            " position BIGINT PRIMARY KEY,"
            " entry_id TEXT NOT NULL UNIQUE,"
            " cohort_id TEXT NOT NULL,"
            " project_id TEXT NOT NULL,"
            " council_code TEXT NOT NULL,"
            " kind TEXT NOT NULL,"
            " decided_on TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL,"
            " actor TEXT NOT NULL,"
            " phase TEXT,"
            " summary TEXT NOT NULL,"
            " entry_values TEXT NOT NULL,"
            " corrects TEXT,"
            " superseded_by TEXT,"
            " superseded_at TEXT)"
        )
        tx.execute("CREATE INDEX tl_entries_recorded ON tl_entries (cohort_id, position)")
        tx.execute(
            "CREATE INDEX tl_entries_decided ON tl_entries (cohort_id, decided_on, position)"
        )

    @singledispatchmethod
    def handle(self, event: object, position: int, tx: Transaction) -> None:
        pass

    @handle.register
    def _council_registered(
        self, event: Council.Registered, position: int, tx: Transaction
    ) -> None:
        tx.execute("INSERT INTO tl_councils VALUES (?, ?)", (event.code, event.name))

    @handle.register
    def _project_started(self, event: Project.Started, position: int, tx: Transaction) -> None:
        tx.execute(
            "INSERT INTO tl_projects VALUES (?, ?, ?, ?, NULL)",
            (str(event.originator_id), str(event.cohort_id), event.council_code, event.title),
        )

    @handle.register
    def _entry_recorded(self, event: Project.EntryRecorded, position: int, tx: Transaction) -> None:
        project_id = str(event.originator_id)
        project = tx.one(
            "SELECT cohort_id, council_code, phase FROM tl_projects WHERE project_id = ?",
            (project_id,),
        )
        assert project is not None, f"entry {event.entry_id} of an unknown project"
        values = event.values()
        phase = project["phase"]
        if isinstance(event, Project.PhaseChanged):
            phase = event.phase
            tx.execute("UPDATE tl_projects SET phase = ? WHERE project_id = ?", (phase, project_id))
        corrects = None
        if isinstance(event, Project.EntryCorrected):
            corrects = str(event.corrects)
            tx.execute(
                "UPDATE tl_entries SET superseded_by = ?, superseded_at = ? WHERE entry_id = ?",
                (str(event.entry_id), instant(event.timestamp), corrects),
            )
        tx.execute(
            "INSERT INTO tl_entries (position, entry_id, cohort_id, project_id, council_code,"
            " kind, decided_on, recorded_at, actor, phase, summary, entry_values, corrects)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                position,
                str(event.entry_id),
                project["cohort_id"],
                project_id,
                project["council_code"],
                event.KIND,
                event.decided_on.isoformat(),
                instant(event.timestamp),
                event.actor,
                phase,
                summarise_entry(event.KIND, values),
                to_json(values),
                corrects,
            ),
        )


@dataclass(frozen=True)
class TimelineQuery:
    cohort_id: str
    kind: str | None = None
    council: str | None = None
    phase: str | None = None
    since: str | None = None
    until: str | None = None
    as_of: str | None = None
    order: str = "recorded_at"
    cursor: str | None = None
    limit: int = 50


class BadCursor(ValueError):
    pass


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, order: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except ValueError:
        raise BadCursor("cursor is not one this server gave out") from None
    expected = 1 if order == "recorded_at" else 2
    if not isinstance(key, list) or len(key) != expected or not isinstance(key[-1], int):
        raise BadCursor("cursor does not belong to this ordering")
    return key


def timeline(db: Database, query: TimelineQuery) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the timeline, newest first, and the cursor of the next page (or None)."""
    where = ["e.cohort_id = ?"]
    params: list[Any] = [query.cohort_id]
    for column, value in (("e.kind", query.kind), ("e.council_code", query.council)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if query.phase:
        where.append("e.phase = ?")
        params.append(query.phase)
    if query.since:
        where.append("e.decided_on >= ?")
        params.append(query.since)
    if query.until:
        where.append("e.decided_on <= ?")
        params.append(query.until)
    if query.as_of:
        where.append("e.recorded_at <= ?")
        params.append(query.as_of)
    if query.order == "recorded_at":
        order_by = "e.position DESC"
        if query.cursor:
            (position,) = decode_cursor(query.cursor, query.order)
            where.append("e.position < ?")
            params.append(position)
    else:
        order_by = "e.decided_on DESC, e.position DESC"
        if query.cursor:
            decided_on, position = decode_cursor(query.cursor, query.order)
            where.append("(e.decided_on < ? OR (e.decided_on = ? AND e.position < ?))")
            params.extend([decided_on, decided_on, position])
    superseded = "e.superseded_by"
    superseded_at = "e.superseded_at"
    if query.as_of:
        superseded = "CASE WHEN e.superseded_at <= ? THEN e.superseded_by END"
        superseded_at = "CASE WHEN e.superseded_at <= ? THEN e.superseded_at END"
        params = [query.as_of, query.as_of, *params]
    sql = (
        f"SELECT e.position, e.entry_id, e.project_id, e.council_code, c.name AS council_name,"
        f" e.kind, e.decided_on, e.recorded_at, e.actor, e.phase, e.summary, e.entry_values,"
        f" e.corrects, {superseded} AS superseded_by, {superseded_at} AS superseded_at"
        f" FROM tl_entries e LEFT JOIN tl_councils c ON c.code = e.council_code"
        f" WHERE {' AND '.join(where)} ORDER BY {order_by} LIMIT ?"
    )
    rows = db.all(sql, (*params, query.limit + 1))
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        last = rows[-1]
        key = (
            [last["position"]]
            if query.order == "recorded_at"
            else [last["decided_on"], last["position"]]
        )
        next_cursor = encode_cursor(key)
    for row in rows:
        row["values"] = json.loads(row.pop("entry_values"))
    return rows, next_cursor
