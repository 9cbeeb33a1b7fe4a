"""Directory: the programmes, cohorts, councils and projects there are, for listings."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from domain.cohort import Cohort
from domain.council import Council
from domain.programme import Programme
from domain.project import Project
from projections.base import Batch, ReadModel, instant
from projections.database import Database, Transaction

COUNCIL_COLUMNS = ("name", "council_type", "region", "population", "political_control")


class Directory(ReadModel):
    name = "directory"
    version = 2
    tables = ("dir_programmes", "dir_cohorts", "dir_councils", "dir_projects")

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        pass

    def create_tables(self, tx: Transaction) -> None:
        tx.execute(
            "CREATE TABLE dir_programmes (programme_id TEXT PRIMARY KEY, name TEXT NOT NULL,"
            " description TEXT NOT NULL, sponsor_body TEXT NOT NULL, launched_at TEXT NOT NULL)"
        )
        tx.execute(
            "CREATE TABLE dir_cohorts (cohort_id TEXT PRIMARY KEY, programme_id TEXT NOT NULL,"
            " name TEXT NOT NULL, starts_on TEXT NOT NULL, ends_on TEXT NOT NULL,"
            " closed INTEGER NOT NULL DEFAULT 0)"
        )
        tx.execute("CREATE INDEX dir_cohorts_programme ON dir_cohorts (programme_id, starts_on)")
        tx.execute(
            "CREATE TABLE dir_councils (code TEXT PRIMARY KEY, name TEXT NOT NULL,"
            " council_type TEXT NOT NULL, region TEXT NOT NULL, population BIGINT,"
            " gss_code TEXT NOT NULL, political_control TEXT NOT NULL, council_id TEXT NOT NULL)"
        )
        tx.execute(
            "CREATE TABLE dir_projects (project_id TEXT PRIMARY KEY, cohort_id TEXT NOT NULL,"
            " council_code TEXT NOT NULL, title TEXT NOT NULL,"
            " withdrawn INTEGER NOT NULL DEFAULT 0)"
        )
        tx.execute("CREATE INDEX dir_projects_cohort ON dir_projects (cohort_id, council_code)")

    @handle.register
    def _programme_launched(self, event: Programme.Launched, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "INSERT INTO dir_programmes VALUES (?, ?, ?, ?, ?)",
            (
                str(event.originator_id),
                event.name,
                event.description,
                event.sponsor_body,
                instant(event.timestamp),
            ),
        )

    @handle.register
    def _programme_renamed(self, event: Programme.Renamed, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "UPDATE dir_programmes SET name = ? WHERE programme_id = ?",
            (event.name, str(event.originator_id)),
        )

    @handle.register
    def _cohort_formed(self, event: Cohort.Formed, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "INSERT INTO dir_cohorts VALUES (?, ?, ?, ?, ?, 0)",
            (
                str(event.originator_id),
                str(event.programme_id),
                event.name,
                event.starts_on.isoformat(),
                event.ends_on.isoformat(),
            ),
        )

    @handle.register
    def _cohort_closed(self, event: Cohort.Closed, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "UPDATE dir_cohorts SET closed = 1 WHERE cohort_id = ?", (str(event.originator_id),)
        )

    @handle.register
    def _council_registered(self, event: Council.Registered, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "INSERT INTO dir_councils VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.code,
                event.name,
                event.council_type,
                event.region,
                event.population,
                event.gss_code,
                event.political_control,
                str(event.originator_id),
            ),
        )

    @handle.register
    def _council_profile_updated(
        self, event: Council.ProfileUpdated, position: int, batch: Batch
    ) -> None:
        changes = {k: v for k, v in event.changes.items() if k in COUNCIL_COLUMNS}
        if changes:
            batch.tx.execute(
                f"UPDATE dir_councils SET {', '.join(f'{k} = ?' for k in changes)}"
                " WHERE council_id = ?",
                (*changes.values(), str(event.originator_id)),
            )

    @handle.register
    def _gss_code_changed(self, event: Council.GssCodeChanged, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "UPDATE dir_councils SET gss_code = ? WHERE council_id = ?",
            (event.gss_code, str(event.originator_id)),
        )

    @handle.register
    def _project_started(self, event: Project.Started, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "INSERT INTO dir_projects VALUES (?, ?, ?, ?, 0)",
            (str(event.originator_id), str(event.cohort_id), event.council_code, event.title),
        )

    @handle.register
    def _project_withdrawn(self, event: Project.Withdrawn, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "UPDATE dir_projects SET withdrawn = 1 WHERE project_id = ?",
            (str(event.originator_id),),
        )


def list_programmes(db: Database) -> list[dict[str, Any]]:
    return db.all("SELECT * FROM dir_programmes ORDER BY launched_at DESC, programme_id")


def list_cohorts(db: Database, programme_id: str) -> list[dict[str, Any]]:
    return db.all(
        "SELECT * FROM dir_cohorts WHERE programme_id = ? ORDER BY starts_on, name",
        (programme_id,),
    )


def list_councils(db: Database) -> list[dict[str, Any]]:
    return db.all("SELECT * FROM dir_councils ORDER BY name, code")


def list_projects(db: Database, cohort_id: str) -> list[dict[str, Any]]:
    return db.all(
        "SELECT p.*, c.name AS council_name FROM dir_projects p"
        " LEFT JOIN dir_councils c ON c.code = p.council_code"
        " WHERE p.cohort_id = ? ORDER BY c.name, p.council_code",
        (cohort_id,),
    )


def cohorts_of_programmes_or_councils(
    db: Database, programme_ids: set[str], council_codes: set[str]
) -> frozenset[str]:
    """Cohorts of the given programmes, and cohorts in which the given councils are enrolled."""
    cohorts = db.all("SELECT cohort_id, programme_id FROM dir_cohorts")
    projects = db.all("SELECT cohort_id, council_code FROM dir_projects")
    found = {c["cohort_id"] for c in cohorts if c["programme_id"] in programme_ids}
    found |= {p["cohort_id"] for p in projects if p["council_code"] in council_codes}
    return frozenset(found)
