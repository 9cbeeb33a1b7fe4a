"""Signing in and out in a browser; who am I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from services.access import Permission, Unauthenticated
from web.deps import (
    PrincipalDep,
    SameOriginDep,
    WaymarkDep,
    allow,
    client_address,
    end_browser_session,
    start_browser_session,
)
from web.schemas import PROBLEM_RESPONSES

router = APIRouter(tags=["sign-in"], responses=PROBLEM_RESPONSES)


@router.post("/auth/sign-in", dependencies=[SameOriginDep])
def sign_in(
    request: Request,
    response: Response,
    waymark: WaymarkDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
) -> dict[str, Any]:
    """Start a browser session: a secure, HTTP-only, same-site cookie.

    Failed attempts are limited per account and per address (429 with Retry-After);
    a form posted from another site is refused (403).
    """
    session_id = waymark.sign_ins.sign_in(username, password, client_address(request))
    if session_id is None:
        raise Unauthenticated("the username or password is not right")
    csrf_token = start_browser_session(response, waymark, session_id)
    return {"username": username.lower(), "csrf_token": csrf_token}


@router.post("/auth/sign-out", dependencies=[SameOriginDep])
def sign_out(request: Request, response: Response, waymark: WaymarkDep) -> dict[str, Any]:
    """End the browser session."""
    end_browser_session(request, response, waymark)
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
