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

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any

from domain.project import Project
from projections.base import Batch, Table, decode_cursor, digest, encode_cursor
from projections.database import Database, Transaction
from projections.reference import EntryReadModel, ProjectsAndCouncils

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
    name = "search"
    version = 2  # 2: amounts of money in summaries as £125,000.00
    rebuild_weight = 4
    reference = ProjectsAndCouncils("srch")
    tables = ("search_entries", "search_terms", *reference.tables)

    def create_tables(self, tx: Transaction) -> None:
        self.create_reference_tables(tx)
        tx.execute(
            "CREATE TABLE search_entries (position BIGINT PRIMARY KEY,"
            " entry_id TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL, cohort_id TEXT NOT NULL,"
            " council_code TEXT NOT NULL, kind TEXT NOT NULL, decided_on TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL, summary TEXT NOT NULL, superseded_by TEXT,"
            " terms TEXT NOT NULL)"
        )
        if tx.dialect == "postgres":
            tx.execute(
                "CREATE TABLE search_terms (position BIGINT PRIMARY KEY, tsv tsvector NOT NULL)"
            )
            tx.execute("CREATE INDEX search_terms_tsv ON search_terms USING GIN (tsv)")
        else:
            tx.execute("CREATE VIRTUAL TABLE search_terms USING fts5(terms, tokenize = 'ascii')")

    def start_batch(self, tx: Transaction) -> Batch:
        return Batch(
            tx, *self.reference.batch_tables(), Table("search_entries", "entry_id", COLUMNS)
        )

    def process(self, events: Any, tx: Transaction) -> None:
        super().process(events, tx)
        # The index follows the rows this batch added (positions above any indexed before).
        first = next((p for p, e in events if isinstance(e, Project.EntryRecorded)), None)
        if first is None:
            return
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

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        pass

    @handle.register
    def _entry_recorded(self, event: Project.EntryRecorded, position: int, batch: Batch) -> None:
        entry = digest(batch.tx, position, event)
        project = self.reference.project(entry, batch)
        entries = batch["search_entries"]
        if isinstance(event, Project.EntryCorrected):
            entries.change(str(event.corrects), superseded_by=entry.entry_id)
        entries.add(
            {
                "position": position,
                "entry_id": entry.entry_id,
                "project_id": entry.project_id,
                "cohort_id": project["cohort_id"],
                "council_code": project["council_code"],
                "kind": entry.kind,
                "decided_on": entry.decided_on,
                "recorded_at": entry.recorded_at,
                "summary": entry.summary,
                "superseded_by": None,
                "terms": " ".join(terms(" ".join(_texts(entry.values)))),
            }
        )


@dataclass(frozen=True)
class SearchQuery:
    q: str
    cohort_id: str | None = None
    #: Only these cohorts' entries (what the asker may read); None for every cohort.
    visible_cohorts: frozenset[str] | None = None
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
        if not query.visible_cohorts:
            return [], None
        visible = sorted(query.visible_cohorts)
        where.append(f"e.cohort_id IN ({', '.join('?' for _ in visible)})")
        params.extend(visible)
    if query.cursor:
        (before,) = decode_cursor(query.cursor, 1)
        where.append("e.position < ?")
        params.append(before)
    rows = db.all(
        "SELECT e.position, e.entry_id, e.kind, e.decided_on, e.recorded_at, e.summary,"
        " e.superseded_by, e.project_id, p.title AS project_title, e.cohort_id,"
        " e.council_code, c.name AS council_name"
        " FROM search_entries e JOIN srch_projects p ON p.project_id = e.project_id"
        " LEFT JOIN srch_councils c ON c.code = e.council_code"
        f" WHERE {' AND '.join(where)} ORDER BY e.position DESC LIMIT ?",
        (*params, query.limit + 1),
    )
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        return rows, encode_cursor([rows[-1]["position"]])
    return rows, None
