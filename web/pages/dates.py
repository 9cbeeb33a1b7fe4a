"""Dates typed into a page's filters: GOV.UK date inputs, read and checked."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from starlette.datastructures import QueryParams

from web.pages.entry_forms import FieldError, FormField, body_values, date_message, raw_values


def date_fields(*names: str) -> tuple[FormField, ...]:
    return tuple(FormField(name, "date", required=False) for name in names)


def typed(fields: tuple[FormField, ...], query: QueryParams) -> dict[str, str]:
    """What was typed into the date inputs, exactly, to show again."""
    return raw_values(fields, query)  # type: ignore[arg-type]


def typed_day(
    raw: dict[str, str],
    name: str,
    label: str,
    errors: list[FieldError],
    *,
    latest: date | None = None,
) -> date | None:
    """The day typed into the date input ``name``; None when blank or (with an error) wrong.

    With ``latest`` (today, for "as it stood on"), a later day is an error too.
    """
    text = body_values(date_fields(name), raw).get(name)
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        field = FormField(name, "date", required=False)
        message = date_message(field, raw).replace(field.label, label, 1)
        errors.append(FieldError(name, message, f"#{name}-day"))
        return None
    if latest is not None and day > latest:
        errors.append(FieldError(name, f"{label} must be today or in the past", f"#{name}-day"))
        return None
    return day


def typed_range(
    raw: dict[str, str], labels: tuple[str, str], errors: list[FieldError]
) -> tuple[date | None, date | None]:
    """The days typed into the inputs ``since`` and ``until``: a "to" date before the
    "from" date is an error, not a range with nothing in it."""
    since_label, until_label = labels
    since = typed_day(raw, "since", since_label, errors)
    until = typed_day(raw, "until", until_label, errors)
    if since is not None and until is not None and until < since:
        errors.append(
            FieldError(
                "until",
                f"{until_label} must be the same as or after {since_label[:1].lower()}"
                f"{since_label[1:]}",
                "#until-day",
            )
        )
        return since, None
    return since, until


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def end_of(day: date) -> datetime:
    """The last instant of the day (UTC): "as it stood on" a day includes all of it.

    (Built from the day itself, not the next one, which 31 December 9999 does not have.)
    """
    return datetime.combine(day, time.max, tzinfo=UTC)


def past_day(raw: dict[str, str], errors: list[FieldError], today: date) -> datetime | None:
    """The end of the day typed into "as it stood on", checked: a real day, not a future one."""
    day = typed_day(raw, "as_of", "The date", errors)
    if day is not None and day > today:
        errors.append(FieldError("as_of", "The date must be today or in the past", "#as_of-day"))
        return None
    return end_of(day) if day is not None else None
