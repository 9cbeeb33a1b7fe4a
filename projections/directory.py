"""Directory: the programmes, cohorts, councils and projects there are, for listings,
page headers, access checks, and each project's version and last change."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import singledispatchmethod
from typing import Any

import orjson

from domain.cohort import Cohort
from domain.council import Council
from domain.programme import Programme
from domain.project import Project
from domain.segments import default_mapping
from projections.base import Batch, ReadModel, Table, digest
from projections.database import Database, Transaction
from storage.times import instant

#: A council's profile, as a profile update changes it (lists are kept as JSON).
COUNCIL_COLUMNS = (
    "name",
    "council_type",
    "region",
    "population",
    "political_control",
    "suppliers",
    "tried_before",
    "innovation_history",
)
COUNCIL_LISTS = ("suppliers", "tried_before")
#: What listings, page headers and access checks read of each (``SELECT`` lists): the
#: rest of a row is a record's full state, for reading it whole (``*_record``).
PROGRAMME_ROW = "programme_id, name, description, sponsor_body, launched_at, publishing_allowed"
COHORT_ROW = "cohort_id, programme_id, name, starts_on, ends_on, closed"
COUNCIL_ROW = (
    "code, name, council_type, region, population, gss_code, political_control, council_id"
)
#: A project's columns that every event of the project changes.
PROJECT_CHANGES = ("project_id", "withdrawn", "version", "modified_at")


class Directory(ReadModel):
    name = "directory"
    version = 7  # 7: programmes', cohorts' and councils' whole state and versions
    tables = (
        "dir_programmes",
        "dir_cohorts",
        "dir_councils",
        "dir_projects",
        "dir_partners",
        "dir_withdrawals",
        "dir_council_facts",
    )

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        pass

    def create_tables(self, tx: Transaction) -> None:
        tx.execute(
            "CREATE TABLE dir_programmes (programme_id TEXT PRIMARY KEY, name TEXT NOT NULL,"
            " description TEXT NOT NULL, sponsor_body TEXT NOT NULL, launched_at TEXT NOT NULL,"
            " publishing_allowed INTEGER NOT NULL DEFAULT 0, launched_by TEXT NOT NULL,"
            " segment_mapping TEXT NOT NULL, version INTEGER NOT NULL)"
        )
        tx.execute(
            "CREATE TABLE dir_cohorts (cohort_id TEXT PRIMARY KEY, programme_id TEXT NOT NULL,"
            " name TEXT NOT NULL, starts_on TEXT NOT NULL, ends_on TEXT NOT NULL,"
            " closed INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL)"
        )
        tx.execute("CREATE INDEX dir_cohorts_programme ON dir_cohorts (programme_id, starts_on)")
        # The councils that withdrew from a cohort (Cohort.withdrawn).
        tx.execute(
            "CREATE TABLE dir_withdrawals (cohort_id TEXT NOT NULL, council_code TEXT NOT NULL,"
            " PRIMARY KEY (cohort_id, council_code))"
        )
        tx.execute(
            "CREATE TABLE dir_councils (code TEXT PRIMARY KEY, name TEXT NOT NULL,"
            " council_type TEXT NOT NULL, region TEXT NOT NULL, population BIGINT,"
            " gss_code TEXT NOT NULL, political_control TEXT NOT NULL, council_id TEXT NOT NULL,"
            " suppliers TEXT NOT NULL, tried_before TEXT NOT NULL,"
            " innovation_history TEXT NOT NULL,"
            " declaration_signed_on TEXT, successor_codes TEXT NOT NULL, succeeded_on TEXT,"
            " version INTEGER NOT NULL)"
        )
        # A council's GSS codes, financial contexts and maturity assessments, in the
        # order they were recorded (``kind``: gss_code, financial_context or maturity).
        tx.execute(
            "CREATE TABLE dir_council_facts (position BIGINT PRIMARY KEY,"
            " council_id TEXT NOT NULL, kind TEXT NOT NULL, fact TEXT NOT NULL)"
        )
        tx.execute(
            "CREATE INDEX dir_council_facts_council ON dir_council_facts (council_id, position)"
        )
        tx.execute(
            "CREATE TABLE dir_projects (project_id TEXT PRIMARY KEY, cohort_id TEXT NOT NULL,"
            " council_code TEXT NOT NULL, title TEXT NOT NULL,"
            " withdrawn INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL,"
            " modified_at TEXT NOT NULL)"
        )
        tx.execute("CREATE INDEX dir_projects_cohort ON dir_projects (cohort_id, council_code)")
        # A project's partner councils in force: joined (partner_joined) and not left since.
        tx.execute(
            "CREATE TABLE dir_partners (project_id TEXT NOT NULL, council_code TEXT NOT NULL,"
            " PRIMARY KEY (project_id, council_code))"
        )
        tx.execute("CREATE INDEX dir_partners_council ON dir_partners (council_code)")

    def start_batch(self, tx: Transaction) -> Batch:
        # A record's version (and a project's last change) move with every one of its
        # events: written once per record per batch, not once per event.
        return Batch(
            tx,
            Table("dir_projects", "project_id", PROJECT_CHANGES),
            Table("dir_programmes", "programme_id", ("programme_id", "version")),
            Table("dir_cohorts", "cohort_id", ("cohort_id", "version")),
            Table("dir_councils", "council_id", ("council_id", "version")),
        )

    @handle.register
    def _programme_launched(self, event: Programme.Launched, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "INSERT INTO dir_programmes (programme_id, name, description, sponsor_body,"
            " launched_at, publishing_allowed, launched_by, segment_mapping, version)"
            " VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
            (
                str(event.originator_id),
                event.name,
                event.description,
                event.sponsor_body,
                instant(event.timestamp),
                event.actor,
                _json(default_mapping()),
                event.originator_version,
            ),
        )

    @handle.register
    def _programme_renamed(self, event: Programme.Renamed, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "UPDATE dir_programmes SET name = ? WHERE programme_id = ?",
            (event.name, str(event.originator_id)),
        )
        _moved("dir_programmes", event, batch)

    @handle.register
    def _segments_configured(
        self, event: Programme.SegmentMappingConfigured, position: int, batch: Batch
    ) -> None:
        batch.tx.execute(
            "UPDATE dir_programmes SET segment_mapping = ? WHERE programme_id = ?",
            (_json(dict(event.mapping)), str(event.originator_id)),
        )
        _moved("dir_programmes", event, batch)

    @handle.register
    def _publishing_changed(
        self, event: Programme.PublishingChanged, position: int, batch: Batch
    ) -> None:
        batch.tx.execute(
            "UPDATE dir_programmes SET publishing_allowed = ? WHERE programme_id = ?",
            (int(event.allowed), str(event.originator_id)),
        )
        _moved("dir_programmes", event, batch)

    @handle.register
    def _cohort_formed(self, event: Cohort.Formed, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "INSERT INTO dir_cohorts (cohort_id, programme_id, name, starts_on, ends_on,"
            " closed, version) VALUES (?, ?, ?, ?, ?, 0, ?)",
            (
                str(event.originator_id),
                str(event.programme_id),
                event.name,
                event.starts_on.isoformat(),
                event.ends_on.isoformat(),
                event.originator_version,
            ),
        )

    @handle.register
    def _council_enrolled(self, event: Cohort.CouncilEnrolled, position: int, batch: Batch) -> None:
        _moved("dir_cohorts", event, batch)

    @handle.register
    def _project_added(self, event: Cohort.ProjectStarted, position: int, batch: Batch) -> None:
        _moved("dir_cohorts", event, batch)

    @handle.register
    def _council_withdrew(self, event: Cohort.CouncilWithdrew, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "INSERT INTO dir_withdrawals VALUES (?, ?)",
            (str(event.originator_id), event.council_code),
        )
        _moved("dir_cohorts", event, batch)

    @handle.register
    def _cohort_details_changed(
        self, event: Cohort.DetailsChanged, position: int, batch: Batch
    ) -> None:
        batch.tx.execute(
            "UPDATE dir_cohorts SET name = ?, starts_on = ?, ends_on = ? WHERE cohort_id = ?",
            (
                event.name,
                event.starts_on.isoformat(),
                event.ends_on.isoformat(),
                str(event.originator_id),
            ),
        )
        _moved("dir_cohorts", event, batch)

    @handle.register
    def _session_held(self, event: Cohort.SessionHeld, position: int, batch: Batch) -> None:
        _moved("dir_cohorts", event, batch)

    @handle.register
    def _cohort_closed(self, event: Cohort.Closed, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "UPDATE dir_cohorts SET closed = 1 WHERE cohort_id = ?", (str(event.originator_id),)
        )
        _moved("dir_cohorts", event, batch)

    @handle.register
    def _council_registered(self, event: Council.Registered, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "INSERT INTO dir_councils (code, name, council_type, region, population, gss_code,"
            " political_control, council_id, suppliers, tried_before, innovation_history,"
            " successor_codes, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', '[]', '', '[]', ?)",
            (
                event.code,
                event.name,
                event.council_type,
                event.region,
                event.population,
                event.gss_code,
                event.political_control,
                str(event.originator_id),
                event.originator_version,
            ),
        )
        if event.gss_code:  # the code it was registered with, in effect from no given date
            _council_fact(batch, position, event, "gss_code", [event.gss_code, None])

    @handle.register
    def _council_profile_updated(
        self, event: Council.ProfileUpdated, position: int, batch: Batch
    ) -> None:
        changes = {
            k: _json(v) if k in COUNCIL_LISTS else v
            for k, v in event.changes.items()
            if k in COUNCIL_COLUMNS
        }
        if changes:
            batch.tx.execute(
                f"UPDATE dir_councils SET {', '.join(f'{k} = ?' for k in changes)}"
                " WHERE council_id = ?",
                (*changes.values(), str(event.originator_id)),
            )
        _moved("dir_councils", event, batch)

    @handle.register
    def _gss_code_changed(self, event: Council.GssCodeChanged, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "UPDATE dir_councils SET gss_code = ? WHERE council_id = ?",
            (event.gss_code, str(event.originator_id)),
        )
        fact = [event.gss_code, event.effective_from.isoformat()]
        _council_fact(batch, position, event, "gss_code", fact)

    @handle.register
    def _financial_context_assessed(
        self, event: Council.FinancialContextAssessed, position: int, batch: Batch
    ) -> None:
        fact = {
            "assessed_on": event.assessed_on.isoformat(),
            "demand_pressure": event.demand_pressure,
            "financial_pressure": event.financial_pressure,
            "note": event.note,
        }
        _council_fact(batch, position, event, "financial_context", fact)

    @handle.register
    def _maturity_assessed(
        self, event: Council.MaturityAssessed, position: int, batch: Batch
    ) -> None:
        fact = {
            "assessed_on": event.assessed_on.isoformat(),
            "levels": dict(event.levels),
            "note": event.note,
        }
        _council_fact(batch, position, event, "maturity", fact)

    @handle.register
    def _declaration_signed(
        self, event: Council.DeclarationSigned, position: int, batch: Batch
    ) -> None:
        batch.tx.execute(
            "UPDATE dir_councils SET declaration_signed_on = ? WHERE council_id = ?",
            (event.signed_on.isoformat(), str(event.originator_id)),
        )
        _moved("dir_councils", event, batch)

    @handle.register
    def _succeeded_by(self, event: Council.SucceededBy, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "UPDATE dir_councils SET successor_codes = ?, succeeded_on = ? WHERE council_id = ?",
            (
                _json(list(event.successor_codes)),
                event.effective_from.isoformat(),
                str(event.originator_id),
            ),
        )
        _moved("dir_councils", event, batch)

    @handle.register
    def _project_started(self, event: Project.Started, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "INSERT INTO dir_projects VALUES (?, ?, ?, ?, 0, ?, ?)",
            (
                str(event.originator_id),
                str(event.cohort_id),
                event.council_code,
                event.title,
                event.originator_version,
                instant(event.timestamp),
            ),
        )

    @handle.register
    def _project_withdrawn(self, event: Project.Withdrawn, position: int, batch: Batch) -> None:
        batch["dir_projects"].change(
            str(event.originator_id),
            withdrawn=1,
            version=event.originator_version,
            modified_at=instant(event.timestamp),
        )

    @handle.register
    def _entry_recorded(self, event: Project.EntryRecorded, position: int, batch: Batch) -> None:
        # A correction never changes a partner's council (Project refuses it), so the
        # partners in force follow from joins and leaves alone.
        if event.KIND == "partner_joined":
            batch.tx.execute(
                "INSERT INTO dir_partners VALUES (?, ?)",
                (str(event.originator_id), event.council_code),
            )
        elif event.KIND == "partner_left":
            batch.tx.execute(
                "DELETE FROM dir_partners WHERE project_id = ? AND council_code = ?",
                (str(event.originator_id), event.council_code),
            )
        entry = digest(batch.tx, position, event)  # worked out once for every read model
        batch["dir_projects"].change(
            entry.project_id, version=event.originator_version, modified_at=entry.recorded_at
        )


def _json(value: Any) -> str:
    """Lists and mappings as JSON text, in their own order (a mapping's order is shown)."""
    return orjson.dumps(value).decode()


def _moved(table: str, event: Any, batch: Batch) -> None:
    """The record's version moves to the event's."""
    batch[table].change(str(event.originator_id), version=event.originator_version)


def _council_fact(batch: Batch, position: int, event: Any, kind: str, fact: Any) -> None:
    """A GSS code or an assessment, kept in the order recorded; the council's version moves."""
    batch.tx.execute(
        "INSERT INTO dir_council_facts VALUES (?, ?, ?, ?)",
        (position, str(event.originator_id), kind, _json(fact)),
    )
    _moved("dir_councils", event, batch)


def list_programmes(db: Database) -> list[dict[str, Any]]:
    return db.all(
        f"SELECT {PROGRAMME_ROW} FROM dir_programmes ORDER BY launched_at DESC, programme_id"
    )


def list_cohorts(db: Database, programme_id: str) -> list[dict[str, Any]]:
    return db.all(
        f"SELECT {COHORT_ROW} FROM dir_cohorts WHERE programme_id = ? ORDER BY starts_on, name",
        (programme_id,),
    )


def list_councils(db: Database) -> list[dict[str, Any]]:
    return db.all(f"SELECT {COUNCIL_ROW} FROM dir_councils ORDER BY name, code")


def list_projects(db: Database, cohort_id: str) -> list[dict[str, Any]]:
    return db.all(
        "SELECT p.*, c.name AS council_name FROM dir_projects p"
        " LEFT JOIN dir_councils c ON c.code = p.council_code"
        " WHERE p.cohort_id = ? ORDER BY c.name, p.council_code, p.title, p.project_id",
        (cohort_id,),
    )


def list_projects_of_councils(db: Database, council_codes: Sequence[str]) -> list[dict[str, Any]]:
    """The projects the given councils take part in, as lead or partner, with their
    cohort's and programme's names, the latest cohort first.

    Each row names the council taking part (``member_code``, ``member_name``) and its
    ``role`` (``lead`` or ``partner``); ``council_code`` and ``council_name`` are the
    lead council's. A project two of the councils take part in has a row for each.
    """
    if not council_codes:
        return []
    marks = ", ".join("?" * len(council_codes))
    return db.all(
        "SELECT p.project_id, p.title, p.council_code, p.withdrawn, p.cohort_id,"
        " k.name AS council_name, c.name AS cohort_name, c.starts_on, c.ends_on, c.closed,"
        " c.programme_id, g.name AS programme_name, t.member_code, m.name AS member_name,"
        " t.role FROM ("
        "SELECT project_id, council_code AS member_code, 'lead' AS role FROM dir_projects"
        f" WHERE council_code IN ({marks})"
        " UNION ALL SELECT project_id, council_code AS member_code, 'partner' AS role"
        f" FROM dir_partners WHERE council_code IN ({marks})) t"
        " JOIN dir_projects p ON p.project_id = t.project_id"
        " JOIN dir_cohorts c ON c.cohort_id = p.cohort_id"
        " JOIN dir_programmes g ON g.programme_id = c.programme_id"
        " LEFT JOIN dir_councils k ON k.code = p.council_code"
        " LEFT JOIN dir_councils m ON m.code = t.member_code"
        " ORDER BY c.starts_on DESC, c.name, k.name, p.title, p.project_id, t.role",
        (*council_codes, *council_codes),
    )


def partners_of(db: Database, project_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each project's partner councils in force (codes, sorted), by project id; a
    project without partners is left out."""
    found: dict[str, list[str]] = {}
    if not project_ids:
        return found
    with db.reading() as tx:
        rows = tx.all_in(
            "SELECT project_id, council_code FROM dir_partners WHERE project_id IN",
            list(project_ids),
        )
    for row in sorted(rows, key=lambda r: (r["project_id"], r["council_code"])):
        found.setdefault(row["project_id"], []).append(row["council_code"])
    return found


def projects_partnered_by(db: Database, council_codes: Sequence[str]) -> set[str]:
    """The projects the given councils are partners of now."""
    if not council_codes:
        return set()
    with db.reading() as tx:
        rows = tx.all_in("SELECT project_id FROM dir_partners WHERE council_code IN", council_codes)
    return {row["project_id"] for row in rows}


def cohorts_of_programmes_or_councils(
    db: Database, programme_ids: set[str], council_codes: set[str]
) -> frozenset[str]:
    """Cohorts of the given programmes, and cohorts in which the given councils are enrolled."""
    cohorts = db.all("SELECT cohort_id, programme_id FROM dir_cohorts")
    projects = db.all("SELECT cohort_id, council_code FROM dir_projects")
    found = {c["cohort_id"] for c in cohorts if c["programme_id"] in programme_ids}
    found |= {p["cohort_id"] for p in projects if p["council_code"] in council_codes}
    return frozenset(found)


def programmes_of_council(db: Database, council_code: str) -> frozenset[str]:
    """The programmes in whose cohorts the council is enrolled (and has not withdrawn)."""
    rows = db.all(
        "SELECT DISTINCT c.programme_id FROM dir_projects p"
        " JOIN dir_cohorts c ON c.cohort_id = p.cohort_id"
        " WHERE p.council_code = ? AND p.withdrawn = 0",
        (council_code,),
    )
    return frozenset(row["programme_id"] for row in rows)


def find_programme(db: Database, programme_id: str) -> dict[str, Any] | None:
    return db.one(
        f"SELECT {PROGRAMME_ROW} FROM dir_programmes WHERE programme_id = ?", (programme_id,)
    )


def find_cohort(db: Database, cohort_id: str) -> dict[str, Any] | None:
    return db.one(f"SELECT {COHORT_ROW} FROM dir_cohorts WHERE cohort_id = ?", (cohort_id,))


def find_council(db: Database, code: str) -> dict[str, Any] | None:
    return db.one(f"SELECT {COUNCIL_ROW} FROM dir_councils WHERE code = ?", (code,))


def programme_record(db: Database, programme_id: str) -> dict[str, Any] | None:
    """The programme as it stands: its row, with its ``segment_mapping`` and ``version``."""
    found = db.one("SELECT * FROM dir_programmes WHERE programme_id = ?", (programme_id,))
    if found is not None:
        found["segment_mapping"] = orjson.loads(found["segment_mapping"])
    return found


def cohort_record(db: Database, cohort_id: str) -> dict[str, Any] | None:
    """The cohort as it stands: its row, with its ``version`` and the codes of the
    councils that withdrew from it (``withdrawn``, sorted)."""
    with db.reading() as tx:
        found = tx.one("SELECT * FROM dir_cohorts WHERE cohort_id = ?", (cohort_id,))
        if found is not None:
            rows = tx.all(
                "SELECT council_code FROM dir_withdrawals WHERE cohort_id = ?"
                " ORDER BY council_code",
                (cohort_id,),
            )
            found["withdrawn"] = [row["council_code"] for row in rows]
    return found


def council_record(db: Database, code: str) -> dict[str, Any] | None:
    """The council as it stands: its profile (lists decoded), declaration, successors
    and ``version``, with its ``gss_codes`` (``[code, effective_from]``),
    ``financial_contexts`` and ``maturity`` assessments, each in the order recorded."""
    with db.reading() as tx:
        found = tx.one("SELECT * FROM dir_councils WHERE code = ?", (code,))
        if found is None:
            return None
        facts = tx.all(
            "SELECT kind, fact FROM dir_council_facts WHERE council_id = ? ORDER BY position",
            (found["council_id"],),
        )
    for name in (*COUNCIL_LISTS, "successor_codes"):
        found[name] = orjson.loads(found[name])
    for kind in ("gss_codes", "financial_contexts", "maturity"):
        found[kind] = []
    plural = {"gss_code": "gss_codes", "financial_context": "financial_contexts"}
    for fact in facts:
        found[plural.get(fact["kind"], fact["kind"])].append(orjson.loads(fact["fact"]))
    return found


def find_project(db: Database, project_id: str) -> dict[str, Any] | None:
    """The project with its council's name, its version and when it last changed."""
    return db.one(
        "SELECT p.*, c.name AS council_name FROM dir_projects p"
        " LEFT JOIN dir_councils c ON c.code = p.council_code WHERE p.project_id = ?",
        (project_id,),
    )


def councils_enrolled(db: Database, cohort_id: str, council_codes: Sequence[str]) -> set[str]:
    """Which of ``council_codes`` have been enrolled in the cohort (withdrawn ones too)."""
    if not council_codes:
        return set()
    rows = db.all(
        "SELECT council_code FROM dir_projects WHERE cohort_id = ?"
        f" AND council_code IN ({', '.join('?' * len(council_codes))})",
        (cohort_id, *council_codes),
    )
    return {row["council_code"] for row in rows}


def names_of(db: Database, record_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """What each of these records is called, by its id: programmes, cohorts, councils (by
    their record id) and projects (with their council's name). Ids not held are left out.

    Each is ``{"type", "name"}``, with ``code`` for a council and ``council_name`` for a project.
    """
    ids = list(dict.fromkeys(record_ids))
    if not ids:
        return {}
    found: dict[str, dict[str, Any]] = {}
    with db.reading() as tx:
        for row in tx.all_in(
            "SELECT programme_id, name FROM dir_programmes WHERE programme_id IN", ids
        ):
            found[row["programme_id"]] = {"type": "Programme", "name": row["name"]}
        for row in tx.all_in("SELECT cohort_id, name FROM dir_cohorts WHERE cohort_id IN", ids):
            found[row["cohort_id"]] = {"type": "Cohort", "name": row["name"]}
        for row in tx.all_in(
            "SELECT council_id, code, name FROM dir_councils WHERE council_id IN", ids
        ):
            found[row["council_id"]] = {"type": "Council", "name": row["name"], "code": row["code"]}
        for row in tx.all_in(
            "SELECT p.project_id, p.title, c.name AS council_name FROM dir_projects p"
            " LEFT JOIN dir_councils c ON c.code = p.council_code WHERE p.project_id IN",
            ids,
        ):
            found[row["project_id"]] = {
                "type": "Project",
                "name": row["title"],
                "council_name": row["council_name"],
            }
    return found
