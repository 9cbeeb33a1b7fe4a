"""Partner spells: when each council was a partner of each project, for answers as of an
instant without replaying.

A spell starts with a ``partner_joined`` entry and ends with the ``partner_left`` entry
for the same council (``left_*`` None while it lasts). A council that leaves and joins
again has two spells. A correction never changes a partner's council (``Project``
refuses it), so joins and leaves alone make the spells. A read model that needs them
keeps its own table (named with its prefix), so that it can be rebuilt on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.base import Batch, Digest, Positioned, Table
from projections.database import Transaction

PARTNER_KINDS = frozenset({"partner_joined", "partner_left"})


COLUMNS = ("project_id", "council_code", "joined_position", "joined_at", "left_position", "left_at")


class Spells(Table):
    """A batch's spells, and which are open: (project, council) -> its joined position."""

    def __init__(self, name: str) -> None:
        super().__init__(name, "joined_position", COLUMNS)
        self.open: dict[tuple[str, str], int] = {}


class PartnerSpells:
    def __init__(self, prefix: str) -> None:
        self.table = f"{prefix}_partners"

    def create_table(self, tx: Transaction) -> None:
        tx.execute(
            f"CREATE TABLE {self.table} (project_id TEXT NOT NULL, council_code TEXT NOT NULL,"
            " joined_position BIGINT PRIMARY KEY, joined_at TEXT NOT NULL,"
            " left_position BIGINT, left_at TEXT)"
        )
        tx.execute(f"CREATE INDEX {self.table}_council ON {self.table} (council_code)")
        tx.execute(f"CREATE INDEX {self.table}_project ON {self.table} (project_id)")

    def batch_table(self) -> Spells:
        """The spells a batch changes: add to a read model's ``Batch``."""
        return Spells(self.table)

    def prefetch(self, events: Sequence[Positioned], batch: Batch) -> None:
        """Load the spells of the projects a partner leaves in this batch."""
        leaving = {
            str(e.originator_id) for _, e in events if getattr(e, "KIND", "") == "partner_left"
        }
        if leaving:
            spells = batch[self.table]
            assert isinstance(spells, Spells)
            for row in spells.load_where(batch.tx, "project_id", leaving):
                if row["left_position"] is None:
                    spells.open[(row["project_id"], row["council_code"])] = row["joined_position"]

    def follow(self, batch: Batch, entry: Digest) -> None:
        """Start or end a spell, if the entry is a partner joining or leaving."""
        if entry.kind not in PARTNER_KINDS:
            return
        spells = batch[self.table]
        assert isinstance(spells, Spells)
        key = (entry.project_id, str(entry.values["council_code"]))
        if entry.kind == "partner_joined":
            spells.add(
                {
                    "project_id": key[0],
                    "council_code": key[1],
                    "joined_position": entry.position,
                    "joined_at": entry.recorded_at,
                    "left_position": None,
                    "left_at": None,
                }
            )
            spells.open[key] = entry.position
        elif (joined := spells.open.pop(key, None)) is not None:
            spells.change(joined, left_position=entry.position, left_at=entry.recorded_at)

    def in_force(self, as_of: str | None, alias: str = "s") -> tuple[str, list[Any]]:
        """The condition (on the table as ``alias``) that a spell is in force now, or at
        ``as_of``, and its parameters."""
        if as_of is None:
            return f"{alias}.left_position IS NULL", []
        return (
            f"{alias}.joined_at <= ? AND ({alias}.left_at IS NULL OR {alias}.left_at > ?)",
            [as_of, as_of],
        )

    def projects_of(self, council_code: str, as_of: str | None) -> tuple[str, list[Any]]:
        """A subquery of the projects the council is a partner of (now or at ``as_of``),
        and its parameters."""
        condition, params = self.in_force(as_of)
        return (
            f"SELECT s.project_id FROM {self.table} s WHERE s.council_code = ? AND {condition}",
            [council_code, *params],
        )

    def of_projects(
        self, tx: Transaction, project_ids: Sequence[str], as_of: str | None
    ) -> dict[str, list[str]]:
        """Each project's partner councils (codes, sorted) now or at ``as_of``; a project
        without partners is left out."""
        found: dict[str, list[str]] = {}
        if not project_ids:
            return found
        condition, params = self.in_force(as_of)
        rows = tx.all_in(
            f"SELECT s.project_id, s.council_code FROM {self.table} s WHERE {condition}"
            " AND s.project_id IN",
            project_ids,
            params,
        )
        for row in sorted(rows, key=lambda r: (r["project_id"], r["council_code"])):
            found.setdefault(row["project_id"], []).append(row["council_code"])
        return found
