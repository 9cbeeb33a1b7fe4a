"""Collaboration across councils: a programme's outputs and their reuse, and its
capabilities with every council's capacity decisions about each.

Rows hold the values in force: a correction of an output, a reuse or a
capacity decision (or of a correction of one) is laid over the row of the entry
its chain starts from. The read model keeps its own small map of projects and
cohorts to their programme, so that it never depends on another read model's
progress (a shared rebuild runs read models in separate processes).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from functools import singledispatchmethod
from typing import Any

from domain.capabilities import capability_slug
from domain.cohort import Cohort
from domain.project import ENTRY_KINDS, Project
from projections.base import Batch, Positioned, ReadModel, Table
from projections.database import Database, Transaction
from storage.json import to_json
from storage.times import instant

OutputPublished = ENTRY_KINDS["output_published"]
OutputReused = ENTRY_KINDS["output_reused"]
CapacityDecided = ENTRY_KINDS["capacity_decided"]
EntryCorrected = ENTRY_KINDS["entry_corrected"]
FOLLOWED = (OutputPublished, OutputReused, CapacityDecided)

#: Each kind followed here, its table, and the fields kept as columns of it.
TABLES = {
    "output_published": (
        "col_outputs",
        ("output_kind", "title", "url", "licence", "phase"),
    ),
    "output_reused": (
        "col_reuses",
        ("output_entry_id", "council_code", "how", "saving"),
    ),
    "capacity_decided": (
        "col_decisions",
        ("capability", "choice", "partner", "estimated_cost"),
    ),
}
#: Every row names its entry, where it was recorded, and when it was decided.
COMMON = ("entry_id", "position", "project_id", "cohort_id", "programme_id", "council_code")


def _stored(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


#: The columns of each kind's table, in order.
COLUMNS = {
    "col_outputs": (
        *COMMON,
        "decided_on",
        "recorded_at",
        "values_json",
        *TABLES["output_published"][1],
    ),
    "col_reuses": (
        *(c if c != "council_code" else "project_council_code" for c in COMMON),
        "decided_on",
        "recorded_at",
        "values_json",
        *TABLES["output_reused"][1],
    ),
    "col_decisions": (
        *COMMON,
        "decided_on",
        "recorded_at",
        "values_json",
        *TABLES["capacity_decided"][1],
        "slug",
    ),
}
VERSIONS = "col_versions"


class _Batch(Batch):
    def __init__(self, tx: Transaction) -> None:
        super().__init__(
            tx,
            Table(VERSIONS, "entry_id", ("entry_id", "root_id", "kind")),
            *(Table(name, "entry_id", columns) for name, columns in COLUMNS.items()),
        )
        #: project id -> its cohort, programme and council, for the entries in this batch.
        self.projects: dict[str, dict[str, Any]] = {}


class Collaboration(ReadModel):
    name = "collaboration"
    version = 1
    rebuild_weight = 2
    tables = (
        "col_cohorts",
        "col_projects",
        "col_versions",
        "col_outputs",
        "col_reuses",
        "col_decisions",
    )

    def create_tables(self, tx: Transaction) -> None:
        tx.execute(
            "CREATE TABLE col_cohorts (cohort_id TEXT PRIMARY KEY, programme_id TEXT NOT NULL)"
        )
        tx.execute(
            "CREATE TABLE col_projects (project_id TEXT PRIMARY KEY, cohort_id TEXT NOT NULL,"
            " programme_id TEXT NOT NULL, council_code TEXT NOT NULL)"
        )
        tx.execute(
            "CREATE TABLE col_versions (entry_id TEXT PRIMARY KEY, root_id TEXT NOT NULL,"
            " kind TEXT NOT NULL)"
        )
        common = (
            "entry_id TEXT PRIMARY KEY, position BIGINT NOT NULL, project_id TEXT NOT NULL,"
            " cohort_id TEXT NOT NULL, programme_id TEXT NOT NULL, council_code TEXT NOT NULL,"
            " decided_on TEXT NOT NULL, recorded_at TEXT NOT NULL, values_json TEXT NOT NULL"
        )
        tx.execute(
            f"CREATE TABLE col_outputs ({common}, output_kind TEXT NOT NULL, title TEXT NOT NULL,"
            " url TEXT NOT NULL, licence TEXT NOT NULL, phase TEXT NOT NULL)"
        )
        tx.execute("CREATE INDEX col_outputs_programme ON col_outputs (programme_id, position)")
        tx.execute("CREATE INDEX col_outputs_project ON col_outputs (project_id)")
        # A reuse's council_code is the reusing council; reusing_project_council the
        # council whose project recorded it.
        tx.execute(
            "CREATE TABLE col_reuses (entry_id TEXT PRIMARY KEY, position BIGINT NOT NULL,"
            " project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, programme_id TEXT NOT NULL,"
            " project_council_code TEXT NOT NULL, decided_on TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL, values_json TEXT NOT NULL,"
            " output_entry_id TEXT NOT NULL, council_code TEXT NOT NULL, how TEXT NOT NULL,"
            " saving TEXT NOT NULL)"
        )
        tx.execute("CREATE INDEX col_reuses_output ON col_reuses (output_entry_id)")
        tx.execute("CREATE INDEX col_reuses_council ON col_reuses (council_code)")
        tx.execute("CREATE INDEX col_reuses_project ON col_reuses (project_id)")
        tx.execute(
            f"CREATE TABLE col_decisions ({common}, capability TEXT NOT NULL, slug TEXT NOT NULL,"
            " choice TEXT NOT NULL, partner TEXT NOT NULL, estimated_cost TEXT NOT NULL)"
        )
        tx.execute("CREATE INDEX col_decisions_slug ON col_decisions (programme_id, slug)")

    def start_batch(self, tx: Transaction) -> Batch:
        return _Batch(tx)

    def prefetch(self, events: Sequence[Positioned], batch: Batch) -> None:
        assert isinstance(batch, _Batch)
        # A correction needs its entry's version (the root of its chain, and its kind)
        # and that root's row, whose values it changes.
        versions = batch[VERSIONS]
        versions.load(
            batch.tx, sorted({str(e.corrects) for _, e in events if isinstance(e, EntryCorrected)})
        )
        roots: dict[str, set[str]] = {}
        for version in list(versions.rows.values()):
            roots.setdefault(TABLES[version["kind"]][0], set()).add(version["root_id"])
        for table, ids in roots.items():
            batch[table].load(batch.tx, sorted(ids))
        followed = {str(e.originator_id) for _, e in events if isinstance(e, FOLLOWED)}
        if followed:
            sql = (
                "SELECT project_id, cohort_id, programme_id, council_code FROM col_projects"
                " WHERE project_id IN"
            )
            for row in batch.tx.all_in(sql, sorted(followed)):
                batch.projects[row.pop("project_id")] = row

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        pass

    @handle.register
    def _formed(self, event: Cohort.Formed, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "INSERT INTO col_cohorts VALUES (?, ?)",
            (str(event.originator_id), str(event.programme_id)),
        )

    @handle.register
    def _started(self, event: Project.Started, position: int, batch: Batch) -> None:
        cohort = batch.tx.one(
            "SELECT programme_id FROM col_cohorts WHERE cohort_id = ?", (str(event.cohort_id),)
        )
        assert isinstance(batch, _Batch)
        row = {
            "cohort_id": str(event.cohort_id),
            "programme_id": cohort["programme_id"] if cohort else "",
            "council_code": event.council_code,
        }
        batch.tx.execute(
            "INSERT INTO col_projects VALUES (?, ?, ?, ?)",
            (str(event.originator_id), *row.values()),
        )
        batch.projects[str(event.originator_id)] = row

    def _entry(self, event: Any, position: int, batch: Batch) -> None:
        assert isinstance(batch, _Batch)
        table, columns = TABLES[event.KIND]
        project = batch.projects.get(str(event.originator_id))
        if project is None:  # pragma: no cover - every project starts before its entries
            return
        values = event.values()
        row: dict[str, Any] = {
            "entry_id": str(event.entry_id),
            "position": position,
            "project_id": str(event.originator_id),
            "cohort_id": project["cohort_id"],
            "programme_id": project["programme_id"],
            "council_code" if table != "col_reuses" else "project_council_code": project[
                "council_code"
            ],
            "decided_on": event.decided_on.isoformat(),
            "recorded_at": instant(event.timestamp),
            "values_json": to_json(values),
            **{name: _stored(values.get(name)) for name in columns},
        }
        if table == "col_decisions":
            row["slug"] = capability_slug(row["capability"])
        batch[table].add(row)
        batch[VERSIONS].add(
            {"entry_id": row["entry_id"], "root_id": row["entry_id"], "kind": event.KIND}
        )

    @handle.register(OutputPublished)
    def _published(self, event: Any, position: int, batch: Batch) -> None:
        self._entry(event, position, batch)

    @handle.register(OutputReused)
    def _reused(self, event: Any, position: int, batch: Batch) -> None:
        self._entry(event, position, batch)

    @handle.register(CapacityDecided)
    def _decided(self, event: Any, position: int, batch: Batch) -> None:
        self._entry(event, position, batch)

    @handle.register(EntryCorrected)
    def _corrected(self, event: Any, position: int, batch: Batch) -> None:
        assert isinstance(batch, _Batch)
        versions = batch[VERSIONS]
        found = versions.get(str(event.corrects))
        if found is None:
            return  # a correction of a kind this read model does not follow
        root_id, kind = found["root_id"], found["kind"]
        versions.add({"entry_id": str(event.entry_id), "root_id": root_id, "kind": kind})
        table, columns = TABLES[kind]
        stored = batch[table].get(root_id)
        if stored is None:  # pragma: no cover - the root was recorded first
            return
        values = {**json.loads(stored["values_json"]), **event.replacement}
        changes: dict[str, Any] = {"values_json": to_json(values)}
        for name in columns:
            if name in event.replacement:
                changes[name] = _stored(event.replacement[name])
        if "decided_on" in event.replacement:
            changes["decided_on"] = _stored(event.replacement["decided_on"])
        if kind == "capacity_decided" and "capability" in changes:
            changes["slug"] = capability_slug(changes["capability"])
        batch[table].change(root_id, **changes)


# -- queries ------------------------------------------------------------------------------

_OUTPUT_NAMES = (
    "SELECT o.entry_id, o.position, o.project_id, o.cohort_id, o.programme_id, o.council_code,"
    " o.decided_on, o.recorded_at, o.output_kind, o.title, o.url, o.licence, o.phase,"
    " c.name AS council_name, h.name AS cohort_name, p.title AS project_title"
    " FROM col_outputs o LEFT JOIN dir_councils c ON c.code = o.council_code"
    " LEFT JOIN dir_cohorts h ON h.cohort_id = o.cohort_id"
    " LEFT JOIN dir_projects p ON p.project_id = o.project_id"
)
_REUSE_NAMES = (
    "SELECT r.entry_id, r.position, r.project_id, r.cohort_id, r.programme_id,"
    " r.project_council_code, r.decided_on, r.recorded_at, r.output_entry_id, r.council_code,"
    " r.how, r.saving, c.name AS council_name, p.title AS project_title"
    " FROM col_reuses r LEFT JOIN dir_councils c ON c.code = r.council_code"
    " LEFT JOIN dir_projects p ON p.project_id = r.project_id"
)


def _with_reuses(db: Database, outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each output with every reuse of it (``reused_by``, in the order recorded) and
    how many there are (``reuse_count``)."""
    by_output: dict[str, list[dict[str, Any]]] = {}
    if outputs:
        with db.reading() as tx:
            rows = tx.all_in(
                f"{_REUSE_NAMES} WHERE r.output_entry_id IN",
                [o["entry_id"] for o in outputs],
                then="ORDER BY r.position",
            )
        for row in rows:
            by_output.setdefault(row["output_entry_id"], []).append(_reuse(row))
    for output in outputs:
        output["reused_by"] = by_output.get(output["entry_id"], [])
        output["reuse_count"] = len(output["reused_by"])
    return outputs


def _reuse(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "saving": row["saving"] or None}


def list_outputs(
    db: Database,
    programme_id: str,
    *,
    output_kind: str | None = None,
    phase: str | None = None,
    council_code: str | None = None,
    cohort_id: str | None = None,
) -> list[dict[str, Any]]:
    """A programme's outputs, newest first, each with its reuses; filters are exact."""
    where, params = ["o.programme_id = ?"], [programme_id]
    for column, value in (
        ("o.output_kind", output_kind),
        ("o.phase", phase),
        ("o.council_code", council_code),
        ("o.cohort_id", cohort_id),
    ):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    rows = db.all(f"{_OUTPUT_NAMES} WHERE {' AND '.join(where)} ORDER BY o.position DESC", params)
    return _with_reuses(db, rows)


def find_output(db: Database, entry_id: str) -> dict[str, Any] | None:
    """One output (its programme, project and values in force), or None."""
    return db.one(f"{_OUTPUT_NAMES} WHERE o.entry_id = ?", (entry_id,))


def outputs_of_project(db: Database, project_id: str) -> dict[str, list[dict[str, Any]]]:
    """What a project published (with their reuses) and what it reused (with the output)."""
    published = db.all(f"{_OUTPUT_NAMES} WHERE o.project_id = ? ORDER BY o.position", (project_id,))
    reused = db.all(f"{_REUSE_NAMES} WHERE r.project_id = ? ORDER BY r.position", (project_id,))
    return {"published": _with_reuses(db, published), "reused": _of_outputs(db, reused)}


def outputs_of_council(db: Database, code: str) -> dict[str, list[dict[str, Any]]]:
    """What a council's projects published, and what the council reused."""
    published = db.all(f"{_OUTPUT_NAMES} WHERE o.council_code = ? ORDER BY o.position", (code,))
    reused = db.all(f"{_REUSE_NAMES} WHERE r.council_code = ? ORDER BY r.position", (code,))
    return {"published": _with_reuses(db, published), "reused": _of_outputs(db, reused)}


def _of_outputs(db: Database, reuses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reuses, each with the output it reused (``output``)."""
    outputs: dict[str, dict[str, Any]] = {}
    if reuses:
        with db.reading() as tx:
            for row in tx.all_in(
                f"{_OUTPUT_NAMES} WHERE o.entry_id IN", [r["output_entry_id"] for r in reuses]
            ):
                outputs[row["entry_id"]] = row
    return [{**_reuse(r), "output": outputs.get(r["output_entry_id"])} for r in reuses]


def list_capabilities(db: Database, programme_id: str) -> list[dict[str, Any]]:
    """A programme's capabilities, by name: each named by its first decision (in the
    order recorded), with how many decisions and councils chose each way."""
    rows = db.all(
        "SELECT slug, capability, choice, council_code FROM col_decisions"
        " WHERE programme_id = ? ORDER BY position",
        (programme_id,),
    )
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        item = found.setdefault(
            row["slug"],
            {
                "slug": row["slug"],
                "name": row["capability"],
                "decisions": 0,
                "choices": {"make": 0, "buy": 0, "share": 0, "experiment": 0},
                "councils": set(),
            },
        )
        item["decisions"] += 1
        item["choices"][row["choice"]] = item["choices"].get(row["choice"], 0) + 1
        item["councils"].add(row["council_code"])
    items = sorted(found.values(), key=lambda i: (i["name"].casefold(), i["slug"]))
    return [{**i, "councils": len(i["councils"])} for i in items]


def capability_decisions(db: Database, programme_id: str, slug: str) -> list[dict[str, Any]]:
    """Every capacity decision about one capability across the programme's cohorts, in
    the order decided (then recorded), with its values in force."""
    rows = db.all(
        "SELECT d.entry_id, d.position, d.project_id, d.cohort_id, d.council_code,"
        " d.decided_on, d.recorded_at, d.capability, d.choice, d.partner, d.estimated_cost,"
        " d.values_json, c.name AS council_name, h.name AS cohort_name,"
        " p.title AS project_title"
        " FROM col_decisions d LEFT JOIN dir_councils c ON c.code = d.council_code"
        " LEFT JOIN dir_cohorts h ON h.cohort_id = d.cohort_id"
        " LEFT JOIN dir_projects p ON p.project_id = d.project_id"
        " WHERE d.programme_id = ? AND d.slug = ? ORDER BY d.decided_on, d.position",
        (programme_id, slug),
    )
    for row in rows:
        values = json.loads(row.pop("values_json"))
        row["estimated_cost"] = row["estimated_cost"] or None
        row["rationale"] = values.get("rationale") or ""
        row["shared_with"] = values.get("shared_with") or []
    return rows
