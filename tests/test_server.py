"""Issue 9: the real server, `waymark serve --workers 2`, as an operator runs it;
and `waymark init`, which Compose runs before it.

A subprocess on a free loopback port, against a fresh PostgreSQL database:
it answers, its stdout is JSON lines, /metrics adds up the load of both
workers, and SIGTERM stops it cleanly within a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from services.settings import Settings
from tests.conftest import TEST_SECRET, fresh_postgres_database
from tests.observe import parse_metrics, value

WAYMARK = Path(sys.executable).parent / "waymark"
STARTUP_SECONDS = 60
STOP_SECONDS = 5
MOST_REQUESTS = 200
#: How long a read waits for a position the log has not reached.
READ_WAIT_SECONDS = 2.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A `waymark serve` subprocess whose output is read as it comes."""

    def __init__(self, args: list[str], env: dict[str, str], port: int, token: str) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self.token = token
        self.auth = {"Authorization": f"Bearer {token}"}
        self.process = subprocess.Popen(
            [str(WAYMARK), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(stream, lines), daemon=True)
            for stream, lines in (
                (self.process.stdout, self.stdout),
                (self.process.stderr, self.stderr),
            )
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: Any, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"not ready within {STARTUP_SECONDS} s:\n{self.output()}")

    def output(self) -> str:
        return "\n".join(self.stdout + self.stderr)

    def log_lines(self) -> list[dict[str, Any]]:
        """Every line on stdout, parsed: it fails if one is not a JSON object."""
        parsed = []
        for line in list(self.stdout):
            try:
                parsed.append(json.loads(line))
            except json.JSONDecodeError:
                pytest.fail(f"not a JSON log line: {line!r}")
        return parsed

    def requests_logged(self, route: str) -> list[dict[str, Any]]:
        return [
            line
            for line in self.log_lines()
            if line.get("logger") == "waymark.access" and line.get("route") == route
        ]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=5)


def created_programme_id(server: Server) -> str:
    response = httpx.post(
        f"{server.base_url}/api/programmes",
        json={"name": "One more", "description": "d", "sponsor_body": "s"},
        headers=server.auth,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["programme_id"])


@pytest.fixture
def server(postgres_admin: str, tmp_path: Path) -> Iterator[Server]:
    for url in fresh_postgres_database(postgres_admin):
        env = {
            **os.environ,
            "WAYMARK_DATABASE_URL": url,
            "WAYMARK_DATA_DIR": str(tmp_path),
            "WAYMARK_PROJECTION_POLL_INTERVAL": "0.05",
            "WAYMARK_READ_WAIT_TIMEOUT": str(READ_WAIT_SECONDS),
            "WAYMARK_SECRET_KEY": TEST_SECRET,
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.pop("WAYMARK_DEMO", None)
        added = subprocess.run(
            [str(WAYMARK), "users", "add", "ops.admin", "--role", "admin"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert added.returncode == 0, added.stdout + added.stderr
        token = added.stdout.strip().splitlines()[-1]
        running = Server(["--workers", "2"], env, free_port(), token)
        try:
            yield running
        finally:
            running.stop()


@pytest.mark.postgres
def test_two_workers_log_json_add_up_their_load_in_metrics_and_stop_cleanly_on_sigterm(
    server: Server,
) -> None:
    server.wait_until_ready()

    # When programmes are created, each on a new connection, until both workers have served some
    created = 0
    while created < MOST_REQUESTS:
        response = httpx.post(
            f"{server.base_url}/api/programmes",
            json={"name": f"Programme {created}", "description": "d", "sponsor_body": "s"},
            headers={**server.auth, "Connection": "close"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        created += 1
        workers = {line["pid"] for line in server.requests_logged("/api/programmes")}
        if created >= 10 and len(workers) == 2:
            break
    assert len(workers) == 2, "one worker answered every request"

    # Then one scrape, answered by either worker, counts the requests and events of both
    samples = parse_metrics(httpx.get(f"{server.base_url}/metrics", timeout=10).text)
    labels = {"route": "/api/programmes", "method": "POST", "status": "201"}
    assert value(samples, "waymark_http_requests_total", **labels) == created
    assert value(samples, "waymark_http_request_duration_seconds_count", **labels) == created
    assert value(samples, "waymark_events_appended_total", kind="Programme.Launched") == created
    assert value(samples, "waymark_db_pool_connections", pool="events") >= 2  # one per worker

    # And every line on stdout is JSON; each request's line has its fields
    lines = server.requests_logged("/api/programmes")
    assert len(lines) == created
    for line in lines:
        assert line["status"] == 201 and line["actor"] == "ops.admin"
        assert line["request_id"] and line["duration_ms"] >= 0

    # When it is sent SIGTERM while a read waits (for a position the log never reaches)
    programme_id = created_programme_id(server)
    cohort_id = httpx.post(
        f"{server.base_url}/api/programmes/{programme_id}/cohorts",
        json={"name": "C", "starts_on": "2026-01-05", "ends_on": "2026-06-26"},
        headers=server.auth,
        timeout=10,
    ).json()["cohort_id"]
    in_flight: list[httpx.Response] = []
    reader = threading.Thread(
        target=lambda: in_flight.append(
            httpx.get(
                f"{server.base_url}/api/cohorts/{cohort_id}/timeline",
                params={"wait_for": 10**9},
                headers=server.auth,
                timeout=10,
            )
        )
    )
    reader.start()
    time.sleep(1)  # the read is waiting inside the server by now
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)

    # Then the read in flight is answered, and it exits with 0 within a few seconds
    assert server.process.wait(timeout=STOP_SECONDS + 5) == 0, server.output()
    assert time.monotonic() - started < STOP_SECONDS
    reader.join(timeout=5)
    [answer] = in_flight
    assert answer.status_code == 200
    assert answer.json()["freshness"]["reached"] is False
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    server.stop()  # collects the rest of its output
    assert any(line.get("event") == "stopped" for line in server.log_lines())
    assert not [line for line in server.stderr if line.strip()], server.output()
    assert server.token not in server.output()


def test_waymark_init_creates_the_tables_and_can_run_again(settings: Settings) -> None:
    env = {**os.environ, "WAYMARK_DATA_DIR": str(settings.data_dir)}
    env.pop("WAYMARK_DATABASE_URL", None)
    if settings.database_url:
        env["WAYMARK_DATABASE_URL"] = settings.database_url

    for _ in range(2):  # Compose runs it on every start
        done = subprocess.run(
            [str(WAYMARK), "init"], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        [line] = [json.loads(text) for text in done.stdout.splitlines()]
        assert (line["event"], line["head"]) == ("store ready", 0)

    assert {"read_model_positions", "dir_programmes", "tl_entries"} <= tables(settings)


def tables(settings: Settings) -> set[str]:
    if settings.database_url:
        with psycopg.connect(settings.database_url) as conn:
            rows = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchall()
        names = {row[0] for row in rows}
        assert "waymark_events" in names
        return names
    with closing(sqlite3.connect(settings.data_dir / "events.sqlite3")) as events:
        assert events.execute("SELECT count(*) FROM stored_events").fetchone() == (0,)
    with closing(sqlite3.connect(settings.data_dir / "read_models.sqlite3")) as models:
        rows = models.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


def test_serve_refuses_an_unsafe_configuration_before_any_worker_starts(tmp_path: Path) -> None:
    env = {**os.environ, "WAYMARK_DATA_DIR": str(tmp_path)}
    for name in ("WAYMARK_DATABASE_URL", "WAYMARK_SECRET_KEY", "WAYMARK_DEMO"):
        env.pop(name, None)
    refused = subprocess.run(
        [str(WAYMARK), "serve", "--port", str(free_port()), "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    [line] = [json.loads(text) for text in refused.stdout.splitlines()]
    assert line["level"] == "error" and line["event"] == "Waymark will not start"
    assert any("WAYMARK_SECRET_KEY" in reason for reason in line["reasons"])
