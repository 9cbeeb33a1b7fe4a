"""Issue 8: nothing acknowledged is lost, and failures are loud, never silent.

Real server and worker processes on loopback: concurrent writers, SIGKILL at
random moments, a PostgreSQL server stopped and started, backup and restore.
Every check compares the log and the read models with what was acknowledged.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from services.container import Waymark
from services.settings import Settings
from tests.helpers import read_model_rows
from tests.processes import (
    PG_BIN,
    OwnPostgres,
    Server,
    Worker,
    have_own_postgres,
    waymark,
)

ENTRY = {"kind": "sponsor_check_in", "team_health": "green"}
#: Kills per run: a few in `make test`, many more in `make reliability`.
ROUNDS = int(os.environ.get("WAYMARK_RELIABILITY_ROUNDS", "6"))


@dataclass
class Outcome:
    """What each request was told: acknowledged, refused, or no answer."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> entry id
    refused: set[str] = field(default_factory=set)
    unanswered: set[str] = field(default_factory=set)
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def set_up(server: Server, token: str) -> tuple[httpx.Client, str, str]:
    client = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    programme = client.post("/api/programmes", json={"name": "P"}).json()["programme_id"]
    cohort = client.post(
        f"/api/programmes/{programme}/cohorts",
        json={"name": "C", "starts_on": "2026-01-05", "ends_on": "2026-07-01"},
    ).json()["cohort_id"]
    client.post(
        "/api/councils",
        json={"code": "GB-EXE", "name": "Exeter", "council_type": "district", "region": "london"},
    ).raise_for_status()
    project = client.post(
        f"/api/cohorts/{cohort}/projects", json={"council_code": "GB-EXE", "title": "Bins"}
    ).json()["project_id"]
    return client, cohort, project


def write(
    url: str, token: str, project: str, outcome: Outcome, key: str, if_match: str | None = None
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    if if_match is not None:
        headers["If-Match"] = if_match
    try:
        response = httpx.post(
            f"{url}/api/projects/{project}/entries",
            json={**ENTRY, "team_health_note": key},
            headers=headers,
            timeout=15,
        )
    except httpx.TransportError:
        with outcome.lock:
            outcome.unanswered.add(key)
        return
    with outcome.lock:
        if response.status_code == 201:
            outcome.acknowledged[key] = response.json()["entry_id"]
        elif response.status_code in (409, 412):
            outcome.refused.add(key)
        elif response.status_code == 503:
            outcome.unanswered.add(key)
        else:
            outcome.server_errors.append(f"{response.status_code} {response.text[:200]}")


def recorded_notes(container: Waymark, project: str) -> dict[str, str]:
    """team_health_note (the idempotency key) -> entry id, as the log holds them."""
    entries = container.records.get_project(uuid.UUID(project)).entries.values()
    return {e.fields["team_health_note"]: str(e.entry_id) for e in entries}


def assert_read_models_equal_a_rebuild(container: Waymark) -> None:
    container.projector.catch_up()
    incremental = read_model_rows(container)
    container.projector.rebuild()
    assert read_model_rows(container) == incremental


def admin_token(settings: Settings) -> str:
    return waymark(settings, "users", "add", f"admin-{uuid.uuid4().hex[:6]}", "--role", "admin")


def test_sixteen_concurrent_writers_to_one_project_lose_nothing(settings: Settings) -> None:
    token = admin_token(settings).strip().splitlines()[-1]
    server = Server(settings)
    server.start()
    try:
        client, _cohort, project = set_up(server, token)
        outcome = Outcome()
        version = client.get(f"/api/projects/{project}").headers["ETag"]

        def writer(n: int) -> None:
            for i in range(6):
                # Half the writers send If-Match with a version they read at the start.
                write(
                    server.url,
                    token,
                    project,
                    outcome,
                    f"w{n}-{i}",
                    if_match=version if n % 2 else None,
                )

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        assert outcome.server_errors == []
        assert outcome.unanswered == set()
        assert len(outcome.acknowledged) + len(outcome.refused) == 16 * 6
        assert len(outcome.acknowledged) >= 8 * 6  # writers without If-Match always succeed
    finally:
        server.stop()

    container = Waymark(settings)
    try:
        recorded = recorded_notes(container, project)
        assert recorded == outcome.acknowledged  # every acknowledged write, and nothing else
        project_now = container.records.get_project(uuid.UUID(project))
        assert project_now.version == 1 + len(outcome.acknowledged)
        assert_read_models_equal_a_rebuild(container)
        assert container.ledger.verify().ok
    finally:
        container.close()


def test_sigkill_of_the_server_and_the_worker_during_writes_loses_nothing(
    settings: Settings,
) -> None:
    token = admin_token(settings).strip().splitlines()[-1]
    server = Server(settings, WAYMARK_IN_PROCESS_PROJECTIONS="false")
    worker = Worker(settings)
    server.start()
    worker.start()
    outcome = Outcome()
    stop = threading.Event()
    try:
        _client, _cohort, project = set_up(server, token)

        def writer(n: int) -> None:
            i = 0
            while not stop.is_set():
                write(server.url, token, project, outcome, f"k{n}-{i}")
                i += 1
                time.sleep(0.01)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        chance = random.Random(20261127)
        for _ in range(ROUNDS):
            time.sleep(chance.uniform(0.3, 1.2))
            victim = chance.choice([server, worker])
            victim.kill()
            time.sleep(chance.uniform(0.0, 0.3))
            victim.start()
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        stop.set()
        server.stop()
        worker.stop()

    assert outcome.server_errors == []
    assert len(outcome.acknowledged) > 20, "the load must have written something"
    container = Waymark(settings)
    try:
        recorded = recorded_notes(container, project)
        for key, entry_id in outcome.acknowledged.items():
            assert recorded.get(key) == entry_id, f"acknowledged write {key} was lost"
        # Unanswered writes may or may not have been recorded, but never twice.
        assert len(recorded) == len(set(recorded.values()))
        assert_read_models_equal_a_rebuild(container)
        assert container.ledger.verify().ok
    finally:
        container.close()


@pytest.mark.postgres
@pytest.mark.skipif(not have_own_postgres(), reason="PostgreSQL server binaries not installed")
def test_a_stopped_database_gives_quick_503s_and_the_service_recovers_by_itself(
    tmp_path: Path,
) -> None:
    postgres = OwnPostgres()
    postgres.start()
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres.url,
        secret_key="test-secret-that-is-long-enough-for-waymark",
        database_timeout=2,
    )
    server = Server(settings)
    try:
        token = admin_token(settings).strip().splitlines()[-1]
        server.start()
        client, cohort, project = set_up(server, token)
        outcome = Outcome()
        for i in range(5):
            write(server.url, token, project, outcome, f"before-{i}")
        assert len(outcome.acknowledged) == 5

        postgres.stop()
        started = time.monotonic()
        during = client.post(f"/api/projects/{project}/entries", json=ENTRY)
        elapsed = time.monotonic() - started
        assert during.status_code == 503, during.text
        assert during.headers["content-type"].startswith("application/problem+json")
        assert elapsed < 10, f"a request hung for {elapsed:.1f}s"
        reads = client.get(f"/api/cohorts/{cohort}/timeline")
        assert reads.status_code == 503, reads.text
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200

        postgres.start()
        back = time.monotonic()
        recovered = None
        while time.monotonic() - back < 10:
            response = client.post(
                f"/api/projects/{project}/entries",
                json={**ENTRY, "team_health_note": "after"},
                headers={"Idempotency-Key": "after"},
            )
            if response.status_code == 201:
                recovered = response.json()
                break
            assert response.status_code == 503, response.text
            time.sleep(0.2)
        assert recovered is not None, "the service did not recover within 10 seconds"
        timeline = client.get(
            f"/api/cohorts/{cohort}/timeline", params={"wait_for": recovered["position"]}
        ).json()
        assert timeline["freshness"]["reached"] is True  # projections resumed by themselves
        assert client.get("/readyz").status_code == 200
    finally:
        server.stop()

    container = Waymark(settings)
    try:
        recorded = recorded_notes(container, project)
        for key, entry_id in outcome.acknowledged.items():
            assert recorded[key] == entry_id
        assert "after" in recorded
        assert container.ledger.verify().ok
    finally:
        container.close()
        postgres.remove()


def backup_and_restore(settings: Settings, folder: Path, admin_url: str | None) -> Settings:
    """The documented procedure: pg_dump/pg_restore, or a copy of the stopped SQLite files."""
    if settings.database_url is None:
        shutil.copytree(
            settings.data_dir, folder / "restored", ignore=shutil.ignore_patterns("*.log")
        )
        # The signing key and checkpoint log are kept apart from the data folder: the
        # restored store goes on with them (docs/OPERATIONS.md, backup and restore).
        return settings.model_copy(
            update={
                "data_dir": folder / "restored",
                "signing_key_file": settings.signing_key_path,
                "checkpoint_log": settings.checkpoint_log_path,
            }
        )
    assert admin_url is not None
    dump = folder / "waymark.dump"
    subprocess.run(
        [str(PG_BIN / "pg_dump"), "-Fc", "-f", str(dump), settings.database_url],
        check=True,
        timeout=120,
    )
    name = f"waymark_restored_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    restored_url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
    subprocess.run(
        [str(PG_BIN / "pg_restore"), "--no-owner", "-d", restored_url, str(dump)],
        check=True,
        timeout=120,
    )
    return settings.model_copy(update={"database_url": restored_url})


def test_a_backup_restores_the_same_record_answers_and_chain(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> None:
    admin_url = request.getfixturevalue("postgres_admin") if settings.database_url else None
    token = admin_token(settings).strip().splitlines()[-1]
    server = Server(settings)
    server.start()
    try:
        client, cohort, project = set_up(server, token)
        outcome = Outcome()
        for i in range(10):
            write(server.url, token, project, outcome, f"b-{i}")
        head = client.get("/readyz").json()["head"]
        before = client.get(
            f"/api/cohorts/{cohort}/timeline", params={"limit": 100, "wait_for": head}
        ).json()
        assert before["freshness"]["reached"] is True
    finally:
        server.stop()  # SQLite files are copied with the server stopped

    restored_settings = backup_and_restore(settings, tmp_path_factory.mktemp("backup"), admin_url)
    restored = Server(restored_settings)
    restored.start()
    try:
        again = httpx.get(
            f"{restored.url}/api/cohorts/{cohort}/timeline",
            params={"limit": 100},
            headers={"Authorization": f"Bearer {token}"},  # credentials are in the backup too
            timeout=30,
        )
        assert again.status_code == 200, again.text
        assert again.json()["items"] == before["items"]
    finally:
        restored.stop()
    container = Waymark(restored_settings)
    try:
        assert recorded_notes(container, project) == outcome.acknowledged
        assert container.ledger.verify().ok
    finally:
        container.close()
        if admin_url is not None and restored_settings.database_url:
            name = restored_settings.database_url.rsplit("/", 1)[1]
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
