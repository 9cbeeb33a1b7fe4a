"""Support requests ("the one wish") and the programme's answers to them.

A request and each answer are entries of a project; a correction of either
changes the values shown (its latest version's id is kept beside the first's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import singledispatchmethod
from typing import Any

from domain.project import Project
from projections.base import Batch, Positioned, ReadModel, Table
from projections.database import Database, Transaction
from storage.times import instant

#: Which entry fields each table keeps, by the entry field's name.
_REQUEST_FIELDS = {"wish": "wish", "from_whom": "from_whom", "decided_on": "asked_on"}
_ANSWER_FIELDS = {"status": "status", "detail": "detail", "decided_on": "answered_on"}


REQUESTS, ANSWERS = "sup_requests", "sup_answers"
_COLUMNS = {
    REQUESTS: (
        "entry_id",
        "latest_id",
        "project_id",
        "wish",
        "from_whom",
        "asked_on",
        "recorded_at",
        "actor",
        "position",
    ),
    ANSWERS: (
        "entry_id",
        "latest_id",
        "request_entry_id",
        "project_id",
        "status",
        "detail",
        "answered_on",
        "recorded_at",
        "actor",
        "position",
    ),
}


class _Batch(Batch):
    def __init__(self, tx: Transaction) -> None:
        super().__init__(
            tx, *(Table(name, "entry_id", columns) for name, columns in _COLUMNS.items())
        )
        #: The latest version's id of each request and answer this batch knows of ->
        #: (its table, the first version's id).
        self.latest: dict[str, tuple[str, str]] = {}


class Support(ReadModel):
    name = "support"
    version = 1
    tables = (REQUESTS, ANSWERS)

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        pass

    def create_tables(self, tx: Transaction) -> None:
        tx.execute(
            "CREATE TABLE sup_requests (entry_id TEXT PRIMARY KEY, latest_id TEXT NOT NULL,"
            " project_id TEXT NOT NULL, wish TEXT NOT NULL, from_whom TEXT NOT NULL,"
            " asked_on TEXT NOT NULL, recorded_at TEXT NOT NULL, actor TEXT NOT NULL,"
            " position BIGINT NOT NULL)"
        )
        tx.execute("CREATE INDEX sup_requests_project ON sup_requests (project_id)")
        tx.execute("CREATE INDEX sup_requests_latest ON sup_requests (latest_id)")
        tx.execute(
            "CREATE TABLE sup_answers (entry_id TEXT PRIMARY KEY, latest_id TEXT NOT NULL,"
            " request_entry_id TEXT NOT NULL, project_id TEXT NOT NULL, status TEXT NOT NULL,"
            " detail TEXT NOT NULL, answered_on TEXT NOT NULL, recorded_at TEXT NOT NULL,"
            " actor TEXT NOT NULL, position BIGINT NOT NULL)"
        )
        tx.execute("CREATE INDEX sup_answers_request ON sup_answers (request_entry_id)")
        tx.execute("CREATE INDEX sup_answers_latest ON sup_answers (latest_id)")

    def start_batch(self, tx: Transaction) -> Batch:
        return _Batch(tx)

    def prefetch(self, events: Sequence[Positioned], batch: Batch) -> None:
        """The requests and answers this batch's corrections may correct, by latest id."""
        assert isinstance(batch, _Batch)
        corrected = {str(e.corrects) for _, e in events if isinstance(e, Project.EntryCorrected)}
        if not corrected:
            return
        for name in (REQUESTS, ANSWERS):
            for row in batch[name].load_where(batch.tx, "latest_id", corrected):
                batch.latest[row["latest_id"]] = (name, row["entry_id"])

    @handle.register
    def _entry(self, event: Project.EntryRecorded, position: int, batch: Batch) -> None:
        assert isinstance(batch, _Batch)
        kind = event.KIND
        entry_id = str(event.entry_id)
        if kind == "support_requested":
            batch[REQUESTS].add(
                {
                    "entry_id": entry_id,
                    "latest_id": entry_id,
                    "project_id": str(event.originator_id),
                    "wish": event.wish,
                    "from_whom": event.from_whom,
                    "asked_on": event.decided_on.isoformat(),
                    "recorded_at": instant(event.timestamp),
                    "actor": event.actor,
                    "position": position,
                }
            )
            batch.latest[entry_id] = (REQUESTS, entry_id)
        elif kind == "support_answered":
            batch[ANSWERS].add(
                {
                    "entry_id": entry_id,
                    "latest_id": entry_id,
                    "request_entry_id": str(event.request_entry_id),
                    "project_id": str(event.originator_id),
                    "status": event.status,
                    "detail": event.detail,
                    "answered_on": event.decided_on.isoformat(),
                    "recorded_at": instant(event.timestamp),
                    "actor": event.actor,
                    "position": position,
                }
            )
            batch.latest[entry_id] = (ANSWERS, entry_id)
        elif kind == "entry_corrected":
            self._corrected(event, batch)

    @staticmethod
    def _corrected(event: Any, batch: _Batch) -> None:
        """A correction of a request or an answer: its replacement values, in force."""
        found = batch.latest.pop(str(event.corrects), None)
        if found is None:
            return  # a correction of another kind of entry
        table, first_id = found
        fields = _REQUEST_FIELDS if table == REQUESTS else _ANSWER_FIELDS
        replacement = event.replacement
        changes = {
            column: str(replacement[name].isoformat())
            if isinstance(replacement[name], date)
            else str(replacement[name])
            for name, column in fields.items()
            if name in replacement
        }
        changes["latest_id"] = str(event.entry_id)
        batch[table].change(first_id, **changes)
        batch.latest[str(event.entry_id)] = found


def support_requests(
    db: Database, *, programme_id: str | None = None, project_ids: list[str] | None = None
) -> list[dict[str, Any]]:
    """Every support request of a programme's cohorts (or of the given projects), oldest
    asked first, each with its council, cohort, ``answers`` (in the order recorded), its
    ``status`` (the latest answer's, ``unanswered`` without one) and ``days_to_answer``
    (from the day asked to the day of its first answer; None while unanswered)."""
    sql = (
        "SELECT r.entry_id, r.project_id, r.wish, r.from_whom, r.asked_on, r.recorded_at,"
        " r.actor, p.council_code, p.cohort_id, c.name AS cohort_name, c.programme_id,"
        " k.name AS council_name FROM sup_requests r"
        " JOIN dir_projects p ON p.project_id = r.project_id"
        " JOIN dir_cohorts c ON c.cohort_id = p.cohort_id"
        " LEFT JOIN dir_councils k ON k.code = p.council_code"
    )
    if programme_id is not None:
        requests = db.all(
            f"{sql} WHERE c.programme_id = ? ORDER BY r.asked_on, r.position", (programme_id,)
        )
    else:
        ids = project_ids or []
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        requests = db.all(
            f"{sql} WHERE r.project_id IN ({marks}) ORDER BY r.asked_on, r.position", ids
        )
    answers: dict[str, list[dict[str, Any]]] = {}
    ids = [r["entry_id"] for r in requests]
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ", ".join("?" * len(part))
        for row in db.all(
            "SELECT entry_id, request_entry_id, status, detail, answered_on, recorded_at, actor"
            f" FROM sup_answers WHERE request_entry_id IN ({marks}) ORDER BY position",
            part,
        ):
            answers.setdefault(row.pop("request_entry_id"), []).append(row)
    for request in requests:
        found = answers.get(request["entry_id"], [])
        request["answers"] = found
        request["status"] = found[-1]["status"] if found else "unanswered"
        first = min((a["answered_on"] for a in found), default=None)
        request["days_to_answer"] = (
            (date.fromisoformat(first) - date.fromisoformat(request["asked_on"])).days
            if first
            else None
        )
    return requests
