"""Search: full text over the entries' texts, the same on PostgreSQL and SQLite.

Text is cut into terms here, in Python, once: case-folded, accents dropped,
split at anything that is not a letter or a digit. The terms are given to
each backend as they are (a PostgreSQL ``tsvector`` of exactly these lexemes
with a GIN index; an SQLite FTS5 table whose ``ascii`` tokenizer splits only
at the spaces between them), so both find the same entries. A query is cut
the same way; every query term must match the start of a term of the entry
("collect" finds "collected" and "collection"). There is no language
stemming ("ran" does not find "run") and no phrase or operator syntax:
quotes, ``*``, ``AND``, ``NEAR`` and the like are read as plain words or
dropped, so no query string can fail.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.project import Project
from projections.base import Batch, Digest, decode_cursor, keyset_page
from projections.database import Database, Transaction
from projections.entries import EntryReadModel, values_in_force
from projections.reference import ProjectsAndCouncils
from storage.json import to_json

#: Longer runs of letters are cut, so a term always fits a PostgreSQL lexeme.
MAX_TERM = 60
#: Query terms after these are ignored.
MAX_QUERY_TERMS = 16
_WORD = re.compile(r"[^\W_]+")

COLUMNS = (
    "position",
    "entry_id",
    "project_id",
    "cohort_id",
    "council_code",
    "kind",
    "decided_on",
    "recorded_at",
    "summary",
    "superseded_by",
    "terms",
    "root",
    "entry_values",
)


def terms(text: str) -> list[str]:
    """The search terms of a text, in order, without repeats."""
    if text.isascii():
        bare = text.lower()
    else:
        folded = unicodedata.normalize("NFKD", text.casefold())
        kept = "".join(c for c in folded if not unicodedata.combining(c))
        bare = unicodedata.normalize("NFC", kept)
    return list(dict.fromkeys(word[:MAX_TERM] for word in _WORD.findall(bare)))


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)


class Search(EntryReadModel):
    """An entry is found by its values as recorded and by every value a correction put in
    force since: the terms of a correction's replacement are added to the terms of the
    entry its chain starts from (the earlier values stay findable, as history)."""

    name = "search"
    # 4: an entry's terms take its corrections' replacement values; 5: choices in
    # summaries as their words say them ("From LGA", not "From lga")
    version = 5
    rebuild_weight = 4
    reference = ProjectsAndCouncils("srch")
    entries_table = "search_entries"
    entry_columns = COLUMNS
    dated_corrections = False
    tables = (entries_table, "search_terms", *reference.tables)

    def create_tables(self, tx: Transaction) -> None:
        self.create_reference_tables(tx)
        tx.execute(
            "CREATE TABLE search_entries (position BIGINT PRIMARY KEY,"
            " entry_id TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL, cohort_id TEXT NOT NULL,"
            " council_code TEXT NOT NULL, kind TEXT NOT NULL, decided_on TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL, summary TEXT NOT NULL, superseded_by TEXT,"
            " terms TEXT NOT NULL, root TEXT, entry_values TEXT NOT NULL)"
        )
        tx.execute("CREATE INDEX search_entries_root ON search_entries (root)")
        if tx.dialect == "postgres":
            tx.execute(
                "CREATE TABLE search_terms (position BIGINT PRIMARY KEY, tsv tsvector NOT NULL)"
            )
            tx.execute("CREATE INDEX search_terms_tsv ON search_terms USING GIN (tsv)")
        else:
            tx.execute("CREATE VIRTUAL TABLE search_terms USING fts5(terms, tokenize = 'ascii')")

    def prefetch(self, events: Any, batch: Batch) -> None:
        """The roots of the chains this batch's corrections extend, whose terms grow."""
        entries = batch[self.entries_table]
        corrected = (entries.get(str(e.corrects)) for _, e in events if _is_correction(e))
        entries.load(batch.tx, {row["root"] for row in corrected if row and row["root"]})

    def process(self, events: Any, tx: Transaction) -> None:
        self._retermed: set[int] = set()
        super().process(events, tx)
        # The index follows the rows this batch added (positions above any indexed before).
        first = next((p for p, e in events if isinstance(e, Project.EntryRecorded)), None)
        if first is None:
            return
        self._reindex(tx, sorted(p for p in self._retermed if p < first))
        if tx.dialect == "postgres":
            tx.execute(
                "INSERT INTO search_terms (position, tsv) SELECT position,"
                " array_to_tsvector(string_to_array(terms, ' ')) FROM search_entries"
                " WHERE position >= ? AND terms <> ''",
                (first,),
            )
        else:
            tx.execute(
                "INSERT INTO search_terms (rowid, terms) SELECT position, terms"
                " FROM search_entries WHERE position >= ?",
                (first,),
            )

    def _reindex(self, tx: Transaction, positions: list[int]) -> None:
        """Index again the rows indexed before this batch whose terms it changed."""
        for position in positions:
            if tx.dialect == "postgres":
                tx.execute("DELETE FROM search_terms WHERE position = ?", (position,))
                tx.execute(
                    "INSERT INTO search_terms (position, tsv) SELECT position,"
                    " array_to_tsvector(string_to_array(terms, ' ')) FROM search_entries"
                    " WHERE position = ? AND terms <> ''",
                    (position,),
                )
            else:
                tx.execute("DELETE FROM search_terms WHERE rowid = ?", (position,))
                tx.execute(
                    "INSERT INTO search_terms (rowid, terms) SELECT position, terms"
                    " FROM search_entries WHERE position = ?",
                    (position,),
                )

    def own_columns(
        self, event: Any, entry: Digest, project: dict[str, Any], batch: Batch
    ) -> dict[str, Any]:
        if _is_correction(event):
            self._add_terms_in_force(event, batch)
        return {
            "cohort_id": project["cohort_id"],
            "council_code": project["council_code"],
            "summary": entry.summary,
            "terms": " ".join(terms(" ".join(_texts(entry.values)))),
        }

    def _add_terms_in_force(self, event: Any, batch: Batch) -> None:
        """The correction's replacement values become terms of its chain's root too."""
        entries = batch[self.entries_table]
        corrected = entries.get(str(event.corrects))
        assert corrected is not None, f"correction of an unknown entry {event.corrects}"
        root = entries.get(corrected["root"] or str(event.corrects))
        assert root is not None, f"the root of {event.corrects} was not loaded"
        replaced = {k: v for k, v in event.replacement.items() if k != "decided_on"}
        added = terms(" ".join(_texts(json.loads(to_json(replaced)))))
        before = root["terms"].split()
        grown = list(dict.fromkeys([*before, *added]))
        if grown != before:
            entries.change(root["entry_id"], terms=" ".join(grown))
            self._retermed.add(int(root["position"]))


def _is_correction(event: Any) -> bool:
    return isinstance(event, Project.EntryCorrected)


@dataclass(frozen=True)
class SearchQuery:
    q: str
    cohort_id: str | None = None
    #: Only these cohorts' entries (what the asker may read); None for every cohort.
    visible_cohorts: frozenset[str] | None = None
    #: And these projects' entries, in whatever cohort (those the asker's council is a
    #: partner of); only with ``visible_cohorts``.
    visible_projects: frozenset[str] = frozenset()
    cursor: str | None = None
    limit: int = 50


def search(db: Database, query: SearchQuery) -> tuple[list[dict[str, Any]], str | None]:
    """Entries whose texts hold every term of ``q`` (as a word or a word's start), newest first."""
    wanted = terms(query.q)[:MAX_QUERY_TERMS]
    if not wanted:
        return [], None
    if db.dialect == "postgres":
        match = "e.position IN (SELECT position FROM search_terms WHERE tsv @@ ?::tsquery)"
        expression = " & ".join(f"'{term}':*" for term in wanted)
    else:
        match = "e.position IN (SELECT rowid FROM search_terms WHERE search_terms MATCH ?)"
        expression = " AND ".join(f'"{term}"*' for term in wanted)
    where, params = [match], [expression]
    if query.cohort_id:
        where.append("e.cohort_id = ?")
        params.append(query.cohort_id)
    if query.visible_cohorts is not None:
        if not query.visible_cohorts and not query.visible_projects:
            return [], None
        cohorts, projects = sorted(query.visible_cohorts), sorted(query.visible_projects)
        seen = [
            *([f"e.cohort_id IN ({', '.join('?' for _ in cohorts)})"] if cohorts else []),
            *([f"e.project_id IN ({', '.join('?' for _ in projects)})"] if projects else []),
        ]
        where.append(f"({' OR '.join(seen)})")
        params.extend([*cohorts, *projects])
    if query.cursor:
        (before,) = decode_cursor(query.cursor, 1)
        where.append("e.position < ?")
        params.append(before)
    rows, next_cursor = keyset_page(
        db,
        "SELECT e.position, e.entry_id, e.kind, e.decided_on, e.recorded_at, e.summary,"
        " e.superseded_by, e.project_id, p.title AS project_title, e.cohort_id,"
        " e.council_code, c.name AS council_name, e.entry_values"
        " FROM search_entries e JOIN srch_projects p ON p.project_id = e.project_id"
        " LEFT JOIN srch_councils c ON c.code = e.council_code"
        f" WHERE {' AND '.join(where)} ORDER BY e.position DESC",
        params,
        query.limit,
        ("position",),
    )
    for row in rows:
        row["values"] = json.loads(row.pop("entry_values"))
    values_in_force(db, "search_entries", rows)
    for row in rows:
        del row["values"]
    return rows, next_cursor
