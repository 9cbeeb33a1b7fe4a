"""Cohort timeline: one row per entry across a cohort's projects, newest first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any

from domain.project import Project
from projections.base import Batch, Table, decode_cursor, digest, encode_cursor
from projections.database import Database, Transaction
from projections.reference import EntryReadModel, ProjectsAndCouncils

ORDERS = ("recorded_at", "decided_on")


ENTRY_COLUMNS = (
    "position",
    "entry_id",
    "cohort_id",
    "project_id",
    "council_code",
    "kind",
    "decided_on",
    "recorded_at",
    "actor",
    "phase",
    "summary",
    "entry_values",
    "corrects",
    "superseded_by",
    "superseded_at",
)


class CohortTimeline(EntryReadModel):
    name = "cohort_timeline"
    version = 3  # 3: amounts of money in summaries as £125,000.00
    rebuild_weight = 3
    reference = ProjectsAndCouncils("tl")
    tables = ("tl_entries", *reference.tables)

    def create_tables(self, tx: Transaction) -> None:
        self.create_reference_tables(tx)
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

    def start_batch(self, tx: Transaction) -> Batch:
        return Batch(
            tx, *self.reference.batch_tables(), Table("tl_entries", "entry_id", ENTRY_COLUMNS)
        )

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        pass

    @handle.register
    def _entry_recorded(self, event: Project.EntryRecorded, position: int, batch: Batch) -> None:
        entry = digest(batch.tx, position, event)
        project = self.reference.project(entry, batch)
        corrects = None
        entries = batch["tl_entries"]
        if isinstance(event, Project.EntryCorrected):
            corrects = str(event.corrects)
            entries.change(corrects, superseded_by=entry.entry_id, superseded_at=entry.recorded_at)
        entries.add(
            {
                "position": position,
                "entry_id": entry.entry_id,
                "cohort_id": project["cohort_id"],
                "project_id": entry.project_id,
                "council_code": project["council_code"],
                "kind": entry.kind,
                "decided_on": entry.decided_on,
                "recorded_at": entry.recorded_at,
                "actor": event.actor,
                "phase": project["phase"],
                "summary": entry.summary,
                "entry_values": entry.json,
                "corrects": corrects,
                "superseded_by": None,
                "superseded_at": None,
            }
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
            (position,) = decode_cursor(query.cursor, 1)
            where.append("e.position < ?")
            params.append(position)
    else:
        order_by = "e.decided_on DESC, e.position DESC"
        if query.cursor:
            decided_on, position = decode_cursor(query.cursor, 2)
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
