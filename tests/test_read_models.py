"""Issue 4: timelines, project histories, comparisons and the audit log, read over HTTP."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from projections.summaries import summarise_entry, summarise_event
from tests.helpers import (
    MANAGER,
    assert_problem,
    bearer,
    council,
    created,
    entry,
    make_user,
    programme,
    project,
)

TODAY = date.today()
STARTS = TODAY - timedelta(days=70)  # the cohort is in its eleventh week


def day(n: int) -> str:
    """Day ``n`` of the cohort (0 is its first day)."""
    return (STARTS + timedelta(days=n)).isoformat()


def recent_cohort(client: TestClient, programme_id: str, name: str = "Cohort 1") -> str:
    body = created(
        client.post(
            f"/api/programmes/{programme_id}/cohorts",
            json={
                "name": name,
                "starts_on": STARTS.isoformat(),
                "ends_on": (STARTS + timedelta(weeks=26)).isoformat(),
            },
            headers=MANAGER,
        )
    )
    return str(body["cohort_id"])


def read(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    head = client.get("/readyz").json()["head"]
    response = client.get(path, params={"wait_for": head, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["freshness"]["reached"] is True
    assert body["freshness"]["lag"] == 0
    return body


def statement(text: str, on: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "problem_statement_iterated", "statement": text}
    if on:
        body["decided_on"] = on
    return body


# -- the cohort timeline ------------------------------------------------------------


def test_timeline_pages_neither_repeat_nor_skip_rows_when_entries_arrive_between_pages(
    client: TestClient,
) -> None:
    cohort_id = recent_cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    for n in range(9):
        entry(client, project_id, statement(f"Version {n}", day(n * 3)))

    for order in ("recorded_at", "decided_on"):
        existing = {
            i["entry_id"] for i in read(client, f"/api/cohorts/{cohort_id}/timeline")["items"]
        }
        first = read(client, f"/api/cohorts/{cohort_id}/timeline", order=order, limit=4)
        # Entries arrive between page fetches: some decided before, some after the cursor.
        # (decided before the versions it follows: confirmed as an earlier decision, issue 17)
        early = statement(f"Late {order} early", day(1))
        entry(client, project_id, {**early, "earlier_decision_confirmed": True})
        entry(client, project_id, statement(f"Late {order} new", day(60)))
        seen = [i["entry_id"] for i in first["items"]]
        cursor = first["next_cursor"]
        while cursor:
            page = read(
                client, f"/api/cohorts/{cohort_id}/timeline", order=order, limit=4, cursor=cursor
            )
            seen.extend(i["entry_id"] for i in page["items"])
            cursor = page["next_cursor"]
        assert len(seen) == len(set(seen)), order
        assert existing <= set(seen), order


def test_timeline_filters_and_refuses_unknown_kinds_and_phases_naming_the_field(
    client: TestClient,
) -> None:
    cohort_id = recent_cohort(client, programme(client))
    exeter = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    devon = project(client, cohort_id, council(client, "GB-DEV", "Devon", "county"))
    entry(client, exeter, {"kind": "phase_changed", "phase": "discovery", "decided_on": day(1)})
    entry(client, exeter, statement("Bins", day(2)))
    entry(client, devon, statement("Care", day(20)))
    path = f"/api/cohorts/{cohort_id}/timeline"

    def ids(**params: Any) -> list[str]:
        return [i["summary"] for i in read(client, path, **params)["items"]]

    assert ids(kind="problem_statement_iterated") == ["Care", "Bins"]
    assert ids(council="gb-dev") == ["Care"]
    assert ids(phase="discovery") == ["Bins", "Moved to discovery"]
    assert ids(since=day(2), until=day(19)) == ["Bins"]
    assert ids(order="decided_on", limit=1) == ["Care"]
    assert_problem(client.get(path, params={"kind": "lunch_ordered"}), 422, field="kind")
    assert_problem(client.get(path, params={"phase": "beta"}), 422, field="phase")
    assert_problem(client.get(path, params={"cursor": "nonsense"}), 422, field="cursor")


# -- the project history --------------------------------------------------------------


def test_project_history_links_corrections_both_ways_with_effective_values(
    client: TestClient,
) -> None:
    cohort_id = recent_cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    first = entry(client, project_id, statement("Missed bins", day(1)))
    entry(client, project_id, statement("Collection days", day(8)))
    decision = entry(
        client,
        project_id,
        {
            "kind": "capacity_decided",
            "capability": "Calendar",
            "choice": "buy",
            "decided_on": day(9),
        },
        headers=bearer(client, "pm.smith"),
    )
    before_corrections = read(client, f"/api/projects/{project_id}/history")
    fix = entry(
        client,
        project_id,
        {
            "kind": "entry_corrected",
            "corrects": decision["entry_id"],
            "reason_kind": "change_of_mind",
            "reason": "A neighbour offered theirs.",
            "replacement": {"choice": "share", "partner": "Teignbridge"},
        },
    )
    again = entry(
        client,
        project_id,
        {
            "kind": "entry_corrected",
            "corrects": fix["entry_id"],
            "reason_kind": "recording_error",
            "reason": "Wrong neighbour.",
            "replacement": {"partner": "East Devon", "decided_on": day(10)},
        },
    )

    history = read(client, f"/api/projects/{project_id}/history")
    entries = {e["entry_id"]: e for e in history["entries"]}
    assert [e["entry_id"] for e in history["entries"]][0] == first["entry_id"]
    original = entries[decision["entry_id"]]
    assert original["choice"] == "buy"  # never edited
    assert original["actor"] == "pm.smith"
    assert original["decided_on"] == day(9) and original["recorded_at"]
    assert original["superseded_by"] == fix["entry_id"]
    assert entries[fix["entry_id"]]["corrects"] == decision["entry_id"]
    assert entries[fix["entry_id"]]["superseded_by"] == again["entry_id"]
    assert entries[again["entry_id"]]["corrects"] == fix["entry_id"]
    assert entries[again["entry_id"]]["superseded_by"] is None
    assert entries[fix["entry_id"]]["effective"]["choice"] == "share"
    assert entries[again["entry_id"]]["effective"] == {
        **entries[fix["entry_id"]]["effective"],
        "partner": "East Devon",
        "decided_on": day(10),
    }
    assert [s["version"] for s in history["problem_statements"]] == [1, 2]
    assert history["council_name"] == "Exeter" and history["title"] == "Bins"

    # The history agrees with the project replayed from its events.
    replayed = {
        e["entry_id"]: e for e in client.get(f"/api/projects/{project_id}").json()["entries"]
    }
    for entry_id, shown in entries.items():
        for key in ("kind", "decided_on", "recorded_at", "actor", "superseded_by", "effective"):
            assert shown.get(key) == replayed[entry_id].get(key), (key, entry_id)

    # As of before the corrections, they are absent and nothing is superseded.
    as_of = before_corrections["entries"][-1]["recorded_at"]
    past = read(client, f"/api/projects/{project_id}/history", as_of=as_of)
    assert [e["entry_id"] for e in past["entries"]] == [
        e["entry_id"] for e in before_corrections["entries"]
    ]
    assert all(e["superseded_by"] is None for e in past["entries"])
    assert_problem(client.get("/api/projects/00000000-0000-0000-0000-000000000000/history"), 404)


# -- the comparison ------------------------------------------------------------------


def register(
    client: TestClient, code: str, council_type: str, region: str, population: int
) -> None:
    created(
        client.post(
            "/api/councils",
            json={
                "code": code,
                "name": f"Council {code}",
                "council_type": council_type,
                "region": region,
                "population": population,
            },
            headers=MANAGER,
        )
    )


def assess(client: TestClient, code: str, demand: str, financial: str, on: str) -> None:
    response = client.post(
        f"/api/councils/{code}/financial-context",
        json={"assessed_on": on, "demand_pressure": demand, "financial_pressure": financial},
        headers=MANAGER,
    )
    assert response.status_code == 200, response.text


def test_comparison_sets_councils_side_by_side(client: TestClient) -> None:
    programme_id = programme(client)
    cohort_id = recent_cohort(client, programme_id)
    register(client, "GB-EXE", "district", "south_west", 130_000)
    register(client, "GB-DEV", "county", "south_west", 811_000)
    exeter = project(client, cohort_id, "GB-EXE")
    project(client, cohort_id, "GB-DEV")
    assess(client, "GB-EXE", "medium", "medium", day(0))
    assess(client, "GB-EXE", "high", "high", day(30))  # the latest assessment counts
    maturity = client.post(
        "/api/councils/GB-EXE/maturity",
        json={
            "assessed_on": day(0),
            "levels": {
                "working_in_the_open": 1,
                "agile_methods": 2,
                "collaborative_tools": 3,
                "user_centred_design": 4,
                "new_technology": 5,
            },
        },
        headers=MANAGER,
    )
    assert maturity.status_code == 200

    entry(client, exeter, {"kind": "phase_changed", "phase": "discovery", "decided_on": day(1)})
    entry(client, exeter, statement("One", day(2)))
    entry(client, exeter, statement("Two", day(9)))
    bought = entry(
        client,
        exeter,
        {"kind": "capacity_decided", "capability": "A", "choice": "buy", "decided_on": day(10)},
    )
    entry(
        client,
        exeter,
        {"kind": "capacity_decided", "capability": "B", "choice": "buy", "decided_on": day(11)},
    )
    for health, on in (("green", 12), ("amber", 20), ("red", 27), ("amber", 34)):
        entry(
            client,
            exeter,
            {"kind": "sponsor_check_in", "team_health": health, "decided_on": day(on)},
        )
    concern = entry(
        client,
        exeter,
        {
            "kind": "concern_raised",
            "category": "privacy",
            "description": "x",
            "decided_on": day(13),
        },
    )
    entry(
        client,
        exeter,
        {"kind": "concern_raised", "category": "skills", "description": "y", "decided_on": day(14)},
    )
    entry(
        client,
        exeter,
        {"kind": "concern_resolved", "concern_entry_id": concern["entry_id"], "resolution": "z"},
    )
    entry(client, exeter, {"kind": "members_engaged", "how": "Scrutiny briefing"})
    entry(client, exeter, {"kind": "phase_changed", "phase": "alpha", "decided_on": day(40)})
    before_correction = read(client, f"/api/cohorts/{cohort_id}/comparison")
    instant_before = client.get(f"/api/projects/{exeter}").json()["entries"][-1]["recorded_at"]
    entry(
        client,
        exeter,
        {
            "kind": "entry_corrected",
            "corrects": bought["entry_id"],
            "reason_kind": "change_of_mind",
            "reason": "Sharing after all.",
            "replacement": {"choice": "share"},
        },
    )

    rows = {
        r["council_code"]: r for r in read(client, f"/api/cohorts/{cohort_id}/comparison")["items"]
    }
    row = rows["GB-EXE"]
    assert row["council_type"] == "district" and row["region"] == "south_west"
    assert row["scale_band"] == "100k_to_250k"
    assert rows["GB-DEV"]["scale_band"] == "500k_and_over"
    assert row["segment"] == "besieged"
    assert row["financial_context"]["assessed_on"] == day(30)
    assert row["maturity"]["average"] == 3.0
    assert row["phase"] == "alpha" and row["phase_since"] == day(40)
    assert row["days_in_phase"] == (TODAY - date.fromisoformat(day(40))).days
    assert row["problem_statement_iterations"] == 2
    assert row["capacity_choices"] == {"make": 0, "buy": 1, "share": 1, "experiment": 0}
    assert row["last_check_in"] == {"decided_on": day(34), "team_health": "amber"}
    assert row["team_health_trend"] == ["green", "amber", "red", "amber"]
    assert row["member_engagements"] == 1
    assert row["open_concerns"] == 1
    assert row["quiet"] is False
    assert rows["GB-DEV"]["segment"] is None and rows["GB-DEV"]["phase"] is None

    # As of before the correction, both decisions were "buy".
    past = read(client, f"/api/cohorts/{cohort_id}/comparison", as_of=instant_before)
    past_rows = {r["council_code"]: r for r in past["items"]}
    assert past_rows["GB-EXE"]["capacity_choices"]["buy"] == 2
    # ... and folding the kept facts again gives exactly the rows kept up to date then.
    assert past_rows == {r["council_code"]: r for r in before_correction["items"]}

    # Aligned by week: by the end of week 2 (days 0-13) Exeter had two statements and two buys.
    week_2 = {
        r["council_code"]: r
        for r in read(client, f"/api/cohorts/{cohort_id}/comparison", week=2)["items"]
    }
    assert week_2["GB-EXE"]["problem_statement_iterations"] == 2
    assert week_2["GB-EXE"]["capacity_choices"]["buy"] == 2
    assert week_2["GB-EXE"]["phase"] == "discovery"
    assert week_2["GB-EXE"]["open_concerns"] == 1
    assert week_2["GB-EXE"]["team_health_trend"] == ["green"]

    # A quiet project: nothing recorded for 21 days (the default), counted to `today`.
    later = (TODAY + timedelta(days=21)).isoformat()
    quiet = read(client, f"/api/cohorts/{cohort_id}/comparison", today=later)["items"]
    assert all(r["quiet"] for r in quiet)
    assert_problem(
        client.get(f"/api/cohorts/{cohort_id}/comparison", params={"week": 0}), 422, field="week"
    )


def test_programme_comparison_groups_follow_segment_mapping_and_successors(
    client: TestClient,
) -> None:
    programme_id = programme(client)
    first = recent_cohort(client, programme_id, "Cohort 1")
    second = recent_cohort(client, programme_id, "Cohort 2")
    register(client, "GB-A", "district", "south_west", 90_000)
    register(client, "GB-B", "district", "london", 300_000)
    register(client, "GB-U", "unitary", "south_west", 400_000)
    for code, cohort_id in (("GB-A", first), ("GB-B", second), ("GB-U", second)):
        project(client, cohort_id, code)
        assess(client, code, "medium", "medium", day(0))
    path = f"/api/programmes/{programme_id}/comparison"

    def groups(**params: Any) -> dict[str, list[str]]:
        found = read(client, path, **params)["groups"]
        return {g["key"]: [i["council_code"] for i in g["items"]] for g in found}

    assert groups(group_by="council_type") == {"district": ["GB-A", "GB-B"], "unitary": ["GB-U"]}
    assert groups(group_by="region") == {"london": ["GB-B"], "south_west": ["GB-A", "GB-U"]}
    assert groups(group_by="scale_band") == {
        "250k_to_500k": ["GB-B", "GB-U"],
        "under_100k": ["GB-A"],
    }
    assert groups(group_by="segment") == {"fast_followers": ["GB-A", "GB-B", "GB-U"]}
    totals = read(client, path, group_by="council_type")["groups"][0]
    assert totals["projects"] == 2 and totals["councils"] == ["GB-A", "GB-B"]

    # The programme's own segment mapping decides the segment.
    mapping = client.get(f"/api/programmes/{programme_id}").json()["segment_mapping"]
    configured = client.put(
        f"/api/programmes/{programme_id}/segment-mapping",
        json={"mapping": {**mapping, "medium/medium": "cost_innovators"}},
        headers=MANAGER,
    )
    assert configured.status_code == 200, configured.text
    assert groups(group_by="segment") == {"cost_innovators": ["GB-A", "GB-B", "GB-U"]}

    # GB-A is reorganised into GB-U: following successors reports its project under GB-U.
    succession = client.post(
        "/api/councils/GB-A/succession",
        json={"successor_codes": ["GB-U"], "effective_from": day(30)},
        headers=MANAGER,
    )
    assert succession.status_code == 200, succession.text
    assert groups(group_by="council_type") == {"district": ["GB-A", "GB-B"], "unitary": ["GB-U"]}
    followed = groups(group_by="council_type", follow_successors=True)
    assert followed == {"district": ["GB-B"], "unitary": ["GB-A", "GB-U"]}
    rows = read(client, path, follow_successors=True)["items"]
    assert {r["council_code"]: r["reported_under"] for r in rows} == {
        "GB-A": "GB-U",
        "GB-B": "GB-B",
        "GB-U": "GB-U",
    }
    assert_problem(client.get(path, params={"group_by": "colour"}), 422, field="group_by")


# -- the audit log --------------------------------------------------------------------


def test_the_audit_log_has_one_row_per_event_and_pages_through_filters(
    client: TestClient,
) -> None:
    cohort_id = recent_cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    officer = make_user(client.app.state.waymark, "officer.lee", "admin")  # type: ignore[attr-defined]
    for n in range(5):
        entry(
            client, project_id, statement(f"S{n}"), headers={"Authorization": f"Bearer {officer}"}
        )
    head = client.get("/readyz").json()["head"]

    everything = read(client, "/api/audit", limit=1000)["items"]
    assert [r["position"] for r in everything] == list(range(1, head + 1))
    for row in everything:
        assert row["recorded_at"] and row["aggregate_id"] and row["event"] and row["summary"]
    assert {r["aggregate_type"] for r in everything} == {
        "User",  # the fixture's signed-in users, and officer.lee
        "Programme",
        "Cohort",
        "Council",
        "Project",
    }
    started = next(r for r in everything if r["event"] == "Started")
    assert started["aggregate_id"] == project_id and started["summary"] == "Bins"

    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"actor": "officer.lee", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = read(client, "/api/audit", **params)
        pages.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [r["summary"] for r in pages] == [f"S{n}" for n in range(5)]
    assert {r["event"] for r in pages} == {"ProblemStatementIterated"}

    mine = read(client, "/api/audit", aggregate=project_id, order="desc")["items"]
    assert [r["aggregate_version"] for r in mine] == [6, 5, 4, 3, 2, 1]
    grants = read(client, "/api/audit", aggregate_type="User", actor="test")["items"]
    assert [r["event"] for r in grants].count("RoleGranted") == 3
    councils = read(client, "/api/audit", aggregate_type="Council")["items"]
    assert [r["event"] for r in councils] == ["Registered"]
    middle = everything[len(everything) // 2]["recorded_at"]
    later = read(client, "/api/audit", since=middle)["items"]
    earlier = read(client, "/api/audit", until=middle)["items"]
    assert later and earlier
    assert all(r["recorded_at"] >= middle for r in later)
    assert all(r["recorded_at"] <= middle for r in earlier)
    assert_problem(client.get("/api/audit", params={"cursor": "x"}), 422, field="cursor")


def test_an_audit_summary_never_shows_a_field_that_looks_secret() -> None:
    event = SimpleNamespace(
        originator_id="x",
        actor="admin",
        role="reviewer",
        password_hash="$argon2$abc",
        token_secret="wm_1-abc",
        api_key="k",
    )
    assert summarise_event(event) == "role: reviewer"


@pytest.mark.parametrize(
    ("cost", "shown"),
    [
        (Decimal("125000"), "Buy: Case management (est. £125,000.00)"),
        (Decimal("48000.5"), "Buy: Case management (est. £48,000.50)"),
        (None, "Buy: Case management"),
    ],
)
def test_a_capacity_decision_summary_shows_its_cost_as_people_write_money(
    cost: Decimal | None, shown: str
) -> None:
    values = {"choice": "buy", "capability": "Case management", "estimated_cost": cost}
    assert summarise_entry("capacity_decided", values) == shown
