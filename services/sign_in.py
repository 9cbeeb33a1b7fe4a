"""Signing in with a password: throttled in the database, bounded in memory.

Three rules, which hold however many workers and instances share the store:

- **Each account has a budget of attempts.** An attempt is counted, in the
  read-model database, *before* its password is checked, by one atomic upsert
  (one row per key), so a burst of parallel guesses at one account gets at
  most ``attempts`` password checks in a window, whichever worker answers
  them. A right password clears the account's count.
- **An address has a much larger budget of failures, across accounts.** Only
  checked passwords that failed count, so locking one account out (whose
  further guesses are refused before any check) never counts against the
  address, and another account signs in from it as usual.
- **Few passwords are checked at once.** argon2 uses its memory cost (64 MiB)
  for each check, so each process checks at most ``concurrent_checks`` at a
  time; the rest wait, briefly, or are told to try again.

The client address is whatever the web layer says it is: it is taken from
forwarded headers only from the proxies named in ``WAYMARK_FORWARDED_ALLOW_IPS``.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import Recording

from domain.errors import DomainError, InvalidValue
from domain.fields import CONTROL
from domain.user import User
from projections.database import Database
from services.credentials import Credentials
from services.records import DecisionRecords
from services.settings import Settings

TABLE = "credential_sign_in_attempts"
#: The longest key kept: usernames are at most 100 characters, addresses at most 45.
MAX_KEY = 200


class TooManyAttempts(DomainError):
    """Sign-in is throttled for this account or address, or too busy just now."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


@dataclass(frozen=True)
class SignInLimits:
    #: Attempts at one account in a window (counted before the password is checked).
    attempts: int = 5
    #: Failed checks from one address, across every account, in a window.
    address_failures: int = 100
    #: Seconds a count lasts from its first attempt.
    window: float = 900
    #: Passwords checked at once in this process.
    concurrent_checks: int = 2
    #: Longest wait, in seconds, for a turn to check a password.
    wait: float = 10


class AttemptCounts:
    """Counts per key in a window, one row each, changed only by atomic statements."""

    def __init__(self, database: Database) -> None:
        self.database = database
        with database.transaction() as tx:
            tx.lock_schema()
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                " attempt_key TEXT PRIMARY KEY, attempts INTEGER NOT NULL,"
                " started DOUBLE PRECISION NOT NULL)"
            )

    def add(self, key: str, now: float, window: float) -> tuple[int, float]:
        """Count one more for ``key`` (a fresh window if the last one is over).

        Returns the count including this one, and when its window started.
        """
        expired = now - window
        with self.database.transaction() as tx:
            row = tx.one(
                f"INSERT INTO {TABLE} (attempt_key, attempts, started) VALUES (?, 1, ?)"
                " ON CONFLICT (attempt_key) DO UPDATE SET"
                f" attempts = CASE WHEN {TABLE}.started <= ? THEN 1"
                f"  ELSE {TABLE}.attempts + 1 END,"
                f" started = CASE WHEN {TABLE}.started <= ? THEN ? ELSE {TABLE}.started END"
                " RETURNING attempts, started",
                (key, now, expired, expired, now),
            )
        assert row is not None
        return int(row["attempts"]), float(row["started"])

    def take_back(self, key: str) -> None:
        """Uncount one attempt that was never made (no turn to check it came)."""
        with self.database.transaction() as tx:
            tx.execute(
                f"UPDATE {TABLE} SET attempts = attempts - 1"
                " WHERE attempt_key = ? AND attempts > 0",
                (key,),
            )

    def count(self, key: str, now: float, window: float) -> tuple[int, float]:
        row = self.database.one(
            f"SELECT attempts, started FROM {TABLE} WHERE attempt_key = ? AND started > ?",
            (key, now - window),
        )
        return (int(row["attempts"]), float(row["started"])) if row else (0, now)

    def clear(self, key: str) -> None:
        with self.database.transaction() as tx:
            tx.execute(f"DELETE FROM {TABLE} WHERE attempt_key = ?", (key,))

    def forget_expired(self, now: float, window: float) -> None:
        with self.database.transaction() as tx:
            tx.execute(f"DELETE FROM {TABLE} WHERE started <= ?", (now - window,))


class SignIn:
    """Checks a password under the limits and starts a browser session for the right one."""

    def __init__(
        self,
        credentials: Credentials,
        database: Database,
        limits: SignInLimits | None = None,
        *,
        session_hours: float = 8,
    ) -> None:
        self.credentials = credentials
        self.counts = AttemptCounts(database)
        self.limits = limits or SignInLimits()
        self.session_hours = session_hours
        self._turns = threading.BoundedSemaphore(self.limits.concurrent_checks)
        self._checks_lock = threading.Lock()
        #: Passwords this instance has checked (each one an argon2 verification).
        self.checks = 0
        #: Called after each password check (metrics count them).
        self.on_check: list[Callable[[], None]] = []

    @classmethod
    def configured(cls, settings: Settings, credentials: Credentials, database: Database) -> SignIn:
        """Sign-in with the limits ``WAYMARK_SIGN_IN_*`` and ``WAYMARK_PASSWORD_CHECKS`` set."""
        return cls(
            credentials,
            database,
            SignInLimits(
                attempts=settings.sign_in_attempts,
                address_failures=settings.sign_in_address_failures,
                window=settings.sign_in_window_seconds,
                concurrent_checks=settings.password_checks,
            ),
            session_hours=settings.session_hours,
        )

    def sign_in(self, username: str, password: str, address: str) -> str | None:
        """A new session id for the right password; None otherwise. Raises when throttled."""
        if not self.check(username, password, address):
            return None
        return self.credentials.start_session(username.strip().lower(), hours=self.session_hours)

    def check(self, username: str, password: str, address: str) -> bool:
        """Whether the password is right, under the same limits as signing in (a signed-in
        person's current password, asked for before they change it, is guessed no faster)."""
        if CONTROL.search(username):  # no user has one (and PostgreSQL text cannot hold NUL)
            raise InvalidValue("username", "must not contain control characters")
        name = username.strip().lower()
        account = f"account:{name}"[:MAX_KEY]
        origin = f"address:{address}"[:MAX_KEY]
        limits = self.limits
        now = time.time()
        failures, started = self.counts.count(origin, now, limits.window)
        if failures >= limits.address_failures:
            raise TooManyAttempts(
                "too many failed sign-ins from this address: wait and try again",
                self._remaining(started, now),
            )
        attempts, started = self.counts.add(account, now, limits.window)
        if attempts > limits.attempts:
            remaining = self._remaining(started, now)
            raise TooManyAttempts(
                f"too many failed sign-ins: wait {math.ceil(remaining / 60)} minutes and try again",
                remaining,
            )
        if not self._turns.acquire(timeout=limits.wait):
            self.counts.take_back(account)
            raise TooManyAttempts("too many sign-ins at once: try again in a moment", 5)
        try:
            right = self.credentials.check_password(name, password)
        finally:
            self._turns.release()
            self._checked()
        if not right:
            self.counts.add(origin, now, limits.window)
            if random.random() < 0.01:  # noqa: S311 (housekeeping, not security)
                self.counts.forget_expired(now, limits.window)
            return False
        self.counts.clear(account)
        return True

    def _checked(self) -> None:
        with self._checks_lock:
            self.checks += 1
        for listener in self.on_check:
            listener()

    def _remaining(self, started: float, now: float) -> int:
        return math.ceil(started + self.limits.window - now)


def end_sessions_on_revocation(
    records: DecisionRecords, credentials: Credentials
) -> Callable[[Sequence[Recording[UUID]]], None]:
    """A listener of the record: a user whose role is revoked loses their browser sessions.

    Whoever revokes it (the command line, the API, any worker), the sessions end at
    once in every worker, since they are kept in the shared database.
    """

    def listener(recordings: Sequence[Recording[UUID]]) -> None:
        for recording in recordings:
            event = recording.domain_event
            if isinstance(event, User.RoleRevoked):
                user: User = records.repository.get(event.originator_id)
                credentials.end_sessions(user.username)

    return listener
