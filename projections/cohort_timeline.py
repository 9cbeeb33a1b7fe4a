"""Cohort timeline: the entries across a cohort's projects, newest first (``entries``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from projections.base import decode_cursor, keyset_page
from projections.database import Database
from projections.entries import Entries, values_in_force

ORDERS = ("recorded_at", "decided_on")


@dataclass(frozen=True)
class TimelineQuery:
    cohort_id: str
    kind: str | None = None
    council: str | None = None
    phase: str | None = None
    since: str | None = None
    until: str | None = None
    as_of: str | None = None
    order: str = "recorded_at"
    cursor: str | None = None
    limit: int = 50


def timeline(db: Database, query: TimelineQuery) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the timeline, newest first, and the cursor of the next page (or None).

    ``council`` keeps the entries of the projects the council leads, and of those it is a
    partner of at the instant read (now, or ``as_of``). Each row names the project's lead
    council (``lead_council_code``, ``lead_council_name``) and its partners at that
    instant (``partner_council_codes``, ``partner_council_names``, sorted by code).
    """
    spells = Entries.partners
    where = ["e.cohort_id = ?"]
    params: list[Any] = [query.cohort_id]
    if query.kind:
        where.append("e.kind = ?")
        params.append(query.kind)
    if query.council:
        partnered, partnered_params = spells.projects_of(query.council, query.as_of)
        where.append(f"(e.council_code = ? OR e.project_id IN ({partnered}))")
        params.extend([query.council, *partnered_params])
    if query.phase:
        where.append("e.phase = ?")
        params.append(query.phase)
    if query.since:
        where.append("e.decided_on >= ?")
        params.append(query.since)
    if query.until:
        where.append("e.decided_on <= ?")
        params.append(query.until)
    if query.as_of:
        where.append("e.recorded_at <= ?")
        params.append(query.as_of)
    key: tuple[str, ...]
    if query.order == "recorded_at":
        order_by, key = "e.position DESC", ("position",)
        if query.cursor:
            (position,) = decode_cursor(query.cursor, 1)
            where.append("e.position < ?")
            params.append(position)
    else:
        order_by, key = "e.decided_on DESC, e.position DESC", ("decided_on", "position")
        if query.cursor:
            decided_on, position = decode_cursor(query.cursor, 2)
            where.append("(e.decided_on < ? OR (e.decided_on = ? AND e.position < ?))")
            params.extend([decided_on, decided_on, position])
    superseded = "e.superseded_by"
    superseded_at = "e.superseded_at"
    if query.as_of:
        superseded = "CASE WHEN e.superseded_at <= ? THEN e.superseded_by END"
        superseded_at = "CASE WHEN e.superseded_at <= ? THEN e.superseded_at END"
        params = [query.as_of, query.as_of, *params]
    sql = (
        f"SELECT e.position, e.entry_id, e.project_id, e.council_code, c.name AS council_name,"
        f" e.kind, e.decided_on, e.recorded_at, e.actor, e.phase, e.summary, e.entry_values,"
        f" e.corrects, {superseded} AS superseded_by, {superseded_at} AS superseded_at"
        f" FROM entries e LEFT JOIN entry_councils c ON c.code = e.council_code"
        f" WHERE {' AND '.join(where)} ORDER BY {order_by}"
    )
    rows, next_cursor = keyset_page(db, sql, params, query.limit, key)
    for row in rows:
        row["values"] = json.loads(row.pop("entry_values"))
    values_in_force(db, rows, query.as_of)
    _with_partners(db, rows, query.as_of)
    return rows, next_cursor


def _with_partners(db: Database, rows: list[dict[str, Any]], as_of: str | None) -> None:
    """Name each row's lead council and its project's partners now, or at ``as_of``."""
    with db.reading() as tx:
        partners = Entries.partners.of_projects(tx, [r["project_id"] for r in rows], as_of)
        codes = {code for found in partners.values() for code in found}
        names = {
            r["code"]: r["name"]
            for r in tx.all_in("SELECT code, name FROM entry_councils WHERE code IN", codes)
        }
    for row in rows:
        found = partners.get(row["project_id"], [])
        row["lead_council_code"] = row["council_code"]
        row["lead_council_name"] = row["council_name"]
        row["partner_council_codes"] = found
        row["partner_council_names"] = [names.get(code, code) for code in found]


def first_entry_recorded(db: Database, cohort_id: str) -> str | None:
    """When the cohort's first entry was recorded (None if none is)."""
    row = db.one(
        "SELECT recorded_at FROM entries WHERE cohort_id = ? ORDER BY position LIMIT 1",
        (cohort_id,),
    )
    return None if row is None else str(row["recorded_at"])
