"""Issue 5: participants compare councils, reviewers read the audit log, anyone searches."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, Visit, look
from web.pages.rendering import long_date

pytestmark = pytest.mark.browser

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)

Open = Callable[..., Visit]


def drawn_charts(page: Page) -> list[dict[str, Any]]:
    """What Chart.js drew on each canvas: its kind, labels, series and size, once the
    page's module script has drawn a chart in every place for one."""
    page.wait_for_function(
        """() => [...document.querySelectorAll(".app-chart")].every(place => {
            const canvas = place.querySelector("canvas");
            return canvas && window.Chart && Chart.getChart(canvas);
        })"""
    )
    result: list[dict[str, Any]] = page.evaluate(
        """() => [...document.querySelectorAll(".app-chart canvas")].map(canvas => {
            const chart = Chart.getChart(canvas);
            return {
                type: chart.config.type,
                labels: chart.data.labels,
                // the labels drawn on the axis that names the bars or points
                named: chart.scales[chart.options.indexAxis === "y" ? "y" : "x"].ticks.length,
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

    # The table sets the three councils' four projects side by side (Exeter leads two)
    councils = column(page, "One row per council’s project", 1)
    assert [c.splitlines()[0] for c in councils] == [
        "Devon County Council",
        "Exeter City Council",
        "Exeter City Council",
        "London Borough of Hackney",
    ]
    # and each chart is drawn from the figures of the table after it, naming Exeter's
    # projects by their titles as well, so that its two bars can be told apart
    charts = drawn_charts(page)
    assert [c["type"] for c in charts] == ["bar", "bar", "line"]
    choices, phases, health = charts
    assert choices["labels"] == [
        "Devon County Council",
        "Exeter City Council: Bin collection information online",
        "Exeter City Council: Parking permit renewals",
        "London Borough of Hackney",
    ]
    assert column(page, "Capacity decisions by council and choice", 1) == choices["labels"]
    assert choices["named"] == 4  # none skipped for want of room
    assert choices["series"] == ["Make", "Buy", "Share", "Experiment"]
    weeks = column(page, "Each council’s phase at the end of each week", 1)
    assert phases["labels"] == [w.splitlines()[0] for w in weeks] and len(weeks) >= 10
    assert health["series"] == choices["labels"]
    for chart in charts:
        assert chart["role"] == "img" and "table below" in chart["label"]
        assert chart["width"] > 200 and chart["height"] > 100
    look(visit, "compare")

    # As it stood before the demo's programme was set up (its cohort started ten weeks
    # ago, and it was set up two weeks before that), nobody was enrolled yet
    before_set_up = site.waymark.queries.today() - timedelta(weeks=13)
    page.fill("#as_of-day", str(before_set_up.day))
    page.fill("#as_of-month", str(before_set_up.month))
    page.fill("#as_of-year", str(before_set_up.year))
    page.get_by_role("button", name="Show the comparison on that date").click()
    expect(page.locator(".govuk-inset-text")).to_contain_text("as it stood at the end of")
    expect(page.locator(".app-as-of-empty")).to_contain_text(
        f"Nothing had been recorded by {long_date(before_set_up)}; "
        "the first council was enrolled on"
    )
    expect(page.get_by_role("region", name="Councils side by side")).to_have_count(0)
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
    assert len(column(page, "One row per council’s project", 1)) == 4
    assert len(column(page, "Capacity decisions by council and choice", 1)) == 4
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
    page.wait_for_url(re.compile(r"[?&]aggregate_type=\w"))  # the filtered page, not the last
    records = column(page, "Changes", 3)
    council_names = {c["name"] for c in site.waymark.queries.councils()}
    named = [next((n for n in council_names if r.startswith(n)), None) for r in records]
    assert records and None not in named, records
    assert not any(UUID_TEXT.search(r) for r in records)  # named, never by id
    assert column(page, "Changes", 4)[0] == "Registered"
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    look(visit, "audit-log-filtered")

    # One council's changes, from its row; then the changes by one person
    name = named[0]
    changes.first.get_by_role("link", name="Changes to").click()
    expect(page.locator("#thing")).to_contain_text(f"Only the changes to {name}")
    assert all(r.startswith(name) for r in column(page, "Changes", 3))
    changes.first.get_by_role("link", name="demo-manager").click()
    page.wait_for_url(re.compile(r"[?&]actor=demo-manager"))  # the table read is the new one
    expect(page.locator("#actor")).to_have_value("demo-manager")
    assert set(column(page, "Changes", 2)) == {"demo-manager"}

    # A wrong record id is said to be wrong
    visit.goto("/audit?aggregate=GB-EXE")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Record id must be an id")
    expect(page.locator("#aggregate")).to_have_value("GB-EXE")
    look(visit, "audit-log-with-errors")


def test_a_reviewer_reads_a_correction_in_words_and_downloads_the_log_and_the_record(
    site: Site, open_as: Open, tmp_path: Path
) -> None:
    visit = open_as("reviewer")
    page = visit.goto("/audit")
    page.select_option("#kind", label="Entry corrected")
    page.get_by_role("button", name="Show changes").click()
    page.wait_for_url(re.compile(r"[?&]kind=[^&]"))  # the filtered page
    main = page.locator("main").inner_text()
    assert "Estimated cost: £4,800.00 → £48,000.00" in main
    assert not UUID_TEXT.search(main)
    look(visit, "audit-log-corrections")

    # The CSV holds the rows the page shows
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these changes as a spreadsheet (CSV)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"), newline="")))
    assert [r["Position in the log"] for r in rows] == column(page, "Changes", 6)
    assert any("£48,000.00" in r["What changed"] for r in rows)

    # The ledger page's bundle holds what an offline check needs
    visit.goto("/ledger")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the record to check it (zip)").click()
    bundle = tmp_path / "record.zip"
    download.value.save_as(bundle)
    with zipfile.ZipFile(bundle) as opened:
        assert {"events.ndjson", "checkpoints.json", "public-key.pem", "HOW-TO-CHECK.txt"} <= set(
            opened.namelist()
        )
    look(visit, "ledger-with-bundle")


def test_only_admins_and_reviewers_are_offered_the_audit_log(site: Site, open_as: Open) -> None:
    visit = open_as("exeter")
    page = visit.goto("/")
    navigation = page.get_by_role("navigation", name="Menu")
    expect(navigation.get_by_role("link", name="Search")).to_be_visible()
    expect(navigation.get_by_role("link", name="Audit log")).to_have_count(0)
    visit.goto("/audit")
    expect(page.locator("h1")).to_have_text("You cannot see this page")


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


def test_a_reviewer_reads_exeter_s_capacity_decision_as_it_stood_and_as_it_stands(
    site: Site, open_as: Open
) -> None:
    visit = open_as("reviewer")
    page = visit.goto(f"/projects/{site.projects['GB-EXE']}")
    expect(page.locator("h1")).to_have_text("Bin collection information online")
    decision = page.locator(".moj-timeline__item", has_text="Collection calendar service")
    cost = decision.locator(".govuk-summary-list__row", has_text="Estimated cost")

    def as_of(day: date) -> None:
        page.fill("#as_of-day", str(day.day))
        page.fill("#as_of-month", str(day.month))
        page.fill("#as_of-year", str(day.year))
        page.get_by_role("button", name="Show the record on that date").click()

    # Today: the cost in force, with what it was, and the way to the correction
    expect(cost).to_contain_text("£48,000.00, was £4,800.00")
    expect(page.locator(".app-as-of")).to_contain_text(
        "The record as it had been recorded by the end of that day. "
        "Dates decided are shown on each entry."
    )
    decision.get_by_role("link", name="See the correction").click()
    expect(page.locator(":target")).to_contain_text("The estimate was typed without its last digit")
    look(visit, "project-values-in-force")

    # Three weeks into the cohort, the capacity decision said £4,800
    starts_on = date.fromisoformat(site.waymark.queries.cohort(UUID(site.cohort))["starts_on"])
    three_weeks_in = starts_on + timedelta(weeks=3)
    as_of(three_weeks_in)
    banner = page.locator(".app-as-of-banner")
    expect(banner).to_contain_text(f"as it stood at the end of {long_date(three_weeks_in)}")
    expect(cost.locator("dd")).to_have_text("£4,800.00")
    expect(page.get_by_text("£48,000.00")).to_have_count(0)
    look(visit, "project-as-it-stood-three-weeks-in")

    # Before anything was recorded on the project: an empty state, nothing of today's record
    before = starts_on - timedelta(days=20)
    as_of(before)
    expect(page.locator(".app-as-of-empty")).to_have_text(
        f"Nothing had been recorded by {long_date(before)}; "
        f"the first entry was recorded on {long_date(starts_on)}."
    )
    main = page.locator("main")
    for today_s in ("Collection calendar", "£4,800", "£48,000", "History", "Phase"):
        expect(main).not_to_contain_text(today_s)
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    look(visit, "project-before-anything-was-recorded")

    # and back to today
    banner.get_by_role("link", name="See it as it stands now").click()
    expect(cost).to_contain_text("£48,000.00, was £4,800.00")


def test_outputs_and_a_capability_across_councils_read_and_pass_axe(
    site: Site, open_as: Open
) -> None:
    """Issue 19: the demo's output, published by Exeter and reused by Hackney, and the
    capability both chose to share, named in their own words."""
    visit = open_as("exeter")
    page = visit.goto(f"/programmes/{site.programme}")
    page.get_by_role("link", name="Outputs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outputs")
    table = page.locator("table", has=page.locator("caption", has_text="Outputs of"))
    expect(table.locator("tbody tr")).to_have_count(1)
    row = table.locator("tbody tr").first
    expect(row).to_contain_text("Collection calendar API")
    expect(row).to_contain_text("London Borough of Hackney")
    expect(row.locator("td").nth(3)).to_have_text("1")
    look(visit, "outputs")
    # The filters: a kind with none shows none; a value not offered is an error summary.
    page.select_option("#kind", "guidance")
    page.get_by_role("button", name="Show outputs").click()
    expect(page.get_by_text("No outputs match these filters")).to_be_visible()
    page.goto(f"/programmes/{site.programme}/outputs?phase=finished")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select a phase from the list")
    look(visit, "outputs-error")

    page.goto(f"/programmes/{site.programme}/capabilities")
    page.get_by_role("link", name="Collection calendar service").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Collection calendar service")
    councils = column(page, "Capacity decisions about", 1)
    assert sorted(councils) == ["Exeter City Council", "London Borough of Hackney"]
    expect(page.locator("table")).to_contain_text("£48,000.00")  # the cost in force
    look(visit, "capability")


def test_a_benefits_path_is_a_chart_beside_a_table_of_the_same_figures(
    site: Site, open_as: Open
) -> None:
    # Exeter's demo benefit: a baseline, three measurements and a target
    visit = open_as("exeter")
    page = visit.goto(f"/projects/{site.projects['GB-EXE']}")
    caption = "Calls about missed bins each month: baseline, measurements and target, in calls"
    figures = [
        column(page, caption, 1),
        column(page, caption, 2),
        column(page, caption, 3),
    ]
    assert figures[1] == ["Baseline", *["Measured (Contact-centre dashboard)"] * 3, "Target"]
    assert figures[2] == ["1200", "1100", "950", "820", "600"]
    # The chart is drawn from the same dates: the measurements, and the path to the target
    (chart,) = drawn_charts(page)
    assert chart["type"] == "line"
    assert chart["labels"] == figures[0]
    assert chart["series"] == ["Measured", "Path to the target"]
    assert chart["role"] == "img" and "table below" in chart["label"]
    assert chart["width"] > 200 and chart["height"] > 100
    expect(page.locator("#benefits + h3 .govuk-tag")).to_have_text("On track")
    look(visit, "project-benefits")


def test_anyone_reads_hackney_s_public_page_and_its_evidence_links_render_safely(
    site: Site, open_as: Open
) -> None:
    # Issue 19: working in the open (the demo allows publishing; Hackney published two
    # entries), links on entries, and a share decision shown on both councils' pages.
    visit = open_as(None)
    page = visit.goto(f"/open/projects/{site.projects['GB-HCK']}")
    main = page.locator("main")
    expect(page.locator("h1")).to_have_text("Housing repairs reporting")
    expect(main).to_contain_text("Open source by default.")
    expect(main).to_contain_text("Briefing for the housing scrutiny panel.")
    expect(main).not_to_contain_text("tenants cannot report")  # the problem statement is private
    expect(main).not_to_contain_text("Tenants cannot report")
    expect(main).not_to_contain_text("peer council")  # nor is the support request
    link = main.get_by_role("link", name="Our code on GitHub")
    expect(link).to_have_attribute("href", "https://github.com/LBHackney-IT")
    expect(link).to_have_attribute("rel", "noopener noreferrer external")
    expect(page.get_by_role("link", name="Sign out")).to_have_count(0)
    look(visit, "open-project")

    signed_in = open_as("reviewer")
    project = signed_in.goto(f"/projects/{site.projects['GB-HCK']}")
    own_link = project.locator("main").get_by_role("link", name="Our code on GitHub")
    expect(own_link).to_have_attribute("rel", "noopener noreferrer external")
    look(signed_in, "project-with-links")
    council = signed_in.goto("/councils/GB-EXE")
    shares = council.locator("#shares + ul")
    expect(shares).to_contain_text("shares case management with Exeter City Council")
    expect(shares.get_by_role("link", name="Devon County Council")).to_have_attribute(
        "href", "/councils/GB-DEV"
    )
    look(signed_in, "council-shares")
