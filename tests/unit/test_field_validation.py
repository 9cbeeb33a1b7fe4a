"""Field rules, through the commands that use them: each refusal names the field at fault,
and a value that passes is kept in one exact form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain.council import Council
from domain.errors import InvalidValue
from domain.project import Project
from tests.unit.givens import (
    ACTOR,
    NOW,
    a_project,
    correct,
    record,
    refused,
    refused_to_create,
)


def a_decision(project: Project, **values: Any) -> UUID:
    """Record a capacity decision with ``values`` over a valid minimum."""
    return record(project, "capacity_decided", **{"capability": "Forms", "choice": "buy", **values})


def a_council(**values: Any) -> Council:
    given: dict[str, Any] = {
        "code": "GB-EXE",
        "name": "Exeter",
        "council_type": "district",
        "region": "south_west",
        "population": 130_000,
        "gss_code": "E07000041",
        "political_control": "Labour",
    }
    return Council.register(**{**given, **values}, actor=ACTOR, now=NOW)


# -- text ---------------------------------------------------------------------


def test_text_is_kept_without_surrounding_white_space() -> None:
    project = a_project()

    entry_id = record(project, "problem_statement_iterated", statement="  Residents give up.\n")

    assert project.entries[entry_id].fields["statement"] == "Residents give up."


def test_required_text_must_say_something() -> None:
    project = a_project()

    with refused(project, InvalidValue, field="statement"):
        record(project, "problem_statement_iterated", statement=" \n\t ")
    with refused(project, InvalidValue, field="statement"):
        record(project, "problem_statement_iterated")


def test_text_must_be_text() -> None:
    project = a_project()

    for value in (42, ["a"], {"a": 1}, True):
        with refused(project, InvalidValue, field="statement"):
            record(project, "problem_statement_iterated", statement=value)


def test_optional_text_left_out_is_kept_as_empty_text() -> None:
    project = a_project()

    entry_id = record(project, "problem_statement_iterated", statement="x")

    assert project.entries[entry_id].fields["why"] == ""


def test_text_is_at_most_its_limit() -> None:
    project = a_project()

    a_decision(project, capability="c" * 500)
    with refused(project, InvalidValue, field="capability"):
        a_decision(project, capability="c" * 501)
    record(project, "problem_statement_iterated", statement="s" * 20_000)
    with refused(project, InvalidValue, field="statement"):
        record(project, "problem_statement_iterated", statement="s" * 20_001)


def test_a_project_title_is_at_most_300_characters() -> None:
    with refused_to_create(InvalidValue, field="title"):
        Project.start(
            cohort_id=UUID(int=1), council_code="X", title="t" * 301, actor=ACTOR, now=NOW
        )
    project = Project.start(
        cohort_id=UUID(int=1), council_code="X", title="t" * 300, actor=ACTOR, now=NOW
    )
    assert len(project.title) == 300


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x0b", "\x1b", "\x7f"])
def test_text_with_control_characters_is_refused(control: str) -> None:
    project = a_project()

    with refused(project, InvalidValue, field="statement"):
        record(project, "problem_statement_iterated", statement=f"Bins{control}collected")


def test_tabs_and_line_breaks_are_not_control_characters_here() -> None:
    project = a_project()

    entry_id = record(project, "problem_statement_iterated", statement="One\tTwo\r\nThree\nFour")

    assert project.entries[entry_id].fields["statement"] == "One\tTwo\r\nThree\nFour"


# -- choice -------------------------------------------------------------------


def test_a_choice_is_one_of_its_values() -> None:
    project = a_project()

    with refused(project, InvalidValue, field="choice"):
        a_decision(project, choice="rent")
    with refused(project, InvalidValue, field="choice"):
        a_decision(project, choice="BUY")
    entry_id = a_decision(project, choice="experiment")
    assert project.entries[entry_id].fields["choice"] == "experiment"


def test_a_refused_choice_lists_the_allowed_values() -> None:
    project = a_project()

    with pytest.raises(InvalidValue) as refusal:
        a_decision(project, choice="rent")
    assert refusal.value.message == "must be one of: make, buy, share, experiment"


def test_an_optional_choice_left_out_is_kept_as_empty_text() -> None:
    project = a_project()

    entry_id = record(project, "sponsor_check_in", team_health="green")

    assert project.entries[entry_id].fields["need_segmentation"] == ""


# -- names --------------------------------------------------------------------


def test_names_are_kept_trimmed_and_without_blanks() -> None:
    project = a_project()

    entry_id = a_decision(project, decision_makers=[" Chief Executive ", "", "  ", "Leader"])

    assert project.entries[entry_id].fields["decision_makers"] == ["Chief Executive", "Leader"]


def test_names_left_out_are_kept_as_an_empty_list() -> None:
    project = a_project()

    entry_id = a_decision(project)

    assert project.entries[entry_id].fields["decision_makers"] == []


@pytest.mark.parametrize("value", ["Chief Executive", [1, 2], ["ok", None], {"a": "b"}])
def test_names_are_a_list_of_texts(value: Any) -> None:
    project = a_project()

    with refused(project, InvalidValue, field="decision_makers"):
        a_decision(project, decision_makers=value)


def test_names_are_at_most_a_hundred_of_at_most_500_characters() -> None:
    project = a_project()

    a_decision(project, consulted=[f"person {n}" for n in range(100)])
    with refused(project, InvalidValue, field="consulted"):
        a_decision(project, consulted=[f"person {n}" for n in range(101)])
    a_decision(project, consulted=["n" * 500])
    with refused(project, InvalidValue, field="consulted"):
        a_decision(project, consulted=["n" * 501])


def test_names_with_control_characters_are_refused() -> None:
    project = a_project()

    with refused(project, InvalidValue, field="informed"):
        a_decision(project, informed=["Leader\x00"])


# -- money --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("1250.00", Decimal("1250.00")),
        ("1000.5", Decimal("1000.5")),
        (" 0.01 ", Decimal("0.01")),
        ("0", Decimal("0")),
        (1250, Decimal("1250")),
        ("999999999999.99", Decimal("999999999999.99")),
    ],
)
def test_money_is_kept_exact_in_pounds_and_pence(given: Any, kept: Decimal) -> None:
    project = a_project()

    entry_id = a_decision(project, estimated_cost=given)

    cost = project.entries[entry_id].fields["estimated_cost"]
    assert cost == kept
    assert isinstance(cost, Decimal)
    assert str(cost) == str(kept)


@pytest.mark.parametrize(
    "given",
    [
        "10.005",  # below a penny
        "0.001",
        "-1",  # negative
        "-0.01",
        "1e12",  # a trillion pounds or more
        "1000000000000.00",
        "NaN",
        "Infinity",
        "-Infinity",
        "twelve pounds",
        "",
        10.5,  # a float cannot hold pence exactly
        True,
    ],
)
def test_money_below_pence_negative_huge_or_inexact_is_refused(given: Any) -> None:
    project = a_project()

    with refused(project, InvalidValue, field="estimated_cost"):
        a_decision(project, estimated_cost=given)


def test_money_left_out_is_no_amount() -> None:
    project = a_project()

    entry_id = a_decision(project)

    assert project.entries[entry_id].fields["estimated_cost"] is None


# -- whole numbers ------------------------------------------------------------


@pytest.mark.parametrize("population", ["130000", 1.5, True, -1, 100_000_001])
def test_a_population_is_a_whole_number_from_0_to_100_million(population: Any) -> None:
    with refused_to_create(InvalidValue, field="population"):
        a_council(population=population)


def test_a_population_may_be_unknown_zero_or_100_million() -> None:
    assert a_council(population=None).population is None
    assert a_council(population=0).population == 0
    assert a_council(population=100_000_000).population == 100_000_000


# -- references and days --------------------------------------------------------


@pytest.mark.parametrize("given", ["not-a-uuid", "", 12])
def test_a_reference_to_an_entry_is_an_entry_id(given: Any) -> None:
    project = a_project()

    with refused(project, InvalidValue, field="concern_entry_id"):
        record(project, "concern_resolved", concern_entry_id=given, resolution="x")


def test_a_reference_may_be_given_as_text() -> None:
    project = a_project()
    concern = record(project, "concern_raised", category="privacy", description="Sharing.")

    resolution = record(
        project, "concern_resolved", concern_entry_id=str(concern), resolution="Signed off."
    )

    assert project.entries[resolution].fields["concern_entry_id"] == concern


def test_a_day_may_be_given_as_an_iso_date() -> None:
    project = a_project()
    decision = a_decision(project)

    correction = correct(project, decision, decided_on="2026-02-01")

    assert project.entries[correction].effective["decided_on"] == date(2026, 2, 1)


@pytest.mark.parametrize("given", ["2026-02-30", "01/02/2026", "soon", 2026])
def test_a_day_that_is_not_an_iso_date_is_refused(given: Any) -> None:
    project = a_project()
    decision = a_decision(project)

    with refused(project, InvalidValue, field="replacement.decided_on"):
        correct(project, decision, decided_on=given)


# -- the fields of a kind ------------------------------------------------------


def test_a_value_that_is_not_a_field_of_the_kind_is_refused_naming_it() -> None:
    project = a_project()

    with refused(project, InvalidValue, field="mood"):
        record(project, "sponsor_check_in", team_health="green", mood="cheerful")


def test_a_missing_required_value_is_refused_naming_it() -> None:
    project = a_project()

    with refused(project, InvalidValue, field="capability"):
        record(project, "capacity_decided", choice="buy")
