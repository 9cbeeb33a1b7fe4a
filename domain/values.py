"""Small value rules shared by the aggregates."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TypeVar

from domain.errors import InvalidValue

E = TypeVar("E", bound=StrEnum)


def required_text(field: str, value: str, *, max_length: int = 20_000) -> str:
    """Text that must say something: surrounding white space is dropped."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidValue(field, "must not be empty")
    if len(text) > max_length:
        raise InvalidValue(field, f"must be at most {max_length} characters")
    return text


def optional_text(field: str, value: str | None, *, max_length: int = 20_000) -> str:
    if value is None:
        return ""
    if len(value) > max_length:
        raise InvalidValue(field, f"must be at most {max_length} characters")
    return value.strip()


def one_of(field: str, value: str, choices: type[E]) -> E:
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(member.value for member in choices)
        raise InvalidValue(field, f"must be one of: {allowed}") from None


def not_in_future(field: str, value: date, today: date) -> date:
    if value > today:
        raise InvalidValue(field, f"must not be later than today ({today.isoformat()})")
    return value
