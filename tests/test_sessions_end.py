"""Issue 16, point 5: browser sessions end when access ends.

Revoking a role (by the command line or through the record), a user's tokens,
or the demo sign-ins ends their browser sessions at once; `waymark users
end-sessions NAME` ends them on its own; and a store that still holds demo
sessions is refused outside demo mode, as one with demo passwords or tokens is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.container import Waymark
from services.settings import Settings
from tests.helpers import assert_problem, make_user
from web.app import create_app
from web.cli import app as cli

PASSWORD = "a long enough password"


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The command line works on the same store as the test's server."""
    for name, value in {
        "WAYMARK_DATA_DIR": str(settings.data_dir),
        "WAYMARK_DATABASE_URL": settings.database_url or "",
        "WAYMARK_SECRET_KEY": settings.secret_key.get_secret_value(),
    }.items():
        monkeypatch.setenv(name, value)
    return settings


@pytest.fixture
def server(cli_env: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(cli_env)) as client:
        yield client


def _waymark(client: TestClient) -> Waymark:
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    return waymark


def _browser(server: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """A browser of its own, signed in with a password."""
    browser = TestClient(server.app)
    signed_in = browser.post("/auth/sign-in", data={"username": username, "password": password})
    assert signed_in.status_code == 200, signed_in.text
    assert browser.get("/api/me").status_code == 200
    return browser


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _revoke_role_by_cli(waymark: Waymark) -> None:
    _cli("users", "revoke", "kim", "--role", "reviewer")


def _revoke_role_in_the_record(waymark: Waymark) -> None:
    waymark.records.revoke_role(username="kim", role="reviewer", actor="test")


def _revoke_tokens_by_cli(waymark: Waymark) -> None:
    assert "ended 2 browser sessions" in _cli("users", "revoke-tokens", "kim")


def _end_sessions_by_cli(waymark: Waymark) -> None:
    assert "Ended 2 sessions" in _cli("users", "end-sessions", "kim")


@pytest.mark.parametrize(
    "revoke",
    [
        _revoke_role_by_cli,
        _revoke_role_in_the_record,
        _revoke_tokens_by_cli,
        _end_sessions_by_cli,
    ],
)
def test_a_users_sessions_end_at_once_when_their_access_is_revoked(
    server: TestClient, revoke: Callable[[Waymark], None]
) -> None:
    # Given kim (a reviewer and an admin) signed in in two browsers, and jo signed in too
    waymark = _waymark(server)
    make_user(waymark, "kim", "reviewer")
    make_user(waymark, "kim", "admin")
    make_user(waymark, "jo", "admin")
    waymark.credentials.set_password("kim", PASSWORD)
    waymark.credentials.set_password("jo", PASSWORD)
    kims = [_browser(server, "kim"), _browser(server, "kim")]
    jos = _browser(server, "jo")

    # When kim's access is revoked
    revoke(waymark)

    # Then both of kim's browsers are signed out at once (kim's other role included);
    # jo's is not
    for browser in kims:
        assert_problem(browser.get("/api/me"), 401)
    assert jos.get("/api/me").status_code == 200
    # And kim can sign in again, where kim still has a role and a password
    assert _browser(server, "kim").get("/api/me").json()["username"] == "kim"


def test_end_sessions_of_an_unknown_user_ends_none(cli_env: Settings) -> None:
    assert "Ended 0 sessions" in _cli("users", "end-sessions", "nobody")


def test_revoking_the_demo_sign_ins_ends_demo_sessions(settings: Settings) -> None:
    with TestClient(create_app(settings, demo=True)) as server:
        waymark = _waymark(server)
        make_user(waymark, "jo", "admin")
        waymark.credentials.set_password("jo", PASSWORD)
        demo = _browser(server, "admin", "demo-admin-password")
        real = _browser(server, "jo")
        waymark.credentials.revoke_demo()
        assert_problem(demo.get("/api/me"), 401)
        assert real.get("/api/me").status_code == 200
        assert not waymark.credentials.has_demo_credentials()


def test_a_store_with_demo_sessions_left_is_refused_outside_demo_mode(settings: Settings) -> None:
    # Given a demo sign-in in a browser, whose password and tokens are then removed by
    # hand (as a revoke-demo of an earlier version did, leaving sessions)
    with TestClient(create_app(settings, demo=True)) as server:
        demo = _browser(server, "manager", "demo-manager-password")
        database = _waymark(server).database
        with database.transaction() as tx:
            tx.execute("DELETE FROM credential_passwords WHERE demo = 1")
            tx.execute("UPDATE credential_tokens SET revoked_at = 'then' WHERE demo = 1")
        assert demo.get("/api/me").status_code == 200
    # Then the store is refused outside demo mode, naming the demo sign-ins
    with pytest.raises(RuntimeError, match="demo sign-ins"):  # noqa: SIM117
        with TestClient(create_app(settings)):
            pass
    # Until they are revoked
    waymark = Waymark(settings)
    try:
        waymark.credentials.revoke_demo()
    finally:
        waymark.close()
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
