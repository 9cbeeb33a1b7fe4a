"""Issue 3: a cohort played through a realistic accelerator, then audited, one behaviour
at a time; and every invalid entry refused naming its field."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
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


def record(client: TestClient, project_id: str, kind: str, **values: Any) -> str:
    """Record one entry through the API; returns its id."""
    return str(entry(client, project_id, {"kind": kind, **values})["entry_id"])


def correct(
    client: TestClient,
    project_id: str,
    entry_id: str,
    reason_kind: str,
    reason: str,
    **replacement: Any,
) -> str:
    return record(
        client,
        project_id,
        "entry_corrected",
        corrects=entry_id,
        reason_kind=reason_kind,
        reason=reason,
        replacement=replacement,
    )


def decide_capacity(client: TestClient, project_id: str, choice: str) -> str:
    return record(
        client,
        project_id,
        "capacity_decided",
        capability=f"Capability {choice}",
        choice=choice,
        estimated_cost="1000.50",
        decision_makers=["Chief Executive"],
        decided_on=day(12),
    )


def a_project(client: TestClient, code: str = "GB-EXE", name: str = "Exeter") -> str:
    """Given: one council's project in a cohort of a programme."""
    return project(client, cohort(client, programme(client)), council(client, code, name))


def latest_recorded_at(client: TestClient, project_id: str) -> tuple[str, int]:
    """The instant the project's last entry was recorded, and how many entries it had then."""
    body = get_project(client, project_id)
    return body["entries"][-1]["recorded_at"], len(body["entries"])


STATEMENTS = [
    "Residents phone about missed bins.",
    "Residents cannot find out when their bin is collected.\nThey phone instead.",
    "Residents cannot find out when their bin is collected.\nThey give up.",
]


@dataclass(frozen=True)
class History:
    """Exeter's project played through discovery, alpha, corrections and back."""

    project_id: str
    share: str  # the capacity decision to share, later corrected twice
    clarified: str  # its first correction
    changed_mind: str  # the correction of that correction
    #: (recorded_at, entries by then) after each problem statement and after the corrections
    instants: list[tuple[str, int]]


@pytest.fixture
def exeter_history(client: TestClient) -> History:
    """Given: a project that iterated its problem statement three times, moved to alpha,
    decided to share a capability, corrected that decision twice, and went back to
    discovery with a reason; with the instants after each statement and after the
    corrections."""
    exeter = a_project(client)
    instants = []
    record(client, exeter, "phase_changed", phase="discovery", decided_on=day(0))
    for n, text in enumerate(STATEMENTS):
        record(
            client,
            exeter,
            "problem_statement_iterated",
            statement=text,
            why=f"iteration {n + 1}",
            decided_on=day(1 + n),
        )
        instants.append(latest_recorded_at(client, exeter))
    record(client, exeter, "phase_changed", phase="alpha", decided_on=day(10))
    share = decide_capacity(client, exeter, "share")
    clarified = correct(
        client, exeter, share, "clarification", "Name the partner.", partner="Teignbridge"
    )
    changed_mind = correct(
        client,
        exeter,
        clarified,
        "change_of_mind",
        "Sharing with a different neighbour.",
        partner="East Devon",
    )
    instants.append(latest_recorded_at(client, exeter))
    record(client, exeter, "phase_changed", phase="discovery", reason="Alpha showed a gap.")
    return History(exeter, share, clarified, changed_mind, instants)


def test_each_capacity_choice_is_recorded_across_the_councils(client: TestClient) -> None:
    cohort_id = cohort(client, programme(client))
    exeter = project(client, cohort_id, council(client, "GB-EXE", "Exeter", "district"))
    devon = project(client, cohort_id, council(client, "GB-DEV", "Devon", "county"))
    hackney = project(client, cohort_id, council(client, "GB-HCK", "Hackney", "london_borough"))

    decided = {
        choice: (project_id, decide_capacity(client, project_id, choice))
        for project_id, choice in ((exeter, "share"), (devon, "buy"), (hackney, "make"))
    }
    decided["experiment"] = (
        hackney,
        record(client, hackney, "capacity_decided", capability="Repairs hub", choice="experiment"),
    )

    for choice, (project_id, entry_id) in decided.items():
        decision = by_id(get_project(client, project_id))[entry_id]
        assert decision["choice"] == choice
        if choice != "experiment":
            assert decision["estimated_cost"] == "1000.50"
            assert decision["decision_makers"] == ["Chief Executive"]
            assert decision["decided_on"] == day(12)


def test_team_health_is_kept_at_each_sponsor_check_in(client: TestClient) -> None:
    devon = a_project(client, "GB-DEV", "Devon")

    for health in ("green", "amber", "red", "amber"):
        record(client, devon, "sponsor_check_in", team_health=health)

    entries = get_project(client, devon)["entries"]
    assert [e["team_health"] for e in entries] == ["green", "amber", "red", "amber"]


def test_a_raised_concern_is_open_until_it_is_resolved(client: TestClient) -> None:
    devon = a_project(client, "GB-DEV", "Devon")

    concern = record(
        client, devon, "concern_raised", category="privacy", description="Data sharing."
    )
    assert get_project(client, devon)["open_concerns"] == [concern]

    record(
        client, devon, "concern_resolved", concern_entry_id=concern, resolution="DPIA signed off."
    )
    assert get_project(client, devon)["open_concerns"] == []


def test_a_correction_leaves_the_original_unedited_and_links_both_ways(client: TestClient) -> None:
    exeter = a_project(client)
    share = decide_capacity(client, exeter, "share")

    clarified = correct(
        client, exeter, share, "clarification", "Name the partner.", partner="Teignbridge"
    )

    entries = by_id(get_project(client, exeter))
    assert entries[share]["partner"] == ""  # the original is never edited
    assert entries[share]["superseded_by"] == clarified
    assert entries[clarified]["corrects"] == share
    assert entries[clarified]["superseded_by"] is None
    assert entries[clarified]["effective"]["partner"] == "Teignbridge"


def test_a_correction_of_a_correction_carries_the_values_now_in_force(
    exeter_history: History,
    client: TestClient,
) -> None:
    history = exeter_history

    entries = by_id(get_project(client, history.project_id))

    assert entries[history.share]["partner"] == ""
    assert entries[history.share]["superseded_by"] == history.clarified
    assert entries[history.clarified]["corrects"] == history.share
    assert entries[history.changed_mind]["corrects"] == history.clarified
    assert entries[history.clarified]["superseded_by"] == history.changed_mind
    assert entries[history.changed_mind]["superseded_by"] is None
    assert entries[history.changed_mind]["effective"]["partner"] == "East Devon"
    assert entries[history.changed_mind]["effective"]["choice"] == "share"


def test_a_recording_error_is_corrected_without_touching_the_amount_first_recorded(
    client: TestClient,
) -> None:
    devon = a_project(client, "GB-DEV", "Devon")
    bought = decide_capacity(client, devon, "buy")

    mistyped = correct(
        client, devon, bought, "recording_error", "Cost typed wrongly.", estimated_cost="10005.00"
    )

    entries = by_id(get_project(client, devon))
    assert entries[bought]["estimated_cost"] == "1000.50"
    assert entries[mistyped]["effective"]["estimated_cost"] == "10005.00"


def test_a_project_goes_back_a_phase_with_a_reason(
    exeter_history: History, client: TestClient
) -> None:
    # Given discovery, then alpha, then back to discovery "Alpha showed a gap." (the history)

    body = get_project(client, exeter_history.project_id)

    assert body["phase"] == "discovery"
    phases = [(e["phase"], e["reason"]) for e in body["entries"] if e["kind"] == "phase_changed"]
    assert phases == [("discovery", ""), ("alpha", ""), ("discovery", "Alpha showed a gap.")]


def test_problem_statement_iterations_are_numbered_and_compared(
    exeter_history: History, client: TestClient
) -> None:
    exeter = exeter_history.project_id

    statements = get_project(client, exeter)["problem_statements"]
    diff = client.get(
        f"/api/projects/{exeter}/problem-statements/diff", params={"from": 2, "to": 3}
    )

    assert [s["version"] for s in statements] == [1, 2, 3]
    assert diff.status_code == 200, diff.text
    assert diff.json()["diff"] == [
        "--- version 2",
        "+++ version 3",
        "@@ -1,2 +1,2 @@",
        " Residents cannot find out when their bin is collected.",
        "-They phone instead.",
        "+They give up.",
    ]


def test_a_diff_to_a_problem_statement_that_does_not_exist_names_it(
    exeter_history: History, client: TestClient
) -> None:
    exeter = exeter_history.project_id

    response = client.get(
        f"/api/projects/{exeter}/problem-statements/diff", params={"from": 1, "to": 9}
    )

    assert_problem(response, 422, field="to")


def test_a_project_as_of_an_instant_holds_only_the_entries_recorded_by_then(
    exeter_history: History, client: TestClient
) -> None:
    assert len(exeter_history.instants) == 4

    for recorded_at, count in exeter_history.instants:
        past = get_project(client, exeter_history.project_id, as_of=recorded_at)

        assert len(past["entries"]) == count
        assert all(e["recorded_at"] <= recorded_at for e in past["entries"])


def test_a_project_as_of_before_its_corrections_shows_nothing_superseded(
    exeter_history: History, client: TestClient
) -> None:
    after_statements, _ = exeter_history.instants[2]

    before_corrections = get_project(client, exeter_history.project_id, as_of=after_statements)

    assert all(e["superseded_by"] is None for e in before_corrections["entries"])
    assert before_corrections["phase"] == "discovery"


def test_a_project_as_of_its_corrections_shows_their_links_and_the_phase_then(
    exeter_history: History, client: TestClient
) -> None:
    after_corrections, _ = exeter_history.instants[3]

    then = get_project(client, exeter_history.project_id, as_of=after_corrections)

    assert by_id(then)[exeter_history.share]["superseded_by"] == exeter_history.clarified
    assert then["phase"] == "alpha"


def test_a_project_as_of_before_it_started_is_not_found(
    exeter_history: History, client: TestClient
) -> None:
    response = client.get(
        f"/api/projects/{exeter_history.project_id}", params={"as_of": "2000-01-01T00:00Z"}
    )

    assert_problem(response, 404)


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
        "support_answered",
        "output_published",
        "output_reused",
        "partner_joined",
        "partner_left",
        "grant_awarded",
        "payment_made",
        "match_funding_committed",
        "grant_closed",
        "benefit_defined",
        "benefit_measured",
        "benefit_closed",
        "assessment_held",
        "entry_made_public",
        "entry_corrected",
    }
    components = schema["components"]["schemas"]
    for ref in one_of["discriminator"]["mapping"].values():
        variant = components[ref.rsplit("/", 1)[1]]
        assert variant["examples"][0]["kind"] in kinds


def test_every_entry_kind_can_be_recorded_with_its_example(client: TestClient) -> None:
    programme_id = programme(client)
    cohort_id = cohort(client, programme_id)
    project_id = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    council(client, "GB-TEI", "Teignbridge")  # the partner the examples join, then leave
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
        if kind == "support_answered":
            example["request_entry_id"] = recorded["support_requested"]
        if kind == "output_reused":  # an output of the programme, by a registered council
            example["output_entry_id"] = recorded["output_published"]
            example["council_code"] = "GB-EXE"
        if kind in ("payment_made", "grant_closed"):  # a grant of the project
            example["grant_entry_id"] = recorded["grant_awarded"]
        if kind in ("benefit_measured", "benefit_closed"):  # a benefit of the project
            example["benefit_entry_id"] = recorded["benefit_defined"]
        if kind == "entry_made_public":  # an earlier entry, once the programme allows it
            allowed = client.put(
                f"/api/programmes/{programme_id}/publishing", json={"allowed": True}
            )
            assert allowed.status_code == 200, allowed.text
            example["made_public_entry_id"] = recorded["support_requested"]
        recorded[kind] = entry(client, project_id, example)["entry_id"]
    kinds = {e["kind"] for e in get_project(client, project_id)["entries"]}
    assert kinds == set(mapping)
