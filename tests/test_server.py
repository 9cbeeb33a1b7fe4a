"""Issue 9: the real server, `waymark serve --workers 2`, as an operator runs it;
and `waymark init`, which Compose runs before it.

A subprocess on a free loopback port, against a fresh PostgreSQL database:
it answers, all it prints is JSON lines, /metrics adds up the load of both
workers, and SIGTERM stops it cleanly within a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
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
from tests.conftest import SCRAPER, TEST_METRICS_TOKEN, TEST_SECRET, fresh_postgres_database
from tests.observe import parse_metrics, value
from tests.processes import BIN, Server, environment, waymark

#: As tests/processes.py allows: a loaded two-core machine can be slow to start two workers.
STARTUP_SECONDS = 120
STOP_SECONDS = 5
MOST_REQUESTS = 200
#: How long a read waits for a position the read models have not reached.
READ_WAIT_SECONDS = 2.5


class Workers(Server):
    """`waymark serve --workers 2`, signed in as an admin made before it starts.

    No read-model worker runs beside it, so a read can wait for a position in the
    log that the read models never reach.
    """

    def __init__(self, settings: Settings, token: str) -> None:
        super().__init__(
            settings,
            WAYMARK_READ_WAIT_TIMEOUT=str(READ_WAIT_SECONDS),
            WAYMARK_IN_PROCESS_PROJECTIONS="false",
        )
        self.args += ["--workers", "2"]
        self.token = token
        self.auth = {"Authorization": f"Bearer {token}"}

    def wait_until_ready(self) -> None:
        self.wait_until_up(timeout=STARTUP_SECONDS)
        deadline = time.monotonic() + STARTUP_SECONDS
        while httpx.get(f"{self.url}/readyz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.2)

    def log_lines(self) -> list[dict[str, Any]]:
        """Every line it printed (stdout and stderr), parsed: it fails if one is not JSON."""
        parsed = []
        for line in self.output().splitlines():
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

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = httpx.post(
                f"{self.url}{path}",
                json=body,
                headers={**self.auth, "Connection": "close"},  # a new connection each time
                timeout=10,
            )
        except httpx.TransportError as error:
            pytest.fail(f"POST {path}: {error!r}; the server printed:\n{self.output()}")
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture
def server(postgres_admin: str, tmp_path: Path) -> Iterator[Workers]:
    for url in fresh_postgres_database(postgres_admin):
        settings = Settings(
            data_dir=tmp_path,
            database_url=url,
            secret_key=TEST_SECRET,
            metrics_token=TEST_METRICS_TOKEN,
        )
        token = waymark(settings, "users", "add", "ops.admin", "--role", "admin")
        running = Workers(settings, token.strip().splitlines()[-1])
        running.start(wait=False)
        try:
            yield running
        finally:
            running.stop()


@pytest.mark.postgres
def test_two_workers_log_json_add_up_their_load_in_metrics_and_stop_cleanly_on_sigterm(
    server: Workers,
) -> None:
    server.wait_until_ready()

    # When programmes are created, each on a new connection, until both workers have served some
    created = 0
    workers: set[int] = set()
    while created < MOST_REQUESTS and not (created >= 10 and len(workers) == 2):
        server.post("/api/programmes", {"name": f"P{created}", "description": "d"})
        created += 1
        workers = {line["pid"] for line in server.requests_logged("/api/programmes")}
    assert len(workers) == 2, "one worker answered every request"

    # Then one scrape, answered by either worker, counts the requests and events of both
    samples = parse_metrics(httpx.get(f"{server.url}/metrics", headers=SCRAPER, timeout=10).text)
    labels = {"route": "/api/programmes", "method": "POST", "status": "201"}
    assert value(samples, "waymark_http_requests_total", **labels) == created
    assert value(samples, "waymark_http_request_duration_seconds_count", **labels) == created
    assert value(samples, "waymark_events_appended_total", kind="Programme.Launched") == created
    assert value(samples, "waymark_db_pool_connections", pool="events") >= 2  # one per worker

    # And all it printed is JSON; each request's line has its fields
    lines = server.requests_logged("/api/programmes")
    assert len(lines) == created
    for line in lines:
        assert line["status"] == 201 and line["actor"] == "ops.admin"
        assert line["request_id"] and line["duration_ms"] >= 0

    # When it is sent SIGTERM while a read waits (for a position the read models never reach)
    programme_id = server.post("/api/programmes", {"name": "One more"})["programme_id"]
    formed = server.post(
        f"/api/programmes/{programme_id}/cohorts",
        {"name": "C", "starts_on": "2026-01-05", "ends_on": "2026-06-26"},
    )
    cohort_id = formed["cohort_id"]
    in_flight: list[httpx.Response] = []
    reader = threading.Thread(
        target=lambda: in_flight.append(
            httpx.get(
                f"{server.url}/api/cohorts/{cohort_id}/timeline",
                params={"wait_for": formed["position"]},
                headers=server.auth,
                timeout=10,
            )
        )
    )
    reader.start()
    time.sleep(1)  # the read is waiting inside the server by now
    started = time.monotonic()
    assert server.process is not None
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
    assert any(line.get("event") == "stopped" for line in server.log_lines())
    assert server.token not in server.output()


def test_waymark_init_creates_the_tables_and_can_run_again(settings: Settings) -> None:
    for _ in range(2):  # Compose runs it on every start
        [line] = [json.loads(text) for text in waymark(settings, "init").splitlines()]
        assert (line["event"], line["head"]) == ("store ready", 0)

    assert {"read_model_positions", "dir_programmes", "entries"} <= tables(settings)


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
    unsafe = Settings(data_dir=tmp_path)  # the default secret key
    refused = subprocess.run(
        [str(BIN / "waymark"), "serve", "--port", "0", "--workers", "2"],
        env=environment(unsafe, WAYMARK_DEMO="false"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    [line] = [json.loads(text) for text in refused.stdout.splitlines()]
    assert line["level"] == "error" and line["event"] == "Waymark will not start"
    assert any("WAYMARK_SECRET_KEY" in reason for reason in line["reasons"])


@pytest.mark.parametrize("protocol_class", ["uvicorn's own", "Waymark's"])
def test_connections_accepted_on_a_socket_bound_as_workers_bind_it_have_nagle_off(
    protocol_class: str,
) -> None:
    """With --workers, uvicorn binds the listening socket with protocol number 0;
    asyncio's event loop then leaves TCP_NODELAY off and every small response
    waits ~40 ms for the client's delayed ACK. Waymark's protocol turns it on."""
    import asyncio
    import socket

    import uvicorn
    from uvicorn.protocols.http.auto import AutoHTTPProtocol
    from uvicorn.server import ServerState

    from web.server import NoDelayHTTPProtocol

    chosen = NoDelayHTTPProtocol if protocol_class == "Waymark's" else AutoHTTPProtocol

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    config = uvicorn.Config(app, http=chosen, lifespan="off")
    config.load()
    accepted: list[bool] = []

    async def main() -> None:
        listener = socket.socket(family=socket.AF_INET)  # as uvicorn's Config.bind_socket
        listener.bind(("127.0.0.1", 0))
        state = ServerState()

        def protocol() -> asyncio.Protocol:
            made = chosen(config=config, server_state=state, app_state={})
            original = made.connection_made

            def connection_made(transport: Any) -> None:
                original(transport)
                sock = transport.get_extra_info("socket")
                accepted.append(bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))

            made.connection_made = connection_made
            return made

        server = await asyncio.get_running_loop().create_server(protocol, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        while not accepted:
            await asyncio.sleep(0.01)
        writer.close()
        server.close()

    # The standard library's loop, not uvloop; in a thread of its own, as the browser
    # tests' Playwright keeps an event loop running in the main thread.
    runner = threading.Thread(target=asyncio.run, args=(main(),))
    runner.start()
    runner.join(timeout=30)
    assert accepted == [protocol_class == "Waymark's"]
