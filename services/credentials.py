"""Secrets that must never enter the event log: password hashes, API tokens, sessions.

Passwords are hashed with argon2; API tokens and session ids are random, shown
once, and stored only as SHA-256 digests. Revocation and expiry are checked on
every use. Ending someone's access (their tokens, the demo sign-ins, a role)
ends their browser sessions too. Passwords follow the NCSC's guidance: at least
12 characters, not one of the commonly used passwords, and no composition rules.
Signing in with a password, and its throttling, is ``services.sign_in``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.errors import InvalidValue
from projections.database import Database, Transaction

TOKEN_PREFIX = "wm_"
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing reveals nothing
    (made on first use: hashing takes a moment each process need not spend starting)."""
    return _hasher.hash(secrets.token_urlsafe(16))


#: The NCSC's advice: long passwords (three random words make one), no composition rules.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1000


#: Runs that people type instead of choosing: a password found inside one is refused.
_RUNS = (
    "0123456789" * 4,
    "abcdefghijklmnopqrstuvwxyz" * 2,
    "qwertyuiopasdfghjklzxcvbnm" * 2,
    "qwertyuiop" * 4,
    "asdfghjkl" * 4,
    "zxcvbnm" * 5,
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p" * 2,
)


@cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 passwords seen most often in breaches (zxcvbn's list), lower case.

    Loaded when a password is first set, not by every server process as it starts.
    """
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` may not be used (None when it may), as a sentence for its owner."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"must be at least {MIN_PASSWORD_LENGTH} characters: three random words "
            "make a long password that is easy to remember"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters"
    folded = password.lower()
    squeezed = "".join(folded.split())
    if folded in _common_passwords() or squeezed in _common_passwords():
        return "is one of the passwords used most often: choose another"
    if username and username.lower() in (folded, squeezed):
        return "must not be the username"
    if len(set(squeezed)) <= 2:
        return "must not repeat one or two characters: choose another"
    if any(squeezed in run or squeezed[::-1] in run for run in _RUNS):
        return "must not be a run of keys or characters in order: choose another"
    return None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: A token is named on pages by the start of its digest: enough to tell it from the others,
#: and nothing from which the token could be worked out.
TOKEN_ID_LENGTH = 16
TOKEN_ID = re.compile(rf"^[0-9a-f]{{{TOKEN_ID_LENGTH}}}$")


@dataclass(frozen=True)
class TokenIssued:
    """An API token as its owner and admins see it: what it is for and when, not its secret."""

    token_id: str
    label: str
    issued_at: str
    expires_at: str
    revoked_at: str | None
    live: bool


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
                " digest TEXT PRIMARY KEY, username TEXT NOT NULL, expires_at TEXT NOT NULL,"
                " demo INTEGER NOT NULL DEFAULT 0)"
            )
            _add_demo_column(tx)

    # -- passwords ---------------------------------------------------------------

    def set_password(self, username: str, password: str, *, demo: bool = False) -> None:
        """Set (or replace) a password; refuses one the NCSC's guidance rules out."""
        if problem := password_problem(password, username):
            raise InvalidValue("password", problem)
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
            return _hasher.verify(row["hash"] if row else _dummy_hash(), password) and bool(row)
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

    def tokens_of(self, username: str) -> list[TokenIssued]:
        """A user's API tokens, newest first: never the secret, only what identifies each."""
        rows = self.database.all(
            "SELECT digest, label, created_at, expires_at, revoked_at FROM credential_tokens"
            " WHERE username = ? ORDER BY created_at DESC, digest",
            (username,),
        )
        now = _text(_now())
        return [
            TokenIssued(
                token_id=str(row["digest"])[:TOKEN_ID_LENGTH],
                label=str(row["label"]),
                issued_at=str(row["created_at"]),
                expires_at=str(row["expires_at"]),
                revoked_at=row["revoked_at"],
                live=row["revoked_at"] is None and str(row["expires_at"]) > now,
            )
            for row in rows
        ]

    def revoke_token(self, username: str, token_id: str) -> bool:
        """Revoke one of ``username``'s tokens (by the id ``tokens_of`` gives); False if they
        hold no such live token. Their browser sessions stay: only that token ends."""
        if not TOKEN_ID.match(token_id):
            return False
        with self.database.transaction() as tx:
            found = tx.scalar(
                "SELECT COUNT(*) FROM credential_tokens WHERE username = ?"
                " AND revoked_at IS NULL AND substr(digest, 1, ?) = ?",
                (username, TOKEN_ID_LENGTH, token_id),
            )
            tx.execute(
                "UPDATE credential_tokens SET revoked_at = ? WHERE username = ?"
                " AND revoked_at IS NULL AND substr(digest, 1, ?) = ?",
                (_text(_now()), username, TOKEN_ID_LENGTH, token_id),
            )
        return bool(found)

    def revoke_tokens(self, username: str) -> int:
        """Revoke every API token of a user, and end their browser sessions too."""
        with self.database.transaction() as tx:
            tx.execute("DELETE FROM credential_sessions WHERE username = ?", (username,))
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
        """Remove demo passwords, revoke demo tokens and end demo sessions, before serving
        real users."""
        with self.database.transaction() as tx:
            tx.execute("DELETE FROM credential_sessions WHERE demo = 1")
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
        sessions = self.database.one(
            "SELECT 1 AS x FROM credential_sessions WHERE demo = 1 AND expires_at > ?",
            (_text(_now()),),
        )
        return passwords is not None or tokens is not None or sessions is not None

    # -- browser sessions -----------------------------------------------------------

    def start_session(self, username: str, *, hours: float = 8) -> str:
        """A new session id; the session is a demo one when the user's password is."""
        session_id = secrets.token_urlsafe(32)
        with self.database.transaction() as tx:
            tx.execute("DELETE FROM credential_sessions WHERE expires_at <= ?", (_text(_now()),))
            tx.execute(
                "INSERT INTO credential_sessions (digest, username, expires_at, demo)"
                " SELECT ?, ?, ?, COALESCE("
                "  (SELECT demo FROM credential_passwords WHERE username = ?), 0)",
                (
                    _digest(session_id),
                    username,
                    _text(_now() + timedelta(hours=hours)),
                    username,
                ),
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

    def end_sessions(self, username: str) -> int:
        """End every browser session of a user (in every worker: sessions live here)."""
        with self.database.transaction() as tx:
            count = tx.scalar(
                "SELECT COUNT(*) FROM credential_sessions WHERE username = ? AND expires_at > ?",
                (username, _text(_now())),
            )
            tx.execute("DELETE FROM credential_sessions WHERE username = ?", (username,))
        return int(count or 0)

    def end_other_sessions(self, username: str, keep_session_id: str | None) -> int:
        """End every browser session of a user but one (the one changing their password)."""
        keep = _digest(keep_session_id) if keep_session_id else ""
        with self.database.transaction() as tx:
            count = tx.scalar(
                "SELECT COUNT(*) FROM credential_sessions WHERE username = ? AND digest <> ?",
                (username, keep),
            )
            tx.execute(
                "DELETE FROM credential_sessions WHERE username = ? AND digest <> ?",
                (username, keep),
            )
        return int(count or 0)

    def csrf_token(self, session_id: str) -> str:
        return hmac.new(self.secret_key, session_id.encode(), hashlib.sha256).hexdigest()


def _add_demo_column(tx: Transaction) -> None:
    """Stores made before sessions were marked as demo ones get the column."""
    if tx.dialect == "postgres":
        tx.execute(
            "ALTER TABLE credential_sessions"
            " ADD COLUMN IF NOT EXISTS demo INTEGER NOT NULL DEFAULT 0"
        )
        return
    columns = {row["name"] for row in tx.all("PRAGMA table_info(credential_sessions)")}
    if "demo" not in columns:
        tx.execute("ALTER TABLE credential_sessions ADD COLUMN demo INTEGER NOT NULL DEFAULT 0")
