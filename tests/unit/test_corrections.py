"""Corrections: nothing is edited; a correction supersedes an entry and carries the values
in force, and a chain of corrections is followed to its latest version."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import Conflict, InvalidValue
from domain.project import Project
from tests.unit.givens import (
    TODAY,
    a_project,
    a_project_through,
    correct,
    days_ago,
    record,
    refused,
)


def a_capacity_decision(project: Project) -> Any:
    return record(
        project,
        "capacity_decided",
        capability="Bin collection app",
        choice="share",
        estimated_cost="1000.50",
        decision_makers=["Chief Executive"],
        decided_on=days_ago(5),
    )


def test_a_correction_supersedes_the_entry_and_leaves_it_as_it_was() -> None:
    project = a_project()
    decision = a_capacity_decision(project)

    correction = correct(project, decision, partner="Teignbridge")

    original = project.entries[decision]
    assert original.fields["partner"] == ""
    assert original.superseded_by == correction
    assert original.corrects is None
    assert project.entries[correction].corrects == decision
    assert project.entries[correction].superseded_by is None


def test_a_correction_carries_the_values_in_force_after_it() -> None:
    project = a_project()
    decision = a_capacity_decision(project)

    correction = correct(project, decision, "recording_error", estimated_cost="10005.00")

    effective = project.entries[correction].effective
    assert effective["estimated_cost"] == Decimal("10005.00")
    assert effective["choice"] == "share"
    assert effective["capability"] == "Bin collection app"
    assert project.entries[decision].fields["estimated_cost"] == Decimal("1000.50")


def test_a_correction_of_a_correction_builds_on_the_values_it_put_in_force() -> None:
    project = a_project()
    decision = a_capacity_decision(project)
    clarified = correct(project, decision, partner="Teignbridge")

    changed_mind = correct(project, clarified, "change_of_mind", rationale="Nearer neighbour.")

    assert project.entries[clarified].superseded_by == changed_mind
    assert project.entries[changed_mind].corrects == clarified
    assert project.entries[changed_mind].superseded_by is None
    effective = project.entries[changed_mind].effective
    assert effective["partner"] == "Teignbridge"
    assert effective["rationale"] == "Nearer neighbour."
    assert effective["choice"] == "share"


def test_a_later_correction_in_a_chain_replaces_an_earlier_correction_value() -> None:
    project = a_project()
    decision = a_capacity_decision(project)
    clarified = correct(project, decision, partner="Teignbridge")

    changed_mind = correct(project, clarified, "change_of_mind", partner="East Devon")

    assert project.entries[changed_mind].effective["partner"] == "East Devon"
    assert project.entries[clarified].effective["partner"] == "Teignbridge"


def test_the_current_version_of_an_entry_follows_its_chain_of_corrections() -> None:
    project = a_project()
    decision = a_capacity_decision(project)
    clarified = correct(project, decision, partner="Teignbridge")
    changed_mind = correct(project, clarified, partner="East Devon")

    assert project.current(decision).entry_id == changed_mind
    assert project.current(clarified).entry_id == changed_mind
    assert project.current(changed_mind).entry_id == changed_mind
    assert project.corrected_kind(project.entries[changed_mind]) == "capacity_decided"


def test_only_the_latest_version_of_an_entry_can_be_corrected() -> None:
    project = a_project()
    decision = a_capacity_decision(project)
    correct(project, decision, partner="Teignbridge")

    with refused(project, Conflict):
        correct(project, decision, partner="East Devon")


def test_an_entry_of_another_project_cannot_be_corrected() -> None:
    theirs = a_project(council_code="GB-DEV")
    their_decision = a_capacity_decision(theirs)
    ours = a_project(council_code="GB-EXE")

    with refused(ours, InvalidValue, field="corrects"):
        correct(ours, their_decision, partner="Teignbridge")
    assert theirs.entries[their_decision].superseded_by is None


def test_a_correction_of_an_entry_never_recorded_is_refused() -> None:
    project = a_project()

    with refused(project, InvalidValue, field="corrects"):
        correct(project, uuid4(), statement="Nothing to correct.")
    with refused(project, InvalidValue, field="corrects"):
        correct(project, "not-an-entry-id", statement="Nothing to correct.")  # type: ignore[arg-type]


def test_a_phase_is_not_corrected_but_the_reason_for_it_is() -> None:
    project = a_project_through("discovery")
    change = record(project, "phase_changed", phase="alpha")

    with refused(project, InvalidValue, field="replacement.phase"):
        correct(project, change, phase="private_beta")
    correction = correct(project, change, reason="Discovery ended early.")

    assert project.phase == "alpha"
    assert project.entries[correction].effective["reason"] == "Discovery ended early."


def test_replacement_values_follow_the_rules_of_the_corrected_kind() -> None:
    project = a_project()
    decision = a_capacity_decision(project)
    clarified = correct(project, decision, partner="Teignbridge")

    with refused(project, InvalidValue, field="replacement.choice"):
        correct(project, clarified, choice="rent")
    with refused(project, InvalidValue, field="replacement.statement"):
        correct(project, clarified, statement="Not a field of a capacity decision.")
    with refused(project, InvalidValue, field="replacement.estimated_cost"):
        correct(project, clarified, estimated_cost="-5")
    with refused(project, InvalidValue, field="replacement.capability"):
        correct(project, clarified, capability="   ")


@pytest.mark.parametrize("replacement", [{}, None, "partner=Teignbridge", ["partner"]])
def test_a_correction_must_replace_at_least_one_value(replacement: Any) -> None:
    project = a_project()
    decision = a_capacity_decision(project)

    with refused(project, InvalidValue, field="replacement"):
        record(
            project,
            "entry_corrected",
            corrects=decision,
            reason_kind="clarification",
            reason="x",
            replacement=replacement,
        )


def test_a_correction_says_what_kind_of_reason_and_why() -> None:
    project = a_project()
    decision = a_capacity_decision(project)
    base: dict[str, Any] = {"corrects": decision, "replacement": {"partner": "Teignbridge"}}

    with refused(project, InvalidValue, field="reason_kind"):
        record(project, "entry_corrected", reason_kind="whim", reason="x", **base)
    with refused(project, InvalidValue, field="reason"):
        record(project, "entry_corrected", reason_kind="clarification", reason=" ", **base)
    with refused(project, InvalidValue, field="reason"):
        record(project, "entry_corrected", reason_kind="clarification", **base)


def test_a_correction_can_move_the_day_an_entry_was_decided() -> None:
    project = a_project()
    decision = a_capacity_decision(project)

    correction = correct(project, decision, decided_on=days_ago(20).isoformat())

    assert project.entries[correction].effective["decided_on"] == days_ago(20)
    assert project.entries[decision].decided_on == days_ago(5)


@pytest.mark.parametrize(
    "day", [(TODAY + timedelta(days=1)).isoformat(), "2026-02-30", "last tuesday"]
)
def test_a_corrected_day_must_be_a_real_day_no_later_than_today(day: str) -> None:
    project = a_project()
    decision = a_capacity_decision(project)

    with refused(project, InvalidValue, field="replacement.decided_on"):
        correct(project, decision, decided_on=day)


def test_a_corrected_problem_statement_is_the_text_of_its_version() -> None:
    project = a_project()
    first = record(project, "problem_statement_iterated", statement="Residents phone.")
    record(project, "problem_statement_iterated", statement="Residents give up.")

    correct(project, first, statement="Residents phone about missed bins.")

    assert [e.statement_version for e in project.statements()] == [1, 2]
    assert project.statement_text(1) == "Residents phone about missed bins."
    assert project.statement_diff(1, 2) == [
        "--- version 1",
        "+++ version 2",
        "@@ -1 +1 @@",
        "-Residents phone about missed bins.",
        "+Residents give up.",
    ]


def test_replaying_the_events_gives_the_same_chain_of_corrections() -> None:
    project = a_project()
    decision = a_capacity_decision(project)
    clarified = correct(project, decision, partner="Teignbridge")
    changed_mind = correct(project, clarified, partner="East Devon")
    events = project.collect_events()

    replayed: Any = None
    for event in events:
        replayed = event.mutate(replayed)

    assert replayed.entries == project.entries
    assert replayed.current(decision).entry_id == changed_mind
