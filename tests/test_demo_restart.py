"""A demo store emptied beside the checkpoint log of an earlier one: the log refuses it,
and the server says so in one line instead of a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.settings import Settings
from tests.conftest import TEST_SECRET
from web.logs import configure_structlog
from web.server import prepare


def test_a_demo_store_made_anew_beside_an_old_checkpoint_log_is_refused_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # The server's logs go through the standard library, as `waymark serve` sets them up
    # (structlog keeps a logger as first used, so a logger used earlier in this process
    # may still print: the refusal is looked for in both places)
    configure_structlog()
    # Given a demo record served once, its checkpoints kept in the log beside the data
    settings = Settings(
        data_dir=tmp_path / "data", secret_key=TEST_SECRET, cookie_secure=False, demo=True
    )
    assert prepare(settings, serving=True)
    assert settings.checkpoint_log_path.exists()

    # When the data folder is emptied but the checkpoint log is left where it was
    shutil.rmtree(tmp_path / "data")

    # Then the server will not start, and says why and what to do, without a traceback
    with pytest.raises(SystemExit) as stopped:
        prepare(settings, serving=True)
    assert stopped.value.code == 1
    logged = [r for r in caplog.records if r.levelname == "ERROR"]
    assert all(r.exc_info is None for r in logged)
    printed = [line for line in capsys.readouterr().out.splitlines() if "will not start" in line]
    refusals = [str(r.msg) for r in logged] + printed
    assert len(refusals) == 1
    refusal = refusals[0]
    assert "move the checkpoint log" in refusal
    assert str(settings.checkpoint_log_path) in refusal
    assert "Traceback" not in refusal

    # And once the log is moved aside, as `make clean` does, a new demo starts
    settings.checkpoint_log_path.unlink()
    shutil.rmtree(tmp_path / "data")
    assert prepare(settings, serving=True)
