"""Funding: the grants, payments, match funding and closures of every project, for the
totals on the project, cohort and programme pages and the programme's 360Giving export.

One row per funding entry (``grant_awarded``, ``payment_made``,
``match_funding_committed``, ``grant_closed``) and per correction of one, with the
chain's ``root`` (the entry its corrections start from), as recorded. The values
in force, now or as of a past instant, are folded from the rows when asked: the
rows recorded by then, in log order, each correction's replacement laid over its
root's values (``decided_on`` included). Nothing but the rows is needed for a
past instant, so a rebuild gives the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import singledispatchmethod
from typing import Any

from domain.cohort import Cohort
from domain.project import Project
from projections.base import Batch
from projections.chains import KindChains, in_force
from projections.database import Database, Transaction

#: The kinds of entry that move money, and so the totals.
FUNDING_KINDS = frozenset(
    {"grant_awarded", "payment_made", "match_funding_committed", "grant_closed"}
)
PENCE = Decimal("0.01")


class Funding(KindChains):
    name = "funding"
    version = 1
    tables = ("fund_entries", "fund_projects", "fund_cohorts")
    prefix = "fund"
    kinds = FUNDING_KINDS

    def create_tables(self, tx: Transaction) -> None:
        tx.execute(
            "CREATE TABLE fund_cohorts (cohort_id TEXT PRIMARY KEY, programme_id TEXT NOT NULL)"
        )
        tx.execute(
            "CREATE TABLE fund_projects (project_id TEXT PRIMARY KEY, cohort_id TEXT NOT NULL,"
            " council_code TEXT NOT NULL, title TEXT NOT NULL)"
        )
        self.create_entries_table(tx)

    def start_batch(self, tx: Transaction) -> Batch:
        return Batch(tx, self.entries_batch_table())

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        pass

    @handle.register
    def _cohort_formed(self, event: Cohort.Formed, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "INSERT INTO fund_cohorts VALUES (?, ?)",
            (str(event.originator_id), str(event.programme_id)),
        )

    @handle.register
    def _project_started(self, event: Project.Started, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "INSERT INTO fund_projects VALUES (?, ?, ?, ?)",
            (str(event.originator_id), str(event.cohort_id), event.council_code, event.title),
        )

    @handle.register
    def _entry_recorded(self, event: Project.EntryRecorded, position: int, batch: Batch) -> None:
        self.keep(event, position, batch)


@dataclass(frozen=True)
class FundingQuery:
    """Which projects: of one programme, one cohort, or these ones; as of an instant."""

    programme_id: str | None = None
    cohort_id: str | None = None
    project_ids: tuple[str, ...] | None = None
    as_of: str | None = None


def funding(db: Database, query: FundingQuery) -> list[dict[str, Any]]:
    """Each project's grants, payments and match funding in force, with its totals.

    A project is ``{project_id, cohort_id, programme_id, council_code, title,
    grants, match_funding, awarded, paid, matched}``; a grant is its values in
    force (``decided_on`` is its award date) with ``entry_id``, ``paid`` (the sum
    of its payments in force), ``payments``, ``closed`` (the closure in force, or
    None) and ``modified_at`` (when it, its corrections, payments or closure were
    last recorded). Amounts are decimal strings with pence.
    """
    where, params = [], []
    if query.programme_id is not None:
        where.append("c.programme_id = ?")
        params.append(query.programme_id)
    if query.cohort_id is not None:
        where.append("p.cohort_id = ?")
        params.append(query.cohort_id)
    with db.reading() as tx:
        sql = (
            "SELECT p.project_id, p.cohort_id, c.programme_id, p.council_code, p.title"
            " FROM fund_projects p JOIN fund_cohorts c ON c.cohort_id = p.cohort_id"
        )
        if query.project_ids is not None:
            projects = tx.all_in(f"{sql} WHERE p.project_id IN", list(query.project_ids))
        else:
            projects = tx.all(
                f"{sql} {'WHERE ' + ' AND '.join(where) if where else ''}"
                " ORDER BY p.council_code, p.project_id",
                params,
            )
        ids = [p["project_id"] for p in projects]
        rows = tx.all_in("SELECT * FROM fund_entries WHERE project_id IN", ids) if ids else []
    by_project: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_project.setdefault(row["project_id"], []).append(row)
    return [{**p, **_fold(by_project.get(p["project_id"], []), query.as_of)} for p in projects]


def _fold(rows: list[dict[str, Any]], as_of: str | None) -> dict[str, Any]:
    """The values in force of one project's funding entries (as of ``as_of``), and its
    totals."""
    entries = {  # by entry id, in the order recorded
        e["entry_id"]: {
            "entry_id": e["entry_id"],
            "kind": e["kind"],
            "recorded_at": e["recorded_at"],
            "modified_at": e["modified_at"],
            **e["values"],
            **({"correction_id": e["correction_id"]} if e["corrected"] else {}),
        }
        for e in in_force(rows, as_of)
    }
    grants = {e["entry_id"]: e for e in entries.values() if e["kind"] == "grant_awarded"}
    for each in grants.values():
        each.update(paid=Decimal(0), payments=[], closed=None)
    matches = []
    for entry in entries.values():
        grant: dict[str, Any] | None = grants.get(str(entry.get("grant_entry_id")))
        if entry["kind"] == "payment_made" and grant is not None:
            grant["payments"].append(entry)
            grant["paid"] += Decimal(entry["amount"])
            grant["modified_at"] = max(grant["modified_at"], entry["modified_at"])
        elif entry["kind"] == "grant_closed" and grant is not None:
            grant["closed"] = entry
            grant["modified_at"] = max(grant["modified_at"], entry["modified_at"])
        elif entry["kind"] == "match_funding_committed":
            matches.append(entry)
    awarded = sum((Decimal(g["amount"]) for g in grants.values()), Decimal(0))
    paid = sum((g["paid"] for g in grants.values()), Decimal(0))
    matched = sum((Decimal(m["amount"]) for m in matches), Decimal(0))
    for each in grants.values():
        each["paid"] = _money(each["paid"])
    return {
        "grants": list(grants.values()),
        "match_funding": matches,
        "awarded": _money(awarded),
        "paid": _money(paid),
        "matched": _money(matched),
    }


def _money(amount: Decimal) -> str:
    return str(amount.quantize(PENCE))


def totals(projects: list[dict[str, Any]]) -> dict[str, str]:
    """The awarded, paid and matched totals of several projects."""
    return {
        name: _money(sum((Decimal(p[name]) for p in projects), Decimal(0)))
        for name in ("awarded", "paid", "matched")
    }
