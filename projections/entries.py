"""Entries: one row per entry, the one table the timeline, project history and search read.

``entries`` keeps, for each entry, what each of them needs: its project, cohort
and lead council, both dates, the actor, the phase the project was in, the
summary, the values as recorded (JSON), the values a correction put in force
(``effective``), the problem statement's version, the links of corrections
(``corrects``, ``superseded_by``, ``superseded_at``, ``root``) and its search
terms, indexed where they are (on PostgreSQL a GIN index of the terms as a
``tsvector``; on SQLite an FTS5 index, ``entry_terms``, whose content is this
table's). Beside it: the projects and councils it names (``entry_projects``,
``entry_councils``) and partner spells (``entry_partners``).

Values in force: a correction's row keeps ``root``, the entry at the start of
its chain of corrections (a chain is a line: an entry is corrected at most
once, and a correction can be corrected in turn). An entry's values in force,
now or as of a past instant, are its own values with the replacements of its
chain's corrections recorded by then laid over them, in order
(``values_in_force``): worked out when asked, so that a past instant needs
nothing stored beyond the rows themselves.

Search: an entry is found by its values as recorded and by every value a
correction put in force since. The terms of a correction's replacement are
added to the terms of the entry its chain starts from (the earlier values stay
findable, as history). The terms are given to each backend as they are (a
PostgreSQL ``tsvector`` of exactly these lexemes, ``TSVECTOR``; an SQLite FTS5
index whose ``ascii`` tokenizer splits only at the spaces between them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import singledispatchmethod
from typing import Any

from domain.project import Project
from projections.base import Batch, Positioned, ReadModel, Table, digest
from projections.database import Database, Transaction
from projections.partners import PartnerSpells
from projections.reference import ProjectsAndCouncils
from projections.summaries import changes_in_force, changes_line, summarise_entry
from projections.terms import terms, texts
from storage.json import to_json

TABLE = "entries"
#: The search index on SQLite: FTS5, its content the ``terms`` of ``entries``.
TERMS_INDEX = "entry_terms"
#: An entry's terms as a ``tsvector`` (PostgreSQL): what its GIN index holds, and what
#: a search matches against, written the same in both places so that the index is used.
TSVECTOR = "array_to_tsvector(string_to_array({}.terms, ' '))"

COLUMNS = (
    "position",
    "entry_id",
    "cohort_id",
    "project_id",
    "council_code",
    "kind",
    "decided_on",
    "recorded_at",
    "actor",
    "phase",
    "summary",
    "entry_values",
    "effective",
    "statement_version",
    "corrects",
    "superseded_by",
    "superseded_at",
    "root",
    "terms",
)


class Entries(ReadModel):
    name = "entries"
    version = 2  # 2: the terms indexed where they are, not copied to entry_terms
    # The timeline, project history and search kept a copy each (weights 3, 3 and 4).
    rebuild_weight = 6
    reference = ProjectsAndCouncils("entry")
    partners = PartnerSpells("entry")
    tables = (TABLE, *reference.tables, partners.table)

    def create_tables(self, tx: Transaction) -> None:
        self.reference.create_tables(tx)
        self.partners.create_table(tx)
        tx.execute(
            f"CREATE TABLE {TABLE} ("
            " position BIGINT PRIMARY KEY,"
            " entry_id TEXT NOT NULL UNIQUE,"
            " cohort_id TEXT NOT NULL,"
            " project_id TEXT NOT NULL,"
            " council_code TEXT NOT NULL,"
            " kind TEXT NOT NULL,"
            " decided_on TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL,"
            " actor TEXT NOT NULL,"
            " phase TEXT,"
            " summary TEXT NOT NULL,"
            " entry_values TEXT NOT NULL,"
            " effective TEXT,"
            " statement_version INTEGER,"
            " corrects TEXT,"
            " superseded_by TEXT,"
            " superseded_at TEXT,"
            " root TEXT,"
            " terms TEXT NOT NULL)"
        )
        tx.execute(f"CREATE INDEX entries_root ON {TABLE} (root)")
        tx.execute(f"CREATE INDEX entries_cohort ON {TABLE} (cohort_id, position)")
        tx.execute(f"CREATE INDEX entries_decided ON {TABLE} (cohort_id, decided_on, position)")
        tx.execute(f"CREATE INDEX entries_project ON {TABLE} (project_id, position)")
        if tx.dialect == "postgres":
            terms_of = TSVECTOR.format(TABLE)
            tx.execute(f"CREATE INDEX entries_terms ON {TABLE} USING GIN ({terms_of})")
        else:
            tx.execute(
                f"CREATE VIRTUAL TABLE {TERMS_INDEX} USING fts5(terms, content = '{TABLE}',"
                " content_rowid = 'position', tokenize = 'ascii')"
            )

    def drop_tables(self, tx: Transaction) -> None:
        # Before the table its content comes from (SQLite; on PostgreSQL it is not there).
        tx.execute(f"DROP TABLE IF EXISTS {TERMS_INDEX}")
        super().drop_tables(tx)

    def start_batch(self, tx: Transaction) -> Batch:
        return Batch(
            tx,
            *self.reference.batch_tables(),
            Table(TABLE, "entry_id", COLUMNS),
            self.partners.batch_table(),
        )

    def process(self, events: Sequence[Positioned], tx: Transaction) -> None:
        #: Rows indexed before this batch whose terms it changes -> the terms indexed.
        self._retermed: dict[int, str] = {}
        batch = self.start_batch(tx)
        self.reference.prefetch(events, batch)
        self.partners.prefetch(events, batch)
        entries = batch[TABLE]
        # A correction's row needs the row it corrects (its root, its values in force),
        # and its chain's root, whose terms grow.
        corrected = [str(e.corrects) for _, e in events if isinstance(e, Project.EntryCorrected)]
        entries.load(tx, corrected)
        entries.load(
            tx, {row["root"] for row in map(entries.get, corrected) if row and row["root"]}
        )
        handler, follow = self.handler, self.reference.follow
        for position, event in events:
            follow(position, event, batch)
            handler(type(event))(self, event, position, batch)
        batch.write()
        if tx.dialect == "postgres":
            return  # the terms' GIN index follows the rows by itself
        first = next((p for p, e in events if isinstance(e, Project.EntryRecorded)), None)
        if first is not None:
            self._index_terms(tx, first)

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        pass

    @handle.register
    def _entry_recorded(self, event: Project.EntryRecorded, position: int, batch: Batch) -> None:
        entry = digest(batch.tx, position, event)
        project = self.reference.project(entry, batch)
        self.partners.follow(batch, entry)
        entries = batch[TABLE]
        corrects = root = effective = statement_version = None
        if isinstance(event, Project.EntryCorrected):
            corrects = str(event.corrects)
            target = entries.get(corrects)
            assert target is not None, f"correction of an unknown entry {corrects}"
            root = target["root"] or corrects
            entries.change(corrects, superseded_by=entry.entry_id, superseded_at=entry.recorded_at)
            base = json.loads(target["effective"] or target["entry_values"])
            effective = to_json({**base, **event.replacement})
            self._add_terms_in_force(event, root, entries)
        elif isinstance(event, Project.ProblemStatementIterated):
            statement_version = project["statements"]
        entries.add(
            {
                "position": position,
                "entry_id": entry.entry_id,
                "cohort_id": project["cohort_id"],
                "project_id": entry.project_id,
                "council_code": project["council_code"],
                "kind": entry.kind,
                "decided_on": entry.decided_on,
                "recorded_at": entry.recorded_at,
                "actor": event.actor,
                "phase": project["phase"],
                "summary": entry.summary,
                "entry_values": entry.json,
                "effective": effective,
                "statement_version": statement_version,
                "corrects": corrects,
                "superseded_by": None,
                "superseded_at": None,
                "root": root,
                "terms": " ".join(terms(" ".join(texts(entry.values)))),
            }
        )

    def _add_terms_in_force(self, event: Any, root_id: str, entries: Table) -> None:
        """The correction's replacement values become terms of its chain's root too."""
        root = entries.get(root_id)
        assert root is not None, f"the root of {event.corrects} was not loaded"
        replaced = {k: v for k, v in event.replacement.items() if k != "decided_on"}
        added = terms(" ".join(texts(json.loads(to_json(replaced)))))
        before = root["terms"].split()
        grown = list(dict.fromkeys([*before, *added]))
        if grown != before:
            self._retermed.setdefault(int(root["position"]), root["terms"])
            entries.change(root_id, terms=" ".join(grown))

    def _index_terms(self, tx: Transaction, first: int) -> None:
        """SQLite: index the rows this batch added (positions from ``first``, above any
        indexed before), and again the rows indexed before whose terms it changed (an FTS5
        index of another table's content forgets a row only told what it indexed)."""
        for position, indexed in sorted(self._retermed.items()):
            if position >= first:
                continue
            tx.execute(
                f"INSERT INTO {TERMS_INDEX} ({TERMS_INDEX}, rowid, terms) VALUES ('delete', ?, ?)",
                (position, indexed),
            )
            tx.execute(
                f"INSERT INTO {TERMS_INDEX} (rowid, terms) SELECT position, terms FROM {TABLE}"
                " WHERE position = ?",
                (position,),
            )
        tx.execute(
            f"INSERT INTO {TERMS_INDEX} (rowid, terms) SELECT position, terms FROM {TABLE}"
            " WHERE position >= ?",
            (first,),
        )


def values_in_force(db: Database, rows: list[dict[str, Any]], as_of: str | None = None) -> None:
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
    sql = f"SELECT position, entry_id, root, entry_values, recorded_at FROM {TABLE} WHERE root IN"
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
