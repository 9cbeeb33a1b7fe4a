"""A cohort is formed, councils enrol and withdraw, and once closed it refuses everything."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from domain.cohort import Cohort
from domain.errors import Conflict, InvalidValue
from tests.unit.givens import ACTOR, NOW, days_ago, refused, refused_to_create

EXETER = UUID(int=1)
DEVON = UUID(int=2)


def a_cohort(*enrolled: tuple[str, UUID]) -> Cohort:
    """Given: a cohort formed, with ``enrolled`` councils and their projects."""
    cohort = Cohort.form(
        cohort_id=uuid4(),
        programme_id=uuid4(),
        name="Cohort 1",
        starts_on=days_ago(30),
        ends_on=days_ago(-150),
        actor=ACTOR,
        now=NOW,
    )
    for code, project_id in enrolled:
        cohort.enrol(council_code=code, project_id=project_id, actor=ACTOR, now=NOW)
    return cohort


def test_a_formed_cohort_has_its_programme_and_dates_and_no_councils() -> None:
    programme_id = uuid4()

    cohort = Cohort.form(
        cohort_id=uuid4(),
        programme_id=programme_id,
        name=" Cohort 1 ",
        starts_on=days_ago(30),
        ends_on=days_ago(-150),
        actor=ACTOR,
        now=NOW,
    )

    assert cohort.programme_id == programme_id
    assert cohort.name == "Cohort 1"
    assert (cohort.starts_on, cohort.ends_on) == (days_ago(30), days_ago(-150))
    assert cohort.projects == {}
    assert not cohort.closed


def test_a_cohort_cannot_end_before_it_starts() -> None:
    with refused_to_create(InvalidValue, field="ends_on"):
        Cohort.form(
            cohort_id=uuid4(),
            programme_id=uuid4(),
            name="Cohort 1",
            starts_on=days_ago(30),
            ends_on=days_ago(31),
            actor=ACTOR,
            now=NOW,
        )


def test_a_cohort_may_start_and_end_on_one_day() -> None:
    cohort = Cohort.form(
        cohort_id=uuid4(),
        programme_id=uuid4(),
        name="A day's sprint",
        starts_on=days_ago(1),
        ends_on=days_ago(1),
        actor=ACTOR,
        now=NOW,
    )
    assert cohort.starts_on == cohort.ends_on


def test_a_cohort_is_named() -> None:
    with refused_to_create(InvalidValue, field="name"):
        Cohort.form(
            cohort_id=uuid4(),
            programme_id=uuid4(),
            name="",
            starts_on=days_ago(1),
            ends_on=days_ago(1),
            actor=ACTOR,
            now=NOW,
        )


def test_enrolling_a_council_names_its_project() -> None:
    cohort = a_cohort()

    cohort.enrol(council_code="GB-EXE", project_id=EXETER, actor=ACTOR, now=NOW)

    assert cohort.projects == {"GB-EXE": EXETER}


def test_a_council_enrols_in_a_cohort_once() -> None:
    cohort = a_cohort(("GB-EXE", EXETER))

    with refused(cohort, Conflict):
        cohort.enrol(council_code="GB-EXE", project_id=DEVON, actor=ACTOR, now=NOW)
    assert cohort.projects == {"GB-EXE": EXETER}


def test_an_enrolled_council_starts_more_projects_which_it_leads() -> None:
    cohort = a_cohort(("GB-EXE", EXETER), ("GB-DEV", DEVON))
    parking = UUID(int=3)

    cohort.start_project(council_code="GB-EXE", project_id=parking, actor=ACTOR, now=NOW)

    assert cohort.projects == {"GB-EXE": EXETER, "GB-DEV": DEVON}
    assert cohort.projects_led_by("GB-EXE") == [EXETER, parking]
    assert cohort.projects_led_by("GB-DEV") == [DEVON]


def test_only_an_enrolled_council_in_an_open_cohort_starts_another_project() -> None:
    cohort = a_cohort(("GB-EXE", EXETER), ("GB-DEV", DEVON))

    with refused(cohort, InvalidValue, field="council_code"):
        cohort.start_project(council_code="GB-HCK", project_id=uuid4(), actor=ACTOR, now=NOW)
    with refused(cohort, Conflict):
        cohort.start_project(council_code="GB-EXE", project_id=DEVON, actor=ACTOR, now=NOW)
    cohort.withdraw(council_code="GB-DEV", reason="The sponsor left.", actor=ACTOR, now=NOW)
    with refused(cohort, Conflict):
        cohort.start_project(council_code="GB-DEV", project_id=uuid4(), actor=ACTOR, now=NOW)
    cohort.close(actor=ACTOR, now=NOW)
    with refused(cohort, Conflict):
        cohort.start_project(council_code="GB-EXE", project_id=uuid4(), actor=ACTOR, now=NOW)


def test_a_withdrawn_council_keeps_its_project_in_the_cohort() -> None:
    cohort = a_cohort(("GB-EXE", EXETER), ("GB-DEV", DEVON))

    cohort.withdraw(council_code="GB-EXE", reason="The sponsor left.", actor=ACTOR, now=NOW)

    assert cohort.withdrawn == {"GB-EXE"}
    assert cohort.projects == {"GB-EXE": EXETER, "GB-DEV": DEVON}


def test_withdrawing_needs_a_reason_and_an_enrolled_council() -> None:
    cohort = a_cohort(("GB-EXE", EXETER))

    with refused(cohort, InvalidValue, field="reason"):
        cohort.withdraw(council_code="GB-EXE", reason="  ", actor=ACTOR, now=NOW)
    with refused(cohort, InvalidValue, field="council_code"):
        cohort.withdraw(council_code="GB-DEV", reason="Never here.", actor=ACTOR, now=NOW)


def test_a_council_withdraws_once() -> None:
    cohort = a_cohort(("GB-EXE", EXETER))
    cohort.withdraw(council_code="GB-EXE", reason="The sponsor left.", actor=ACTOR, now=NOW)

    with refused(cohort, Conflict):
        cohort.withdraw(council_code="GB-EXE", reason="Again.", actor=ACTOR, now=NOW)


def test_a_closed_cohort_is_closed() -> None:
    cohort = a_cohort(("GB-EXE", EXETER))

    cohort.close(actor=ACTOR, now=NOW)

    assert cohort.closed


@pytest.mark.parametrize("command", ["enrol", "withdraw", "close"])
def test_a_closed_cohort_refuses_everything(command: str) -> None:
    cohort = a_cohort(("GB-EXE", EXETER))
    cohort.close(actor=ACTOR, now=NOW)

    with refused(cohort, Conflict):
        if command == "enrol":
            cohort.enrol(council_code="GB-DEV", project_id=DEVON, actor=ACTOR, now=NOW)
        elif command == "withdraw":
            cohort.withdraw(council_code="GB-EXE", reason="Late.", actor=ACTOR, now=NOW)
        else:
            cohort.close(actor=ACTOR, now=NOW)
    assert cohort.projects == {"GB-EXE": EXETER}
    assert cohort.withdrawn == set()
