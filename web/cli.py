"""The ``waymark`` command line (Typer)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import structlog
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from domain.errors import DomainError
from services.chained_recorders import StoreNotEmpty
from services.container import Waymark, rebuild_read_models
from services.demo import load_and_sign_demo
from services.ledger import LedgerTampered, read_checkpoints, trusted_from, verify_export
from services.ledger_chain import Verdict
from services.settings import Settings
from web.logs import configure_logging
from web.server import prepare
from web.server import serve as run_server

app = typer.Typer(
    help="Waymark: the decision record of a digital accelerator.", no_args_is_help=True
)
projections_app = typer.Typer(help="Read models: run, rebuild, status.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
users_app = typer.Typer(help="Users, their roles and their API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")
CLI_ACTOR = "command-line"

ProgrammeOption = Annotated[
    str | None, typer.Option("--programme", help="Programme id (for programme_manager).")
]
CouncilOption = Annotated[
    str | None, typer.Option("--council", help="Council code (for participant).")
]
RoleOption = Annotated[
    str, typer.Option("--role", help="admin, programme_manager, reviewer or participant.")
]
console = Console()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Load demo data into an empty store.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    shutdown_timeout: Annotated[
        float, typer.Option(min=0, help="Seconds to finish requests in flight on SIGTERM.")
    ] = 10.0,
) -> None:
    """Serve the API and pages."""
    if demo:
        os.environ["WAYMARK_DEMO"] = "true"
    run_server(host=host, port=port, workers=workers, shutdown_timeout=shutdown_timeout)


@app.command()
def init() -> None:
    """Create the event store and read-model tables, then exit (safe to run again)."""
    settings = Settings()
    configure_logging(settings.log_level)
    prepare(settings)


@app.command()
def demo() -> None:
    """Load the demo record into an empty store."""
    waymark = Waymark(Settings())
    try:
        if load_and_sign_demo(waymark):
            console.print("Demo record loaded.")
        else:
            console.print("The store already has events: demo not loaded.")
            raise typer.Exit(1)
    finally:
        waymark.close()


def _progress_bar() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


@projections_app.command("rebuild")
def projections_rebuild(
    name: Annotated[str | None, typer.Argument(help="One read model; all if not given.")] = None,
) -> None:
    """Drop read models and build them again from the event log."""
    waymark = Waymark(Settings(in_process_projections=False))
    try:
        total = waymark.projector.log.head()
        with _progress_bar() as progress:
            task = progress.add_task("Rebuilding", total=total)
            try:
                count = rebuild_read_models(
                    waymark.settings, [name] if name else None, lambda n: progress.advance(task, n)
                )
            except KeyError as error:
                console.print(f"[red]{error.args[0]}[/red]")
                raise typer.Exit(2) from None
        console.print(f"Rebuilt from {count} events.")
    finally:
        waymark.close()


@projections_app.command("status")
def projections_status() -> None:
    """Each read model's position in the log and how far it lags."""
    waymark = Waymark(Settings(in_process_projections=False))
    try:
        table = Table("read model", "version", "position", "head", "lag")
        for status in waymark.projector.status():
            table.add_row(
                status.name,
                str(status.version),
                str(status.position),
                str(status.head),
                str(status.lag),
            )
        console.print(table)
    finally:
        waymark.close()


@projections_app.command("run")
def projections_run() -> None:
    """Keep the read models up to date, as a worker process, until stopped."""
    settings = Settings(in_process_projections=False)
    configure_logging(settings.log_level)
    waymark = Waymark(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    structlog.get_logger("waymark.projections").info("projection worker running")
    try:
        waymark.projector.run(settings.projection_poll_interval, stop)
    finally:
        waymark.close()


def _run(action: Callable[[Waymark], None]) -> None:
    """Run one command against the store, turning refusals into a message and exit 2."""
    waymark = Waymark(Settings(in_process_projections=False))
    try:
        action(waymark)
    except DomainError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    finally:
        waymark.close()


def _print_verdict(verdict: Verdict) -> None:
    colour = "green" if verdict.ok else "red"
    console.print(f"[{colour}]{escape(verdict.summary())}[/{colour}]")
    if not verdict.ok:
        raise typer.Exit(1)


@app.command()
def verify(
    offline: Annotated[
        Path | None,
        typer.Option(
            help="Check an export folder (from `waymark export`) with no database.",
            file_okay=False,
            exists=True,
        ),
    ] = None,
    public_key: Annotated[
        list[Path] | None,
        typer.Option(
            help="A public key PEM to trust (repeatable). Offline, these replace the key in "
            "the export; online, they add to this server's key (e.g. keys it used before).",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    checkpoints: Annotated[
        Path | None,
        typer.Option(
            help="A checkpoints.json kept from an earlier export: its signed checkpoints "
            "must still match the record.",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
) -> None:
    """Check the record against its hash chain and signed checkpoints; exit 1 if it fails."""
    trusted = trusted_from(public_key or [])
    kept = read_checkpoints(checkpoints) if checkpoints else []
    if offline is not None:
        with _progress_bar() as progress:
            task = progress.add_task("Checking", total=None)
            verdict = verify_export(
                offline, trusted or None, kept, lambda n: progress.advance(task, n)
            )
        console.print(f"Trusting key(s): {', '.join(verdict.key_ids)}")
        _print_verdict(verdict)
        return
    waymark = Waymark(Settings(in_process_projections=False))
    try:
        head = waymark.ledger.head()
        with _progress_bar() as progress:
            task = progress.add_task("Checking", total=head.position if head else 0)
            verdict = waymark.ledger.verify(trusted, kept, lambda n: progress.advance(task, n))
        _print_verdict(verdict)
    finally:
        waymark.close()


def _programme(value: str | None) -> UUID | None:
    if value is None:
        return None
    try:
        return UUID(value)
    except ValueError:
        console.print(f"[red]--programme must be a programme id, not {value!r}[/red]")
        raise typer.Exit(2) from None


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Username, e.g. jo.smith")],
    role: RoleOption,
    programme: ProgrammeOption = None,
    council: CouncilOption = None,
    password: Annotated[
        bool, typer.Option("--password", help="Also set a password for browser sign-in.")
    ] = False,
) -> None:
    """Create a user with one role; prints a new API token on the last line."""

    def add(waymark: Waymark) -> None:
        waymark.records.register_user(username=name, display_name=None, actor=CLI_ACTOR)
        waymark.records.grant_role(
            username=name,
            role=role,
            programme_id=_programme(programme),
            council_code=council,
            actor=CLI_ACTOR,
        )
        username = waymark.records.get_user(name).username
        if password:
            secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
            waymark.credentials.set_password(username, secret)
        token = waymark.credentials.issue_token(username, days=waymark.settings.token_days)
        console.print(f"Created {username} ({role}). API token:")
        typer.echo(token)

    _run(add)


@users_app.command("token")
def users_token(name: Annotated[str, typer.Argument(help="Username")]) -> None:
    """Print a fresh API token for an existing user (last line)."""

    def issue(waymark: Waymark) -> None:
        username = waymark.records.get_user(name).username
        token = waymark.credentials.issue_token(username, days=waymark.settings.token_days)
        typer.echo(token)

    _run(issue)


def _change_role(
    verb: str,
    change: Callable[..., Any],
    name: str,
    role: str,
    programme: str | None,
    council: str | None,
) -> None:
    _run(
        lambda w: console.print(
            f"{verb} at position",
            change(w)(
                username=name,
                role=role,
                programme_id=_programme(programme),
                council_code=council,
                actor=CLI_ACTOR,
            ).position,
        )
    )


@users_app.command("grant")
def users_grant(
    name: Annotated[str, typer.Argument(help="Username")],
    role: RoleOption,
    programme: ProgrammeOption = None,
    council: CouncilOption = None,
) -> None:
    """Grant a role (recorded as an event)."""
    _change_role("Granted", lambda w: w.records.grant_role, name, role, programme, council)


@users_app.command("revoke")
def users_revoke(
    name: Annotated[str, typer.Argument(help="Username")],
    role: RoleOption,
    programme: ProgrammeOption = None,
    council: CouncilOption = None,
) -> None:
    """Revoke a role (recorded as an event)."""
    _change_role("Revoked", lambda w: w.records.revoke_role, name, role, programme, council)


@users_app.command("revoke-tokens")
def users_revoke_tokens(name: Annotated[str, typer.Argument(help="Username")]) -> None:
    """Revoke every API token of a user."""
    _run(lambda w: console.print(f"Revoked {w.credentials.revoke_tokens(name.lower())} tokens."))


@users_app.command("revoke-demo")
def users_revoke_demo() -> None:
    """Remove the demo sign-ins, so the store can serve real users outside demo mode."""

    def revoke(waymark: Waymark) -> None:
        waymark.credentials.revoke_demo()
        console.print("Demo passwords removed and demo tokens revoked.")

    _run(revoke)


@app.command()
def checkpoint() -> None:
    """Sign a checkpoint at the head of the record now."""
    waymark = Waymark(Settings(in_process_projections=False))
    try:
        signed = waymark.ledger.checkpoint()
    except LedgerTampered as error:
        console.print(f"[red]Not signed: {escape(error.problem.detail)}[/red]")
        raise typer.Exit(1) from None
    finally:
        waymark.close()
    if signed is None:
        console.print("The record is empty: nothing to sign.")
    else:
        console.print(f"Signed position {signed.position} with key {signed.key_id}.")


@app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="Folder to write the export into.")],
) -> None:
    """Write events.ndjson, checkpoints.json and public-key.pem for offline review."""
    waymark = Waymark(Settings(in_process_projections=False))
    try:
        exported = waymark.ledger.export_to(directory)
        key = waymark.ledger.key_id
    finally:
        waymark.close()
    console.print(f"Exported {exported.events} events to {directory}.")
    if exported.checkpoint is not None:
        console.print(
            f"Signed up to position {exported.checkpoint.position} by key {key}: "
            f"check `waymark verify --offline {directory}` reports that key id."
        )
    if exported.problem is not None:
        console.print(f"[red]Not signed: {escape(exported.problem.detail)}[/red]")
        raise typer.Exit(1)


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="An events.ndjson from `waymark export`.", dir_okay=False)
    ],
) -> None:
    """Restore an export into an empty store: same events, positions and chain."""
    if not file.is_file():
        console.print(f"[red]No such file: {escape(str(file))}[/red]")
        raise typer.Exit(2)
    waymark = Waymark(Settings(in_process_projections=False))
    try:
        restored = waymark.ledger.restore_from(file)
    except StoreNotEmpty as error:
        console.print(f"[red]Refused: {escape(str(error))}[/red]")
        raise typer.Exit(1) from None
    except LedgerTampered as error:
        console.print(f"[red]Refused, nothing imported: {escape(error.problem.detail)}[/red]")
        raise typer.Exit(1) from None
    finally:
        waymark.close()
    head = restored.head
    console.print(
        f"Imported {restored.events} events"
        + (f" up to position {head.position}, chain hash {head.chain_hash.hex()}." if head else ".")
    )
    if not restored.signatures_checked:
        console.print(
            "[yellow]No checkpoints.json and public-key.pem beside the file: only its own "
            "hash chain was checked, not its signatures.[/yellow]"
        )
    console.print("Read models catch up when the server or `waymark projections run` starts.")


def main() -> None:
    app()
