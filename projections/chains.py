"""Read models that keep the entries of a few kinds and their chains of corrections.

The funding and outcomes read models each keep one row per entry of their kinds
and per correction of one (``{prefix}_entries``), with the chain's ``root`` (the
entry its corrections start from), as recorded. Their answers, now or as of a
past instant, are folded from those rows when asked (``in_force``), so the same
rows answer any instant and a rebuild gives the same answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from domain.project import Project
from projections.base import Batch, Positioned, ReadModel, Table, digest
from projections.database import Transaction

CHAIN_COLUMNS = (
    "position",
    "entry_id",
    "project_id",
    "kind",
    "root",
    "decided_on",
    "recorded_at",
    "entry_values",
)


class KindChains(ReadModel):
    """Keeps ``kinds``' entries and their corrections in ``{prefix}_entries``."""

    prefix: ClassVar[str]
    kinds: ClassVar[frozenset[str]]

    @property
    def entries_table(self) -> str:
        return f"{self.prefix}_entries"

    def create_entries_table(self, tx: Transaction) -> None:
        table = self.entries_table
        tx.execute(
            f"CREATE TABLE {table} (position BIGINT PRIMARY KEY,"
            " entry_id TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL, kind TEXT NOT NULL,"
            " root TEXT, decided_on TEXT NOT NULL, recorded_at TEXT NOT NULL,"
            " entry_values TEXT NOT NULL)"
        )
        tx.execute(f"CREATE INDEX {table}_project ON {table} (project_id, position)")

    def entries_batch_table(self) -> Table:
        return Table(self.entries_table, "entry_id", CHAIN_COLUMNS)

    def prefetch(self, events: Sequence[Positioned], batch: Batch) -> None:
        # A correction is kept if the entry it corrects is (its chain's root is ours).
        corrected = [str(e.corrects) for _, e in events if isinstance(e, Project.EntryCorrected)]
        batch[self.entries_table].load(batch.tx, corrected)

    def keep(self, event: Project.EntryRecorded, position: int, batch: Batch) -> None:
        """Keep an entry of ``kinds``, or a correction in one of their chains."""
        entries = batch[self.entries_table]
        root = None
        if isinstance(event, Project.EntryCorrected):
            target = entries.get(str(event.corrects))
            if target is None:
                return  # a correction of an entry of another kind
            root = target["root"] or target["entry_id"]
        elif event.KIND not in self.kinds:
            return
        entry = digest(batch.tx, position, event)
        entries.add(
            {
                "position": position,
                "entry_id": entry.entry_id,
                "project_id": entry.project_id,
                "kind": entry.kind,
                "root": root,
                "decided_on": entry.decided_on,
                "recorded_at": entry.recorded_at,
                "entry_values": entry.json,
            }
        )


def in_force(rows: Iterable[dict[str, Any]], as_of: str | None) -> list[dict[str, Any]]:
    """Each entry (never a correction) recorded by ``as_of``, in log order, with its
    values in force then: ``{"entry_id", "project_id", "kind", "position", "recorded_at",
    "modified_at", "corrected", "correction_id", "values"}``, ``values`` holding
    ``decided_on`` too; ``modified_at`` is when its latest correction by then was
    recorded (its own ``recorded_at`` if none), ``correction_id`` that correction's id."""
    entries: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["position"]):
        if as_of is not None and row["recorded_at"] > as_of:
            continue
        values = json.loads(row["entry_values"])
        if row["root"] is None:
            entries[row["entry_id"]] = {
                "entry_id": row["entry_id"],
                "project_id": row["project_id"],
                "kind": row["kind"],
                "position": row["position"],
                "recorded_at": row["recorded_at"],
                "modified_at": row["recorded_at"],
                "corrected": False,
                "correction_id": None,
                "values": {"decided_on": row["decided_on"], **values},
            }
        elif row["root"] in entries:
            root = entries[row["root"]]
            root["values"].update(values.get("replacement") or {})
            root["corrected"] = True
            root["modified_at"] = row["recorded_at"]
            root["correction_id"] = row["entry_id"]
    return list(entries.values())
