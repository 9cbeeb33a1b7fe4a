"""Tampering with the stored record directly in SQL, as someone with database access could.

Test code only: it talks to the same SQLite file or PostgreSQL database as
the application, behind its back, on the library's own table names.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import StoredEvent

from services.ledger_chain import GENESIS, checkpoint_message, key_id, link_events
from services.settings import Settings

#: Every stored event has a timestamp: moving it back a thousand years is a change.
STAMP = '"_type_":"datetime_iso","_data_":"2'
BACKDATED = '"_type_":"datetime_iso","_data_":"1'


class Tamperer:
    def __init__(self, settings: Settings) -> None:
        self.postgres = settings.uses_postgres
        # The library's names: SQLite's table is fixed, PostgreSQL's is named for the app.
        prefix = "waymark" if self.postgres else "stored"
        self.events = f"{prefix}_events"
        self.chain = f"{prefix}_ledger_chain"
        self.checkpoints = f"{prefix}_ledger_checkpoints"
        self.position = "notification_id" if self.postgres else "rowid"
        if self.postgres:
            assert settings.database_url is not None
            self.conn: Any = psycopg.connect(settings.database_url, autocommit=True)
        else:
            self.conn = sqlite3.connect(settings.data_dir / "events.sqlite3", isolation_level=None)

    def sql(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        text = text.format(
            events=self.events, chain=self.chain, pos=self.position, checkpoints=self.checkpoints
        )
        if self.postgres:
            text = text.replace("?", "%s")
        cursor = self.conn.execute(text, params)
        return list(cursor.fetchall()) if cursor.description else []

    def state(self, position: int) -> bytes:
        return bytes(self.sql("SELECT state FROM {events} WHERE {pos} = ?", (position,))[0][0])

    def replace_in_state(self, position: int, old: str, new: str) -> None:
        state = self.state(position).decode()
        assert old in state, state
        self.sql(
            "UPDATE {events} SET state = ? WHERE {pos} = ?",
            (state.replace(old, new).encode(), position),
        )

    def delete(self, position: int) -> None:
        self.sql("DELETE FROM {events} WHERE {pos} = ?", (position,))

    def swap(self, first: int, second: int) -> None:
        self.sql("UPDATE {events} SET {pos} = -1 WHERE {pos} = ?", (first,))
        self.sql("UPDATE {events} SET {pos} = ? WHERE {pos} = ?", (first, second))
        self.sql("UPDATE {events} SET {pos} = ? WHERE {pos} = -1", (second,))

    def insert_copy(self, position: int) -> None:
        """A new row: the event at ``position`` again, as a later version of its aggregate."""
        self.sql(
            "INSERT INTO {events} (originator_id, originator_version, topic, state)"
            " SELECT originator_id, originator_version + 1000, topic, state"
            " FROM {events} WHERE {pos} = ?",
            (position,),
        )

    def rechain(self) -> None:
        """Recompute every chain row from the events as they now are, as a careful forger would."""
        rows = self.sql(
            "SELECT {pos}, originator_id, originator_version, topic, state"
            " FROM {events} ORDER BY {pos}"
        )
        events = [
            (
                position,
                StoredEvent(
                    originator_id=originator_id if self.postgres else UUID(originator_id),
                    originator_version=version,
                    topic=topic,
                    state=bytes(state),
                ),
            )
            for position, originator_id, version, topic, state in rows
        ]
        self.sql("DELETE FROM {chain}")
        for link in link_events(GENESIS, events):
            self.sql(
                "INSERT INTO {chain} VALUES (?, ?, ?)",
                (link.position, link.event_hash, link.chain_hash),
            )

    def delete_checkpoints(self, after: int = 0) -> None:
        self.sql("DELETE FROM {checkpoints} WHERE position > ?", (after,))

    def truncate(self, after: int) -> None:
        """Remove the events after ``after`` and their chain entries, leaving no gap."""
        self.sql("DELETE FROM {events} WHERE {pos} > ?", (after,))
        self.sql("DELETE FROM {chain} WHERE position > ?", (after,))

    def resign(self, key: Ed25519PrivateKey, positions: list[int], signed_at: str) -> None:
        """Sign checkpoints at ``positions`` over the chain table as it now is, as someone
        holding the key could."""
        kid = key_id(key.public_key())
        for position in positions:
            [(chain,)] = self.sql("SELECT chain_hash FROM {chain} WHERE position = ?", (position,))
            chain = bytes(chain)
            signature = key.sign(checkpoint_message(position, chain, signed_at, kid))
            self.sql(
                "INSERT INTO {checkpoints} VALUES (?, ?, ?, ?, ?)",
                (position, chain, signed_at, kid, signature),
            )

    def close(self) -> None:
        self.conn.close()


@contextmanager
def tampering(settings: Settings) -> Iterator[Tamperer]:
    tamperer = Tamperer(settings)
    try:
        yield tamperer
    finally:
        tamperer.close()
