"""Issue 3: cohort lifecycle, phase rules, council profiles and assessments."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.helpers import MANAGER, assert_problem, cohort, council, entry, programme, project

TODAY = date.today()


def test_a_withdrawn_project_takes_no_more_entries_but_keeps_its_history(
    client: TestClient,
) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    entry(client, project_id, {"kind": "problem_statement_iterated", "statement": "A"})

    withdrawn = client.post(
        f"/api/cohorts/{cohort_id}/withdrawals",
        json={"council_code": "GB-EXE", "reason": "Lost their sponsor."},
        headers=MANAGER,
    )
    assert withdrawn.status_code == 200, withdrawn.text

    refused = client.post(
        f"/api/projects/{project_id}/entries",
        json={"kind": "problem_statement_iterated", "statement": "B"},
        headers=MANAGER,
    )
    body = assert_problem(refused, 409)
    assert "withdrawn" in body["detail"]
    project_body = client.get(f"/api/projects/{project_id}").json()
    assert project_body["withdrawn"] is True
    assert len(project_body["entries"]) == 1
    assert client.get(f"/api/cohorts/{cohort_id}").json()["withdrawn"] == ["GB-EXE"]
    again = client.post(
        f"/api/cohorts/{cohort_id}/withdrawals",
        json={"council_code": "GB-EXE", "reason": "again"},
        headers=MANAGER,
    )
    assert_problem(again, 409)


def test_a_closed_cohort_takes_no_more_entries_or_enrolments(client: TestClient) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    council(client, "GB-DEV", "Devon")
    closed = client.post(f"/api/cohorts/{cohort_id}/close", headers=MANAGER)
    assert closed.status_code == 200, closed.text
    assert client.get(f"/api/cohorts/{cohort_id}").json()["closed"] is True

    refused = client.post(
        f"/api/projects/{project_id}/entries",
        json={"kind": "sponsor_check_in", "team_health": "green"},
        headers=MANAGER,
    )
    assert "closed" in assert_problem(refused, 409)["detail"]
    enrol = client.post(
        f"/api/cohorts/{cohort_id}/projects",
        json={"council_code": "GB-DEV", "title": "Late"},
        headers=MANAGER,
    )
    assert_problem(enrol, 409)
    assert_problem(client.post(f"/api/cohorts/{cohort_id}/close", headers=MANAGER), 409)
    # Closing is the cohort's last event for good (a write reads only that event to know).
    withdrawal = client.post(
        f"/api/cohorts/{cohort_id}/withdrawals",
        json={"council_code": "GB-EXE", "reason": "Too late."},
        headers=MANAGER,
    )
    assert_problem(withdrawal, 409)


def test_phases_move_forward_freely_but_going_back_or_pausing_needs_a_reason(
    client: TestClient,
) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))

    def move(phase: str, reason: str = "") -> int:
        return client.post(
            f"/api/projects/{project_id}/entries",
            json={"kind": "phase_changed", "phase": phase, "reason": reason},
            headers=MANAGER,
        ).status_code

    assert move("discovery") == 201
    assert move("alpha") == 201
    assert move("private_beta") == 201
    assert move("alpha") == 422  # back, no reason
    assert move("alpha", "Beta users found a gap.") == 201
    assert move("retired") == 422  # only from live
    assert move("paused") == 422
    assert move("paused", "Budget freeze.") == 201
    assert move("discovery") == 422  # resuming earlier than before the pause
    assert move("private_beta") == 201  # resuming later than before the pause is forward
    assert move("private_beta") == 409  # already there
    assert move("stopped", "Funding withdrawn.") == 201
    assert move("live") == 409  # nothing follows stopped
    phases = [
        e["phase"]
        for e in client.get(f"/api/projects/{project_id}").json()["entries"]
        if e["kind"] == "phase_changed"
    ]
    assert phases == [
        "discovery",
        "alpha",
        "private_beta",
        "alpha",
        "paused",
        "private_beta",
        "stopped",
    ]


def test_council_profile_assessments_and_declaration_are_kept_over_time(
    client: TestClient,
) -> None:
    council(client, "GB-EXE", "Exeter City Council")
    earlier = (TODAY - timedelta(days=200)).isoformat()
    later = (TODAY - timedelta(days=10)).isoformat()

    patched = client.patch(
        "/api/councils/GB-EXE",
        json={"suppliers": ["Capita", "Civica"], "tried_before": ["Chatbot in 2018"]},
        headers=MANAGER,
    )
    assert patched.status_code == 200, patched.text
    for assessed_on, demand, financial in ((earlier, "high", "high"), (later, "low", "high")):
        response = client.post(
            "/api/councils/GB-EXE/financial-context",
            json={
                "assessed_on": assessed_on,
                "demand_pressure": demand,
                "financial_pressure": financial,
            },
            headers=MANAGER,
        )
        assert response.status_code == 200, response.text
    maturity = client.post(
        "/api/councils/GB-EXE/maturity",
        json={
            "assessed_on": later,
            "levels": {
                "working_in_the_open": 2,
                "agile_methods": 3,
                "collaborative_tools": 4,
                "user_centred_design": 2,
                "new_technology": 1,
            },
        },
        headers=MANAGER,
    )
    assert maturity.status_code == 200, maturity.text
    declaration = client.post(
        "/api/councils/GB-EXE/declaration", json={"signed_on": later}, headers=MANAGER
    )
    assert declaration.status_code == 200, declaration.text
    gss = client.post(
        "/api/councils/GB-EXE/gss-code",
        json={"gss_code": "E06000099", "effective_from": later},
        headers=MANAGER,
    )
    assert gss.status_code == 200, gss.text

    body = client.get("/api/councils/GB-EXE").json()
    assert body["suppliers"] == ["Capita", "Civica"]
    assert [a["segment"] for a in body["financial_contexts"]] == ["besieged", "cost_innovators"]
    assert body["maturity"][0]["levels"]["collaborative_tools"] == 4
    assert body["declaration_signed_on"] == later
    assert body["gss_code"] == "E06000099"
    assert [g["gss_code"] for g in body["gss_codes"]] == ["E07000041", "E06000099"]


def test_invalid_council_assessments_name_the_field(client: TestClient) -> None:
    council(client, "GB-EXE", "Exeter")
    future = (TODAY + timedelta(days=3)).isoformat()
    assert_problem(
        client.post(
            "/api/councils/GB-EXE/financial-context",
            json={"assessed_on": future, "demand_pressure": "low", "financial_pressure": "low"},
            headers=MANAGER,
        ),
        422,
        field="assessed_on",
    )
    assert_problem(
        client.post(
            "/api/councils/GB-EXE/financial-context",
            json={"assessed_on": "2026-01-01", "demand_pressure": "x", "financial_pressure": "low"},
            headers=MANAGER,
        ),
        422,
        field="demand_pressure",
    )
    assert_problem(
        client.post(
            "/api/councils/GB-EXE/maturity",
            json={
                "assessed_on": "2026-01-01",
                "levels": {
                    "working_in_the_open": 1,
                    "agile_methods": 6,
                    "collaborative_tools": 1,
                    "user_centred_design": 1,
                    "new_technology": 1,
                },
            },
            headers=MANAGER,
        ),
        422,
        field="levels.agile_methods",
    )
    assert_problem(
        client.post(
            "/api/councils/GB-EXE/maturity",
            json={"assessed_on": "2026-01-01", "levels": {"agile_methods": 3}},
            headers=MANAGER,
        ),
        422,
        field="levels.working_in_the_open",
    )
    assert_problem(
        client.post(
            "/api/councils",
            json={"code": "GB EXE!", "name": "x", "council_type": "district", "region": "london"},
            headers=MANAGER,
        ),
        422,
        field="code",
    )
    assert_problem(client.get("/api/councils/NOPE"), 404)


def test_a_reorganised_council_keeps_its_history_and_names_its_successors(
    client: TestClient,
) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-SOM", "Somerset County", "county"))
    entry(client, project_id, {"kind": "problem_statement_iterated", "statement": "A"})
    council(client, "GB-SOM-U", "Somerset Council", "unitary")

    missing = client.post(
        "/api/councils/GB-SOM/succession",
        json={"successor_codes": ["GB-NOWHERE"], "effective_from": "2023-04-01"},
        headers=MANAGER,
    )
    assert_problem(missing, 422, field="successor_codes")
    done = client.post(
        "/api/councils/GB-SOM/succession",
        json={"successor_codes": ["GB-SOM-U"], "effective_from": "2023-04-01"},
        headers=MANAGER,
    )
    assert done.status_code == 200, done.text

    body = client.get("/api/councils/GB-SOM").json()
    assert body["successor_codes"] == ["GB-SOM-U"]
    assert body["succeeded_on"] == "2023-04-01"
    assert len(client.get(f"/api/projects/{project_id}").json()["entries"]) == 1


def test_a_programme_configures_its_own_segment_mapping(client: TestClient) -> None:
    programme_id = programme(client)
    default = client.get(f"/api/programmes/{programme_id}").json()["segment_mapping"]
    assert default["high/high"] == "besieged"
    assert default["low/low"] == "high_potential"
    assert len(default) == 9

    changed = {**default, "medium/medium": "high_potential"}
    response = client.put(
        f"/api/programmes/{programme_id}/segment-mapping",
        json={"mapping": changed},
        headers={**MANAGER, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert client.get(f"/api/programmes/{programme_id}").json()["segment_mapping"] == changed
    incomplete = client.put(
        f"/api/programmes/{programme_id}/segment-mapping",
        json={"mapping": {"high/high": "besieged"}},
        headers=MANAGER,
    )
    assert_problem(incomplete, 422, field="mapping.low/low")
    bad = client.put(
        f"/api/programmes/{programme_id}/segment-mapping",
        json={"mapping": {**default, "low/low": "lucky"}},
        headers=MANAGER,
    )
    assert_problem(bad, 422, field="mapping.low/low")
