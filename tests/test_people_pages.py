"""Issue 17, point 2: people and roles from the pages, and each person's own account.

An admin adds people, gives and removes roles (each through "Check your
answers", recorded with the admin as the actor), issues API tokens shown once,
revokes them and ends sessions; everyone signed in changes their password and
revokes their own tokens. The command line names its operator as the actor.
"""

from __future__ import annotations

import getpass
import hashlib
import re
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from domain.user import User
from services.container import Waymark, opened
from services.rebuilding import rebuild_read_models
from services.settings import Settings
from tests.helpers import make_user
from web.cli import app as cli

PASSWORD = "correct horse battery staple"


def _waymark(client: TestClient) -> Waymark:
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    return waymark


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def _error_summary(html: str) -> list[str]:
    summary = html.split('class="govuk-error-summary', 1)[-1].split("</ul>", 1)[0]
    return re.findall(r'<a href="#[^"]*">([^<]*)</a>', summary)


def _actors(waymark: Waymark, username: str) -> list[tuple[str, str]]:
    events = waymark.records.repository.event_store.get(User.create_id(username))
    return [(type(e).__name__, e.actor) for e in events]


def _programme(waymark: Waymark, name: str = "Local Digital") -> UUID:
    return waymark.records.launch_programme(
        name=name, description="", sponsor_body="", actor="test"
    ).id


def _browser(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """A browser of its own, signed in with a password; its CSRF token rides on it."""
    browser = TestClient(client.app)
    signed_in = browser.post("/auth/sign-in", data={"username": username, "password": password})
    assert signed_in.status_code == 200, signed_in.text
    browser.csrf = signed_in.json()["csrf_token"]  # type: ignore[attr-defined]
    return browser


def test_an_admin_adds_a_person_after_checking_the_answers_and_is_named_as_the_actor(
    client: TestClient,
) -> None:
    # Given an admin (pm.jones) and a programme
    waymark = _waymark(client)
    programme = _programme(waymark)
    # When they fill in the form
    form = {
        "username": "Jo.Smith",
        "display_name": "Jo Smith",
        "role": "programme_manager",
        "programme": str(programme),
        "password": PASSWORD,
    }
    check = client.post("/people/new/person", data=form)
    # Then they see their answers, with the programme by name, and nothing is recorded yet
    assert check.status_code == 200, check.text
    assert "Check the person" in check.text
    assert "Programme manager of Local Digital" in check.text
    assert 'href="/people/new/person?username=Jo.Smith&amp;display_name=Jo%20Smith' in check.text
    assert not waymark.records.exists(User.create_id("jo.smith"))
    # When they confirm
    added = client.post(
        "/people/new/confirmation", data=_hidden(check.text), follow_redirects=False
    )
    # Then the person is recorded with the role, both with the admin as the actor
    assert added.status_code == 303
    assert added.headers["location"].startswith("/people/jo.smith?done=added&position=")
    assert _actors(waymark, "jo.smith") == [
        ("Registered", "pm.jones"),
        ("RoleGranted", "pm.jones"),
    ]
    page = client.get(added.headers["location"])
    assert "Person added" in page.text and "Programme manager of Local Digital" in page.text
    people = client.get("/people").text
    assert "Jo Smith" in people and "Programme manager of Local Digital" in people
    # And the person signs in with the password the admin set
    assert _browser(client, "jo.smith").get("/api/me").json()["grants"] == [
        {"role": "programme_manager", "programme_id": str(programme), "council_code": None}
    ]


@pytest.mark.parametrize(
    ("form", "messages"),
    [
        ({"username": ""}, ["Enter a username"]),
        (
            {"username": "Not a name!"},
            ["Username must be 2 to 100 lower-case letters, digits or . _ @ + -"],
        ),
        ({"username": "pm.smith"}, ["pm.smith already has an account"]),
        ({"username": "kim", "role": "programme_manager"}, ["Select a programme"]),
        ({"username": "kim", "role": "participant"}, ["Select a council"]),
        ({"username": "kim", "role": "participant", "council": "GB-NONE"}, None),
        ({"username": "kim", "role": "overlord"}, ["Select a role"]),
        ({"username": "kim", "password": "short"}, None),
        ({"username": "kim", "password": "password1234"}, None),
    ],
)
def test_a_wrong_answer_is_shown_in_an_error_summary_and_nothing_is_recorded(
    client: TestClient, form: dict[str, str], messages: list[str] | None
) -> None:
    for action in ("/people/new/person", "/people/new/confirmation"):
        response = client.post(action, data=form)
        assert response.status_code == 400, response.text
        found = _error_summary(response.text)
        assert found, response.text
        if messages is not None:
            assert found == messages
        assert 'name="password" type="password" value' not in response.text
    assert not _waymark(client).records.exists(User.create_id("kim"))


def test_roles_are_given_and_removed_through_check_your_answers_with_the_admin_as_actor(
    client: TestClient,
) -> None:
    # Given a participant of Exeter
    waymark = _waymark(client)
    records = waymark.records
    records.register_council(
        code="GB-EXE",
        name="Exeter City Council",
        council_type="district",
        region="south_west",
        population=None,
        gss_code=None,
        political_control=None,
        actor="test",
    )
    records.register_user(username="kim", display_name="Kim Lee", actor="test")
    # When an admin gives Kim the reviewer's role and Exeter's, checking each first
    for role, council in (("reviewer", ""), ("participant", "GB-EXE")):
        check = client.post("/people/kim/roles/new", data={"role": role, "council": council})
        assert check.status_code == 200, check.text
        assert "Check the role before it is given" in check.text
        given = client.post(
            "/people/kim/roles/confirmation", data=_hidden(check.text), follow_redirects=False
        )
        assert given.status_code == 303, given.text
    page = client.get(given.headers["location"]).text
    assert "Role given" in page
    assert "Participant of Exeter City Council" in page and "Reviewer" in page
    # When the admin removes the reviewer's role, after checking
    removal = client.get("/people/kim/roles/removal", params={"grant": "kim/reviewer//"})
    assert "Check the role before it is removed" in removal.text
    removed = client.post(
        "/people/kim/roles/removal", data=_hidden(removal.text), follow_redirects=False
    )
    assert removed.status_code == 303
    # Then every grant and revocation names the admin
    assert _actors(waymark, "kim") == [
        ("Registered", "test"),
        ("RoleGranted", "pm.jones"),
        ("RoleGranted", "pm.jones"),
        ("RoleRevoked", "pm.jones"),
    ]
    assert [g.role for g in records.get_user("kim").grants] == ["participant"]
    # And a role held already is refused with a message, nothing recorded
    again = client.post(
        "/people/kim/roles/confirmation", data={"role": "participant", "council": "GB-EXE"}
    )
    assert again.status_code == 400
    assert _error_summary(again.text) == ["Kim is already participant of GB-EXE"]
    assert len(_actors(waymark, "kim")) == 4
    # And a role Kim does not hold cannot be removed
    assert (
        client.get("/people/kim/roles/removal", params={"grant": "kim/admin//"}).status_code == 404
    )


def test_a_token_is_shown_once_listed_without_its_secret_and_revoked(client: TestClient) -> None:
    waymark = _waymark(client)
    make_user(waymark, "kim", "reviewer")
    # When an admin issues Kim a token
    issued = client.post("/people/kim/tokens/new", data={"label": "The ministry's witness"})
    assert issued.status_code == 200
    assert "It will not be shown again" in issued.text
    [token] = re.findall(r'id="token">([^<]*)<', issued.text)
    # Then it works, and Kim's page lists it by its label, never its secret
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page = client.get("/people/kim").text
    assert "The ministry&#39;s witness" in page and token not in page
    # When the admin revokes it
    token_id = hashlib.sha256(token.encode()).hexdigest()[:16]
    revoked = client.post(f"/people/kim/tokens/{token_id}/revocation", follow_redirects=False)
    assert revoked.status_code == 303
    # Then it is refused, and Kim's other token still works
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "API token revoked" in client.get(revoked.headers["location"]).text
    assert waymark.credentials.token_user(waymark.credentials.issue_token("kim")) == "kim"
    # And an empty label is a field error
    empty = client.post("/people/kim/tokens/new", data={"label": " "})
    assert empty.status_code == 400
    assert _error_summary(empty.text) == ["Enter what the token is for"]


def test_an_admin_ends_a_persons_sessions_and_revokes_every_token(client: TestClient) -> None:
    waymark = _waymark(client)
    token = make_user(waymark, "kim", "reviewer")
    waymark.credentials.set_password("kim", PASSWORD)
    browser = _browser(client, "kim")
    ended = client.post("/people/kim/sessions/end", follow_redirects=False)
    assert ended.status_code == 303
    assert browser.get("/api/me").status_code == 401
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    browser = _browser(client, "kim")
    assert client.post("/people/kim/tokens/revocation").status_code == 200
    assert browser.get("/api/me").status_code == 401
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_person_changes_their_password_and_other_sessions_end(client: TestClient) -> None:
    # Given Kim signed in in two browsers
    waymark = _waymark(client)
    make_user(waymark, "kim", "reviewer")
    waymark.credentials.set_password("kim", PASSWORD)
    here, elsewhere = _browser(client, "kim"), _browser(client, "kim")
    csrf = here.csrf  # type: ignore[attr-defined]
    new = "three random words"

    def change(current: str, new_password: str, confirm: str) -> list[str]:
        response = here.post(
            "/account/password",
            data={
                "csrf_token": csrf,
                "current_password": current,
                "new_password": new_password,
                "confirm_password": confirm,
            },
        )
        assert response.status_code == 400, response.text
        return _error_summary(response.text)

    # When the answers are wrong, each is named
    assert change("", "", "") == ["Enter your current password", "Enter a new password"]
    assert change(PASSWORD, new, "other words here") == ["The passwords you entered do not match"]
    assert change("not it at all", new, new) == ["Your current password is not right"]
    assert change(PASSWORD, "password1234", "password1234") == [
        "New password is one of the passwords used most often: choose another"
    ]
    # When they are right
    changed = here.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": new,
            "confirm_password": new,
        },
        follow_redirects=False,
    )
    # Then the password is changed, this browser stays signed in and the other is not
    assert changed.status_code == 303 and changed.headers["location"] == "/account?done=password"
    assert "Password changed" in here.get(changed.headers["location"]).text
    assert elsewhere.get("/api/me").status_code == 401
    assert waymark.credentials.check_password("kim", new)
    assert not waymark.credentials.check_password("kim", PASSWORD)


def test_a_person_sees_and_revokes_only_their_own_tokens(client: TestClient) -> None:
    waymark = _waymark(client)
    make_user(waymark, "kim", "reviewer")
    waymark.credentials.set_password("kim", PASSWORD)
    kims = waymark.credentials.issue_token("kim", label="Kim's laptop")
    theirs = waymark.credentials.issue_token("pm.smith", label="Smith's script")
    browser = _browser(client, "kim")
    page = browser.get("/account").text
    assert "Kim&#39;s laptop" in page and "Smith&#39;s script" not in page and kims not in page

    def revoke(token: str) -> int:
        token_id = hashlib.sha256(token.encode()).hexdigest()[:16]
        return browser.post(
            f"/account/tokens/{token_id}/revocation",
            data={"csrf_token": browser.csrf},  # type: ignore[attr-defined]
            follow_redirects=False,
        ).status_code

    assert revoke(theirs) == 404
    assert waymark.credentials.token_user(theirs) == "pm.smith"
    assert revoke(kims) == 303
    assert waymark.credentials.token_user(kims) is None
    assert "API token revoked" in browser.get("/account?done=token-revoked").text
    # And a form without the session's CSRF token is refused
    other = waymark.credentials.issue_token("kim", label="Another")
    other_id = hashlib.sha256(other.encode()).hexdigest()[:16]
    assert browser.post(f"/account/tokens/{other_id}/revocation").status_code == 403
    assert waymark.credentials.token_user(other) == "kim"


def test_people_and_your_account_are_in_the_navigation_as_they_may_be_used(
    client: TestClient,
) -> None:
    waymark = _waymark(client)
    reviewer = make_user(waymark, "kim", "reviewer")
    admin_page = client.get("/account").text
    assert 'href="/people"' in admin_page and 'href="/account"' in admin_page
    reviewer_page = client.get("/account", headers={"Authorization": f"Bearer {reviewer}"}).text
    assert 'href="/people"' not in reviewer_page and 'href="/account"' in reviewer_page


def test_an_unknown_or_malformed_username_is_not_found(client: TestClient) -> None:
    assert client.get("/people/nobody.here").status_code == 404
    assert client.get("/people/NOT%20A%20NAME!").status_code == 404


def test_the_people_read_model_rebuilds_to_what_it_caught_up_to(
    waymark: Waymark, settings: Settings
) -> None:
    # Given a person given two roles, one of them removed
    programme = _programme(waymark)
    make_user(waymark, "kim", "programme_manager", programme_id=str(programme))
    make_user(waymark, "kim", "reviewer")
    waymark.records.revoke_role(username="kim", role="reviewer", actor="test")
    waymark.projector.catch_up()
    before = waymark.people.everyone()
    # When the read model is rebuilt from the log
    rebuild_read_models(settings, ["people"])
    # Then it holds what it caught up to: Kim manages the programme, by its name
    assert waymark.people.everyone() == before
    [kim] = before
    assert [(g["role"], g["programme_name"], g["granted_by"]) for g in kim["grants"]] == [
        ("programme_manager", "Local Digital", "test")
    ]


# -- the command line names its operator -------------------------------------------------


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in {
        "WAYMARK_DATA_DIR": str(settings.data_dir),
        "WAYMARK_DATABASE_URL": settings.database_url or "",
        "WAYMARK_SECRET_KEY": settings.secret_key.get_secret_value(),
    }.items():
        monkeypatch.setenv(name, value)
    return settings


def test_the_command_line_records_its_operator_as_the_actor(cli_env: Settings) -> None:
    runner = CliRunner()
    for args in (
        ["users", "add", "kim", "--role", "reviewer"],
        ["users", "grant", "kim", "--role", "admin", "--actor", "ops.jane"],
        ["users", "revoke", "kim", "--role", "admin", "--actor", "ops.jane"],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    refused = runner.invoke(cli, ["users", "grant", "kim", "--role", "admin", "--actor", " "])
    assert refused.exit_code == 2 and "--actor" in refused.output
    with opened(cli_env) as waymark:
        assert _actors(waymark, "kim") == [
            ("Registered", getpass.getuser()),
            ("RoleGranted", getpass.getuser()),
            ("RoleGranted", "ops.jane"),
            ("RoleRevoked", "ops.jane"),
        ]
