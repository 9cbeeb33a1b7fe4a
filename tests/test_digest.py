"""Issue 21, points 3 and 4: the weekly digest, sent through a real SMTP server.

A mail server (aiosmtpd) listens inside the test process; ``waymark digest send``
runs as an operator would run it, on the same store as the test's server. The day
the digest is for (``--today``) is 40 days ahead, so what was recorded today is 40
days old by then: quiet for 21 days (the default), and a concern open past 28.
"""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from email import policy
from email.message import EmailMessage
from time import monotonic, sleep
from typing import Any
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from domain.errors import NotFound
from services.container import Waymark
from services.digests import DigestSchedule
from services.records import DecisionRecords
from services.settings import Settings
from tests.helpers import make_user
from web.app import create_app
from web.cli import app as cli

TODAY = datetime.now(UTC).date()
DIGEST_DAY = TODAY + timedelta(days=40)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """What the mail server received: one message per recipient."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[str]:
        """The plain text of each message to ``address``."""
        found = []
        for message in self.messages:
            if message["To"] == address:
                body = message.get_body(("plain",))
                assert body is not None
                found.append(body.get_content())
        return found

    def addresses(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.messages)


@pytest.fixture
def mail_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def server(
    settings: Settings, mail_server: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The test's server (which sends no mail itself), and the command line's environment:
    the same store, and the mail server."""
    for name, value in {
        "WAYMARK_DATA_DIR": str(settings.data_dir),
        "WAYMARK_DATABASE_URL": settings.database_url or "",
        "WAYMARK_SECRET_KEY": settings.secret_key.get_secret_value(),
        "WAYMARK_SMTP_HOST": "127.0.0.1",
        "WAYMARK_SMTP_PORT": str(mail_server[1]),
        "WAYMARK_SMTP_STARTTLS": "false",
        "WAYMARK_MAIL_FROM": "waymark@programme.example",
        "WAYMARK_DIGEST_RETRY_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {make_user(_waymark(client), 'ops', 'admin')}"
        yield client


def _cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.output


def _send(day: date = DIGEST_DAY, *more: str, code: int = 0) -> str:
    return _cli("digest", "send", "--today", day.isoformat(), *more, code=code)


def _waymark(client: TestClient) -> Waymark:
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    return waymark


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def _build_world(client: TestClient) -> dict[str, str]:
    """Programme Local Digital: Exeter's project quiet since today, with a concern raised
    today and still open; Devon's recorded two days before the digest's day, with a
    concern raised five days before it and an old one resolved. Programme Members: Hackney
    quiet. Managers: alice (Local Digital), quinn (Members), paul (Local Digital, no email
    address). A participant of Exeter, with an email address, who has not asked for it."""
    records: DecisionRecords = _waymark(client).records
    p = records.launch_programme(name="Local Digital", description="", sponsor_body="", actor="t")
    q = records.launch_programme(name="Members", description="", sponsor_body="", actor="t")
    dates = {"starts_on": TODAY - timedelta(days=10), "ends_on": TODAY + timedelta(days=200)}
    c = records.form_cohort(programme_id=p.id, name="Cohort 1", actor="t", **dates)
    c2 = records.form_cohort(programme_id=q.id, name="Cohort M", actor="t", **dates)
    for code, name in (("GB-EXE", "Exeter"), ("GB-DEV", "Devon"), ("GB-HCK", "Hackney")):
        records.register_council(
            code=code,
            name=name,
            council_type="district",
            region="south_west",
            population=None,
            gss_code=None,
            political_control=None,
            actor="t",
        )
    exeter = records.enrol_council(
        cohort_id=c.id, council_code="GB-EXE", title="Bins", actor="t"
    ).id
    devon = records.enrol_council(
        cohort_id=c.id, council_code="GB-DEV", title="Roads", actor="t"
    ).id
    records.enrol_council(cohort_id=c2.id, council_code="GB-HCK", title="Parks", actor="t")
    old = records.record_entry(
        project_id=exeter,
        kind="concern_raised",
        decided_on=None,
        values={"category": "privacy", "description": "Bin sensor data kept too long"},
        actor="t",
    )
    records.record_entry(
        project_id=exeter,
        kind="support_requested",
        decided_on=None,
        values={"wish": "A data protection officer's hour", "from_whom": "lga"},
        actor="t",
    )
    resolved = records.record_entry(
        project_id=devon,
        kind="concern_raised",
        decided_on=None,
        values={"category": "skills", "description": "No one knows the gritting system"},
        actor="t",
    )
    with DecisionRecords.recording_at(_at(DIGEST_DAY - timedelta(days=5))):
        records.record_entry(
            project_id=devon,
            kind="concern_raised",
            decided_on=None,
            values={"category": "security", "description": "Shared passwords in depots"},
            actor="t",
        )
    with DecisionRecords.recording_at(_at(DIGEST_DAY - timedelta(days=2))):
        records.record_entry(
            project_id=devon,
            kind="concern_resolved",
            decided_on=None,
            values={"concern_entry_id": str(resolved.id), "resolution": "Trained"},
            actor="t",
        )
    # Cohort 1's workshop two days after the digest's day is in it; one nine days on is not
    for ahead, topic in ((2, "Service design basics"), (9, "Too far ahead")):
        records.hold_session(
            cohort_id=c.id,
            values={
                "session_kind": "workshop",
                "held_on": (DIGEST_DAY + timedelta(days=ahead)).isoformat(),
                "topic": topic,
                "run_by": "LGA",
                "attendance": [],
            },
            actor="t",
        )
    _cli(
        "users", "add", "alice", "--role", "programme_manager", "--programme", str(p.id),
        "--email", "alice@council.example",
    )  # fmt: skip
    for username, programme, council, address in (
        ("quinn", q.id, None, "Quinn@members.example"),
        ("paul", p.id, None, None),
        ("pat", None, "GB-EXE", "pat@exeter.example"),
    ):
        records.register_user(username=username, display_name=None, actor="t")
        role = "participant" if council else "programme_manager"
        records.grant_role(
            username=username, role=role, programme_id=programme, council_code=council, actor="t"
        )
        if address:
            records.record_email(username=username, email=address, actor="t")
    return {"old_concern": str(old.id), "exeter": str(exeter)}


def test_each_manager_gets_one_digest_a_week_naming_their_quiet_projects_and_old_concerns(
    server: TestClient, mail_server: tuple[Inbox, int]
) -> None:
    inbox, _ = mail_server
    # Given two programmes, their managers and a participant (an email address is checked)
    refused = _cli(
        "users", "add", "eve", "--role", "reviewer", "--email", "not an address", code=2
    )  # fmt: skip
    assert "email" in refused
    _build_world(server)
    waymark = _waymark(server)
    with pytest.raises(NotFound):
        waymark.records.get_user("eve")

    # When an operator looks first: what would be sent is printed, and nothing is sent
    dry = _send(DIGEST_DAY, "--dry-run")
    assert "2 digest(s) would be sent" in dry
    assert "To: alice@council.example" in dry and "To: Quinn@members.example" in dry
    assert inbox.messages == []

    # When the digests are sent
    sent = _send()
    assert "2 sent, 0 failed" in sent

    # Then each manager with an address gets one, naming exactly their programme's
    assert inbox.addresses() == ["Quinn@members.example", "alice@council.example"]
    (alice,) = inbox.to("alice@council.example")
    quiet, concerns, wishes, sessions = _sections(alice)
    assert quiet == ["Exeter: Bins (Cohort 1)"]  # Devon recorded two days ago
    assert concerns == ["Exeter: Bins (Cohort 1), concern raised"]  # Devon's are new
    assert "Privacy: Bin sensor data kept too long" in alice
    assert wishes == ["Exeter: Bins (Cohort 1), asked"]
    assert sessions == ["Cohort 1: workshop on"]
    assert "Service design basics (run by LGA)" in alice and "Too far ahead" not in alice
    assert "Hackney" not in alice
    (quinn,) = inbox.to("Quinn@members.example")
    assert _sections(quinn) == (["Hackney: Parks (Cohort M)"], [], [], [])
    subject = inbox.messages[0]["Subject"]
    assert subject.startswith(f"Waymark digest, week {DIGEST_DAY.isocalendar()[0]}-W")

    # And a second run in the same week, from a fresh process, sends nothing
    again = _send()
    assert "0 sent" in again and "2 already sent" in again
    assert len(inbox.messages) == 2

    # And two workers racing for the next week send each digest once
    next_week = DIGEST_DAY + timedelta(days=7)
    reports = []
    racers = [
        threading.Thread(target=lambda: reports.append(waymark.digests.send(next_week)))
        for _ in range(2)
    ]
    with _sending(waymark, mail_server[1]):
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
    assert sorted(len(r.sent) for r in reports) in ([0, 2], [1, 1])
    assert len(inbox.messages) == 4

    # And someone who turns their digest off gets none; a participant who asks gets theirs
    quinn_browser = _browser(server, "quinn")
    page = quinn_browser.get("/digest")  # today, not 40 days on: nothing is quiet yet
    assert page.status_code == 200 and "Nothing needs your attention this week" in page.text
    off = quinn_browser.post("/digest/choice", data={"wanted": "no"})
    assert "Your weekly digest is off" in off.text
    pat = _browser(server, "pat")
    assert "A data protection officer&#39;s hour" in pat.get("/digest").text
    pat.post("/digest/choice", data={"wanted": "yes"})
    missing = pat.post("/digest/choice", data={})
    assert missing.status_code == 400
    assert "Select whether you want the weekly digest by email" in missing.text
    assert "DigestChosen" in [e.__class__.__name__ for e in _events_of(waymark, "quinn")]
    assert "Sent to pat" in _send(DIGEST_DAY + timedelta(days=14))
    assert len(inbox.messages) == 6  # alice and pat: nothing for quinn
    assert inbox.addresses().count("Quinn@members.example") == 2

    # And the worker's schedule sends this week's (today's wish, to alice and pat), once
    schedule = DigestSchedule(waymark.digests, waymark.wait_for_head)
    with _sending(waymark, mail_server[1]):
        schedule.start()
        deadline = monotonic() + 30
        while len(inbox.messages) < 8 and monotonic() < deadline:
            sleep(0.05)
        schedule.run_once()
        schedule.stop()
    scheduled = sorted(str(m["To"]) for m in inbox.messages[6:])
    assert scheduled == ["alice@council.example", "pat@exeter.example"]
    assert len(inbox.messages) == 8

    # And the operations page lists what was sent
    operations = server.get("/operations")
    assert operations.status_code == 200
    assert operations.text.count("govuk-tag--green") == 8


def test_a_partner_council_s_people_are_nudged_about_the_projects_it_is_a_partner_of(
    server: TestClient,
) -> None:
    # Given Exeter's quiet project, with a wish unanswered, and a participant of Hackney
    exeter = UUID(_build_world(server)["exeter"])
    waymark = _waymark(server)
    records = waymark.records
    records.register_user(username="hana", display_name=None, actor="t")
    records.grant_role(
        username="hana", role="participant", programme_id=None, council_code="GB-HCK", actor="t"
    )

    def exeter_in_digest() -> list[str]:
        waymark.projector.catch_up()
        digest = waymark.digests.of("hana", DIGEST_DAY)
        assert digest is not None
        return [line for line in digest.lines() if "Exeter: Bins" in line]

    assert exeter_in_digest() == []

    # When Hackney joins it as a partner, the digest names it; when it leaves, no more
    def partner(kind: str) -> None:
        records.record_entry(
            project_id=exeter,
            kind=kind,
            decided_on=None,
            values={"council_code": "GB-HCK", "reason": "Shared housing team"},
            actor="t",
        )

    partner("partner_joined")
    assert exeter_in_digest() == [
        f"- Exeter: Bins (Cohort 1), nothing recorded since {TODAY.isoformat()}",
        f"- Exeter: Bins (Cohort 1), concern raised {TODAY.isoformat()} (40 days open),"
        " Privacy: Bin sensor data kept too long",
        f"- Exeter: Bins (Cohort 1), asked {TODAY.isoformat()} of LGA:"
        " A data protection officer's hour",
    ]
    partner("partner_left")
    assert exeter_in_digest() == []


def test_a_send_that_fails_is_recorded_and_a_later_run_retries_it(
    server: TestClient, mail_server: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = mail_server
    _build_world(server)
    # Given the mail server is down (nothing listens where the digests are sent)
    monkeypatch.setenv("WAYMARK_SMTP_PORT", str(_free_port()))
    # When the digests are sent, then every one fails, and each failure is kept
    failed = _send(code=1)
    assert "0 sent, 2 failed" in failed
    assert "Not sent to alice" in failed
    page = server.get("/operations").text
    assert page.count("govuk-tag--red") == 2
    assert "ConnectionRefusedError" in page
    # When the mail server is back, a later run sends each failed digest, once
    monkeypatch.setenv("WAYMARK_SMTP_PORT", str(port))
    assert "2 sent, 0 failed" in _send()
    assert inbox.addresses() == ["Quinn@members.example", "alice@council.example"]
    assert "0 sent" in _send()
    assert len(inbox.messages) == 2
    page = server.get("/operations").text
    assert page.count("govuk-tag--green") == 2 and "govuk-tag--red" not in page


# -- helpers ---------------------------------------------------------------------------------


def _sections(text: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """The project (or cohort) named by each line of the quiet, concerns, wishes and
    sessions sections, up to the first date (so that a test names what it means without the
    days it was run)."""
    found: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.endswith("):") and "(" in line:
            current = line.split(" (")[0]
            found[current] = []
        elif line.startswith("- ") and current:
            item = line[2:]
            if current == "Quiet projects":
                item = item.split(", nothing recorded")[0]
            else:
                item = item.split(" 20")[0]
            found[current].append(item)
    return (
        found.get("Quiet projects", []),
        found.get("Concerns open a long time", []),
        found.get("Wishes without an answer", []),
        found.get("Sessions in the coming week", []),
    )


def _browser(server: TestClient, username: str) -> TestClient:
    browser = TestClient(server.app)
    token = _waymark(server).credentials.issue_token(username, label="test")
    browser.headers["Authorization"] = f"Bearer {token}"
    return browser


def _events_of(waymark: Waymark, username: str) -> list[Any]:
    user = waymark.records.get_user(username)
    return list(waymark.records.events.get(user.id))


@contextmanager
def _sending(waymark: Waymark, port: int) -> Iterator[None]:
    """The test server's own Waymark sends through the mail server for a while."""
    saved = waymark.digests.settings
    waymark.digests.settings = saved.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False}
    )
    try:
        yield
    finally:
        waymark.digests.settings = saved
