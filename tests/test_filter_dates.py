"""Issue 17 point 4: a date range whose "to" is before its "from", or a past state asked
for a future day, is an error in the Design System's words, not an empty result."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.helpers import assert_problem, cohort, council, entry, programme, project
from tests.test_pages import waymark_of


def dates(name: str, day: str, month: str, year: str) -> str:
    return f"{name}-day={day}&{name}-month={month}&{name}-year={year}"


#: From 5 March 2026 to 4 March 2026.
BACKWARDS = f"{dates('since', '5', '3', '2026')}&{dates('until', '4', '3', '2026')}"


def test_the_audit_log_refuses_a_to_date_before_the_from_date(client: TestClient) -> None:
    programme(client)
    response = client.get(f"/audit?{BACKWARDS}")
    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert "Recorded up to must be the same as or after recorded from" in response.text
    assert 'href="#until-day"' in response.text
    missing = client.get(f"/audit?{dates('since', '', '3', '2026')}")
    assert "Recorded from must include a day" in missing.text


def test_the_cohort_timeline_refuses_a_to_date_before_the_from_date(client: TestClient) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter City Council"))
    entry(client, project_id, {"kind": "members_engaged", "how": "Briefing"})
    response = client.get(f"/cohorts/{cohort_id}?{BACKWARDS}")
    assert response.status_code == 200
    assert "Decided up to must be the same as or after decided from" in response.text


def test_a_project_as_it_stood_on_a_future_day_is_an_error(client: TestClient) -> None:
    project_id = project(client, cohort(client, programme(client)), council(client, "GB-E", "E"))
    tomorrow = waymark_of(client).queries.today() + timedelta(days=1)
    response = client.get(
        f"/projects/{project_id}?"
        + dates("as_of", str(tomorrow.day), str(tomorrow.month), str(tomorrow.year))
    )
    assert "There is a problem" in response.text
    assert "The date must be today or in the past" in response.text
    assert tomorrow.isoformat() not in response.text


def test_the_api_refuses_a_range_that_ends_before_it_starts(client: TestClient) -> None:
    cohort_id = cohort(client, programme(client))
    backwards = {"since": "2026-03-05", "until": "2026-03-04"}
    assert_problem(client.get(f"/api/cohorts/{cohort_id}/timeline", params=backwards), 422, "until")
    instants = {"since": "2026-03-05T00:00Z", "until": "2026-03-04T23:59Z"}
    assert_problem(client.get("/api/audit", params=instants), 422, "until")
    same_day = {"since": "2026-03-05", "until": "2026-03-05"}
    assert client.get(f"/api/cohorts/{cohort_id}/timeline", params=same_day).status_code == 200


def test_every_api_read_as_of_a_future_instant_is_refused_naming_as_of(
    client: TestClient,
) -> None:
    programme_id = programme(client)
    cohort_id = cohort(client, programme_id)
    project_id = project(client, cohort_id, council(client, "GB-F", "F"))
    # a grant, so that the programme has a 360Giving package to read as it stood
    grant = {"kind": "grant_awarded", "funder": "MHCLG", "amount": "1000", "purpose": "x"}
    entry(client, project_id, grant)
    ids = {"programme_id": programme_id, "cohort_id": cohort_id, "project_id": project_id}
    now = waymark_of(client).records.now()
    paths = client.get("/openapi.json").json()["paths"]
    taking_as_of = [
        path
        for path, operations in paths.items()
        if any(p["name"] == "as_of" for p in operations.get("get", {}).get("parameters", []))
    ]
    # the project, its history, the cohort's timeline and comparison, the programme's
    assert len(taking_as_of) >= 5, taking_as_of
    for path in taking_as_of:
        url = path.format(**ids)
        future = {"as_of": (now + timedelta(minutes=5)).isoformat()}
        body = assert_problem(client.get(url, params=future), 422, "as_of")
        assert "future" in body["detail"], (path, body)
        past = {"as_of": now.isoformat()}  # after all was recorded
        assert client.get(url, params=past).status_code == 200, path
        # an instant without a zone is UTC, and is refused the same
        naive = {"as_of": (now + timedelta(days=1)).replace(tzinfo=None).isoformat()}
        assert_problem(client.get(url, params=naive), 422, "as_of")
