"""Issue 18, points 5 and 6, in a real browser on the demo: the participant starts from
their own council, the comparison marks it, every column of "Councils side by side"
can be reached at 1280 px, and no table heading breaks inside a word."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, Site, Visit, look
from web.pages.compare import ALL_COLUMNS, COLUMN_GROUP_NAMES, COLUMN_GROUPS

pytestmark = pytest.mark.browser

Open = Callable[..., Visit]
SIDE_BY_SIDE = "One row per council’s project"

#: Each column heading's words that the browser broke across lines (a break after a
#: hyphen is a break between words). A word split over two lines has two client rects.
BROKEN_WORDS = """() => {
    const broken = [];
    for (const th of document.querySelectorAll("thead th")) {
        const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (node.parentElement.closest(".govuk-visually-hidden")) continue;
            for (const word of node.data.matchAll(/[^\\s\\-]+/g)) {
                const range = document.createRange();
                range.setStart(node, word.index);
                range.setEnd(node, word.index + word[0].length);
                const lines = new Set([...range.getClientRects()]
                    .filter(r => r.width > 0).map(r => Math.round(r.top)));
                if (lines.size > 1) broken.push(word[0] + " in " + th.innerText);
            }
        }
    }
    return broken;
}"""


def headings(page: Page) -> list[str]:
    table = page.locator("table", has=page.locator("caption", has_text=SIDE_BY_SIDE))
    return [" ".join(t.split()) for t in table.locator("thead th").all_inner_texts()]


def test_the_demo_participant_is_one_click_from_their_project_and_marked_in_the_comparison(
    site: Site, open_as: Open
) -> None:
    visit = open_as("exeter")
    page = visit.goto("/")
    expect(page.locator("h1")).to_have_text("Exeter City Council")
    look(visit, "home-participant")

    # One click from home to their council's project
    page.get_by_role("link", name="Bin collection information online").click()
    expect(page.locator("h1")).to_have_text("Bin collection information online")
    assert page.url.endswith(f"/projects/{site.projects['GB-EXE']}")

    # Their council's page lists its cohorts and projects
    visit.goto("/")
    page.get_by_role("link", name="About Exeter City Council").click()
    projects = page.get_by_role("region", name="Cohorts and projects")
    expect(projects.get_by_role("link", name="Bin collection information online")).to_be_visible()
    # and its second project in the same cohort, each beside a link to the cohort
    expect(projects.get_by_role("link", name="Parking permit renewals")).to_be_visible()
    expect(projects.get_by_role("link", name="Cohort 1")).to_have_count(2)
    look(visit, "council-participant")

    # Their cohort's comparison is a link from home too, and marks their council's rows
    # (one for each of its two projects)
    visit.goto("/")
    page.get_by_role("link", name="Compare the councils").first.click()
    expect(page.locator("h1")).to_have_text("Compare councils")
    own = page.locator("tr[aria-current='true']")
    expect(own).to_have_count(2)
    for row in own.all():
        expect(row.locator("th")).to_contain_text("Exeter City Council")
        expect(row.locator(".govuk-tag", has_text="Your council")).to_be_visible()
    marked = own.first.locator("th").evaluate("th => getComputedStyle(th).backgroundColor")
    plain = page.locator("tbody tr:not([aria-current]) th").first.evaluate(
        "th => getComputedStyle(th).backgroundColor"
    )
    assert marked != plain, (marked, plain)
    caption = page.locator("caption", has_text=SIDE_BY_SIDE)
    expect(caption).to_contain_text(
        "Your council’s rows (Exeter City Council, one for each of its projects)"
    )
    # with the cohort's medians beside their council's figures, a column for each project
    medians = page.get_by_role("region", name="The cohort’s middle values")
    expect(medians.locator("thead th")).to_have_text(
        [
            "Figure",
            "Cohort median",
            "Counted",
            "Your council: Exeter City Council: Bin collection information online",
            "Your council: Exeter City Council: Parking permit renewals",
        ]
    )
    expect(medians.locator("tbody tr")).to_have_count(7)
    # and the support asks by whom they are asked of
    expect(page.locator("#support ~ h3", has_text="LocalGov Digital")).to_be_visible()
    look(visit, "compare-participant")


def test_at_1280_px_every_column_of_the_comparison_can_be_reached(
    site: Site, open_as: Open
) -> None:
    visit = open_as("exeter")
    page = visit.goto(f"/cohorts/{site.cohort}/compare")
    assert page.viewport_size == {"width": DESKTOP, "height": 900}
    every = headings(page)
    assert len(every) == 1 + len(ALL_COLUMNS)

    # All the columns at once: the table scrolls in its box, and the page says so
    region = page.get_by_role("region", name="Councils side by side")
    box, table = region.evaluate("box => [box.clientWidth, box.scrollWidth]")
    assert table > box, (box, table)
    cue = page.locator("#" + str(region.get_attribute("aria-describedby")))
    expect(cue).to_be_visible()
    expect(cue).to_contain_text("scrolls sideways")
    # while the council stays in view as it scrolls
    region.evaluate("box => { box.scrollLeft = box.scrollWidth; }")
    first = page.locator("tbody tr").first.locator("th")
    assert first.evaluate("th => th.getBoundingClientRect().left") >= 0
    assert first.evaluate("th => th.getBoundingClientRect().right") <= DESKTOP

    # Each group of columns is a link, and shows all of its columns within the screen
    seen: set[str] = set()
    for key, columns in COLUMN_GROUPS.items():
        nav = page.get_by_role("navigation", name="Columns to show")
        nav.get_by_role("link", name=COLUMN_GROUP_NAMES[key]).click()
        assert f"columns={key}" in page.url
        expect(nav.locator("a[aria-current='true']")).to_contain_text(COLUMN_GROUP_NAMES[key])
        shown = headings(page)
        assert len(shown) == 1 + len(columns), (key, shown)
        region = page.get_by_role("region", name="Councils side by side")
        box, table = region.evaluate("box => [box.clientWidth, box.scrollWidth]")
        assert table <= box, (key, box, table)
        rights = page.locator("table", has=page.locator("caption", has_text=SIDE_BY_SIDE))
        for right in rights.locator("thead th").evaluate_all(
            "ths => ths.map(th => th.getBoundingClientRect().right)"
        ):
            assert right <= DESKTOP, (key, right)
        seen.update(shown[1:])
        look(visit, f"compare-columns-{key}")
    # and together the groups hold every column
    assert seen == set(every[1:])


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_no_table_heading_breaks_inside_a_word(site: Site, open_as: Open, width: int) -> None:
    visit = open_as("exeter")
    page = visit.page
    page.set_viewport_size({"width": width, "height": 900})
    compare = f"/cohorts/{site.cohort}/compare"
    paths = [
        "/",
        "/councils/GB-EXE",
        compare,
        *(f"{compare}?columns={key}" for key in COLUMN_GROUPS),
    ]
    try:
        for path in paths:
            visit.goto(path)
            assert page.locator("thead th").count() > 0, path
            assert page.evaluate(BROKEN_WORDS) == [], (width, path)
    finally:
        page.set_viewport_size({"width": DESKTOP, "height": 900})
    # and the other pages with tables, as a reviewer (who reads them all, the audit log too)
    reviewer = open_as("reviewer")
    reviewer.page.set_viewport_size({"width": width, "height": 900})
    for path in (
        f"/projects/{site.projects['GB-EXE']}",
        f"/programmes/{site.programme}",
        "/councils",
        f"/cohorts/{site.cohort}",
        "/audit",
    ):
        reviewer.goto(path)
        assert reviewer.page.locator("thead th").count() > 0, path
        assert reviewer.page.evaluate(BROKEN_WORDS) == [], (width, path)
        # a table wider than the phone scrolls in its own box, never the page
        scroll = reviewer.page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, (width, path, scroll)
