"""Telling the person at the terminal where Waymark is and how to sign in to the demo."""

from __future__ import annotations

from services.demo import DemoSignIn


def start_up_block(host: str, port: int, sign_ins: list[DemoSignIn]) -> str:
    """What `waymark serve` prints, as plain text, once it is serving (web.logs)."""
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}/"
    lines = ["", f"Waymark is serving at {url}", f"API documentation: {url}docs"]
    if sign_ins:
        width = max(len(f"{s.username} / {s.password}") for s in sign_ins)
        lines += ["", "Demo sign-ins (demo mode only): user / password, role, for"]
        lines += [
            f"  {f'{s.username} / {s.password}':<{width}}   {s.role}, {s.scope}" for s in sign_ins
        ]
        lines += ["", "API tokens (send as 'Authorization: Bearer <token>'):"]
        lines += [f"  {s.username}: {s.token}" for s in sign_ins]
    lines += ["", "Stop with Ctrl+C.", ""]
    return "\n".join(lines)
