"""How the record's values read on a page: entries as label and text, and word diffs."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from domain.errors import InvalidValue
from domain.project import Entry, Project
from services.queries import plain, pounds
from web.pages import words
from web.pages.entry_forms import FORMS, FormField
from web.pages.rendering import long_date


@dataclass(frozen=True)
class Line:
    label: str
    text: str
    #: An anchor on the page where the value is another entry.
    href: str = ""
    #: What the value was as recorded, where a correction changed it.
    was: str = ""
    #: Links to evidence elsewhere (title, address): http or https only, as recorded.
    links: tuple[tuple[str, str], ...] = ()


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
    #: The latest correction of the entry's chain: its values in force are shown.
    in_force_by: str = ""
    #: The date decided as recorded, where a correction changed it.
    decided_on_was: str = ""


def show(field: FormField, value: Any) -> Line | None:
    value = plain(value)
    if value in (None, "", []) or value is False:
        return None
    if field.widget == "confirm":  # kept with the entry, so that reviewers see it was meant
        return Line("Date decided", "Confirmed as an earlier decision")
    if field.widget == "public":
        return Line("Public", "Shown on the project's public page")
    if field.widget == "links":
        links = tuple((str(link["title"]), str(link["url"])) for link in value)
        return Line("Links", "; ".join(f"{t} ({u})" for t, u in links), links=links)
    if field.widget == "lines":
        return Line(field.label, ", ".join(value))
    if field.widget == "radios":
        return Line(field.label, words.label(value))
    if field.widget == "money":
        return Line(field.label, pounds(value))
    if field.widget == "entry":
        return Line(field.label, "See the entry", f"#entry-{value}")
    if field.widget == "date":
        return Line(field.label, long_date(value))
    return Line(field.label, str(value))


def lines_of(kind: str, values: dict[str, Any]) -> list[Line]:
    found = []
    for f in FORMS.get(kind, ()):
        if f.name != "decided_on" and (line := show(f, values.get(f.name))) is not None:
            found.append(line)
    return found


#: What every entry in a project's view carries besides its own fields.
ENTRY_META = frozenset(
    {"entry_id", "kind", "decided_on", "recorded_at", "actor", "superseded_by", "effective"}
    | {"statement_version"}
)


def lines_in_force(kind: str, was: Mapping[str, Any], now: Mapping[str, Any]) -> list[Line]:
    """An entry's values in force as label and text, each changed one with what it was."""
    found = []
    for f in FORMS.get(kind, ()):
        if f.name == "decided_on":
            continue
        line = show(f, now.get(f.name))
        before = show(f, was.get(f.name))
        if plain(now.get(f.name)) == plain(was.get(f.name)):
            if line is not None:
                found.append(line)
            continue
        was_text = before.text if before is not None else "not given"
        found.append(
            replace(line, was=was_text) if line else Line(f.label, "Not given", "", was_text)
        )
    return found


def changed_lines(kind: str, changes: Iterable[Mapping[str, Any]]) -> list[Line]:
    """What corrections changed (``field``, ``was``, ``now``), as label and text with
    what each value was; the date decided is said on its own."""
    fields = {f.name: f for f in FORMS.get(kind, ())}
    found = []
    for change in changes:
        f = fields.get(change["field"])
        if f is None or f.name == "decided_on":
            continue
        now, was = show(f, change["now"]), show(f, change["was"])
        found.append(
            Line(f.label, now.text if now else "Not given", was=was.text if was else "not given")
        )
    return found


def in_force(item: dict[str, Any]) -> dict[str, Any]:
    """A timeline or search row with what a page shows of its values in force: the
    changed values' lines (each with what it was) and the date decided in force."""
    found = item.get("in_force")
    item["in_force_lines"] = changed_lines(item["kind"], found["changes"]) if found else []
    item["decided_on_was"] = ""
    if found and found["values"].get("decided_on", item["decided_on"]) != item["decided_on"]:
        item["decided_on_was"] = item["decided_on"]
        item["decided_on"] = found["values"]["decided_on"]
    return item


def by_id(entries: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """A project view's entries by their id."""
    return {e["entry_id"]: e for e in entries}


def fields_of(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The values an entry was recorded with (a correction's own, not those it puts in force)."""
    return {k: v for k, v in entry.items() if k not in ENTRY_META}


def corrected_kind(entries: Mapping[str, Mapping[str, Any]], entry: Mapping[str, Any]) -> str:
    """The kind of the original entry at the root of a chain of corrections."""
    while entry["kind"] == "entry_corrected":
        entry = entries[entry["corrects"]]
    return str(entry["kind"])


def entry_view(entries: Mapping[str, Mapping[str, Any]], entry: Mapping[str, Any]) -> EntryView:
    """One entry of a project view (``services.queries``), as label and text."""
    correction = entry["kind"] == "entry_corrected"
    view = EntryView(
        entry_id=entry["entry_id"],
        kind=entry["kind"],
        decided_on=entry["decided_on"],
        recorded_at=entry["recorded_at"],
        actor=entry["actor"],
        superseded_by=entry["superseded_by"] or "",
        corrects=entry["corrects"] if correction else "",
        statement_version=entry.get("statement_version"),
    )
    fields = fields_of(entry)
    if not correction:
        if view.superseded_by:
            latest = entry
            while latest["superseded_by"] and latest["superseded_by"] in entries:
                latest = entries[latest["superseded_by"]]
            if latest is not entry:
                now = {"decided_on": entry["decided_on"], **dict(latest.get("effective") or {})}
                view.in_force_by = latest["entry_id"]
                if now["decided_on"] != entry["decided_on"]:
                    view.decided_on, view.decided_on_was = now["decided_on"], entry["decided_on"]
                view.lines = lines_in_force(entry["kind"], fields, now)
                return view
        view.lines = lines_of(entry["kind"], fields)
        return view
    replacement = dict(fields.get("replacement") or {})
    view.lines = [Line("Reason", f"{words.label(fields['reason_kind'])}: {fields['reason']}")]
    if "decided_on" in replacement:
        view.lines.append(Line("Date decided becomes", long_date(replacement.pop("decided_on"))))
    for line in lines_of(corrected_kind(entries, entry), replacement):
        view.lines.append(Line(f"{line.label} becomes", line.text, line.href))
    return view


def statement_text(
    entries: Mapping[str, Mapping[str, Any]],
    project: Mapping[str, Any],
    version: int,
    field: str = "version",
) -> str:
    """The text of one iteration of the problem statement, as currently corrected."""
    for statement in project["problem_statements"]:
        if statement["version"] == version:
            latest = entries[statement["entry_id"]]
            while latest["superseded_by"]:
                latest = entries[latest["superseded_by"]]
            values = latest.get("effective", latest)
            return str(values["statement"])
    raise InvalidValue(field, f"there is no problem statement version {version}")


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


def taking_part(lead: str, partners: list[str]) -> str:
    """Who takes part in a project: "Exeter, with Devon and Hackney as partners"."""
    if not partners:
        return lead
    named = partners[0] if len(partners) == 1 else f"{', '.join(partners[:-1])} and {partners[-1]}"
    return f"{lead}, with {named} as {'partner' if len(partners) == 1 else 'partners'}"


def councils_taking_part(
    projects: Iterable[Mapping[str, Any]], names: Mapping[str, str]
) -> list[dict[str, str]]:
    """Every council leading or a partner of one of ``projects`` (``code``, ``name``),
    once each, by name: the councils a cohort's timeline can be filtered by."""
    codes = set()
    for p in projects:
        codes.add(str(p["council_code"]))
        codes.update(p.get("partner_council_codes") or ())
    found = [{"code": code, "name": names.get(code) or code} for code in codes]
    return sorted(found, key=lambda c: (c["name"], c["code"]))
