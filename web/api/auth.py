"""Signing in and out in a browser; who am I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from services.access import Permission, Unauthenticated
from web.deps import SESSION_COOKIE, PrincipalDep, WaymarkDep, allow
from web.schemas import PROBLEM_RESPONSES

router = APIRouter(tags=["sign-in"], responses=PROBLEM_RESPONSES)


@router.post("/auth/sign-in")
def sign_in(
    request: Request,
    response: Response,
    waymark: WaymarkDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
) -> dict[str, Any]:
    """Start a browser session: a secure, HTTP-only, same-site cookie."""
    address = request.client.host if request.client else "unknown"
    session_id = waymark.sign_in(username, password, address)
    if session_id is None:
        raise Unauthenticated("the username or password is not right")
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(waymark.settings.session_hours * 3600),
        httponly=True,
        secure=waymark.settings.cookie_secure,
        samesite="strict",
        path="/",
    )
    return {"username": username.lower(), "csrf_token": waymark.credentials.csrf_token(session_id)}


@router.post("/auth/sign-out")
def sign_out(request: Request, response: Response, waymark: WaymarkDep) -> dict[str, Any]:
    """End the browser session."""
    if session_id := request.cookies.get(SESSION_COOKIE):
        waymark.credentials.end_session(session_id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"signed_out": True}


@router.get("/api/me", dependencies=[allow(Permission.READ)])
def me(principal: PrincipalDep) -> dict[str, Any]:
    """The signed-in user and what they have been granted."""
    assert principal is not None
    return {
        "username": principal.username,
        "grants": [
            {
                "role": g.role,
                "programme_id": str(g.programme_id) if g.programme_id else None,
                "council_code": g.council_code,
            }
            for g in principal.grants
        ],
    }
