"""What every read model shares: a name, a version, its tables, and event handlers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from projections.database import Transaction

Positioned = tuple[int, Any]  # (log position, domain event)


class ReadModel:
    """A table (or a few) kept up to date from the event log.

    ``version`` changes whenever the tables or the handlers change; a stored
    read model of another version is dropped and rebuilt on start.
    """

    name: ClassVar[str]
    version: ClassVar[int]
    tables: ClassVar[tuple[str, ...]]

    def create_tables(self, tx: Transaction) -> None:
        raise NotImplementedError

    def drop_tables(self, tx: Transaction) -> None:
        for table in self.tables:
            tx.execute(f"DROP TABLE IF EXISTS {table}")

    def process(self, events: Sequence[Positioned], tx: Transaction) -> None:
        """Apply a batch of events; the caller commits them with the new position."""
        for position, event in events:
            self.handle(event, position, tx)

    def handle(self, event: Any, position: int, tx: Transaction) -> None:
        """Each read model dispatches on the event's class (``singledispatchmethod``).

        Events a read model has no use for change nothing; its position still moves.
        """


def instant(value: datetime) -> str:
    """A UTC instant as fixed-width ISO 8601 text, so that text order is time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (UUID, date)):
        return str(value) if isinstance(value, UUID) else value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(values: dict[str, Any]) -> str:
    """Entry values as JSON: decimals as strings (exact), ids and dates as text."""
    return json.dumps(_plain(values), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
