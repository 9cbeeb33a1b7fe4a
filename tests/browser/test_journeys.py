"""Issue 5: programme managers, reviewers and participants use the pages in a real browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest
from playwright.sync_api import expect

from domain.cohort import Cohort
from domain.council import Council
from domain.project import Project
from tests.browser.conftest import Site, Visit, look

pytestmark = pytest.mark.browser

Open = Callable[..., Visit]


def test_every_page_passes_axe_fits_a_phone_and_raises_no_console_error(
    site: Site, open_as: Open
) -> None:
    exeter = site.projects["GB-EXE"]
    entry = next(iter(site.waymark.records.get_project(site.project_of("GB-EXE")).entries))
    visit = open_as("admin")
    for name, path in [
        ("programmes", "/"),
        ("programme", f"/programmes/{site.programme}"),
        ("cohort-timeline", f"/cohorts/{site.cohort}"),
        ("cohort-compare", f"/cohorts/{site.cohort}/compare"),
        ("project", f"/projects/{exeter}"),
        ("councils", "/councils"),
        ("council", "/councils/GB-DEV"),
        ("audit", "/audit"),
        ("ledger", "/ledger"),
        ("search", "/search?q=service"),
        ("record-choose-kind", f"/projects/{exeter}/entries/new"),
        ("record-capacity-decided", f"/projects/{exeter}/entries/new/capacity_decided"),
        ("record-payment-made", f"/projects/{exeter}/entries/new/payment_made"),
        ("correct-an-entry", f"/projects/{exeter}/entries/{entry}/correction"),
        ("make-an-entry-public", f"/projects/{exeter}/entries/{entry}/make-public"),
        ("open-project", f"/open/projects/{site.projects['GB-HCK']}"),
        ("not-found", "/projects/00000000-0000-0000-0000-000000000000"),
    ]:
        visit.goto(path)
        expect(visit.page.locator("h1")).to_be_visible()
        look(visit, name)
    anonymous = open_as(None)
    anonymous.goto("/sign-in")
    look(anonymous, "sign-in")


def test_an_anonymous_browser_signs_in_and_lands_where_it_was_going(
    site: Site, open_as: Open
) -> None:
    visit = open_as(None)
    page = visit.goto("/councils")
    assert page.url == f"{site.url}/sign-in?next=%2Fcouncils"

    page.click("button:has-text('Sign in')")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter your username")
    expect(summary).to_contain_text("Enter your password")
    look(visit, "sign-in-with-errors")

    page.fill("#username", "reviewer")
    page.fill("#password", "not the password")
    page.click("button:has-text('Sign in')")
    expect(summary).to_contain_text("The username or password is not right")
    expect(page.locator("#username")).to_have_value("reviewer")

    page.fill("#password", "demo-reviewer-password")
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{site.url}/councils")
    expect(page.locator("h1")).to_have_text("Councils")
    expect(page.get_by_text("Signed in as reviewer")).to_be_visible()


def test_a_manager_records_a_check_in_and_a_capacity_decision_and_sees_them_on_the_timeline(
    site: Site, open_as: Open
) -> None:
    visit = open_as("manager")
    page = visit.goto("/")
    page.get_by_role("link", name="Local Digital Accelerator").click()
    page.get_by_role("link", name="Cohort 1").click()
    page.get_by_role("link", name="Bin collection information online").click()
    expect(page.locator("h1")).to_have_text("Bin collection information online")

    # A sponsor check-in: first without saying how the team is
    page.get_by_role("button", name="Record an entry").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select what you want to record")
    page.get_by_label("Sponsor check-in").check()
    page.get_by_role("button", name="Continue").click()
    page.fill("#surprising_finding", "People want reminders, not calendars.")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Are the team okay?")
    expect(page.locator("#surprising_finding")).to_have_value(
        "People want reminders, not calendars."
    )
    look(visit, "record-sponsor-check-in-with-errors")
    page.get_by_label("Amber").check()
    page.fill("#team_health_note", "One developer is leaving.")
    page.get_by_role("button", name="Continue").click()
    # Nothing recorded can be edited: the answers are checked first
    expect(page.locator("h1")).to_have_text("Check your answers: sponsor check-in")
    expect(page.locator(".govuk-summary-list")).to_contain_text("One developer is leaving.")
    look(visit, "check-your-answers-sponsor-check-in")
    page.get_by_role("button", name="Record sponsor check-in").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Sponsor check-in recorded")

    # A capacity decision: first with a cost that is not an amount
    page.get_by_role("button", name="Record an entry").click()
    page.get_by_label("Capacity decided").check()
    page.get_by_role("button", name="Continue").click()
    page.fill("#capability", "Reminder text messages")
    page.get_by_label("Buy").check()
    page.fill("#estimated_cost", "lots")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Estimated cost must be an amount in pounds"
    )
    expect(page.locator("#capability")).to_have_value("Reminder text messages")
    expect(page.get_by_label("Buy")).to_be_checked()
    page.fill("#estimated_cost", "£12,500")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-summary-list")).to_contain_text("£12500")
    page.get_by_role("button", name="Record capacity decided").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Capacity decided recorded")

    # Both are on the cohort timeline, newest first
    page.get_by_role("link", name="see it on the cohort timeline").click()
    items = page.locator(".moj-timeline__item")
    expect(items.nth(0)).to_contain_text("Exeter City Council: Capacity decided")
    expect(items.nth(0)).to_contain_text("Buy: Reminder text messages (est. £12,500.00)")
    expect(items.nth(1)).to_contain_text("Exeter City Council: Sponsor check-in")
    expect(items.nth(1)).to_contain_text("Team health amber: One developer is leaving.")
    look(visit, "cohort-timeline-after-recording")


def test_a_participant_follows_the_cohort_timeline_and_records_only_for_their_council(
    site: Site, open_as: Open
) -> None:
    visit = open_as("exeter")
    page = visit.goto("/")
    page.get_by_role("link", name="Local Digital Accelerator").click()
    page.get_by_role("link", name="Cohort 1").click()

    # Older entries are a page away, and the newest are a link back
    first = page.locator(".moj-timeline__item").first.inner_text()
    page.get_by_role("link", name="Older entries").click()
    assert "cursor=" in page.url
    expect(page.locator(".moj-timeline__item").first).not_to_have_text(first)
    page.get_by_role("link", name="Newest entries").click()
    expect(page.locator(".moj-timeline__item").first).to_have_text(first)

    # Filtered to one council's concerns
    page.select_option("#council", label="Devon County Council")
    page.select_option("#kind", label="Concern raised")
    page.get_by_role("button", name="Show entries").click()
    items = page.locator(".moj-timeline__item")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Devon County Council: Concern raised")
    look(visit, "cohort-timeline-filtered")

    # Devon's project can be read but not recorded on; Exeter's can
    items.first.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("Adult social care front door")
    expect(page.get_by_role("button", name="Record an entry")).to_have_count(0)
    visit.goto(f"/projects/{site.projects['GB-DEV']}/entries/new")
    expect(page.locator("h1")).to_have_text("You cannot see this page")
    look(visit, "forbidden")
    visit.goto(f"/projects/{site.projects['GB-EXE']}")
    expect(page.get_by_role("button", name="Record an entry")).to_be_visible()


def _backdated_project(site: Site) -> str:
    """A project whose entries were recorded in January 2026: commands take their ``now``."""

    def at(day: int) -> datetime:
        return datetime(2026, 1, day, 12, 0, tzinfo=UTC)

    council = Council.register(
        code="GB-TOR",
        name="Torbay Council",
        council_type="unitary",
        region="south_west",
        population=139_000,
        gss_code="E06000027",
        political_control="Liberal Democrat",
        actor="manager",
        now=at(2),
    )
    programme = site.waymark.records.get_cohort(UUID(site.cohort))
    cohort = Cohort.form(
        cohort_id=uuid4(),
        programme_id=programme.programme_id,
        name="Winter cohort",
        starts_on=date(2026, 1, 5),
        ends_on=date(2026, 6, 26),
        actor="manager",
        now=at(2),
    )
    project = Project.start(
        cohort_id=cohort.id,
        council_code="GB-TOR",
        title="Beach hut bookings",
        actor="manager",
        now=at(3),
    )
    cohort.enrol(council_code="GB-TOR", project_id=project.id, actor="manager", now=at(3))

    def record(day: int, kind: str, **values: object) -> None:
        project.record(
            kind=kind,
            entry_id=uuid4(),
            decided_on=date(2026, 1, day),
            actor="manager",
            now=at(day),
            values=values,
        )

    record(10, "problem_statement_iterated", statement="People cannot book a beach hut online.")
    record(
        20,
        "problem_statement_iterated",
        statement="People cannot book a beach hut for a week online.",
    )
    second = project.statements()[1].entry_id
    record(
        28,
        "entry_corrected",
        corrects=str(second),
        reason_kind="clarification",
        reason="Weekly and daily bookings both count.",
        replacement={"statement": "People cannot book a beach hut online for a day or a week."},
    )
    site.waymark.records.save(council, cohort, project)
    return str(project.id)


def test_a_reviewer_opens_a_project_as_it_stood_on_a_past_date(site: Site, open_as: Open) -> None:
    project_id = _backdated_project(site)
    visit = open_as("reviewer")
    page = visit.goto(f"/projects/{project_id}")
    expect(page.locator("h1")).to_have_text("Beach hut bookings")
    expect(page.get_by_role("button", name="Record an entry")).to_have_count(0)
    history = page.locator("#history ~ .moj-timeline .moj-timeline__item")
    expect(history).to_have_count(3)

    def as_of(day: str, month: str, year: str) -> None:
        page.fill("#as_of-day", day)
        page.fill("#as_of-month", month)
        page.fill("#as_of-year", year)
        page.get_by_role("button", name="Show the record on that date").click()

    as_of("15", "1", "2026")
    expect(page.locator(".govuk-inset-text")).to_contain_text(
        "as it stood at the end of 15 January 2026"
    )
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("People cannot book a beach hut online.")

    as_of("25", "1", "2026")
    expect(history).to_have_count(2)
    expect(page.get_by_text("Corrected", exact=True)).to_have_count(0)
    look(visit, "project-as-it-stood")

    as_of("31", "1", "2026")
    expect(history).to_have_count(3)
    expect(history.nth(1).get_by_text("Corrected", exact=True)).to_be_visible()
    history.nth(1).get_by_role("link", name="See the correction").click()
    assert page.url.endswith(f"#{history.first.get_attribute('id')}")
    expect(history.first.get_by_role("link", name="See the entry it corrects")).to_be_visible()

    # What changed between the two versions, word by word, as corrected by 31 January
    page.get_by_role("button", name="Compare versions").click()
    expect(page.locator(".app-diff__added")).to_contain_text(["for a day or a week."])

    as_of("31", "2", "2026")
    expect(page.locator(".govuk-error-summary")).to_contain_text("must be a real date")
    as_of("1", "1", "2026")
    expect(page.locator(".app-as-of-empty")).to_contain_text(
        "Nothing had been recorded by 1 January 2026; the first entry was recorded on"
        " 10 January 2026."
    )
    expect(history).to_have_count(0)
    look(visit, "project-as-of-with-errors")


def test_the_main_actions_are_reached_by_keyboard_with_visible_focus(
    site: Site, open_as: Open
) -> None:
    visit = open_as("manager")
    page = visit.goto(f"/projects/{site.projects['GB-HCK']}")

    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"

    def tab_to(name: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            text = page.evaluate("document.activeElement.textContent.trim()")
            if text == name:
                focus = page.evaluate(
                    """() => {
                        const s = getComputedStyle(document.activeElement);
                        return {outline: s.outlineStyle, shadow: s.boxShadow};
                    }"""
                )
                visible = focus["outline"] != "none" or focus["shadow"] != "none"
                assert visible, f"{name} has no visible focus: {focus}"
                return
        raise AssertionError(f"{name} was not reached by keyboard")

    tab_to("Record an entry")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/entries/new$"))
    page.keyboard.press("Tab")  # the back link
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "kind":
            break
    page.keyboard.press("ArrowDown")  # the second kind: capacity decided
    tab_to("Continue")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/entries/new/capacity_decided$"))
    tab_to("Continue")  # the form leads to "Check your answers"
    page.keyboard.press("Enter")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter capability")
    expect(summary).to_be_focused()  # GOV.UK Frontend moves focus to the summary
    # Answered, the form leads to the check page, whose button records
    page.fill("#capability", "Keyboard-only booking")
    page.get_by_label("Buy").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Check your answers: capacity decided")
    tab_to("Record capacity decided")
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Capacity decided recorded")
