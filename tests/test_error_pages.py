"""Issue 17 point 6: pages answer 404, 403, 413 and 500 with GOV.UK error pages, not JSON;
the API keeps answering with problem+json."""

from __future__ import annotations

from uuid import uuid4

from fastapi import Request
from fastapi.testclient import TestClient

from tests.helpers import assert_problem, cohort, council, make_user, programme, project
from tests.test_pages import waymark_of
from web.pages.routing import PageRoute

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def is_page(response: object, status: int, heading: str) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]
    text: str = response.text  # type: ignore[attr-defined]
    assert f'<h1 class="govuk-heading-l">{heading}</h1>' in text
    assert "govuk-template" in text
    return text


def test_an_unknown_address_or_id_is_a_page_not_found(client: TestClient) -> None:
    project_id = project(client, cohort(client, programme(client)), council(client, "GB-E", "E"))
    for path in (
        "/no-such-page",
        "/projects/not-an-id",
        "/projects/not-an-id/entries/new",
        f"/projects/{uuid4()}",
        f"/projects/{project_id}/entries/new/no_such_kind",
        f"/projects/{project_id}/entries/{uuid4()}/correction",
        "/cohorts/12345",
    ):
        text = is_page(client.get(path, headers=BROWSER), 404, "Page not found")
        assert "check it is correct" in text, path
    # The API, and clients that do not ask for HTML, keep problem+json
    assert_problem(client.get("/api/no-such-thing", headers=BROWSER), 404)
    assert_problem(client.get("/no-such-page"), 404)
    assert_problem(client.get(f"/api/projects/{uuid4()}", headers=BROWSER), 404)


def test_a_page_one_may_not_see_says_why_and_whom_to_ask(client: TestClient) -> None:
    waymark = waymark_of(client)
    project_id = project(client, cohort(client, programme(client)), council(client, "GB-E", "E"))
    token = make_user(waymark, "rev", "reviewer")
    as_reviewer = {**BROWSER, "Authorization": f"Bearer {token}"}
    text = is_page(
        client.get(f"/projects/{project_id}/entries/new", headers=as_reviewer),
        403,
        "You cannot see this page",
    )
    assert "Your account (rev) does not have a role that allows it (rev may not" in text
    assert "programme manager" in text and "admin" in text
    posted = client.post(
        f"/projects/{project_id}/entries/new/sponsor_check_in/check",
        data={"team_health": "red"},
        headers=as_reviewer,
    )
    is_page(posted, 403, "You cannot do this")
    # The API says the same as problem+json
    refused = client.post(
        f"/api/projects/{project_id}/entries",
        json={"kind": "sponsor_check_in", "team_health": "red"},
        headers=as_reviewer,
    )
    assert_problem(refused, 403)


def test_a_form_too_large_to_send_gets_a_page_that_explains_the_limit(client: TestClient) -> None:
    project_id = project(client, cohort(client, programme(client)), council(client, "GB-E", "E"))
    form = f"/projects/{project_id}/entries/new/members_engaged"
    limit = waymark_of(client).settings.max_body_bytes
    answer = {"how": "x" * (limit + 1)}
    text = is_page(
        client.post(
            f"{form}/check",
            data=answer,
            headers={**BROWSER, "Referer": f"http://testserver{form}"},
        ),
        413,
        "Your answers are too long to send",
    )
    assert "Nothing was recorded" in text
    assert "back button" in text and "keeps what you typed" in text
    assert f'<a href="{form}" class="govuk-back-link">Back</a>' in text
    # An API client gets problem+json
    api = client.post(
        f"/api/projects/{project_id}/entries",
        content=b"x" * (limit + 1),
        headers={**BROWSER, "Content-Type": "application/json"},
    )
    assert_problem(api, 413)


def test_a_bug_behind_a_page_is_a_sorry_page_and_is_logged(
    client: TestClient, caplog: object
) -> None:
    # Given a page route (added by the test) that fails as a bug would
    app = client.app

    def broken(request: Request) -> None:
        raise RuntimeError("a bug")

    app.router.routes.append(  # type: ignore[attr-defined]
        PageRoute("/broken-page", broken, include_in_schema=False)
    )
    app.router.routes.append(  # type: ignore[attr-defined]
        PageRoute("/api/broken", broken, include_in_schema=False)
    )
    quiet = TestClient(app, raise_server_exceptions=False)
    quiet.headers.update(client.headers)

    # Then a browser gets the GOV.UK page, an API client problem+json, and the error is logged
    text = is_page(
        quiet.get("/broken-page", headers=BROWSER),
        500,
        "Sorry, there is a problem with the service",
    )
    assert "a bug" not in text and "Traceback" not in text
    assert_problem(quiet.get("/api/broken", headers=BROWSER), 500)
    logged = [r for r in caplog.records if r.name == "waymark.errors"]  # type: ignore[attr-defined]
    assert logged and logged[0].exc_info is not None
    assert "a bug" in str(logged[0].exc_info[1])


def test_a_malformed_id_is_not_found_even_for_one_who_may_see_little(client: TestClient) -> None:
    waymark = waymark_of(client)
    council(client, "GB-E", "E")
    token = make_user(waymark, "part", "participant", council_code="GB-E")
    for path in ("/projects/not-an-id", "/cohorts/12/compare", "/projects/x/entries/new"):
        response = client.get(path, headers={**BROWSER, "Authorization": f"Bearer {token}"})
        is_page(response, 404, "Page not found")
