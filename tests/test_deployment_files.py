"""docker-compose.yml and the Dockerfile: there is no Docker engine here, so the files
themselves are checked, the compose file against the Compose Specification's schema."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer.main
import yaml

from services.settings import Settings
from web import cli

ROOT = Path(__file__).resolve().parent.parent
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_schema() -> dict[str, Any]:
    """The Compose Specification's JSON schema, as vendored by check-jsonschema (a dev tool)."""
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text())
    return schema


def compose_errors(document: dict) -> list[str]:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(
        schema, format_checker=jsonschema.FormatChecker()
    )
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


class MissingVariable(Exception):
    pass


def interpolate(node: Any, env: dict[str, str]) -> Any:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``, as `docker compose` does."""
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, env) for value in node]
    if not isinstance(node, str):
        return node

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        value = env.get(name)
        unset = value is None or (value == "" and op is not None and op.startswith(":"))
        if unset and op in (":?", "?"):
            raise MissingVariable(f"{name}: {arg}")
        if unset and op in (":-", "-"):
            return str(arg)
        return value or ""

    return VARIABLE.sub(substitute, node)


def command_line(argv: list[str]) -> dict[str, Any]:
    """Parse a `waymark ...` command line as the real CLI would; fails if it is not one."""
    assert argv[0] == "waymark", argv
    command: Any = typer.main.get_command(cli.app)
    name, args = "waymark", list(argv[1:])
    while hasattr(command, "commands"):
        assert args, f"{argv}: names no command"
        name, *args = args
        assert name in command.commands, f"{argv}: no command {name!r}"
        command = command.commands[name]
    params: dict[str, Any] = command.make_context(name, args).params
    return params


def waymark_services() -> dict[str, dict]:
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("command", [""])[0] == "waymark"
    }


# -- the compose file -------------------------------------------------------------


def test_the_compose_file_follows_the_compose_specification() -> None:
    assert compose_errors(compose()) == []


def test_the_schema_check_refuses_what_compose_would_refuse() -> None:
    broken = copy.deepcopy(compose())
    broken["services"]["app"]["depends_on"]["init"]["condition"] = "service_finished"
    broken["services"]["projections"]["restart_policy"] = "always"
    errors = compose_errors(broken)
    assert any(e.startswith("services/app/depends_on") for e in errors), errors
    assert any(e.startswith("services/projections") for e in errors), errors


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


def test_a_one_shot_init_creates_the_tables_before_the_app_and_the_worker_start() -> None:
    services = compose()["services"]
    init = services["init"]
    assert init["command"] == ["waymark", "init"]
    assert init["restart"] == "no"
    assert init["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("app", "projections"):
        assert services[name]["depends_on"]["init"]["condition"] == (
            "service_completed_successfully"
        ), name
    assert init["environment"] == services["app"]["environment"]


def test_the_app_runs_several_workers_and_one_projection_worker_keeps_read_models() -> None:
    services = compose()["services"]
    assert command_line(services["app"]["command"])["workers"] >= 2
    assert command_line(services["app"]["command"])["host"] == "0.0.0.0"
    assert services["projections"]["command"] == ["waymark", "projections", "run"]
    assert "/readyz" in " ".join(services["app"]["healthcheck"]["test"])


def test_every_waymark_command_in_compose_is_a_real_command_line() -> None:
    commands = {name: service["command"] for name, service in waymark_services().items()}
    assert set(commands) == {"init", "app", "projections"}
    for argv in commands.values():
        command_line(argv)


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


SECRETS = {"POSTGRES_PASSWORD": "s3cretHex42", "WAYMARK_SECRET_KEY": "k" * 40}


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_will_not_start_without_each_secret(missing: str) -> None:
    given = {name: value for name, value in SECRETS.items() if name != missing}
    with pytest.raises(MissingVariable, match=missing):
        interpolate(compose(), given)
    for secret in SECRETS.values():
        assert secret not in (ROOT / "docker-compose.yml").read_text()


def test_the_secrets_given_reach_every_service_and_make_a_configuration_fit_to_serve() -> None:
    services = interpolate(compose(), SECRETS)["services"]
    postgres = services["postgres"]["environment"]
    assert postgres["POSTGRES_PASSWORD"] == SECRETS["POSTGRES_PASSWORD"]
    for name in waymark_services():
        environment = services[name]["environment"]
        settings = Settings(
            **{k.removeprefix("WAYMARK_").lower(): v for k, v in environment.items()}
        )
        assert settings.postgres_parts() == {
            "host": "postgres",
            "port": "5432",
            "user": postgres["POSTGRES_USER"],
            "password": SECRETS["POSTGRES_PASSWORD"],
            "dbname": postgres["POSTGRES_DB"],
        }, name
        assert settings.secret_key.get_secret_value() == SECRETS["WAYMARK_SECRET_KEY"]
        assert settings.refusals(has_demo_credentials=False) == [], name


# -- the Dockerfile -----------------------------------------------------------------


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """Instructions, (KEYWORD, arguments), per stage; continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), arguments.strip()))
    return stages


def test_the_image_is_built_in_stages_and_runs_as_an_unprivileged_user() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    for stage in stages:
        image = stage[0][1].split()[0]
        assert ":" in image and not image.endswith(":latest"), f"pin {image}"
    run = stages[-1]
    assert any(k == "COPY" and a.startswith("--from=") for k, a in run)
    users = [a for k, a in run if k == "USER"]
    assert users, "the run stage must set USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert not [a for k, a in run if k == "RUN" and "pip install" in a], (
        "install in the build stage"
    )


def test_the_image_builds_every_package_and_serves_with_a_real_command() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = {a.split()[0] for stage in dockerfile_stages() for k, a in stage if k == "COPY"}
    assert packages <= copied, f"not copied into the image: {packages - copied}"
    [cmd] = [a for k, a in dockerfile_stages()[-1] if k == "CMD"]
    assert command_line(json.loads(cmd))["host"] == "0.0.0.0"


def test_the_apps_data_folder_and_so_its_signing_key_outlive_the_container() -> None:
    run = dockerfile_stages()[-1]
    variables = dict(
        item.split("=", 1) for k, a in run if k == "ENV" for item in a.split() if "=" in item
    )
    data_dir = variables["WAYMARK_DATA_DIR"]
    volumes = compose()["services"]["app"]["volumes"]
    [named] = [v.split(":")[0] for v in volumes if v.split(":")[1] == data_dir]
    assert named in compose()["volumes"]
    # made in the image and owned by the user, so that a new volume starts out writable
    assert any(k == "RUN" and f"-o waymark -g waymark -m 0700 {data_dir}" in a for k, a in run)


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "data", ".env"} <= ignored
