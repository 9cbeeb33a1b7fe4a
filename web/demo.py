"""Telling a person at the terminal how to sign in to the demo."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from services.demo import DemoSignIn


def announce_demo_sign_ins(sign_ins: list[DemoSignIn]) -> None:
    table = Table("user", "role", "for", "password", title="Demo sign-ins (demo mode only)")
    for s in sign_ins:
        table.add_row(s.username, s.role, s.scope, s.password)
    console = Console()
    console.print(table)
    console.print("API tokens (send as 'Authorization: Bearer <token>'):")
    for s in sign_ins:
        console.print(f"  {s.username}: {s.token}", soft_wrap=True)
