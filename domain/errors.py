"""Errors raised by the domain's rules, shared by every aggregate."""

from __future__ import annotations

from datetime import date


class DomainError(Exception):
    """Base class: something the record cannot accept."""


class InvalidValue(DomainError):
    """A value breaks a rule; ``field`` names the value at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DateTooLate(InvalidValue):
    """A date after the latest one allowed (today, for what happened in the world)."""

    def __init__(self, field: str, message: str, latest: date) -> None:
        super().__init__(field, message)
        self.latest = latest


class DateTooEarly(InvalidValue):
    """A date before the earliest one that makes sense, unless confirmed as meant.

    ``earliest`` is that date and ``because`` says what it is ("the cohort started").
    """

    def __init__(self, field: str, message: str, earliest: date, because: str) -> None:
        super().__init__(field, message)
        self.earliest = earliest
        self.because = because


class NotFound(DomainError):
    """The thing named does not exist in the record."""

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key} was not found")
        self.what = what
        self.key = key


class Conflict(DomainError):
    """The command is well formed but the record's state refuses it."""


class StaleVersion(DomainError):
    """The caller acted on a version of the aggregate that is no longer current."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"expected version {expected}, but the record is at version {actual}")
        self.expected = expected
        self.actual = actual
