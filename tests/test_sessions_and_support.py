"""Issue 21: a cohort's sessions and who came to them; the one wish answered."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from services.container import Waymark
from tests.helpers import (
    assert_problem,
    cohort,
    council,
    created,
    entry,
    make_user,
    programme,
    project,
)


def _session(**changes: Any) -> dict[str, Any]:
    return {
        "session_kind": "member_masterclass",
        "held_on": "2026-02-10",
        "topic": "Digital leadership",
        "run_by": "LGA",
        "attendance": [
            {"council_code": "GB-EXE", "role": "leader", "people": 1},
            {"council_code": "GB-EXE", "role": "cabinet_member", "people": 3},
            {"council_code": "GB-DEV", "role": "scrutiny_member", "people": 2},
        ],
        "notes": "Good questions on exclusion.",
        "links": [{"title": "Slides", "url": "https://example.org/slides"}],
        **changes,
    }


def test_two_sessions_with_mixed_attendance_show_by_council_and_role(client: TestClient) -> None:
    programme_id = programme(client)
    cohort_id = cohort(client, programme_id)
    exeter = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    project(client, cohort_id, council(client, "GB-DEV", "Devon", "county"))
    council(client, "GB-HCK", "Hackney", "london_borough")  # registered, not enrolled
    path = f"/api/cohorts/{cohort_id}/sessions"

    # Two sessions; the second retried with the same Idempotency-Key records nothing twice
    first = created(client.post(path, json=_session()))
    second_body = _session(
        session_kind="accelerator_discussion",
        held_on="2026-03-03",
        topic="Make, buy or share",
        run_by="Programme team",
        attendance=[
            {"council_code": "gb-exe", "role": "head_of_service", "people": 2},
            {"council_code": "GB-EXE", "role": "leader", "people": 1},
        ],
        links=[],
    )
    headers = {"Idempotency-Key": "second-session"}
    second = created(client.post(path, json=second_body, headers=headers))
    again = created(client.post(path, json=second_body, headers=headers))
    assert again["session_id"] == second["session_id"]
    assert again["position"] == second["position"]

    # Refusals name the field: a council not enrolled, a link that is not a web address,
    # no people, an unknown role; nothing is recorded
    for body, field in (
        (
            _session(attendance=[{"council_code": "GB-HCK", "role": "leader", "people": 1}]),
            "attendance.0.council_code",
        ),
        (_session(links=[{"title": "x", "url": "javascript:alert(1)"}]), "links[0].url"),
        (_session(links=[{"title": "x", "url": "ftp://example.org/a"}]), "links[0].url"),
        (
            _session(attendance=[{"council_code": "GB-EXE", "role": "leader", "people": 0}]),
            "attendance.0.people",
        ),
        (
            _session(attendance=[{"council_code": "GB-EXE", "role": "mayor", "people": 1}]),
            "attendance.0.role",
        ),
        (_session(session_kind="picnic"), "session_kind"),
    ):
        assert_problem(client.post(path, json=body), 422, field)

    # The sessions, latest first, with their attendance
    sessions = client.get(path, params={"wait_for": again["position"]}).json()["items"]
    assert [s["topic"] for s in sessions] == ["Make, buy or share", "Digital leadership"]
    assert sessions[1]["session_id"] == first["session_id"]
    assert sessions[1]["links"] == [{"title": "Slides", "url": "https://example.org/slides"}]
    assert [(a["council_code"], a["role"], a["people"]) for a in sessions[0]["attendance"]] == [
        ("GB-EXE", "leader", 1),
        ("GB-EXE", "head_of_service", 2),
    ]

    # The comparison: each council's attendance by role
    rows = client.get(f"/api/cohorts/{cohort_id}/comparison").json()["items"]
    attendance = {r["council_code"]: r["attendance"] for r in rows}
    assert attendance == {
        "GB-EXE": {
            "sessions_attended": 2,
            "by_role": {"leader": 2, "cabinet_member": 3, "head_of_service": 2},
        },
        "GB-DEV": {"sessions_attended": 1, "by_role": {"scrutiny_member": 2}},
    }

    # The pages: the cohort's sessions, the comparison's attendance, the council's sessions
    cohort_page = client.get(f"/cohorts/{cohort_id}").text
    assert "Make, buy or share" in cohort_page and "Digital leadership" in cohort_page
    compare_page = client.get(f"/cohorts/{cohort_id}/compare").text
    assert "Cabinet member: 3" in compare_page
    council_page = client.get("/councils/GB-DEV").text
    assert "Digital leadership" in council_page and "Make, buy or share" not in council_page

    # The session form takes links as an entry's form does, "title | address" a line, and
    # words a refused address as an entry's form does
    form = {
        "session_kind": "workshop",
        **{f"held_on-{k}": v for k, v in (("day", "1"), ("month", "2"), ("year", "2026"))},
        "topic": "Service design",
        "run_by": "LGA",
        "links": "Slides | https://example.org/slides\nhttps://example.org/notes",
    }
    form_path = f"/cohorts/{cohort_id}/sessions/new"
    checked = client.post(form_path, data=form).text
    assert "Check the session before you record it" in checked
    assert "Slides: https://example.org/slides; https://example.org/notes: " in checked
    refused = client.post(form_path, data={**form, "links": "Slides | ftp://example.org/a"})
    assert "Link 1: the address must be a web address starting http" in refused.text

    # A participant reads the sessions of their cohort but records none
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    token = make_user(waymark, "officer.exe", "participant", council_code="GB-EXE")
    as_participant = {"Authorization": f"Bearer {token}"}
    assert client.get(path, headers=as_participant).status_code == 200
    assert_problem(client.post(path, json=_session(), headers=as_participant), 403)

    # The read model rebuilt from the log gives the same answers
    waymark.projector.rebuild(["sessions", "support"])
    assert client.get(path).json()["items"] == sessions
    rebuilt = client.get(f"/api/cohorts/{cohort_id}/comparison").json()["items"]
    assert {r["council_code"]: r["attendance"] for r in rebuilt} == attendance
    assert exeter


def test_a_wish_acknowledged_then_fulfilled_is_seen_by_its_council(client: TestClient) -> None:
    programme_id = programme(client)
    cohort_id = cohort(client, programme_id)
    exeter = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    devon = project(client, cohort_id, council(client, "GB-DEV", "Devon", "county"))
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    token = make_user(waymark, "officer.exe", "participant", council_code="GB-EXE")
    as_participant = {"Authorization": f"Bearer {token}"}

    wish = entry(
        client,
        exeter,
        {
            "kind": "support_requested",
            "wish": "A peer who replaced this supplier",
            "from_whom": "localgov_digital",
            "decided_on": "2026-02-02",
        },
        headers=as_participant,
    )
    entry(
        client,
        devon,
        {"kind": "support_requested", "wish": "Masterclass on data", "from_whom": "lga"},
    )
    answers = f"/api/projects/{exeter}/entries"

    def answer(status: str, detail: str = "", on: str = "2026-02-09") -> Any:
        return client.post(
            answers,
            json={
                "kind": "support_answered",
                "request_entry_id": wish["entry_id"],
                "status": status,
                "detail": detail,
                "decided_on": on,
            },
        )

    # The council's participant cannot answer its own wish
    assert_problem(
        client.post(
            answers,
            json={
                "kind": "support_answered",
                "request_entry_id": wish["entry_id"],
                "status": "fulfilled",
            },
            headers=as_participant,
        ),
        403,
    )
    # Declining needs a reason; the request must be a support request of this project
    assert_problem(answer("declined"), 422, "detail")
    assert_problem(
        client.post(
            f"/api/projects/{devon}/entries",
            json={
                "kind": "support_answered",
                "request_entry_id": wish["entry_id"],
                "status": "acknowledged",
            },
        ),
        422,
        "request_entry_id",
    )

    acknowledged = created(answer("acknowledged"))
    # Nor correct the programme's answer
    correction = {
        "kind": "entry_corrected",
        "corrects": acknowledged["entry_id"],
        "reason_kind": "recording_error",
        "reason": "We were given it.",
        "replacement": {"status": "fulfilled"},
    }
    assert_problem(client.post(answers, json=correction, headers=as_participant), 403)
    done = created(answer("fulfilled", "Introduced to Hackney's team.", "2026-02-20"))
    assert_problem(answer("acknowledged"), 409)  # fulfilled is final

    # The programme's support requests: by whom asked, status, days to the first answer
    found = client.get(
        f"/api/programmes/{programme_id}/support-requests",
        params={"wait_for": done["position"]},
    ).json()["items"]
    by_council = {r["council_code"]: r for r in found}
    assert by_council["GB-EXE"]["from_whom"] == "localgov_digital"
    assert by_council["GB-EXE"]["status"] == "fulfilled"
    assert by_council["GB-EXE"]["days_to_answer"] == 7
    assert [a["status"] for a in by_council["GB-EXE"]["answers"]] == ["acknowledged", "fulfilled"]
    assert (by_council["GB-DEV"]["status"], by_council["GB-DEV"]["days_to_answer"]) == (
        "unanswered",
        None,
    )
    assert_problem(
        client.get(f"/api/programmes/{programme_id}/support-requests", headers=as_participant),
        403,
    )

    # The support page groups by whom the wish was asked of, then by status
    support_page = client.get(f"/programmes/{programme_id}/support").text
    assert "LocalGov Digital" in support_page and "Fulfilled" in support_page
    assert "Unanswered" in support_page and "7 days" in support_page

    # The participant sees the answers on their project's page
    page = client.get(f"/projects/{exeter}", headers=as_participant).text
    assert "Introduced to Hackney&#39;s team." in page or "Introduced to Hackney's team." in page

    # Corrections put their values in force: of the wish, of that correction, of an answer
    def correct(corrects: str, **replacement: str) -> Any:
        return entry(
            client,
            exeter,
            {
                "kind": "entry_corrected",
                "corrects": corrects,
                "reason_kind": "recording_error",
                "reason": "Put right.",
                "replacement": replacement,
            },
        )

    fixed = correct(wish["entry_id"], wish="A peer who replaced this supplier's system")
    correct(fixed["entry_id"], from_whom="lga")
    last = correct(acknowledged["entry_id"], detail="Asked Hackney.")
    found = client.get(
        f"/api/programmes/{programme_id}/support-requests",
        params={"wait_for": last["position"]},
    ).json()["items"]
    exe = next(r for r in found if r["council_code"] == "GB-EXE")
    assert (exe["wish"], exe["from_whom"]) == ("A peer who replaced this supplier's system", "lga")
    assert [a["detail"] for a in exe["answers"]] == [
        "Asked Hackney.",
        "Introduced to Hackney's team.",
    ]

    # Rebuilt from the log, the same answers
    waymark.projector.rebuild(["sessions", "support"])
    again = client.get(f"/api/programmes/{programme_id}/support-requests").json()["items"]
    assert again == found
