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
from uuid import UUID

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.types import Scope

from domain.errors import Conflict, InvalidValue, NotFound
from services.access import Forbidden, Unauthenticated
from web.pages.rendering import Pages, get_pages

log = logging.getLogger(__name__)

PagesDep = Annotated[Pages, Depends(get_pages)]


class PageRoute(APIRoute):
    """A route whose refusals are pages: sign in, not allowed, not found."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        ids = [p.name for p in self.dependant.path_params if p.field_info.annotation is UUID]

        async def page_handler(request: Request) -> Response:
            # A malformed id names no page: 404 before any access check, which could
            # only say that nobody may see what is not there.
            if any(not _is_uuid(request.path_params.get(name, "")) for name in ids):
                return not_found_page(request)
            try:
                return await handler(request)
            except Unauthenticated:
                back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/sign-in?next={quote(back, safe='')}", status_code=303)
            except Forbidden as error:
                return forbidden_page(request, str(error))
            except NotFound as error:
                return not_found_page(request, str(error))
            except RequestValidationError as error:
                in_path = any(e.get("loc", ("",))[0] == "path" for e in error.errors())
                if in_path:
                    return not_found_page(request)
                return _error_page(request, 400, "The address is not right")
            except InvalidValue as error:
                return _error_page(request, 400, "The address is not right", str(error))
            except Conflict as error:
                return _error_page(request, 409, "The record refused this", str(error))

        return page_handler


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def _error_page(
    request: Request, status: int, title: str, detail: str = "", **context: Any
) -> Response:
    pages = get_pages(request)
    return pages.render(
        request, "error.html", status_code=status, title=title, detail=detail, **context
    )


#: Paths that answer clients with problem+json, never with a page.
NOT_PAGES = ("/api/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/static/", "/assets/")


def is_page_request(path: str, accept: str) -> bool:
    """A browser asking for a page: outside the API, and taking HTML."""
    return not path.startswith(NOT_PAGES) and path != "/api" and "text/html" in accept


def not_found_page(request: Request, detail: str = "") -> Response:
    return _error_page(
        request,
        404,
        "Page not found",
        detail,
        paragraphs=[
            "If you typed the web address, check it is correct.",
            "If you pasted the web address, check you copied the entire address.",
        ],
    )


def forbidden_page(request: Request, why: str) -> Response:
    """Why not, and whom to ask: roles are given by programme managers and admins."""
    doing = request.method not in ("GET", "HEAD")
    principal = getattr(request.state, "principal", None)
    who = f"Your account ({principal.username})" if principal is not None else "Your account"
    return _error_page(
        request,
        403,
        "You cannot do this" if doing else "You cannot see this page",
        paragraphs=[
            f"{who} does not have a role that allows it ({why}).",
            "Roles are given by a programme manager (for their programme and its councils) "
            "or by an admin of Waymark. Ask one of them if you need access.",
            *(
                ["If you were filling in a form, go back, reload the page and try again."]
                if "CSRF" in why
                else []
            ),
        ],
    )


def server_error_page(request: Request) -> Response:
    return _error_page(
        request,
        500,
        "Sorry, there is a problem with the service",
        paragraphs=[
            "Try again later. Nothing you sent was recorded unless a page said so.",
            "If it happens again, tell an admin of Waymark the time it happened.",
        ],
    )


def http_error_page(request: Request, status: int) -> Response | None:
    """A page for an HTTP error outside any page route (an unknown address, say)."""
    if status == 404:
        return not_found_page(request)
    return None


def too_large_page(scope: Scope, limit: int) -> bytes | None:
    """The 413 page for a form too large to read, if a browser sent it (else None).

    The body is refused unread, so what was typed cannot be shown again here: the
    page says so and offers the way back to the form, which the browser keeps.
    """
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    if not is_page_request(scope.get("path", ""), headers.get("accept", "")):
        return None
    app = scope.get("app")
    pages: Pages | None = getattr(getattr(app, "state", None), "pages", None)
    if pages is None:
        return None
    back = headers.get("referer", "")
    back_path = local_path("/" + back.split("/", 3)[3] if back.count("/") >= 3 else "", "")
    size = f"{limit // 1_000_000} MB" if limit >= 1_000_000 else f"{limit // 1000} KB"
    html = pages.env.get_template("error.html").render(
        path=scope.get("path", ""),
        principal=None,
        may_audit=False,
        csrf_token="",
        title="Your answers are too long to send",
        back=back_path,
        paragraphs=[
            f"A form can send at most {size} at a time. Nothing was recorded.",
            "Go back to the form with your browser's back button: it keeps what you typed. "
            "Shorten the longest answers, then send the form again.",
        ],
    )
    return html.encode()


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
