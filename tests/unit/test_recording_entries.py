"""Recording entries on a project: what any entry needs, and the record's own rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.errors import Conflict, InvalidValue
from domain.project import Project
from tests.unit.givens import ACTOR, NOW, TODAY, a_project, days_ago, record, refused


def test_a_started_project_names_its_cohort_council_and_title() -> None:
    project = a_project(council_code="GB-EXE")

    assert project.id == Project.create_id(project.cohort_id, "GB-EXE")
    assert project.council_code == "GB-EXE"
    assert project.title == "Missed bins"
    assert project.entries == {}
    assert project.phase is None


def test_an_entry_keeps_both_its_dates_and_who_recorded_it() -> None:
    project = a_project()

    entry_id = record(project, "sponsor_check_in", team_health="amber", decided_on=days_ago(2))

    entry = project.entries[entry_id]
    assert entry.kind == "sponsor_check_in"
    assert entry.decided_on == days_ago(2)
    assert entry.recorded_at == NOW
    assert entry.actor == ACTOR
    assert entry.fields["team_health"] == "amber"


def test_an_entry_without_a_decision_day_was_decided_today() -> None:
    project = a_project()

    entry_id = record(project, "sponsor_check_in", team_health="green")

    assert project.entries[entry_id].decided_on == TODAY


def test_a_decision_cannot_be_dated_after_today() -> None:
    project = a_project()

    with refused(project, InvalidValue, field="decided_on"):
        record(project, "sponsor_check_in", team_health="green", decided_on=TODAY + timedelta(1))


def test_an_unknown_kind_of_entry_is_refused_naming_the_kind() -> None:
    project = a_project()

    with refused(project, InvalidValue, field="kind"):
        record(project, "lunch_ordered", statement="Sandwiches")


def test_an_entry_id_is_recorded_once() -> None:
    project = a_project()
    entry_id = record(project, "sponsor_check_in", team_health="green")

    with refused(project, Conflict):
        project.record(
            kind="sponsor_check_in",
            entry_id=entry_id,
            decided_on=None,
            actor=ACTOR,
            now=NOW,
            values={"team_health": "red"},
        )
    assert project.entries[entry_id].fields["team_health"] == "green"


def test_a_withdrawn_project_records_nothing_more() -> None:
    project = a_project()
    project.withdraw(reason="The sponsor left.", actor=ACTOR, now=NOW)

    with refused(project, Conflict):
        record(project, "sponsor_check_in", team_health="green")
    assert project.withdrawn


def test_a_project_withdraws_once_and_says_why() -> None:
    project = a_project()

    with refused(project, InvalidValue, field="reason"):
        project.withdraw(reason="  ", actor=ACTOR, now=NOW)
    project.withdraw(reason="The sponsor left.", actor=ACTOR, now=NOW)
    with refused(project, Conflict):
        project.withdraw(reason="Again.", actor=ACTOR, now=NOW)


def test_problem_statements_are_numbered_in_the_order_they_were_recorded() -> None:
    project = a_project()

    for text in ("One.", "Two.", "Three."):
        record(project, "problem_statement_iterated", statement=text)

    assert [e.statement_version for e in project.statements()] == [1, 2, 3]
    assert project.statement_text(2) == "Two."


def test_two_problem_statements_are_compared_line_by_line() -> None:
    project = a_project()
    for text in (
        "Residents phone about missed bins.",
        "Residents cannot find out when their bin is collected.\nThey phone instead.",
        "Residents cannot find out when their bin is collected.\nThey give up.",
    ):
        record(project, "problem_statement_iterated", statement=text)

    assert project.statement_diff(2, 3) == [
        "--- version 2",
        "+++ version 3",
        "@@ -1,2 +1,2 @@",
        " Residents cannot find out when their bin is collected.",
        "-They phone instead.",
        "+They give up.",
    ]


def test_a_problem_statement_version_that_does_not_exist_is_named() -> None:
    project = a_project()
    record(project, "problem_statement_iterated", statement="One.")

    with pytest.raises(InvalidValue) as missing:
        project.statement_diff(1, 9)
    assert missing.value.field == "to"


def test_a_raised_concern_is_open_until_resolved() -> None:
    project = a_project()
    concern = record(project, "concern_raised", category="privacy", description="Data sharing.")
    assert project.open_concerns() == [concern]

    record(project, "concern_resolved", concern_entry_id=concern, resolution="DPIA signed off.")

    assert project.open_concerns() == []


def test_a_concern_is_resolved_once() -> None:
    project = a_project()
    concern = record(project, "concern_raised", category="privacy", description="Data sharing.")
    record(project, "concern_resolved", concern_entry_id=concern, resolution="DPIA signed off.")

    with refused(project, Conflict):
        record(project, "concern_resolved", concern_entry_id=concern, resolution="Again.")


def test_only_a_raised_concern_can_be_resolved() -> None:
    project = a_project()
    check_in = record(project, "sponsor_check_in", team_health="green")

    with refused(project, InvalidValue, field="concern_entry_id"):
        record(project, "concern_resolved", concern_entry_id=check_in, resolution="x")


def test_a_concern_of_another_project_cannot_be_resolved_here() -> None:
    theirs = a_project(council_code="GB-DEV")
    concern = record(theirs, "concern_raised", category="privacy", description="Data sharing.")
    ours = a_project()

    with refused(ours, InvalidValue, field="concern_entry_id"):
        record(ours, "concern_resolved", concern_entry_id=concern, resolution="x")
    assert theirs.open_concerns() == [concern]


def test_every_kind_of_entry_is_recorded_with_its_required_values() -> None:
    project = a_project()
    concern = record(project, "concern_raised", category="skills", description="No designers.")
    decision = record(project, "capacity_decided", capability="Forms", choice="buy")

    required: list[tuple[str, dict[str, Any]]] = [
        ("problem_statement_iterated", {"statement": "Residents give up."}),
        ("sponsor_check_in", {"team_health": "red"}),
        ("case_for_change", {"narrative_fit": "Fits the council plan."}),
        ("capacity_built", {"area": "skills", "what_was_done": "Trained two analysts."}),
        ("way_of_working_chosen", {"project_method": "agile"}),
        ("stance_taken", {"topic": "open_data", "position": "Publish by default."}),
        ("phase_changed", {"phase": "discovery"}),
        ("members_engaged", {"how": "A briefing."}),
        ("support_requested", {"wish": "A user researcher.", "from_whom": "lga"}),
        ("concern_resolved", {"concern_entry_id": concern, "resolution": "Hired."}),
        (
            "entry_corrected",
            {
                "corrects": decision,
                "reason_kind": "clarification",
                "reason": "Name the partner.",
                "replacement": {"partner": "Teignbridge"},
            },
        ),
    ]

    for kind, values in required:
        entry_id = record(project, kind, **values)
        assert project.entries[entry_id].kind == kind

    kinds = {entry.kind for entry in project.entries.values()}
    assert kinds == {"concern_raised", "capacity_decided", *(kind for kind, _ in required)}
