"""Issue 6: exports reviewers can check offline, and a restore that gives back the same record."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.ledger import read_export, verify_export
from services.ledger_chain import (
    GENESIS,
    Checkpoint,
    link_events,
    load_or_create_signing_key,
    load_public_key,
    public_key_pem,
)
from services.settings import Settings
from tests.conftest import TEST_SECRET, fresh_postgres_database
from tests.helpers import MANAGER, assert_problem, cohort, council, entry, programme, project
from tests.tamper import BACKDATED, STAMP, tampering
from web.api.exports import csv_line
from web.app import create_app
from web.cli import app as cli

TRICKY = 'Residents said "bins, then boxes",\nthen: "boxes; bins"\r\nand left, twice.'


@pytest.fixture
def record(client: TestClient) -> dict[str, Any]:
    """Two councils' projects in one cohort, with text that CSV has to quote."""
    cohort_id = cohort(client, programme(client))
    exeter = project(client, cohort_id, council(client, "GB-EXE", "Exeter, City of"))
    devon = project(client, cohort_id, council(client, "GB-DEV", 'Devon "County"', "county"))
    entry(client, exeter, {"kind": "problem_statement_iterated", "statement": TRICKY})
    entry(
        client,
        devon,
        {
            "kind": "capacity_decided",
            "capability": "Booking",
            "choice": "share",
            "consulted": ["Finance, North", 'Legal "team"'],
            "estimated_cost": "1250.50",
        },
    )
    last = entry(
        client, exeter, {"kind": "phase_changed", "phase": "alpha", "reason": "Discovery done"}
    )
    return {"cohort_id": cohort_id, "position": last["position"]}


def cli_env(settings: Settings) -> dict[str, str]:
    env = {"WAYMARK_DATA_DIR": str(settings.data_dir), "WAYMARK_DATABASE_URL": ""}
    if settings.database_url:
        env["WAYMARK_DATABASE_URL"] = settings.database_url
    return env


def run(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env=cli_env(settings))


@pytest.fixture
def other_settings(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Settings]:
    """A second, empty store on the same backend (its own key, its own database)."""
    common = {
        "data_dir": tmp_path / "other",
        "projection_poll_interval": 0.05,
        "secret_key": TEST_SECRET,
        "cookie_secure": False,
    }
    if backend == "postgres":
        for url in fresh_postgres_database(request.getfixturevalue("postgres_admin")):
            yield Settings(database_url=url, **common)
    else:
        yield Settings(**common)


# -- events.ndjson -------------------------------------------------------------------------


def test_events_ndjson_streams_every_stored_event_with_its_chain_hash(
    client: TestClient, record: dict[str, Any]
) -> None:
    response = client.get("/api/export/events.ndjson")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["position"] for line in lines] == list(range(1, record["position"] + 1))
    for line in lines:
        assert set(line) == {
            "position",
            "originator_id",
            "originator_version",
            "topic",
            "recorded_at",
            "state",
            "event_hash",
            "chain_hash",
        }
        assert line["recorded_at"].endswith("Z")
    statement = next(line for line in lines if line["topic"].endswith("ProblemStatementIterated"))
    assert statement["state"]["statement"] == TRICKY
    verified = client.get("/api/ledger/verify").json()
    assert verified["ok"] is True
    assert lines[-1]["chain_hash"] == verified["chain_hash"]


def test_the_chain_in_an_export_can_be_recomputed_from_the_documented_recipe(
    client: TestClient, record: dict[str, Any]
) -> None:
    previous = GENESIS
    for text in client.get("/api/export/events.ndjson").text.splitlines():
        line = json.loads(text)
        state = json.dumps(line["state"], ensure_ascii=False, separators=(",", ":")).encode()
        fields = [
            str(line["position"]).encode(),
            line["originator_id"].encode(),
            str(line["originator_version"]).encode(),
            line["topic"].encode(),
            state,
        ]
        digest = hashlib.sha256(b"".join(len(f).to_bytes(8, "big") + f for f in fields)).digest()
        previous = hashlib.sha256(previous + digest).digest()
        assert digest.hex() == line["event_hash"]
        assert previous.hex() == line["chain_hash"]


# -- timeline.csv ----------------------------------------------------------------------------


def test_timeline_csv_round_trips_commas_quotes_and_line_breaks(
    client: TestClient, record: dict[str, Any]
) -> None:
    cohort_id = record["cohort_id"]
    timeline = client.get(
        f"/api/cohorts/{cohort_id}/timeline", params={"wait_for": record["position"]}
    ).json()["items"]

    response = client.get("/api/export/timeline.csv", params={"cohort": cohort_id})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv; charset=utf-8")
    assert response.content.decode("utf-8").startswith("log_position,entry_id,")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))
    # one line ending for the header and each row, and the line breaks inside quoted values
    inside = sum(value.count("\r\n") for row in rows for value in row.values())
    assert response.content.count(b"\r\n") == 1 + len(timeline) + inside
    assert [row["entry_id"] for row in rows] == [item["entry_id"] for item in timeline]
    by_kind = {row["kind"]: row for row in rows}
    assert by_kind["problem_statement_iterated"]["statement"] == TRICKY
    assert by_kind["problem_statement_iterated"]["council_name"] == "Exeter, City of"
    decided = by_kind["capacity_decided"]
    assert decided["council_name"] == 'Devon "County"'
    assert json.loads(decided["consulted"]) == ["Finance, North", 'Legal "team"']
    assert decided["estimated_cost"] == "1250.50"
    assert by_kind["phase_changed"]["phase"] == "alpha"
    assert by_kind["phase_changed"]["project_phase"] == "alpha"
    assert {row["log_position"] for row in rows} == {str(item["position"]) for item in timeline}


#: Texts a spreadsheet would run as formulas (OWASP's CSV injection list), and one that
#: begins with the apostrophe a neutralised cell gets.
FORMULAS = [
    '=HYPERLINK("http://x","y")',
    "=1+2",
    "+44 20 7946 0000",
    "-1+2",
    "@SUM(A1:A2)",
    "=cmd|' /C calc'!A0",
    "'tis an apostrophe",
]


def _original(cell: str) -> str:
    """What docs/EXPORT.md tells a program to do: drop one leading apostrophe."""
    return cell[1:] if cell.startswith("'") else cell


def test_timeline_csv_cells_that_could_be_formulas_open_as_text_and_round_trip(
    client: TestClient,
) -> None:
    # Given entries whose texts begin with what a spreadsheet reads as a formula,
    # beside ordinary texts and a negative amount written as a number
    cohort_id = cohort(client, programme(client))
    exeter = project(client, cohort_id, council(client, "GB-EXE", "Exeter"))
    written = {
        entry(client, exeter, {"kind": "members_engaged", "how": text, "response": "-12.50"})[
            "entry_id"
        ]: text
        for text in FORMULAS
    }
    plain = entry(client, exeter, {"kind": "members_engaged", "how": "Briefing, then vote"})
    timeline = client.get(
        f"/api/cohorts/{cohort_id}/timeline", params={"wait_for": plain["position"]}
    ).json()["items"]

    # When the timeline is exported as CSV
    response = client.get("/api/export/timeline.csv", params={"cohort": cohort_id})
    text = response.content.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))

    # Then each such cell is the original after one added apostrophe, and quoted
    by_id = {row["entry_id"]: row for row in rows}
    for entry_id, original in written.items():
        assert by_id[entry_id]["how"] == "'" + original
        # Ordinary cells are untouched: the negative amount stays a number
        assert by_id[entry_id]["response"] == "-12.50"
        assert by_id[entry_id]["kind"] == "members_engaged"
    assert '"\'=HYPERLINK(""http://x"",""y"")"' in text
    assert by_id[plain["entry_id"]]["how"] == "Briefing, then vote"
    # And dropping the one leading apostrophe gives back every value as recorded
    for item in timeline:
        row = by_id[item["entry_id"]]
        assert _original(row["how"]) == item["how"]
        assert _original(row["summary"]) == item["summary"]
        assert row["log_position"] == str(item["position"])
    # No cell a spreadsheet would run is left
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not cell.startswith("-") or cell == "-12.50", cell


def test_a_csv_cell_beginning_with_a_tab_or_carriage_return_is_neutralised() -> None:
    # (The record trims the texts it keeps, so these cannot come from an entry.)
    cells = ["\tx", "\r=1", "-12.50", "-7", "-x", "a,b", 'say "hi"', "", "plain"]
    line = csv_line(cells)
    [parsed] = list(csv.reader(io.StringIO(line, newline="")))
    assert parsed == ["'\tx", "'\r=1", "-12.50", "-7", "'-x", "a,b", 'say "hi"', "", "plain"]
    assert [_original(cell) for cell in parsed] == cells
    assert line.startswith('"\'\tx","\'\r=1",-12.50,-7,"\'-x",')
    assert line.endswith("\r\n")


def test_timeline_csv_of_an_unknown_cohort_is_a_404_problem(client: TestClient) -> None:
    assert_problem(
        client.get("/api/export/timeline.csv", params={"cohort": str(uuid.uuid4())}), 404
    )


# -- verify over HTTP ------------------------------------------------------------------------


def test_verify_over_http_names_the_first_bad_position(
    client: TestClient, record: dict[str, Any], settings: Settings
) -> None:
    assert client.get("/api/ledger/verify").json()["ok"] is True

    with tampering(settings) as sql:
        sql.replace_in_state(4, STAMP, BACKDATED)

    body = client.get("/api/ledger/verify").json()
    assert body["ok"] is False
    assert body["problem"]["position"] == 4
    assert body["problem"]["kind"] == "changed"


def test_checkpoints_are_listed_and_verify_with_the_public_key(client: TestClient) -> None:
    # Given checkpoints signed on demand: over the fixture's users, then after two writes
    ledger = client.app.state.waymark.ledger  # type: ignore[attr-defined]
    users = ledger.checkpoint()
    assert users is not None
    programme(client)
    first = ledger.checkpoint()
    programme(client, "Another")
    second = ledger.checkpoint()

    # When they are listed a page at a time
    listed = client.get("/api/ledger/checkpoints", params={"limit": 1}).json()
    rest = client.get("/api/ledger/checkpoints", params={"after": listed["next_after"]}).json()
    pem = client.get("/api/ledger/public-key")

    # Then each verifies with the published public key
    assert pem.text == listed["public_key"]
    key = load_public_key(pem.text)
    items = listed["items"] + rest["items"]
    assert [c["position"] for c in items] == [users.position, first.position, second.position]
    assert rest["next_after"] is None
    for item in items:
        checkpoint = Checkpoint.from_json(item)
        assert checkpoint.key_id == listed["key_id"]
        key.verify(checkpoint.signature, checkpoint.message())


# -- export, verify offline, import ---------------------------------------------------------


def export(client: TestClient, settings: Settings, directory: Path) -> None:
    result = run(settings, "export", str(directory))
    assert result.exit_code == 0, result.output
    assert {p.name for p in directory.iterdir()} == {
        "events.ndjson",
        "checkpoints.json",
        "public-key.pem",
    }


def edit_line(path: Path, position: int, change: Any) -> None:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    lines = [change(line) if line["position"] == position else line for line in lines]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines if line is not None))


def test_a_fresh_export_verifies_offline(
    client: TestClient, record: dict[str, Any], settings: Settings, tmp_path: Path
) -> None:
    export(client, settings, tmp_path / "export")

    result = CliRunner().invoke(cli, ["verify", "--offline", str(tmp_path / "export")])

    assert result.exit_code == 0, result.output
    assert f"up to position {record['position']} verified" in result.output
    assert f"signed up to position {record['position']}" in result.output
    reported: list[int] = []
    verdict = verify_export(tmp_path / "export", progress=reported.append)
    assert verdict.ok and sum(reported) == verdict.events == record["position"]


def test_an_edited_export_fails_offline_naming_the_position(
    client: TestClient, record: dict[str, Any], settings: Settings, tmp_path: Path
) -> None:
    export(client, settings, tmp_path / "export")
    events = tmp_path / "export" / "events.ndjson"

    def reword(line: dict[str, Any]) -> dict[str, Any]:
        line["state"]["statement"] = "Residents are happy."
        return line

    statement = next(
        json.loads(text)["position"]
        for text in events.read_text().splitlines()
        if "ProblemStatementIterated" in text
    )
    edit_line(events, statement, reword)

    result = CliRunner().invoke(cli, ["verify", "--offline", str(tmp_path / "export")])

    assert result.exit_code == 1
    assert f"position {statement}: the event differs" in result.output
    problem = verify_export(tmp_path / "export").problem
    assert problem is not None and (problem.position, problem.kind) == (statement, "changed")


def test_a_line_removed_from_an_export_is_named_by_the_next_position(
    client: TestClient, record: dict[str, Any], settings: Settings, tmp_path: Path
) -> None:
    export(client, settings, tmp_path / "export")
    edit_line(tmp_path / "export" / "events.ndjson", 3, lambda line: None)

    problem = verify_export(tmp_path / "export").problem

    assert problem is not None and (problem.position, problem.kind) == (4, "chain-broken")
    assert "does not follow from position 2" in problem.detail


def test_an_event_appended_to_an_export_with_a_matching_chain_is_unsigned(
    client: TestClient, record: dict[str, Any], settings: Settings, tmp_path: Path
) -> None:
    # Given a forger who appends an event and computes its chain hash correctly
    export(client, settings, tmp_path / "export")
    events = tmp_path / "export" / "events.ndjson"
    last = json.loads(events.read_text().splitlines()[-1])
    forged = {**last, "position": last["position"] + 1, "originator_version": 99}
    stored = next(
        event for position, event, _ in read_export(events) if position == last["position"]
    )
    assert stored is not None
    forged_event = StoredEvent(stored.originator_id, 99, stored.topic, stored.state)
    (link,) = link_events(bytes.fromhex(last["chain_hash"]), [(forged["position"], forged_event)])
    forged["event_hash"], forged["chain_hash"] = link.event_hash.hex(), link.chain_hash.hex()
    with events.open("a") as file:
        file.write(json.dumps(forged) + "\n")

    problem = verify_export(tmp_path / "export").problem

    assert problem is not None and (problem.position, problem.kind) == (
        forged["position"],
        "unsigned",
    )


def test_offline_verify_trusts_only_the_key_it_is_given(
    client: TestClient, record: dict[str, Any], settings: Settings, tmp_path: Path
) -> None:
    export(client, settings, tmp_path / "export")
    stranger = tmp_path / "stranger.pem"
    stranger.write_text(public_key_pem(load_or_create_signing_key(tmp_path / "k.pem").public_key()))

    result = CliRunner().invoke(
        cli, ["verify", "--offline", str(tmp_path / "export"), "--public-key", str(stranger)]
    )

    assert result.exit_code == 1
    assert "not trusted here" in result.output


def test_export_then_import_gives_the_same_chain_head_and_the_same_answers(
    client: TestClient,
    record: dict[str, Any],
    settings: Settings,
    other_settings: Settings,
    tmp_path: Path,
) -> None:
    # Given an export of a record
    export(client, settings, tmp_path / "export")
    cohort_id = record["cohort_id"]
    params = {"wait_for": record["position"]}
    timeline = client.get(f"/api/cohorts/{cohort_id}/timeline", params=params).json()["items"]
    events = client.get("/api/export/events.ndjson").text
    verified = client.get("/api/ledger/verify").json()

    # When it is imported into an empty store
    result = run(
        other_settings,
        "import",
        str(tmp_path / "export" / "events.ndjson"),
        "--trusted-key",
        str(tmp_path / "export" / "public-key.pem"),
    )
    assert result.exit_code == 0, result.output
    assert verified["chain_hash"] in result.output

    # Then the restored store holds the same events, chain and answers
    with TestClient(create_app(other_settings)) as restored:
        # Users and their grants are events and come along; tokens are not, by design.
        waymark = restored.app.state.waymark  # type: ignore[attr-defined]
        token = waymark.credentials.issue_token("pm.jones")
        restored.headers["Authorization"] = f"Bearer {token}"
        assert (
            restored.get(f"/api/cohorts/{cohort_id}/timeline", params=params).json()["items"]
            == timeline
        )
        assert restored.get("/api/export/events.ndjson").text == events
        again = restored.get("/api/ledger/verify").json()
        assert again["ok"] is True
        assert (again["head"], again["chain_hash"]) == (verified["head"], verified["chain_hash"])
        assert again["signed_up_to"] == verified["head"]
        # and new writes carry on after the restored positions
        written = entry(
            restored,
            timeline[0]["project_id"],
            {"kind": "members_engaged", "how": "Briefing"},
            headers=MANAGER,
        )
        assert written["position"] == record["position"] + 1
        assert restored.get("/api/ledger/verify").json()["ok"] is True


def test_import_refuses_a_store_that_has_events(
    client: TestClient, record: dict[str, Any], settings: Settings, tmp_path: Path
) -> None:
    export(client, settings, tmp_path / "export")

    result = run(
        settings,
        "import",
        str(tmp_path / "export" / "events.ndjson"),
        "--trusted-key",
        str(tmp_path / "export" / "public-key.pem"),
    )

    assert result.exit_code == 1
    assert "already holds events" in result.output
    assert client.get("/api/ledger/verify").json()["head"] == record["position"]


def test_import_refuses_an_edited_export_and_writes_nothing(
    client: TestClient,
    record: dict[str, Any],
    settings: Settings,
    other_settings: Settings,
    tmp_path: Path,
) -> None:
    export(client, settings, tmp_path / "export")
    edit_line(
        tmp_path / "export" / "events.ndjson",
        record["position"],
        lambda line: {**line, "topic": line["topic"].replace("PhaseChanged", "Withdrawn")},
    )

    result = run(
        other_settings,
        "import",
        str(tmp_path / "export" / "events.ndjson"),
        "--trusted-key",
        str(tmp_path / "export" / "public-key.pem"),
    )

    assert result.exit_code == 1
    assert f"position {record['position']}" in result.output
    verified = run(other_settings, "verify")
    assert verified.exit_code == 0, verified.output
    assert "0 events" in verified.output


def test_a_rewrite_that_also_replaces_the_checkpoints_is_caught_by_kept_checkpoints(
    client: TestClient, record: dict[str, Any], settings: Settings, tmp_path: Path
) -> None:
    # Given a reviewer who kept an export
    export(client, settings, tmp_path / "kept")
    # When someone changes an event, recomputes the chain and deletes every checkpoint
    with tampering(settings) as sql:
        sql.replace_in_state(4, STAMP, BACKDATED)
        sql.rechain()
        sql.sql("DELETE FROM {checkpoints}")
    settings.checkpoint_log_path.unlink()  # and, holding the server's disk too, its log

    # Then the store checks out on its own (nothing signed is left to contradict it)
    assert run(settings, "verify").exit_code == 0
    # but not against the checkpoints the reviewer kept
    result = run(settings, "verify", "--checkpoints", str(tmp_path / "kept" / "checkpoints.json"))
    assert result.exit_code == 1
    assert f"position {record['position']}: the record up to here no longer matches" in (
        " ".join(result.output.split())
    )
