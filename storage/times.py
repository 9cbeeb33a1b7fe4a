"""Instants as stored: fixed-width ISO 8601 UTC text, so that text order is time order."""

from __future__ import annotations

from datetime import UTC, datetime


def instant(value: datetime) -> str:
    """A UTC instant as fixed-width ISO 8601 text, so that text order is time order."""
    # isoformat with fixed microseconds is the strftime format below, several times faster.
    if value.tzinfo is UTC:  # as the record's timestamps are: no conversion, no copy
        return value.isoformat(timespec="microseconds")[:-6] + "Z"
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
