"""Search: full text over the entries' texts, the same on PostgreSQL and SQLite.

Text is cut into terms in Python, once (``projections.terms``), and indexed with the
entries (``projections.entries``): case-folded, accents dropped,
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
from dataclasses import dataclass
from typing import Any

from projections.base import decode_cursor, keyset_page
from projections.database import Database
from projections.entries import TSVECTOR, values_in_force
from projections.terms import terms

#: Query terms after these are ignored.
MAX_QUERY_TERMS = 16


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
        match = f"{TSVECTOR.format('e')} @@ ?::tsquery"
        expression = " & ".join(f"'{term}':*" for term in wanted)
    else:
        match = "e.position IN (SELECT rowid FROM entry_terms WHERE entry_terms MATCH ?)"
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
        " FROM entries e JOIN entry_projects p ON p.project_id = e.project_id"
        " LEFT JOIN entry_councils c ON c.code = e.council_code"
        f" WHERE {' AND '.join(where)} ORDER BY e.position DESC",
        params,
        query.limit,
        ("position",),
    )
    for row in rows:
        row["values"] = json.loads(row.pop("entry_values"))
    values_in_force(db, rows)
    for row in rows:
        del row["values"]
    return rows, next_cursor
