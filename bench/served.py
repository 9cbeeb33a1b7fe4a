"""Reads, writes and memory of a real server (uvicorn on 127.0.0.1) over HTTP.

    .venv/bin/python -m bench.served [SIZE] [--no-record]

Writes: several clients at once (one connection each, the light client of
``bench/load.py``) record entries through ``POST /api/projects/{id}/entries``
with a bearer token made by ``waymark users add``, Waymark served with its
defaults (``waymark serve``: one serving process, and the read-model worker
process it starts beside it; the server's CPU time counts both); then, in the
same run, with the same client, requests and server settings, the minimal
FastAPI + eventsourcing app of ``bench/minimal_app.py``.
On PostgreSQL and on SQLite. Recorded: writes/s, p50 and p95, the ratio
Waymark / minimal app, and CPU time per write of the server, of its database's
backends (PostgreSQL) and of the client.

Reads: p50/p95/p99 of the timeline (first page and later pages), a cohort's
comparison, a project as of a past instant, a search and an audit page; then
the server's resident memory.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.common import (
    ROOT,
    CpuMeter,
    Results,
    data_dir_for,
    database_backends,
    percentiles,
    settle,
    throwaway_database,
)
from bench.generate import generate
from bench.load import drive, post
from bench.minimal_app import Projects
from bench.report import Figure, Target
from services.container import application_env
from services.records import DecisionRecords
from services.settings import Settings

SECRET = "bench-secret-that-is-long-enough-for-waymark-0123456789"
BIN = Path(sys.executable).parent
#: Serving processes, as docker-compose.yml runs them (one per core here).
WORKERS = 2


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    token: str
    projector: subprocess.Popen[bytes] | None = None

    def processes(self) -> list[int]:
        """The server's process ids: the supervisor and its children (the workers, and
        the resource tracker that multiprocessing starts beside them)."""
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(pid) for pid in children.read_text().split()]
        return pids

    def rss_mb(self) -> tuple[float, float, float]:
        """Resident memory of the largest worker now, at its peak, and of all of them now, in MB."""
        now, peak = [], []
        for pid in self.processes():
            fields = {}
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                fields[key] = value.strip()
            now.append(int(fields["VmRSS"].split()[0]) / 1024)
            peak.append(int(fields["VmHWM"].split()[0]) / 1024)
        return max(now), max(peak), sum(now)


def _env(url: str | None, data_dir: Path, defaults: bool = False) -> dict[str, str]:
    env = {
        **os.environ,
        "WAYMARK_DATA_DIR": str(data_dir),
        "WAYMARK_SECRET_KEY": SECRET,
        "WAYMARK_DEMO": "false",
    }
    env.pop("WAYMARK_DATABASE_URL", None)
    if url is not None:
        env["WAYMARK_DATABASE_URL"] = url
    if not defaults:
        # As deployed on PostgreSQL (docker-compose.yml): the read models are kept by
        # a separate `waymark projections run` worker, not by the serving processes.
        env["WAYMARK_IN_PROCESS_PROJECTIONS"] = "false"
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while True:
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"the server at {base} did not start")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)


def _stop(*processes: subprocess.Popen[bytes]) -> None:
    for child in processes:
        child.terminate()
    for child in processes:
        child.wait(timeout=30)


def add_user(url: str | None, data_dir: Path) -> str:
    """``waymark users add``: an administrator's API token."""
    added = subprocess.run(
        [str(BIN / "waymark"), "users", "add", f"bench.{uuid.uuid4().hex[:6]}", "--role", "admin"],
        env=_env(url, data_dir),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return added.stdout.strip().splitlines()[-1]


@contextmanager
def serve(
    url: str | None,
    workers: int = WORKERS,
    *,
    data_dir: Path | None = None,
    defaults: bool = False,
    token: str | None = None,
) -> Iterator[Server]:
    """A real server until the block ends (with a token from ``waymark users add``
    unless one is given), on PostgreSQL at ``url`` or, with no url, SQLite in ``data_dir``.

    Deployed as docker-compose.yml does on PostgreSQL: ``waymark serve --workers N``
    and one ``waymark projections run`` worker; or, with ``defaults``, with Waymark's
    own defaults: the read models kept by the worker process that ``waymark serve``
    starts beside its serving processes.
    """
    port = _free_port()
    folder = data_dir or data_dir_for(str(url))
    env = _env(url, folder, defaults)
    token = token or add_user(url, folder)
    # JSON access logs are written as in production, to nowhere.
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    projector = None
    if not defaults:
        projector = subprocess.Popen(
            [str(BIN / "waymark"), "projections", "run"], env=env, cwd=ROOT, **quiet
        )
    process = subprocess.Popen(
        [
            str(BIN / "waymark"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=ROOT,
        **quiet,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process)
        server = Server(base, process, token, projector)
        _wait_caught_up(server)
        yield server
    finally:
        _stop(process, *([projector] if projector else []))


def _wait_caught_up(server: Server) -> None:
    with _client(server) as client:
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            answer = client.get("/api/audit", params={"limit": 1})
            answer.raise_for_status()
            if answer.json()["freshness"]["lag"] == 0:
                return
            time.sleep(0.5)
        raise RuntimeError("the server's read models did not catch up")


def _client(server: Server) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=60
    )


# -- reads ----------------------------------------------------------------------------

#: DESIGN.md, "Quality targets" (set for 1,000,000 events, held at every size).
TIMELINE = Target.below(15, "< 15 ms")
COMPARISON = Target.below(100, "< 100 ms")
AS_OF = Target.below(50, "< 50 ms")
MEMORY = Target.below(250, "< 250 MB")


def _sample(url: str) -> dict[str, Any]:
    """Cohorts, projects and an instant to ask about, from the read models."""
    with psycopg.connect(url) as conn:
        cohorts = [r[0] for r in conn.execute("SELECT cohort_id FROM dir_cohorts").fetchall()]
        sql = "SELECT project_id FROM dir_projects WHERE withdrawn = 0"
        projects = [r[0] for r in conn.execute(sql).fetchall()]
        first, last = conn.execute(
            "SELECT min(recorded_at), max(recorded_at) FROM audit_log"
        ).fetchone()
    start = datetime.fromisoformat(first.replace("Z", "+00:00"))
    end = datetime.fromisoformat(last.replace("Z", "+00:00"))
    return {
        "cohorts": cohorts,
        "projects": projects,
        "as_of": (start + (end - start) / 2).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def measure_reads(server: Server, url: str, size: int, results: Results, requests: int) -> None:
    sample = _sample(url)
    rng = random.Random(7)
    with _client(server) as client:

        def timed(name: str, call: Callable[[], httpx.Response], target: Target | None) -> None:
            call()  # warm
            samples = []
            for _ in range(requests):
                started = time.perf_counter()
                response = call()
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200, (name, response.status_code, response.text)
            cuts = percentiles(samples)
            for cut in ("p50", "p95", "p99"):
                results.add(
                    f"{name}_{cut}", cuts[cut], "ms", size, target if cut == "p95" else None
                )

        def cohort() -> str:
            return str(rng.choice(sample["cohorts"]))

        def project() -> str:
            return str(rng.choice(sample["projects"]))

        # The second page of each cohort's timeline, its cursor fetched beforehand.
        second_pages = []
        for cohort_id in sample["cohorts"][:50]:
            path = f"/api/cohorts/{cohort_id}/timeline"
            cursor = client.get(path, params={"limit": 50}).json().get("next_cursor")
            second_pages.append((path, {"limit": 50, **({"cursor": cursor} if cursor else {})}))

        def later_page() -> httpx.Response:
            path, params = rng.choice(second_pages)
            return client.get(path, params=params)

        timed(
            "read_timeline_page",
            lambda: client.get(f"/api/cohorts/{cohort()}/timeline", params={"limit": 50}),
            TIMELINE,
        )
        timed("read_timeline_second_page", later_page, TIMELINE)
        timed(
            "read_comparison", lambda: client.get(f"/api/cohorts/{cohort()}/comparison"), COMPARISON
        )
        timed(
            "read_project_as_of",
            lambda: client.get(f"/api/projects/{project()}", params={"as_of": sample["as_of"]}),
            AS_OF,
        )
        timed(
            "read_search",
            lambda: client.get(
                "/api/search", params={"q": rng.choice(["broadband", "bin coll", "care wait"])}
            ),
            None,
        )
        timed("read_audit_page", lambda: client.get("/api/audit", params={"limit": 100}), None)
    now, peak, total = server.rss_mb()
    results.add("server_memory_rss", now, "MB", size, MEMORY)
    results.add("server_memory_peak_rss", peak, "MB", size)
    results.add("server_memory_rss_all_processes", total, "MB", size)


# -- writes ---------------------------------------------------------------------------

#: Serving processes in the write comparison, for Waymark and the minimal app alike:
#: Waymark's default (``waymark serve``), as in the independent check of issue 22.
WRITE_WORKERS = 1
#: Waymark's writes against the minimal app's (DESIGN.md, "Quality targets").
WRITE_TARGET = Target.at_least(0.75, ">= 0.75x the minimal app, same run")
#: Requests each client sends before the timed ones (connections made, caches warm).
WARM = 5


def _entry(n: int) -> dict[str, str]:
    """The body both servers get: a sponsor check-in of a few fields (about 80 bytes)."""
    return {
        "kind": "sponsor_check_in",
        "team_health": "green",
        "member_engagement": f"Briefing {n}",
    }


def minimal_app_env(url: str | None, data_dir: Path) -> dict[str, str]:
    """The library's settings for the minimal app: PostgreSQL at ``url`` with its
    database functions, or SQLite in ``data_dir``; the aggregate cache on."""
    env = {"AGGREGATE_CACHE_MAXSIZE": "1000"}
    if url is None:
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(data_dir / "minimal.sqlite3"),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
        return env
    parts = psycopg.conninfo.conninfo_to_dict(url)
    return env | {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parts["dbname"]),
        "POSTGRES_HOST": str(parts.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(parts.get("port", "5432")),
        "POSTGRES_USER": str(parts.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(parts.get("password", "")),
        "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
    }


@contextmanager
def serve_minimal(env: dict[str, str], workers: int) -> Iterator[Server]:
    """The minimal app (``bench/minimal_app.py``) served until the block ends."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.minimal_app",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process)
        yield Server(base, process, token="")
    finally:
        _stop(process)


def _sqlite_projects(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "read_models.sqlite3") as conn:
        rows = conn.execute("SELECT project_id FROM dir_projects WHERE withdrawn = 0").fetchall()
    return [str(row[0]) for row in rows]


@dataclass
class Tally:
    """One server's timed runs of a comparison, added up."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    busy: float = 0.0  # machine-busy per cent times seconds

    def record(self, results: Results, name: str, size: int) -> Figure:
        written = len(self.latencies)
        rate = results.add(name, written / self.elapsed, "writes/s", size)
        cuts = percentiles(self.latencies)
        for cut in ("p50", "p95"):
            results.add(f"{name}_{cut}", cuts[cut], "ms", size)
        for part, seconds in self.cpu.items():
            results.add(f"{name}_cpu_{part}", seconds * 1000 / written, "ms/write", size)
        results.add(f"{name}_machine_busy", self.busy / self.elapsed, "%", size)
        return rate


def _write(
    server: Server, paths: list[str], per_client: int, dbname: str | None, tally: Tally
) -> None:
    """``per_client`` entries from each client at once, each to its own path, timed,
    with the CPU time of the server, its database's backends and the client."""
    headers = {"Authorization": f"Bearer {server.token}"} if server.token else {}
    warm = [[post(server.url, p, _entry(-n), headers) for n in range(WARM)] for p in paths]
    timed = [[post(server.url, p, _entry(n), headers) for n in range(per_client)] for p in paths]
    groups = {"server": server.processes}
    if dbname is not None:
        groups["database"] = database_backends(dbname)
    meter = CpuMeter(every_postgres=False, **groups)
    run = drive(server.url, warm, timed, meter=meter)
    if run.errors:
        raise RuntimeError(f"{len(run.errors)} writes to {server.url} failed: {run.errors[0]}")
    tally.latencies += run.latencies
    tally.elapsed += run.elapsed
    tally.busy += meter.busy * run.elapsed
    for part, seconds in meter.used.items():
        tally.cpu[part] = tally.cpu.get(part, 0.0) + seconds


def compare_writes(
    url: str | None,
    data_dir: Path,
    size: int,
    results: Results,
    per_client: int,
    clients: int,
    workers: int,
    token: str | None = None,
    rounds: int = 1,
) -> None:
    """Waymark's entry write and the minimal app's, with the same client, taking turns
    ``rounds`` times (both servers up, one written to at a time), on PostgreSQL
    (Waymark on the store at ``url``, the minimal app on a throw-away database of its
    own) or, with no url, SQLite (both in ``data_dir``)."""
    db = "sqlite" if url is None else "postgres"
    with ExitStack() as stack:
        waymark = stack.enter_context(
            serve(url, workers, data_dir=data_dir, defaults=True, token=token)
        )
        found = _sample(url)["projects"] if url else _sqlite_projects(data_dir)
        chosen = random.Random(11).sample(found, min(len(found), clients))
        other = stack.enter_context(throwaway_database()) if url else None
        env = minimal_app_env(other, data_dir)
        projects = Projects(env=env)  # its tables, and a project for each client
        minimal_paths = [f"/projects/{projects.start(f'P{n}')}/entries" for n in range(clients)]
        projects.close()
        minimal = stack.enter_context(serve_minimal(env, workers))
        turns = [
            (waymark, [f"/api/projects/{p}/entries" for p in chosen], url, Tally()),
            (minimal, minimal_paths, other, Tally()),
        ]
        for _ in range(rounds):
            for server, paths, database, tally in turns:
                dbname = database.rsplit("/", 1)[-1] if database else None
                _write(server, paths, per_client, dbname, tally)
                if server is waymark:
                    # Its read models catch up before the other's turn, not during it.
                    _wait_caught_up(waymark)
    ours = turns[0][3].record(results, f"write_waymark_{db}", size)
    reference = turns[1][3].record(results, f"write_minimal_app_{db}", size)
    results.add(
        f"write_vs_minimal_app_{db}",
        ours["value"] / reference["value"],
        "x",
        size,
        WRITE_TARGET,
        of=ours,
        reference=reference,
    )


def measure_writes(
    url: str,
    size: int,
    results: Results,
    per_client: int,
    clients: int,
    workers: int = WRITE_WORKERS,
    *,
    sqlite: bool = True,
    token: str | None = None,
    rounds: int = 2,
) -> None:
    """Waymark against the minimal app, one after the other in one run, with the same
    client and server settings: on PostgreSQL (the store at ``url``, a record of
    ``size`` events; ``token`` an API token made on it, else one is made) and, with
    ``sqlite``, on SQLite (a record of the same size generated for it); each server
    written to ``rounds`` times, taking turns, so that a machine getting busier or
    quieter weighs on both alike. No other server may be running on the store at
    ``url``."""
    compare_writes(
        url, data_dir_for(url), size, results, per_client, clients, workers, token, rounds
    )
    if not sqlite:
        return
    with tempfile.TemporaryDirectory(prefix="waymark-bench-sqlite-") as folder:
        data_dir = Path(folder)
        records = DecisionRecords(env=application_env(Settings(data_dir=data_dir)))
        try:
            generate(records, size)
        finally:
            records.close()
        compare_writes(None, data_dir, size, results, per_client, clients, workers, rounds=rounds)


def main() -> None:
    from bench.catch_up import run as catch_up

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("size", nargs="?", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--writes", type=int, default=150, help="entries per client and turn")
    parser.add_argument("--only-writes", action="store_true", help="no catch-up, no reads")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    results = Results(record=not args.no_record)
    with throwaway_database() as url:
        if args.only_writes:
            records = DecisionRecords(env=application_env(Settings(database_url=url)))
            try:
                generate(records, args.size)
            finally:
                records.close()
        else:
            catch_up(url, args.size, results, stock_limit=1000)
            settle(url)
            with serve(url) as server:
                measure_reads(server, url, args.size, results, args.requests)
        measure_writes(url, args.size, results, per_client=args.writes, clients=8)
    results.save()


if __name__ == "__main__":
    main()
