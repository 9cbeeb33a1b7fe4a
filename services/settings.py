"""Settings, read from the environment (``WAYMARK_*``) by pydantic-settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-default-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAYMARK_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(
        default=Path("./data"), description="Folder for the SQLite files (embedded mode)."
    )
    database_url: str | None = Field(
        default=None,
        description="postgresql://user:password@host:port/dbname; when set, events and "
        "read models are kept in PostgreSQL instead of SQLite.",
    )
    demo: bool = Field(default=False, description="Demo mode: loads demo data when empty.")
    in_process_projections: bool = Field(
        default=True,
        description="Keep the read models up to date from the server: `waymark serve` runs "
        "one read-model worker process beside its serving processes (restarted if it stops); "
        "an app made by `web.app:create_app` runs it in a thread. Set false when `waymark "
        "projections run` runs on its own.",
    )
    projector_socket: Path | None = Field(
        default=None,
        description="Set by `waymark serve` for the processes it starts, not by operators: "
        "the Unix socket where each write wakes the read-model worker.",
    )
    projection_batch_size: int = Field(
        default=1000, ge=1, le=100_000, description="Events per read-model transaction."
    )
    rebuild_workers: int | None = Field(
        default=None,
        ge=1,
        le=32,
        description="Processes that share a rebuild of the read models, on PostgreSQL, "
        "for logs of 50,000 events or more (shorter ones take one); unset, two where "
        "the rebuild may use two cores or more, else one.",
    )
    projection_poll_interval: float = Field(
        default=0.2,
        gt=0,
        le=60,
        description="Seconds between polls of the event log when idle.",
    )
    read_wait_timeout: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="Longest a query waits for read models to reach a requested position.",
    )
    max_waiting_reads: int = Field(
        default=32,
        ge=1,
        le=1000,
        description="Most reads (with `wait_for`) that wait for the read models at once, per "
        "process; past it a read that would wait answers 503 with Retry-After. Below the "
        "server's 40 worker threads, so waiting reads never hold them all.",
    )
    database_timeout: int = Field(
        default=2,
        ge=1,
        le=60,
        description="Seconds to wait for a database connection before answering 503.",
    )
    postgres_pool_size: int = Field(default=5, ge=1, le=100, description="Connections per pool.")
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET),
        description="Secret for CSRF tokens. Outside demo mode the server refuses the default.",
    )
    session_hours: float = Field(
        default=8, gt=0, le=24 * 30, description="How long a browser sign-in lasts."
    )
    token_days: int = Field(default=90, ge=1, le=3650, description="How long an API token lasts.")
    # -- signing in, and who may reach the server's own pages (issue 16) ------------
    sign_in_attempts: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Password attempts at one account in a sign-in window, counted in the "
        "database (shared by every worker) before each password is checked.",
    )
    sign_in_address_failures: int = Field(
        default=100,
        ge=1,
        le=1_000_000,
        description="Failed password checks from one client address, across all accounts, "
        "in a sign-in window, before that address is refused.",
    )
    sign_in_window_seconds: float = Field(
        default=900, gt=0, le=86_400, description="How long failed sign-ins are counted."
    )
    password_checks: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Passwords each server process checks at once (argon2 uses 64 MiB for "
        "each); further sign-ins wait their turn.",
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Comma-separated addresses or networks of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed (`*` for any). Unset, the "
        "headers are ignored and the client address is the connection's.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token (16 characters or more) that `/metrics` asks of scrapers "
        "(`Authorization: Bearer ...`). Unset, `/metrics` answers 403 to everyone.",
    )
    cookie_secure: bool = Field(
        default=True,
        description="Send the session cookie over HTTPS only (browsers treat localhost as "
        "secure, so this works for `make run` too).",
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1_000, le=100_000_000, description="Largest request body accepted."
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="PEM Ed25519 private key that signs ledger checkpoints; made (mode 0600) "
        "if missing. Default: `<data folder>-signing-key.pem` beside the data folder (for "
        "`./data`, `./data-signing-key.pem`). Outside demo mode the server refuses to start "
        "when it is inside the data folder or readable by anyone but its owner.",
    )
    checkpoint_log: Path | None = Field(
        default=None,
        description="Append-only file (JSON lines) where every signed ledger checkpoint, and "
        "every confirmation by a witness, is also written, outside the store. Default: "
        "`<data folder>-checkpoints.ndjson` beside the data folder (for `./data`, "
        "`./data-checkpoints.ndjson`).",
    )
    checkpoint_interval: int = Field(
        default=100,
        ge=1,
        le=1_000_000,
        description="Log positions between signed ledger checkpoints.",
    )
    quiet_after_days: int = Field(
        default=21,
        ge=1,
        le=3650,
        description="A project with nothing recorded for this many days shows as quiet.",
    )
    # -- the weekly digest (issue 21) ---------------------------------------------------
    smtp_host: str | None = Field(
        default=None,
        description="Mail server the weekly digests are sent through. Unset, no email is "
        "sent (the digest can still be read at `/digest`).",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="The mail server's port.")
    smtp_username: str | None = Field(
        default=None, description="User name on the mail server, if it asks for one."
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="Password on the mail server (with `WAYMARK_SMTP_USERNAME`)."
    )
    smtp_starttls: bool = Field(
        default=True,
        description="Upgrade the connection to the mail server with STARTTLS before "
        "signing in or sending.",
    )
    mail_from: str = Field(
        default="waymark@localhost",
        min_length=3,
        max_length=254,
        description="The sender of the digests (`From:`).",
    )
    digest_concern_days: int = Field(
        default=28,
        ge=1,
        le=3650,
        description="A concern open (since the day it was raised) for this many days is "
        "named in the weekly digest.",
    )
    digest_retry_seconds: float = Field(
        default=300,
        ge=0,
        le=86_400,
        description="Wait before a failed digest is tried again; it doubles with each "
        "failure, up to six hours, within the digest's week.",
    )
    digest_check_seconds: float = Field(
        default=900,
        gt=0,
        le=86_400,
        description="How often the projection worker sees whether this week's digests "
        "(or retries) are due, when `WAYMARK_SMTP_HOST` is set.",
    )
    readiness_max_lag: int = Field(
        default=10_000,
        ge=0,
        description="Most events a read model may trail the event log before `/readyz` "
        "answers 503.",
    )
    readiness_timeout: float = Field(
        default=2.0,
        gt=0,
        le=30,
        description="Longest `/readyz` (and the read-model figures on `/metrics`) waits for "
        "the database before answering that it is not ready.",
    )
    # A name that begins with a digit is no Python name: the variable is its alias.
    giving_prefix: str = Field(
        default="360G-waymark",
        validation_alias="WAYMARK_360GIVING_PREFIX",
        pattern=r"^360G-[A-Za-z0-9][A-Za-z0-9_.-]{0,60}$",
        description="The 360Giving prefix (`360G-` and the publisher's part, as 360Giving "
        "issues it) that begins each grant's identifier in a programme's 360Giving export. "
        "The default is for trying the export out: ask 360Giving for your own before "
        "publishing, and never change it after.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Least severe log level written (JSON lines on stdout)."
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        scheme = urlsplit(value).scheme
        if scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator(
        "forwarded_allow_ips",
        "metrics_token",
        "smtp_host",
        "smtp_username",
        "smtp_password",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("metrics_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < 16:
            raise ValueError("must be at least 16 characters (or unset, to turn /metrics off)")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def signing_key_path(self) -> Path:
        return self.signing_key_file or self._beside_data_dir("signing-key.pem")

    @property
    def checkpoint_log_path(self) -> Path:
        return self.checkpoint_log or self._beside_data_dir("checkpoints.ndjson")

    def _beside_data_dir(self, suffix: str) -> Path:
        """A file next to the data folder, not in it: a copy of the folder leaves it behind."""
        folder = self.data_dir.absolute()
        return folder.parent / f"{folder.name}-{suffix}"

    def signing_key_refusals(self) -> list[str]:
        """The ledger's key must live apart from the store it signs, readable by its owner only."""
        key = self.signing_key_path.absolute()
        problems = []
        data_dir = self.data_dir.absolute()
        if _inside(key, data_dir):
            problems.append(
                f"the ledger signing key ({key}) is inside WAYMARK_DATA_DIR: keep it on a "
                "separate secret mount and point WAYMARK_SIGNING_KEY_FILE at it "
                "(docs/OPERATIONS.md, key custody)"
            )
        if key.exists() and key.stat().st_mode & 0o077:
            problems.append(
                f"the ledger signing key ({key}) can be read by others than its owner: chmod 600 it"
            )
        legacy = data_dir / "ledger-signing-key.pem"
        if legacy.exists() and legacy != key:
            problems.append(
                f"{legacy} is a signing key inside the data folder: move it out (to "
                f"{key}, or where WAYMARK_SIGNING_KEY_FILE points)"
            )
        return problems

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    def postgres_parts(self) -> dict[str, str]:
        """The URL split into the parts both eventsourcing and psycopg use."""
        assert self.database_url is not None
        url = urlsplit(self.database_url)
        return {
            "host": url.hostname or "127.0.0.1",
            "port": str(url.port or 5432),
            "user": unquote(url.username or "postgres"),
            "password": unquote(url.password or ""),
            "dbname": (url.path or "/postgres").lstrip("/") or "postgres",
        }

    def refusals(self, has_demo_credentials: bool) -> list[str]:
        """Why this configuration must not serve real users (empty when it may)."""
        if self.demo:
            return []
        problems = []
        if self.secret_key.get_secret_value() == DEFAULT_SECRET:
            problems.append("WAYMARK_SECRET_KEY is the default: set a long random secret")
        elif len(self.secret_key.get_secret_value()) < 32:
            problems.append("WAYMARK_SECRET_KEY must be at least 32 characters")
        problems.extend(self.signing_key_refusals())
        if has_demo_credentials:
            problems.append(
                "demo sign-ins exist in this store: revoke them (waymark users revoke-demo) "
                "or run with WAYMARK_DEMO=true"
            )
        return problems


def _inside(path: Path, folder: Path) -> bool:
    """``path`` is in ``folder`` (or below), symbolic links followed where they exist."""
    return path.resolve().is_relative_to(folder.resolve())
