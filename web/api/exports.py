"""Exports for reviewers: every stored event as NDJSON, a cohort's timeline as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from domain.project import ENTRY_KINDS
from projections.cohort_timeline import TimelineQuery
from services.access import Permission
from services.container import Waymark
from web.deps import WaymarkDep, allow
from web.schemas import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/export", tags=["exports"], responses=PROBLEM_RESPONSES)

TIMELINE_COLUMNS = (
    "log_position",
    "entry_id",
    "recorded_at",
    "decided_on",
    "kind",
    "council_code",
    "council_name",
    "project_id",
    "actor",
    "project_phase",
    "summary",
    "corrects",
    "superseded_by",
    "superseded_at",
)
#: Where a timeline row's name differs from its CSV column's.
RENAMED = {"position": "log_position", "phase": "project_phase"}
#: Every entry kind's own fields, each once, in the order the kinds declare them.
VALUE_COLUMNS = tuple(
    dict.fromkeys(
        name
        for kind in ENTRY_KINDS.values()
        for name in (*kind.FIELDS, "replacement")
        if name not in TIMELINE_COLUMNS
    )
)


@router.get(
    "/events.ndjson",
    dependencies=[allow(Permission.AUDIT)],
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
)
def events_ndjson(waymark: WaymarkDep) -> StreamingResponse:
    """Every stored event, one JSON object per line, in log order (docs/EXPORT.md)."""
    return StreamingResponse(
        waymark.ledger.export_lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="events.ndjson"'},
    )


@router.get(
    "/timeline.csv",
    dependencies=[allow(Permission.AUDIT)],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def timeline_csv(
    waymark: WaymarkDep,
    cohort: UUID = Query(description="The cohort whose timeline to export."),
) -> StreamingResponse:
    """A cohort's timeline, newest first, as RFC 4180 CSV in UTF-8 with a header row."""
    first_page = _timeline_page(waymark, cohort, None)  # a missing cohort is a 404 now
    return StreamingResponse(
        _csv_lines(waymark, cohort, first_page),
        media_type="text/csv; charset=utf-8; header=present",
        headers={"Content-Disposition": f'attachment; filename="timeline-{cohort}.csv"'},
    )


def _timeline_page(
    waymark: Waymark, cohort: UUID, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    return waymark.timeline(TimelineQuery(cohort_id=str(cohort), cursor=cursor, limit=500))


def _csv_lines(
    waymark: Waymark, cohort: UUID, page: tuple[list[dict[str, Any]], str | None]
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # the default dialect is RFC 4180: CRLF, "" escapes quotes
    writer.writerow((*TIMELINE_COLUMNS, *VALUE_COLUMNS))
    while True:
        rows, cursor = page
        for row in rows:
            writer.writerow(_csv_row(row))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if cursor is None:
            return
        page = _timeline_page(waymark, cohort, cursor)


def _csv_row(row: dict[str, Any]) -> list[str]:
    cells = {RENAMED.get(name, name): value for name, value in row.items() if name != "values"}
    values = row["values"]
    return [_cell(cells.get(name)) for name in TIMELINE_COLUMNS] + [
        _cell(values.get(name)) for name in VALUE_COLUMNS
    ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
