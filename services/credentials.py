"""Secrets that must never enter the event log: password hashes, API tokens, sessions.

Passwords are hashed with argon2; API tokens and session ids are random, shown
once, and stored only as SHA-256 digests. Revocation and expiry are checked on
every use.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from projections.database import Database

TOKEN_PREFIX = "wm_"
_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so timing reveals nothing.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Session:
    username: str
    csrf_token: str


class Credentials:
    def __init__(self, database: Database, secret_key: str) -> None:
        self.database = database
        self.secret_key = secret_key.encode()
        with database.transaction() as tx:
            tx.lock_schema()
            tx.execute(
                "CREATE TABLE IF NOT EXISTS credential_passwords ("
                " username TEXT PRIMARY KEY, hash TEXT NOT NULL, demo INTEGER NOT NULL,"
                " updated_at TEXT NOT NULL)"
            )
            tx.execute(
                "CREATE TABLE IF NOT EXISTS credential_tokens ("
                " digest TEXT PRIMARY KEY, username TEXT NOT NULL, label TEXT NOT NULL,"
                " created_at TEXT NOT NULL, expires_at TEXT NOT NULL, revoked_at TEXT,"
                " demo INTEGER NOT NULL)"
            )
            tx.execute(
                "CREATE TABLE IF NOT EXISTS credential_sessions ("
                " digest TEXT PRIMARY KEY, username TEXT NOT NULL, expires_at TEXT NOT NULL)"
            )

    # -- passwords ---------------------------------------------------------------

    def set_password(self, username: str, password: str, *, demo: bool = False) -> None:
        hashed = _hasher.hash(password)
        with self.database.transaction() as tx:
            tx.execute("DELETE FROM credential_passwords WHERE username = ?", (username,))
            tx.execute(
                "INSERT INTO credential_passwords VALUES (?, ?, ?, ?)",
                (username, hashed, int(demo), _text(_now())),
            )

    def check_password(self, username: str, password: str) -> bool:
        row = self.database.one(
            "SELECT hash FROM credential_passwords WHERE username = ?", (username,)
        )
        try:
            return _hasher.verify(row["hash"] if row else _DUMMY_HASH, password) and bool(row)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    # -- API tokens --------------------------------------------------------------

    def issue_token(
        self, username: str, *, days: int = 90, label: str = "", demo: bool = False
    ) -> str:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = _now()
        with self.database.transaction() as tx:
            tx.execute(
                "INSERT INTO credential_tokens VALUES (?, ?, ?, ?, ?, NULL, ?)",
                (
                    _digest(token),
                    username,
                    label,
                    _text(now),
                    _text(now + timedelta(days=days)),
                    int(demo),
                ),
            )
        return token

    def token_user(self, token: str) -> str | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        row = self.database.one(
            "SELECT username FROM credential_tokens"
            " WHERE digest = ? AND revoked_at IS NULL AND expires_at > ?",
            (_digest(token), _text(_now())),
        )
        return str(row["username"]) if row else None

    def revoke_tokens(self, username: str) -> int:
        with self.database.transaction() as tx:
            count = tx.scalar(
                "SELECT COUNT(*) FROM credential_tokens WHERE username = ? AND revoked_at IS NULL",
                (username,),
            )
            tx.execute(
                "UPDATE credential_tokens SET revoked_at = ?"
                " WHERE username = ? AND revoked_at IS NULL",
                (_text(_now()), username),
            )
        return int(count or 0)

    def revoke_demo(self) -> None:
        """Remove demo passwords and revoke demo tokens, before serving real users."""
        with self.database.transaction() as tx:
            tx.execute("DELETE FROM credential_passwords WHERE demo = 1")
            tx.execute(
                "UPDATE credential_tokens SET revoked_at = ? WHERE demo = 1 AND revoked_at IS NULL",
                (_text(_now()),),
            )

    def has_demo_credentials(self) -> bool:
        passwords = self.database.one("SELECT 1 AS x FROM credential_passwords WHERE demo = 1")
        tokens = self.database.one(
            "SELECT 1 AS x FROM credential_tokens WHERE demo = 1 AND revoked_at IS NULL"
        )
        return passwords is not None or tokens is not None

    # -- browser sessions -----------------------------------------------------------

    def start_session(self, username: str, *, hours: float = 8) -> str:
        session_id = secrets.token_urlsafe(32)
        with self.database.transaction() as tx:
            tx.execute("DELETE FROM credential_sessions WHERE expires_at <= ?", (_text(_now()),))
            tx.execute(
                "INSERT INTO credential_sessions VALUES (?, ?, ?)",
                (_digest(session_id), username, _text(_now() + timedelta(hours=hours))),
            )
        return session_id

    def session(self, session_id: str) -> Session | None:
        if not session_id or len(session_id) > 200:
            return None
        row = self.database.one(
            "SELECT username FROM credential_sessions WHERE digest = ? AND expires_at > ?",
            (_digest(session_id), _text(_now())),
        )
        if row is None:
            return None
        return Session(str(row["username"]), self.csrf_token(session_id))

    def end_session(self, session_id: str) -> None:
        with self.database.transaction() as tx:
            tx.execute("DELETE FROM credential_sessions WHERE digest = ?", (_digest(session_id),))

    def csrf_token(self, session_id: str) -> str:
        return hmac.new(self.secret_key, session_id.encode(), hashlib.sha256).hexdigest()


class SignInLimiter:
    """At most ``attempts`` failed sign-ins per user and per address in ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 900) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.attempts for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
