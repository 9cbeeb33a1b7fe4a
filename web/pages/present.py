"""How the record's values read on a page: entries as label and text, and word diffs."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from domain.project import Entry, Project
from projections.summaries import pounds
from web.api.presenters import plain
from web.pages import words
from web.pages.entry_forms import FORMS, FormField


@dataclass(frozen=True)
class Line:
    label: str
    text: str
    #: An anchor on the page where the value is another entry.
    href: str = ""


@dataclass
class EntryView:
    entry_id: str
    kind: str
    decided_on: str
    recorded_at: str
    actor: str
    lines: list[Line] = field(default_factory=list)
    superseded_by: str = ""
    corrects: str = ""
    statement_version: int | None = None


def show(field: FormField, value: Any) -> Line | None:
    value = plain(value)
    if value in (None, "", []):
        return None
    if field.widget == "lines":
        return Line(field.label, ", ".join(value))
    if field.widget == "radios":
        return Line(field.label, words.label(value))
    if field.widget == "money":
        return Line(field.label, pounds(value))
    if field.widget == "entry":
        return Line(field.label, "See the entry", f"#entry-{value}")
    if field.widget == "date":
        return Line(field.label, str(value))
    return Line(field.label, str(value))


def lines_of(kind: str, values: dict[str, Any]) -> list[Line]:
    found = []
    for f in FORMS.get(kind, ()):
        if f.name != "decided_on" and (line := show(f, values.get(f.name))) is not None:
            found.append(line)
    return found


def entry_view(project: Project, entry: Entry) -> EntryView:
    view = EntryView(
        entry_id=str(entry.entry_id),
        kind=entry.kind,
        decided_on=entry.decided_on.isoformat(),
        recorded_at=plain(entry.recorded_at),
        actor=entry.actor,
        superseded_by=str(entry.superseded_by) if entry.superseded_by else "",
        corrects=str(entry.corrects) if entry.corrects else "",
        statement_version=entry.statement_version,
    )
    if entry.corrects is None:
        view.lines = lines_of(entry.kind, entry.fields)
        return view
    replacement = dict(entry.fields.get("replacement") or {})
    view.lines = [
        Line("Reason", f"{words.label(entry.fields['reason_kind'])}: {entry.fields['reason']}")
    ]
    if "decided_on" in replacement:
        view.lines.append(Line("Date decided becomes", str(replacement.pop("decided_on"))))
    for line in lines_of(project.corrected_kind(entry), replacement):
        view.lines.append(Line(f"{line.label} becomes", line.text, line.href))
    return view


def current_values(project: Project, entry: Entry) -> dict[str, Any]:
    """The values an entry stands for now, as JSON: its own, or its correction's in force."""
    root = entry
    while root.corrects is not None:
        root = project.entries[root.corrects]
    values = entry.effective if entry.corrects is not None else entry.fields
    return {"decided_on": root.decided_on.isoformat(), **plain(values)}


@dataclass(frozen=True)
class Change:
    #: "same", "removed" or "added"
    op: str
    text: str


def word_diff(before: str, after: str) -> list[Change]:
    """What changed between two statements, word by word."""
    old, new = before.split(), after.split()
    changes: list[Change] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            changes.append(Change("same", " ".join(old[i1:i2])))
            continue
        if i2 > i1:
            changes.append(Change("removed", " ".join(old[i1:i2])))
        if j2 > j1:
            changes.append(Change("added", " ".join(new[j1:j2])))
    return changes


def uuid_or_none(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None
