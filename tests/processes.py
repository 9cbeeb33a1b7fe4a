"""Real processes for reliability tests: the server, the projection worker, a PostgreSQL
server of the test's own (so that stopping it disturbs nothing else). Loopback only."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from services.settings import Settings

BIN = Path(sys.executable).parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "WAYMARK_DATA_DIR": str(settings.data_dir),
            "WAYMARK_DATABASE_URL": settings.database_url or "",
            "WAYMARK_SECRET_KEY": settings.secret_key.get_secret_value(),
            "WAYMARK_SIGNING_KEY_FILE": str(settings.signing_key_path),
            "WAYMARK_CHECKPOINT_LOG": str(settings.checkpoint_log_path),
            "WAYMARK_PROJECTION_POLL_INTERVAL": "0.05",
        }
    )
    if settings.metrics_token is not None:
        env["WAYMARK_METRICS_TOKEN"] = settings.metrics_token.get_secret_value()
    env.update(extra)
    return env


def waymark(settings: Settings, *args: str, timeout: float = 120) -> str:
    """Run a ``waymark`` command to completion; its standard output."""
    done = subprocess.run(
        [str(BIN / "waymark"), *args],
        env=environment(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class Process:
    """A long-running ``waymark`` process that a test may kill and start again."""

    def __init__(self, settings: Settings, args: Sequence[str], **env: str) -> None:
        self.args = [str(BIN / "waymark"), *args]
        self.env = environment(settings, **env)
        self.process: subprocess.Popen[bytes] | None = None
        handle, name = tempfile.mkstemp(prefix="waymark-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.args, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        """SIGKILL: no clean-up, no flush, as a crash or an OOM killer would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


class Server(Process):
    def __init__(self, settings: Settings, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(settings, ["serve", "--port", str(self.port)], **env)

    def start(self, wait: bool = True) -> None:
        super().start()
        if wait:
            self.wait_until_up()

    def wait_until_up(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited:\n{self.output()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not start:\n{self.output()[-3000:]}")


class Worker(Process):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, ["projections", "run"])


class OwnPostgres:
    """A PostgreSQL server in a temporary folder, on its own port, that a test may stop."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="waymark-pg-"))
        self.data = self.folder / "data"
        self.as_owner: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.folder, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self.as_owner, *args], check=True, capture_output=True, timeout=120, cwd="/"
        )

    def start(self) -> None:
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1"
            f" -c unix_socket_directories={self.folder}",
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.folder, ignore_errors=True)


def have_own_postgres() -> bool:
    return (PG_BIN / "initdb").exists()
