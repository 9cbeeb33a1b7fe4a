"""Issue 21 in a real browser on the demo: the cohort's sessions and the journey that
records one (with check your answers), who came on the comparison and the council page,
the programme's support page, and a project's answered wish; every page passes axe."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, Visit, look

pytestmark = pytest.mark.browser

Open = Callable[..., Visit]


def test_a_manager_records_a_session_and_reads_sessions_and_support(
    site: Site, open_as: Open
) -> None:
    visit = open_as("manager")
    page = visit.goto(f"/cohorts/{site.cohort}")
    expect(page.locator("main")).to_contain_text("Digital leadership for cabinet members")
    look(visit, "cohort-sessions")

    # The journey: errors first, in the Design System's summary
    page.get_by_role("button", name="Record a session").click()
    expect(page.locator("h1")).to_have_text("Record a session")
    page.fill("#attendance", "GB-EXE and some people")
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Who came, line 1, must be a council code")
    expect(summary).to_contain_text("What kind of session was it?")
    look(visit, "session-form-errors")

    page.get_by_label("Show and tell").check()
    page.fill("#held_on-day", "2")
    page.fill("#held_on-month", "3")
    page.fill("#held_on-year", "2026")
    page.fill("#topic", "Repairs hub in public beta")
    page.fill("#run_by", "Hackney")
    page.fill("#attendance", "GB-HCK, officer, 3\nGB-DEV, head of service, 1")
    page.fill("#links", "Slides | https://example.org/show")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Check the session before you record it")
    look(visit, "session-check-answers")
    page.get_by_role("button", name="Record session").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Session recorded")
    page.get_by_role("link", name="See the cohort’s sessions").click()
    expect(page.locator("main")).to_contain_text("Repairs hub in public beta")
    expect(page.get_by_role("link", name="Slides")).to_have_attribute(
        "href", "https://example.org/show"
    )

    # The comparison counts who came, by role; the council page lists its sessions
    page = visit.goto(f"/cohorts/{site.cohort}/compare")
    attendance = page.get_by_role("region", name="Attendance by council")
    expect(attendance).to_contain_text("Cabinet member: 2")
    # a council's row once, though Exeter leads two projects
    councils = attendance.locator("tbody th").all_inner_texts()
    assert councils == sorted(set(councils)) and "Exeter City Council" in councils
    look(visit, "compare-attendance")
    page = visit.goto("/councils/GB-HCK")
    expect(page.locator("main")).to_contain_text("Repairs hub in public beta")
    look(visit, "council-sessions")

    # The programme's support page, and the answered wish on the project
    page = visit.goto(f"/programmes/{site.programme}")
    page.get_by_role("link", name="Support asked for").click()
    expect(page.locator("h1")).to_have_text("Support asked for")
    expect(page.locator("main")).to_contain_text("From LocalGov Digital")
    expect(page.locator("caption", has_text="Offered")).to_be_visible()
    look(visit, "programme-support")
    page = visit.goto(f"/projects/{site.projects['GB-HCK']}#support")
    expect(page.locator("#support ~ .govuk-summary-card").first).to_contain_text("Offered")
    look(visit, "project-support")
