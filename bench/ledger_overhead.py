"""What chaining costs a write: one-event saves with the stock recorder and the chained one.

    .venv/bin/python bench/ledger_overhead.py [postgresql://postgres@127.0.0.1:5432/postgres]

Each round writes N one-event saves to a fresh store with each recorder,
alternating, and prints saves per second. Measured here, never as a test.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from services.container import application_env
from services.records import DecisionRecords
from services.settings import Settings

ROUNDS = 5
SAVES = {"sqlite": 2000, "postgres": 1000}


def fresh_settings(admin_url: str | None) -> Settings:
    data_dir = Path(tempfile.mkdtemp())
    if admin_url is None:
        return Settings(data_dir=data_dir)
    name = f"waymark_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return Settings(data_dir=data_dir, database_url=f"{admin_url.rsplit('/', 1)[0]}/{name}")


def drop(settings: Settings, admin_url: str | None) -> None:
    if admin_url is not None:
        name = settings.postgres_parts()["dbname"]
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def saves_per_second(settings: Settings, chained: bool, saves: int) -> float:
    env = application_env(settings)
    if not chained:
        del env["APPLICATION_RECORDER_TOPIC"]
    records = DecisionRecords(env=env)
    try:
        start = time.perf_counter()
        for n in range(saves):
            records.launch_programme(
                name=f"Programme {n}", description=None, sponsor_body=None, actor="bench"
            )
        return saves / (time.perf_counter() - start)
    finally:
        records.close()


def main() -> None:
    admin_url = sys.argv[1] if len(sys.argv) > 1 else None
    backend = "postgres" if admin_url else "sqlite"
    results: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(ROUNDS):
        for chained in (False, True):
            settings = fresh_settings(admin_url)
            try:
                results[chained].append(saves_per_second(settings, chained, SAVES[backend]))
            finally:
                drop(settings, admin_url)
    stock, chained = max(results[False]), max(results[True])
    print(f"{backend}: stock {stock:,.0f} saves/s, chained {chained:,.0f} saves/s")
    print(f"{backend}: chaining costs {100 * (1 - chained / stock):.0f}% of write throughput")


if __name__ == "__main__":
    main()
