"""The weekly digest: what needs a person's attention in the programmes they manage (or,
if they ask for it, their own council's projects), by email and at ``/digest``.

Who gets one: everyone with an email address who manages a programme, unless they
turned it off; and participants who turned it on, for their council's projects. A
digest naming nothing is not sent.

Never twice in one week: before sending, a process claims the person's ISO week with
one ``INSERT ... ON CONFLICT DO NOTHING`` into ``digest_sends`` (primary key: person
and week). Only the process whose row went in sends, so two workers, or a run and a
restart, cannot both send. A failed send is kept as ``failed`` with the error and the
earliest moment to try again (``WAYMARK_DIGEST_RETRY_SECONDS``, doubled with each
failure, at most six hours); a later run in the same week claims it back by one
conditional ``UPDATE`` and tries again. A process that dies while sending leaves the
row ``sending``: it is never tried again (it may have gone), and the operations page
shows it.
"""

from __future__ import annotations

import html
import logging
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from domain.vocabulary import Role
from projections.database import Database
from projections.queries import (
    NudgeQuery,
    digest_readers,
    find_person,
    in_words,
    instant,
    nudges,
)
from services.settings import Settings

log = logging.getLogger(__name__)

TABLE = "digest_sends"
#: The longest wait between tries of one digest.
MOST_BACKOFF = timedelta(hours=6)
SECTIONS = (
    ("quiet_projects", "Quiet projects"),
    ("old_concerns", "Concerns open a long time"),
    ("unanswered_wishes", "Wishes without an answer"),
    ("coming_sessions", "Sessions in the coming week"),
)


def iso_week(day: date) -> str:
    """The ISO week a day is in, as ``2026-W49``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def wants_digest(chosen: int | None, programme_ids: list[str]) -> bool:
    """A person's choice (1 or 0) where they made one; until then, managers get it."""
    return bool(chosen) if chosen is not None else bool(programme_ids)


def backoff(settings: Settings, attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure before trying again."""
    wait = timedelta(seconds=settings.digest_retry_seconds * 2 ** max(attempts - 1, 0))
    return min(wait, MOST_BACKOFF)


@dataclass
class Digest:
    """One person's digest for one week."""

    username: str
    display_name: str
    email: str | None
    week: str
    today: date
    sections: list[dict[str, Any]]
    settings: Settings = field(repr=False)
    #: Whether it is wanted by email (sent where there is an address): as chosen, or by
    #: default to programme managers.
    emailed: bool = False

    def counts(self) -> dict[str, int]:
        return {key: sum(len(s[key]) for s in self.sections) for key, _ in SECTIONS}

    @property
    def empty(self) -> bool:
        return not any(self.counts().values())

    def subject(self) -> str:
        counts = self.counts()
        parts = [
            _count(counts["quiet_projects"], "quiet project"),
            _count(counts["old_concerns"], "old concern"),
            _count(
                counts["unanswered_wishes"], "wish without an answer", "wishes without an answer"
            ),
        ]
        if counts["coming_sessions"]:
            parts.append(_count(counts["coming_sessions"], "session this week"))
        return f"Waymark digest, week {self.week}: {', '.join(parts)}"

    def lines(self) -> list[str]:
        """The digest as plain text, one line each."""
        out = [f"Waymark digest for {self.display_name}, week {self.week}", ""]
        for section in self.sections:
            out += [section["name"], "=" * len(section["name"])]
            for key, heading in SECTIONS:
                items = section[key]
                if not items:
                    continue
                out.append(f"{heading} ({len(items)}):")
                out += [f"- {describe(key, item)}" for item in items]
            out.append("")
        out.append("Turn this digest off, or read it any time, at /digest in Waymark.")
        return out

    def message(self, sender: str) -> EmailMessage:
        assert self.email is not None
        message = EmailMessage()
        message["Subject"] = self.subject()
        message["From"] = sender
        message["To"] = self.email
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
        message.set_content("\n".join(self.lines()))
        message.add_alternative(self.html(), subtype="html")
        return message

    def html(self) -> str:
        parts = [f"<h1>Waymark digest, week {html.escape(self.week)}</h1>"]
        for section in self.sections:
            parts.append(f"<h2>{html.escape(section['name'])}</h2>")
            for key, heading in SECTIONS:
                if section[key]:
                    items = "".join(
                        f"<li>{html.escape(describe(key, item))}</li>" for item in section[key]
                    )
                    parts.append(f"<h3>{heading}</h3><ul>{items}</ul>")
        parts.append("<p>Turn this digest off, or read it any time, at /digest in Waymark.</p>")
        return f'<!DOCTYPE html><html lang="en"><body>{"".join(parts)}</body></html>'


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def project_name(item: dict[str, Any]) -> str:
    return f"{item['council_name']}: {item['title']} ({item['cohort_name']})"


def detail(key: str, item: dict[str, Any]) -> str:
    """What the digest says of one item, after the project's name."""
    values = item.get("values", {})
    if key == "quiet_projects":
        return f"nothing recorded since {item['last_recorded_on']}"
    if key == "old_concerns":
        category = in_words("concern_raised", "category", values.get("category"))
        return (
            f"concern raised {item['decided_on']} ({item['days_open']} days open), "
            f"{category}: {_short(values.get('description', ''))}"
        )
    source = in_words("support_requested", "from_whom", values.get("from_whom"))
    return f"asked {item['decided_on']} of {source}: {_short(values.get('wish', ''))}"


def describe(key: str, item: dict[str, Any]) -> str:
    """One item of a digest in words, naming the project by its council and title (a
    session by its cohort)."""
    if key == "coming_sessions":
        return session_in_words(item)
    return f"{project_name(item)}, {detail(key, item)}"


def session_in_words(item: dict[str, Any]) -> str:
    kind = str(item["session_kind"]).replace("_", " ")
    return (
        f"{item['cohort_name']}: {kind} on {item['held_on']}, {_short(item['topic'])} "
        f"(run by {_short(item['run_by'], 60)})"
    )


def _short(text: object, most: int = 120) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= most else line[: most - 1] + "…"


@dataclass
class SendReport:
    """What a run did, person by person: ``(username, email, what)``."""

    week: str
    sent: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    would_send: list[Digest] = field(default_factory=list)


Mailer = Callable[[EmailMessage], None]


def smtp_mailer(settings: Settings) -> Mailer:
    """Sends one message through the configured SMTP server (a new connection each)."""

    def send(message: EmailMessage) -> None:
        assert settings.smtp_host is not None
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message)

    return send


class Digests:
    """Builds digests from the read models and sends each at most once a week."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        with database.transaction() as tx:
            tx.lock_schema()
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                " username TEXT NOT NULL, week TEXT NOT NULL, email TEXT NOT NULL,"
                " status TEXT NOT NULL, attempts INTEGER NOT NULL,"
                " first_tried_at TEXT NOT NULL, last_tried_at TEXT NOT NULL,"
                " next_attempt_at TEXT, sent_at TEXT, last_error TEXT,"
                " PRIMARY KEY (username, week))"
            )

    # -- what a digest says ---------------------------------------------------------

    def _sections(
        self, today: date, programme_ids: list[str], council_codes: list[str]
    ) -> list[dict[str, Any]]:
        return nudges(
            self.database,
            NudgeQuery(
                today=today,
                quiet_after_days=self.settings.quiet_after_days,
                concern_after_days=self.settings.digest_concern_days,
                programme_ids=tuple(programme_ids),
                council_codes=tuple(council_codes),
            ),
        )

    def of(self, username: str, today: date) -> Digest | None:
        """A person's digest, whether or not they receive it by email: every programme
        they manage and their council's projects. None if they have neither."""
        person = find_person(self.database, username)
        if person is None:
            return None
        grants = person["grants"]
        programmes = [g["programme_id"] for g in grants if g["role"] == Role.PROGRAMME_MANAGER]
        councils = [g["council_code"] for g in grants if g["role"] == Role.PARTICIPANT]
        if not programmes and not councils:
            return None
        digest = self._digest(person, today, programmes, councils)
        digest.emailed = wants_digest(person["digest"], programmes)
        return digest

    def _digest(
        self, person: dict[str, Any], today: date, programmes: list[str], councils: list[str]
    ) -> Digest:
        return Digest(
            username=person["username"],
            display_name=person["display_name"],
            email=person["email"],
            week=iso_week(today),
            today=today,
            sections=self._sections(today, programmes, councils),
            settings=self.settings,
        )

    def due(self, today: date) -> list[Digest]:
        """Every digest to be emailed for the week of ``today``, empty ones left out."""
        digests = []
        for person in digest_readers(self.database):
            chosen = person["digest"]
            programmes = person["programme_ids"] if chosen != 0 else []
            councils = person["council_codes"] if chosen == 1 else []
            if programmes or councils:
                digest = self._digest(person, today, programmes, councils)
                digest.emailed = True
                if not digest.empty:
                    digests.append(digest)
        return digests

    # -- sending, once a week ------------------------------------------------------------

    def send(
        self,
        today: date,
        *,
        mailer: Mailer | None = None,
        dry_run: bool = False,
        now: datetime | None = None,
    ) -> SendReport:
        """Send every digest due for ``today``'s week that no process has claimed, and
        try again those that failed and whose wait is over."""
        report = SendReport(iso_week(today))
        digests = self.due(today)
        if dry_run:
            moment = instant(now or datetime.now(UTC))
            report.would_send = [d for d in digests if self._open(d, moment)]
            return report
        if self.settings.smtp_host is None and mailer is None:
            return report
        mail = mailer or smtp_mailer(self.settings)
        for digest in digests:
            moment = instant(now or datetime.now(UTC))
            assert digest.email is not None and moment is not None
            attempts = self._claim(digest, moment)
            if attempts is None:
                report.skipped.append((digest.username, digest.email))
                continue
            try:
                mail(digest.message(self.settings.mail_from))
            except (OSError, smtplib.SMTPException) as error:
                problem = f"{type(error).__name__}: {error}"[:500]
                self._failed(digest, attempts, problem, now)
                report.failed.append((digest.username, digest.email, problem))
                log.warning("digest for %s not sent: %s", digest.username, problem)
            else:
                self._sent(digest, now)
                report.sent.append((digest.username, digest.email))
        return report

    def _claim(self, digest: Digest, moment: str) -> int | None:
        """The attempt this process makes at the digest, or None if it is not ours to send
        (sent, being sent, or failed and not yet due again)."""
        with self.database.transaction() as tx:
            row = tx.one(
                f"INSERT INTO {TABLE} (username, week, email, status, attempts,"
                " first_tried_at, last_tried_at) VALUES (?, ?, ?, 'sending', 1, ?, ?)"
                " ON CONFLICT (username, week) DO NOTHING RETURNING attempts",
                (digest.username, digest.week, digest.email, moment, moment),
            )
            if row is None:
                row = tx.one(
                    f"UPDATE {TABLE} SET status = 'sending', attempts = attempts + 1,"
                    " last_tried_at = ?, email = ?"
                    " WHERE username = ? AND week = ? AND status = 'failed'"
                    " AND next_attempt_at <= ? RETURNING attempts",
                    (moment, digest.email, digest.username, digest.week, moment),
                )
        return None if row is None else int(row["attempts"])

    def _open(self, digest: Digest, moment: str | None) -> bool:
        """No process has claimed the digest, or it failed and may be tried again now."""
        row = self.database.one(
            f"SELECT status, next_attempt_at FROM {TABLE} WHERE username = ? AND week = ?",
            (digest.username, digest.week),
        )
        if row is None:
            return True
        return bool(row["status"] == "failed" and row["next_attempt_at"] <= (moment or ""))

    def _sent(self, digest: Digest, now: datetime | None) -> None:
        with self.database.transaction() as tx:
            tx.execute(
                f"UPDATE {TABLE} SET status = 'sent', sent_at = ?, next_attempt_at = NULL"
                " WHERE username = ? AND week = ?",
                (instant(now or datetime.now(UTC)), digest.username, digest.week),
            )

    def _failed(self, digest: Digest, attempts: int, problem: str, now: datetime | None) -> None:
        again = (now or datetime.now(UTC)) + backoff(self.settings, attempts)
        with self.database.transaction() as tx:
            tx.execute(
                f"UPDATE {TABLE} SET status = 'failed', last_error = ?, next_attempt_at = ?"
                " WHERE username = ? AND week = ?",
                (problem, instant(again), digest.username, digest.week),
            )

    def sends(self, limit: int = 200) -> list[dict[str, Any]]:
        """The latest digests tried, newest week first, those not sent first within it."""
        return self.database.all(
            f"SELECT * FROM {TABLE} ORDER BY week DESC,"
            " CASE status WHEN 'sent' THEN 1 ELSE 0 END, username LIMIT ?",
            (limit,),
        )


class DigestSchedule:
    """Sends the week's digests (and their retries) from a worker, every
    ``WAYMARK_DIGEST_CHECK_SECONDS``, in a thread of its own: the first check in a
    new ISO week sends that week's digests."""

    def __init__(self, digests: Digests, catch_up: Callable[[], None]) -> None:
        self.digests = digests
        self.catch_up = catch_up
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> SendReport:
        self.catch_up()
        return self.digests.send(datetime.now(UTC).date())

    def _run(self) -> None:
        interval = self.digests.settings.digest_check_seconds
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - the schedule must outlive a lost database
                log.exception("weekly digests could not be sent; trying again later")
            self._stop.wait(interval)

    def start(self) -> None:
        if self.digests.settings.smtp_host is None or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="waymark-digests", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
