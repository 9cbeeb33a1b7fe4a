"""Signing in and out in a browser, with the same session as ``POST /auth/sign-in``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from services.sign_in import TooManyAttempts
from web.deps import (
    PrincipalDep,
    SameOriginDep,
    WaymarkDep,
    client_address,
    end_browser_session,
    start_browser_session,
)
from web.pages.entry_forms import FieldError, by_input
from web.pages.routing import PageRoute, PagesDep, form_csrf_token, local_path

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/sign-in")
def sign_in_page(
    request: Request, pages: PagesDep, next: str = "/", signed_out: bool = False
) -> HTMLResponse:
    return pages.render(
        request, "sign_in.html", next=local_path(next), values={}, errors=[], signed_out=signed_out
    )


@router.post("/sign-in", dependencies=[SameOriginDep])
def sign_in(
    request: Request,
    waymark: WaymarkDep,
    pages: PagesDep,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    errors = []
    if not username.strip():
        errors.append(FieldError("username", "Enter your username", "#username"))
    if not password:
        errors.append(FieldError("password", "Enter your password", "#password"))
    if not errors:
        try:
            session_id = waymark.sign_ins.sign_in(
                username.strip(), password, client_address(request)
            )
        except TooManyAttempts as refusal:
            session_id = None
            minutes = max(1, -(-refusal.retry_after // 60))
            wait = f"{minutes} minutes" if minutes > 1 else "a minute"
            errors.append(
                FieldError("", f"Too many sign-ins. Wait {wait}, then try again.", "#username")
            )
        if session_id is not None:
            response = RedirectResponse(local_path(next), status_code=303)
            start_browser_session(response, waymark, session_id)
            return response
        if not errors:
            errors.append(FieldError("", "The username or password is not right", "#username"))
    return pages.render(
        request,
        "sign_in.html",
        status_code=400 if len(errors) > 1 or errors[0].input_name else 401,
        next=local_path(next),
        values={"username": username},
        errors=errors,
        error_for=by_input(errors),
        signed_out=False,
    )


@router.post("/sign-out", dependencies=[SameOriginDep, Depends(form_csrf_token)])
def sign_out(request: Request, waymark: WaymarkDep, principal: PrincipalDep) -> Response:
    """End the browser session; a signed-in session's form carries its CSRF token."""
    response = RedirectResponse("/sign-in?signed_out=true", status_code=303)
    end_browser_session(request, response, waymark)
    return response
