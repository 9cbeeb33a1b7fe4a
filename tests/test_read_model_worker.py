"""Issue 22: `waymark serve`, with its defaults, keeps the read models in one worker
process of its own beside the serving processes, woken by each write, started again
if it stops, and gone when the server is (stopped or killed).

Real processes on a free loopback port, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.settings import Settings
from tests.processes import Server, waymark

#: Generous: these machines are noisy; a worker that is not woken takes far longer (below).
SEEN_WITHIN_SECONDS = 10.0
#: The worker's poll when nothing wakes it, set high so that only a wake-up explains a
#: write seen sooner.
POLL_SECONDS = "30"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = task / "children"
        if children.exists():
            found += [int(child) for child in children.read_text().split()]
    return found


def _descendants(pid: int) -> list[int]:
    found = []
    for child in _children(pid):
        found += [child, *_descendants(child)]
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


class Served(Server):
    def __init__(self, settings: Settings, token: str, *args: str) -> None:
        super().__init__(settings, WAYMARK_PROJECTION_POLL_INTERVAL=POLL_SECONDS)
        self.args += list(args)
        self.auth = {"Authorization": f"Bearer {token}"}

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def workers(self) -> list[int]:
        """The read-model workers among the server's processes."""
        return [p for p in _descendants(self.pid) if "projections run" in _command(p)]

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method, f"{self.url}{path}", headers=self.auth, timeout=30, **kwargs
        )
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json()

    def entries(self, project: str) -> int:
        """The entries in the project's history, or -1 before its read model has it."""
        path = f"{self.url}/api/projects/{project}/history"
        response = httpx.get(path, headers=self.auth, timeout=30)
        if response.status_code == 404:
            return -1
        assert response.status_code == 200, response.text
        return len(response.json()["entries"])


def _check_in(n: int) -> dict[str, str]:
    return {"kind": "sponsor_check_in", "team_health": "green", "member_engagement": f"Call {n}"}


def _wait_until(check: Any, what: str, timeout: float = SEEN_WITHIN_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture
def token(settings: Settings) -> str:
    made = waymark(settings, "users", "add", "ops.admin", "--role", "admin")
    return made.strip().splitlines()[-1]


@pytest.fixture
def served(settings: Settings, token: str) -> Iterator[Served]:
    server = Served(settings, token)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _project(server: Served) -> str:
    programme = server.call("POST", "/api/programmes", json={"name": "Local digital"})
    cohort = server.call(
        "POST",
        f"/api/programmes/{programme['programme_id']}/cohorts",
        json={"name": "Cohort 1", "starts_on": "2026-09-01", "ends_on": "2027-03-01"},
    )
    server.call(
        "POST",
        "/api/councils",
        json={"code": "GB-EXE", "name": "Exeter", "council_type": "district", "region": "london"},
    )
    enrolled = server.call(
        "POST",
        f"/api/cohorts/{cohort['cohort_id']}/projects",
        json={"council_code": "GB-EXE", "title": "Bin collections"},
    )
    project = str(enrolled["project_id"])
    _wait_until(lambda: server.entries(project) >= 0, "the project was not applied")
    return project


def test_one_worker_beside_the_server_applies_each_write_without_waiting_for_its_poll(
    served: Served,
) -> None:
    workers = served.workers()
    assert len(workers) == 1, [_command(p) for p in _descendants(served.pid)]
    project = _project(served)
    for n in range(3):
        before = served.entries(project)
        served.call("POST", f"/api/projects/{project}/entries", json=_check_in(n))
        # Its poll is 30 s: seen sooner, only because the write woke it.
        _wait_until(lambda b=before: served.entries(project) > b, "the write was not applied")
    assert served.workers() == workers


def test_the_worker_is_started_again_when_it_dies_and_goes_when_the_server_stops(
    served: Served,
) -> None:
    project = _project(served)
    [first] = served.workers()
    os.kill(first, signal.SIGKILL)
    _wait_until(lambda: served.workers() not in ([], [first]), "no new worker was started")
    [second] = served.workers()
    assert second != first
    before = served.entries(project)
    served.call("POST", f"/api/projects/{project}/entries", json=_check_in(1))
    _wait_until(lambda: served.entries(project) > before, "the new worker applied nothing")
    assert "read-model worker stopped; starting it again" in served.output()

    served.stop()
    assert not _alive(second), "the worker outlived the server's stop"


def test_a_killed_server_leaves_no_worker_behind(served: Served) -> None:
    [worker] = served.workers()
    served.kill()  # SIGKILL: the server cannot stop it; it sees the server gone
    _wait_until(lambda: not _alive(worker), "the worker outlived the killed server")


def test_two_serving_processes_share_one_worker(settings: Settings, token: str) -> None:
    server = Served(settings, token, "--workers", "2")
    server.start()
    try:
        _wait_until(lambda: len(_children(server.pid)) >= 3, "the serving processes did not start")
        assert len(server.workers()) == 1
        project = _project(server)
        before = server.entries(project)
        for n in range(4):  # a connection each: both serving processes take some
            server.call("POST", f"/api/projects/{project}/entries", json=_check_in(n))
        _wait_until(lambda: server.entries(project) == before + 4, "writes were not applied")
        assert len(server.workers()) == 1
    finally:
        server.stop()
