"""Issue 6: sign-in by password and token, throttling, refusing unsafe set-ups, hardening."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.container import Waymark
from services.settings import Settings
from tests.helpers import assert_problem, make_user
from web.app import create_app
from web.cli import app as cli
from web.cli import operator
from web.deps import SESSION_COOKIE


def waymark_of(client: TestClient) -> Waymark:
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    return waymark


def test_a_browser_signs_in_with_a_password_and_writes_with_its_csrf_token(
    client: TestClient,
) -> None:
    waymark = waymark_of(client)
    make_user(waymark, "jo.manager", "admin")
    waymark.credentials.set_password("jo.manager", "correct horse battery staple")
    client.headers.pop("Authorization")

    signed_in = client.post(
        "/auth/sign-in",
        data={"username": "Jo.Manager", "password": "correct horse battery staple"},
    )
    assert signed_in.status_code == 200, signed_in.text
    cookie = signed_in.headers["set-cookie"]
    assert SESSION_COOKIE in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    csrf = signed_in.json()["csrf_token"]
    assert client.get("/api/me").json()["username"] == "jo.manager"

    no_csrf = client.post("/api/programmes", json={"name": "P"})
    assert_problem(no_csrf, 403)
    with_csrf = client.post("/api/programmes", json={"name": "P"}, headers={"X-CSRF-Token": csrf})
    assert with_csrf.status_code == 201, with_csrf.text

    client.post("/auth/sign-out", headers={"X-CSRF-Token": csrf})
    client.cookies.clear()
    assert_problem(client.get("/api/me"), 401)


def test_session_cookies_are_secure_by_default(settings: Settings) -> None:
    secure = settings.model_copy(update={"cookie_secure": True})
    with TestClient(create_app(secure), base_url="https://testserver") as client:
        waymark = waymark_of(client)
        make_user(waymark, "jo", "admin")
        waymark.credentials.set_password("jo", "a long password")
        response = client.post(
            "/auth/sign-in", data={"username": "jo", "password": "a long password"}
        )
        assert "Secure" in response.headers["set-cookie"]
        assert response.headers["strict-transport-security"].startswith("max-age=")


def test_failed_sign_ins_are_throttled(client: TestClient) -> None:
    waymark = waymark_of(client)
    make_user(waymark, "jo", "admin")
    waymark.credentials.set_password("jo", "the real password")
    for _ in range(5):
        wrong = client.post("/auth/sign-in", data={"username": "jo", "password": "guess"})
        assert_problem(wrong, 401)
    throttled = client.post(
        "/auth/sign-in", data={"username": "jo", "password": "the real password"}
    )
    assert_problem(throttled, 429)
    assert throttled.headers["Retry-After"]
    unknown = client.post("/auth/sign-in", data={"username": "nobody", "password": "x"})
    assert unknown.status_code in (401, 429)


def test_revoked_and_expired_tokens_are_refused(client: TestClient) -> None:
    waymark = waymark_of(client)
    token = make_user(waymark, "kim", "reviewer")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=headers).status_code == 200
    waymark.credentials.revoke_tokens("kim")
    assert_problem(client.get("/api/me", headers=headers), 401)
    expired = waymark.credentials.issue_token("kim", days=0)
    assert_problem(client.get("/api/me", headers={"Authorization": f"Bearer {expired}"}), 401)
    assert_problem(client.get("/api/me", headers={"Authorization": "Basic a2ltOng="}), 401)


def test_tokens_are_stored_only_as_digests(client: TestClient) -> None:
    waymark = waymark_of(client)
    token = make_user(waymark, "kim", "reviewer")
    rows = waymark.database.all("SELECT * FROM credential_tokens")
    assert rows and all(token not in str(row) for row in rows)
    waymark.credentials.set_password("kim", "secret password 1")
    stored = waymark.database.all("SELECT hash FROM credential_passwords")
    assert stored[0]["hash"].startswith("$argon2")


def test_outside_demo_mode_the_server_refuses_a_default_secret(settings: Settings) -> None:
    unsafe = settings.model_copy(update={"secret_key": Settings().secret_key})
    with pytest.raises(RuntimeError, match="WAYMARK_SECRET_KEY"):  # noqa: SIM117
        with TestClient(create_app(unsafe)):
            pass


def test_outside_demo_mode_the_server_refuses_demo_credentials(settings: Settings) -> None:
    with TestClient(create_app(settings, demo=True)) as client:
        assert client.get("/healthz").status_code == 200
    with pytest.raises(RuntimeError, match="demo sign-ins"):  # noqa: SIM117
        with TestClient(create_app(settings)):
            pass
    waymark = Waymark(settings)
    try:
        waymark.credentials.revoke_demo()
    finally:
        waymark.close()
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200


def test_demo_mode_creates_a_user_per_role_who_can_sign_in(settings: Settings) -> None:
    with TestClient(create_app(settings, demo=True)) as client:
        for username in ("admin", "manager", "reviewer", "exeter", "devon"):
            response = client.post(
                "/auth/sign-in",
                data={"username": username, "password": f"demo-{username}-password"},
            )
            assert response.status_code == 200, (username, response.text)
            client.cookies.clear()
        roles = {
            u: waymark_of(client).records.get_user(u).grants[0].role
            for u in ("admin", "manager", "reviewer", "exeter", "devon")
        }
    assert roles == {
        "admin": "admin",
        "manager": "programme_manager",
        "reviewer": "reviewer",
        "exeter": "participant",
        "devon": "participant",
    }


def test_security_headers_are_on_every_response(client: TestClient) -> None:
    for path in ("/healthz", "/api/programmes", "/api/nowhere"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers  # plain HTTP here


def test_oversized_bodies_are_refused_with_413(client: TestClient) -> None:
    limit = waymark_of(client).settings.max_body_bytes
    response = client.post(
        "/api/programmes",
        content=b'{"name": "' + b"x" * (limit + 10) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 413)


def test_users_add_prints_a_working_token_and_grants_are_events(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "WAYMARK_DATA_DIR": str(settings.data_dir),
        "WAYMARK_DATABASE_URL": settings.database_url or "",
        "WAYMARK_SECRET_KEY": settings.secret_key.get_secret_value(),
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    added = runner.invoke(cli, ["users", "add", "sam.review", "--role", "reviewer"])
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    refused = runner.invoke(cli, ["users", "add", "sam2", "--role", "programme_manager"])
    assert refused.exit_code == 2
    assert "programme" in refused.output

    granted = runner.invoke(cli, ["users", "grant", "sam.review", "--role", "admin"])
    assert granted.exit_code == 0, granted.output
    revoked = runner.invoke(cli, ["users", "revoke", "sam.review", "--role", "admin"])
    assert revoked.exit_code == 0, revoked.output
    fresh = runner.invoke(cli, ["users", "token", "sam.review"])
    assert fresh.exit_code == 0, fresh.output

    with TestClient(create_app(settings)) as client:
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["grants"] == [
            {"role": "reviewer", "programme_id": None, "council_code": None}
        ]
        other = fresh.output.strip().splitlines()[-1]
        assert (
            client.get("/api/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200
        )
        waymark = waymark_of(client)
        user = waymark.records.get_user("sam.review")
        events = list(waymark.records.repository.event_store.get(user.id))
        assert [type(e).__name__ for e in events] == [
            "Registered",
            "RoleGranted",
            "RoleGranted",
            "RoleRevoked",
        ]
        # Issue 17: the operator is the actor (the operating-system user by default)
        assert {e.actor for e in events} == {operator()}
        assert "command-line" not in {e.actor for e in events}
