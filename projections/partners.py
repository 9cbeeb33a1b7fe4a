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

from projections.base import Digest
from projections.database import Transaction

PARTNER_KINDS = frozenset({"partner_joined", "partner_left"})


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

    def follow(self, tx: Transaction, entry: Digest) -> None:
        """Start or end a spell, if the entry is a partner joining or leaving."""
        if entry.kind == "partner_joined":
            tx.execute(
                f"INSERT INTO {self.table} VALUES (?, ?, ?, ?, NULL, NULL)",
                (entry.project_id, entry.values["council_code"], entry.position, entry.recorded_at),
            )
        elif entry.kind == "partner_left":
            tx.execute(
                f"UPDATE {self.table} SET left_position = ?, left_at = ?"
                " WHERE project_id = ? AND council_code = ? AND left_position IS NULL",
                (entry.position, entry.recorded_at, entry.project_id, entry.values["council_code"]),
            )

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
