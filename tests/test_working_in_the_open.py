"""Issue 19 points 2, 4 and 6: links on every entry, public project pages, and share
decisions that name the councils they share with. Through the API, on both backends."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import assert_problem, cohort, council, entry, programme, project
from tests.test_pages import waymark_of

ANONYMOUS = {"Authorization": ""}
EVIDENCE = {"title": "Research report", "url": "https://example.org/report?a=1&b=<2>"}


def _open(client: TestClient, project_id: str) -> Any:
    return client.get(f"/open/projects/{project_id}", headers=ANONYMOUS)


def _allow(client: TestClient, programme_id: str, allowed: bool) -> dict[str, Any]:
    response = client.put(f"/api/programmes/{programme_id}/publishing", json={"allowed": allowed})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


#: Addresses a link must not take: scripts, inline data, other schemes, relative or
#: scheme-less addresses, credentials, spaces, nothing.
HOSTILE_URLS = (
    "javascript:alert(1)",
    "JavaScript://example.org/%0Aalert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "/relative/path",
    "//example.org/no-scheme",
    "ftp://example.org/file",
    "https://user:pw@example.org/",
    "https://exa mple.org/",
    "https:///path-only",
    "https://",
    "",
)


def test_a_link_that_is_not_http_or_https_is_refused_naming_it(client: TestClient) -> None:
    project_id = project(client, cohort(client, programme(client)), council(client, "GB-EXE", "E"))
    for url in HOSTILE_URLS:
        links = [EVIDENCE, {"title": "x", "url": url}]
        body = {"kind": "members_engaged", "how": "Briefing", "links": links}
        response = client.post(f"/api/projects/{project_id}/entries", json=body)
        assert_problem(response, 422, "links[1].url")
    assert client.get(f"/api/projects/{project_id}").json()["entries"] == []


def test_links_public_entries_and_the_open_page(client: TestClient) -> None:
    programme_id = programme(client)
    project_id = project(client, cohort(client, programme_id), council(client, "GB-EXE", "Exeter"))
    entries = f"/api/projects/{project_id}/entries"

    # Links are kept with any kind; odd shapes are refused naming the field.
    bad = [
        ({"links": [{"title": "x"}]}, "links[0].url"),
        ({"links": [EVIDENCE, {"title": " ", "url": "https://a.example"}]}, "links[1].title"),
        ({"links": [{**EVIDENCE, "extra": 1}]}, "links[0].extra"),
        ({"links": "https://example.org"}, "links"),
    ]
    for extra, field in bad:
        body = {"kind": "members_engaged", "how": "Briefing", **extra}
        assert_problem(client.post(entries, json=body), 422, field)
    # Nothing is public until the programme allows publishing.
    refused = client.post(entries, json={"kind": "members_engaged", "how": "x", "public": True})
    assert_problem(refused, 422, "public")
    assert _open(client, project_id).status_code == 404

    shown = _allow(client, programme_id, True)
    assert shown["publishing_allowed"] is True
    assert client.get(f"/api/programmes/{programme_id}").json()["publishing_allowed"] is True
    public = entry(
        client,
        project_id,
        {
            "kind": "stance_taken",
            "topic": "open_source_or_commercial",
            "position": "Open by default, PUBLIC-ONE",
            "links": [EVIDENCE],
            "public": True,
        },
    )
    private = entry(
        client,
        project_id,
        {"kind": "concern_raised", "category": "legacy_systems", "description": "SECRET-TWO"},
    )
    later = entry(client, project_id, {"kind": "members_engaged", "how": "Briefing LATER-THREE"})
    output = {
        "kind": "output_published",
        "output_kind": "code_repository",
        "url": "https://github.com/exeter/calendar",
        "licence": "MIT",
        "phase": "alpha",
    }
    entry(client, project_id, {**output, "title": "Calendar PUBLIC-OUTPUT", "public": True})
    entry(client, project_id, {**output, "title": "Draft SECRET-OUTPUT"})
    entry(client, project_id, {"kind": "phase_changed", "phase": "alpha"})
    listed = client.get(f"/api/projects/{project_id}").json()["entries"]
    recorded = {e["entry_id"]: e for e in listed}
    assert recorded[public["entry_id"]]["links"] == [EVIDENCE]
    assert recorded[public["entry_id"]]["public"] is True
    assert "public" not in recorded[private["entry_id"]]

    # The open page, without signing in: the public entry, its link made safe, nothing else.
    page = _open(client, project_id)
    assert page.status_code == 200, page.text
    assert "PUBLIC-ONE" in page.text and "Exeter" in page.text and "Alpha" in page.text
    assert (
        '<a class="govuk-link" href="https://example.org/report?a=1&amp;b=&lt;2&gt;"'
        ' rel="noopener noreferrer external">Research report' in page.text
    )
    assert "SECRET-TWO" not in page.text and "LATER-THREE" not in page.text
    # Its public output is listed to reuse, linked; the private one is not.
    outputs = page.text.split('id="outputs"')[1].split('id="entries"')[0]
    assert (
        '<a class="govuk-link" href="https://github.com/exeter/calendar"'
        ' rel="noopener noreferrer external">Calendar PUBLIC-OUTPUT</a>' in outputs
    )
    assert "Code repository" in outputs and "MIT" in outputs
    assert "SECRET-OUTPUT" not in page.text
    assert "Sign out" not in page.text
    # Signed in, the project page and the programme page point to it.
    assert f'href="/open/projects/{project_id}"' in client.get(f"/projects/{project_id}").text
    assert (
        "Allowed: each project has a public page" in client.get(f"/programmes/{programme_id}").text
    )

    # Made public later, by an entry that says so; the private one stays private.
    made = {"kind": "entry_made_public", "made_public_entry_id": later["entry_id"]}
    made_it = entry(client, project_id, made)
    assert_problem(client.post(entries, json=made), 409)
    undo = {
        "kind": "entry_corrected",
        "corrects": made_it["entry_id"],
        "reason_kind": "change_of_mind",
        "reason": "No",
        "replacement": {"reason": "x"},
    }
    assert_problem(client.post(entries, json=undo), 422, "corrects")
    assert "LATER-THREE" in _open(client, project_id).text

    # Or from the project page: a link, an "Are you sure?" page, then the entry is public.
    sixth = entry(client, project_id, {"kind": "members_engaged", "how": "Show and tell SIX"})
    confirm = f"/projects/{project_id}/entries/{sixth['entry_id']}/make-public"
    page = client.get(f"/projects/{project_id}").text
    assert f'href="{confirm}"' in page
    assert f'href="/projects/{project_id}/entries/{private["entry_id"]}/make-public"' in page
    assert f'href="/projects/{project_id}/entries/{later["entry_id"]}/make-public"' not in page
    too_long = client.post(
        f"/projects/{project_id}/entries/{private['entry_id']}/make-public",
        data={"reason": "<script>x</script>" * 10_000},
    )
    assert too_long.status_code == 400 and 'href="#reason"' in too_long.text
    assert "<script>x</script>" not in too_long.text
    asked = client.get(confirm)
    assert asked.status_code == 200 and "Are you sure" in asked.text and "SIX" in asked.text
    made = client.post(confirm, data={"reason": "Agreed at the board."}, follow_redirects=False)
    assert made.status_code == 303, made.text
    assert "Entry made public recorded" in client.get(made.headers["location"]).text
    assert "Show and tell SIX" in _open(client, project_id).text
    again = client.post(confirm, data={"reason": ""})
    assert again.status_code == 400 and "There is a problem" in again.text
    assert f'href="{confirm}"' not in client.get(f"/projects/{project_id}").text
    assert (
        client.get(f"/projects/{project_id}/entries/{made_it['entry_id']}/make-public").status_code
        == 404
    )

    # A correction changes the links; one not marked public takes the entry off the page.
    fixed_link = {"title": "Final report", "url": "http://example.org/final"}
    correction = {
        "kind": "entry_corrected",
        "corrects": public["entry_id"],
        "reason_kind": "clarification",
        "reason": "Newer report",
        "replacement": {"links": [fixed_link], "position": "Open by default, PUBLIC-FOUR"},
        "public": True,
    }
    assert_problem(
        client.post(
            entries,
            json={**correction, "replacement": {"links": [{"title": "x", "url": "data:,x"}]}},
        ),
        422,
        "replacement.links[0].url",
    )
    first_fix = entry(client, project_id, correction)
    page = _open(client, project_id).text
    assert "PUBLIC-FOUR" in page and "Final report" in page and "PUBLIC-ONE" not in page
    quietly = {
        **correction,
        "corrects": first_fix["entry_id"],
        "replacement": {"position": "PRIVATE-FIVE, with SECRET-TWO quoted"},
        "public": False,
    }
    entry(client, project_id, quietly)
    page = _open(client, project_id).text
    assert "PRIVATE-FIVE" not in page and "SECRET-TWO" not in page and "PUBLIC-FOUR" not in page
    assert "LATER-THREE" in page

    # Publishing is recorded on the programme, with who; stopping it takes the page down.
    _allow(client, programme_id, False)
    assert _open(client, project_id).status_code == 404
    audit = client.get("/api/audit", params={"aggregate": programme_id}).json()
    summaries = [row["summary"] for row in audit["items"]]
    assert "Publishing allowed" in summaries and "Publishing no longer allowed" in summaries
    assert {row["actor"] for row in audit["items"] if "Publishing" in row["summary"]} == {
        "pm.jones"
    }
    assert_problem(
        client.put(f"/api/programmes/{programme_id}/publishing", json={"allowed": "yes"}),
        422,
        "allowed",
    )
    # The read models rebuilt from the log give the same page.
    _allow(client, programme_id, True)
    before = _open(client, project_id).text
    waymark_of(client).projector.rebuild()
    assert _open(client, project_id).text == before


def test_a_share_decision_names_councils_both_pages_show_and_the_comparison_counts(
    client: TestClient,
) -> None:
    cohort_id = cohort(client, programme(client))
    exeter = project(client, cohort_id, council(client, "GB-EXE", "Exeter City Council"))
    project(client, cohort_id, council(client, "GB-TEI", "Teignbridge District Council"))
    council(client, "GB-MID", "Mid Devon District Council")
    entries = f"/api/projects/{exeter}/entries"
    share = {"kind": "capacity_decided", "capability": "Case management", "choice": "share"}

    assert_problem(
        client.post(entries, json={**share, "shared_with": ["GB-NOPE"]}), 422, "shared_with[0]"
    )
    assert_problem(
        client.post(entries, json={**share, "shared_with": ["GB-EXE"]}), 422, "shared_with[0]"
    )
    assert_problem(
        client.post(entries, json={**share, "choice": "make", "shared_with": ["GB-TEI"]}),
        422,
        "shared_with",
    )
    decided = entry(
        client, exeter, {**share, "shared_with": ["gb-tei"], "partner": "Devon Digital CIC"}
    )
    entry(client, exeter, {**share, "capability": "Bin rounds", "shared_with": ["GB-MID"]})
    # A correction moves the second decision from Mid Devon to Teignbridge.
    second = [
        e
        for e in client.get(f"/api/projects/{exeter}").json()["entries"]
        if e.get("capability") == "Bin rounds"
    ][0]
    entry(
        client,
        exeter,
        {
            "kind": "entry_corrected",
            "corrects": second["entry_id"],
            "reason_kind": "recording_error",
            "reason": "Wrong neighbour",
            "replacement": {"shared_with": ["GB-TEI"]},
        },
    )

    own = client.get("/api/councils/GB-EXE").json()["shares"]
    assert {(s["capability"], s["partner_name"]) for s in own} == {
        ("Case management", "Teignbridge District Council"),
        ("Case management", "Devon Digital CIC"),
        ("Bin rounds", "Teignbridge District Council"),
    }
    theirs = client.get("/api/councils/GB-TEI").json()["shares"]
    assert {(s["council_code"], s["capability"]) for s in theirs} == {
        ("GB-EXE", "Case management"),
        ("GB-EXE", "Bin rounds"),
    }
    assert client.get("/api/councils/GB-MID").json()["shares"] == []
    assert decided["entry_id"] in {s["entry_id"] for s in theirs}

    page = client.get("/councils/GB-EXE").text
    assert (
        'Shares case management with <a class="govuk-link" href="/councils/GB-TEI">'
        "Teignbridge District Council</a>" in page
    )
    page = client.get("/councils/GB-TEI").text
    assert (
        '<a class="govuk-link" href="/councils/GB-EXE">Exeter City Council</a> shares case '
        "management with Teignbridge District Council" in page
    )

    def rows() -> dict[str, dict[str, Any]]:
        found = client.get(f"/api/cohorts/{cohort_id}/comparison").json()["items"]
        return {r["council_code"]: r for r in found}

    compared = rows()
    assert compared["GB-EXE"]["shares_with"] == ["GB-TEI"]
    assert compared["GB-EXE"]["capacity_choices"]["share"] == 2
    assert compared["GB-TEI"]["shared_with_by"] == ["GB-EXE"]
    assert compared["GB-EXE"]["share_partnerships"] == 1
    assert compared["GB-TEI"]["share_partnerships"] == 1
    # The page and its CSV name who each council shares with, either way
    page = client.get(f"/cohorts/{cohort_id}/compare", params={"columns": "capacity"}).text
    assert "Shares with" in page and "Teignbridge District Council" in page
    csv_rows = list(csv.reader(io.StringIO(client.get(f"/cohorts/{cohort_id}/compare.csv").text)))
    by_council = {row[0]: dict(zip(csv_rows[0], row, strict=True)) for row in csv_rows[1:]}
    assert by_council["Exeter City Council"]["Shares with"] == "Teignbridge District Council"
    as_of = client.get(
        f"/api/cohorts/{cohort_id}/comparison",
        params={"as_of": datetime.now(UTC).isoformat()},  # folded from the events, not the rows
    )
    assert as_of.status_code == 200, as_of.text
    folded = {r["council_code"]: r for r in as_of.json()["items"]}
    assert folded["GB-TEI"]["shared_with_by"] == ["GB-EXE"]
    waymark_of(client).projector.rebuild()
    assert rows() == compared
