"""Issue 17, point 2, in a real browser: an admin adds people and gives them roles from the
pages; they sign in with the password given; the audit log names the admin; a person
changes their password and revokes a token. Every page passes axe and fits 320 px."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import pytest
from playwright.sync_api import Browser, Page, expect

from domain.user import User
from tests.browser.conftest import DESKTOP, Site, Visit, look

pytestmark = pytest.mark.browser

Open = Callable[..., Visit]
PASSWORD = "plum kettle orbit"
NEW_PASSWORD = "lantern cedar violin"


def _add_person(
    visit: Visit,
    username: str,
    name: str,
    role: str,
    password: str,
    *,
    programme: str | None = None,
    shoot: bool = False,
) -> None:
    page = visit.goto("/people")
    if shoot:
        look(visit, f"people-{username}")
    page.get_by_role("button", name="Add a person").click()
    if shoot:
        look(visit, "person-form")
        page.get_by_role("button", name="Continue").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a username")
        look(visit, "person-form-with-errors")
    page.fill("#username", username)
    page.fill("#display_name", name)
    page.get_by_label(role, exact=True).check()
    if programme is not None:
        page.select_option("#programme", label=programme)
    page.fill("#password", password)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the person's details")
    if shoot:
        look(visit, "person-check-answers")
    page.get_by_role("button", name="Add person").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Person added")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    if shoot:
        look(visit, "person-added")


def _sign_in(browser: Browser, site: Site, username: str, password: str) -> Visit:
    context = browser.new_context(base_url=site.url, viewport={"width": DESKTOP, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/sign-in")
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.url}/")
    return Visit(page, problems)


def test_an_admin_adds_a_manager_and_a_reviewer_who_sign_in_and_the_audit_names_the_admin(
    site: Site, open_as: Open, browser: Browser
) -> None:
    programme = site.waymark.queries.programme(UUID(site.programme))["name"]
    admin = open_as("admin")
    _add_person(
        admin,
        "pat.manager",
        "Pat Manager",
        "Programme manager",
        PASSWORD,
        programme=programme,
        shoot=True,
    )
    _add_person(admin, "rio.reviewer", "Rio Reviewer", "Reviewer", PASSWORD)
    page = admin.goto("/people")
    row = page.get_by_role("row").filter(has_text="Pat Manager")
    expect(row).to_contain_text(f"Programme manager of {programme}")
    expect(page.get_by_role("row").filter(has_text="Rio Reviewer")).to_contain_text("Reviewer")

    # The manager signs in with the password the admin gave, and manages the programme
    manager = _sign_in(browser, site, "pat.manager", PASSWORD)
    expect(manager.page.get_by_role("link", name="People")).to_have_count(0)
    manager.goto(f"/programmes/{site.programme}")
    expect(manager.page.get_by_role("heading", level=1)).to_have_text(programme)
    manager.page.context.close()

    # The audit log names the admin as the actor of every change to Pat's account
    reviewer = _sign_in(browser, site, "rio.reviewer", PASSWORD)
    audit = reviewer.goto(f"/audit?aggregate={User.create_id('pat.manager')}")
    rows = audit.locator("table tbody tr")
    expect(rows).to_have_count(2)
    for index in range(2):
        expect(rows.nth(index).locator("td").nth(1)).to_have_text("admin")
    expect(audit.get_by_role("cell", name="Role granted")).to_have_count(1)
    reviewer.page.context.close()


def test_an_admin_gives_and_removes_a_role_and_issues_a_token_shown_once(
    site: Site, open_as: Open
) -> None:
    admin = open_as("admin")
    page = admin.goto("/people/reviewer")
    page.get_by_role("button", name="Give a role").click()
    look(admin, "role-form")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select a role")
    look(admin, "role-form-with-errors")
    page.get_by_label("Participant", exact=True).check()
    page.select_option("#council", value="GB-EXE")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Give role")).to_be_visible()
    look(admin, "role-check-answers")
    page.get_by_role("button", name="Give role").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Role given")
    look(admin, "person-with-roles")
    page.get_by_role("link", name="Remove the role Participant of Exeter").click()
    expect(page.get_by_role("button", name="Remove role")).to_be_visible()
    look(admin, "role-removal")
    page.get_by_role("button", name="Remove role").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Role removed")

    page.get_by_role("button", name="Issue an API token").click()
    look(admin, "token-form")
    page.fill("#label", "Nightly export")
    page.get_by_role("button", name="Issue token").click()
    expect(page.locator(".govuk-warning-text")).to_contain_text("will not be shown again")
    token = page.locator("#token").inner_text().strip()
    assert token.startswith("wm_")
    look(admin, "token-issued")
    page = admin.goto("/people/reviewer")
    expect(page.get_by_role("cell", name="Nightly export", exact=True)).to_have_count(1)
    assert token not in page.content()
    page.get_by_role("button", name="End sessions").click()
    look(admin, "end-sessions")


def test_a_person_changes_their_password_and_revokes_a_token(
    site: Site, open_as: Open, browser: Browser
) -> None:
    admin = open_as("admin")
    _add_person(admin, "sam.changes", "Sam Changes", "Reviewer", PASSWORD)
    site.waymark.credentials.issue_token("sam.changes", label="Old laptop")
    sam = _sign_in(browser, site, "sam.changes", PASSWORD)
    page: Page = sam.page
    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("cell", name="Old laptop", exact=True)).to_have_count(1)
    look(sam, "your-account")

    page.get_by_role("link", name="Change your password").click()
    look(sam, "password-form")
    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", "password1234")
    page.fill("#confirm_password", "password1234")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "New password is one of the passwords used most often"
    )
    look(sam, "password-with-errors")
    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm_password", NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Password changed")

    page.get_by_role("button", name="Revoke the token Old laptop").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("API token revoked")
    expect(page.get_by_role("cell", name="Old laptop", exact=True)).to_have_count(1)
    expect(page.get_by_role("button", name="Revoke the token Old laptop")).to_have_count(0)
    assert not sam.problems, sam.problems
    sam.page.context.close()
    _sign_in(browser, site, "sam.changes", NEW_PASSWORD).page.context.close()


def test_adding_a_person_works_without_javascript(site: Site, open_as: Open) -> None:
    admin = open_as("admin", js=False)
    page = admin.goto("/people/new/person")
    page.fill("#username", "nojs.person")
    page.get_by_label("Participant", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select a council")
    page.select_option("#council", value="GB-EXE")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the person's details")
    page.get_by_role("button", name="Add person").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Person added")
    expect(
        page.get_by_role("cell", name="Participant of Exeter City Council", exact=True)
    ).to_have_count(1)
