"""Fixtures: every scenario runs on SQLite and on a fresh PostgreSQL database.

PostgreSQL is found at ``WAYMARK_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``). Where it is unreachable the
PostgreSQL cases are skipped, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from services.container import Waymark
from services.settings import Settings
from tests.helpers import make_user
from web.app import create_app

TEST_SECRET = "test-secret-that-is-long-enough-for-waymark"
#: What Prometheus would send to scrape /metrics (WAYMARK_METRICS_TOKEN).
TEST_METRICS_TOKEN = "test-metrics-token-for-scrapers"
SCRAPER = {"Authorization": f"Bearer {TEST_METRICS_TOKEN}"}

ADMIN_URL = os.environ.get("WAYMARK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_unavailable() -> str | None:
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return str(error).strip().splitlines()[0]


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    reason = _postgres_unavailable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI but unreachable: {reason}")
        pytest.skip(f"PostgreSQL unreachable: {reason}")
    return ADMIN_URL


def fresh_postgres_database(admin_url: str) -> Iterator[str]:
    name = f"waymark_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings for a fresh, empty store on the backend under test."""
    common = {
        "data_dir": tmp_path,
        "projection_poll_interval": 0.05,
        "secret_key": TEST_SECRET,
        "cookie_secure": False,
        "metrics_token": TEST_METRICS_TOKEN,
    }
    if backend == "postgres":
        admin = request.getfixturevalue("postgres_admin")
        for url in fresh_postgres_database(admin):
            yield Settings(database_url=url, **common)
    else:
        yield Settings(**common)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """An HTTP client acting as ``pm.jones`` (an admin); ``pm.smith`` is an admin too."""
    app = create_app(settings)
    with TestClient(app) as test_client:
        waymark = app.state.waymark
        tokens = {name: make_user(waymark, name, "admin") for name in ("pm.jones", "pm.smith")}
        test_client.tokens = tokens  # type: ignore[attr-defined]
        test_client.headers["Authorization"] = f"Bearer {tokens['pm.jones']}"
        yield test_client


@pytest.fixture
def waymark(settings: Settings) -> Iterator[Waymark]:
    """The application and read models without HTTP; the worker is not started."""
    container = Waymark(settings)
    try:
        yield container
    finally:
        container.close()
