"""Outcomes: each project's benefits (baseline, target, measurements, status) and its
service assessments, as they stand or stood at an instant.

Only the entries of these kinds are kept (``out_entries``), with the corrections
of their chains (each keeps its ``root``). Answers are folded from those rows
when asked (``fold``), leaving out what was recorded after ``as_of``: so the
same rows answer now and any past instant, and a rebuild gives the same answers.

A benefit's status (docs/DOMAIN.md, "Outcomes"), on the day the answer is for:

- ``abandoned``: closed as abandoned;
- ``met``: the latest measurement made on or before the target date reaches the
  target (at or beyond it, in the direction from the baseline to the target), or
  the benefit was closed as realised;
- ``missed``: not met, and the target date has passed;
- ``on_track``: otherwise (not met yet, and the target date is still to come).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import singledispatchmethod
from typing import Any

from domain.cohort import Cohort
from domain.project import Project
from projections.base import Batch, Table
from projections.chains import KindChains, in_force
from projections.database import Database, Transaction
from storage.times import instant

BENEFIT_KINDS = ("benefit_defined", "benefit_measured", "benefit_closed")
OUTCOME_KINDS = frozenset({*BENEFIT_KINDS, "assessment_held"})
STATUSES = ("met", "on_track", "missed", "abandoned")
#: Units that say a benefit is counted in pounds: its gains add up as savings.
POUNDS = frozenset({"gbp", "£", "pounds", "pounds sterling"})

PROJECT_COLUMNS = ("project_id", "cohort_id", "council_code", "title", "started_at")


class Outcomes(KindChains):
    name = "outcomes"
    version = 1
    tables = ("out_entries", "out_projects", "out_cohorts")
    prefix = "out"
    kinds = OUTCOME_KINDS

    def create_tables(self, tx: Transaction) -> None:
        self.create_entries_table(tx)
        tx.execute(
            "CREATE TABLE out_projects (project_id TEXT PRIMARY KEY, cohort_id TEXT NOT NULL,"
            " council_code TEXT NOT NULL, title TEXT NOT NULL, started_at TEXT NOT NULL)"
        )
        tx.execute("CREATE INDEX out_projects_cohort ON out_projects (cohort_id)")
        tx.execute(
            "CREATE TABLE out_cohorts (cohort_id TEXT PRIMARY KEY, programme_id TEXT NOT NULL)"
        )

    def start_batch(self, tx: Transaction) -> Batch:
        return Batch(
            tx,
            self.entries_batch_table(),
            Table("out_projects", "project_id", PROJECT_COLUMNS),
            Table("out_cohorts", "cohort_id", ("cohort_id", "programme_id")),
        )

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        pass

    @handle.register
    def _cohort_formed(self, event: Cohort.Formed, position: int, batch: Batch) -> None:
        batch["out_cohorts"].add(
            {"cohort_id": str(event.originator_id), "programme_id": str(event.programme_id)}
        )

    @handle.register
    def _project_started(self, event: Project.Started, position: int, batch: Batch) -> None:
        batch["out_projects"].add(
            {
                "project_id": str(event.originator_id),
                "cohort_id": str(event.cohort_id),
                "council_code": event.council_code,
                "title": event.title,
                "started_at": instant(event.timestamp),
            }
        )

    @handle.register
    def _entry_recorded(self, event: Project.EntryRecorded, position: int, batch: Batch) -> None:
        self.keep(event, position, batch)


# -- folding the rows into answers ------------------------------------------------------


def _number(text: Any) -> Decimal | None:
    try:
        return Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None


def benefit_status(benefit: dict[str, Any], today: date) -> str:
    """The status of one folded benefit on ``today`` (the rule in the module's doc)."""
    closed = benefit["closed"]
    if closed is not None and closed["outcome"] == "abandoned":
        return "abandoned"
    if closed is not None and closed["outcome"] == "realised":
        return "met"
    baseline, target = _number(benefit["baseline_value"]), _number(benefit["target_value"])
    target_on = benefit["target_on"]
    in_time = [m for m in benefit["measurements"] if m["measured_on"] <= target_on]
    if in_time and baseline is not None and target is not None:
        value = _number(in_time[-1]["value"])
        if value is not None and (value >= target if target >= baseline else value <= target):
            return "met"
    return "missed" if today.isoformat() > target_on else "on_track"


def _gain(benefit: dict[str, Any]) -> Decimal | None:
    """How far the latest measurement has moved from the baseline towards the target."""
    latest = benefit["latest"]
    baseline, target = _number(benefit["baseline_value"]), _number(benefit["target_value"])
    if latest is None or baseline is None or target is None:
        return None
    value = _number(latest["value"])
    if value is None:
        return None
    return value - baseline if target >= baseline else baseline - value


def fold(entries: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """One project's benefits (each with its measurements, closure and status) and its
    assessments (oldest first by date decided), from its entries in force."""
    benefits: dict[str, dict[str, Any]] = {}
    measured: list[dict[str, Any]] = []
    closures: list[dict[str, Any]] = []
    assessments = []
    for entry in entries:
        values = entry["values"]
        if entry["kind"] == "benefit_defined":
            benefits[entry["entry_id"]] = {
                "entry_id": entry["entry_id"],
                **values,
                "cashable": bool(values.get("cashable")),
                "corrected": entry["corrected"],
                "measurements": [],
                "latest": None,
                "closed": None,
            }
        elif entry["kind"] == "benefit_measured":
            measured.append(
                {"entry_id": entry["entry_id"], "position": entry["position"], **values}
            )
        elif entry["kind"] == "benefit_closed":
            closures.append(values)
        elif entry["kind"] == "assessment_held":
            assessments.append(
                {"entry_id": entry["entry_id"], "position": entry["position"], **values}
            )
    for m in sorted(measured, key=lambda m: (m["measured_on"], m["position"])):
        benefit = benefits.get(m.pop("benefit_entry_id"))
        if benefit is not None:
            del m["position"]
            benefit["measurements"].append(m)
    for closure in closures:
        benefit = benefits.get(closure["benefit_entry_id"])
        if benefit is not None:
            benefit["closed"] = {k: closure.get(k) for k in ("outcome", "reason", "decided_on")}
    for benefit in benefits.values():
        benefit["latest"] = benefit["measurements"][-1] if benefit["measurements"] else None
        benefit["status"] = benefit_status(benefit, today)
        gain = _gain(benefit)
        benefit["gain"] = str(gain) if gain is not None else None
    assessments.sort(key=lambda a: (a["decided_on"], a["position"]))
    for assessment in assessments:
        del assessment["position"]
    return {
        "benefits": list(benefits.values()),
        "assessments": assessments,
        "latest_assessment": assessments[-1] if assessments else None,
    }


def totals(benefits: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """How many benefits are met, on track, missed and abandoned, cashable apart from
    non-cashable, and the savings so far of those counted in pounds."""
    found: dict[str, Any] = {
        side: {"benefits": 0, **dict.fromkeys(STATUSES, 0), "savings": Decimal(0)}
        for side in ("cashable", "non_cashable")
    }
    for benefit in benefits:
        side = found["cashable" if benefit["cashable"] else "non_cashable"]
        side["benefits"] += 1
        side[benefit["status"]] += 1
        gain = _number(benefit["gain"]) if benefit["gain"] is not None else None
        if gain is not None and str(benefit.get("unit", "")).strip().lower() in POUNDS:
            side["savings"] += gain
    for side in found.values():
        side["savings"] = str(side["savings"])
    return found


# -- queries ----------------------------------------------------------------------------


def project_outcomes(
    db: Database, project_id: str, today: date, as_of: str | None = None
) -> dict[str, Any]:
    """One project's benefits and assessments, as they stand (or stood ``as_of``)."""
    rows = db.all("SELECT * FROM out_entries WHERE project_id = ? ORDER BY position", (project_id,))
    return fold(in_force(rows, as_of), today)


def outcomes_of(
    db: Database,
    today: date,
    *,
    cohort_ids: Sequence[str] = (),
    programme_id: str | None = None,
    as_of: str | None = None,
) -> dict[str, Any]:
    """Every project of the cohorts (or of the programme's cohorts) started by ``as_of``,
    each with its benefits and latest assessment; and the totals over them all."""
    with db.reading() as tx:
        if programme_id is not None:
            projects = tx.all(
                "SELECT p.* FROM out_projects p JOIN out_cohorts c ON c.cohort_id = p.cohort_id"
                " WHERE c.programme_id = ? ORDER BY p.council_code, p.project_id",
                (programme_id,),
            )
        else:
            projects = (
                tx.all_in("SELECT * FROM out_projects WHERE cohort_id IN", list(cohort_ids))
                if cohort_ids
                else []
            )
            projects.sort(key=lambda p: (p["council_code"], p["project_id"]))
        if as_of is not None:
            projects = [p for p in projects if p["started_at"] <= as_of]
        ids = [p["project_id"] for p in projects]
        rows = tx.all_in("SELECT * FROM out_entries WHERE project_id IN", ids) if ids else []
    by_project: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    for row in rows:
        by_project[row["project_id"]].append(row)
    found, every = [], []
    for project in projects:
        folded = fold(in_force(by_project[project["project_id"]], as_of), today)
        every.extend(folded["benefits"])
        found.append(
            {
                **{k: project[k] for k in ("project_id", "cohort_id", "council_code", "title")},
                "benefits": folded["benefits"],
                "latest_assessment": folded["latest_assessment"],
            }
        )
    return {"projects": found, "totals": totals(every)}


def latest_assessments(
    db: Database, project_ids: Sequence[str], as_of: str | None = None
) -> dict[str, dict[str, Any] | None]:
    """Each project's latest assessment (by date decided, then as recorded), or None."""
    ids = list(project_ids)
    with db.reading() as tx:
        rows = tx.all_in(
            "SELECT * FROM out_entries WHERE kind IN ('assessment_held', 'entry_corrected')"
            " AND project_id IN",
            ids,
        )
    by_project: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    for row in rows:
        by_project[row["project_id"]].append(row)
    return {
        project_id: fold(in_force(found, as_of), date.min)["latest_assessment"]
        for project_id, found in by_project.items()
    }
