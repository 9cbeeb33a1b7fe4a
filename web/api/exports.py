"""Exports for reviewers: every stored event as NDJSON, a cohort's timeline as CSV."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from domain.project import ENTRY_KINDS
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
#: A corrected entry's values in force (after the latest correction), at the end of each row:
#: the summary they make, what changed from what ("Estimated cost: £48,000.00, was
#: £4,800.00"), and the correction in force. Blank for an entry never corrected.
IN_FORCE_COLUMNS = ("in_force_summary", "in_force_changes", "in_force_correction_id")
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
    """A cohort's timeline, newest first, as RFC 4180 CSV in UTF-8 with a header row.

    Cells that a spreadsheet would read as a formula begin with an added
    apostrophe (docs/EXPORT.md): remove the one leading apostrophe of a cell
    that has one to get the value as recorded.
    """
    first_page = _timeline_page(waymark, cohort, None)  # a missing cohort is a 404 now
    return StreamingResponse(
        _csv_lines(waymark, cohort, first_page),
        media_type="text/csv; charset=utf-8; header=present",
        headers={"Content-Disposition": f'attachment; filename="timeline-{cohort}.csv"'},
    )


def _timeline_page(
    waymark: Waymark, cohort: UUID, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    return waymark.queries.timeline(cohort, cursor=cursor, limit=500)


def _csv_lines(
    waymark: Waymark, cohort: UUID, page: tuple[list[dict[str, Any]], str | None]
) -> Iterator[str]:
    yield csv_line(TIMELINE_COLUMNS + VALUE_COLUMNS + IN_FORCE_COLUMNS)
    while True:
        rows, cursor = page
        yield "".join(csv_line(_csv_row(row)) for row in rows)
        if cursor is None:
            return
        page = _timeline_page(waymark, cohort, cursor)


#: What a spreadsheet may read as the start of a formula (OWASP, "CSV injection"), and
#: the apostrophe that marks a neutralised cell (so that one added is always told apart).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
#: A negative amount is a number, not a formula: it stays as it is, a number to a spreadsheet.
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def csv_cell(value: str) -> str:
    """One cell of RFC 4180 CSV, safe to open in a spreadsheet.

    A cell that begins with ``= + - @``, a tab or a carriage return (or with an
    apostrophe) gets one apostrophe before it and is quoted, so a spreadsheet
    shows it as text and runs nothing; a plain number such as ``-12.50`` is left
    alone. The value is not lost: a program reading the file gets the original by
    removing the one leading apostrophe of any cell that begins with one.
    """
    if value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        return '"' + ("'" + value).replace('"', '""') + '"'
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_line(cells: Iterable[str]) -> str:
    """A row of cells, comma-separated and ended with CRLF, as RFC 4180 writes it."""
    return ",".join(csv_cell(cell) for cell in cells) + "\r\n"


def _csv_row(row: dict[str, Any]) -> list[str]:
    cells = {RENAMED.get(name, name): value for name, value in row.items() if name != "values"}
    values = row["values"]
    in_force = row.get("in_force") or {}
    return (
        [_cell(cells.get(name)) for name in TIMELINE_COLUMNS]
        + [_cell(values.get(name)) for name in VALUE_COLUMNS]
        + [
            _cell(in_force.get("summary")),
            _cell(in_force.get("changes_text")),
            _cell(in_force.get("correction_id")),
        ]
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
