"""Financial-context segments: the talk's default mapping, and a programme's own."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidValue
from domain.programme import Programme
from domain.segments import check_mapping, default_mapping, segment_for
from tests.unit.givens import ACTOR, NOW, refused, refused_to_create

PAIRS = [f"{d}/{f}" for d in ("low", "medium", "high") for f in ("low", "medium", "high")]


def a_programme() -> Programme:
    return Programme.launch(
        programme_id=uuid4(),
        name="Local Digital Accelerator",
        description="Senior leaders",
        sponsor_body="MHCLG",
        actor=ACTOR,
        now=NOW,
    )


def everyone_a(segment: str) -> dict[str, str]:
    return dict.fromkeys(PAIRS, segment)


@pytest.mark.parametrize(
    ("demand", "financial", "segment"),
    [
        ("high", "high", "besieged"),
        ("high", "medium", "future_innovators"),
        ("high", "low", "future_innovators"),
        ("medium", "high", "cost_innovators"),
        ("medium", "medium", "fast_followers"),
        ("medium", "low", "fast_followers"),
        ("low", "high", "cost_innovators"),
        ("low", "medium", "fast_followers"),
        ("low", "low", "high_potential"),
    ],
)
def test_the_default_mapping_reads_the_talks_figure(
    demand: str, financial: str, segment: str
) -> None:
    assert segment_for(demand, financial) == segment


def test_the_default_mapping_gives_every_pressure_pair_a_segment() -> None:
    assert sorted(default_mapping()) == sorted(PAIRS)
    assert check_mapping(default_mapping()) == default_mapping()


def test_a_given_mapping_decides_the_segment() -> None:
    mapping = {**default_mapping(), "high/high": "fast_followers"}

    assert segment_for("high", "high", mapping) == "fast_followers"
    assert segment_for("low", "low", mapping) == "high_potential"


def test_a_mapping_must_give_every_pair_a_segment() -> None:
    incomplete = default_mapping()
    del incomplete["medium/high"]

    with pytest.raises(InvalidValue) as refusal:
        check_mapping(incomplete)
    assert refusal.value.field == "segment_mapping"
    assert "missing medium/high" in refusal.value.message


def test_a_mapping_may_not_name_pairs_that_do_not_exist() -> None:
    with pytest.raises(InvalidValue) as refusal:
        check_mapping({**default_mapping(), "extreme/high": "besieged"})
    assert refusal.value.field == "segment_mapping"
    assert "unknown extreme/high" in refusal.value.message


def test_a_mapping_names_only_the_talks_segments() -> None:
    with pytest.raises(InvalidValue) as refusal:
        check_mapping({**default_mapping(), "low/low": "thriving"})
    assert refusal.value.field == "segment_mapping.low/low"


def test_a_new_programme_maps_by_the_default() -> None:
    programme = a_programme()

    assert programme.segment_mapping == default_mapping()


def test_a_programme_configures_its_own_mapping() -> None:
    programme = a_programme()

    programme.configure_segments(mapping=everyone_a("besieged"), actor=ACTOR, now=NOW)

    assert programme.segment_mapping == everyone_a("besieged")
    assert segment_for("low", "low", programme.segment_mapping) == "besieged"


def test_configuring_the_mapping_a_programme_already_has_records_nothing() -> None:
    programme = a_programme()
    version = programme.version

    programme.configure_segments(mapping=default_mapping(), actor=ACTOR, now=NOW)

    assert programme.version == version


def test_a_programme_refuses_an_incomplete_or_unknown_mapping() -> None:
    programme = a_programme()

    with refused(programme, InvalidValue, field="segment_mapping"):
        programme.configure_segments(mapping={"high/high": "besieged"}, actor=ACTOR, now=NOW)
    with refused(programme, InvalidValue, field="segment_mapping.high/low"):
        programme.configure_segments(
            mapping={**default_mapping(), "high/low": "rich"}, actor=ACTOR, now=NOW
        )
    assert programme.segment_mapping == default_mapping()


def test_a_programme_is_named_and_renamed_only_when_the_name_changes() -> None:
    with refused_to_create(InvalidValue, field="name"):
        Programme.launch(
            programme_id=uuid4(),
            name=" ",
            description=None,
            sponsor_body=None,
            actor=ACTOR,
            now=NOW,
        )
    programme = a_programme()
    version = programme.version

    programme.rename(name=" Local Digital Accelerator ", actor=ACTOR, now=NOW)
    assert programme.version == version
    programme.rename(name="Digital Accelerator", actor=ACTOR, now=NOW)
    assert programme.name == "Digital Accelerator"
    assert programme.version == version + 1
