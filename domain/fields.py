"""Declarative field rules, so each entry kind states its fields once.

A ``Field`` turns a raw value (as a client sent it, already parsed from JSON)
into the value the record keeps, or raises ``InvalidValue`` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.errors import InvalidValue

MAX_TEXT = 20_000
MAX_NAMES = 100
#: Control characters other than tab and line breaks have no place in the record
#: (and PostgreSQL text cannot hold NUL).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_characters(name: str, text: str) -> str:
    if CONTROL.search(text):
        raise InvalidValue(name, "must not contain control characters")
    return text


@dataclass(frozen=True)
class Field:
    required: bool = True

    def clean(self, name: str, value: Any) -> Any:
        if value is None:
            if self.required:
                raise InvalidValue(name, "is required")
            return self.empty()
        return self.convert(name, value)

    def empty(self) -> Any:
        return None

    def convert(self, name: str, value: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Field):
    max_length: int = MAX_TEXT

    def empty(self) -> str:
        return ""

    def convert(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidValue(name, "must be text")
        text = value.strip()
        if self.required and not text:
            raise InvalidValue(name, "must not be empty")
        if len(text) > self.max_length:
            raise InvalidValue(name, f"must be at most {self.max_length} characters")
        return _no_control_characters(name, text)


@dataclass(frozen=True)
class Choice(Field):
    choices: type[StrEnum] | None = None

    def empty(self) -> str:
        return ""

    def convert(self, name: str, value: Any) -> str:
        assert self.choices is not None
        try:
            return str(self.choices(value).value)
        except ValueError:
            allowed = ", ".join(member.value for member in self.choices)
            raise InvalidValue(name, f"must be one of: {allowed}") from None


@dataclass(frozen=True)
class Names(Field):
    """A list of short texts: people, organisations, alternatives."""

    def empty(self) -> list[str]:
        return []

    def convert(self, name: str, value: Any) -> list[str]:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise InvalidValue(name, "must be a list of texts")
        names = [_no_control_characters(name, v.strip()) for v in value if v.strip()]
        if self.required and not names:
            raise InvalidValue(name, "must name at least one")
        if len(names) > MAX_NAMES:
            raise InvalidValue(name, f"must have at most {MAX_NAMES} items")
        if any(len(n) > 500 for n in names):
            raise InvalidValue(name, "each item must be at most 500 characters")
        return names


@dataclass(frozen=True)
class Money(Field):
    """An amount in pounds sterling: exact, never negative, at most pence precision."""

    def convert(self, name: str, value: Any) -> Decimal:
        if isinstance(value, (float, bool)):
            raise InvalidValue(name, "must be a decimal string such as '1250.00'")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise InvalidValue(name, "must be a decimal amount such as '1250.00'") from None
        if not amount.is_finite():
            raise InvalidValue(name, "must be a finite amount")
        if amount < 0:
            raise InvalidValue(name, "must not be negative")
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            raise InvalidValue(name, "must have at most two decimal places (pence)")
        if amount >= Decimal("1e12"):
            raise InvalidValue(name, "is too large")
        return amount


@dataclass(frozen=True)
class Integer(Field):
    minimum: int | None = None
    maximum: int | None = None

    def convert(self, name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidValue(name, "must be a whole number")
        if self.minimum is not None and value < self.minimum:
            raise InvalidValue(name, f"must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise InvalidValue(name, f"must be at most {self.maximum}")
        return int(value)


@dataclass(frozen=True)
class Reference(Field):
    """The id of another entry of the same project."""

    def convert(self, name: str, value: Any) -> UUID:
        if isinstance(value, UUID):
            return value
        try:
            return UUID(str(value))
        except ValueError:
            raise InvalidValue(name, "must be an entry id (a UUID)") from None


@dataclass(frozen=True)
class Day(Field):
    def convert(self, name: str, value: Any) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise InvalidValue(name, "must be a date such as 2026-03-31") from None


def clean_fields(
    spec: Mapping[str, Field], given: Mapping[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """Check ``given`` against ``spec``; with ``partial`` only the given fields count."""
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise InvalidValue(unknown[0], "is not a field of this kind of entry")
    names = [n for n in spec if n in given] if partial else list(spec)
    return {name: spec[name].clean(name, given.get(name)) for name in names}
