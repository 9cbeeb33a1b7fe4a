"""Issue 20: outcomes (benefits and their measurements) and service assessments.

On both backends: a benefit's path and status, corrections of its values and
dates, as of an earlier instant, cohort and programme totals with cashable
savings apart, and the same answers after a rebuild; an alpha assessment not
met, then a move to beta that needs (and shows) a reason.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import MANAGER, assert_problem, cohort, council, entry, programme, project
from tests.test_pages import caught_up, waymark_of


def post(client: TestClient, project_id: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/projects/{project_id}/entries", json=body, headers=MANAGER)


def benefit(project_id: str, client: TestClient, **values: Any) -> str:
    body = {"kind": "benefit_defined", "decided_on": "2026-01-31", **values}
    return str(entry(client, project_id, body)["entry_id"])


def measure(client: TestClient, project_id: str, benefit_id: str, value: str, on: str) -> str:
    body = {
        "kind": "benefit_measured",
        "decided_on": on,
        "benefit_entry_id": benefit_id,
        "value": value,
        "measured_on": on,
        "source": "Dashboard",
        "link": "https://example.org/dashboard",
    }
    return str(entry(client, project_id, body)["entry_id"])


def correct(client: TestClient, project_id: str, entry_id: str, **replacement: Any) -> None:
    entry(
        client,
        project_id,
        {
            "kind": "entry_corrected",
            "corrects": entry_id,
            "reason_kind": "recording_error",
            "reason": "Typed wrongly",
            "replacement": replacement,
        },
    )


def answers(client: TestClient, ids: dict[str, str], **params: Any) -> dict[str, Any]:
    wait = caught_up(client)
    found = {}
    for name, path in (
        ("project", f"/api/projects/{ids['project']}/outcomes"),
        ("cohort", f"/api/cohorts/{ids['cohort']}/outcomes"),
        ("programme", f"/api/programmes/{ids['programme']}/outcomes"),
    ):
        answer = client.get(path, params={"wait_for": wait, **params}, headers=MANAGER)
        assert answer.status_code == 200, answer.text
        found[name] = {k: v for k, v in answer.json().items() if k != "freshness"}
    return found


def test_benefits_follow_their_measurements_and_corrections_and_rebuild_to_the_same_answers(
    client: TestClient,
) -> None:
    # Given a project with three benefits: calls to halve by next year, measured three
    # times; a cashable saving in GBP met by its date; and one abandoned
    programme_id = programme(client)
    cohort_id = cohort(client, programme_id)
    ids = {
        "programme": programme_id,
        "cohort": cohort_id,
        "project": project(client, cohort_id, council(client, "GB-EXE", "Exeter")),
    }
    other = project(client, cohort_id, council(client, "GB-DEV", "Devon"))
    p = ids["project"]
    calls = benefit(
        p,
        client,
        measure="Calls about missed bins",
        unit="calls",
        baseline_value="1200",
        baseline_on="2026-01-31",
        target_value="600",
        target_on="2027-03-31",
        method="Monthly count",
    )
    for value, on in (("1100", "2026-03-31"), ("950", "2026-06-30")):
        measure(client, p, calls, value, on)
    last = measure(client, p, calls, "820", "2026-09-30")
    saving = benefit(
        p,
        client,
        measure="Postage saved",
        unit="GBP",
        baseline_value="0",
        baseline_on="2026-01-31",
        target_value="50000.00",
        target_on="2026-06-30",
        cashable=True,
    )
    saved = measure(client, p, saving, "52000.00", "2026-06-15")
    dropped = benefit(
        p,
        client,
        measure="Staff hours",
        unit="hours",
        baseline_value="300",
        baseline_on="2026-01-31",
        target_value="200",
        target_on="2026-12-31",
    )
    closing = {
        "kind": "benefit_closed",
        "benefit_entry_id": dropped,
        "outcome": "abandoned",
        "reason": "No reliable figures",
    }
    entry(client, p, closing)

    # A measurement or closure must name a benefit of the same project; a second closure
    # of one benefit is refused
    measurement = {"kind": "benefit_measured", "benefit_entry_id": calls, "value": "1"}
    measurement |= {"measured_on": "2026-10-01"}
    assert_problem(post(client, other, measurement), 422, "benefit_entry_id")
    not_a_benefit = post(client, p, {**closing, "benefit_entry_id": last})
    assert_problem(not_a_benefit, 422, "benefit_entry_id")
    assert_problem(post(client, p, closing), 409)
    assert_problem(post(client, p, {**closing, "benefit_entry_id": "nonsense"}), 422)
    bad_link = {**measurement, "link": "javascript:alert(1)"}
    assert_problem(post(client, p, bad_link), 422, "link")
    assert_problem(post(client, p, {**measurement, "value": "1e400"}), 422, "value")

    before = answers(client, ids)
    by_measure = {b["measure"]: b for b in before["project"]["benefits"]}
    assert [m["value"] for m in by_measure["Calls about missed bins"]["measurements"]] == [
        "1100",
        "950",
        "820",
    ]
    assert {m: b["status"] for m, b in by_measure.items()} == {
        "Calls about missed bins": "on_track",
        "Postage saved": "met",
        "Staff hours": "abandoned",
    }
    time.sleep(0.01)
    moment = datetime.now(UTC).isoformat()
    time.sleep(0.01)

    # When the saving's figure is corrected below its target, and the last measurement's
    # value and date are corrected
    correct(client, p, saved, value="40000.00")
    correct(client, p, last, value="800", measured_on="2026-08-31")

    after = answers(client, ids)
    by_measure = {b["measure"]: b for b in after["project"]["benefits"]}
    # Then the saving was missed (its date has passed) and the path shows the corrections
    assert by_measure["Postage saved"]["status"] == "missed"
    path = by_measure["Calls about missed bins"]["measurements"]
    assert [(m["value"], m["measured_on"]) for m in path] == [
        ("1100", "2026-03-31"),
        ("950", "2026-06-30"),
        ("800", "2026-08-31"),
    ]
    assert by_measure["Calls about missed bins"]["gain"] == "400"
    # The cohort and the programme count each status, cashable apart from non-cashable
    totals = after["cohort"]["totals"]
    assert totals["cashable"] == {
        "benefits": 1,
        "met": 0,
        "on_track": 0,
        "missed": 1,
        "abandoned": 0,
        "savings": "40000.00",
    }
    assert (totals["non_cashable"]["on_track"], totals["non_cashable"]["abandoned"]) == (1, 1)
    assert totals["non_cashable"]["savings"] == "0"
    assert after["programme"] == after["cohort"]
    # As the record stood before the corrections, the saving was met
    then = answers(client, ids, as_of=moment)
    assert then == before

    # And every answer is the same after the read models are rebuilt
    waymark_of(client).projector.rebuild()
    assert answers(client, ids) == after
    assert answers(client, ids, as_of=moment) == before

    # The project page shows each benefit's path as a chart and a table of its figures
    page = client.get(f"/projects/{p}?wait_for={caught_up(client)}").text
    assert page.count('class="app-chart"') == 3
    assert "Calls about missed bins: baseline, measurements and target, in calls" in page
    assert "chart.umd.min.js" in page


def test_a_move_past_an_alpha_assessment_not_met_needs_a_reason_and_shows_it(
    client: TestClient,
) -> None:
    # Given a project in alpha whose alpha assessment was not met
    cohort_id = cohort(client, programme(client))
    p = project(client, cohort_id, council(client, "GB-HCK", "Hackney"))
    entry(client, p, {"kind": "phase_changed", "phase": "alpha", "decided_on": "2026-02-01"})
    assessment = {
        "kind": "assessment_held",
        "decided_on": "2026-04-01",
        "phase": "alpha",
        "result": "not_met",
        "assessors": ["Lead assessor"],
        "report_url": "https://example.org/report",
        "conditions": "Research with screen-reader users",
    }
    entry(client, p, assessment)
    assert_problem(post(client, p, {**assessment, "report_url": "ftp://x"}), 422, "report_url")

    # When it moves to private beta without a reason, it is refused, naming the reason
    move = {"kind": "phase_changed", "phase": "private_beta", "decided_on": "2026-05-01"}
    assert_problem(post(client, p, move), 422, "reason")
    # and the form says so in a GOV.UK error summary
    form = client.post(
        f"/projects/{p}/entries/new/phase_changed/check",
        data={"phase": "private_beta", "decided_on-day": "1", "decided_on-month": "5"}
        | {"decided_on-year": "2026"},
    )
    assert form.status_code == 400
    assert "govuk-error-summary" in form.text and 'href="#reason"' in form.text
    assert "its latest assessment was not met" in form.text

    # With a reason it is recorded, and the timeline and the comparison show it, and the
    # project's latest assessment
    reason = "Conditions agreed with the assessors; retest in beta."
    entry(client, p, {**move, "reason": reason})
    wait = caught_up(client)
    timeline = client.get(f"/api/cohorts/{cohort_id}/timeline?wait_for={wait}").json()
    assert timeline["items"][0]["summary"] == f"Moved to private beta: {reason}"
    rows = client.get(f"/api/cohorts/{cohort_id}/comparison?wait_for={wait}").json()["items"]
    latest = rows[0]["latest_assessment"]
    assert (latest["phase"], latest["result"], latest["decided_on"]) == (
        "alpha",
        "not_met",
        "2026-04-01",
    )
    page = client.get(f"/cohorts/{cohort_id}?wait_for={wait}").text
    assert "Latest service assessments" in page and "Not met" in page
    assert reason in page
    compare = client.get(f"/cohorts/{cohort_id}/compare?wait_for={wait}").text
    assert "Alpha: Not met" in compare
    csv = client.get(f"/cohorts/{cohort_id}/compare.csv").text
    assert "Latest service assessment" in csv.splitlines()[0]

    # A later move on needs no reason: the assessed phase is behind it already
    entry(client, p, {"kind": "phase_changed", "phase": "public_beta"})
