"""Settings, read from the environment (``WAYMARK_*``) by pydantic-settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-default-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAYMARK_", extra="ignore")

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
        description="Run the read-model worker inside the server process. Set false when "
        "`waymark projections run` runs as its own process.",
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
        "if missing. Default: ledger-signing-key.pem in the data folder.",
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

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def signing_key_path(self) -> Path:
        return self.signing_key_file or self.data_dir / "ledger-signing-key.pem"

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
        if has_demo_credentials:
            problems.append(
                "demo sign-ins exist in this store: revoke them (waymark users revoke-demo) "
                "or run with WAYMARK_DEMO=true"
            )
        return problems
