"""Issue 19, point 1: an enrolled council starts more projects in its cohort, each led by
it; a retried start gives the same project back; withdrawing the council withdraws them."""

from __future__ import annotations

from uuid import UUID

from fastapi.testclient import TestClient

from domain.project import Project
from tests.helpers import (
    MANAGER,
    assert_problem,
    cohort,
    council,
    created,
    entry,
    make_user,
    programme,
    project,
)
from tests.test_check_answers import hidden_fields
from tests.test_pages import Parsed


def test_a_council_leads_several_projects_in_a_cohort(client: TestClient) -> None:
    # Given Exeter enrolled in a cohort with its project "Bins", and Devon with "Roads"
    cohort_id = cohort(client, programme(client))
    bins = project(client, cohort_id, council(client, "GB-EXE", "Exeter"), "Bins")
    roads = project(client, cohort_id, council(client, "GB-DEV", "Devon"), "Roads")
    assert bins == str(Project.create_id(UUID(cohort_id), "GB-EXE"))  # ids as they always were

    # When Exeter starts a second project, as a retried request would, twice
    start = f"/api/cohorts/{cohort_id}/projects"
    body = {"council_code": "GB-EXE", "title": "Parking permits"}
    retried = {**MANAGER, "Idempotency-Key": "parking-1"}
    first = created(client.post(start, json=body, headers=retried))
    again = client.post(start, json=body, headers=retried)

    # Then one project is started, led by Exeter, and the retry gives it back
    parking = first["project_id"]
    assert parking not in (bins, roads)
    assert again.status_code == 201 and again.json()["project_id"] == parking
    shown = client.get(f"/api/projects/{parking}").json()
    assert (shown["title"], shown["lead_council_code"]) == ("Parking permits", "GB-EXE")
    listed = client.get(f"/api/cohorts/{cohort_id}").json()["projects"]
    assert sorted((p["council_code"], p["title"]) for p in listed) == [
        ("GB-DEV", "Roads"),
        ("GB-EXE", "Bins"),
        ("GB-EXE", "Parking permits"),
    ]
    # ... a retry of the first project's start gives it back too
    enrol_again = {"council_code": "GB-EXE", "title": "Bins"}
    replayed = client.post(start, json=enrol_again, headers={**MANAGER, "Idempotency-Key": "b"})
    assert replayed.json()["project_id"] == bins
    # ... while the same title again, not as a retry, is a conflict
    for title in ("Bins", "Parking permits"):
        refused = client.post(start, json={"council_code": "GB-EXE", "title": title})
        assert "already leads a project" in assert_problem(refused, 409)["detail"]
    assert len(client.get(f"/api/cohorts/{cohort_id}").json()["projects"]) == 3

    # And Exeter's participant records on both its projects, not on Devon's
    token = make_user(client.app.state.waymark, "exe.officer", "participant", council_code="GB-EXE")  # type: ignore[attr-defined]
    exeter = {"Authorization": f"Bearer {token}"}
    for project_id in (bins, parking):
        entry(client, project_id, {"kind": "members_engaged", "how": "Briefing"}, headers=exeter)
    refused = client.post(
        f"/api/projects/{roads}/entries",
        json={"kind": "members_engaged", "how": "x"},
        headers=exeter,
    )
    assert_problem(refused, 403)
    last = entry(client, parking, {"kind": "phase_changed", "phase": "discovery"})

    # And the timeline, the comparison and the council's page show both of Exeter's projects
    wait = {"wait_for": last["position"]}
    timeline = client.get(f"/api/cohorts/{cohort_id}/timeline", params=wait).json()["items"]
    assert {i["project_id"] for i in timeline} == {bins, parking}
    rows = client.get(f"/api/cohorts/{cohort_id}/comparison", params=wait).json()["items"]
    assert sorted((r["council_code"], r["title"], r["phase"]) for r in rows) == [
        ("GB-DEV", "Roads", None),
        ("GB-EXE", "Bins", None),
        ("GB-EXE", "Parking permits", "discovery"),
    ]
    page = client.get("/councils/GB-EXE").text
    assert "Bins" in page and "Parking permits" in page
    assert f'href="/projects/{parking}"' in page
    # ... and the comparison's medians count Exeter once for its own figures (residents)
    # and each of its projects for theirs
    compare = client.get(f"/cohorts/{cohort_id}/compare", params=wait)
    medians = {r[0]: r[1:] for r in Parsed(compare.text).table("The cohort’s median").rows[1:]}
    assert medians["Residents"] == ["130,000", "2 councils"]
    assert medians["Problem statement iterations"] == ["0", "3 projects"]


def test_withdrawing_a_council_withdraws_every_project_it_leads(client: TestClient) -> None:
    cohort_id = cohort(client, programme(client))
    bins = project(client, cohort_id, council(client, "GB-EXE", "Exeter"), "Bins")
    parking = project(client, cohort_id, "GB-EXE", "Parking permits")
    roads = project(client, cohort_id, council(client, "GB-DEV", "Devon"), "Roads")

    withdrawn = client.post(
        f"/api/cohorts/{cohort_id}/withdrawals",
        json={"council_code": "GB-EXE", "reason": "Lost their sponsor."},
        headers=MANAGER,
    )

    assert withdrawn.status_code == 200, withdrawn.text
    for project_id in (bins, parking):
        assert client.get(f"/api/projects/{project_id}").json()["withdrawn"] is True
        refused = client.post(
            f"/api/projects/{project_id}/entries", json={"kind": "members_engaged", "how": "x"}
        )
        assert "withdrawn" in assert_problem(refused, 409)["detail"]
    assert client.get(f"/api/projects/{roads}").json()["withdrawn"] is False
    # ... and a withdrawn council starts no more projects
    again = {"council_code": "GB-EXE", "title": "Libraries"}
    assert_problem(client.post(f"/api/cohorts/{cohort_id}/projects", json=again), 409)


def test_another_project_is_started_from_the_cohort_page(client: TestClient) -> None:
    # Given Exeter enrolled with "Bins", and Devon withdrawn
    cohort_id = cohort(client, programme(client))
    project(client, cohort_id, council(client, "GB-EXE", "Exeter"), "Bins")
    project(client, cohort_id, council(client, "GB-DEV", "Devon"), "Roads")
    client.post(
        f"/api/cohorts/{cohort_id}/withdrawals", json={"council_code": "GB-DEV", "reason": "Left"}
    )
    page = client.get(f"/cohorts/{cohort_id}")
    assert f'href="/cohorts/{cohort_id}/projects/new"' in page.text

    # When the manager opens the form, only councils taking part are offered
    form = client.get(f"/cohorts/{cohort_id}/projects/new")
    assert form.status_code == 200 and "Exeter: Bins" in form.text
    assert "Devon" not in form.text
    # ... nothing chosen, or a withdrawn council, is shown in an error summary
    for answers, message in (
        ({"title": "Parking"}, "Which council leads the project?"),
        ({"council_code": "GB-DEV", "title": "Parking"}, "Select the council that leads"),
        ({"council_code": "GB-EXE", "title": ""}, "Project title"),
    ):
        refused = client.post(f"/cohorts/{cohort_id}/projects/new", data=answers)
        assert refused.status_code == 400 and "There is a problem" in refused.text, answers
        assert message in refused.text, answers

    # When the answers are checked and confirmed, twice (a double click)
    check = client.post(
        f"/cohorts/{cohort_id}/projects/new",
        data={"council_code": "GB-EXE", "title": "Parking permits"},
    )
    assert check.status_code == 200 and "Check the project before you start it" in check.text
    done = client.post(
        f"/cohorts/{cohort_id}/projects/new/confirm",
        data=hidden_fields(check.text),
        follow_redirects=False,
    )
    twice = client.post(
        f"/cohorts/{cohort_id}/projects/new/confirm",
        data=hidden_fields(check.text),
        follow_redirects=False,
    )

    # Then one project is started, and the confirmation links to it
    assert done.status_code == twice.status_code == 303
    assert done.headers["location"] == twice.headers["location"]
    confirmation = client.get(done.headers["location"])
    assert "Project started" in confirmation.text
    titles = [p["title"] for p in client.get(f"/api/cohorts/{cohort_id}").json()["projects"]]
    assert sorted(titles) == ["Bins", "Parking permits", "Roads"]
    parking = next(
        p["project_id"]
        for p in client.get(f"/api/cohorts/{cohort_id}").json()["projects"]
        if p["title"] == "Parking permits"
    )
    assert f'href="/projects/{parking}"' in confirmation.text
    # ... and starting it again under the same title says why not
    check = client.post(
        f"/cohorts/{cohort_id}/projects/new",
        data={"council_code": "GB-EXE", "title": "Parking permits"},
    )
    again = client.post(
        f"/cohorts/{cohort_id}/projects/new/confirm",
        data={**hidden_fields(check.text), "idempotency_key": "another"},
    )
    assert "already leads a project called" in again.text
