"""Issue 5: pages sign in with the API's session and guard every form with its CSRF token."""

from __future__ import annotations

import re
from uuid import UUID

from fastapi.testclient import TestClient

from services.container import Waymark
from tests.helpers import cohort, council, entry, make_user, programme, project
from web.deps import SESSION_COOKIE


def waymark_of(client: TestClient) -> Waymark:
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    return waymark


def csrf_field(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def test_a_form_without_the_sessions_csrf_token_records_nothing(client: TestClient) -> None:
    # Given a manager signed in through the sign-in page, with a project to record on
    project_id = UUID(
        project(client, cohort(client, programme(client)), council(client, "GB-EXE", "E"))
    )
    waymark = waymark_of(client)
    make_user(waymark, "jo", "admin")
    waymark.credentials.set_password("jo", "a long enough password")
    client.headers.pop("Authorization")
    signed_in = client.post(
        "/sign-in",
        data={"username": "jo", "password": "a long enough password", "next": "/councils"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/councils"
    cookie = signed_in.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    form = client.get(f"/projects/{project_id}/entries/new/sponsor_check_in")
    token = csrf_field(form.text)
    path = f"/projects/{project_id}/entries/new/sponsor_check_in"
    before = waymark.records.get_project(project_id).version

    # When the form comes without its token, or with another one
    missing = client.post(path, data={"team_health": "red"}, follow_redirects=False)
    forged = client.post(
        path, data={"team_health": "red", "csrf_token": "0" * 64}, follow_redirects=False
    )

    # Then nothing is recorded; with the token, the entry is
    assert missing.status_code == forged.status_code == 403
    assert waymark.records.get_project(project_id).version == before
    recorded = client.post(
        path, data={"team_health": "red", "csrf_token": token}, follow_redirects=False
    )
    assert recorded.status_code == 303, recorded.text
    assert waymark.records.get_project(project_id).version == before + 1


def test_signing_out_ends_the_session(client: TestClient) -> None:
    waymark = waymark_of(client)
    make_user(waymark, "kim", "reviewer")
    waymark.credentials.set_password("kim", "another long password")
    client.headers.pop("Authorization")
    client.post("/sign-in", data={"username": "kim", "password": "another long password"})
    home = client.get("/")
    assert home.status_code == 200 and "Signed in as" in home.text

    refused = client.post("/sign-out", data={}, follow_redirects=False)
    assert refused.status_code == 403  # a signed-in session's form carries its token
    out = client.post(
        "/sign-out", data={"csrf_token": csrf_field(home.text)}, follow_redirects=False
    )
    assert out.status_code == 303 and out.headers["location"] == "/sign-in?signed_out=true"
    client.cookies.clear()  # the browser drops the cookie the response deleted
    again = client.get("/", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/sign-in?next=%2F"


def test_a_wrong_password_is_told_on_the_sign_in_page(client: TestClient) -> None:
    waymark = waymark_of(client)
    make_user(waymark, "kim", "reviewer")
    waymark.credentials.set_password("kim", "the right password")
    client.headers.pop("Authorization")
    wrong = client.post("/sign-in", data={"username": "kim", "password": "a guess"})
    assert wrong.status_code == 401
    assert "The username or password is not right" in wrong.text
    assert 'value="kim"' in wrong.text  # what was typed stays
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")


def test_html_and_script_in_entries_are_shown_as_text_not_run(client: TestClient) -> None:
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    cohort_id = cohort(client, programme(client, name=hostile))
    project_id = project(client, cohort_id, council(client, "GB-EXE", hostile))
    entry(client, project_id, {"kind": "members_engaged", "how": hostile})
    for path in ("/", f"/cohorts/{cohort_id}", f"/projects/{project_id}", "/councils/GB-EXE"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert "<script>alert" not in page.text, path
        assert "<img src=x onerror" not in page.text, path
        assert "&lt;script&gt;alert(" in page.text, path
