"""Users and their grants: each role has its own scope, and grants are given and taken once."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.errors import Conflict, InvalidValue
from domain.user import Grant, User
from tests.unit.givens import ACTOR, NOW, refused, refused_to_create

PROGRAMME = UUID(int=7)


def a_user(*grants: Grant) -> User:
    user = User.register(username="pm.smith", display_name="Pat Smith", actor=ACTOR, now=NOW)
    for grant in grants:
        user.grant(grant, actor=ACTOR, now=NOW)
    return user


def test_a_username_is_kept_in_lower_case_and_fixes_the_id() -> None:
    user = User.register(username=" PM.Smith ", display_name=None, actor=ACTOR, now=NOW)

    assert user.username == "pm.smith"
    assert user.display_name == "pm.smith"
    assert user.id == User.create_id("pm.smith")
    assert user.grants == []


@pytest.mark.parametrize("username", ["", "a", "pm smith", ".pm", "pm/smith", "x" * 101, None])
def test_a_username_is_2_to_100_plain_characters(username: Any) -> None:
    with refused_to_create(InvalidValue, field="username"):
        User.register(username=username, display_name=None, actor=ACTOR, now=NOW)


@pytest.mark.parametrize(
    "grant",
    [
        Grant("admin"),
        Grant("reviewer"),
        Grant("programme_manager", programme_id=PROGRAMME),
        Grant("participant", council_code="GB-EXE"),
    ],
)
def test_each_role_is_granted_with_its_own_scope(grant: Grant) -> None:
    user = a_user()

    user.grant(grant, actor=ACTOR, now=NOW)

    assert user.grants == [grant]


@pytest.mark.parametrize(
    ("grant", "field"),
    [
        (Grant("superuser"), "role"),
        (Grant("programme_manager"), "programme"),
        (Grant("participant"), "council"),
        (Grant("participant", council_code=""), "council"),
        (Grant("admin", programme_id=PROGRAMME), "role"),
        (Grant("reviewer", council_code="GB-EXE"), "role"),
    ],
)
def test_a_grant_outside_its_roles_scope_is_refused(grant: Grant, field: str) -> None:
    user = a_user()

    with refused(user, InvalidValue, field=field):
        user.grant(grant, actor=ACTOR, now=NOW)


def test_a_grant_is_given_once() -> None:
    user = a_user(Grant("participant", council_code="GB-EXE"))

    with refused(user, Conflict):
        user.grant(Grant("participant", council_code="GB-EXE"), actor=ACTOR, now=NOW)


def test_a_user_holds_several_grants_of_one_role_for_different_scopes() -> None:
    other = uuid4()

    user = a_user(
        Grant("programme_manager", programme_id=PROGRAMME),
        Grant("programme_manager", programme_id=other),
    )

    assert user.grants == [
        Grant("programme_manager", programme_id=PROGRAMME),
        Grant("programme_manager", programme_id=other),
    ]


def test_revoking_a_grant_leaves_the_others() -> None:
    user = a_user(Grant("reviewer"), Grant("participant", council_code="GB-EXE"))

    user.revoke(Grant("reviewer"), actor=ACTOR, now=NOW)

    assert user.grants == [Grant("participant", council_code="GB-EXE")]


def test_only_a_grant_held_can_be_revoked() -> None:
    user = a_user(Grant("participant", council_code="GB-EXE"))

    with refused(user, Conflict):
        user.revoke(Grant("participant", council_code="GB-DEV"), actor=ACTOR, now=NOW)
    with refused(user, Conflict):
        user.revoke(Grant("admin"), actor=ACTOR, now=NOW)


def test_a_revoked_grant_can_be_given_again() -> None:
    user = a_user(Grant("reviewer"))
    user.revoke(Grant("reviewer"), actor=ACTOR, now=NOW)

    user.grant(Grant("reviewer"), actor=ACTOR, now=NOW)

    assert user.grants == [Grant("reviewer")]


# -- where the weekly digest goes, and whether it is wanted (issue 21) -----------------------


def test_an_email_address_is_recorded_once_and_kept_as_given() -> None:
    user = a_user()
    user.record_email(" Jo.Smith@council.gov.uk ", actor=ACTOR, now=NOW)
    user.record_email("Jo.Smith@council.gov.uk", actor=ACTOR, now=NOW)

    assert user.email == "Jo.Smith@council.gov.uk"
    assert [type(e).__name__ for e in user.collect_events()][-1:] == ["EmailRecorded"]


@pytest.mark.parametrize(
    "email",
    ["", "jo", "jo@", "@council.gov.uk", "jo@council", "jo smith@x.uk", "jo@@x.uk", "jo..s@x.uk",
     "jo@x.uk\nBcc: all@x.uk", None],
)  # fmt: skip
def test_an_email_address_must_be_one_mail_can_be_sent_to(email: Any) -> None:
    user = a_user()
    with refused(user, InvalidValue, field="email"):
        user.record_email(email, actor=ACTOR, now=NOW)


def test_the_digest_follows_the_roles_until_chosen_and_a_choice_is_recorded_when_it_changes() -> (
    None
):
    user = a_user()
    assert user.digest_wanted is None
    user.choose_digest(False, actor=ACTOR, now=NOW)
    user.choose_digest(False, actor=ACTOR, now=NOW)
    user.choose_digest(True, actor=ACTOR, now=NOW)

    assert user.digest_wanted is True
    chosen = [e for e in user.collect_events() if isinstance(e, User.DigestChosen)]
    assert [e.wanted for e in chosen] == [False, True]
