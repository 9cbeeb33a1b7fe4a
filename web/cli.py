"""The ``waymark`` command line (Typer)."""

from __future__ import annotations

import os
import signal
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from services.container import Waymark
from services.demo import load_demo
from services.settings import Settings

app = typer.Typer(
    help="Waymark: the decision record of a digital accelerator.", no_args_is_help=True
)
projections_app = typer.Typer(help="Read models: run, rebuild, status.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
console = Console()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Load demo data into an empty store.")] = False,
) -> None:
    """Serve the API and pages."""
    import uvicorn

    if demo:
        os.environ["WAYMARK_DEMO"] = "true"
    settings = Settings()
    where = settings.database_url and "PostgreSQL" or f"SQLite in {settings.data_dir}"
    console.print(f"Waymark on [bold]http://{host}:{port}/[/bold] ({where})")
    console.print(f"API documentation: http://{host}:{port}/docs")
    uvicorn.run("web.app:create_app", factory=True, host=host, port=port, log_level="info")


@app.command()
def demo() -> None:
    """Load the demo record into an empty store."""
    waymark = Waymark(Settings())
    try:
        if load_demo(waymark.records):
            console.print("Demo record loaded.")
        else:
            console.print("The store already has events: demo not loaded.")
            raise typer.Exit(1)
    finally:
        waymark.close()


def _progress_bar(waymark: Waymark) -> Progress:
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
        with _progress_bar(waymark) as progress:
            task = progress.add_task("Rebuilding", total=total)
            try:
                count = waymark.projector.rebuild(
                    [name] if name else None, lambda n: progress.advance(task, n)
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
    waymark = Waymark(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print("Projection worker running; Ctrl-C to stop.")
    try:
        waymark.projector.run(settings.projection_poll_interval, stop)
    finally:
        waymark.close()


def main() -> None:
    app()
