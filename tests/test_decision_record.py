"""Issue 3: a cohort played through a realistic accelerator, then audited."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import MANAGER, assert_problem, cohort, council, entry, programme, project

TODAY = date.today()


def day(n: int) -> str:
    return (TODAY - timedelta(days=60 - n)).isoformat()


def get_project(client: TestClient, project_id: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/projects/{project_id}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_id(project_body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["entry_id"]: e for e in project_body["entries"]}


def test_a_cohort_played_through_the_accelerator_keeps_an_honest_history(
    client: TestClient,
) -> None:
    cohort_id = cohort(client, programme(client))
    exeter = project(client, cohort_id, council(client, "GB-EXE", "Exeter", "district"))
    devon = project(client, cohort_id, council(client, "GB-DEV", "Devon", "county"))
    hackney = project(client, cohort_id, council(client, "GB-HCK", "Hackney", "london_borough"))
    instants: list[tuple[str, int]] = []  # (recorded_at, how many Exeter entries by then)

    # Exeter iterates its problem statement three times and moves through phases.
    statements = [
        "Residents phone about missed bins.",
        "Residents cannot find out when their bin is collected.\nThey phone instead.",
        "Residents cannot find out when their bin is collected.\nThey give up.",
    ]
    entry(client, exeter, {"kind": "phase_changed", "phase": "discovery", "decided_on": day(0)})
    for n, text in enumerate(statements):
        entry(
            client,
            exeter,
            {
                "kind": "problem_statement_iterated",
                "statement": text,
                "why": f"iteration {n + 1}",
                "decided_on": day(1 + n),
            },
        )
        body = get_project(client, exeter)
        instants.append((body["entries"][-1]["recorded_at"], len(body["entries"])))
    entry(client, exeter, {"kind": "phase_changed", "phase": "alpha", "decided_on": day(10)})

    # Each capacity choice at least once, across the councils.
    choices = {}
    for project_id, choice in ((exeter, "share"), (devon, "buy"), (hackney, "make")):
        choices[choice] = entry(
            client,
            project_id,
            {
                "kind": "capacity_decided",
                "capability": f"Capability {choice}",
                "choice": choice,
                "estimated_cost": "1000.50",
                "decision_makers": ["Chief Executive"],
                "decided_on": day(12),
            },
        )
    choices["experiment"] = entry(
        client,
        hackney,
        {"kind": "capacity_decided", "capability": "Repairs hub", "choice": "experiment"},
    )

    # Check-ins with changing team health.
    for health in ("green", "amber", "red", "amber"):
        entry(client, devon, {"kind": "sponsor_check_in", "team_health": health})

    # A concern raised and resolved.
    concern = entry(
        client,
        devon,
        {"kind": "concern_raised", "category": "privacy", "description": "Data sharing."},
    )
    assert get_project(client, devon)["open_concerns"] == [concern["entry_id"]]
    entry(
        client,
        devon,
        {
            "kind": "concern_resolved",
            "concern_entry_id": concern["entry_id"],
            "resolution": "DPIA signed off.",
        },
    )
    assert get_project(client, devon)["open_concerns"] == []

    # A correction of each reason kind; the last corrects a correction.
    clarified = entry(
        client,
        exeter,
        {
            "kind": "entry_corrected",
            "corrects": choices["share"]["entry_id"],
            "reason_kind": "clarification",
            "reason": "Name the partner.",
            "replacement": {"partner": "Teignbridge"},
        },
    )
    mistyped = entry(
        client,
        devon,
        {
            "kind": "entry_corrected",
            "corrects": choices["buy"]["entry_id"],
            "reason_kind": "recording_error",
            "reason": "Cost typed wrongly.",
            "replacement": {"estimated_cost": "10005.00"},
        },
    )
    changed_mind = entry(
        client,
        exeter,
        {
            "kind": "entry_corrected",
            "corrects": clarified["entry_id"],
            "reason_kind": "change_of_mind",
            "reason": "Sharing with a different neighbour.",
            "replacement": {"partner": "East Devon"},
        },
    )
    body = get_project(client, exeter)
    instants.append((body["entries"][-1]["recorded_at"], len(body["entries"])))
    entry(
        client,
        exeter,
        {"kind": "phase_changed", "phase": "discovery", "reason": "Alpha showed a gap."},
    )

    # Then the history keeps every entry, with superseded links both ways.
    exeter_now = get_project(client, exeter)
    entries = by_id(exeter_now)
    original = entries[choices["share"]["entry_id"]]
    assert original["partner"] == ""  # the original is never edited
    assert original["superseded_by"] == clarified["entry_id"]
    assert entries[clarified["entry_id"]]["corrects"] == choices["share"]["entry_id"]
    assert entries[changed_mind["entry_id"]]["corrects"] == clarified["entry_id"]
    assert entries[clarified["entry_id"]]["superseded_by"] == changed_mind["entry_id"]
    assert entries[changed_mind["entry_id"]]["superseded_by"] is None
    assert entries[changed_mind["entry_id"]]["effective"]["partner"] == "East Devon"
    assert entries[changed_mind["entry_id"]]["effective"]["choice"] == "share"
    assert exeter_now["phase"] == "discovery"
    devon_now = by_id(get_project(client, devon))
    assert devon_now[choices["buy"]["entry_id"]]["estimated_cost"] == "1000.50"
    assert devon_now[mistyped["entry_id"]]["effective"]["estimated_cost"] == "10005.00"

    # The problem-statement lineage is numbered and can be diffed.
    assert [s["version"] for s in exeter_now["problem_statements"]] == [1, 2, 3]
    diff = client.get(
        f"/api/projects/{exeter}/problem-statements/diff", params={"from": 2, "to": 3}
    )
    assert diff.status_code == 200, diff.text
    assert diff.json()["diff"] == [
        "--- version 2",
        "+++ version 3",
        "@@ -1,2 +1,2 @@",
        " Residents cannot find out when their bin is collected.",
        "-They phone instead.",
        "+They give up.",
    ]
    assert_problem(
        client.get(f"/api/projects/{exeter}/problem-statements/diff", params={"from": 1, "to": 9}),
        422,
        field="to",
    )

    # As of three past instants, later entries and later corrections are absent.
    for recorded_at, count in instants:
        past = get_project(client, exeter, as_of=recorded_at)
        assert len(past["entries"]) == count
        assert all(e["recorded_at"] <= recorded_at for e in past["entries"])
    before_corrections = get_project(client, exeter, as_of=instants[2][0])
    assert all(e["superseded_by"] is None for e in before_corrections["entries"])
    assert before_corrections["phase"] == "discovery"
    at_corrections = by_id(get_project(client, exeter, as_of=instants[3][0]))
    assert at_corrections[choices["share"]["entry_id"]]["superseded_by"] == clarified["entry_id"]
    assert get_project(client, exeter, as_of=instants[3][0])["phase"] == "alpha"
    assert_problem(
        client.get(f"/api/projects/{exeter}", params={"as_of": "2000-01-01T00:00Z"}), 404
    )


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("unknown kind", {"kind": "lunch_ordered", "statement": "x"}, "kind"),
    ("missing kind", {"statement": "x"}, "kind"),
    ("bad enum", {"kind": "capacity_decided", "capability": "x", "choice": "rent"}, "choice"),
    (
        "negative cost",
        {"kind": "capacity_decided", "capability": "x", "choice": "buy", "estimated_cost": "-1"},
        "estimated_cost",
    ),
    (
        "cost with three decimal places",
        {
            "kind": "capacity_decided",
            "capability": "x",
            "choice": "buy",
            "estimated_cost": "10.005",
        },
        "estimated_cost",
    ),
    (
        "cost as a float",
        {"kind": "capacity_decided", "capability": "x", "choice": "buy", "estimated_cost": 10.5},
        "estimated_cost",
    ),
    ("missing field", {"kind": "capacity_decided", "choice": "buy"}, "capability"),
    ("empty statement", {"kind": "problem_statement_iterated", "statement": "  "}, "statement"),
    (
        "decided in the future",
        {
            "kind": "problem_statement_iterated",
            "statement": "x",
            "decided_on": (TODAY + timedelta(days=2)).isoformat(),
        },
        "decided_on",
    ),
    (
        "correction of a missing entry",
        {
            "kind": "entry_corrected",
            "corrects": str(uuid.uuid4()),
            "reason_kind": "clarification",
            "reason": "x",
            "replacement": {"statement": "y"},
        },
        "corrects",
    ),
    ("unknown field", {"kind": "sponsor_check_in", "team_health": "green", "mood": "x"}, "mood"),
    ("bad team health", {"kind": "sponsor_check_in", "team_health": "blue"}, "team_health"),
    (
        "resolving something that is not a concern",
        {
            "kind": "concern_resolved",
            "concern_entry_id": str(uuid.uuid4()),
            "resolution": "x",
        },
        "concern_entry_id",
    ),
    ("pausing without a reason", {"kind": "phase_changed", "phase": "paused"}, "reason"),
]


@pytest.mark.parametrize(("case", "body", "field"), INVALID, ids=[c[0] for c in INVALID])
def test_every_invalid_entry_is_a_problem_naming_the_field_and_records_nothing(
    client: TestClient, case: str, body: dict[str, Any], field: str
) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    entry(client, project_id, {"kind": "problem_statement_iterated", "statement": "First"})
    before = get_project(client, project_id)

    response = client.post(f"/api/projects/{project_id}/entries", json=body, headers=MANAGER)

    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code, field=field)
    assert get_project(client, project_id)["version"] == before["version"]


def test_corrections_refuse_bad_replacements_naming_the_replacement_field(
    client: TestClient,
) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    decision = entry(
        client, project_id, {"kind": "capacity_decided", "capability": "x", "choice": "buy"}
    )
    base = {
        "kind": "entry_corrected",
        "corrects": decision["entry_id"],
        "reason_kind": "recording_error",
        "reason": "x",
    }
    bad_choice = client.post(
        f"/api/projects/{project_id}/entries",
        json={**base, "replacement": {"choice": "rent"}},
        headers=MANAGER,
    )
    assert_problem(bad_choice, 422, field="replacement.choice")
    not_a_field = client.post(
        f"/api/projects/{project_id}/entries",
        json={**base, "replacement": {"statement": "y"}},
        headers=MANAGER,
    )
    assert_problem(not_a_field, 422, field="replacement.statement")
    bad_reason = client.post(
        f"/api/projects/{project_id}/entries",
        json={**base, "reason_kind": "whim", "replacement": {"choice": "make"}},
        headers=MANAGER,
    )
    assert_problem(bad_reason, 422, field="reason_kind")


def test_an_entry_of_another_project_cannot_be_corrected(client: TestClient) -> None:
    cohort_id = cohort(client, programme(client))
    exeter = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    devon = project(client, cohort_id, council(client, "GB-DEV", "Devon"))
    theirs = entry(client, devon, {"kind": "problem_statement_iterated", "statement": "Theirs"})
    response = client.post(
        f"/api/projects/{exeter}/entries",
        json={
            "kind": "entry_corrected",
            "corrects": theirs["entry_id"],
            "reason_kind": "clarification",
            "reason": "x",
            "replacement": {"statement": "Mine"},
        },
        headers=MANAGER,
    )
    assert_problem(response, 422, field="corrects")


def test_an_already_corrected_entry_must_be_corrected_at_its_latest_version(
    client: TestClient,
) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    first = entry(client, project_id, {"kind": "problem_statement_iterated", "statement": "A"})
    correction = {
        "kind": "entry_corrected",
        "corrects": first["entry_id"],
        "reason_kind": "clarification",
        "reason": "x",
        "replacement": {"statement": "B"},
    }
    entry(client, project_id, correction)
    again = client.post(f"/api/projects/{project_id}/entries", json=correction, headers=MANAGER)
    assert_problem(again, 409)


def test_the_entries_endpoint_documents_every_kind_with_an_example(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/api/projects/{project_id}/entries"]["post"]["requestBody"]
    one_of = body["content"]["application/json"]["schema"]
    assert one_of["discriminator"]["propertyName"] == "kind"
    kinds = set(one_of["discriminator"]["mapping"])
    assert kinds == {
        "problem_statement_iterated",
        "capacity_decided",
        "sponsor_check_in",
        "case_for_change",
        "capacity_built",
        "way_of_working_chosen",
        "stance_taken",
        "phase_changed",
        "members_engaged",
        "concern_raised",
        "concern_resolved",
        "support_requested",
        "entry_corrected",
    }
    components = schema["components"]["schemas"]
    for ref in one_of["discriminator"]["mapping"].values():
        variant = components[ref.rsplit("/", 1)[1]]
        assert variant["examples"][0]["kind"] in kinds


def test_every_entry_kind_can_be_recorded_with_its_example(client: TestClient) -> None:
    cohort_id = cohort(client, programme(client))
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    mapping = schema["paths"]["/api/projects/{project_id}/entries"]["post"]["requestBody"][
        "content"
    ]["application/json"]["schema"]["discriminator"]["mapping"]
    recorded: dict[str, str] = {}
    order = [k for k in mapping if k not in ("concern_resolved", "entry_corrected")]
    for kind in [*order, "concern_resolved", "entry_corrected"]:
        example = dict(components[mapping[kind].rsplit("/", 1)[1]]["examples"][0])
        if kind == "concern_resolved":
            example["concern_entry_id"] = recorded["concern_raised"]
        if kind == "entry_corrected":
            example["corrects"] = recorded["capacity_decided"]
        if kind == "phase_changed":
            example["phase"] = "discovery"
        recorded[kind] = entry(client, project_id, example)["entry_id"]
    kinds = {e["kind"] for e in get_project(client, project_id)["entries"]}
    assert kinds == set(mapping)
