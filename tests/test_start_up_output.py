"""Issue 17 point 7: `make run` (`waymark serve --demo`) tells the person at the terminal
where Waymark is and how to sign in, as a readable block after the start-up logs."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import httpx

from services.settings import Settings
from tests.conftest import TEST_SECRET
from tests.processes import Server

STARTUP_SECONDS = 120
MAKEFILE = Path(__file__).resolve().parent.parent / "Makefile"
README = MAKEFILE.parent / "README.md"


def test_the_demo_server_prints_its_address_and_sign_ins_once_it_is_serving(
    tmp_path: Path,
) -> None:
    # Given `waymark serve --demo` on a fresh SQLite store
    settings = Settings(data_dir=tmp_path, secret_key=TEST_SECRET)
    server = Server(settings, WAYMARK_DEMO="true")
    server.args.append("--demo")
    server.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "Stop with Ctrl+C." not in server.output():
            assert time.monotonic() < deadline, server.output()[-3000:]
            time.sleep(0.2)
        lines = server.output().splitlines()
    finally:
        server.stop()

    # Then every log line before the block is JSON, the last saying uvicorn is serving
    start = lines.index(f"Waymark is serving at {server.url}/")
    logs = [json.loads(line) for line in lines[: start - 1]]
    assert lines[start - 1] == ""
    assert logs and logs[-1]["event"].startswith("Uvicorn running on")
    # And the block is plain text: the address, the API docs, one sign-in per role
    block = lines[start : lines.index("Stop with Ctrl+C.") + 1]
    assert f"API documentation: {server.url}/docs" in block
    assert not any(line.startswith("{") for line in block)
    sign_ins = dict(
        re.findall(r"^  (\S+) / (\S+)\s{3}", "\n".join(block), re.M)  # user / password
    )
    assert set(sign_ins) == {"admin", "manager", "reviewer", "exeter", "devon"}
    assert re.search(
        r"^  admin / demo-admin-password\s+admin, all of Waymark$", "\n".join(block), re.M
    )
    assert block.count("Waymark is serving at " + server.url + "/") == 1


def test_the_printed_sign_in_works(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=TEST_SECRET)
    server = Server(settings, WAYMARK_DEMO="true")
    server.args.append("--demo")
    server.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "Stop with Ctrl+C." not in server.output():
            assert time.monotonic() < deadline, server.output()[-3000:]
            time.sleep(0.2)
        token = re.search(r"^  admin: (\S+)$", server.output(), re.M)
        assert token, server.output()[-2000:]
        me = httpx.get(
            f"{server.url}/api/programmes",
            headers={"Authorization": f"Bearer {token.group(1)}"},
            timeout=10,
        )
        assert me.status_code == 200 and me.json()
    finally:
        server.stop()


def test_make_run_and_the_readme_name_port_and_host() -> None:
    dry = subprocess.run(
        ["make", "-n", "run", "PORT=8123", "HOST=0.0.0.0"],
        cwd=MAKEFILE.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "waymark serve --host 0.0.0.0 --port 8123 --demo" in dry.stdout
    readme = README.read_text()
    assert "`PORT`" in readme and "`HOST`" in readme and "make run PORT=" in readme


def test_outside_demo_mode_every_line_stays_json(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=TEST_SECRET)
    server = Server(settings)
    server.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "Uvicorn running on" not in server.output():
            assert time.monotonic() < deadline, server.output()[-3000:]
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        server.stop()
    for line in server.output().splitlines():
        json.loads(line)
