"""What the benchmarks share: throw-away databases, the machine, results, percentiles."""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from bench.report import Figure, Target, number, write_report

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RESULTS = ROOT / "bench" / "results.json"
REPORT = ROOT / "docs" / "PERFORMANCE.md"


@contextmanager
def throwaway_database(admin_url: str = ADMIN_URL) -> Iterator[str]:
    """A new, empty PostgreSQL database for one measurement, dropped afterwards."""
    name = f"waymark_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(Path(tempfile.gettempdir()) / "waymark-bench" / name, ignore_errors=True)


def settle(url: str) -> None:
    """What autovacuum has long since done for a record that grew over years: a generated
    one was written in minutes, and reads straight after would set its rows' hint bits,
    guess without statistics and share the disk with the checkpoint."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def postgres_answers(admin_url: str = ADMIN_URL) -> bool:
    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def data_dir_for(url: str) -> Path:
    """The data folder (signing key) that goes with a throw-away database."""
    path = Path(tempfile.gettempdir()) / "waymark-bench" / url.rsplit("/", 1)[-1]
    path.mkdir(parents=True, exist_ok=True)
    return path


def machine(admin_url: str = ADMIN_URL) -> str:
    with psycopg.connect(admin_url, connect_timeout=3) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    version = row[0].split()[0] if row else "?"
    load = os.getloadavg()[0]
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, PostgreSQL {version}, load {load:.1f}"
    )


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95, p99 of samples in seconds, as milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000}


class Results:
    """Figures of one run, written to bench/results.json (replacing same name and size)."""

    def __init__(self, record: bool, where: str | None = None) -> None:
        self.record = record
        self.figures: list[dict[str, Any]] = []
        self.where = where or machine()

    def add(
        self,
        name: str,
        value: float,
        unit: str,
        size: int,
        target: Target | None = None,
        *,
        of: Figure | None = None,
        reference: Figure | None = None,
    ) -> Figure:
        """Record a figure; a ratio names the two figures it divides (``of`` and
        ``reference``, measured in the same run)."""
        figure: Figure = {
            "name": name,
            "value": round(value, 2) if value < 100 else round(value),
            "unit": unit,
            "target": target.bound if target else None,
            "better": target.better if target else None,
            "target_text": target.text if target else None,
            "size": size,
        }
        for key, other in (("of", of), ("reference", reference)):
            if other is not None:
                figure[key] = {k: other[k] for k in ("name", "value", "unit")}
        self.figures.append(figure)
        shown = number(figure)
        goal = f"  (target {target.text})" if target else ""
        print(f"  {name:<40} {shown:>12} {unit:<10} size {size:,}{goal}", flush=True)
        return figure

    def save(self, results: Path = RESULTS, report: Path = REPORT) -> None:
        """Merge this run's figures into ``results`` and write them all into ``report``."""
        if not self.record or not self.figures:
            return
        today = date.today().isoformat()
        kept = json.loads(results.read_text()) if results.exists() else []
        new = {(f["name"], f["size"]) for f in self.figures}
        kept = [f for f in kept if (f["name"], f["size"]) not in new]
        kept.extend({**f, "date": today, "machine": self.where} for f in self.figures)
        kept.sort(key=lambda f: (f["name"], f["size"]))
        results.write_text(json.dumps(kept, indent=2) + "\n")
        write_report(kept, report)


TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU time (user and system) each live process has used so far, with that of its
    children that have ended: a PostgreSQL backend that closes before the end of a
    measurement is counted in the postmaster, which waited for it."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue  # it has ended
        used[pid] = sum(int(ticks) for ticks in fields[11:15]) / TICKS
    return used


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def database_backends(dbname: str, admin_url: str = ADMIN_URL) -> Callable[[], list[int]]:
    """The process ids of the PostgreSQL backends connected to one database now: its
    CPU time apart from that of other databases on the same server (other work on a
    shared machine). Backends that close during a measurement are not counted; the
    servers measured keep their pools open."""

    def pids() -> list[int]:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            ).fetchall()
        return [int(row[0]) for row in rows]

    return pids


def _machine_busy() -> tuple[float, float]:
    """(busy, all) CPU time of the whole machine so far, in ticks."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and waiting for I/O
    return sum(ticks) - idle, sum(ticks)


class CpuMeter:
    """CPU time used while a block runs, in seconds: by PostgreSQL (every backend), by
    other named groups of processes, and by this one ("client"); and how busy the whole
    machine was, in per cent."""

    def __init__(self, *, every_postgres: bool = True, **groups: Callable[[], list[int]]) -> None:
        """``every_postgres``: count every PostgreSQL process on the machine as
        "postgres" (the postmaster's ended children too)."""
        self.groups = {**groups, **({"postgres": _postgres_pids} if every_postgres else {})}
        self.used: dict[str, float] = {}
        self.busy = 0.0

    def __enter__(self) -> CpuMeter:
        self._before = {name: _cpu_seconds(pids()) for name, pids in self.groups.items()}
        self._client = resource.getrusage(resource.RUSAGE_SELF)
        self._machine = _machine_busy()
        return self

    def __exit__(self, *_: object) -> None:
        busy, every = _machine_busy()
        client = resource.getrusage(resource.RUSAGE_SELF)
        for name, pids in self.groups.items():
            before = self._before[name]
            self.used[name] = sum(
                t - before.get(pid, 0.0) for pid, t in _cpu_seconds(pids()).items()
            )
        self.used["client"] = (
            client.ru_utime - self._client.ru_utime + client.ru_stime - self._client.ru_stime
        )
        self.busy = 100 * (busy - self._machine[0]) / max(1, every - self._machine[1])

    def add(
        self, results: Results, prefix: str, count: int, size: int, unit: str = "ms/entry"
    ) -> None:
        for name, seconds in self.used.items():
            results.add(f"{prefix}_cpu_{name}", seconds * 1000 / count, unit, size)
        results.add(f"{prefix}_machine_busy", self.busy, "%", size)
