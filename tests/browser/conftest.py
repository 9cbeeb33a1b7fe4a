"""A real server and a real browser: Debian's Chromium, driven by Playwright.

One server per test module (uvicorn in a thread, on a free port, with the demo
record in a fresh SQLite store) and one browser per session. Without
/usr/bin/chromium the browser tests are skipped, except under ``CI=true``,
where they fail.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from services.container import Waymark
from services.settings import Settings
from tests.conftest import IN_CI, TEST_SECRET, fresh_postgres_database
from web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "pages"
#: WCAG 2.2 A and AA, and axe's best practices (landmarks, headings, and the like).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
DESKTOP, PHONE = 1280, 320

pytestmark = pytest.mark.browser


def password_of(username: str) -> str:
    """Demo sign-ins have known passwords (services/demo.py)."""
    return f"demo-{username}-password"


@dataclass
class Site:
    url: str
    waymark: Waymark
    programme: str
    cohort: str
    projects: dict[str, str]
    states: dict[str, Any] = field(default_factory=dict)

    def project_of(self, code: str) -> UUID:
        return UUID(self.projects[code])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"browser tests are required under CI: {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def site_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """The demo store for this module's tests, on each backend in turn."""
    common = {
        "data_dir": tmp_path_factory.mktemp("site"),
        "secret_key": TEST_SECRET,
        "cookie_secure": False,
        "projection_poll_interval": 0.05,
        "demo": True,
    }
    if request.param == "postgres":
        for url in fresh_postgres_database(request.getfixturevalue("postgres_admin")):
            yield Settings(database_url=url, **common)
    else:
        yield Settings(**common)


@pytest.fixture(scope="module")
def site(browser: Browser, site_settings: Settings) -> Iterator[Site]:
    """The demo record served on a free port, for this module's tests."""
    if not (ROOT / "web" / "static" / "vendor" / "waymark.css").exists():
        pytest.fail("the front-end assets are not built: run `make assets`")
    settings = site_settings
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
    waymark.queries.fresh(waymark.projector.log.head())
    programme = waymark.queries.programmes()[0]["programme_id"]
    cohort = waymark.queries.cohorts_of(UUID(programme))[0]["cohort_id"]
    # Each council's first project in the cohort (Exeter starts a second in week 5)
    projects = {
        code: str(project_id)
        for code, project_id in waymark.records.get_cohort(UUID(cohort)).projects.items()
    }
    url = f"http://127.0.0.1:{port}"
    found = Site(url, waymark, programme, cohort, projects)
    for username in ("admin", "manager", "reviewer", "exeter"):
        found.states[username] = _sign_in(browser, url, username)
    try:
        yield found
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _sign_in(browser: Browser, url: str, username: str) -> Any:
    """Sign in through the sign-in page once; tests reuse the session."""
    context = browser.new_context(base_url=url)
    page = context.new_page()
    page.goto("/sign-in")
    page.fill("#username", username)
    page.fill("#password", password_of(username))
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{url}/")
    state = context.storage_state()
    context.close()
    return state


@dataclass
class Visit:
    """One browser tab, remembering every console error and uncaught exception."""

    page: Page
    problems: list[str]

    def goto(self, path: str) -> Page:
        self.page.goto(path)
        return self.page


@pytest.fixture
def open_as(site: Site, browser: Browser) -> Iterator[Callable[..., Visit]]:
    """``open_as("manager", js=False)``: a tab signed in as a demo user (or ``None``)."""
    contexts: list[BrowserContext] = []

    def opener(username: str | None, *, js: bool = True) -> Visit:
        context = browser.new_context(
            base_url=site.url,
            viewport={"width": DESKTOP, "height": 900},
            java_script_enabled=js,
            storage_state=site.states[username] if username else None,
        )
        contexts.append(context)
        page = context.new_page()
        problems: list[str] = []

        def console(message: ConsoleMessage) -> None:
            # A page's own status (a 403 or 404 page) is not a problem; its parts failing are.
            if message.type == "error" and not message.text.startswith("Failed to load resource"):
                problems.append(message.text)

        def response(answer: Response) -> None:
            if answer.status >= 400 and answer.request.resource_type != "document":
                problems.append(f"{answer.status} {answer.url}")

        page.on("console", console)
        page.on("response", response)
        page.on("pageerror", lambda e: problems.append(str(e)))
        return Visit(page, problems)

    yield opener
    for context in contexts:
        context.close()


#: What Chromium says when a script is added to a page that a click is navigating away
#: from (the click returns before the next page has loaded).
_NAVIGATING = ("Cannot read properties of null", "Execution context was destroyed")


def _add_axe(page: Page) -> None:
    """Add axe-core to the page once it has loaded; if a navigation was still under way,
    to the page it led to."""
    for attempt in range(3):
        page.wait_for_load_state("load")
        try:
            page.add_script_tag(url="/static/vendor/axe.min.js")
            return
        except PlaywrightError as error:
            if attempt == 2 or not any(text in str(error) for text in _NAVIGATING):
                raise
            time.sleep(0.2)


def look(visit: Visit, name: str, *, axe: bool = True) -> None:
    """Check the page as it is now: no console errors (so nothing the CSP refused), no
    WCAG 2.2 A or AA violations and no breach of its best practices that axe-core finds
    (content outside landmarks included), nothing wider than a 320 px phone;
    and keep a screenshot at each width in test-artifacts/pages/."""
    page = visit.page
    assert not visit.problems, f"{name}: console errors {visit.problems}"
    if axe:
        _add_axe(page)
        violations = page.evaluate(
            """async (tags) => {
                // Every rule on the whole page, but "all content in landmarks" (region):
                // GOV.UK puts the back link before <main>, where that rule flags it, so
                // region is checked apart, on everything but the back link.
                const all = await axe.run(document, {
                    runOnly: {type: "tag", values: tags}, rules: {region: {enabled: false}},
                });
                const region = await axe.run(
                    {exclude: [".govuk-back-link"]}, {runOnly: {type: "rule", values: ["region"]}},
                );
                return [...all.violations, ...region.violations].map(v => ({
                    rule: v.id, impact: v.impact, help: v.help,
                    where: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
                }));
            }""",
            AXE_TAGS,
        )
        assert violations == [], f"{name}: " + json.dumps(violations, indent=1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{DESKTOP}.png"), full_page=True)
    page.set_viewport_size({"width": PHONE, "height": 800})
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE, f"{name}: {width} px wide on a {PHONE} px phone"
        page.screenshot(path=str(ARTIFACTS / f"{name}-{PHONE}.png"), full_page=True)
    finally:
        page.set_viewport_size({"width": DESKTOP, "height": 900})
    assert not visit.problems, f"{name}: console errors {visit.problems}"
