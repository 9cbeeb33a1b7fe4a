"""Issue 9: /healthz says the process lives; /readyz says the database answers and
the read models keep up, and says it quickly even when the database hangs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.settings import Settings
from tests.conftest import TEST_SECRET, fresh_postgres_database
from tests.helpers import assert_problem, cohort, council, programme
from tests.observe import server_without_projections
from tests.tcp_proxy import FreezableProxy
from web.app import create_app

TIMEOUT = 0.5


def test_ready_when_the_database_answers_and_the_read_models_keep_up(client: TestClient) -> None:
    # Given a write, and the in-process worker given time to apply it
    programme(client)
    projector = client.app.state.waymark.projector  # type: ignore[attr-defined]
    head = projector.log.head()
    assert projector.wait_for(head, 5)

    # When readiness is asked, then it is ready, at the log's head
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "head": head, "lag": 0, "max_lag": 10_000}
    assert client.get("/healthz").json() == {"status": "ok"}


def test_not_ready_while_a_read_model_trails_the_log_by_more_than_the_bound(
    settings: Settings,
) -> None:
    # Given a bound of two events and no projection worker running
    with server_without_projections(settings, max_lag=2) as client:
        # When two events are appended, the read models are at the bound: still ready
        cohort(client, programme(client))
        at_bound = client.get("/readyz")
        assert at_bound.status_code == 200, at_bound.text
        assert at_bound.json()["lag"] == 2

        # When a third is appended, they are past it: not ready, and the answer says why
        council(client, "GB-EXE", "Exeter City Council")
        body = assert_problem(client.get("/readyz"), 503)
        assert body["type"] == "/problems/not-ready"
        assert "3 events behind the log (more than 2)" in body["detail"]
        assert (body["lag"], body["max_lag"]) == (3, 2)

        # When the read models catch up, it is ready again
        client.app.state.waymark.projector.catch_up()  # type: ignore[attr-defined]
        assert client.get("/readyz").json()["lag"] == 0


@pytest.fixture
def freezable(postgres_admin: str, tmp_path: Path) -> Iterator[tuple[Settings, FreezableProxy]]:
    """Settings whose PostgreSQL is reached through a loopback proxy that can freeze.

    Frozen, the database neither answers nor refuses: it hangs, as behind a lost
    network. (SQLite has no such case: it is a local file, and in WAL mode no
    other connection can hold up a reader.)
    """
    for url in fresh_postgres_database(postgres_admin):
        parts = Settings(database_url=url).postgres_parts()
        proxy = FreezableProxy(parts["host"], int(parts["port"]))
        password = f":{parts['password']}" if parts["password"] else ""
        proxied = f"postgresql://{parts['user']}{password}@127.0.0.1:{proxy.port}/{parts['dbname']}"
        try:
            yield (
                Settings(
                    data_dir=tmp_path,
                    database_url=proxied,
                    readiness_timeout=TIMEOUT,
                    secret_key=TEST_SECRET,
                ),
                proxy,
            )
        finally:
            proxy.close()


@pytest.mark.postgres
def test_readyz_answers_503_within_its_time_bound_while_the_database_hangs(
    freezable: tuple[Settings, FreezableProxy],
) -> None:
    settings, proxy = freezable
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200

        proxy.freeze()
        try:
            # Asked again and again while the database hangs, readiness answers in time
            for _ in range(3):
                started = time.monotonic()
                response = client.get("/readyz")
                elapsed = time.monotonic() - started
                body = assert_problem(response, 503)
                assert f"did not answer within {TIMEOUT:g} s" in body["detail"]
                assert elapsed < TIMEOUT + 1.0, elapsed
            # The process itself is alive, and the probes did not pile up threads
            assert client.get("/healthz").status_code == 200
            asking = [t for t in threading.enumerate() if t.name == "waymark-readiness"]
            assert len(asking) <= 1
        finally:
            proxy.thaw()

        # Once the database answers again, so does readiness (within a bounded wait)
        deadline = time.monotonic() + 15
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "not ready again after the database came back"
            time.sleep(0.1)
