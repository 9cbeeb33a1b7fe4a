"""Project history: every entry of one project, both dates, actor, corrections linked both ways."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import singledispatchmethod
from typing import Any

from domain.project import Project
from projections.base import Batch, Positioned, Table, digest, to_json
from projections.database import Database, Transaction
from projections.reference import EntryReadModel, ProjectsAndCouncils

ENTRY_COLUMNS = (
    "position",
    "entry_id",
    "project_id",
    "kind",
    "decided_on",
    "recorded_at",
    "actor",
    "entry_values",
    "effective",
    "statement_version",
    "corrects",
    "superseded_by",
    "superseded_at",
)


class ProjectHistory(EntryReadModel):
    name = "project_history"
    version = 1
    rebuild_weight = 3
    reference = ProjectsAndCouncils("hist")
    tables = ("hist_entries", *reference.tables)

    def create_tables(self, tx: Transaction) -> None:
        self.create_reference_tables(tx)
        tx.execute(
            "CREATE TABLE hist_entries ("
            " position BIGINT PRIMARY KEY,"
            " entry_id TEXT NOT NULL UNIQUE,"
            " project_id TEXT NOT NULL,"
            " kind TEXT NOT NULL,"
            " decided_on TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL,"
            " actor TEXT NOT NULL,"
            " entry_values TEXT NOT NULL,"
            " effective TEXT,"
            " statement_version INTEGER,"
            " corrects TEXT,"
            " superseded_by TEXT,"
            " superseded_at TEXT)"
        )
        tx.execute("CREATE INDEX hist_entries_project ON hist_entries (project_id, position)")

    def start_batch(self, tx: Transaction) -> Batch:
        return Batch(
            tx, *self.reference.batch_tables(), Table("hist_entries", "entry_id", ENTRY_COLUMNS)
        )

    def prefetch(self, events: Sequence[Positioned], batch: Batch) -> None:
        # A correction needs the values in force for the entry it corrects.
        corrected = [str(e.corrects) for _, e in events if isinstance(e, Project.EntryCorrected)]
        batch["hist_entries"].load(batch.tx, corrected)

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        pass

    @handle.register
    def _entry_recorded(self, event: Project.EntryRecorded, position: int, batch: Batch) -> None:
        entry = digest(batch.tx, position, event)
        project = self.reference.project(entry, batch)
        entries = batch["hist_entries"]
        corrects = effective = statement_version = None
        if isinstance(event, Project.EntryCorrected):
            corrects = str(event.corrects)
            target = entries.get(corrects)
            assert target is not None, f"correction of an unknown entry {corrects}"
            base = json.loads(target["effective"] or target["entry_values"])
            effective = to_json({**base, **event.replacement})
            entries.change(corrects, superseded_by=entry.entry_id, superseded_at=entry.recorded_at)
        elif isinstance(event, Project.ProblemStatementIterated):
            statement_version = project["statements"]
        entries.add(
            {
                "position": position,
                "entry_id": entry.entry_id,
                "project_id": entry.project_id,
                "kind": entry.kind,
                "decided_on": entry.decided_on,
                "recorded_at": entry.recorded_at,
                "actor": event.actor,
                "entry_values": entry.json,
                "effective": effective,
                "statement_version": statement_version,
                "corrects": corrects,
                "superseded_by": None,
                "superseded_at": None,
            }
        )


def project_history(
    db: Database, project_id: str, as_of: str | None = None
) -> dict[str, Any] | None:
    """The project and every entry in the order recorded; None if the project is unknown.

    With ``as_of`` (an instant as ``instant`` writes it), entries recorded later are
    absent and corrections recorded later do not mark what they corrected.
    """
    with db.reading() as tx:
        project = tx.one(
            "SELECT p.project_id, p.cohort_id, p.council_code, c.name AS council_name, p.title,"
            " p.phase FROM hist_projects p LEFT JOIN hist_councils c ON c.code = p.council_code"
            " WHERE p.project_id = ?",
            (project_id,),
        )
        if project is None:
            return None
        where, params = "project_id = ?", [project_id]
        if as_of is not None:
            where += " AND recorded_at <= ?"
            params.append(as_of)
        rows = tx.all(f"SELECT * FROM hist_entries WHERE {where} ORDER BY position", params)
    entries = []
    for row in rows:
        if as_of is not None and row["superseded_at"] and row["superseded_at"] > as_of:
            row["superseded_by"] = None
        entry = {
            **json.loads(row["entry_values"]),
            "entry_id": row["entry_id"],
            "kind": row["kind"],
            "decided_on": row["decided_on"],
            "recorded_at": row["recorded_at"],
            "actor": row["actor"],
            "position": row["position"],
            "corrects": row["corrects"],
            "superseded_by": row["superseded_by"],
        }
        if row["effective"] is not None:
            entry["effective"] = json.loads(row["effective"])
        if row["statement_version"] is not None:
            entry["statement_version"] = row["statement_version"]
        entries.append(entry)
    if as_of is not None:
        phases = [e["phase"] for e in entries if e["kind"] == "phase_changed"]
        project["phase"] = phases[-1] if phases else None
    project["problem_statements"] = [
        {"version": e["statement_version"], "entry_id": e["entry_id"]}
        for e in entries
        if "statement_version" in e
    ]
    project["entries"] = entries
    return project
