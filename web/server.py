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
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
    with _metrics_directory(workers), _read_model_worker(settings):
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
def _read_model_worker(settings: Settings) -> Iterator[None]:
    """With the read models kept by the server (the default): one worker process for
    them beside the serving processes, woken by their writes, for as long as they serve.

    In a process of its own, the read models' work does not take the interpreter
    from the requests being served, and with ``--workers N`` there is still one
    worker, not one in each serving process.
    """
    if not settings.in_process_projections:
        yield
        return
    folder = Path(tempfile.mkdtemp(prefix="waymark-"))
    given = {
        "WAYMARK_IN_PROCESS_PROJECTIONS": "false",
        "WAYMARK_PROJECTOR_SOCKET": str(folder / "wakeups"),
    }
    before = {name: os.environ.get(name) for name in given}
    os.environ.update(given)  # read by the serving processes and the worker alike
    worker = Supervised([sys.executable, "-m", "web.cli", "projections", "run"])
    worker.start()
    worker.wait_until_listening(folder / "wakeups")
    try:
        yield
    finally:
        worker.stop()
        for name, value in before.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value
        shutil.rmtree(folder, ignore_errors=True)


class Supervised:
    """A child process started again whenever it stops, until ``stop``.

    In a session of its own, so that a Ctrl-C at the terminal reaches only the
    server, which then stops it; it stops itself when the server goes away
    (killed, not stopped), as its standard input, a pipe from the server, ends.
    """

    #: Seconds between starts, doubled after each quick stop, up to the longest.
    FIRST_PAUSE = 1.0
    LONGEST_PAUSE = 30.0
    #: A run this long or longer was not a quick stop: the pause starts again.
    STEADY_SECONDS = 60.0

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._keep, name="waymark-supervisor", daemon=True)

    def start(self) -> None:
        self._launch()
        self._thread.start()

    def wait_until_listening(self, socket_path: Path, timeout: float = 60) -> None:
        """Wait (bounded) until the worker has bound its socket, so that its start-up
        lines come before the server's and no write of the first moments goes unheard."""
        deadline = time.monotonic() + timeout
        while not socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _launch(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            # Its standard input is a pipe from here, never written: it ends when this
            # process does, however it ends, and the worker stops then (services.wakeups).
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, start_new_session=True
            )
        log.info("read-model worker started", worker_pid=self.process.pid)

    def _keep(self) -> None:
        pause = self.FIRST_PAUSE
        while not self._stopping.is_set():
            assert self.process is not None
            started = time.monotonic()
            code = self.process.wait()
            if self.process.stdin is not None:
                self.process.stdin.close()
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= self.STEADY_SECONDS:
                pause = self.FIRST_PAUSE
            log.error(
                "read-model worker stopped; starting it again",
                exit_code=code,
                worker_pid=self.process.pid,
                seconds=pause,
            )
            if self._stopping.wait(pause):
                return
            pause = min(pause * 2, self.LONGEST_PAUSE)
            self._launch()

    def stop(self, timeout: float = 15) -> None:
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stdin is not None:
            process.stdin.close()
        self._thread.join(timeout=timeout)


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
