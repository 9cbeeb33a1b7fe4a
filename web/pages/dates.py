"""Dates typed into a page's filters: GOV.UK date inputs, read and checked."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from starlette.datastructures import QueryParams

from web.pages.entry_forms import FieldError, FormField, body_values, raw_values


def date_fields(*names: str) -> tuple[FormField, ...]:
    return tuple(FormField(name, "date", required=False) for name in names)


def typed(fields: tuple[FormField, ...], query: QueryParams) -> dict[str, str]:
    """What was typed into the date inputs, exactly, to show again."""
    return raw_values(fields, query)  # type: ignore[arg-type]


def typed_day(raw: dict[str, str], name: str, label: str, errors: list[FieldError]) -> date | None:
    """The day typed into the date input ``name``; None when blank or (with an error) wrong."""
    text = body_values(date_fields(name), raw).get(name)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(
            FieldError(name, f"{label} must be a real date, like 27 3 2026", f"#{name}-day")
        )
        return None


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def end_of(day: date) -> datetime:
    """The last instant of the day (UTC): "as it stood on" a day includes all of it."""
    return start_of(day + timedelta(days=1)) - timedelta(microseconds=1)
