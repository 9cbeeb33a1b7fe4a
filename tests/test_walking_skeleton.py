"""Issue 2: record decisions over HTTP and see them on the cohort timeline."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.helpers import (
    MANAGER,
    assert_problem,
    bearer,
    cohort,
    council,
    entry,
    programme,
    project,
)


def test_decisions_recorded_over_http_appear_on_the_cohort_timeline_newest_first(
    client: TestClient,
) -> None:
    # Given a programme, a cohort and two councils with a project each
    cohort_id = cohort(client, programme(client))
    exeter = project(client, cohort_id, council(client, "GB-EXE", "Exeter City Council"))
    devon = project(client, cohort_id, council(client, "GB-DEV", "Devon County Council", "county"))

    # When problem statements are iterated twice and a capacity decision is recorded
    first = entry(
        client,
        exeter,
        {
            "kind": "problem_statement_iterated",
            "statement": "Residents phone about missed bins.",
            "decided_on": "2026-01-12",
        },
    )
    second = entry(
        client,
        exeter,
        {
            "kind": "problem_statement_iterated",
            "statement": "Residents cannot find out when their bin is collected.",
            "what_changed": "From missed bins to collection days.",
            "why": "Research.",
        },
    )
    decision = entry(
        client,
        devon,
        {
            "kind": "capacity_decided",
            "capability": "Online self-assessment",
            "choice": "buy",
            "estimated_cost": "125000.00",
        },
        headers=bearer(client, "pm.smith"),
    )

    # Then the timeline, read at the last write's position, shows every entry newest first
    response = client.get(
        f"/api/cohorts/{cohort_id}/timeline", params={"wait_for": decision["position"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["freshness"]["reached"] is True
    assert body["freshness"]["position"] >= decision["position"]
    items = body["items"]
    assert [i["entry_id"] for i in items] == [
        decision["entry_id"],
        second["entry_id"],
        first["entry_id"],
    ]
    for item in items:
        for key in ("entry_id", "kind", "decided_on", "recorded_at", "actor"):
            assert item[key], (key, item)
    assert [i["kind"] for i in items] == [
        "capacity_decided",
        "problem_statement_iterated",
        "problem_statement_iterated",
    ]
    assert items[0]["actor"] == "pm.smith"
    assert items[1]["actor"] == "pm.jones"
    assert items[2]["decided_on"] == "2026-01-12"
    assert items[0]["estimated_cost"] == "125000.00"
    assert items[0]["council_name"] == "Devon County Council"
    assert items[0]["recorded_at"] > items[1]["recorded_at"] > items[2]["recorded_at"]


def test_nothing_can_be_written_anonymously(client: TestClient) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    before = client.get(f"/api/projects/{project_id}").json()["version"]
    written = client.post(
        f"/api/projects/{project_id}/entries",
        json={"kind": "problem_statement_iterated", "statement": "A"},
        headers={"Authorization": ""},
    )
    assert_problem(written, 401)
    assert written.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get(f"/api/projects/{project_id}").json()["version"] == before


def test_an_unknown_project_is_a_404_problem(client: TestClient) -> None:
    response = client.post(
        f"/api/projects/{uuid.uuid4()}/entries",
        json={"kind": "problem_statement_iterated", "statement": "Anything"},
        headers=MANAGER,
    )
    assert_problem(response, 404)
    assert_problem(client.get(f"/api/projects/{uuid.uuid4()}"), 404)


def test_a_capacity_choice_of_rent_is_a_422_naming_choice_and_records_nothing(
    client: TestClient,
) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    before = client.get(f"/api/projects/{project_id}").json()["version"]

    response = client.post(
        f"/api/projects/{project_id}/entries",
        json={"kind": "capacity_decided", "capability": "Booking", "choice": "rent"},
        headers=MANAGER,
    )

    assert_problem(response, 422, field="choice")
    assert client.get(f"/api/projects/{project_id}").json()["version"] == before


def test_writes_return_their_position_and_version_as_etag(client: TestClient) -> None:
    programme_id = programme(client)
    response = client.post(
        f"/api/programmes/{programme_id}/cohorts",
        json={"name": "C", "starts_on": "2026-01-05", "ends_on": "2026-03-01"},
        headers=MANAGER,
    )
    assert response.status_code == 201
    assert response.json()["position"] >= 2
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/api/cohorts/{response.json()['cohort_id']}"


def test_listings_show_what_was_created(client: TestClient) -> None:
    programme_id = programme(client, "Masterclasses for members")
    cohort_id = cohort(client, programme_id)
    council(client, "gb-exe", "Exeter City Council")
    written = client.post(
        f"/api/cohorts/{cohort_id}/projects",
        json={"council_code": "GB-EXE", "title": "Bins"},
        headers=MANAGER,
    ).json()
    client.get(f"/api/cohorts/{cohort_id}/timeline", params={"wait_for": written["position"]})

    assert [p["name"] for p in client.get("/api/programmes").json()["items"]] == [
        "Masterclasses for members"
    ]
    assert [c["code"] for c in client.get("/api/councils").json()["items"]] == ["GB-EXE"]
    assert client.get("/api/councils/gb-exe").json()["name"] == "Exeter City Council"
    programme_body = client.get(f"/api/programmes/{programme_id}").json()
    assert [c["cohort_id"] for c in programme_body["cohorts"]] == [cohort_id]
    cohort_body = client.get(f"/api/cohorts/{cohort_id}").json()
    assert [p["council_code"] for p in cohort_body["projects"]] == ["GB-EXE"]


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_openapi_documents_the_contract(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/programmes",
        "/api/programmes/{programme_id}",
        "/api/programmes/{programme_id}/cohorts",
        "/api/cohorts/{cohort_id}",
        "/api/cohorts/{cohort_id}/projects",
        "/api/cohorts/{cohort_id}/timeline",
        "/api/councils",
        "/api/councils/{code}",
        "/api/projects/{project_id}",
        "/api/projects/{project_id}/entries",
        "/healthz",
        "/readyz",
    ):
        assert path in paths, path
