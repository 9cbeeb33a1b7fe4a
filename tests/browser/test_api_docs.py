"""Issue 16, point 9: the API documentation runs from our own copy of Swagger UI,
under a Content-Security-Policy that allows no inline script."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.browser.conftest import Site, Visit

Open = Callable[..., Visit]


def test_the_api_docs_draw_every_operation_without_a_csp_refusal(site: Site, open_as: Open) -> None:
    visit = open_as(None)
    requested: list[str] = []
    visit.page.on("request", lambda request: requested.append(request.url))
    page = visit.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    expect(page.locator(".opblock-summary-path", has_text="/api/programmes").first).to_be_visible()
    # Nothing the CSP refused (a refusal is a console error), nothing from elsewhere
    assert not visit.problems, visit.problems
    assert requested and all(url.startswith(site.url) for url in requested), requested
