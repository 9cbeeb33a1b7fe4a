"""Issue 5: participants compare councils, reviewers read the audit log, anyone searches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, Visit, look

pytestmark = pytest.mark.browser

Open = Callable[..., Visit]


def drawn_charts(page: Page) -> list[dict[str, Any]]:
    """What Chart.js drew on each canvas: its kind, labels, series and size."""
    result: list[dict[str, Any]] = page.evaluate(
        """() => [...document.querySelectorAll(".app-chart canvas")].map(canvas => {
            const chart = Chart.getChart(canvas);
            return {
                type: chart.config.type,
                labels: chart.data.labels,
                series: chart.data.datasets.map(d => d.label),
                role: canvas.getAttribute("role"),
                label: canvas.getAttribute("aria-label"),
                width: canvas.width,
                height: canvas.height,
            };
        })"""
    )
    return result


def column(page: Page, caption: str, index: int) -> list[str]:
    table = page.locator("table", has=page.locator("caption", has_text=caption))
    return [
        text.strip() for text in table.locator(f"tbody tr > :nth-child({index})").all_inner_texts()
    ]


def test_a_participant_follows_the_cohort_comparison_and_its_charts(
    site: Site, open_as: Open
) -> None:
    visit = open_as("exeter")
    page = visit.goto("/")
    page.get_by_role("link", name="Local Digital Accelerator").click()
    page.get_by_role("link", name="Cohort 1").click()
    page.get_by_role("link", name="Compare the councils side by side").click()
    expect(page.locator("h1")).to_have_text("Compare councils")

    # The table sets the three councils side by side
    councils = column(page, "One row per council’s project", 1)
    assert [c.splitlines()[0] for c in councils] == [
        "Devon County Council",
        "Exeter City Council",
        "London Borough of Hackney",
    ]
    # and each chart is drawn from the figures of the table after it
    charts = drawn_charts(page)
    assert [c["type"] for c in charts] == ["bar", "bar", "line"]
    choices, phases, health = charts
    assert choices["labels"] == [c.splitlines()[0] for c in councils]
    assert choices["series"] == ["Make", "Buy", "Share", "Experiment"]
    weeks = column(page, "Each council’s phase at the end of each week", 1)
    assert phases["labels"] == [w.splitlines()[0] for w in weeks] and len(weeks) >= 10
    assert health["series"] == choices["labels"]
    for chart in charts:
        assert chart["role"] == "img" and "table below" in chart["label"]
        assert chart["width"] > 200 and chart["height"] > 100
    look(visit, "compare")

    # As it stood the day before the demo was recorded, nobody was enrolled yet
    yesterday = site.waymark.today() - timedelta(days=1)
    page.fill("#as_of-day", str(yesterday.day))
    page.fill("#as_of-month", str(yesterday.month))
    page.fill("#as_of-year", str(yesterday.year))
    page.get_by_role("button", name="Show the comparison on that date").click()
    expect(page.locator(".govuk-inset-text")).to_contain_text("as it stood at the end of")
    expect(page.get_by_text("No councils were enrolled by then.")).to_be_visible()
    page.get_by_role("link", name="See it as it stands now").click()
    expect(page.locator(".app-chart canvas")).to_have_count(3)

    # A date that is not one is said to be wrong, beside the field
    page.fill("#as_of-day", "30")
    page.fill("#as_of-month", "2")
    page.fill("#as_of-year", "2026")
    page.get_by_role("button", name="Show the comparison on that date").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The date must be a real date")
    expect(page.locator("#as_of-day")).to_have_value("30")
    look(visit, "compare-with-errors")


def test_the_comparison_is_all_there_without_javascript(site: Site, open_as: Open) -> None:
    visit = open_as("exeter", js=False)
    page = visit.goto(f"/cohorts/{site.cohort}/compare")
    expect(page.locator("h1")).to_have_text("Compare councils")
    expect(page.locator(".app-chart canvas")).to_have_count(0)
    assert len(column(page, "One row per council’s project", 1)) == 3
    assert len(column(page, "Capacity decisions by council and choice", 1)) == 3
    assert column(page, "Each council’s phase", 1)[0].startswith("Week 1")
    assert column(page, "Each council’s team health", 1)[0].startswith("Week 1")
    look(visit, "compare-without-javascript", axe=False)  # axe needs JavaScript


def test_a_reviewer_opens_the_audit_log_and_filters_it(site: Site, open_as: Open) -> None:
    visit = open_as("reviewer")
    page = visit.goto("/")
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("h1")).to_have_text("Audit log")
    changes = page.locator("table", has=page.locator("caption", has_text="Changes")).locator(
        "tbody tr"
    )
    expect(changes).to_have_count(50)
    newest = changes.first.inner_text()
    look(visit, "audit-log")

    # The next page goes on where the first stopped, and the first page is a link away
    page.get_by_role("link", name="Next page").click()
    expect(changes.first).not_to_have_text(newest)
    page.get_by_role("link", name="First page").click()
    expect(changes.first).to_have_text(newest)

    # Only the councils' changes, oldest first
    page.select_option("#aggregate_type", label="Council")
    page.get_by_label("Oldest first").check()
    page.get_by_role("button", name="Show changes").click()
    records = column(page, "Changes", 3)
    assert records and all(r.startswith("Council") for r in records)
    assert column(page, "Changes", 4)[0] == "Registered"
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    look(visit, "audit-log-filtered")

    # One council's changes, from its record id; then the changes by one person
    changes.first.get_by_role("link", name="Changes to").click()
    record = page.url.split("aggregate=")[1].split("&")[0]
    assert all(record in r for r in column(page, "Changes", 3))
    changes.first.get_by_role("link", name="demo-manager").click()
    assert set(column(page, "Changes", 2)) == {"demo-manager"}

    # A wrong record id is said to be wrong, and what was typed stays
    page.fill("#aggregate", "GB-EXE")
    page.get_by_role("button", name="Show changes").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Record id must be an id")
    expect(page.locator("#aggregate")).to_have_value("GB-EXE")
    look(visit, "audit-log-with-errors")


def test_only_admins_and_reviewers_are_offered_the_audit_log(site: Site, open_as: Open) -> None:
    visit = open_as("exeter")
    page = visit.goto("/")
    navigation = page.get_by_role("navigation", name="Menu")
    expect(navigation.get_by_role("link", name="Search")).to_be_visible()
    expect(navigation.get_by_role("link", name="Audit log")).to_have_count(0)
    visit.goto("/audit")
    expect(page.locator("h1")).to_have_text("You cannot see or do this")


@pytest.mark.parametrize("username", ["exeter", "manager"])
def test_anyone_signed_in_searches_the_record(site: Site, open_as: Open, username: str) -> None:
    visit = open_as(username)
    page = visit.goto("/")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Search").click()
    expect(page.locator("h1")).to_have_text("Search the record")
    look(visit, f"search-{username}")

    page.fill("#q", "service DESIGN train")
    page.get_by_role("button", name="Search").click()
    results = page.locator(".app-result")
    expect(results.first).to_contain_text("Exeter City Council: Capacity built")
    expect(results.first).to_contain_text("Service design training")
    look(visit, f"search-results-{username}")
    results.first.get_by_role("link", name="Exeter City Council: Capacity built").click()
    expect(page.locator("h1")).to_have_text("Bin collection information online")

    visit.goto("/search")
    for hostile in ['"unclosed', "<script>alert(1)</script>", "NEAR(bin", "'); DROP TABLE x; --"]:
        page.fill("#q", hostile)
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#results")).to_have_text("No entries match")
        expect(page.locator("#q")).to_have_value(hostile)
    look(visit, f"search-no-results-{username}")


def test_a_reviewer_checks_that_nothing_in_the_record_was_rewritten(
    site: Site, open_as: Open
) -> None:
    visit = open_as("reviewer")
    page = visit.goto("/")
    page.get_by_role("link", name="Record integrity").click()
    expect(page.locator("h1")).to_have_text("Record integrity")
    head = site.waymark.ledger.head()
    assert head is not None
    expect(page.locator(".govuk-summary-list")).to_contain_text(head.chain_hash.hex())

    page.get_by_role("button", name="Check every event now").click()
    result = page.locator(".govuk-notification-banner--success")
    expect(result).to_contain_text("The record checks out")
    expect(result).to_contain_text(f"events up to position {head.position:,}")
    look(visit, "ledger-checked")


def test_the_comparison_uses_a_wide_screen_and_other_pages_keep_their_measure(
    site: Site, open_as: Open
) -> None:
    visit = open_as("exeter")
    page = visit.page
    page.set_viewport_size({"width": 1920, "height": 1080})
    try:
        page = visit.goto(f"/cohorts/{site.cohort}/compare")
        side_by_side = page.get_by_role("region", name="Councils side by side")
        box, table = side_by_side.evaluate("box => [box.clientWidth, box.scrollWidth]")
        # Councils side by side take many columns: the page widens to 1,600 px for them
        # (the table is wider still, and scrolls in its box)
        assert box == 1600 and table > box, (box, table)
        # and so do its header, navigation and footer, aligned with it
        widths = page.locator(".govuk-width-container").evaluate_all(
            "boxes => boxes.map(box => box.clientWidth)"
        )
        assert len(widths) >= 4 and set(widths) == {1600}, widths
        # while its prose keeps a readable measure
        intro = page.locator("main p.govuk-body").first
        assert intro.evaluate("p => p.clientWidth") < 760
        # while a page of reading keeps GOV.UK's 960 px
        page = visit.goto(f"/cohorts/{site.cohort}")
        assert page.locator("main").evaluate("main => main.clientWidth") == 960
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
