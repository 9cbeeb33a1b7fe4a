"""Reads, writes and memory of a real server (uvicorn on 127.0.0.1) over HTTP.

    .venv/bin/python -m bench.served [SIZE] [--no-record]

Writes: several clients record entries at once through ``POST
/api/projects/{id}/entries`` with a bearer token made by ``waymark users add``,
against, in the same run, a bare ``eventsourcing`` ``Application.save`` of one
event per call (the library's own PostgreSQL recorder, with and without its
database functions) and a raw psycopg one-row INSERT and COMMIT (the limit).

Reads: p50/p95/p99 of the timeline (first page and later pages), a cohort's
comparison, a project as of a past instant, a search and an audit page; then
the server's resident memory.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.common import (
    ROOT,
    CpuMeter,
    Results,
    data_dir_for,
    percentiles,
    settle,
    throwaway_database,
)

SECRET = "bench-secret-that-is-long-enough-for-waymark-0123456789"
BIN = Path(sys.executable).parent
#: Serving processes, as docker-compose.yml runs them (one per core here).
WORKERS = 2


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    token: str
    projector: subprocess.Popen[bytes]

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


def _env(url: str, data_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "WAYMARK_DATABASE_URL": url,
        "WAYMARK_DATA_DIR": data_dir,
        "WAYMARK_SECRET_KEY": SECRET,
        "WAYMARK_DEMO": "false",
        # As deployed on PostgreSQL (docker-compose.yml): the read models are kept by
        # a separate `waymark projections run` worker, not by the serving processes.
        "WAYMARK_IN_PROCESS_PROJECTIONS": "false",
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(url: str, workers: int = WORKERS) -> Iterator[Server]:
    """``waymark users add`` for a token, then a real server until the block ends.

    Deployed as docker-compose.yml does on PostgreSQL: ``waymark serve --workers N``
    and one ``waymark projections run`` worker.
    """
    port = _free_port()
    env = _env(url, str(data_dir_for(url)))
    added = subprocess.run(
        [str(BIN / "waymark"), "users", "add", f"bench.{uuid.uuid4().hex[:6]}", "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    token = added.stdout.strip().splitlines()[-1]
    # JSON access logs are written as in production, to nowhere.
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
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
        deadline = time.monotonic() + 120
        while True:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the server did not start")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        server = Server(base, process, token, projector)
        _wait_caught_up(server)
        yield server
    finally:
        for child in (process, projector):
            child.terminate()
        for child in (process, projector):
            child.wait(timeout=30)


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

        def timed(name: str, call: Callable[[], httpx.Response], target: str | None) -> None:
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
            "< 15 ms",
        )
        timed("read_timeline_second_page", later_page, "< 15 ms")
        timed(
            "read_comparison", lambda: client.get(f"/api/cohorts/{cohort()}/comparison"), "< 100 ms"
        )
        timed(
            "read_project_as_of",
            lambda: client.get(f"/api/projects/{project()}", params={"as_of": sample["as_of"]}),
            "< 50 ms",
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
    results.add("server_memory_rss", now, "MB", size, "< 250 MB")
    results.add("server_memory_peak_rss", peak, "MB", size)
    results.add("server_memory_rss_all_processes", total, "MB", size)


# -- writes ---------------------------------------------------------------------------


def measure_http_writes(
    server: Server, url: str, size: int, results: Results, per_client: int, clients: int
) -> float:
    projects = _sample(url)["projects"]
    rng = random.Random(11)
    chosen = rng.sample(projects, min(len(projects), clients))
    errors: list[str] = []

    def client_loop(project_id: str) -> None:
        with _client(server) as client:
            for n in range(per_client):
                response = client.post(
                    f"/api/projects/{project_id}/entries",
                    json={
                        "kind": "sponsor_check_in",
                        "team_health": "green",
                        "member_engagement": f"Briefing {n}",
                    },
                )
                if response.status_code != 201:
                    errors.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client_loop, args=(p,)) for p in chosen]
    # Where the CPU goes: the serving processes, the projection worker, PostgreSQL
    # and this process (the clients), per entry written.
    with CpuMeter(server=server.processes, projector=lambda: [server.projector.pid]) as cpu:
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} writes failed, e.g. {errors[0]}")
    written = per_client * len(chosen)
    rate = written / elapsed
    results.add(f"write_http_{len(chosen)}_clients", rate, "entries/s", size)
    cpu.add(results, "write_http", written, size)
    return rate


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text


def measure_bare_save(url: str, count: int, db_functions: bool) -> tuple[float, CpuMeter]:
    parts = psycopg.conninfo.conninfo_to_dict(url)
    app: Application[Any] = Application(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(parts["dbname"]),
            "POSTGRES_HOST": str(parts.get("host", "127.0.0.1")),
            "POSTGRES_PORT": str(parts.get("port", "5432")),
            "POSTGRES_USER": str(parts.get("user", "postgres")),
            "POSTGRES_PASSWORD": str(parts.get("password", "")),
            "POSTGRES_ENABLE_DB_FUNCTIONS": "y" if db_functions else "n",
        }
    )
    try:
        app.save(Note(text="warm"))
        with CpuMeter() as cpu:
            started = time.perf_counter()
            for n in range(count):
                app.save(Note(text=f"Note {n}"))
            elapsed = time.perf_counter() - started
        return count / elapsed, cpu
    finally:
        app.close()


def measure_raw_insert(url: str, count: int) -> float:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE raw_rows (id bigserial PRIMARY KEY, body bytea)")
        conn.commit()
        body = b'{"text":"a note of about the size of an event"}' * 4
        started = time.perf_counter()
        for _ in range(count):
            conn.execute("INSERT INTO raw_rows (body) VALUES (%s)", (body,))
            conn.commit()
        return count / (time.perf_counter() - started)


def measure_writes(
    server: Server, url: str, size: int, results: Results, per_client: int, clients: int
) -> None:
    """HTTP writes against the bare library and raw psycopg, interleaved in one run."""
    baseline_count = per_client * clients
    with throwaway_database() as other:
        first = measure_bare_save(other, baseline_count, db_functions=False)
    http = measure_http_writes(server, url, size, results, per_client, clients)
    with throwaway_database() as other:
        second = measure_bare_save(other, baseline_count, db_functions=False)
    bare, cpu = max(first, second, key=lambda measured: measured[0])
    cpu.add(results, "write_bare_save", baseline_count, size)
    with throwaway_database() as other:
        functions, _ = measure_bare_save(other, baseline_count, db_functions=True)
    with throwaway_database() as other:
        raw = measure_raw_insert(other, baseline_count)
    results.add("write_bare_application_save", bare, "saves/s", size)
    results.add("write_bare_save_db_functions", functions, "saves/s", size)
    results.add("write_raw_insert_commit", raw, "rows/s", size)
    results.add("write_http_vs_bare_save", http / bare, "x", size, ">= 1.0x")
    results.add("write_http_vs_raw_insert", http / raw, "x", size)


def main() -> None:
    from bench.catch_up import run as catch_up

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("size", nargs="?", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    results = Results(record=not args.no_record)
    with throwaway_database() as url:
        catch_up(url, args.size, results, stock_limit=1000)
        settle(url)
        with serve(url) as server:
            measure_reads(server, url, args.size, results, args.requests)
            measure_writes(server, url, args.size, results, per_client=100, clients=8)
    results.save()


if __name__ == "__main__":
    main()
