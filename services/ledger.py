"""The ledger reviewers can verify offline: checking, signing, exporting and restoring.

The chain itself is written by the recorder, in each insert's transaction
(``services.chained_recorders``). This module reads it back: it verifies the
store against the chain and the signed checkpoints, signs new checkpoints,
writes the export that ``verify_export`` checks with no database, and restores
an export into an empty store.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.persistence import StoredEvent, Transcoder

from projections.base import instant
from services.chained_recorders import ChainedRecorder
from services.ledger_chain import (
    GENESIS,
    ChainCheck,
    Checkpoint,
    Entry,
    Link,
    Problem,
    Verdict,
    checkpoint_message,
    key_id,
    load_or_create_signing_key,
    load_public_key,
    merge,
    public_key_pem,
    signature_problem,
)

log = logging.getLogger(__name__)

EVENTS_FILE = "events.ndjson"
CHECKPOINTS_FILE = "checkpoints.json"
PUBLIC_KEY_FILE = "public-key.pem"
CHECKPOINTS_FORMAT = "waymark-ledger-checkpoints/1"
BATCH = 1000

T = TypeVar("T")


class LedgerTampered(Exception):
    """The record failed a check, so nothing was signed or restored."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


@dataclass(frozen=True)
class Exported:
    events: int
    checkpoint: Checkpoint | None
    problem: Problem | None


@dataclass(frozen=True)
class Restored:
    events: int
    head: Link | None
    signatures_checked: bool


class Ledger:
    def __init__(
        self,
        recorder: ChainedRecorder,
        transcoder: Transcoder,
        signing_key_file: Path,
        checkpoint_interval: int,
    ) -> None:
        self.recorder = recorder
        self.transcoder = transcoder
        self.signing_key_file = signing_key_file
        self.checkpoint_interval = checkpoint_interval
        self._signing_key: Ed25519PrivateKey | None = None
        self._signing = threading.Lock()
        self._last_signed: int | None = None

    # -- keys -------------------------------------------------------------------

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        """Loaded (or made) on first use, so processes that never sign never touch the file."""
        if self._signing_key is None:
            self._signing_key = load_or_create_signing_key(self.signing_key_file)
            if self.signing_key_file.stat().st_mode & 0o077:
                log.warning(
                    "%s can be read by others: make it private (chmod 600)",
                    self.signing_key_file,
                )
        return self._signing_key

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def public_key_pem(self) -> str:
        return public_key_pem(self.public_key)

    def trusted_keys(self, also: Iterable[Ed25519PublicKey] = ()) -> dict[str, Ed25519PublicKey]:
        """This server's key, if it has one (checking never makes a key), and ``also``."""
        has_key = self._signing_key is not None or self.signing_key_file.exists()
        own = [self.public_key] if has_key else []
        return {key_id(key): key for key in (*own, *also)}

    # -- reading ------------------------------------------------------------------

    def entries(self, after: int = 0, upto: int | None = None) -> Iterator[Entry]:
        """Every stored event and chain link above ``after`` (to ``upto``), paired by position."""
        events = _paged(
            lambda start: [
                (n.id, n)
                for n in self.recorder.select_notifications(
                    start, BATCH, stop=upto, inclusive_of_start=False
                )
            ],
            lambda item: item[0],
            after,
        )
        links = _paged(
            lambda start: self.recorder.select_links(start, BATCH, upto),
            lambda link: link.position,
            after,
        )
        return merge(events, links)

    def checkpoints(self, after: int = 0, limit: int | None = None) -> Sequence[Checkpoint]:
        return self.recorder.select_checkpoints(after, limit)

    def head(self) -> Link | None:
        return self.recorder.chain_head()

    def latest_checkpoint(self) -> Checkpoint | None:
        """The newest checkpoint signed with this server's key."""
        return self.recorder.latest_checkpoint(self.key_id)

    # -- verifying -----------------------------------------------------------------

    def verify(
        self,
        also_trust: Iterable[Ed25519PublicKey] = (),
        kept: Sequence[Checkpoint] = (),
        progress: Callable[[int], None] | None = None,
    ) -> Verdict:
        """Recompute the whole chain and check it against the chain table and every checkpoint.

        ``kept`` are checkpoints a reviewer kept from an earlier export: they
        catch a rewrite that also replaced the stored checkpoints. ``progress``
        is told how many more events were checked, a thousand at a time.
        """
        checkpoints = [*self.recorder.select_checkpoints(), *kept]
        check = ChainCheck(checkpoints, self.trusted_keys(also_trust))
        return check.run(reporting(self.entries(), progress))

    # -- signing --------------------------------------------------------------------

    def checkpoint(self) -> Checkpoint | None:
        """Sign the chain head, after checking every event since this key's last checkpoint.

        Returns the newest checkpoint (None for an empty store); raises
        ``LedgerTampered`` rather than sign a chain that does not check out.
        """
        with self._signing:
            head = self.head()
            if head is None:
                return None
            last = self.latest_checkpoint()
            if last is not None:
                problem = signature_problem(last, self.trusted_keys())
                if problem is not None:
                    raise LedgerTampered(problem)
                if last.position >= head.position:
                    self._last_signed = last.position
                    return last
            after, chain = (last.position, last.chain_hash) if last else (0, GENESIS)
            verdict = ChainCheck([], {}, after=after, chain=chain).run(
                self.entries(after, head.position)
            )
            if verdict.problem is not None:
                raise LedgerTampered(verdict.problem)
            signed_at = instant(datetime.now(UTC))
            checkpoint = Checkpoint(
                position=verdict.head,
                chain_hash=verdict.chain_hash,
                signed_at=signed_at,
                key_id=self.key_id,
                signature=self.signing_key.sign(
                    checkpoint_message(verdict.head, verdict.chain_hash, signed_at, self.key_id)
                ),
            )
            self.recorder.insert_checkpoint(checkpoint)
            self._last_signed = checkpoint.position
            return checkpoint

    def written(self, position: int) -> None:
        """After a write: sign a checkpoint once ``checkpoint_interval`` positions have passed.

        The write is already committed, so a failure here is logged, not raised.
        """
        if self._last_signed is None:
            try:
                latest = self.latest_checkpoint()
            except Exception:  # noqa: BLE001 - the write succeeded; signing can wait
                log.exception("could not read the latest checkpoint")
                return
            self._last_signed = latest.position if latest else 0
        if position - self._last_signed < self.checkpoint_interval or self._signing.locked():
            return
        try:
            self.checkpoint()
        except LedgerTampered as error:
            log.error("checkpoint refused: %s", error.problem.detail)
        except Exception:  # noqa: BLE001 - the write succeeded; signing can wait
            log.exception("could not sign a checkpoint")

    # -- exporting ---------------------------------------------------------------------

    def export_lines(self, upto: int | None = None) -> Iterator[str]:
        """The events as NDJSON lines (see docs/EXPORT.md), in log order."""
        for position, event, link in self.entries(0, upto):
            if event is not None:
                yield _dumps(self._export_record(position, event, link)) + "\n"

    def _export_record(
        self, position: int, event: StoredEvent, link: Link | None
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "position": position,
            "originator_id": str(event.originator_id),
            "originator_version": event.originator_version,
            "topic": event.topic,
            "recorded_at": self._recorded_at(event.state),
        }
        state = _state_as_json(event.state)
        if state is not None:
            record["state"] = state
        else:
            record["state_base64"] = base64.b64encode(event.state).decode()
        record["event_hash"] = link.event_hash.hex() if link else None
        record["chain_hash"] = link.chain_hash.hex() if link else None
        return record

    def _recorded_at(self, state: bytes) -> str | None:
        try:
            timestamp = self.transcoder.decode(state)["timestamp"]
        except (ValueError, TypeError, KeyError):
            return None  # not decodable: `waymark verify` will say why
        return instant(timestamp) if isinstance(timestamp, datetime) else None

    def export_to(self, directory: Path) -> Exported:
        """Write events, checkpoints and the public key, signing the head first.

        A store that fails the check since the last checkpoint is still
        exported, unsigned past that checkpoint, and the problem returned.
        """
        problem = None
        try:
            checkpoint = self.checkpoint()
        except LedgerTampered as error:
            checkpoint, problem = None, error.problem
        upto = checkpoint.position if checkpoint else None
        directory.mkdir(parents=True, exist_ok=True)
        count = 0
        with (directory / EVENTS_FILE).open("w", encoding="utf-8", newline="\n") as file:
            for line in self.export_lines(upto):
                file.write(line)
                count += 1
        checkpoints = [c for c in self.checkpoints() if upto is None or c.position <= upto]
        (directory / CHECKPOINTS_FILE).write_text(
            json.dumps(
                {
                    "format": CHECKPOINTS_FORMAT,
                    "key_id": self.key_id,
                    "checkpoints": [c.to_json() for c in checkpoints],
                },
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
        (directory / PUBLIC_KEY_FILE).write_text(self.public_key_pem(), encoding="utf-8")
        return Exported(events=count, checkpoint=checkpoint, problem=problem)

    # -- restoring ---------------------------------------------------------------------

    def restore_from(self, events_file: Path) -> Restored:
        """Write an exported events file into this empty store, then sign its head.

        The file is checked as it is read, against the checkpoints and public
        key beside it when they are there (against its own chain otherwise);
        the first problem rolls everything back.
        """
        directory = events_file.parent
        signed = (directory / CHECKPOINTS_FILE).exists() and (directory / PUBLIC_KEY_FILE).exists()
        check = _export_check(directory, None) if signed else ChainCheck([], {})
        count = 0

        def checked() -> Iterator[tuple[int, StoredEvent]]:
            nonlocal count
            for position, event, link in read_export(events_file):
                problem = check.step(position, event, link)
                if problem is not None:
                    raise LedgerTampered(problem)
                assert event is not None
                count += 1
                yield position, event
            problem = check.finish(require_signed_head=signed)
            if problem is not None:
                raise LedgerTampered(problem)

        try:
            head = self.recorder.restore(checked())
        except MalformedExport as error:
            raise LedgerTampered(error.problem) from None
        self.checkpoint()
        return Restored(events=count, head=head, signatures_checked=signed)


# -- the export format ------------------------------------------------------------------


class MalformedExport(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _state_as_json(state: bytes) -> Any | None:
    """The state as JSON, if its bytes are exactly how ``_dumps`` writes that JSON."""
    try:
        parsed = json.loads(state)
    except ValueError:
        return None
    return parsed if _dumps(parsed).encode() == state else None


def _originator_id(text: str) -> UUID | str:
    try:
        return UUID(text)
    except ValueError:
        return text


def _record_entry(record: Any) -> Entry:
    if not isinstance(record, dict):
        raise TypeError("not a JSON object")
    position, version = record["position"], record["originator_version"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (position, version)):
        raise TypeError("position and originator_version must be integers")
    if "state_base64" in record:
        state = base64.b64decode(record["state_base64"], validate=True)
    else:
        state = _dumps(record["state"]).encode()
    event = StoredEvent(
        originator_id=_originator_id(str(record["originator_id"])),
        originator_version=version,
        topic=str(record["topic"]),
        state=state,
    )
    link = None
    if record.get("chain_hash") is not None:
        link = Link(
            position, bytes.fromhex(record["event_hash"]), bytes.fromhex(record["chain_hash"])
        )
    return position, event, link


def read_export(events_file: Path) -> Iterator[Entry]:
    """The entries of an exported events file; ``MalformedExport`` names a bad line."""
    with events_file.open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                yield _record_entry(json.loads(line))
            except (KeyError, TypeError, ValueError) as error:
                raise MalformedExport(
                    Problem(None, "malformed", f"line {number}: not an export record ({error})")
                ) from None


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """The checkpoints in a ``checkpoints.json``; ValueError if it is not one."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != CHECKPOINTS_FORMAT:
        raise ValueError(f"{path} is not in the {CHECKPOINTS_FORMAT} format")
    return [Checkpoint.from_json(item) for item in data["checkpoints"]]


def _export_check(
    directory: Path,
    trusted: Sequence[Ed25519PublicKey] | None,
    kept: Sequence[Checkpoint] = (),
) -> ChainCheck:
    if trusted is None:
        trusted = [load_public_key((directory / PUBLIC_KEY_FILE).read_bytes())]
    checkpoints = [*read_checkpoints(directory / CHECKPOINTS_FILE), *kept]
    return ChainCheck(checkpoints, {key_id(k): k for k in trusted})


def verify_export(
    directory: Path,
    trusted: Sequence[Ed25519PublicKey] | None = None,
    kept: Sequence[Checkpoint] = (),
    progress: Callable[[int], None] | None = None,
) -> Verdict:
    """Check an export with no database: every hash, every signature, and a signed head.

    ``trusted`` are the public keys to believe; by default the one in the
    export, whose key id the caller should compare with the published one.
    ``kept`` are checkpoints kept from an earlier export, checked as well.
    ``progress`` is told how many more events were checked, a thousand at a time.
    """
    check = _export_check(directory, trusted, kept)
    try:
        entries = reporting(read_export(directory / EVENTS_FILE), progress)
        return check.run(entries, require_signed_head=True)
    except MalformedExport as error:
        check.verdict.problem = error.problem
        return check.verdict


def reporting(items: Iterable[T], progress: Callable[[int], None] | None) -> Iterable[T]:
    """The items, telling ``progress`` (if any) how many have gone by, ``BATCH`` at a time."""
    if progress is None:
        return items
    return _reported(items, progress)


def _reported(items: Iterable[T], progress: Callable[[int], None]) -> Iterator[T]:
    count = 0
    for item in items:
        yield item
        count += 1
        if count == BATCH:
            progress(count)
            count = 0
    if count:
        progress(count)


def _paged(
    fetch: Callable[[int], Sequence[T]], position_of: Callable[[T], int], after: int
) -> Iterator[T]:
    while True:
        page = fetch(after)
        yield from page
        if len(page) < BATCH:
            return
        after = position_of(page[-1])


def trusted_from(pems: Iterable[Path]) -> list[Ed25519PublicKey]:
    return [load_public_key(path.read_bytes()) for path in pems]


def as_json(verdict: Verdict) -> dict[str, Any]:
    problem = verdict.problem
    return {
        "ok": verdict.ok,
        "events": verdict.events,
        "head": verdict.head,
        "chain_hash": verdict.chain_hash.hex(),
        "signed_up_to": verdict.signed_up_to,
        "checkpoints": verdict.checkpoints,
        "trusted_key_ids": verdict.key_ids,
        "problem": None
        if problem is None
        else {
            "position": problem.position,
            "kind": problem.kind,
            "detail": problem.detail,
            "since": problem.since,
        },
    }
