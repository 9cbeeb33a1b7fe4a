"""Issue 17, point 1: a programme set up in a real browser, on a fresh store, from the pages.

From the first admin on, with no API or command-line call: the admin adds a person and
launches a programme naming them its manager; the manager forms a cohort, changes its
details, registers three councils with profiles and assessments, enrols them, records a
first entry, withdraws one council and closes the cohort (the last steps with JavaScript
off). Every page passes axe and fits a phone;
the audit log names the people who did each thing.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect

from services.container import Waymark
from services.settings import Settings
from tests.browser.conftest import DESKTOP, ROOT, Visit, _free_port, look
from tests.conftest import TEST_SECRET
from tests.helpers import make_user
from web.app import create_app

pytestmark = pytest.mark.browser

PASSWORDS = {
    "ada": "ada's long enough password",
    "pat": "pat's long enough password",
    "rio": "rio's long enough password",
}


@dataclass
class FreshSite:
    url: str
    waymark: Waymark


@pytest.fixture(scope="module")
def fresh_site(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshSite]:
    """An empty store (SQLite) with one admin, served on a free port."""
    if not (ROOT / "web" / "static" / "vendor" / "waymark.css").exists():
        pytest.fail("the front-end assets are not built: run `make assets`")
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("fresh")),
        secret_key=TEST_SECRET,
        cookie_secure=False,
        projection_poll_interval=0.05,
    )
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    waymark: Waymark = app.state.waymark
    # The first admin, as `waymark` on the command line makes them; everything after is pages
    make_user(waymark, "ada", "admin")
    waymark.credentials.set_password("ada", PASSWORDS["ada"])
    try:
        yield FreshSite(f"http://127.0.0.1:{port}", waymark)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def signed_in(browser: Browser, site: FreshSite, username: str, *, js: bool) -> Visit:
    context = browser.new_context(
        base_url=site.url, viewport={"width": DESKTOP, "height": 900}, java_script_enabled=js
    )
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/sign-in")
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{site.url}/")
    return Visit(page, problems)


def fill_date(page: Page, name: str, day: str, month: str, year: str) -> None:
    page.fill(f"#{name}-day", day)
    page.fill(f"#{name}-month", month)
    page.fill(f"#{name}-year", year)


def button(page: Page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def test_a_programme_is_set_up_from_the_pages_by_the_people_named_in_the_audit_log(
    browser: Browser, fresh_site: FreshSite
) -> None:
    site, waymark = fresh_site, fresh_site.waymark

    # The admin adds the person who will manage the programme, from People
    ada = signed_in(browser, site, "ada", js=True)
    page = ada.page
    page.get_by_role("link", name="People").click()
    page.get_by_role("button", name="Add a person").click()
    page.get_by_label("Username").fill("pat")
    page.get_by_label("Password (optional)").fill(PASSWORDS["pat"])
    button(page, "Continue")
    button(page, "Add person")
    expect(page.locator("main")).to_contain_text("pat")

    # ... and a reviewer, who will audit what was done
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="People").click()
    page.get_by_role("button", name="Add a person").click()
    page.get_by_label("Username").fill("rio")
    page.get_by_label("Reviewer", exact=True).check()
    page.get_by_label("Password (optional)").fill(PASSWORDS["rio"])
    button(page, "Continue")
    button(page, "Add person")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Person added")

    # ... and launches a programme from the home page, naming pat its manager
    page.goto("/")
    button(page, "Launch a programme")
    button(page, "Continue")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter programme name")
    look(ada, "setup-launch-programme-with-errors")
    page.get_by_label("Programme name").fill("Local Digital Accelerator 2027")
    page.get_by_label("Sponsor body (optional)").fill("Ministry of Housing")
    button(page, "Continue")
    expect(page.locator("h1")).to_have_text("Who will manage the programme?")
    page.get_by_label("pat", exact=True).check()
    look(ada, "setup-launch-programme-managers")
    button(page, "Continue")
    expect(page.locator("h1")).to_have_text("Check the programme before you launch it")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Programme managers")
    look(ada, "setup-launch-programme-check")
    button(page, "Launch programme")
    expect(page.locator(".govuk-panel")).to_contain_text("Programme launched")
    look(ada, "setup-launch-programme-done")

    # The manager forms a cohort from the programme page
    pat = signed_in(browser, site, "pat", js=True)
    page = pat.page
    expect(page.get_by_role("button", name="Launch a programme")).to_have_count(0)
    page.get_by_role("link", name="Local Digital Accelerator 2027").click()
    button(page, "Form a cohort")
    page.get_by_label("Cohort name").fill("Cohort 1")
    fill_date(page, "starts_on", "5", "1", "2026")
    fill_date(page, "ends_on", "26", "6", "2026")
    look(pat, "setup-form-cohort")
    button(page, "Continue")
    expect(page.locator(".govuk-summary-list")).to_contain_text("5 January 2026")
    look(pat, "setup-form-cohort-check")
    button(page, "Form cohort")
    expect(page.locator(".govuk-panel")).to_contain_text("Cohort formed")
    look(pat, "setup-form-cohort-done")
    page.get_by_role("link", name="Go to Cohort 1").click()
    cohort_path = page.url.removeprefix(site.url)

    # ... changes its name, through the check page
    button(page, "Change details")
    page.get_by_label("Cohort name").fill("Spring cohort")
    button(page, "Continue")
    button(page, "Change details")
    expect(page.locator(".govuk-panel")).to_contain_text("Cohort details saved")

    # ... registers three councils, finding first that they are not registered
    councils = [
        ("GB-EXE", "Exeter", "district", "130000", "Civica\nIdox"),
        ("GB-PLY", "Plymouth", "unitary", "264700", "Capita"),
        ("GB-TOR", "Torbay", "unitary", "139300", ""),
    ]
    for code, name, council_type, population, suppliers in councils:
        page.goto("/councils")
        button(page, "Register a council")
        page.get_by_label("Council name or code").fill(name)
        button(page, "Search")
        expect(page.locator("#results")).to_contain_text(f"No council matches ‘{name}’")
        if code == "GB-EXE":
            look(pat, "setup-find-council")
        button(page, "Register a council")
        page.get_by_label("Council code").fill(code)
        page.get_by_label("Council name", exact=True).fill(name)
        page.check(f"input[name='council_type'][value='{council_type}']")
        page.check("input[name='region'][value='south_west']")
        page.get_by_label("Population (optional)").fill(population)
        page.get_by_label("Technology suppliers (optional)").fill(suppliers)
        page.get_by_label("History of innovation (optional)").fill(f"{name} tried things")
        if code == "GB-EXE":
            look(pat, "setup-register-council")
        button(page, "Continue")
        if code == "GB-EXE":
            look(pat, "setup-register-council-check")
        button(page, "Register council")
        expect(page.locator(".govuk-panel")).to_contain_text("Council registered")
    assert waymark.records.get_council("GB-EXE").suppliers == ["Civica", "Idox"]

    # ... enrols all three at once, each with its project title
    page.goto(cohort_path)
    button(page, "Enrol councils")
    look(pat, "setup-enrol-choose")
    for _, name, *_ in councils:
        page.get_by_label(name).check()
    button(page, "Continue")
    for _, name, *_ in councils:
        page.get_by_label(f"Project title for {name}").fill(f"{name} bins online")
    look(pat, "setup-enrol-titles")
    button(page, "Continue")
    look(pat, "setup-enrol-check")
    button(page, "Enrol councils")
    expect(page.locator(".govuk-panel")).to_contain_text("3 councils enrolled")

    # ... records each council's financial context and digital maturity from its page
    for index, (code, *_) in enumerate(councils):
        page.goto(f"/councils/{code}")
        button(page, "Record financial context")
        fill_date(page, "assessed_on", "10", "1", "2026")
        page.check("input[name='demand_pressure'][value='high']")
        page.check("input[name='financial_pressure'][value='medium']")
        if index == 0:
            look(pat, "setup-financial-context")
        button(page, "Continue")
        button(page, "Record financial context")
        expect(page.locator(".govuk-panel")).to_contain_text("Financial context recorded")
        page.goto(f"/councils/{code}")
        button(page, "Record digital maturity")
        fill_date(page, "assessed_on", "11", "1", "2026")
        for meaning in (
            "working_in_the_open",
            "agile_methods",
            "collaborative_tools",
            "user_centred_design",
            "new_technology",
        ):
            page.check(f"input[name='level_{meaning}'][value='{1 + index}']")
        if index == 0:
            look(pat, "setup-maturity")
        button(page, "Continue")
        if index == 0:
            look(pat, "setup-maturity-check")
        button(page, "Record digital maturity")
        expect(page.locator(".govuk-panel")).to_contain_text("Digital maturity recorded")
        if index == 0:
            look(pat, "setup-maturity-done")

    # ... records the first entry on Exeter's project, through "Check your answers"
    page.goto(cohort_path)
    page.get_by_role("link", name="Exeter bins online").click()
    button(page, "Record an entry")
    page.get_by_label("Members engaged").check()
    button(page, "Continue")
    page.fill("#how", "Briefing for the cabinet")
    button(page, "Continue")
    expect(page.locator("h1")).to_have_text("Check your answers: members engaged")
    button(page, "Record members engaged")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Members engaged recorded")
    look(pat, "setup-first-entry-recorded")
    # ... and a concern, an entry of another kind, the same way
    button(page, "Record an entry")
    page.get_by_label("Concern raised").check()
    button(page, "Continue")
    page.check("input[name='category'][value='privacy']")
    page.fill("#description", "Residents' addresses in the pilot's spreadsheet")
    button(page, "Continue")
    expect(page.locator("h1")).to_have_text("Check your answers: concern raised")
    button(page, "Record concern raised")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Concern raised recorded")

    # ... starts a second project led by Exeter, through "Check your answers"
    page.goto(cohort_path)
    button(page, "Start another project")
    look(pat, "setup-start-project")
    page.get_by_label(re.compile("Exeter bins online")).check()
    page.get_by_label("Project title").fill("Exeter parking permits")
    button(page, "Continue")
    expect(page.locator("h1")).to_have_text("Check the project before you start it")
    look(pat, "setup-start-project-check")
    button(page, "Start project")
    expect(page.locator(".govuk-panel")).to_contain_text("Project started")
    page.get_by_role("link", name="Go to the project").click()
    expect(page.locator("h1")).to_contain_text("Exeter parking permits")

    # ... then, with JavaScript off, withdraws Torbay with a reason
    pat = signed_in(browser, site, "pat", js=False)
    page = pat.page
    page.goto(cohort_path)
    button(page, "Withdraw a council")
    page.get_by_label("Torbay: Torbay bins online").check()
    page.get_by_label("Why is it withdrawing?").fill("No capacity this year")
    button(page, "Continue")
    look(pat, "setup-withdraw-check-without-javascript", axe=False)  # axe needs JavaScript
    button(page, "Withdraw council")
    expect(page.locator(".govuk-panel")).to_contain_text("Council withdrawn")

    # ... and closes the cohort, warned first of what closing means
    page.goto(cohort_path)
    button(page, "Close cohort")
    expect(page.locator(".govuk-warning-text")).to_contain_text("nothing more can be recorded")
    look(pat, "setup-close-cohort-without-javascript", axe=False)
    button(page, "Close cohort")
    expect(page.locator(".govuk-panel")).to_contain_text("Cohort closed")
    look(pat, "setup-close-cohort-done-without-javascript", axe=False)

    cohort_id = UUID(cohort_path.split("/")[2])
    found = waymark.records.get_cohort(cohort_id)
    assert (found.name, found.closed, found.withdrawn) == ("Spring cohort", True, {"GB-TOR"})
    assert waymark.records.get_council("GB-PLY").maturity[0].levels["agile_methods"] == 2

    # The audit log names who did each thing
    waymark.queries.fresh(waymark.projector.log.head())
    rows, _ = waymark.queries.audit(limit=500)
    by_event = {(r["aggregate_type"], r["event"]): r["actor"] for r in rows}
    assert by_event[("Programme", "Launched")] == "ada"
    assert by_event[("User", "Registered")] == by_event[("User", "RoleGranted")] == "ada"
    assert (
        by_event[("Project", "MembersEngaged")] == by_event[("Project", "ConcernRaised")] == "pat"
    )
    assert [g.role for g in waymark.records.get_user("rio").grants] == ["reviewer"]
    for event in (
        "Formed",
        "DetailsChanged",
        "CouncilEnrolled",
        "ProjectStarted",
        "CouncilWithdrew",
        "Closed",
    ):
        assert by_event[("Cohort", event)] == "pat", event
    for event in ("Registered", "ProfileUpdated", "FinancialContextAssessed", "MaturityAssessed"):
        assert by_event[("Council", event)] == "pat", event
    # ... as the reviewer reads it, signed in with the password the admin gave
    rio = signed_in(browser, site, "rio", js=True)
    page = rio.page
    page.goto("/audit")
    expect(page.locator("main")).to_contain_text("pat")
    expect(page.locator("main")).to_contain_text("Concern raised")
