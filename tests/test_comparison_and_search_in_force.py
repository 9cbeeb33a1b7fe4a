"""Issue 18 point 1, in the comparison and in search: a corrected check-in or support ask
shows its value in force with what it was, and search finds an entry by the value a
correction put in force as well as by the value it was recorded with."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.helpers import MANAGER, cohort, council, created, entry, programme, project
from tests.test_pages import waymark_of


def _text(html: str) -> str:
    main = re.search(r"<main[^>]*>(.*)</main>", html, re.S)
    assert main is not None
    return " ".join(re.sub(r"<[^>]+>", " ", main.group(1)).split()).replace(" ,", ",")


def _correct(client: TestClient, project_id: str, entry_id: str, **replacement: str) -> str:
    body = {
        "kind": "entry_corrected",
        "corrects": entry_id,
        "reason_kind": "recording_error",
        "reason": "Typed wrongly.",
        "replacement": replacement,
    }
    return str(entry(client, project_id, body)["entry_id"])


def _caught_up(client: TestClient) -> str:
    """``wait_for`` the log's head: the read models hold every write made so far."""
    waymark = waymark_of(client)
    return f"wait_for={waymark.projector.log.head()}"


def test_the_comparison_shows_corrected_values_in_force_with_what_they_were(
    client: TestClient,
) -> None:
    today = waymark_of(client).queries.today()
    dates = {"starts_on": str(today - timedelta(days=20)), "ends_on": str(today + timedelta(90))}
    formed = client.post(
        f"/api/programmes/{programme(client)}/cohorts",
        json={"name": "Cohort 1", **dates},
        headers=MANAGER,
    )
    cohort_id = created(formed)["cohort_id"]
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter City Council"))
    yesterday = today - timedelta(days=1)
    check_in = entry(client, project_id, {"kind": "sponsor_check_in", "team_health": "red"})[
        "entry_id"
    ]
    wish = {"kind": "support_requested", "wish": "A peer councl", "from_whom": "lga"}
    ask = entry(client, project_id, wish)["entry_id"]
    compare = f"/cohorts/{cohort_id}/compare"
    before = _text(client.get(f"{compare}?{_caught_up(client)}").text)
    assert "was" not in before.replace("was in", "")  # nothing corrected yet
    assert "A peer councl" in before

    fixed = _correct(
        client, project_id, check_in, team_health="green", decided_on=yesterday.isoformat()
    )
    asked = _correct(client, project_id, ask, wish="A peer council")
    page = client.get(f"{compare}?{_caught_up(client)}").text
    text = _text(page)
    day, was_day = (f"{d.day} {d:%B %Y}" for d in (yesterday, today))
    # the last check-in, in "Councils side by side" and week by week
    assert f"{day}, was {was_day} Green, was Red" in text
    assert f"Green, was Red {day}, was {was_day}" in text
    assert f'href="/projects/{project_id}#entry-{fixed}"' in page
    # the spreadsheet of the councils side by side says the same
    sheet = list(csv.reader(io.StringIO(client.get(f"{compare}.csv").text)))
    assert f"{day}, was {was_day}" in sheet[1] and "Green, was Red" in sheet[1]
    # the support ask, under whom it is asked of in force
    assert "A peer council, was A peer councl" in text
    assert f'href="/projects/{project_id}#entry-{asked}"' in page


def test_search_finds_an_entry_by_its_value_in_force_and_by_what_it_was(
    client: TestClient,
) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter City Council"))
    decided = {
        "kind": "capacity_decided",
        "capability": "Collection calendar",
        "choice": "share",
        "estimated_cost": "4800.00",
    }
    decision = entry(client, project_id, decided)["entry_id"]
    first = _correct(client, project_id, decision, capability="Waste rota")
    # a correction of the correction: its values join the same entry's terms
    _correct(client, project_id, first, estimated_cost="48000.00")
    # an entry recorded after, so that the corrected one was indexed in an earlier batch
    entry(client, project_id, {"kind": "members_engaged", "how": "Briefing"})

    head = waymark_of(client).projector.log.head()

    def found(q: str) -> dict[str, str]:
        items = client.get("/api/search", params={"q": q, "wait_for": head}).json()["items"]
        return {i["entry_id"]: i["kind"] for i in items}

    assert found("rota").get(decision) == "capacity_decided"
    assert found("48000").get(decision) == "capacity_decided"
    assert found("collection calendar").get(decision) == "capacity_decided"  # as it was
    assert found("waste 48000").get(decision) == "capacity_decided"
    text = _text(client.get("/search", params={"q": "rota", "wait_for": head}).text)
    assert "Waste rota" in text and "Collection calendar" in text
