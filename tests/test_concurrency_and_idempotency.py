"""Issue 3: If-Match, concurrent appends, and idempotent retries."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from services.container import Waymark
from services.settings import Settings
from tests.helpers import MANAGER, assert_problem, cohort, council, programme, project

#: How many processes a test starts on one store at the same moment.
STARTING_TOGETHER = 6


def test_a_write_based_on_a_stale_version_is_refused_with_412(client: TestClient) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    fetched = client.get(f"/api/projects/{project_id}")
    tag = fetched.headers["ETag"]
    assert tag == f'"{fetched.json()["version"]}"'

    first = client.post(
        f"/api/projects/{project_id}/entries",
        json={"kind": "problem_statement_iterated", "statement": "A"},
        headers={**MANAGER, "If-Match": tag},
    )
    assert first.status_code == 201, first.text
    assert first.headers["ETag"] == f'"{fetched.json()["version"] + 1}"'
    stale = client.post(
        f"/api/projects/{project_id}/entries",
        json={"kind": "problem_statement_iterated", "statement": "B"},
        headers={**MANAGER, "If-Match": tag},
    )
    body = assert_problem(stale, 412)
    assert body["current_version"] == fetched.json()["version"] + 1
    assert len(client.get(f"/api/projects/{project_id}").json()["entries"]) == 1
    assert_problem(
        client.post(
            f"/api/projects/{project_id}/entries",
            json={"kind": "problem_statement_iterated", "statement": "C"},
            headers={**MANAGER, "If-Match": "yesterday"},
        ),
        422,
        field="If-Match",
    )


def test_concurrent_appends_without_if_match_are_all_kept(waymark: Waymark) -> None:
    records = waymark.records
    programme_id = records.launch_programme(name="P", description="", sponsor_body="", actor="t").id
    cohort_id = records.form_cohort(
        programme_id=programme_id,
        name="C",
        starts_on=__import__("datetime").date(2026, 1, 1),
        ends_on=__import__("datetime").date(2026, 6, 1),
        actor="t",
    ).id
    records.register_council(
        code="GB-EXE",
        name="Exeter",
        council_type="district",
        region="south_west",
        population=None,
        gss_code=None,
        political_control=None,
        actor="t",
    )
    project_id = records.enrol_council(
        cohort_id=cohort_id, council_code="GB-EXE", title="Bins", actor="t"
    ).id

    def write(n: int) -> int:
        return records.record_entry(
            project_id=project_id,
            kind="sponsor_check_in",
            decided_on=None,
            values={"team_health": "green", "team_health_note": f"writer {n}"},
            actor=f"writer-{n}",
        ).version

    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = list(pool.map(write, range(40)))

    project_after = records.get_project(project_id)
    notes = sorted(e.fields["team_health_note"] for e in project_after.entries.values())
    assert notes == sorted(f"writer {n}" for n in range(40))
    assert sorted(versions) == list(range(2, 42))
    assert project_after.version == 41


def test_a_retried_entry_with_the_same_idempotency_key_is_recorded_once(
    client: TestClient,
) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    body = {"kind": "problem_statement_iterated", "statement": "Once only"}
    headers = {**MANAGER, "Idempotency-Key": "form-submit-7f3a"}

    first = client.post(f"/api/projects/{project_id}/entries", json=body, headers=headers)
    retry = client.post(f"/api/projects/{project_id}/entries", json=body, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(client.get(f"/api/projects/{project_id}").json()["entries"]) == 1
    other = client.post(
        f"/api/projects/{project_id}/entries",
        json={"kind": "sponsor_check_in", "team_health": "red"},
        headers=headers,
    )
    assert_problem(other, 409)


def test_retried_creations_with_an_idempotency_key_return_the_first_result(
    client: TestClient,
) -> None:
    body = {"name": "Accelerator", "description": "", "sponsor_body": ""}
    headers = {**MANAGER, "Idempotency-Key": "launch-1"}
    first = client.post("/api/programmes", json=body, headers=headers)
    retry = client.post("/api/programmes", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    programme_id = first.json()["programme_id"]

    cohort_body = {"name": "C1", "starts_on": "2026-01-05", "ends_on": "2026-06-26"}
    cohort_first = client.post(
        f"/api/programmes/{programme_id}/cohorts", json=cohort_body, headers=headers
    )
    cohort_retry = client.post(
        f"/api/programmes/{programme_id}/cohorts", json=cohort_body, headers=headers
    )
    assert cohort_retry.json() == cohort_first.json()
    cohort_id = cohort_first.json()["cohort_id"]

    council_body = {
        "code": "GB-EXE",
        "name": "Exeter",
        "council_type": "district",
        "region": "south_west",
    }
    council_first = client.post("/api/councils", json=council_body, headers=headers)
    council_retry = client.post("/api/councils", json=council_body, headers=headers)
    assert council_retry.json() == council_first.json()
    assert_problem(client.post("/api/councils", json=council_body, headers=MANAGER), 409)

    enrol_body = {"council_code": "GB-EXE", "title": "Bins"}
    enrol_first = client.post(
        f"/api/cohorts/{cohort_id}/projects", json=enrol_body, headers=headers
    )
    enrol_retry = client.post(
        f"/api/cohorts/{cohort_id}/projects", json=enrol_body, headers=headers
    )
    assert enrol_first.status_code == 201, enrol_first.text
    assert enrol_retry.json() == enrol_first.json()
    assert_problem(
        client.post(f"/api/cohorts/{cohort_id}/projects", json=enrol_body, headers=MANAGER), 409
    )
    # Once the read models have reached the enrolment (the last write), each thing is there once
    caught_up = client.get(
        f"/api/cohorts/{cohort_id}/timeline", params={"wait_for": enrol_first.json()["position"]}
    )
    assert caught_up.json()["freshness"]["reached"] is True
    assert len(client.get("/api/programmes").json()["items"]) == 1
    assert len(client.get(f"/api/cohorts/{cohort_id}").json()["projects"]) == 1
    assert client.get(f"/api/programmes/{programme_id}").json()["version"] == 1


def test_servers_starting_together_on_a_store_all_start(settings: Settings) -> None:
    """Workers of `waymark serve --workers N`, and the projection worker beside them,
    start at the same moment: each makes sure the tables are there, and none may fail
    for another doing the same (PostgreSQL once refused one of two: "tuple concurrently
    updated", and uvicorn then stopped the whole server). First on an empty store, then
    on one made already, as `waymark serve` makes it before its workers start."""
    for _ in range(5):
        starting = threading.Barrier(STARTING_TOGETHER)
        with ThreadPoolExecutor(STARTING_TOGETHER) as pool:
            for started in [
                pool.submit(_start_when_all_are_ready, starting, settings)
                for _ in range(STARTING_TOGETHER)
            ]:
                started.result()


def _start_when_all_are_ready(starting: threading.Barrier, settings: Settings) -> None:
    starting.wait()
    Waymark(settings).close()
