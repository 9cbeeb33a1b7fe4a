"""Cohort sessions: each session a cohort held, and who came from each council, by role."""

from __future__ import annotations

import json
from functools import singledispatchmethod
from typing import Any

from domain.cohort import Cohort
from domain.vocabulary import AttendeeRole
from projections.base import Batch, ReadModel
from projections.database import Database, Transaction
from storage.times import instant

#: Roles in the order pages show them: members, then officers from the top down.
ROLE_ORDER = {role.value: i for i, role in enumerate(AttendeeRole)}


class Sessions(ReadModel):
    name = "sessions"
    version = 1
    tables = ("ses_sessions", "ses_attendance")

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        pass

    def create_tables(self, tx: Transaction) -> None:
        tx.execute(
            "CREATE TABLE ses_sessions (session_id TEXT PRIMARY KEY, cohort_id TEXT NOT NULL,"
            " session_kind TEXT NOT NULL, held_on TEXT NOT NULL, topic TEXT NOT NULL,"
            " run_by TEXT NOT NULL, notes TEXT NOT NULL, links TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL, actor TEXT NOT NULL, position BIGINT NOT NULL)"
        )
        tx.execute("CREATE INDEX ses_sessions_cohort ON ses_sessions (cohort_id, held_on)")
        tx.execute(
            "CREATE TABLE ses_attendance (attendance_key TEXT PRIMARY KEY,"
            " session_id TEXT NOT NULL, cohort_id TEXT NOT NULL, council_code TEXT NOT NULL,"
            " role TEXT NOT NULL, people INTEGER NOT NULL, recorded_at TEXT NOT NULL)"
        )
        tx.execute("CREATE INDEX ses_attendance_cohort ON ses_attendance (cohort_id)")
        tx.execute("CREATE INDEX ses_attendance_council ON ses_attendance (council_code)")

    @handle.register
    def _held(self, event: Cohort.SessionHeld, position: int, batch: Batch) -> None:
        session_id, cohort_id = str(event.session_id), str(event.originator_id)
        recorded_at = instant(event.timestamp)
        batch.tx.execute(
            "INSERT INTO ses_sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session_id,
                cohort_id,
                event.session_kind,
                event.held_on.isoformat(),
                event.topic,
                event.run_by,
                event.notes,
                json.dumps(event.links),
                recorded_at,
                event.actor,
                position,
            ),
        )
        if event.attendance:
            batch.tx.executemany(
                "INSERT INTO ses_attendance VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        f"{session_id}/{a['council_code']}/{a['role']}",
                        session_id,
                        cohort_id,
                        a["council_code"],
                        a["role"],
                        a["people"],
                        recorded_at,
                    )
                    for a in event.attendance
                ],
            )


def _as_of(column: str, as_of: str | None) -> tuple[str, tuple[str, ...]]:
    return (f" AND {column} <= ?", (as_of,)) if as_of else ("", ())


def _attendance_order(row: dict[str, Any]) -> tuple[str, int]:
    return row["council_code"], ROLE_ORDER.get(row["role"], 99)


def sessions_of_cohort(
    db: Database, cohort_id: str, as_of: str | None = None
) -> list[dict[str, Any]]:
    """The cohort's sessions, latest held first, each with its ``attendance`` and ``links``."""
    when, params = _as_of("s.recorded_at", as_of)
    sessions = db.all(
        "SELECT s.* FROM ses_sessions s WHERE s.cohort_id = ?"
        f"{when} ORDER BY s.held_on DESC, s.position DESC",
        (cohort_id, *params),
    )
    attendance: dict[str, list[dict[str, Any]]] = {}
    for row in db.all(
        "SELECT a.session_id, a.council_code, a.role, a.people, c.name AS council_name"
        " FROM ses_attendance a LEFT JOIN dir_councils c ON c.code = a.council_code"
        " WHERE a.cohort_id = ?",
        (cohort_id,),
    ):
        attendance.setdefault(row.pop("session_id"), []).append(row)
    for session in sessions:
        session["links"] = json.loads(session["links"])
        session["attendance"] = sorted(
            attendance.get(session["session_id"], []), key=_attendance_order
        )
    return sessions


def sessions_of_council(db: Database, code: str) -> list[dict[str, Any]]:
    """The sessions the council's people came to, latest first, each with the cohort's and
    programme's names and the council's own ``attendance`` (role and people)."""
    rows = db.all(
        "SELECT s.session_id, s.cohort_id, s.session_kind, s.held_on, s.topic, s.run_by,"
        " s.position, a.role, a.people, c.name AS cohort_name, c.programme_id,"
        " p.name AS programme_name"
        " FROM ses_attendance a JOIN ses_sessions s ON s.session_id = a.session_id"
        " LEFT JOIN dir_cohorts c ON c.cohort_id = s.cohort_id"
        " LEFT JOIN dir_programmes p ON p.programme_id = c.programme_id"
        " WHERE a.council_code = ? ORDER BY s.held_on DESC, s.position DESC",
        (code,),
    )
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        role, people = row.pop("role"), row.pop("people")
        session = found.setdefault(row["session_id"], {**row, "attendance": []})
        session["attendance"].append({"role": role, "people": people})
    for session in found.values():
        session["attendance"].sort(key=lambda a: ROLE_ORDER.get(a["role"], 99))
    return list(found.values())


def attendance_by_council(
    db: Database, cohort_ids: list[str], as_of: str | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    """For each (cohort, council): how many of the cohort's sessions its people came to,
    and how many people came in all, by role (``by_role``, roles in their order)."""
    when, params = _as_of("recorded_at", as_of)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    if not cohort_ids:
        return found
    marks = ", ".join("?" * len(cohort_ids))
    rows = db.all(
        "SELECT cohort_id, council_code, role, SUM(people) AS people,"
        " COUNT(DISTINCT session_id) AS sessions FROM ses_attendance"
        f" WHERE cohort_id IN ({marks}){when} GROUP BY cohort_id, council_code, role",
        (*cohort_ids, *params),
    )
    sessions = db.all(
        "SELECT cohort_id, council_code, COUNT(DISTINCT session_id) AS sessions"
        f" FROM ses_attendance WHERE cohort_id IN ({marks}){when}"
        " GROUP BY cohort_id, council_code",
        (*cohort_ids, *params),
    )
    for row in sessions:
        found[(row["cohort_id"], row["council_code"])] = {
            "sessions_attended": int(row["sessions"]),
            "by_role": {},
        }
    for row in sorted(rows, key=lambda r: ROLE_ORDER.get(r["role"], 99)):
        found[(row["cohort_id"], row["council_code"])]["by_role"][row["role"]] = int(row["people"])
    return found
