"""Issue 9: one JSON log line per request, and Prometheus metrics at /metrics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.settings import Settings
from tests.conftest import SCRAPER
from tests.helpers import bearer, cohort, council, entry, programme, project
from tests.observe import (
    captured_logs,
    parse_metrics,
    series,
    server_without_projections,
    value,
)
from web.app import create_app
from web.deps import SESSION_COOKIE

PROGRAMME = {"name": "Local Digital Accelerator", "description": "d", "sponsor_body": "MHCLG"}


def test_each_request_is_one_json_log_line_with_its_id_actor_route_status_and_latency(
    client: TestClient,
) -> None:
    with captured_logs() as logs:
        # Given a programme created by pm.jones, with a request id of the client's choosing
        created = client.post(
            "/api/programmes", json=PROGRAMME, headers={"X-Request-Id": "trace-0001"}
        )
        # When pm.smith reads it back, without a request id, and a path that matches no route
        read = client.get(
            f"/api/programmes/{created.json()['programme_id']}", headers=bearer(client, "pm.smith")
        )
        missing = client.get("/api/nothing-here/raw-7f3e")

    # Then the given id is echoed, a new one is made where none was given
    assert created.headers["X-Request-Id"] == "trace-0001"
    made = read.headers["X-Request-Id"]
    assert made and made != "trace-0001"
    # And each request is one line of JSON naming the route template, not the raw path
    lines = logs.requests()
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("POST", "/api/programmes", 201),
        ("GET", "/api/programmes/{programme_id}", 200),
        ("GET", "<unmatched>", 404),
    ]
    assert [line["request_id"] for line in lines] == [
        "trace-0001",
        made,
        missing.headers["X-Request-Id"],
    ]
    # And each names the signed-in user who asked (no one, where no route was reached)
    assert [line["actor"] for line in lines] == ["pm.jones", "pm.smith", None]
    for line in lines:
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert line["level"] == "info" and line["timestamp"].endswith("Z")
    # And no raw path reaches the log
    assert created.json()["programme_id"] not in logs.text
    assert "raw-7f3e" not in logs.text


def test_a_static_file_is_logged_under_its_mount_not_its_file_name(client: TestClient) -> None:
    with captured_logs() as logs:
        found = client.get("/static/app/app.scss")
        missing = client.get("/static/no-such-file-3b9d.css")
    assert (found.status_code, missing.status_code) == (200, 404)
    assert [(line["route"], line["status"]) for line in logs.requests()] == [
        ("/static/{path}", 200),
        ("/static/{path}", 404),
    ]
    assert "no-such-file-3b9d" not in logs.text


def test_an_unsafe_request_id_is_replaced(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-Id": 'x"\n{"forged": true}'})
    assert response.status_code == 200
    assert response.headers["X-Request-Id"] != 'x"\n{"forged": true}'
    assert len(response.headers["X-Request-Id"]) == 32


def test_secrets_sent_in_a_request_never_reach_the_logs(client: TestClient) -> None:
    # Given a user with an API token (the client sends it) and one with a password
    token = client.tokens["pm.jones"]  # type: ignore[attr-defined]
    password = "pw-hunter2-never-log-me"
    client.app.state.waymark.credentials.set_password("pm.smith", password)  # type: ignore[attr-defined]
    in_query = "qs-51ab-never-log-me"
    in_body = "body-7c1e-never-log-me"
    browser = TestClient(client.app)  # the same server, without the API token

    with captured_logs() as logs:
        # When a write succeeds, one is refused, one's body is not JSON
        accepted = client.post(
            f"/api/programmes?access_token={in_query}", json={**PROGRAMME, "description": in_body}
        )
        refused = client.post("/api/programmes", json={**PROGRAMME, "password": password})
        malformed = client.post(
            "/api/programmes",
            content=f'{{"password": "{password}"',
            headers={"Content-Type": "application/json"},
        )
        # And a browser signs in with the password and uses its session cookie
        wrong = browser.post("/auth/sign-in", data={"username": "pm.smith", "password": "nope"})
        signed_in = browser.post(
            "/auth/sign-in", data={"username": "pm.smith", "password": password}
        )
        me = browser.get("/api/me")

    statuses = [r.status_code for r in (accepted, refused, malformed, wrong, signed_in, me)]
    assert statuses == [201, 422, 400, 401, 200, 200]
    session = browser.cookies[SESSION_COOKIE]
    csrf = signed_in.json()["csrf_token"]

    # Then every request has its line, naming who asked
    lines = logs.requests()
    assert [line["status"] for line in lines] == statuses
    assert (lines[0]["actor"], lines[-1]["actor"]) == ("pm.jones", "pm.smith")
    # And no token, password, cookie, query string or body reaches the logs
    for secret in (token, password, session, csrf, in_query, in_body, "Bearer", SESSION_COOKIE):
        assert secret not in logs.text, secret


def test_an_unhandled_error_is_a_logged_500_problem_that_carries_the_request_id(
    settings: Settings,
) -> None:
    app = create_app(settings)

    def fail() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-only/fail", fail)
    with captured_logs() as logs, TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test-only/fail", headers={"X-Request-Id": "bug-1"})

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["X-Request-Id"] == "bug-1"
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # hardened like any answer
    assert response.json()["status"] == 500
    [line] = logs.requests()
    assert (line["route"], line["status"], line["request_id"]) == ("/test-only/fail", 500, "bug-1")


def test_a_body_refused_as_too_large_is_logged_and_counted(
    client: TestClient, settings: Settings
) -> None:
    before = parse_metrics(client.get("/metrics", headers=SCRAPER).text)
    with captured_logs() as logs:
        response = client.post(
            "/api/programmes",
            content=b"x" * (settings.max_body_bytes + 1),
            headers={"Content-Type": "application/json", "X-Request-Id": "big-1"},
        )
    after = parse_metrics(client.get("/metrics", headers=SCRAPER).text)

    assert response.status_code == 413
    assert response.headers["X-Request-Id"] == "big-1"
    [line] = logs.requests()
    assert (line["status"], line["request_id"]) == (413, "big-1")
    labels = {"route": line["route"], "method": "POST", "status": "413"}
    counted = value(after, "waymark_http_requests_total", **labels)
    assert counted - value(before, "waymark_http_requests_total", **labels) == 1


def test_metrics_count_requests_and_appended_events_by_kind(client: TestClient) -> None:
    # Given the metrics as they stand
    before = parse_metrics(client.get("/metrics", headers=SCRAPER).text)

    # When a programme, a cohort, a council, a project and two entries are recorded
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter City Council"))
    for statement in ("Residents phone about bins.", "Residents cannot find collection days."):
        entry(client, project_id, {"kind": "problem_statement_iterated", "statement": statement})
    response = client.get("/metrics", headers=SCRAPER)

    # Then the request counters and latency histograms moved by route template and status
    assert response.headers["content-type"].startswith("text/plain")
    after = parse_metrics(response.text)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    entries = {"route": "/api/projects/{project_id}/entries", "method": "POST", "status": "201"}
    assert moved("waymark_http_requests_total", **entries) == 2
    assert moved("waymark_http_request_duration_seconds_count", **entries) == 2
    assert moved("waymark_http_request_duration_seconds_sum", **entries) > 0
    assert moved("waymark_http_request_duration_seconds_bucket", le="+Inf", **entries) == 2
    programmes = {"route": "/api/programmes", "method": "POST", "status": "201"}
    assert moved("waymark_http_requests_total", **programmes) == 1
    # And the events appended are counted by kind
    assert moved("waymark_events_appended_total", kind="Programme.Launched") == 1
    assert moved("waymark_events_appended_total", kind="Cohort.Formed") == 1
    assert moved("waymark_events_appended_total", kind="Council.Registered") == 1
    assert moved("waymark_events_appended_total", kind="Project.Started") == 1
    assert moved("waymark_events_appended_total", kind="Cohort.CouncilEnrolled") == 1
    assert moved("waymark_events_appended_total", kind="Project.ProblemStatementIterated") == 2


@pytest.fixture
def idle_client(settings: Settings) -> Iterator[TestClient]:
    with server_without_projections(settings, max_lag=2) as client:
        yield client


def test_metrics_show_each_read_models_lag_computed_when_scraped(idle_client: TestClient) -> None:
    level = parse_metrics(idle_client.get("/metrics", headers=SCRAPER).text)
    assert set(series(level, "waymark_read_model_lag_events").values()) == {0}
    assert value(level, "waymark_ready") == 1
    start = value(level, "waymark_event_log_head")

    # Given three events no read model has applied yet
    cohort(idle_client, programme(idle_client))
    council(idle_client, "GB-EXE", "Exeter City Council")
    lagging = parse_metrics(idle_client.get("/metrics", headers=SCRAPER).text)
    read_models = idle_client.app.state.waymark.projector.read_models  # type: ignore[attr-defined]
    assert {"directory", "entries"} <= set(read_models)
    assert series(lagging, "waymark_read_model_lag_events") == {
        frozenset({("read_model", name)}): 3 for name in read_models
    }
    assert value(lagging, "waymark_event_log_head") == start + 3
    assert value(lagging, "waymark_ready") == 0

    # When the read models catch up
    idle_client.app.state.waymark.projector.catch_up()  # type: ignore[attr-defined]

    # Then the next scrape says so
    caught_up = parse_metrics(idle_client.get("/metrics", headers=SCRAPER).text)
    assert set(series(caught_up, "waymark_read_model_lag_events").values()) == {0}
    assert value(caught_up, "waymark_read_model_position", read_model="directory") == start + 3
    assert value(caught_up, "waymark_ready") == 1


def test_connection_pool_use_is_reported_on_postgresql_only(
    client: TestClient, settings: Settings
) -> None:
    programme(client)
    samples = parse_metrics(client.get("/metrics", headers=SCRAPER).text)
    connections = series(samples, "waymark_db_pool_connections")
    if not settings.uses_postgres:
        assert connections == {}  # SQLite has no connection pools
        return
    assert set(connections) == {
        frozenset({("pool", "events")}),
        frozenset({("pool", "read_models")}),
    }
    for pool in ("events", "read_models"):
        held = value(samples, "waymark_db_pool_connections", pool=pool)
        in_use = value(samples, "waymark_db_pool_connections_in_use", pool=pool)
        most = value(samples, "waymark_db_pool_connections_max", pool=pool)
        assert 1 <= held <= most
        assert 0 <= in_use <= held
    assert value(samples, "waymark_db_pool_connections_max", pool="read_models") == (
        settings.postgres_pool_size
    )
