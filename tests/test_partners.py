"""Issue 19, point 1: a project led by one council, with partner councils that join and
leave; partners' participants read and record on it while they are partners."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import assert_problem, cohort, council, entry, make_user, programme, project
from tests.test_check_answers import hidden_fields
from tests.test_pages import waymark_of


def _as(client: TestClient, username: str, code: str) -> dict[str, str]:
    token = make_user(client.app.state.waymark, username, "participant", council_code=code)  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {token}"}


def _partner(kind: str, code: str) -> dict[str, Any]:
    return {"kind": kind, "council_code": code, "reason": f"{code} {kind.split('_')[1]}"}


def test_partners_join_and_leave_and_read_and_record_while_they_are_partners(
    client: TestClient,
) -> None:
    # Given Exeter's project and Mid Devon's in one cohort, and two more councils
    cohort_id = cohort(client, programme(client))
    exeter = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    mid_devon = project(client, cohort_id, council(client, "GB-MDE", "Mid Devon"), "Parking")
    council(client, "GB-DEV", "Devon")
    council(client, "GB-HCK", "Hackney")
    devon, hackney = _as(client, "dev.officer", "GB-DEV"), _as(client, "hck.officer", "GB-HCK")
    entries = f"/api/projects/{exeter}/entries"
    assert_problem(
        client.post(entries, json={"kind": "members_engaged", "how": "x"}, headers=devon), 403
    )

    # When Devon and Hackney join it
    entry(client, exeter, _partner("partner_joined", "GB-DEV"))
    joined = entry(client, exeter, _partner("partner_joined", "GB-HCK"))["entry_id"]

    # Then joining again, the lead, an unknown council, or leaving as none is refused
    for body in (
        _partner("partner_joined", "GB-DEV"),
        _partner("partner_joined", "gb-exe"),
        _partner("partner_joined", "GB-NONE"),
        _partner("partner_left", "GB-MDE"),
    ):
        assert_problem(client.post(entries, json=body), 422, field="council_code")
    correction = {
        "kind": "entry_corrected",
        "corrects": joined,
        "reason_kind": "recording_error",
        "reason": "Wrong council",
        "replacement": {"council_code": "GB-MDE"},
    }
    assert_problem(client.post(entries, json=correction), 422, field="replacement.council_code")
    shown = client.get(f"/api/projects/{exeter}").json()
    assert shown["lead_council_code"] == "GB-EXE"
    assert shown["partner_council_codes"] == ["GB-DEV", "GB-HCK"]

    # And a partner's participant reads the project and records on it, not on another's
    assert client.get(f"/api/projects/{exeter}", headers=hackney).status_code == 200
    entry(client, exeter, {"kind": "members_engaged", "how": "Joint briefing"}, headers=devon)
    body = {"kind": "members_engaged", "how": "Not ours"}
    assert_problem(client.post(f"/api/projects/{mid_devon}/entries", json=body, headers=devon), 403)
    assert_problem(client.get(f"/api/projects/{mid_devon}", headers=devon), 403)
    page = client.get(f"/projects/{exeter}", headers=devon)
    assert page.status_code == 200 and "Record an entry" in page.text
    # ... with no link to the cohort it may not read (its other projects are not Devon's)
    assert f'href="/cohorts/{cohort_id}' not in page.text
    assert client.get(f"/cohorts/{cohort_id}", headers=devon).status_code == 403
    assert f'href="/cohorts/{cohort_id}' in client.get(f"/projects/{exeter}").text
    assert client.get(f"/projects/{exeter}/entries/new", headers=devon).status_code == 200

    # When Hackney leaves, recorded through the page's form (no JavaScript)
    form = f"/projects/{exeter}/entries/new/partner_left"
    assert 'name="council_code"' in client.get(form).text
    check = client.post(f"{form}/check", data={"council_code": "gb-hck", "reason": "Own calendar"})
    assert check.status_code == 200, check.text
    recorded = client.post(form, data=hidden_fields(check.text), follow_redirects=False)
    assert recorded.status_code == 303, recorded.text

    # Then it reads and records no more; the lists show the partners in force
    assert_problem(client.post(entries, json=body, headers=hackney), 403)
    assert_problem(client.get(f"/api/projects/{exeter}", headers=hackney), 403)
    shown = client.get(f"/api/projects/{exeter}").json()
    assert (shown["lead_council_code"], shown["partner_council_codes"]) == ("GB-EXE", ["GB-DEV"])
    listed = {
        p["project_id"]: p for p in client.get(f"/api/cohorts/{cohort_id}").json()["projects"]
    }
    assert listed[exeter]["lead_council_code"] == "GB-EXE"
    assert listed[exeter]["partner_council_codes"] == ["GB-DEV"]
    assert listed[mid_devon]["partner_council_codes"] == []

    # And the pages say who leads and who is a partner
    page = client.get(f"/projects/{exeter}").text
    assert "Lead council" in page and "Partner councils" in page and ">Devon</a>" in page
    assert "Partner, with" in client.get("/councils/GB-DEV").text
    assert "Partner, with" not in client.get("/councils/GB-HCK").text
    assert '<td class="govuk-table__cell">Lead</td>' in client.get("/councils/GB-EXE").text

    # And the cohort timeline filtered by a partner's code shows the projects it is a
    # partner of at the instant read, each saying who leads and who are partners
    wait = {"wait_for": waymark_of(client).projector.log.head()}
    timeline = f"/api/cohorts/{cohort_id}/timeline"

    def items(**params: Any) -> list[dict[str, Any]]:
        found = client.get(timeline, params={**wait, **params})
        assert found.status_code == 200, found.text
        return list(found.json()["items"])

    everything = items()
    moments = {(i["kind"], i.get("reason")): i["recorded_at"] for i in everything}
    hck_joined = moments[("partner_joined", "GB-HCK joined")]
    hck_left = moments[("partner_left", "Own calendar")]
    # an entry's own council (the partner's) is kept in its values beside the project's
    left = next(i for i in everything if i["kind"] == "partner_left")
    assert (left["council_code"], left["values"]["council_code"]) == ("GB-EXE", "GB-HCK")
    before = (datetime.fromisoformat(hck_joined) - timedelta(microseconds=1)).isoformat()
    ours = [i for i in everything if i["project_id"] == exeter]
    assert [i["entry_id"] for i in items(council="gb-dev")] == [i["entry_id"] for i in ours]
    assert {(i["lead_council_code"], tuple(i["partner_council_codes"])) for i in ours} == {
        ("GB-EXE", ("GB-DEV",))
    }
    assert items(council="GB-HCK") == [] and items(council="GB-HCK", as_of=before) == []
    assert items(council="GB-HCK", as_of=hck_left) == []
    then = items(council="GB-HCK", as_of=hck_joined)
    assert then and {i["project_id"] for i in then} == {exeter}
    assert {tuple(i["partner_council_codes"]) for i in then} == {("GB-DEV", "GB-HCK")}
    # ... the keyset pages go on through the partner's projects
    first = client.get(timeline, params={**wait, "council": "GB-DEV", "limit": 1}).json()
    second = client.get(
        timeline, params={**wait, "council": "GB-DEV", "limit": 1, "cursor": first["next_cursor"]}
    ).json()
    assert [i["entry_id"] for i in first["items"] + second["items"]] == [
        i["entry_id"] for i in ours[:2]
    ]
    page = client.get(f"/cohorts/{cohort_id}", params={"council": "GB-DEV"}).text
    assert "Exeter, with Devon as partner" in page and f"/projects/{mid_devon}#entry-" not in page
    assert '<option value="GB-DEV" selected>Devon</option>' in page

    # And the comparison lists each project's partners in force, now or as of an instant
    comparison = f"/api/cohorts/{cohort_id}/comparison"

    def partners(**params: Any) -> dict[str, list[str]]:
        rows = client.get(comparison, params={**wait, **params}).json()["items"]
        return {r["project_id"]: r["partner_council_codes"] for r in rows}

    assert partners() == {exeter: ["GB-DEV"], mid_devon: []}
    assert partners(as_of=hck_joined) == {exeter: ["GB-DEV", "GB-HCK"], mid_devon: []}
    assert partners(as_of=before)[exeter] == ["GB-DEV"]
    assert "Partners: Devon</span>" in client.get(f"/cohorts/{cohort_id}/compare").text
    sheet = list(csv.reader(io.StringIO(client.get(f"/cohorts/{cohort_id}/compare.csv").text)))
    by_title = {row[1]: dict(zip(sheet[0], row, strict=True)) for row in sheet[1:]}
    assert (by_title["Parking"]["Partners"], by_title["Bins"]["Partners"]) == ("", "Devon")

    # And search finds a project's entries for its partners' participants, no one else's
    entry(client, mid_devon, {"kind": "members_engaged", "how": "Joint parking briefing"})
    wait["wait_for"] = waymark_of(client).projector.log.head()

    def found(headers: dict[str, str]) -> set[str]:
        response = client.get("/api/search", params={**wait, "q": "joint"}, headers=headers)
        assert response.status_code == 200, response.text
        return {i["project_id"] for i in response.json()["items"]}

    assert found(devon) == {exeter} and found(hackney) == set()
    page = client.get("/search", params={**wait, "q": "joint"}, headers=devon).text
    assert f"/projects/{exeter}#entry-" in page and f"/projects/{mid_devon}#" not in page
