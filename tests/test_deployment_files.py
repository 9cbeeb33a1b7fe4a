"""docker-compose.yml: there is no Docker engine here, so the file itself is checked."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_postgres_is_pinned_with_a_volume_and_a_healthcheck() -> None:
    postgres = compose()["services"]["postgres"]
    image, _, tag = postgres["image"].partition(":")
    assert image == "postgres"
    assert tag and tag != "latest" and tag[0].isdigit(), "pin PostgreSQL to a version"
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "postgres-data" in compose()["volumes"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_the_app_waits_for_a_healthy_database_and_points_at_it() -> None:
    services = compose()["services"]
    app = services["app"]
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = app["environment"]["WAYMARK_DATABASE_URL"]
    assert url.startswith("postgresql://") and "@postgres:5432/" in url
    assert services["projections"]["environment"]["WAYMARK_DATABASE_URL"] == url


def test_every_waymark_variable_in_compose_is_a_real_setting() -> None:
    known = {f"WAYMARK_{name.upper()}" for name in Settings.model_fields}
    for name, service in compose()["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("WAYMARK_"):
                assert variable in known, f"{name}: {variable} is not a setting"


def test_settings_read_from_the_compose_environment() -> None:
    environment = compose()["services"]["app"]["environment"]
    settings = Settings(**{k.removeprefix("WAYMARK_").lower(): v for k, v in environment.items()})
    assert settings.uses_postgres
    assert settings.postgres_parts()["host"] == "postgres"
    assert settings.in_process_projections is False
