"""The ``waymark`` command line (Typer)."""

from __future__ import annotations

import getpass
import json
import os
import signal
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn
from uuid import UUID

import structlog
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from domain.errors import DomainError
from domain.user import User
from services.chained_recorders import StoreNotEmpty
from services.container import Waymark, opened
from services.credentials import password_problem
from services.demo import load_and_sign_demo
from services.digests import DigestSchedule
from services.ledger import LedgerTampered, read_checkpoints, trusted_from, verify_export
from services.ledger_chain import Checkpoint, Link, Verdict, load_public_key
from services.rebuilding import rebuild_read_models
from services.settings import Settings
from services.wakeups import Listener
from services.witnesses import (
    Witnessed,
    WitnessError,
    extend_witness,
    needed_positions,
    read_witness,
    write_witness,
)
from web.api.ledger import MOST_POSITIONS
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
digest_app = typer.Typer(help="The weekly digest by email.", no_args_is_help=True)
app.add_typer(digest_app, name="digest")

ProgrammeOption = Annotated[
    str | None, typer.Option("--programme", help="Programme id (for programme_manager).")
]
CouncilOption = Annotated[
    str | None, typer.Option("--council", help="Council code (for participant).")
]


def operator() -> str:
    """Who runs the command: the operating-system user, as the record's actor by default."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name, and no passwd entry for this uid
        return f"uid {os.getuid()}"


def _actor(value: str | None) -> str:
    actor = (value if value is not None else operator()).strip()
    if not actor or len(actor) > 100 or any(not c.isprintable() for c in actor):
        _refuse("--actor must be 1-100 printable characters: the name of who is acting")
    return actor


ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        help="Who is acting, as the record will name them (default: the operating-system "
        "user running the command).",
        show_default=False,
    ),
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
    with opened(Settings()) as waymark:
        if load_and_sign_demo(waymark):
            console.print("Demo record loaded.")
        else:
            console.print("The store already has events: demo not loaded.")
            raise typer.Exit(1)


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
    with opened(Settings(in_process_projections=False)) as waymark:
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


@projections_app.command("status")
def projections_status() -> None:
    """Each read model's position in the log and how far it lags."""
    with opened(Settings(in_process_projections=False)) as waymark:
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


#: A worker of its own gathers the writes of this while into one batch (Projector.run).
GATHER_SECONDS = 0.05


@projections_app.command("run")
def projections_run() -> None:
    """Keep the read models up to date, as a worker process, until stopped."""
    settings = Settings(in_process_projections=False)
    configure_logging(settings.log_level)
    stop = threading.Event()
    with opened(settings) as waymark, ExitStack() as stack:

        def stopping(*_: object) -> None:
            stop.set()
            waymark.projector.wake.set()  # not left waiting out its poll interval

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, stopping)
        structlog.get_logger("waymark.projections").info("projection worker running")
        if settings.projector_socket is not None:
            # Started by `waymark serve`: woken by each write in its serving processes,
            # and its standard input is a pipe from the server that ends when it does.
            # The server waits for the socket (bound here, after the line above) to serve.
            listener = Listener(
                settings.projector_socket, waymark.projector.wake, stop, sys.stdin.fileno()
            )
            stack.callback(listener.close)
            listener.start()
        # The weekly digests are sent from here too (when WAYMARK_SMTP_HOST is set).
        digests = DigestSchedule(waymark.digests, waymark.wait_for_head)
        digests.start()
        stack.callback(digests.stop)
        waymark.projector.run(settings.projection_poll_interval, stop, gather=GATHER_SECONDS)


def _run(action: Callable[[Waymark], None]) -> None:
    """Run one command against the store, turning refusals into a message and exit 2."""
    with opened(Settings(in_process_projections=False)) as waymark:
        try:
            action(waymark)
        except DomainError as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(2) from None


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
    witness: Annotated[
        Path | None,
        typer.Option(
            help="A witness file kept by `waymark witness`: every checkpoint it holds must "
            "still be in the record, unchanged, and every chain hash it saw must still hold. "
            "Offline, its key is trusted unless --public-key is given.",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
) -> None:
    """Check the record against its hash chain and signed checkpoints; exit 1 if it fails."""
    try:
        trusted = trusted_from(public_key or [])
        kept = read_checkpoints(checkpoints) if checkpoints else []
        witnessed = read_witness(witness) if witness else None
    except (OSError, ValueError) as error:
        _refuse(str(error))
    if offline is not None:
        with _progress_bar() as progress:
            task = progress.add_task("Checking", total=None)
            try:
                verdict = verify_export(
                    offline, trusted or None, kept, lambda n: progress.advance(task, n), witnessed
                )
            except (OSError, ValueError) as error:
                _refuse(f"{offline} is not a readable export: {error}")
        console.print(f"Trusting key(s): {', '.join(verdict.key_ids)}")
        _print_verdict(verdict)
        return
    with opened(Settings(in_process_projections=False)) as waymark:
        head = waymark.ledger.head()
        with _progress_bar() as progress:
            task = progress.add_task("Checking", total=head.position if head else 0)
            verdict = waymark.ledger.verify(
                trusted, kept, lambda n: progress.advance(task, n), witnessed
            )
        _print_verdict(verdict)


def _refuse(message: str, code: int = 2) -> NoReturn:
    """One clear line, never a traceback."""
    console.print(f"[red]{escape(message)}[/red]")
    raise typer.Exit(code)


class _Server:
    """The few ledger calls a witness makes, over HTTP with a bearer token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                **({} if body is None else {"Content-Type": "application/json"}),
            },
            method="GET" if body is None else "POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return json.load(response)
        except urllib.error.HTTPError as error:
            detail = ""
            try:
                detail = json.load(error).get("detail", "")
            except (ValueError, AttributeError):
                pass
            _refuse(
                f"{self.url}{path.split('?')[0]} answered {error.code}: {detail or error.reason}"
            )
        except (urllib.error.URLError, OSError, ValueError) as error:
            _refuse(f"cannot reach {self.url}: {getattr(error, 'reason', error)}")


@app.command()
def witness(
    url: Annotated[str, typer.Argument(help="The Waymark server, e.g. https://waymark.example")],
    into: Annotated[
        Path,
        typer.Option("--into", help="The witness file to keep (made if missing).", dir_okay=False),
    ],
) -> None:
    """Keep the server's signed checkpoints on this machine, only if they extend those kept.

    Needs a reviewer's (or admin's) API token in WAYMARK_TOKEN. Exit 1, leaving the
    file as it was, when the server's record no longer agrees with what it holds.
    """
    token = os.environ.get("WAYMARK_TOKEN", "").strip()
    if not token:
        _refuse("set WAYMARK_TOKEN to a reviewer's API token (waymark users token NAME)")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        _refuse(f"{url} is not an http:// or https:// address")
    try:
        held = read_witness(into) if into.exists() else None
    except WitnessError as error:
        _refuse(error.problem.detail)
    server = _Server(url, token)
    try:
        pem, fetched, chain_at, head = _fetch_for_witness(server, held)
        public_key = load_public_key(pem)
    except (KeyError, TypeError, ValueError) as error:
        _refuse(f"{url} did not answer as a Waymark server does ({error})")
    try:
        kept, added = extend_witness(held, public_key, fetched, chain_at, head)
    except WitnessError as error:
        console.print(f"[red]NOT OK: {escape(error.problem.detail)}[/red]")
        console.print(f"{into} is unchanged.")
        raise typer.Exit(1) from None
    try:
        write_witness(into, kept, url)
    except OSError as error:
        _refuse(f"cannot write {into}: {error.strerror}")
    _report_witnessed(server, kept, added, head, into)


def _fetch_for_witness(
    server: _Server, held: Witnessed | None
) -> tuple[str, list[Checkpoint], dict[int, bytes | None], Link | None]:
    """The server's public key, its checkpoints after those held (by that key), its chain
    hash at every position held or fetched, and its chain head."""
    after = held.last_position if held else 0
    fetched: list[Checkpoint] = []
    while True:
        page = server.call(f"/api/ledger/checkpoints?after={after}&limit=1000")
        key_id, pem = str(page["key_id"]), str(page["public_key"])
        fetched += [
            c for c in (Checkpoint.from_json(item) for item in page["items"]) if c.key_id == key_id
        ]
        if page["next_after"] is None:
            break
        after = int(page["next_after"])
    positions = needed_positions(held, fetched)
    chain_at: dict[int, bytes | None] = {}
    head: Link | None = None
    for start in range(0, max(len(positions), 1), MOST_POSITIONS):
        batch = ",".join(str(p) for p in positions[start : start + MOST_POSITIONS])
        answer = server.call(f"/api/ledger/chain?positions={batch}")
        for item in answer["items"]:
            found = item["chain_hash"]
            chain_at[int(item["position"])] = bytes.fromhex(found) if found else None
        if answer["head"] is not None:
            top = answer["head"]
            head = Link(int(top["position"]), b"", bytes.fromhex(top["chain_hash"]))
    return pem, fetched, chain_at, head


def _report_witnessed(
    server: _Server, kept: Witnessed, added: list[Checkpoint], head: Link | None, into: Path
) -> None:
    latest = kept.latest()
    console.print(
        f"OK: kept {len(added)} new checkpoint(s) in {into}, "
        + (f"signed up to position {latest.position}" if latest else "none signed yet")
        + (f"; the record reached position {head.position}." if head else "; the record is empty.")
    )
    if head is not None:
        confirmed = server.call(
            "/api/ledger/witnessed",
            {"position": head.position, "chain_hash": head.chain_hash.hex()},
        )
        console.print(f"The server noted this confirmation at {confirmed['confirmed_at']}.")


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
    email: Annotated[
        str | None,
        typer.Option("--email", help="Their email address, where the weekly digest goes."),
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Create a user with one role; prints a new API token on the last line.

    A password must be at least 12 characters and not one of those used most often
    (three random words make a good one); it is asked for before anything is recorded.
    """
    acting = _actor(actor)
    if email is not None:
        try:
            email = User.check_email(email)
        except DomainError as error:
            _refuse(str(error))
    secret = None
    if password:
        secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        if problem := password_problem(secret, name):
            console.print(f"[red]password: {escape(problem)}[/red]")
            raise typer.Exit(2)

    def add(waymark: Waymark) -> None:
        waymark.records.register_user(username=name, display_name=None, actor=acting)
        waymark.records.grant_role(
            username=name,
            role=role,
            programme_id=_programme(programme),
            council_code=council,
            actor=acting,
        )
        if email is not None:
            waymark.records.record_email(username=name, email=email, actor=acting)
        username = waymark.records.get_user(name).username
        if secret is not None:
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
    actor: str | None,
) -> None:
    acting = _actor(actor)
    _run(
        lambda w: console.print(
            f"{verb} at position",
            change(w)(
                username=name,
                role=role,
                programme_id=_programme(programme),
                council_code=council,
                actor=acting,
            ).position,
        )
    )


@users_app.command("grant")
def users_grant(
    name: Annotated[str, typer.Argument(help="Username")],
    role: RoleOption,
    programme: ProgrammeOption = None,
    council: CouncilOption = None,
    actor: ActorOption = None,
) -> None:
    """Grant a role (recorded as an event)."""
    _change_role("Granted", lambda w: w.records.grant_role, name, role, programme, council, actor)


@users_app.command("revoke")
def users_revoke(
    name: Annotated[str, typer.Argument(help="Username")],
    role: RoleOption,
    programme: ProgrammeOption = None,
    council: CouncilOption = None,
    actor: ActorOption = None,
) -> None:
    """Revoke a role (recorded as an event); the user's browser sessions end too."""
    _change_role("Revoked", lambda w: w.records.revoke_role, name, role, programme, council, actor)


@users_app.command("revoke-tokens")
def users_revoke_tokens(name: Annotated[str, typer.Argument(help="Username")]) -> None:
    """Revoke every API token of a user, and end their browser sessions."""

    def revoke(waymark: Waymark) -> None:
        sessions = waymark.credentials.end_sessions(name.lower())
        tokens = waymark.credentials.revoke_tokens(name.lower())
        console.print(f"Revoked {tokens} tokens and ended {sessions} browser sessions.")

    _run(revoke)


@users_app.command("end-sessions")
def users_end_sessions(name: Annotated[str, typer.Argument(help="Username")]) -> None:
    """End every browser session of a user at once (their API tokens stay)."""
    _run(lambda w: console.print(f"Ended {w.credentials.end_sessions(name.lower())} sessions."))


@users_app.command("revoke-demo")
def users_revoke_demo() -> None:
    """Remove the demo sign-ins, so the store can serve real users outside demo mode."""

    def revoke(waymark: Waymark) -> None:
        waymark.credentials.revoke_demo()
        console.print(
            "Demo passwords removed, demo tokens revoked and demo browser sessions ended."
        )

    _run(revoke)


@digest_app.command("send")
def digest_send(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be sent; send nothing.")
    ] = False,
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            help="The day the digest is for, YYYY-MM-DD (default today): quiet days, ages "
            "and the week that is never sent twice count from it.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Email this week's digests not yet sent, and retry those that failed (once due)."""
    try:
        day = date.fromisoformat(today) if today else datetime.now(UTC).date()
    except ValueError:
        _refuse(f"--today must be a date as YYYY-MM-DD, not {today!r}")
    with opened(Settings(in_process_projections=False)) as waymark:
        if not dry_run and waymark.settings.smtp_host is None:
            _refuse("WAYMARK_SMTP_HOST is not set: nothing sent (--dry-run shows the digests)")
        waymark.catch_up()
        report = waymark.digests.send(day, dry_run=dry_run)
    if dry_run:
        console.print(f"Week {report.week}: {len(report.would_send)} digest(s) would be sent.")
        for digest in report.would_send:
            typer.echo(f"\nTo: {digest.email}\nSubject: {digest.subject()}\n")
            typer.echo("\n".join(digest.lines()))
        return
    for username, address in report.sent:
        console.print(f"Sent to {escape(username)} <{escape(address)}>")
    for username, address, problem in report.failed:
        console.print(
            f"[red]Not sent to {escape(username)} <{escape(address)}>: {escape(problem)}[/red]"
        )
    console.print(
        f"Week {report.week}: {len(report.sent)} sent, {len(report.failed)} failed, "
        f"{len(report.skipped)} already sent or not due."
    )
    if report.failed:
        raise typer.Exit(1)


@app.command()
def checkpoint() -> None:
    """Sign a checkpoint at the head of the record now."""
    with opened(Settings(in_process_projections=False)) as waymark:
        try:
            signed = waymark.ledger.checkpoint()
        except LedgerTampered as error:
            console.print(f"[red]Not signed: {escape(error.problem.detail)}[/red]")
            raise typer.Exit(1) from None
    if signed is None:
        console.print("The record is empty: nothing to sign.")
    else:
        console.print(f"Signed position {signed.position} with key {signed.key_id}.")


@app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="Folder to write the export into.")],
) -> None:
    """Write events.ndjson, checkpoints.json and public-key.pem for offline review."""
    with opened(Settings(in_process_projections=False)) as waymark:
        exported = waymark.ledger.export_to(directory)
        key = waymark.ledger.key_id
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
    trusted_key: Annotated[
        list[Path] | None,
        typer.Option(
            "--trusted-key",
            help="A public key PEM whose checkpoints to believe (repeatable); the key that "
            "comes with the export is never trusted by itself.",
            dir_okay=False,
        ),
    ] = None,
    accept_unsigned_tail: Annotated[
        bool,
        typer.Option(
            "--accept-unsigned-tail",
            help="Import events after the last trusted checkpoint too (they are counted).",
        ),
    ] = False,
) -> None:
    """Restore an export into an empty store: same events, positions, chain and checkpoints."""
    if not file.is_file():
        _refuse(f"No such file: {file}")
    if not trusted_key:
        _refuse(
            "Refused: name the public key that signed the export with --trusted-key PEM "
            "(the one the programme team published)"
        )
    try:
        trusted = trusted_from(trusted_key)
    except (OSError, ValueError) as error:
        _refuse(f"Refused: --trusted-key must be an Ed25519 public key PEM ({error})")
    with opened(Settings(in_process_projections=False)) as waymark:
        try:
            restored = waymark.ledger.restore_from(
                file, trusted, accept_unsigned_tail=accept_unsigned_tail
            )
        except StoreNotEmpty as error:
            _refuse(f"Refused: {error}", 1)
        except LedgerTampered as error:
            hint = (
                " (--accept-unsigned-tail imports them too)"
                if error.problem.kind == "unsigned"
                else ""
            )
            _refuse(f"Refused, nothing imported: {error.problem.detail}{hint}", 1)
        except UnicodeDecodeError:
            _refuse(f"Refused, nothing imported: {file} is not UTF-8 text", 1)
        except OSError as error:
            _refuse(f"Refused, nothing imported: cannot read {file}: {error.strerror}", 1)
    head = restored.head
    console.print(
        f"Imported {restored.events} events"
        + (f" up to position {head.position}, chain hash {head.chain_hash.hex()}." if head else ".")
    )
    console.print(
        f"Kept {restored.checkpoints} checkpoint(s) signed by the trusted key(s); nothing was "
        "signed with this server's key."
    )
    if restored.unsigned_events:
        console.print(
            f"[yellow]{restored.unsigned_events} event(s) after the last trusted checkpoint "
            "were imported unsigned (--accept-unsigned-tail).[/yellow]"
        )
    console.print("Read models catch up when the server or `waymark projections run` starts.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
