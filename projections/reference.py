"""Who each project and council is: the small reference data read models show by name.

A read model that shows entries keeps its own copy (tables named with its
prefix), so that it can be rebuilt on its own. ``projections.entries.EntryReadModel``
keeps the copy current before its own handler sees an event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.council import Council
from domain.project import Project
from projections.base import Batch, Digest, Positioned, Table, digest
from projections.database import Transaction

PROJECT_COLUMNS = ("project_id", "cohort_id", "council_code", "title", "phase", "statements")
COUNCIL_COLUMNS = ("council_id", "code", "name")


class ProjectsAndCouncils:
    def __init__(self, prefix: str) -> None:
        self.projects = f"{prefix}_projects"
        self.councils = f"{prefix}_councils"

    @property
    def tables(self) -> tuple[str, str]:
        return (self.projects, self.councils)

    def create_tables(self, tx: Transaction) -> None:
        tx.execute(
            f"CREATE TABLE {self.projects} (project_id TEXT PRIMARY KEY,"
            " cohort_id TEXT NOT NULL, council_code TEXT NOT NULL, title TEXT NOT NULL,"
            " phase TEXT, statements INTEGER NOT NULL)"
        )
        tx.execute(
            f"CREATE TABLE {self.councils} (council_id TEXT PRIMARY KEY,"
            " code TEXT NOT NULL UNIQUE, name TEXT NOT NULL)"
        )

    def batch_tables(self) -> tuple[Table, Table]:
        return (
            Table(self.projects, "project_id", PROJECT_COLUMNS),
            Table(self.councils, "council_id", COUNCIL_COLUMNS),
        )

    def prefetch(self, events: Sequence[Positioned], batch: Batch) -> None:
        projects, councils = set(), set()
        tx = batch.tx
        for position, event in events:
            if isinstance(event, Project.EntryRecorded):
                projects.add(digest(tx, position, event).project_id)
            elif isinstance(event, Council.ProfileUpdated):
                councils.add(str(event.originator_id))
        batch[self.projects].load(batch.tx, projects)
        batch[self.councils].load(batch.tx, councils)

    def follow(self, position: int, event: Any, batch: Batch) -> None:
        if isinstance(event, Project.EntryRecorded):
            if isinstance(event, Project.PhaseChanged):
                project_id = digest(batch.tx, position, event).project_id
                batch[self.projects].change(project_id, phase=event.phase)
            elif isinstance(event, Project.ProblemStatementIterated):
                project_id = digest(batch.tx, position, event).project_id
                project = batch[self.projects].get(project_id)
                assert project is not None, f"entry {event.entry_id} of an unknown project"
                batch[self.projects].change(project_id, statements=project["statements"] + 1)
        elif isinstance(event, Project.Started):
            batch[self.projects].add(
                {
                    "project_id": str(event.originator_id),
                    "cohort_id": str(event.cohort_id),
                    "council_code": event.council_code,
                    "title": event.title,
                    "phase": None,
                    "statements": 0,
                }
            )
        elif isinstance(event, Council.Registered):
            batch[self.councils].add(
                {"council_id": str(event.originator_id), "code": event.code, "name": event.name}
            )
        elif isinstance(event, Council.ProfileUpdated) and "name" in event.changes:
            batch[self.councils].change(str(event.originator_id), name=event.changes["name"])

    def project(self, entry: Digest, batch: Batch) -> dict[str, Any]:
        project = batch[self.projects].get(entry.project_id)
        assert project is not None, f"entry {entry.entry_id} of an unknown project"
        return project
