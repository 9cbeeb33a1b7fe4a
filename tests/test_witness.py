"""Issue 16, points 1 and 2: tamper evidence an insider with database access cannot quietly defeat.

A real server (uvicorn in a thread) holds the demo record, signed every ten
positions; a reviewer runs `waymark witness` against it. Then an insider
attacks the store in SQL, and also wipes the server's checkpoint log, since
they hold the machine as well: the reviewer's witness must still show it,
both online (`verify --witness`) and offline (`verify --offline --witness`).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from services.container import Waymark
from services.demo import load_demo
from services.ledger import LedgerTampered
from services.ledger_chain import (
    Checkpoint,
    Link,
    checkpoint_message,
    key_id,
    load_or_create_signing_key,
)
from services.settings import Settings
from services.witnesses import WitnessError, extend_witness
from tests.helpers import make_user
from tests.tamper import BACKDATED, STAMP, tampering
from web.app import create_app
from web.cli import app as cli

INTERVAL = 10


@dataclass
class Site:
    url: str
    waymark: Waymark
    settings: Settings
    token: str
    witness_file: Path

    def head(self) -> int:
        link = self.waymark.ledger.head()
        assert link is not None
        return link.position

    def signed(self) -> list[int]:
        return [c.position for c in self.waymark.ledger.checkpoints()]

    def around(self, position: int) -> tuple[int, int]:
        """The checkpoints just before ``position`` and at or just after it."""
        signed = self.signed()
        return max(p for p in signed if p < position), min(p for p in signed if p >= position)

    def unsigned_tail(self, length: int) -> None:
        """Launch programmes until at least ``length`` events lie past the last checkpoint
        (and fewer than a checkpoint interval): whatever the demo's size, there is a tail."""
        assert length < INTERVAL
        while self.head() - self.signed()[-1] < length:
            self.launch(1)

    def launch(self, count: int) -> None:
        for n in range(count):
            self.waymark.records.launch_programme(
                name=f"Programme {n}", description=None, sponsor_body=None, actor="pm"
            )


def cli_env(settings: Settings) -> dict[str, str]:
    return {
        "WAYMARK_DATA_DIR": str(settings.data_dir),
        "WAYMARK_DATABASE_URL": settings.database_url or "",
        "WAYMARK_CHECKPOINT_INTERVAL": str(INTERVAL),
    }


def run(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args], env=cli_env(settings))


def witness(site: Site, token: str | None = None) -> Any:
    return CliRunner().invoke(
        cli,
        ["witness", site.url, "--into", str(site.witness_file)],
        env={"WAYMARK_TOKEN": token or site.token},
    )


@pytest.fixture
def site(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo record on a real server, and a reviewer's token for it."""
    settings = settings.model_copy(update={"checkpoint_interval": INTERVAL})
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        threading.Event().wait(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    waymark: Waymark = app.state.waymark
    load_demo(waymark.records)
    token = make_user(waymark, "reviewer.ray", "reviewer")
    try:
        yield Site(
            f"http://127.0.0.1:{port}",
            waymark,
            settings,
            token,
            tmp_path_factory.mktemp("reviewer") / "witness.json",
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wipe_checkpoint_log(site: Site) -> None:
    """The insider holds the server's disk too."""
    site.settings.checkpoint_log_path.unlink()


def assert_caught(site: Site, tmp_path: Path, between: tuple[int, int]) -> None:
    """`verify --witness` and offline verification of a fresh export both say NOT OK, naming
    a position in ``between``."""
    online = run(site.settings, "verify", "--witness", site.witness_file)
    assert online.exit_code == 1, online.output
    assert_names_a_position(online.output, between)
    export = tmp_path / "export"
    run(site.settings, "export", export)
    offline = run(site.settings, "verify", "--offline", export, "--witness", site.witness_file)
    assert offline.exit_code == 1, offline.output
    assert_names_a_position(offline.output, between)


def assert_names_a_position(output: str, between: tuple[int, int]) -> None:
    text = " ".join(output.split())
    assert "NOT OK" in text, text
    found = re.search(r"NOT OK: positions? (\d+)", text)
    assert found, text
    assert between[0] <= int(found.group(1)) <= between[1], text


# -- the witness command ---------------------------------------------------------------------


def test_a_witness_keeps_the_servers_checkpoints_and_the_server_notes_the_confirmation(
    site: Site,
) -> None:
    result = witness(site)

    assert result.exit_code == 0, result.output
    kept = json.loads(site.witness_file.read_text())
    assert [c["position"] for c in kept["checkpoints"]] == site.signed()
    assert kept["key_id"] == site.waymark.ledger.key_id
    confirmation = site.waymark.ledger.last_confirmation()
    assert confirmation is not None
    assert (confirmation.position, confirmation.by) == (site.head(), "reviewer.ray")
    page = httpx.get(
        f"{site.url}/ledger", headers={"Authorization": f"Bearer {site.token}"}, timeout=30
    )
    assert "Last confirmed by a witness" in page.text
    assert f"Up to position {site.head():,}" in page.text
    assert run(site.settings, "verify", "--witness", site.witness_file).exit_code == 0


def test_a_second_run_keeps_only_the_new_checkpoints_that_extend_the_kept_ones(
    site: Site,
) -> None:
    assert witness(site).exit_code == 0
    before = json.loads(site.witness_file.read_text())["checkpoints"]
    site.launch(25)

    result = witness(site)

    assert result.exit_code == 0, result.output
    after = json.loads(site.witness_file.read_text())["checkpoints"]
    assert after[: len(before)] == before
    assert [c["position"] for c in after] == site.signed()
    assert len(after) > len(before)


def test_a_witness_refuses_a_rewritten_record_and_keeps_its_file_as_it_was(
    site: Site,
) -> None:
    assert witness(site).exit_code == 0
    kept = site.witness_file.read_text()
    _, after = site.around(14)
    signed = site.signed()
    with tampering(site.settings) as sql:
        sql.replace_in_state(14, STAMP, BACKDATED)
        sql.rechain()
        sql.delete_checkpoints()
        sql.resign(load_or_create_signing_key(site.settings.signing_key_path), signed, "x")

    result = witness(site)

    assert result.exit_code == 1
    assert_names_a_position(result.output, (14, after))
    assert site.witness_file.read_text() == kept


def test_a_witness_needs_a_reviewers_token(site: Site) -> None:
    participant = make_user(site.waymark, "part.pat", "participant", council_code="GB-EXE")

    result = witness(site, participant)

    assert result.exit_code == 2
    assert "403" in result.output
    assert not site.witness_file.exists()


# -- the insider's attacks, each caught by the witness ---------------------------------------


def test_a_rewrite_rechained_with_the_checkpoints_after_it_deleted_is_caught(
    site: Site, tmp_path: Path
) -> None:
    assert witness(site).exit_code == 0
    before, after = site.around(14)
    with tampering(site.settings) as sql:
        sql.replace_in_state(14, STAMP, BACKDATED)
        sql.rechain()
        sql.delete_checkpoints(after=before)
    wipe_checkpoint_log(site)

    assert_caught(site, tmp_path, (before + 1, after))


def test_a_rewrite_in_the_unsigned_tail_is_caught(site: Site, tmp_path: Path) -> None:
    # Given events past the last checkpoint, seen by the witness before they were signed
    site.unsigned_tail(3)
    last = site.signed()[-1]
    assert site.head() > last
    assert witness(site).exit_code == 0
    # When the insider rewrites one of them and recomputes the chain
    with tampering(site.settings) as sql:
        sql.replace_in_state(last + 2, STAMP, BACKDATED)
        sql.rechain()
    wipe_checkpoint_log(site)

    assert_caught(site, tmp_path, (last + 1, site.head()))


def test_a_truncated_tail_is_caught(site: Site, tmp_path: Path) -> None:
    site.unsigned_tail(3)
    last, head = site.signed()[-1], site.head()
    assert witness(site).exit_code == 0
    with tampering(site.settings) as sql:
        sql.truncate(after=last + 1)
    wipe_checkpoint_log(site)

    assert_caught(site, tmp_path, (last + 2, head))


def test_re_signing_a_rewrite_with_the_servers_own_key_is_caught(
    site: Site, tmp_path: Path
) -> None:
    assert witness(site).exit_code == 0
    _, after = site.around(14)
    signed = site.signed()
    # Given an insider who also holds the signing key, and re-signs the rewritten chain
    # at the very positions that were signed before
    with tampering(site.settings) as sql:
        sql.replace_in_state(14, STAMP, BACKDATED)
        sql.rechain()
        sql.delete_checkpoints()
        sql.resign(
            load_or_create_signing_key(site.settings.signing_key_path),
            signed,
            "2026-01-01T00:00:00.000000Z",
        )
    wipe_checkpoint_log(site)
    # Then the store checks out on its own
    assert run(site.settings, "verify").exit_code == 0

    assert_caught(site, tmp_path, (14, after))


# -- the checkpoint log outside the store ----------------------------------------------------


def test_the_checkpoint_log_alone_catches_a_rewrite_with_the_checkpoints_deleted(
    site: Site,
) -> None:
    logged = site.settings.checkpoint_log_path
    assert not logged.is_relative_to(site.settings.data_dir)
    lines = [json.loads(line) for line in logged.read_text().splitlines()]
    assert [x["position"] for x in lines if x["kind"] == "checkpoint"] == site.signed()
    before, after = site.around(14)
    with tampering(site.settings) as sql:
        sql.replace_in_state(14, STAMP, BACKDATED)
        sql.rechain()
        sql.delete_checkpoints()

    result = run(site.settings, "verify")

    assert result.exit_code == 1
    assert_names_a_position(result.output, (before, after))
    page = httpx.get(
        f"{site.url}/ledger",
        params={"check": "every-event"},
        headers={"Authorization": f"Bearer {site.token}"},
        timeout=30,
    )
    assert "The record does not check out" in page.text
    assert re.search(
        rf"position ({'|'.join(str(p) for p in range(before, after + 1))}):", page.text
    )


def test_nothing_is_signed_over_a_chain_that_no_longer_matches_the_checkpoint_log(
    site: Site, tmp_path: Path
) -> None:
    signed = site.signed()
    before, _ = site.around(14)
    with tampering(site.settings) as sql:
        sql.replace_in_state(14, STAMP, BACKDATED)
        sql.rechain()
        sql.delete_checkpoints(after=before)
    site.launch(3)

    with pytest.raises(LedgerTampered) as raised:
        site.waymark.ledger.checkpoint()
    assert raised.value.problem.position == signed[-1]

    result = run(site.settings, "checkpoint")
    assert result.exit_code == 1
    assert f"Not signed: position {signed[-1]}" in " ".join(result.output.split())
    exported = run(site.settings, "export", tmp_path / "export")
    assert exported.exit_code == 1
    assert "Not signed" in exported.output
    assert site.signed() == [p for p in signed if p <= before]


# -- missing checkpoints ----------------------------------------------------------------------


def test_checkpoints_that_should_exist_but_are_missing_are_reported(site: Site) -> None:
    # Given a record whose checkpoints after the first were deleted (and no log to compare)
    head, kept = site.head(), site.signed()[0]
    with tampering(site.settings) as sql:
        sql.delete_checkpoints(after=kept)
    wipe_checkpoint_log(site)

    verdict = site.waymark.ledger.verify()

    assert verdict.problem is not None
    assert (verdict.problem.position, verdict.problem.kind) == (kept + 1, "checkpoints-missing")
    assert f"positions {kept + 1} to {head}" in verdict.problem.detail
    assert f"every {INTERVAL} positions" in verdict.problem.detail


# -- what a witness accepts (no server needed) -------------------------------------------------


def _signed(key: Any, position: int, chain: bytes) -> Checkpoint:
    kid = key_id(key.public_key())
    at = "2026-03-01T10:00:00.000000Z"
    return Checkpoint(
        position, chain, at, kid, key.sign(checkpoint_message(position, chain, at, kid))
    )


def test_a_witness_extends_only_with_the_same_key_increasing_positions_and_valid_signatures(
    tmp_path: Path,
) -> None:
    key = load_or_create_signing_key(tmp_path / "server.pem")
    other = load_or_create_signing_key(tmp_path / "other.pem")
    chain = {10: b"a" * 32, 20: b"b" * 32, 30: b"c" * 32}
    head = Link(30, b"", chain[30])
    held, added = extend_witness(
        None, key.public_key(), [_signed(key, 10, chain[10])], chain, head, "t"
    )
    assert [c.position for c in added] == [10]

    def refusal(*args: Any) -> str:
        with pytest.raises(WitnessError) as raised:
            extend_witness(held, *args)
        return raised.value.problem.kind

    assert refusal(other.public_key(), [], chain, head, "t") == "witness-key-changed"
    assert refusal(key.public_key(), [_signed(key, 10, chain[10])], chain, head, "t") == (
        "witness-out-of-order"
    )
    forged = replace(_signed(key, 20, chain[20]), signature=bytes(64))
    assert refusal(key.public_key(), [forged], chain, head, "t") == "bad-signature"
    assert refusal(key.public_key(), [_signed(other, 20, chain[20])], chain, head, "t") == (
        "unknown-key"
    )
    moved = {**chain, 10: b"x" * 32}
    assert refusal(key.public_key(), [_signed(key, 20, chain[20])], moved, head, "t") == (
        "witness-mismatch"
    )
    extended, added = extend_witness(
        held, key.public_key(), [_signed(key, 20, chain[20])], chain, head, "t"
    )
    assert [c.position for c in extended.checkpoints] == [10, 20]
    assert [(m.position, m.chain_hash) for m in extended.marks] == [(30, chain[30])]


def test_a_witness_answers_an_unreachable_server_or_a_missing_token_in_one_line(
    tmp_path: Path,
) -> None:
    into = tmp_path / "witness.json"
    unreachable = CliRunner().invoke(
        cli, ["witness", "http://127.0.0.1:9", "--into", str(into)], env={"WAYMARK_TOKEN": "t"}
    )
    no_token = CliRunner().invoke(
        cli, ["witness", "http://127.0.0.1:9", "--into", str(into)], env={"WAYMARK_TOKEN": ""}
    )

    assert unreachable.exit_code == 2
    assert "cannot reach http://127.0.0.1:9" in unreachable.output
    assert no_token.exit_code == 2
    assert "set WAYMARK_TOKEN" in no_token.output
    for result in (unreachable, no_token):
        assert isinstance(result.exception, SystemExit)
    assert not into.exists()
