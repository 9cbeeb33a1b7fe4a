"""What every page route shares: sign-in, access checks and errors as pages.

Page routes use the API's own dependencies (``current_principal``, ``allow``),
so the same access rules apply; only the answers differ: an anonymous browser
is sent to the sign-in page, and refusals are pages, not problem+json.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from domain.errors import Conflict, InvalidValue, NotFound
from services.access import Forbidden, Unauthenticated
from web.pages.rendering import Pages, get_pages

log = logging.getLogger(__name__)

PagesDep = Annotated[Pages, Depends(get_pages)]


class PageRoute(APIRoute):
    """A route whose refusals are pages: sign in, not allowed, not found."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Unauthenticated:
                back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/sign-in?next={quote(back, safe='')}", status_code=303)
            except Forbidden:
                return _error_page(request, 403, "You cannot see or do this")
            except NotFound as error:
                return _error_page(request, 404, "Page not found", str(error))
            except RequestValidationError as error:
                in_path = any(e.get("loc", ("",))[0] == "path" for e in error.errors())
                if in_path:
                    return _error_page(request, 404, "Page not found")
                return _error_page(request, 400, "The address is not right")
            except InvalidValue as error:
                return _error_page(request, 400, "The address is not right", str(error))
            except Conflict as error:
                return _error_page(request, 409, "The record refused this", str(error))

        return page_handler


def _error_page(request: Request, status: int, title: str, detail: str = "") -> Response:
    pages = get_pages(request)
    return pages.render(request, "error.html", status_code=status, title=title, detail=detail)


async def form_csrf_token(request: Request) -> None:
    """Hand a form's CSRF field to the session check in ``current_principal``.

    Listed before ``allow(...)`` so that the token is there when the check runs.
    """
    if request.method == "POST":
        form = await request.form()
        token = form.get("csrf_token")
        request.state.csrf_form_token = token if isinstance(token, str) else ""


def local_path(target: str | None, default: str = "/") -> str:
    """Only a path on this site: never an absolute or scheme-relative address."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
