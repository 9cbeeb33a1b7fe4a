"""People: who uses Waymark and which roles they hold now, with who granted each and when,
for the admin pages that list them; and where each one's weekly digest goes (``email``,
and ``digest``: 1 or 0 once they chose, NULL while it follows their roles)."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from domain.user import User
from projections.base import Batch, ReadModel
from projections.database import Database, Transaction
from storage.times import instant


def grant_key(username: str, role: str, programme_id: object, council_code: object) -> str:
    """One grant of one person: a role with its scope (a programme or a council, or none)."""
    return f"{username}/{role}/{programme_id or ''}/{council_code or ''}"


class People(ReadModel):
    name = "people"
    version = 2
    tables = ("people_users", "people_grants")

    @singledispatchmethod
    def handle(self, event: object, position: int, batch: Batch) -> None:
        pass

    def create_tables(self, tx: Transaction) -> None:
        tx.execute(
            "CREATE TABLE people_users (username TEXT PRIMARY KEY, user_id TEXT NOT NULL UNIQUE,"
            " display_name TEXT NOT NULL, registered_at TEXT NOT NULL,"
            " registered_by TEXT NOT NULL, email TEXT, digest INTEGER)"
        )
        tx.execute(
            "CREATE TABLE people_grants (grant_key TEXT PRIMARY KEY, username TEXT NOT NULL,"
            " role TEXT NOT NULL, programme_id TEXT NOT NULL, council_code TEXT NOT NULL,"
            " granted_at TEXT NOT NULL, granted_by TEXT NOT NULL)"
        )
        tx.execute("CREATE INDEX people_grants_user ON people_grants (username)")

    @handle.register
    def _registered(self, event: User.Registered, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "INSERT INTO people_users VALUES (?, ?, ?, ?, ?, NULL, NULL)",
            (
                event.username,
                str(event.originator_id),
                event.display_name,
                instant(event.timestamp),
                event.actor,
            ),
        )

    @handle.register
    def _email(self, event: User.EmailRecorded, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "UPDATE people_users SET email = ? WHERE user_id = ?",
            (event.email, str(event.originator_id)),
        )

    @handle.register
    def _digest(self, event: User.DigestChosen, position: int, batch: Batch) -> None:
        batch.tx.execute(
            "UPDATE people_users SET digest = ? WHERE user_id = ?",
            (int(event.wanted), str(event.originator_id)),
        )

    @handle.register
    def _granted(self, event: User.RoleGranted, position: int, batch: Batch) -> None:
        username = _username(batch.tx, event)
        batch.tx.execute(
            "INSERT INTO people_grants VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                grant_key(username, event.role, event.programme_id, event.council_code),
                username,
                event.role,
                str(event.programme_id or ""),
                event.council_code or "",
                instant(event.timestamp),
                event.actor,
            ),
        )

    @handle.register
    def _revoked(self, event: User.RoleRevoked, position: int, batch: Batch) -> None:
        username = _username(batch.tx, event)
        batch.tx.execute(
            "DELETE FROM people_grants WHERE grant_key = ?",
            (grant_key(username, event.role, event.programme_id, event.council_code),),
        )


def _username(tx: Transaction, event: Any) -> str:
    row = tx.one("SELECT username FROM people_users WHERE user_id = ?", (str(event.originator_id),))
    if row is None:
        raise LookupError(f"no user registered with id {event.originator_id}")
    return str(row["username"])


def list_people(db: Database) -> list[dict[str, Any]]:
    """Everyone, by username, each with their grants (``grants``), programmes and councils
    named where the directory knows them."""
    people = db.all("SELECT * FROM people_users ORDER BY username")
    grants = _named_grants(db, "", ())
    by_user: dict[str, list[dict[str, Any]]] = {}
    for grant in grants:
        by_user.setdefault(grant["username"], []).append(grant)
    for person in people:
        person["grants"] = by_user.get(person["username"], [])
    return people


def find_person(db: Database, username: str) -> dict[str, Any] | None:
    person = db.one("SELECT * FROM people_users WHERE username = ?", (username,))
    if person is not None:
        person["grants"] = _named_grants(db, " WHERE g.username = ?", (username,))
    return person


def _named_grants(db: Database, where: str, params: tuple[str, ...]) -> list[dict[str, Any]]:
    return db.all(
        "SELECT g.*, p.name AS programme_name, c.name AS council_name FROM people_grants g"
        " LEFT JOIN dir_programmes p ON p.programme_id = g.programme_id"
        " LEFT JOIN dir_councils c ON c.code = g.council_code"
        f"{where} ORDER BY g.username, g.role, p.name, c.name, g.grant_key",
        params,
    )


def digest_readers(db: Database) -> list[dict[str, Any]]:
    """Everyone with an email address and a programme to manage or a council to follow,
    with ``programme_ids`` and ``council_codes`` (their grants) and ``digest`` as chosen."""
    people = db.all("SELECT * FROM people_users WHERE email IS NOT NULL ORDER BY username")
    grants = db.all(
        "SELECT username, role, programme_id, council_code FROM people_grants"
        " WHERE role IN ('programme_manager', 'participant') ORDER BY grant_key"
    )
    readers = []
    for person in people:
        mine = [g for g in grants if g["username"] == person["username"]]
        person["programme_ids"] = [g["programme_id"] for g in mine if g["programme_id"]]
        person["council_codes"] = [g["council_code"] for g in mine if g["council_code"]]
        if person["programme_ids"] or person["council_codes"]:
            readers.append(person)
    return readers
