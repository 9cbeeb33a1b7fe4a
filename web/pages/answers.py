"""A form's answers as the "Check your answers" page shows them, before they are recorded.

Nothing recorded can be edited, so every entry form and the correction form
show the answers first; they travel between the pages in hidden fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from web.pages import words
from web.pages.entry_forms import FormField, body_values


@dataclass(frozen=True)
class Answer:
    """One row of a GOV.UK summary list: the question, the answer's lines, where to change it."""

    label: str
    lines: tuple[str, ...]
    #: The id of the field's first input on the form, where "Change" takes the cursor.
    target: str


def _day(text: str) -> str:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day.day} {day:%B %Y}"


def _lines(field: FormField, value: object, entry_choices: Mapping[str, str]) -> tuple[str, ...]:
    if field.widget == "date":
        return (_day(str(value)),)
    if field.widget == "radios":
        return (words.label(value),)
    if field.widget == "entry":
        return (entry_choices.get(str(value), str(value)),)
    if field.widget == "links" and isinstance(value, list):
        return tuple(f"{link['title']}: {link['url']}" for link in value)
    if field.widget == "lines" and isinstance(value, list):
        return tuple(str(v) for v in value)
    if field.widget == "money":
        return (f"£{value}",)
    if field.widget == "flag":
        return ("Yes" if value else "No",)
    return tuple(line for line in str(value).splitlines() if line.strip()) or ("",)


def rows(
    fields: tuple[FormField, ...], raw: dict[str, str], entry_choices: Mapping[str, str]
) -> list[Answer]:
    """Each field's answer as typed (``raw``), in the form's order."""
    body = body_values(fields, raw)
    found = []
    for field in fields:
        value = body.get(field.name)
        if field.widget == "confirm":
            if value:
                found.append(Answer("Recording an earlier decision", ("Yes",), field.input_name))
            continue
        if field.widget == "public":
            shown_public = "Yes, on the project's public page" if value else "No"
            found.append(Answer("Public", (shown_public,), field.input_name))
            continue
        if value is None:
            shown: tuple[str, ...] = ("Today",) if field.name == "decided_on" else ("Not given",)
        else:
            shown = _lines(field, value, entry_choices)
        found.append(Answer(field.label, shown, field.first_input_id))
    return found
