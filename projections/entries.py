"""Read models of entries: one row per entry, shown with its project and council.

The timeline, the project history and search each keep a table with one row
per entry, keyed by ``entry_id``, and their own copy of the projects and
councils (``ProjectsAndCouncils``, so that each can be rebuilt on its own).
``EntryReadModel`` does for them what they share: it keeps the copy current
before the entry is seen, fills the columns every entry row has, and marks the
entry a correction replaces as superseded by it. Each read model adds only
its own columns (``own_columns``).

Values in force: a correction's row keeps ``root``, the entry at the start of
its chain of corrections (a chain is a line: an entry is corrected at most
once, and a correction can be corrected in turn). An entry's values in force,
now or as of a past instant, are its own values with the replacements of its
chain's corrections recorded by then laid over them, in order
(``values_in_force``): worked out when asked, so that a past instant needs
nothing stored beyond the rows themselves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import singledispatchmethod
from typing import Any, ClassVar

from domain.project import Project
from projections.base import Batch, Digest, Positioned, ReadModel, Table, digest
from projections.database import Database, Transaction
from projections.reference import ProjectsAndCouncils
from projections.summaries import changes_in_force, changes_line, summarise_entry


class EntryReadModel(ReadModel):
    """A read model with one row per entry in ``entries_table``.

    Every row has ``position``, ``entry_id``, ``project_id``, ``kind``,
    ``decided_on``, ``recorded_at`` and ``superseded_by`` (the correction that
    replaced the entry, None until one does). With ``dated_corrections`` rows
    also keep ``corrects`` (the entry a correction replaces) and
    ``superseded_at`` (when the entry was replaced), so that answers as of a past
    instant can leave out corrections recorded later. Every row keeps ``root``
    (None but for a correction: the entry its chain of corrections starts from)
    and ``entry_values`` (the values as recorded, JSON), for ``values_in_force``.
    """

    reference: ClassVar[ProjectsAndCouncils]
    #: The table of one row per entry, keyed by ``entry_id``.
    entries_table: ClassVar[str]
    #: Its columns: the shared ones above and the read model's own.
    entry_columns: ClassVar[tuple[str, ...]]
    dated_corrections: ClassVar[bool] = True

    def create_reference_tables(self, tx: Transaction) -> None:
        self.reference.create_tables(tx)

    def start_batch(self, tx: Transaction) -> Batch:
        return Batch(
            tx,
            *self.reference.batch_tables(),
            Table(self.entries_table, "entry_id", self.entry_columns),
        )

    def process(self, events: Sequence[Positioned], tx: Transaction) -> None:
        batch = self.start_batch(tx)
        self.reference.prefetch(events, batch)
        # A correction's root is its corrected entry's root (or that entry itself).
        corrected = [str(e.corrects) for _, e in events if isinstance(e, Project.EntryCorrected)]
        batch[self.entries_table].load(batch.tx, corrected)
        self.prefetch(events, batch)
        handler, follow = self.handler, self.reference.follow
        for position, event in events:
            follow(position, event, batch)
            handler(type(event))(self, event, position, batch)
        batch.write()

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        pass

    @handle.register
    def _entry_recorded(self, event: Project.EntryRecorded, position: int, batch: Batch) -> None:
        entry = digest(batch.tx, position, event)
        project = self.reference.project(entry, batch)
        entries = batch[self.entries_table]
        corrects = root = None
        if isinstance(event, Project.EntryCorrected):
            corrects = str(event.corrects)
            target = entries.get(corrects)
            assert target is not None, f"correction of an unknown entry {corrects}"
            root = target["root"] or corrects
            if self.dated_corrections:
                entries.change(
                    corrects, superseded_by=entry.entry_id, superseded_at=entry.recorded_at
                )
            else:
                entries.change(corrects, superseded_by=entry.entry_id)
        row = {
            "position": position,
            "entry_id": entry.entry_id,
            "project_id": entry.project_id,
            "kind": entry.kind,
            "decided_on": entry.decided_on,
            "recorded_at": entry.recorded_at,
            "superseded_by": None,
            "root": root,
            "entry_values": entry.json,
        }
        if self.dated_corrections:
            row["corrects"] = corrects
            row["superseded_at"] = None
        row.update(self.own_columns(event, entry, project, batch))
        entries.add(row)

    def own_columns(
        self, event: Any, entry: Digest, project: dict[str, Any], batch: Batch
    ) -> dict[str, Any]:
        """This read model's own columns of the entry's row.

        ``project`` is the entry's project (``cohort_id``, ``council_code``,
        ``phase``, ``statements``) as it stands after the entry; a correction's
        ``corrects`` is already marked superseded in ``batch``.
        """
        raise NotImplementedError


def values_in_force(
    db: Database, table: str, rows: list[dict[str, Any]], as_of: str | None = None
) -> None:
    """Give each corrected row (not itself a correction) its ``in_force``: the values in
    force after the latest correction recorded by ``as_of`` (or ever), what changed
    from the values as recorded, the summary they make, and that correction's id.

    ``rows`` carry ``entry_id``, ``kind``, ``values`` (as recorded) and
    ``superseded_by`` (already None where the correction came after ``as_of``).
    A row never corrected gets ``in_force`` None.
    """
    for row in rows:
        row["in_force"] = None
    corrected = {
        r["entry_id"]: r for r in rows if r["superseded_by"] and r["kind"] != "entry_corrected"
    }
    if not corrected:
        return
    sql = f"SELECT position, entry_id, root, entry_values, recorded_at FROM {table} WHERE root IN"
    with db.reading() as tx:
        links = tx.all_in(sql, list(corrected))
    chains: dict[str, list[dict[str, Any]]] = {}
    for link in sorted(links, key=lambda r: r["position"]):
        if as_of is None or link["recorded_at"] <= as_of:
            chains.setdefault(link["root"], []).append(link)
    for entry_id, row in corrected.items():
        chain = chains.get(entry_id)
        if not chain:
            continue
        values = {"decided_on": row["decided_on"], **row["values"]}
        for link in chain:
            values.update(json.loads(link["entry_values"]).get("replacement") or {})
        was = {"decided_on": row["decided_on"], **row["values"]}
        latest = chain[-1]
        changes = changes_in_force(was, values)
        row["in_force"] = {
            "correction_id": latest["entry_id"],
            "corrected_at": latest["recorded_at"],
            "values": values,
            "changes": changes,
            "changes_text": changes_line(row["kind"], changes),
            "summary": summarise_entry(row["kind"], values),
        }
