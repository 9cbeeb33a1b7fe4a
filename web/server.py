"""The production server: uvicorn with N workers, JSON logs, and a graceful stop.

The store is prepared once, in the parent, before any worker starts, so that
workers never race to create tables or to load the demo record.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from services.container import Waymark
from services.demo import DemoSignIn, create_demo_users, load_and_sign_demo
from services.ledger import LedgerTampered
from services.settings import Settings
from web.demo import start_up_block
from web.logs import configure_logging, logging_config

#: prometheus-client's switch to multiprocess mode (see web.metrics).
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

log = structlog.get_logger("waymark.server")


def prepare(settings: Settings, *, serving: bool = False) -> list[DemoSignIn]:
    """Create the event store and read-model tables (safe to repeat).

    Before serving, also refuse an unsafe configuration, as each worker would,
    and create the demo record and its sign-ins once, so workers need not race;
    the sign-ins are returned, to be told to the person at the terminal.
    """
    waymark = Waymark(settings.model_copy(update={"in_process_projections": False}))
    sign_ins: list[DemoSignIn] = []
    try:
        if serving:
            refusals = settings.refusals(waymark.credentials.has_demo_credentials())
            if refusals:
                log.error("Waymark will not start", reasons=refusals)
                raise SystemExit(1)
            if settings.demo:
                try:
                    load_and_sign_demo(waymark)
                except LedgerTampered as error:
                    # A store made anew beside the checkpoint log of an earlier one: the
                    # log is right to refuse it; say so in one line, not a traceback.
                    log.error(
                        "Waymark will not start",
                        reasons=[
                            f"{error.problem.detail}. If the data folder was emptied on "
                            f"purpose, move the checkpoint log {settings.checkpoint_log_path} "
                            "aside too (make clean does)."
                        ],
                    )
                    raise SystemExit(1) from None
                sign_ins = create_demo_users(waymark)
        log.info("store ready", head=waymark.projector.log.head())
    finally:
        waymark.close()
    return sign_ins


def serve(*, host: str, port: int, workers: int, shutdown_timeout: float) -> None:
    """Serve until SIGTERM or SIGINT, then finish requests in flight and exit with 0."""
    import uvicorn

    settings = Settings()
    configure_logging(settings.log_level)
    sign_ins = prepare(settings, serving=True)
    log.info(
        "serving",
        url=f"http://{host}:{port}/",
        database="postgresql" if settings.uses_postgres else "sqlite",
        workers=workers,
        in_process_projections=settings.in_process_projections,
    )
    # uvicorn re-raises the stop signal once it has shut down gracefully; that
    # stop was asked for, so it ends the process with 0 rather than by the signal.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda *_: sys.exit(0))
    with _metrics_directory(workers):
        uvicorn.run(
            "web.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # In demo mode (`make run`) a person is at the terminal: tell them where to go
            # and how to sign in. Otherwise every line stays JSON, for the log collector.
            log_config=logging_config(
                settings.log_level,
                once_serving=start_up_block(host, port, sign_ins) if settings.demo else "",
            ),
            log_level=settings.log_level,
            access_log=False,
            timeout_graceful_shutdown=shutdown_timeout,
            http=NoDelayHTTPProtocol,
            # uvicorn would believe X-Forwarded-For from any loopback caller (or from its
            # own FORWARDED_ALLOW_IPS); the app believes only WAYMARK_FORWARDED_ALLOW_IPS.
            proxy_headers=False,
        )
    log.info("stopped")


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol, with Nagle's algorithm off on every TCP connection.

    With ``--workers`` uvicorn binds the listening socket itself with protocol
    number 0, and asyncio's own event loop then leaves ``TCP_NODELAY`` unset
    on the connections it accepts: each small response waited for the client's
    delayed ACK, about 40 ms on Linux. (uvloop, used where installed, sets it.)
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


@contextmanager
def _metrics_directory(workers: int) -> Iterator[None]:
    """With several workers, a directory for prometheus-client's shared metric files.

    An operator's own ``PROMETHEUS_MULTIPROC_DIR`` is used (emptied of a previous
    run's files); otherwise a temporary one is made and removed afterwards.
    """
    given = os.environ.get(MULTIPROC_DIR)
    if given:
        for name in os.listdir(given):
            if name.endswith(".db"):
                os.remove(os.path.join(given, name))
        yield
        return
    if workers <= 1:
        yield
        return
    directory = tempfile.mkdtemp(prefix="waymark-metrics-")
    os.environ[MULTIPROC_DIR] = directory  # read by each worker as it imports prometheus-client
    try:
        yield
    finally:
        del os.environ[MULTIPROC_DIR]
        shutil.rmtree(directory, ignore_errors=True)
