"""Nudges: what a weekly digest names, read from the read models that already hold it.

For each programme a person manages (or each programme their council's projects are
in): projects gone quiet (the comparison's quiet flag, as of the digest's day),
concerns open longer than an age (the comparison's open concerns, dated by the
timeline's entries, corrections in force), and wishes (``support_requested``) with no
answer yet. Only projects still under way count: not withdrawn, in a cohort not closed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from projections.comparison import ComparisonQuery, comparison
from projections.database import Database, Transaction
from projections.entries import values_in_force

#: The entry kind that answers a wish, and its field naming the wish it answers.
ANSWER_KIND = "support_answered"
ANSWERED_FIELD = "request_entry_id"


@dataclass(frozen=True)
class NudgeQuery:
    """Whose nudges, counted to ``today``.

    ``programme_ids``: every project of these programmes (a programme manager's).
    ``council_codes``: these councils' projects, those they lead and those they are
    partners of now, in whichever programme (a participant's).
    """

    today: date
    quiet_after_days: int
    concern_after_days: int
    programme_ids: tuple[str, ...] = ()
    council_codes: tuple[str, ...] = ()


def nudges(db: Database, query: NudgeQuery) -> list[dict[str, Any]]:
    """One section per programme, by name: ``programme_id``, ``name``, ``quiet_projects``,
    ``old_concerns``, ``unanswered_wishes`` and ``coming_sessions`` (the sessions of their
    cohorts held from ``today`` to six days on), each a list (empty when nothing to say)."""
    with db.reading() as tx:
        projects = _projects_in_scope(tx, query)
    if not projects:
        return []
    by_id = {p["project_id"]: p for p in projects}
    cohort_ids = sorted({p["cohort_id"] for p in projects})
    rows = comparison(
        db,
        ComparisonQuery(
            today=query.today,
            cohort_ids=tuple(cohort_ids),
            quiet_after_days=query.quiet_after_days,
        ),
    )
    quiet = [
        {**by_id[r["project_id"]], "last_recorded_on": r["last_recorded_on"]}
        for r in rows
        if r["project_id"] in by_id and r["quiet"] and not r["withdrawn"]
    ]
    concerns = _old_concerns(db, by_id, query)
    wishes = _unanswered_wishes(db, by_id, cohort_ids)
    sessions = _coming_sessions(db, {p["cohort_id"]: p for p in projects}, query.today)
    sections: dict[str, dict[str, Any]] = {}
    for project in projects:
        sections.setdefault(
            project["programme_id"],
            {
                "programme_id": project["programme_id"],
                "name": project["programme_name"],
                "quiet_projects": [],
                "old_concerns": [],
                "unanswered_wishes": [],
                "coming_sessions": [],
            },
        )
    for key, found in (
        ("quiet_projects", quiet),
        ("old_concerns", concerns),
        ("unanswered_wishes", wishes),
        ("coming_sessions", sessions),
    ):
        for item in sorted(found, key=_order):
            sections[item["programme_id"]][key].append(item)
    return sorted(sections.values(), key=lambda s: (s["name"], s["programme_id"]))


def _order(item: dict[str, Any]) -> tuple[str, ...]:
    if "session_id" in item:
        return (item["held_on"], item["cohort_name"], item["topic"])
    return (item.get("decided_on") or "", item["council_name"], item["title"])


#: How far ahead the digest looks for sessions: the day it is for and the six after it.
SESSION_DAYS = 7


def _coming_sessions(
    db: Database, cohorts: dict[str, dict[str, Any]], today: date
) -> list[dict[str, Any]]:
    """The sessions of these cohorts (each given by one of its projects' rows, for its
    name and programme) held in the week from ``today``."""
    last = today + timedelta(days=SESSION_DAYS - 1)
    with db.reading() as tx:
        found = tx.all_in(
            "SELECT session_id, cohort_id, session_kind, held_on, topic, run_by"
            " FROM ses_sessions WHERE held_on >= ? AND held_on <= ? AND cohort_id IN",
            sorted(cohorts),
            (today.isoformat(), last.isoformat()),
        )
    return [
        {
            **row,
            "cohort_name": cohorts[row["cohort_id"]]["cohort_name"],
            "programme_id": cohorts[row["cohort_id"]]["programme_id"],
        }
        for row in found
    ]


def _projects_in_scope(tx: Transaction, query: NudgeQuery) -> list[dict[str, Any]]:
    sql = (
        "SELECT p.project_id, p.cohort_id, p.council_code, p.title, c.name AS cohort_name,"
        " c.programme_id, g.name AS programme_name, COALESCE(k.name, p.council_code)"
        " AS council_name FROM dir_projects p"
        " JOIN dir_cohorts c ON c.cohort_id = p.cohort_id"
        " JOIN dir_programmes g ON g.programme_id = c.programme_id"
        " LEFT JOIN dir_councils k ON k.code = p.council_code"
        " WHERE p.withdrawn = 0 AND c.closed = 0 AND"
    )
    found: dict[str, dict[str, Any]] = {}
    if query.programme_ids:
        for row in tx.all_in(f"{sql} c.programme_id IN", query.programme_ids):
            found[row["project_id"]] = row
    if query.council_codes:
        for row in tx.all_in(f"{sql} p.council_code IN", query.council_codes):
            found[row["project_id"]] = row
        partnered = (
            f"{sql} p.project_id IN (SELECT project_id FROM dir_partners WHERE council_code IN"
        )
        for row in tx.all_in(partnered, query.council_codes, then=")"):
            found[row["project_id"]] = row
    return list(found.values())


def _entries(
    db: Database, entry_ids: Iterable[str], by_id: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The timeline's rows of these entries, each with its values in force (``values``,
    ``decided_on``) and its project's names."""
    with db.reading() as tx:
        rows = tx.all_in(
            "SELECT entry_id, project_id, kind, decided_on, entry_values, superseded_by"
            " FROM entries WHERE entry_id IN",
            sorted(entry_ids),
        )
    for row in rows:
        row["values"] = json.loads(row["entry_values"])
    values_in_force(db, rows)
    entries = []
    for row in rows:
        values = row["in_force"]["values"] if row["in_force"] else row["values"]
        entries.append(
            {
                **by_id[row["project_id"]],
                "entry_id": row["entry_id"],
                "decided_on": values.get("decided_on", row["decided_on"]),
                "values": values,
            }
        )
    return entries


def _old_concerns(
    db: Database, by_id: dict[str, dict[str, Any]], query: NudgeQuery
) -> list[dict[str, Any]]:
    open_ids: set[str] = set()
    with db.reading() as tx:
        for row in tx.all_in(
            "SELECT project_id, state FROM cmp_projects WHERE project_id IN", sorted(by_id)
        ):
            open_ids.update(json.loads(row["state"])["open_concerns"])
    concerns = []
    for entry in _entries(db, open_ids, by_id):
        days = (query.today - date.fromisoformat(entry["decided_on"])).days
        if days >= query.concern_after_days:
            concerns.append({**entry, "days_open": days})
    return concerns


def _unanswered_wishes(
    db: Database, by_id: dict[str, dict[str, Any]], cohort_ids: list[str]
) -> list[dict[str, Any]]:
    with db.reading() as tx:
        asked = tx.all_in(
            "SELECT entry_id, project_id FROM entries"
            " WHERE kind = 'support_requested' AND cohort_id IN",
            cohort_ids,
        )
        answered = answered_wishes(tx, cohort_ids)
    waiting = [a["entry_id"] for a in asked if a["project_id"] in by_id]
    return _entries(db, set(waiting) - answered, by_id)


def answered_wishes(tx: Transaction, cohort_ids: list[str]) -> set[str]:
    """The wishes of these cohorts that have an answer: every entry of ``ANSWER_KIND``
    names the wish it answers in ``ANSWERED_FIELD`` (until that kind is recorded, none)."""
    answers = tx.all_in(
        f"SELECT entry_values FROM entries WHERE kind = '{ANSWER_KIND}' AND cohort_id IN",
        cohort_ids,
    )
    return {str(json.loads(a["entry_values"]).get(ANSWERED_FIELD)) for a in answers} - {"None"}
