"""Issue 17 point 4: an entry dated before its cohort started, or a problem statement dated
before the version it replaces, is refused unless the person confirms they are recording
an earlier decision; the confirmation is kept with the entry."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from domain.project import Project
from tests.helpers import assert_problem, cohort, council, entry, programme, project
from tests.test_check_answers import hidden_fields, summary
from tests.test_pages import waymark_of

# The helpers' cohort starts on 5 January 2026.
BEFORE_THE_COHORT = "2026-01-04"


def a_project(client: TestClient) -> str:
    return project(client, cohort(client, programme(client)), council(client, "GB-EXE", "E"))


def test_the_api_refuses_a_date_before_the_cohort_unless_it_is_confirmed(
    client: TestClient,
) -> None:
    project_id = a_project(client)
    body = {"kind": "members_engaged", "how": "Briefing", "decided_on": BEFORE_THE_COHORT}

    refused = client.post(f"/api/projects/{project_id}/entries", json=body)
    problem = assert_problem(refused, 422, "decided_on")
    assert "earlier_decision_confirmed" in problem["detail"]
    assert "2026-01-05" in problem["detail"]
    not_a_flag = client.post(
        f"/api/projects/{project_id}/entries", json={**body, "earlier_decision_confirmed": "yes"}
    )
    assert_problem(not_a_flag, 422, "earlier_decision_confirmed")

    confirmed = entry(client, project_id, {**body, "earlier_decision_confirmed": True})
    on_the_day = entry(client, project_id, {**body, "decided_on": "2026-01-05"})

    entries = {
        e["entry_id"]: e for e in client.get(f"/api/projects/{project_id}").json()["entries"]
    }
    assert entries[confirmed["entry_id"]]["earlier_decision_confirmed"] is True
    assert "earlier_decision_confirmed" not in entries[on_the_day["entry_id"]]
    history = client.get(
        f"/api/projects/{project_id}/history", params={"wait_for": on_the_day["position"]}
    ).json()
    kept = {e["entry_id"]: e for e in history["entries"]}
    assert kept[confirmed["entry_id"]]["earlier_decision_confirmed"] is True


def test_a_problem_statement_dated_before_the_version_it_replaces_needs_confirming(
    client: TestClient,
) -> None:
    project_id = a_project(client)
    first = {"kind": "problem_statement_iterated", "statement": "One", "decided_on": "2026-03-01"}
    entry(client, project_id, first)
    earlier = {**first, "statement": "Two", "decided_on": "2026-02-01"}

    refused = client.post(f"/api/projects/{project_id}/entries", json=earlier)
    problem = assert_problem(refused, 422, "decided_on")
    assert "the version it replaces" in problem["detail"]
    assert "earlier_decision_confirmed" in problem["detail"]

    entry(client, project_id, {**earlier, "earlier_decision_confirmed": True})
    entry(client, project_id, {**first, "statement": "Three", "decided_on": "2026-02-01"})


def test_the_form_refuses_an_early_date_in_words_and_records_it_once_confirmed(
    client: TestClient,
) -> None:
    project_id = a_project(client)
    path = f"/projects/{project_id}/entries/new/members_engaged"
    typed = {
        "decided_on-day": "4",
        "decided_on-month": "1",
        "decided_on-year": "2026",
        "how": "Briefing",
    }
    form = client.get(path)
    assert 'name="earlier_decision_confirmed"' in form.text

    refused = client.post(f"{path}/check", data=typed)
    assert refused.status_code == 400
    assert (
        "Date decided must be the same as or after 5 January 2026, when the cohort started, "
        "unless you confirm you are recording an earlier decision"
    ) in refused.text
    assert "2026-01-05" not in refused.text

    check = client.post(f"{path}/check", data={**typed, "earlier_decision_confirmed": "yes"})
    assert check.status_code == 200, check.text
    assert summary(check.text)["Recording an earlier decision"] == "Yes"
    recorded = client.post(path, data=hidden_fields(check.text), follow_redirects=False)
    assert recorded.status_code == 303, recorded.text
    (kept,) = waymark_of(client).records.get_project(UUID(project_id)).entries.values()
    assert kept.earlier_decision_confirmed and str(kept.decided_on) == "2026-01-04"
    page = client.get(recorded.headers["location"])
    assert "Confirmed as an earlier decision" in page.text


def test_entries_stored_before_the_confirmation_existed_still_load(client: TestClient) -> None:
    # Given an entry stored exactly as the code before the confirmation stored it
    project_id = UUID(a_project(client))
    records = waymark_of(client).records
    version = records.get_project(project_id).version
    entry_id = uuid4()
    old_state = {
        "originator_id": project_id,
        "originator_version": version + 1,
        "timestamp": datetime.now(UTC),
        "entry_id": entry_id,
        "decided_on": datetime.now(UTC).date(),
        "actor": "pm.jones",
        "how": "Briefing",
        "response": "",
        "members": [],
    }
    records.recorder.insert_events(
        [
            StoredEvent(
                originator_id=project_id,
                originator_version=version + 1,
                topic=get_topic(Project.MembersEngaged),  # type: ignore[attr-defined]
                state=records.mapper.transcoder.encode(old_state),
            )
        ]
    )

    # Then it loads, unconfirmed, and the project takes more entries after it
    loaded = records.get_project(project_id)
    assert loaded.entries[entry_id].earlier_decision_confirmed is False
    assert loaded.entries[entry_id].fields == {"how": "Briefing", "response": "", "members": []}
    entry(client, str(project_id), {"kind": "members_engaged", "how": "Again"})


def test_a_correction_that_moves_the_date_decided_is_held_to_the_same_rule(
    client: TestClient,
) -> None:
    project_id = a_project(client)
    url = f"/api/projects/{project_id}/entries"
    engaged = entry(client, project_id, {"kind": "members_engaged", "how": "Briefing"})
    moved = {
        "kind": "entry_corrected",
        "corrects": engaged["entry_id"],
        "reason_kind": "recording_error",
        "reason": "The date was wrong.",
        "replacement": {"decided_on": BEFORE_THE_COHORT},
    }
    problem = assert_problem(client.post(url, json=moved), 422, "replacement.decided_on")
    assert "the cohort started (2026-01-05)" in problem["detail"]
    assert "earlier_decision_confirmed" in problem["detail"]
    on_the_day = {**moved, "replacement": {"decided_on": "2026-01-05"}}
    corrected = entry(client, project_id, on_the_day)
    # corrected again, earlier, once confirmed; the confirmation is the correction's
    again = {**moved, "corrects": corrected["entry_id"], "earlier_decision_confirmed": True}
    confirmed = entry(client, project_id, again)
    entries = {
        e["entry_id"]: e for e in client.get(f"/api/projects/{project_id}").json()["entries"]
    }
    assert entries[confirmed["entry_id"]]["earlier_decision_confirmed"] is True

    # A problem statement's version moved before the version it replaces needs confirming;
    # the first version is held only to the cohort's start
    statement = {"kind": "problem_statement_iterated", "statement": "One"}
    first = entry(client, project_id, {**statement, "decided_on": "2026-03-01"})
    second = entry(
        client, project_id, {**statement, "statement": "Two", "decided_on": "2026-03-09"}
    )
    before_first = {**moved, "corrects": second["entry_id"]}
    before_first["replacement"] = {"decided_on": "2026-02-20"}
    problem = assert_problem(client.post(url, json=before_first), 422, "replacement.decided_on")
    assert "the version it replaces was decided (2026-03-01)" in problem["detail"]
    entry(client, project_id, {**before_first, "replacement": {"decided_on": "2026-03-02"}})
    first_moved = {**moved, "corrects": first["entry_id"]}
    first_moved["replacement"] = {"decided_on": "2026-02-01"}
    entry(client, project_id, first_moved)


def test_the_correction_form_refuses_an_early_date_in_words_until_confirmed(
    client: TestClient,
) -> None:
    project_id = a_project(client)
    engaged = entry(client, project_id, {"kind": "members_engaged", "how": "Briefing"})
    path = f"/projects/{project_id}/entries/{engaged['entry_id']}/correction"
    form = client.get(path)
    assert 'name="earlier_decision_confirmed"' in form.text
    typed = {
        "decided_on-day": "4",
        "decided_on-month": "1",
        "decided_on-year": "2026",
        "how": "Briefing",
        "correction-reason_kind": "recording_error",
        "correction-reason": "The date was wrong.",
    }
    refused = client.post(f"{path}/check", data=typed)
    assert refused.status_code == 400, refused.text
    assert (
        "Date decided must be the same as or after 5 January 2026, when the cohort started, "
        "unless you confirm you are recording an earlier decision"
    ) in refused.text
    assert 'href="#decided_on-day"' in refused.text
    check = client.post(f"{path}/check", data={**typed, "earlier_decision_confirmed": "yes"})
    assert check.status_code == 200, check.text
    assert summary(check.text)["Recording an earlier decision"] == "Yes"
    recorded = client.post(path, data=hidden_fields(check.text), follow_redirects=False)
    assert recorded.status_code == 303, recorded.text
    kept = waymark_of(client).records.get_project(UUID(project_id))
    (correction,) = (e for e in kept.entries.values() if e.corrects is not None)
    assert correction.earlier_decision_confirmed
    assert str(correction.effective["decided_on"]) == "2026-01-04"
