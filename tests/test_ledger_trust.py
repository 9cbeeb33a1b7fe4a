"""Issue 16, points 3 and 4: the signing key kept apart, and imports that trust only named keys."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.container import Waymark
from services.demo import load_demo
from services.ledger import CHECKPOINTS_FILE, EVENTS_FILE, MAX_LINE_BYTES, PUBLIC_KEY_FILE
from services.ledger_chain import load_or_create_signing_key, public_key_pem
from services.settings import Settings
from tests.conftest import TEST_SECRET, fresh_postgres_database
from web.app import create_app
from web.cli import app as cli
from web.server import prepare


@pytest.fixture
def exported(settings: Settings, tmp_path: Path) -> Path:
    """An export of the demo record, signed every ten positions and at its head."""
    waymark = Waymark(settings.model_copy(update={"checkpoint_interval": 10}))
    try:
        load_demo(waymark.records)
        waymark.ledger.export_to(tmp_path / "export")
    finally:
        waymark.close()
    return tmp_path / "export"


@pytest.fixture
def empty(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """A second, empty store on the same backend, with its own key and checkpoint log."""
    common: dict[str, Any] = {"data_dir": tmp_path / "empty", "secret_key": TEST_SECRET}
    if backend == "postgres":
        for url in fresh_postgres_database(request.getfixturevalue("postgres_admin")):
            yield Settings(database_url=url, **common)
    else:
        yield Settings(**common)


def run(settings: Settings, *args: object) -> Any:
    env = {
        "WAYMARK_DATA_DIR": str(settings.data_dir),
        "WAYMARK_DATABASE_URL": settings.database_url or "",
    }
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def import_(settings: Settings, export: Path, *more: object) -> Any:
    return run(settings, "import", export / EVENTS_FILE, *more)


def stored(settings: Settings) -> tuple[int, int]:
    """How many events and checkpoints the store holds."""
    waymark = Waymark(settings)
    try:
        head = waymark.ledger.head()
        return (head.position if head else 0), len(waymark.ledger.checkpoints())
    finally:
        waymark.close()


def one_line(result: Any) -> str:
    """The command's message: a single line (once wrapped lines are joined), not a traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


def stranger_key(folder: Path) -> Path:
    pem = folder / "stranger.pem"
    pem.write_text(public_key_pem(load_or_create_signing_key(folder / "k.pem").public_key()))
    return pem


def rewrite_lines(path: Path, change: Callable[[list[str]], list[str]]) -> None:
    path.write_text("".join(change(path.read_text().splitlines(keepends=True))))


# -- import ----------------------------------------------------------------------------------


def test_an_import_with_the_signing_key_trusted_keeps_its_checkpoints_and_signs_nothing(
    exported: Path, empty: Settings
) -> None:
    result = import_(empty, exported, "--trusted-key", exported / PUBLIC_KEY_FILE)

    assert result.exit_code == 0, result.output
    assert "nothing was signed with this server's key" in one_line(result)
    assert not empty.signing_key_path.exists()  # the server's key was not even made
    listed = json.loads((exported / CHECKPOINTS_FILE).read_text())
    waymark = Waymark(empty)
    try:
        # the export's own checkpoints, under the export's key
        checkpoints = waymark.ledger.checkpoints()
        assert [c.to_json() for c in checkpoints] == listed["checkpoints"]
        assert {c.key_id for c in checkpoints} == {listed["key_id"]}
        verdict = waymark.ledger.verify()
        assert verdict.ok, verdict.summary()
        assert verdict.signed_up_to == verdict.head
    finally:
        waymark.close()


def test_an_import_signed_by_an_unknown_key_is_refused_and_writes_nothing(
    exported: Path, empty: Settings, tmp_path: Path
) -> None:
    result = import_(empty, exported, "--trusted-key", stranger_key(tmp_path))

    assert result.exit_code == 1
    message = one_line(result)
    assert "Refused, nothing imported" in message
    assert "not trusted here" in message
    assert stored(empty) == (0, 0)


def test_an_import_names_a_trusted_key_or_is_refused(exported: Path, empty: Settings) -> None:
    result = import_(empty, exported)

    assert result.exit_code == 2
    assert "--trusted-key" in one_line(result)
    assert stored(empty) == (0, 0)


def test_an_unsigned_tail_is_refused_unless_accepted_and_then_counted(
    exported: Path, empty: Settings
) -> None:
    # Given an export whose last checkpoint was taken away
    listed = json.loads((exported / CHECKPOINTS_FILE).read_text())
    *kept, dropped = listed["checkpoints"]
    previous = kept[-1]["position"]
    (exported / CHECKPOINTS_FILE).write_text(json.dumps({**listed, "checkpoints": kept}))
    trusted = ("--trusted-key", exported / PUBLIC_KEY_FILE)

    refused = import_(empty, exported, *trusted)

    assert refused.exit_code == 1
    assert f"positions {previous + 1} to {dropped['position']}" in one_line(refused)
    assert stored(empty) == (0, 0)

    accepted = import_(empty, exported, *trusted, "--accept-unsigned-tail")

    assert accepted.exit_code == 0, accepted.output
    assert f"{dropped['position'] - previous} event(s) after the last trusted checkpoint" in (
        one_line(accepted)
    )
    assert stored(empty) == (dropped["position"], len(kept))


def test_an_unknown_event_topic_is_refused_before_anything_is_written_or_imported(
    exported: Path, empty: Settings
) -> None:
    # Given an export whose last line names a module (``this`` prints when imported)
    def sneak(lines: list[str]) -> list[str]:
        record = json.loads(lines[-1])
        return [*lines[:-1], json.dumps({**record, "topic": "this:Zen"}) + "\n"]

    rewrite_lines(exported / EVENTS_FILE, sneak)
    position = json.loads((exported / EVENTS_FILE).read_text().splitlines()[-1])["position"]

    result = import_(empty, exported, "--trusted-key", exported / PUBLIC_KEY_FILE)

    assert result.exit_code == 1
    assert f"position {position}: 'this:Zen' is not one of Waymark's event types" in (
        one_line(result)
    )
    assert "this" not in sys.modules
    assert stored(empty) == (0, 0)


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda lines: [*lines[:3], "not json at all\n"], "line 4: not an export record"),
        (
            lambda lines: [*lines[:2], "x" * (MAX_LINE_BYTES + 10) + "\n"],
            f"line 3: longer than {MAX_LINE_BYTES:,} bytes",
        ),
        (lambda lines: [*lines[:1], '{"position": 2}\n'], "line 2: not an export record"),
        (
            lambda lines: [*lines[:1], json.dumps({**json.loads(lines[1]), "position": -5}) + "\n"],
            "position -5",
        ),
    ],
    ids=["not-json", "too-long", "missing-fields", "bad-position"],
)
def test_bad_input_is_answered_with_one_clear_line(
    exported: Path, empty: Settings, damage: Callable[[list[str]], list[str]], expected: str
) -> None:
    rewrite_lines(exported / EVENTS_FILE, damage)

    result = import_(empty, exported, "--trusted-key", exported / PUBLIC_KEY_FILE)

    assert result.exit_code == 1
    assert expected in one_line(result)
    assert stored(empty) == (0, 0)


def test_a_trusted_key_that_is_not_a_public_key_is_answered_with_one_line(
    exported: Path, empty: Settings
) -> None:
    result = import_(empty, exported, "--trusted-key", exported / EVENTS_FILE)

    assert result.exit_code == 2
    assert "--trusted-key must be an Ed25519 public key PEM" in one_line(result)


# -- the signing key, kept apart ---------------------------------------------------------------


def test_by_default_the_key_and_the_checkpoint_log_are_kept_beside_the_data_folder(
    settings: Settings,
) -> None:
    for path in (settings.signing_key_path, settings.checkpoint_log_path):
        assert path.parent == settings.data_dir.absolute().parent
        assert not path.is_relative_to(settings.data_dir)
    assert settings.refusals(has_demo_credentials=False) == []


def test_the_server_refuses_to_start_with_the_signing_key_inside_the_data_folder(
    settings: Settings,
) -> None:
    unsafe = settings.model_copy(
        update={"signing_key_file": settings.data_dir / "keys" / "signing-key.pem"}
    )

    with pytest.raises(RuntimeError, match="is inside WAYMARK_DATA_DIR"):  # noqa: SIM117
        with TestClient(create_app(unsafe)):
            pass
    with pytest.raises(SystemExit):
        prepare(unsafe, serving=True)
    # Demo mode keeps working wherever the key is
    with TestClient(create_app(unsafe.model_copy(update={"demo": True}))) as demo:
        assert demo.get("/healthz").status_code == 200


def test_the_server_refuses_to_start_with_a_signing_key_others_can_read(
    settings: Settings,
) -> None:
    load_or_create_signing_key(settings.signing_key_path)
    settings.signing_key_path.chmod(0o640)

    with pytest.raises(RuntimeError, match="can be read by others than its owner"):  # noqa: SIM117
        with TestClient(create_app(settings)):
            pass

    settings.signing_key_path.chmod(0o600)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200


def test_a_key_left_in_the_data_folder_by_an_earlier_version_must_be_moved(
    settings: Settings,
) -> None:
    load_or_create_signing_key(settings.data_dir / "ledger-signing-key.pem")

    problems = settings.refusals(has_demo_credentials=False)

    assert any("move it out" in p for p in problems), problems
