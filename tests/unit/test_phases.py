"""Phases: forward moves are free, anything else needs a reason, and some phases are final."""

from __future__ import annotations

import pytest

from domain.errors import Conflict, InvalidValue
from tests.unit.givens import a_project, a_project_through, days_ago, record, refused

FORWARD = ["discovery", "alpha", "private_beta", "public_beta", "live", "retired"]


def test_a_new_project_enters_its_first_phase_without_a_reason() -> None:
    project = a_project()

    record(project, "phase_changed", phase="alpha", decided_on=days_ago(3))

    assert project.phase == "alpha"
    assert project.phase_since == days_ago(3)


def test_moving_forward_through_every_phase_needs_no_reason() -> None:
    project = a_project()

    for phase in FORWARD:
        record(project, "phase_changed", phase=phase)
        assert project.phase == phase


def test_skipping_phases_forward_needs_no_reason() -> None:
    project = a_project_through("discovery")

    record(project, "phase_changed", phase="live")

    assert project.phase == "live"


def test_going_back_a_phase_needs_a_reason() -> None:
    project = a_project_through("discovery", "alpha")

    with refused(project, InvalidValue, field="reason"):
        record(project, "phase_changed", phase="discovery")
    with refused(project, InvalidValue, field="reason"):
        record(project, "phase_changed", phase="discovery", reason="   ")
    assert project.phase == "alpha"


def test_going_back_a_phase_with_a_reason_is_recorded() -> None:
    project = a_project_through("discovery", "alpha")

    entry_id = record(project, "phase_changed", phase="discovery", reason="Alpha showed a gap.")

    assert project.phase == "discovery"
    assert project.entries[entry_id].fields["reason"] == "Alpha showed a gap."


@pytest.mark.parametrize("phase", ["paused", "stopped"])
def test_pausing_or_stopping_needs_a_reason(phase: str) -> None:
    project = a_project_through("discovery")

    with refused(project, InvalidValue, field="reason"):
        record(project, "phase_changed", phase=phase)

    record(project, "phase_changed", phase=phase, reason="The sponsor left.")
    assert project.phase == phase


def test_a_paused_project_resumes_where_it_was_without_a_reason() -> None:
    project = a_project_through("discovery", "alpha", "paused")

    record(project, "phase_changed", phase="alpha")

    assert project.phase == "alpha"


def test_a_paused_project_resumes_at_a_later_phase_without_a_reason() -> None:
    project = a_project_through("discovery", "alpha", "paused")

    record(project, "phase_changed", phase="public_beta")

    assert project.phase == "public_beta"


def test_resuming_a_paused_project_at_an_earlier_phase_needs_a_reason() -> None:
    project = a_project_through("discovery", "alpha", "paused")

    with refused(project, InvalidValue, field="reason"):
        record(project, "phase_changed", phase="discovery")
    record(project, "phase_changed", phase="discovery", reason="Start again.")
    assert project.phase == "discovery"


def test_a_project_paused_before_any_phase_resumes_at_any_phase_without_a_reason() -> None:
    project = a_project_through("paused")

    record(project, "phase_changed", phase="private_beta")

    assert project.phase == "private_beta"


def test_a_live_project_retires_without_a_reason() -> None:
    project = a_project_through("discovery", "alpha", "live")

    record(project, "phase_changed", phase="retired")

    assert project.phase == "retired"


@pytest.mark.parametrize("before", ["discovery", "alpha", "private_beta", "public_beta"])
def test_retiring_before_live_is_not_a_forward_move(before: str) -> None:
    project = a_project_through(before)

    with refused(project, InvalidValue, field="reason"):
        record(project, "phase_changed", phase="retired")
    assert project.phase == before


@pytest.mark.parametrize("final", ["stopped", "retired"])
@pytest.mark.parametrize("then", ["discovery", "live", "paused", "stopped", "retired"])
def test_stopped_and_retired_are_final(final: str, then: str) -> None:
    project = a_project_through("live", final)

    with refused(project, Conflict):
        record(project, "phase_changed", phase=then, reason="Try again.")
    assert project.phase == final


def test_the_phase_the_project_is_in_cannot_be_entered_again() -> None:
    project = a_project_through("alpha")

    with refused(project, Conflict):
        record(project, "phase_changed", phase="alpha", reason="Still alpha.")


def test_an_unknown_phase_is_refused_naming_the_phase() -> None:
    project = a_project()

    with refused(project, InvalidValue, field="phase"):
        record(project, "phase_changed", phase="gamma")
    with refused(project, InvalidValue, field="phase"):
        record(project, "phase_changed", reason="no phase given")
    assert project.phase is None


def test_the_phase_dates_from_the_day_it_was_decided() -> None:
    project = a_project_through("discovery")

    record(project, "phase_changed", phase="alpha", decided_on=days_ago(10))

    assert project.phase_since == days_ago(10)


def test_moving_past_a_phase_whose_latest_assessment_was_not_met_needs_a_reason() -> None:
    project = a_project_through("discovery", "alpha")
    failed = record(project, "assessment_held", phase="alpha", result="not_met")

    # Straight on, or on after a pause in alpha, past alpha: a reason is asked for
    with refused(project, InvalidValue, field="reason"):
        record(project, "phase_changed", phase="live")
    record(project, "phase_changed", phase="paused", reason="Waiting for a reassessment")
    with refused(project, InvalidValue, field="reason"):
        record(project, "phase_changed", phase="private_beta")
    # Back into alpha needs none; once alpha's result is corrected to met, moving on is free
    record(project, "phase_changed", phase="alpha")
    correction = {"corrects": str(failed), "reason_kind": "recording_error", "reason": "Typo"}
    record(project, "entry_corrected", **correction, replacement={"result": "met"})
    record(project, "phase_changed", phase="private_beta")
    assert project.phase == "private_beta"


def test_a_later_assessment_decides_and_only_a_move_past_its_phase_asks() -> None:
    project = a_project_through("discovery")
    record(project, "assessment_held", phase="alpha", result="met", decided_on=days_ago(1))
    record(project, "assessment_held", phase="alpha", result="not_met", decided_on=days_ago(9))
    record(project, "assessment_held", phase="live", result="not_met", decided_on=days_ago(2))

    # Alpha's latest (by date decided) was met; a move into live does not go past live
    record(project, "phase_changed", phase="public_beta")
    record(project, "phase_changed", phase="live")
    # but retiring does
    with refused(project, InvalidValue, field="reason"):
        record(project, "phase_changed", phase="retired")
    record(project, "phase_changed", phase="retired", reason="Replaced by a shared service")
    assert project.phase == "retired"
