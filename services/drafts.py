"""Drafts: a person's unfinished entry form, kept for them alone (issue 17, point 3).

A draft is not part of the record: it is no event, never in the log, the audit or an
export, and nobody but the person who saved it sees it. There is at most one draft per
person, project and kind of entry; saving again replaces it, and recording the entry
(or discarding the draft) removes it. What is kept is what was typed, as typed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from projections.database import Database

#: The most characters of typed answers a draft keeps (a form is bounded before this).
MAX_DRAFT = 200_000


class Drafts:
    def __init__(self, database: Database) -> None:
        self.database = database
        with database.transaction() as tx:
            tx.lock_schema()
            tx.execute(
                "CREATE TABLE IF NOT EXISTS entry_drafts ("
                " username TEXT NOT NULL, project_id TEXT NOT NULL, kind TEXT NOT NULL,"
                " answers TEXT NOT NULL, saved_at TEXT NOT NULL,"
                " PRIMARY KEY (username, project_id, kind))"
            )

    def save(
        self, username: str, project_id: UUID, kind: str, answers: dict[str, str], now: datetime
    ) -> None:
        text = json.dumps(answers, ensure_ascii=False)[:MAX_DRAFT]
        with self.database.transaction() as tx:
            tx.execute(
                "DELETE FROM entry_drafts WHERE username = ? AND project_id = ? AND kind = ?",
                (username, str(project_id), kind),
            )
            tx.execute(
                "INSERT INTO entry_drafts (username, project_id, kind, answers, saved_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (username, str(project_id), kind, text, now.isoformat()),
            )

    def find(self, username: str, project_id: UUID, kind: str) -> dict[str, Any] | None:
        """The draft's ``answers`` (as typed) and when it was ``saved_at``, or None."""
        row = self.database.one(
            "SELECT answers, saved_at FROM entry_drafts"
            " WHERE username = ? AND project_id = ? AND kind = ?",
            (username, str(project_id), kind),
        )
        if row is None:
            return None
        try:
            answers = json.loads(row["answers"])
        except ValueError:
            answers = {}
        return {"answers": answers, "saved_at": datetime.fromisoformat(row["saved_at"])}

    def discard(self, username: str, project_id: UUID, kind: str) -> None:
        with self.database.transaction() as tx:
            tx.execute(
                "DELETE FROM entry_drafts WHERE username = ? AND project_id = ? AND kind = ?",
                (username, str(project_id), kind),
            )
