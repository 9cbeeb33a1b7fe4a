"""Telling a person at the terminal how to sign in to the demo."""

from __future__ import annotations

from rich.console import Console

from services.demo import DemoSignIn


def announce_demo_sign_ins(sign_ins: list[DemoSignIn]) -> None:
    console = Console(soft_wrap=True)
    console.print("[bold]Demo sign-ins[/bold] (demo mode only): user / password, role, for")
    for s in sign_ins:
        console.print(f"  {s.username} / {s.password}   {s.role}, {s.scope}")
    console.print("API tokens (send as 'Authorization: Bearer <token>'):")
    for s in sign_ins:
        console.print(f"  {s.username}: {s.token}")
