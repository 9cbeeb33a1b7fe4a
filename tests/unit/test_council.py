"""A council: its profile over time, GSS codes, assessments and succession."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.council import Council
from domain.errors import Conflict, InvalidValue
from tests.unit.givens import ACTOR, NOW, TODAY, days_ago, refused, refused_to_create

MEANINGS = [
    "working_in_the_open",
    "agile_methods",
    "collaborative_tools",
    "user_centred_design",
    "new_technology",
]


def a_council(**values: Any) -> Council:
    """Given: a council registered with ``values`` over a valid profile."""
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


def levels(value: int = 3, **overrides: int) -> dict[str, int]:
    return {**dict.fromkeys(MEANINGS, value), **overrides}


# -- registering ----------------------------------------------------------------


def test_a_council_code_is_kept_in_capitals_and_fixes_its_id() -> None:
    council = a_council(code=" gb-exe ")

    assert council.code == "GB-EXE"
    assert council.id == Council.create_id("gb-exe") == Council.create_id("GB-EXE")


@pytest.mark.parametrize("code", ["", " ", "-EXE", "GB EXE", "GB/EXE", "x" * 65, None])
def test_a_council_code_is_letters_digits_dots_dashes_or_underscores(code: Any) -> None:
    with refused_to_create(InvalidValue, field="code"):
        a_council(code=code)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "n" * 301),
        ("council_type", "parish"),
        ("region", "atlantis"),
        ("gss_code", "E" * 21),
        ("political_control", "p" * 201),
    ],
)
def test_a_council_profile_follows_its_rules(field: str, value: Any) -> None:
    with refused_to_create(InvalidValue, field=field):
        a_council(**{field: value})


def test_a_council_registered_without_a_gss_code_has_none_in_its_history() -> None:
    council = a_council(gss_code=None)

    assert council.gss_code == ""
    assert council.gss_codes == []


# -- the profile -------------------------------------------------------------------


def test_a_profile_update_records_only_what_changed() -> None:
    council = a_council()
    version = council.version

    council.update_profile(
        changes={"name": "Exeter", "population": 131_000, "suppliers": ["Civica"]},
        actor=ACTOR,
        now=NOW,
    )

    assert council.version == version + 1
    assert council.population == 131_000
    assert council.suppliers == ["Civica"]
    assert council.name == "Exeter"


def test_a_profile_update_that_changes_nothing_records_nothing() -> None:
    council = a_council()
    version = council.version

    council.update_profile(
        changes={"name": " Exeter ", "region": "south_west"}, actor=ACTOR, now=NOW
    )

    assert council.version == version


def test_a_profile_update_names_a_field_it_cannot_change() -> None:
    council = a_council()

    with refused(council, InvalidValue, field="gss_code"):
        council.update_profile(changes={"gss_code": "E06000099"}, actor=ACTOR, now=NOW)
    with refused(council, InvalidValue, field="code"):
        council.update_profile(changes={"code": "GB-DEV"}, actor=ACTOR, now=NOW)
    with refused(council, InvalidValue, field="population"):
        council.update_profile(changes={"population": -5}, actor=ACTOR, now=NOW)


# -- GSS codes ---------------------------------------------------------------------


def test_a_gss_code_change_keeps_the_earlier_code_in_the_history() -> None:
    council = a_council()

    council.change_gss_code(gss_code="E06000099", effective_from=days_ago(10), actor=ACTOR, now=NOW)

    assert council.gss_code == "E06000099"
    assert [(c.code, c.effective_from) for c in council.gss_codes] == [
        ("E07000041", None),
        ("E06000099", days_ago(10)),
    ]


def test_a_gss_code_change_must_change_the_code() -> None:
    council = a_council()

    with refused(council, Conflict):
        council.change_gss_code(
            gss_code="E07000041", effective_from=days_ago(1), actor=ACTOR, now=NOW
        )


def test_a_gss_code_change_is_not_dated_after_today_and_names_a_code() -> None:
    council = a_council()

    with refused(council, InvalidValue, field="effective_from"):
        council.change_gss_code(
            gss_code="E06000099", effective_from=TODAY + timedelta(1), actor=ACTOR, now=NOW
        )
    with refused(council, InvalidValue, field="gss_code"):
        council.change_gss_code(gss_code=" ", effective_from=days_ago(1), actor=ACTOR, now=NOW)


# -- assessments -------------------------------------------------------------------


def test_the_latest_financial_context_is_the_latest_assessed_not_the_latest_recorded() -> None:
    council = a_council()
    for day, demand in ((days_ago(5), "high"), (days_ago(50), "low")):
        council.assess_financial_context(
            assessed_on=day,
            demand_pressure=demand,
            financial_pressure="high",
            note=None,
            actor=ACTOR,
            now=NOW,
        )

    latest = council.latest_financial_context
    assert latest is not None
    assert (latest.assessed_on, latest.demand_pressure) == (days_ago(5), "high")
    assert len(council.financial_contexts) == 2


def test_a_council_not_yet_assessed_has_no_latest_assessment() -> None:
    council = a_council()

    assert council.latest_financial_context is None
    assert council.latest_maturity is None


@pytest.mark.parametrize(
    ("field", "given"),
    [
        ("demand_pressure", {"demand_pressure": "extreme"}),
        ("financial_pressure", {"financial_pressure": ""}),
        ("assessed_on", {"assessed_on": TODAY + timedelta(1)}),
    ],
)
def test_a_financial_context_is_pressures_low_medium_or_high_on_a_past_day(
    field: str, given: dict[str, Any]
) -> None:
    council = a_council()
    assessment = {
        "assessed_on": days_ago(1),
        "demand_pressure": "high",
        "financial_pressure": "medium",
        "note": None,
        **given,
    }

    with refused(council, InvalidValue, field=field):
        council.assess_financial_context(**assessment, actor=ACTOR, now=NOW)


def test_maturity_is_assessed_for_each_meaning_of_digital_from_1_to_5() -> None:
    council = a_council()

    council.assess_maturity(
        assessed_on=days_ago(3),
        levels=levels(1, new_technology=5),
        note="Baseline",
        actor=ACTOR,
        now=NOW,
    )

    latest = council.latest_maturity
    assert latest is not None
    assert latest.levels == levels(1, new_technology=5)
    assert latest.note == "Baseline"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        (levels(3, agile_methods=0), "levels.agile_methods"),
        (levels(3, agile_methods=6), "levels.agile_methods"),
        ({m: 3 for m in MEANINGS if m != "new_technology"}, "levels.new_technology"),
        ({**levels(3), "vibes": 4}, "levels.vibes"),
    ],
)
def test_maturity_levels_outside_1_to_5_or_missing_a_meaning_are_refused(
    given: dict[str, int], field: str
) -> None:
    council = a_council()

    with refused(council, InvalidValue, field=field):
        council.assess_maturity(
            assessed_on=days_ago(1), levels=given, note=None, actor=ACTOR, now=NOW
        )


def test_the_declaration_is_signed_once() -> None:
    council = a_council()
    council.sign_declaration(signed_on=days_ago(3), actor=ACTOR, now=NOW)

    with refused(council, Conflict):
        council.sign_declaration(signed_on=days_ago(1), actor=ACTOR, now=NOW)
    assert council.declaration_signed_on == days_ago(3)


def test_the_declaration_is_not_signed_after_today() -> None:
    council = a_council()

    with refused(council, InvalidValue, field="signed_on"):
        council.sign_declaration(signed_on=TODAY + timedelta(1), actor=ACTOR, now=NOW)


# -- succession ----------------------------------------------------------------------


def test_a_reorganised_council_names_its_successors_and_keeps_its_history() -> None:
    council = a_council(code="GB-DEV", name="Devon", council_type="county")
    council.assess_financial_context(
        assessed_on=days_ago(90),
        demand_pressure="high",
        financial_pressure="high",
        note=None,
        actor=ACTOR,
        now=NOW,
    )

    council.be_succeeded_by(
        successor_codes=["gb-ndv", " GB-SDV "], effective_from=days_ago(1), actor=ACTOR, now=NOW
    )

    assert council.successor_codes == ["GB-NDV", "GB-SDV"]
    assert council.succeeded_on == days_ago(1)
    assert len(council.financial_contexts) == 1


def test_a_council_is_succeeded_once() -> None:
    council = a_council()
    council.be_succeeded_by(
        successor_codes=["GB-NEW"], effective_from=days_ago(1), actor=ACTOR, now=NOW
    )

    with refused(council, Conflict):
        council.be_succeeded_by(
            successor_codes=["GB-OTHER"], effective_from=days_ago(1), actor=ACTOR, now=NOW
        )


def test_a_council_cannot_succeed_itself() -> None:
    council = a_council()

    with refused(council, InvalidValue, field="successor_codes"):
        council.be_succeeded_by(
            successor_codes=["GB-NEW", "gb-exe"], effective_from=days_ago(1), actor=ACTOR, now=NOW
        )


def test_a_succession_names_at_least_one_valid_successor() -> None:
    council = a_council()

    with refused(council, InvalidValue, field="successor_codes"):
        council.be_succeeded_by(
            successor_codes=[], effective_from=days_ago(1), actor=ACTOR, now=NOW
        )
    with refused(council, InvalidValue):
        council.be_succeeded_by(
            successor_codes=["GB NEW"], effective_from=days_ago(1), actor=ACTOR, now=NOW
        )
    not_a_day: Any = "soon"
    with refused(council, InvalidValue, field="effective_from"):
        council.be_succeeded_by(
            successor_codes=["GB-NEW"], effective_from=not_a_day, actor=ACTOR, now=NOW
        )
