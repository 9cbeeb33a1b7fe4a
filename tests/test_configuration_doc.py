"""docs/CONFIGURATION.md documents every setting, as the Settings class defines it."""

from __future__ import annotations

from pathlib import Path

import typer.main

from services.settings import Settings
from services.settings_doc import settings_table, variable, with_table
from web import cli

DOC = Path(__file__).resolve().parent.parent / "docs" / "CONFIGURATION.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text()
    missing = [variable(name) for name in Settings.model_fields if variable(name) not in text]
    assert not missing, f"undocumented: {missing}; run python -m services.settings_doc {DOC}"


def test_the_settings_table_matches_the_settings_class() -> None:
    text = DOC.read_text()
    assert settings_table() in text
    assert with_table(text) == text, f"stale: run python -m services.settings_doc {DOC}"


def test_the_table_names_each_settings_default_and_meaning() -> None:
    rows = {line.split("|")[1].strip(" `"): line for line in settings_table().splitlines()[2:]}
    assert rows.keys() == {variable(name) for name in Settings.model_fields}
    assert "| `./data` |" in rows["WAYMARK_DATA_DIR"]
    assert "| unset |" in rows["WAYMARK_DATABASE_URL"]
    assert "| `false` |" in rows["WAYMARK_DEMO"]
    assert "| `10000` |" in rows["WAYMARK_READINESS_MAX_LAG"]
    assert "`debug`, `info`, `warning`, `error`" in rows["WAYMARK_LOG_LEVEL"]


def test_every_option_of_waymark_serve_is_documented() -> None:
    serve = typer.main.get_command(cli.app).commands["serve"]  # type: ignore[attr-defined]
    options = [opt for param in serve.params for opt in param.opts if opt.startswith("--")]
    assert "--workers" in options
    text = DOC.read_text()
    assert [opt for opt in options if f"`{opt}`" not in text] == []
