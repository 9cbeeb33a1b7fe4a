"""Issue 21, point 3, in a real browser: a manager reads their weekly digest, is told
to choose before saving, and turns it off; an admin sees a digest that could not be
sent on the operations page. Every page passes axe and fits 320 px."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, Visit, look

pytestmark = pytest.mark.browser

Open = Callable[..., Visit]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_manager_reads_and_turns_off_their_digest_and_an_admin_sees_a_failed_send(
    site: Site, open_as: Open
) -> None:
    waymark = site.waymark
    waymark.records.record_email(username="manager", email="manager@example.org", actor="test")
    # Given a send that failed: the mail server is down, 60 days on (so projects are quiet)
    settings = waymark.digests.settings
    waymark.digests.settings = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": _closed_port(), "smtp_starttls": False}
    )
    try:
        waymark.catch_up()
        report = waymark.digests.send(waymark.queries.today() + timedelta(days=60))
    finally:
        waymark.digests.settings = settings
    assert [failed[0] for failed in report.failed] == ["manager"]

    manager = open_as("manager")
    page = manager.goto("/account")
    page.get_by_role("link", name="Your weekly digest").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your weekly digest")
    expect(page.get_by_text("It goes to manager@example.org")).to_be_visible()
    look(manager, "digest")
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your weekly digest is off")
    expect(page.get_by_label("No", exact=True)).to_be_checked()
    look(manager, "digest-off")

    admin = open_as("admin")
    page = admin.goto("/")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Operations").click()
    row = page.get_by_role("row", name="manager")
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("ConnectionRefusedError")
    look(admin, "operations")
