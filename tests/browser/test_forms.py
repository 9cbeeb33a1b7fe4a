"""Issue 5: every form takes valid input and refuses invalid input, with and without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, Visit, look
from web.pages.entry_forms import ENTRY_MODELS, FORMS, RECORDABLE, FormField
from web.pages.words import kind_name

pytestmark = pytest.mark.browser

Open = Callable[..., Visit]
JS = [pytest.param(True, id="js"), pytest.param(False, id="no-js")]


def example(kind: str, js: bool) -> dict[str, Any]:
    """The API's own example of the kind (web/schemas.py), as a person would type it."""
    schema = ENTRY_MODELS[kind].model_json_schema()
    values = {k: v for k, v in schema["examples"][0].items() if k != "kind"}
    if kind == "phase_changed":  # each run moves Hackney's project somewhere new
        values["phase"] = "private_beta" if js else "public_beta"
    return values


def fill(page: Page, field: FormField, value: Any) -> None:
    if field.widget in ("radios", "entry"):
        page.check(f"input[name='{field.input_name}'][value='{value}']")
    elif field.widget == "lines":
        page.fill(f"#{field.input_name}", "\n".join(value))
    elif field.widget == "date":
        year, month, day = str(value).split("-")
        fill_date(page, field.input_name, day, month, year)
    elif field.widget == "flag":
        if value:
            page.check(f"input[name='{field.input_name}']")
    else:
        page.fill(f"#{field.input_name}", str(value))


def fill_date(page: Page, name: str, day: str, month: str, year: str) -> None:
    page.fill(f"#{name}-day", day)
    page.fill(f"#{name}-month", month)
    page.fill(f"#{name}-year", year)


@pytest.mark.parametrize("js", JS)
@pytest.mark.parametrize("kind", RECORDABLE)
def test_an_entry_form_keeps_what_was_typed_when_it_is_wrong_and_records_when_it_is_right(
    site: Site, open_as: Open, kind: str, js: bool
) -> None:
    project = site.projects["GB-HCK"]
    values = example(kind, js)
    if kind == "concern_resolved":  # an open concern to resolve
        values["concern_entry_id"] = str(
            site.waymark.records.record_entry(
                project_id=UUID(project),
                kind="concern_raised",
                decided_on=None,
                values={"category": "skills", "description": f"Nobody knows Python ({js})."},
                actor="manager",
            ).id
        )
    if kind == "output_reused":  # the demo's output (Exeter's), reused by Hackney
        outputs = site.waymark.queries.outputs(UUID(site.programme))
        values["output_entry_id"] = outputs[-1]["entry_id"]
        values["council_code"] = "GB-HCK"
    if kind in ("partner_joined", "partner_left"):  # a council not yet a partner, or one that is
        code = "GB-EXE" if js else "GB-DEV"
        values["council_code"] = code
        partners = site.waymark.records.get_project(UUID(project)).partners
        if (code in partners) != (kind == "partner_left"):
            site.waymark.records.record_entry(
                project_id=UUID(project),
                kind="partner_left" if code in partners else "partner_joined",
                decided_on=None,
                values={"council_code": code, "reason": f"Set up for the form ({js})"},
                actor="manager",
            )
    if kind in ("benefit_measured", "benefit_closed"):  # a benefit to measure or close
        values["benefit_entry_id"] = str(
            site.waymark.records.record_entry(
                project_id=UUID(project),
                kind="benefit_defined",
                decided_on=None,
                values={
                    **example("benefit_defined", js),
                    "measure": f"Repairs reported online ({kind}, {js})",
                },
                actor="manager",
            ).id
        )
    if kind == "support_answered":  # a wish to answer
        values["request_entry_id"] = str(
            site.waymark.records.record_entry(
                project_id=UUID(project),
                kind="support_requested",
                decided_on=None,
                values={"wish": f"A peer council's hour ({js})", "from_whom": "lga"},
                actor="manager",
            ).id
        )
    if kind in ("payment_made", "grant_closed"):  # a grant to pay or close
        values["grant_entry_id"] = str(
            site.waymark.records.record_entry(
                project_id=UUID(project),
                kind="grant_awarded",
                decided_on=None,
                values={**example("grant_awarded", js), "funder": f"Ministry ({kind}, {js})"},
                actor="manager",
            ).id
        )
    visit = open_as("manager", js=js)
    page = visit.goto(f"/projects/{project}/entries/new/{kind}")

    # Every answer given, but a date that does not exist
    for field in FORMS[kind]:
        if field.name in values:
            fill(page, field, values[field.name])
    fill_date(page, "decided_on", "31", "2", "2026")
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    date_label = next(f.label for f in FORMS[kind] if f.name == "decided_on")  # "Date paid"...
    expect(summary).to_contain_text(f"{date_label} must be a real date")
    expect(page.locator("#decided_on-day")).to_have_value("31")
    for field in FORMS[kind]:
        if field.name in values and field.widget in ("text", "textarea", "money", "number"):
            expect(page.locator(f"#{field.input_name}")).to_have_value(str(values[field.name]))
        elif field.name in values and field.widget in ("radios", "entry"):
            chosen = page.locator(f"input[name='{field.input_name}'][value='{values[field.name]}']")
            expect(chosen).to_be_checked()
    if js:
        expect(summary).to_be_focused()
        look(visit, f"form-{kind}-with-errors")

    # The error summary's link leads to the field at fault
    summary.get_by_role("link").first.click()
    expect(page.locator("#decided_on-day")).to_be_focused()

    fill_date(page, "decided_on", "", "", "")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text(f"Check your answers: {kind_name(kind).lower()}")
    page.get_by_role("button", name=f"Record {kind_name(kind).lower()}").click()
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text(f"{kind_name(kind)} recorded")
    assert not visit.problems, visit.problems


@pytest.mark.parametrize("js", JS)
def test_a_correction_starts_from_the_entry_and_links_both_ways(
    site: Site, open_as: Open, js: bool
) -> None:
    project = site.projects["GB-HCK"]
    original = site.waymark.records.record_entry(
        project_id=UUID(project),
        kind="capacity_decided",
        decided_on=None,
        values={"capability": f"Repairs scheduling ({js})", "choice": "buy", "rationale": "Cheap."},
        actor="manager",
    ).id
    visit = open_as("manager", js=js)
    page = visit.goto(f"/projects/{project}")
    page.locator(f"#entry-{original}").get_by_role("link", name="Correct this entry").click()
    expect(page.locator("#capability")).to_have_value(f"Repairs scheduling ({js})")
    expect(page.get_by_label("Buy")).to_be_checked()

    # Nothing changed and no reason given
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select an answer to ‘Why is it being corrected?’")
    expect(summary).to_contain_text("Enter explanation")
    page.get_by_label("Change of mind").check()
    page.fill("#correction-reason", "The board preferred to share.")
    page.get_by_role("button", name="Continue").click()
    expect(summary).to_contain_text("Change at least one answer")
    expect(page.locator("#correction-reason")).to_have_value("The board preferred to share.")
    if js:
        look(visit, "correction-with-errors")

    page.get_by_label("Share").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Check your correction")
    page.get_by_role("button", name="Record the correction").click()
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("Correction recorded")
    expect(banner).to_contain_text("How the capability will be provided: Share, was Buy.")
    corrected = page.locator(f"#entry-{original}")
    expect(corrected).to_contain_text("Share, was Buy")
    expect(corrected.get_by_text("Corrected", exact=True)).to_be_visible()
    expect(corrected.get_by_role("link", name="Correct this entry")).to_have_count(0)
    corrected.get_by_role("link", name="See the correction").click()
    correction_id = page.url.rsplit("#entry-", 1)[1]
    correction = page.locator(f"#entry-{correction_id}")
    expect(correction).to_contain_text("How the capability will be provided becomes")
    correction.get_by_role("link", name="See the entry it corrects").click()
    assert page.url.endswith(f"#entry-{original}")
    assert not visit.problems, visit.problems


@pytest.mark.parametrize("js", JS)
def test_signing_in_and_out_works_with_and_without_javascript(
    site: Site, open_as: Open, js: bool
) -> None:
    visit = open_as(None, js=js)
    page = visit.goto("/sign-in")
    page.fill("#username", "exeter")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your password")
    expect(page.locator("#username")).to_have_value("exeter")
    page.fill("#password", "demo-exeter-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as exeter")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have signed out")
    visit.goto("/")
    expect(page.locator("h1")).to_have_text("Sign in to Waymark")


@pytest.mark.parametrize("js", JS)
def test_check_your_answers_comes_before_recording_and_change_keeps_what_was_typed(
    site: Site, open_as: Open, js: bool
) -> None:
    project = site.projects["GB-HCK"]
    visit = open_as("manager", js=js)
    page = visit.goto(f"/projects/{project}/entries/new/members_engaged")
    page.fill("#how", f"Briefing at the cabinet ({js})")
    page.fill("#response", "Asked about costs.")
    page.get_by_role("button", name="Continue").click()

    # The answers are shown, and nothing is recorded yet
    expect(page.locator("h1")).to_have_text("Check your answers: members engaged")
    answers = page.locator(".govuk-summary-list")
    expect(answers).to_contain_text(f"Briefing at the cabinet ({js})")
    expect(answers).to_contain_text("Today")
    if js:  # axe needs JavaScript
        look(visit, "check-your-answers")

    # Changing an answer goes back to the form with everything typed kept
    page.get_by_role("button", name="Change How members were engaged").click()
    expect(page.locator("#how")).to_have_value(f"Briefing at the cabinet ({js})")
    expect(page.locator("#response")).to_have_value("Asked about costs.")
    page.fill("#how", f"Briefing at full council ({js})")
    page.get_by_role("button", name="Continue").click()
    expect(answers).to_contain_text(f"Briefing at full council ({js})")
    page.get_by_role("button", name="Record members engaged").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Members engaged recorded")
    expect(page.locator("main")).to_contain_text(f"Briefing at full council ({js})")
    assert not visit.problems, visit.problems


@pytest.mark.parametrize("js", JS)
def test_a_date_before_the_cohort_is_recorded_only_when_confirmed(
    site: Site, open_as: Open, js: bool
) -> None:
    project = site.projects["GB-HCK"]
    visit = open_as("manager", js=js)
    page = visit.goto(f"/projects/{project}/entries/new/support_requested")
    page.fill("#wish", f"Peers who did this before ({js})")
    page.get_by_label("LGA").check()
    fill_date(page, "decided_on", "1", "3", "2020")
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Date decided must be the same as or after")
    expect(summary).to_contain_text("unless you confirm you are recording an earlier decision")
    if js:
        look(visit, "earlier-decision-refused")

    page.get_by_label("I am recording an earlier decision").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-summary-list")).to_contain_text("Recording an earlier decision")
    expect(page.locator(".govuk-summary-list")).to_contain_text("1 March 2020")
    page.get_by_role("button", name="Record support requested").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("recorded")
    expect(page.locator("main")).to_contain_text("Confirmed as an earlier decision")
    assert not visit.problems, visit.problems


@pytest.mark.parametrize("js", JS)
def test_long_text_shows_its_limit_with_the_character_count(
    site: Site, open_as: Open, js: bool
) -> None:
    project = site.projects["GB-HCK"]
    visit = open_as("manager", js=js)
    page = visit.goto(f"/projects/{project}/entries/new/members_engaged")
    count = page.locator(".govuk-character-count", has=page.locator("#how"))
    if js:
        status = count.locator(".govuk-character-count__status")
        expect(status).to_have_text("You have 20,000 characters remaining")
        page.fill("#how", "x" * 20_005)
        expect(status).to_have_text("You have 5 characters too many")
        look(visit, "character-count-over")
    else:
        expect(page.locator("#how-info")).to_contain_text("You can enter up to 20000 characters")
        page.fill("#how", "x" * 20_005)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "How members were engaged must be 20,000 characters or less"
    )
    assert not visit.problems, visit.problems


def test_error_pages_are_govuk_pages(site: Site, open_as: Open) -> None:
    visit = open_as("manager", js=True)
    page = visit.page
    project = site.projects["GB-HCK"]
    # (an unknown but well-formed id is refused like one the reader may not see: deps.allow)
    for path in ("/no-such-page", "/projects/not-an-id", f"/projects/{project}/entries/new/x"):
        response = page.goto(site.url + path)
        assert response is not None and response.status == 404, path
        expect(page.locator("h1")).to_have_text("Page not found")
    look(visit, "page-not-found")

    # A form too large to send: a page that says so, with the way back
    visit.goto(f"/projects/{project}/entries/new/members_engaged")
    page.eval_on_selector("#how", "(area) => { area.value = 'x'.repeat(1100000); }")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Your answers are too long to send")
    expect(page.locator(".govuk-back-link")).to_have_attribute(
        "href", f"/projects/{project}/entries/new/members_engaged"
    )
    look(visit, "too-large")
    page.go_back()
    expect(page.locator("h1")).to_have_text("Members engaged")
