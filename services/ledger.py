"""The ledger reviewers can verify offline: checking, signing, exporting and restoring.

The chain itself is written by the recorder, in each insert's transaction
(``services.chained_recorders``). This module reads it back: it verifies the
store against the chain and the signed checkpoints, signs new checkpoints,
writes the export that ``verify_export`` checks with no database, and restores
an export into an empty store.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import json
import logging
import pkgutil
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import StoredEvent, Transcoder
from eventsourcing.utils import get_topic

import domain
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
    first,
    gap_problem,
    key_id,
    load_or_create_signing_key,
    load_public_key,
    merge,
    public_key_pem,
    signature_problem,
    witness_problem,
)
from services.witnesses import CheckpointLog, Confirmation, Witnessed, WitnessError
from storage.times import instant

log = logging.getLogger(__name__)

EVENTS_FILE = "events.ndjson"
CHECKPOINTS_FILE = "checkpoints.json"
PUBLIC_KEY_FILE = "public-key.pem"
CHECKPOINTS_FORMAT = "waymark-ledger-checkpoints/1"
BATCH = 1000
#: The longest line an export may hold: ten times the largest request body Waymark accepts.
MAX_LINE_BYTES = 10_000_000

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
    checkpoints: int
    unsigned_events: int


class Ledger:
    def __init__(
        self,
        recorder: ChainedRecorder,
        transcoder: Transcoder,
        signing_key_file: Path,
        checkpoint_interval: int,
        checkpoint_log: CheckpointLog | None = None,
    ) -> None:
        self.recorder = recorder
        self.transcoder = transcoder
        self.signing_key_file = signing_key_file
        self.checkpoint_interval = checkpoint_interval
        self.checkpoint_log = checkpoint_log
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
        """This server's key, if it has one (checking never makes a key), the keys the
        checkpoint log names (earlier keys of this server, the keys an import was
        trusted with), and ``also``."""
        has_key = self._signing_key is not None or self.signing_key_file.exists()
        own = [self.public_key] if has_key else []
        logged = self.logged()[0].keys.values()
        return {key_id(key): key for key in (*own, *logged, *also)}

    # -- the checkpoint log ------------------------------------------------------------

    def logged(self) -> tuple[Witnessed, list[Confirmation]]:
        """What the checkpoint log outside the store holds; ``WitnessError`` if it is damaged."""
        if self.checkpoint_log is None:
            return Witnessed(holder="the checkpoint log"), []
        return self.checkpoint_log.read()

    def last_confirmation(self) -> Confirmation | None:
        """The newest confirmation by a witness that the record extends what it held."""
        try:
            confirmations = self.logged()[1]
        except WitnessError:
            return None
        return confirmations[-1] if confirmations else None

    def chain_at(self, positions: Sequence[int]) -> dict[int, bytes]:
        """The chain hash at each of these positions that the chain holds."""
        return {link.position: link.chain_hash for link in self.recorder.select_links_at(positions)}

    def confirm(self, position: int, chain_hash: bytes, by: str) -> Confirmation | None:
        """Note that a witness holds the record up to ``position``, if the chain agrees there."""
        if self.chain_at([position]).get(position) != chain_hash:
            return None
        confirmation = Confirmation(position, chain_hash, instant(datetime.now(UTC)), by)
        if self.checkpoint_log is not None:
            self.checkpoint_log.append_confirmation(confirmation)
        return confirmation

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
        witness: Witnessed | None = None,
    ) -> Verdict:
        """Recompute the whole chain and check it against the chain table, every checkpoint,
        the checkpoint log and ``witness``.

        ``kept`` are checkpoints a reviewer kept from an earlier export, and
        ``witness`` what ``waymark witness`` kept: they catch a rewrite that also
        replaced the stored checkpoints. Checkpoints must come every
        ``checkpoint_interval`` positions (give or take as much again), so a
        stretch with none shows that some were deleted. ``progress`` is told how
        many more events were checked, a thousand at a time.
        """
        try:
            log = self.logged()[0]
        except WitnessError as error:
            return Verdict(problem=error.problem)
        witnesses = [w for w in (log, witness) if w is not None]
        stored = self.recorder.select_checkpoints()
        keys = self.trusted_keys(k for w in witnesses for k in w.keys.values())
        keys.update({key_id(k): k for k in also_trust})
        checkpoints = list(
            dict.fromkeys([*stored, *kept, *(c for w in witnesses for c in w.checkpoints)])
        )
        check = ChainCheck(checkpoints, keys, marks=[m for w in witnesses for m in w.marks])
        verdict = check.run(reporting(self.entries(), progress))
        head = self.head()
        # Evidence of a rewrite names where it is; missing checkpoints only show there was one.
        verdict.problem = first(
            verdict.problem,
            *(witness_problem(w.checkpoints, stored, w.holder) for w in witnesses),
        ) or gap_problem(
            max((c.position for c in stored), default=0),
            head.position if head else 0,
            self.checkpoint_interval,
        )
        return verdict

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
            try:
                log = self.logged()[0]
            except WitnessError as error:
                raise LedgerTampered(error.problem) from None
            keys = self.trusted_keys()
            last = self.latest_checkpoint()
            if last is not None:
                problem = signature_problem(last, keys)
                if problem is not None:
                    raise LedgerTampered(problem)
            after, chain = self._checked_from(log, last)
            if last is not None and last.position >= head.position and after == last.position:
                self._last_signed = last.position
                return last
            stored = self.recorder.select_checkpoints(after)
            verdict = ChainCheck(stored, keys, after=after, chain=chain).run(
                self.entries(after, head.position)
            )
            if verdict.problem is not None:
                raise LedgerTampered(verdict.problem)
            if last is not None and last.position >= head.position:
                self._last_signed = last.position
                return last
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
            if self.checkpoint_log is not None:
                # Outside the store first: a checkpoint the log lacks was not signed here.
                self.checkpoint_log.append_checkpoint(checkpoint, self.public_key)
            self.recorder.insert_checkpoint(checkpoint)
            self._last_signed = checkpoint.position
            return checkpoint

    def _checked_from(self, log: Witnessed, last: Checkpoint | None) -> tuple[int, bytes]:
        """Where the check before signing starts: the newest position a witness holds (a
        logged checkpoint or a witness's confirmation), else this key's last checkpoint.

        The chain there must still be what the witness holds, or nothing is signed.
        """
        witnessed = [
            *(
                (c.position, c.chain_hash, f"the checkpoint signed at {c.signed_at}")
                for c in log.checkpoints
            ),
            *(
                (m.position, m.chain_hash, f"what {m.seen_by} saw at {m.seen_at}")
                for m in log.marks
            ),
        ]
        if not witnessed:
            return (last.position, last.chain_hash) if last else (0, GENESIS)
        position, chain, what = max(witnessed, key=lambda item: item[0])
        if self.chain_at([position]).get(position) != chain:
            raise LedgerTampered(
                Problem(
                    position,
                    "witness-mismatch",
                    f"position {position}: the chain here no longer matches {what}, which the "
                    "checkpoint log outside the store keeps; events up to this position were "
                    "rewritten or removed",
                )
            )
        return position, chain

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
        (directory / CHECKPOINTS_FILE).write_text(self._checkpoints_json(upto), encoding="utf-8")
        (directory / PUBLIC_KEY_FILE).write_text(self.public_key_pem(), encoding="utf-8")
        return Exported(events=count, checkpoint=checkpoint, problem=problem)

    def _checkpoints_json(self, upto: int | None) -> str:
        checkpoints = [c for c in self.checkpoints() if upto is None or c.position <= upto]
        document = {
            "format": CHECKPOINTS_FORMAT,
            "key_id": self.key_id,
            "checkpoints": [c.to_json() for c in checkpoints],
        }
        return json.dumps(document, indent=1) + "\n"

    def export_bundle(self) -> tuple[Exported, Iterator[bytes]]:
        """The export as one zip, streamed: the three files ``export_to`` writes, and a
        text on how to check them without Waymark (``BUNDLE_README``).

        The head is signed first (as ``export_to`` does), so the returned ``Exported``
        says what the bundle will hold before any of it is sent; the events are read a
        thousand at a time and sent as they are compressed, so a large record is never
        held in memory.
        """
        problem = None
        try:
            checkpoint = self.checkpoint()
        except LedgerTampered as error:
            checkpoint, problem = None, error.problem
        upto = checkpoint.position if checkpoint else None
        exported = Exported(events=0, checkpoint=checkpoint, problem=problem)
        return exported, self._bundle_chunks(upto)

    def _bundle_chunks(self, upto: int | None) -> Iterator[bytes]:
        sink = _Chunks()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            with bundle.open(EVENTS_FILE, "w", force_zip64=True) as events:
                for line in self.export_lines(upto):
                    events.write(line.encode("utf-8"))
                    if sink.size >= BUNDLE_CHUNK:
                        yield sink.take()
            bundle.writestr(CHECKPOINTS_FILE, self._checkpoints_json(upto))
            bundle.writestr(PUBLIC_KEY_FILE, self.public_key_pem())
            bundle.writestr(BUNDLE_README_FILE, BUNDLE_README.format(key_id=self.key_id))
        yield sink.take()

    # -- restoring ---------------------------------------------------------------------

    def restore_from(
        self,
        events_file: Path,
        trusted: Sequence[Ed25519PublicKey],
        *,
        accept_unsigned_tail: bool = False,
    ) -> Restored:
        """Write an exported events file into this empty store, keeping its checkpoints.

        Only checkpoints signed by a ``trusted`` key are believed (never the key
        that comes with the export); events after the last of them are refused
        unless ``accept_unsigned_tail``. Only Waymark's own event topics are
        accepted. The whole file is checked before anything is written, and
        checked again as it is written, in one transaction. Nothing is signed
        with this server's key: the imported checkpoints keep their signatures,
        and their keys are noted in the checkpoint log so that ``verify`` trusts
        them here.
        """
        if not trusted:
            raise LedgerTampered(
                Problem(
                    None,
                    "no-trusted-key",
                    "no trusted key given: name the public key that signed the export",
                )
            )
        checkpoints_file = events_file.parent / CHECKPOINTS_FILE
        try:
            checkpoints = read_checkpoints(checkpoints_file) if checkpoints_file.exists() else []
        except (OSError, ValueError) as error:
            raise LedgerTampered(
                Problem(None, "malformed", f"{checkpoints_file}: {error}")
            ) from None
        keys = {key_id(k): k for k in trusted}
        topics = waymark_topics()

        def checked(check: ChainCheck) -> Iterator[tuple[int, StoredEvent]]:
            for position, event, link in read_export(events_file):
                assert event is not None
                if not isinstance(event.originator_id, UUID) or not (
                    0 < position < 2**63 and 0 < event.originator_version < 2**63
                ):
                    raise LedgerTampered(
                        Problem(
                            position,
                            "malformed",
                            f"position {position}: not an export record (the position, "
                            "originator_id or originator_version is out of range)",
                        )
                    )
                if event.topic not in topics:
                    raise LedgerTampered(
                        Problem(
                            position,
                            "unknown-topic",
                            f"position {position}: {event.topic!r} is not one of Waymark's "
                            "event types",
                        )
                    )
                problem = check.step(position, event, link)
                if problem is not None:
                    raise LedgerTampered(problem)
                yield position, event
            problem = check.finish(require_signed_head=not accept_unsigned_tail)
            if problem is not None:
                raise LedgerTampered(problem)

        try:
            first_pass = ChainCheck(checkpoints, keys)
            for _ in checked(first_pass):
                pass
            head = self.recorder.restore(checked(ChainCheck(checkpoints, keys)))
        except MalformedExport as error:
            raise LedgerTampered(error.problem) from None
        signed_at = instant(datetime.now(UTC))
        if self.checkpoint_log is not None:
            for key in trusted:
                if key_id(key) in {c.key_id for c in checkpoints}:
                    self.checkpoint_log.append_key(key, signed_at, f"import of {events_file}")
        for checkpoint in checkpoints:
            if self.checkpoint_log is not None:
                self.checkpoint_log.append_checkpoint(checkpoint, keys[checkpoint.key_id])
            self.recorder.insert_checkpoint(checkpoint)
        return Restored(
            events=first_pass.verdict.events,
            head=head,
            checkpoints=len(checkpoints),
            unsigned_events=first_pass.unsigned_events,
        )


# -- the export format ------------------------------------------------------------------

BUNDLE_README_FILE = "HOW-TO-CHECK.txt"
#: Bytes of compressed bundle gathered before they are sent on.
BUNDLE_CHUNK = 256 * 1024
BUNDLE_README = """How to check this record without Waymark
========================================

This zip is an export of a Waymark decision record: every event stored, in
the order of the log, with the hashes that chain each one to all before it,
and the checkpoints the server signed.

  events.ndjson      every stored event, one JSON object per line
  checkpoints.json   the signed checkpoints (Ed25519)
  public-key.pem     the public key of the server that signed them
                     (key id {key_id})

With Waymark's command line, on any computer, no database needed:

  unzip this.zip -d DIR
  waymark verify --offline DIR --public-key known.pem

where known.pem is the public key the programme team published (trusting the
public-key.pem in the zip only shows the zip agrees with itself). It exits 0
when every hash and signature checks out, and names the first bad position
otherwise.

Without Waymark, any program can check it:

1. For each line of events.ndjson, take the state bytes: "state" written as
   compact JSON (separators "," and ":", non-ASCII as itself, UTF-8), or the
   bytes of "state_base64".
2. The canonical bytes are five fields, each as its length in bytes (8-byte
   big-endian unsigned) then the bytes: position (decimal ASCII),
   originator_id (UTF-8), originator_version (decimal ASCII), topic (UTF-8),
   and the state bytes. event_hash = SHA-256(canonical bytes); it must equal
   the line's "event_hash".
3. chain_hash = SHA-256(previous chain_hash + event_hash), starting from 32
   zero bytes; it must equal the line's "chain_hash".
4. Each checkpoint in checkpoints.json must match the chain_hash of the line
   at its position, and its signature must verify with the published key over
   the UTF-8 bytes of these five lines, each ending in a newline:
       waymark-ledger-checkpoint-v1
       position
       chain_hash (hex)
       signed_at
       key_id
   key_id is the first 16 hex digits of SHA-256 of the raw 32-byte public key.
5. The last line must be at or before the last checkpoint: every event is
   then covered by a signature.

The full description is docs/EXPORT.md in Waymark's source.
"""


class _Chunks:
    """A file a zip is written into, whose bytes are taken away as they come (so a zip
    can be sent while it is written; it has no ``tell``, so zipfile writes one that
    needs no seeking)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        taken = b"".join(self._parts)
        self._parts, self.size = [], 0
        return taken


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
    with events_file.open("rb") as file:
        number = 0
        while line := file.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(line) > MAX_LINE_BYTES:
                raise MalformedExport(
                    Problem(
                        None,
                        "malformed",
                        f"line {number}: longer than {MAX_LINE_BYTES:,} bytes, so not an "
                        "export record",
                    )
                )
            if not line.strip():
                continue
            try:
                yield _record_entry(json.loads(line.decode("utf-8")))
            except (KeyError, TypeError, ValueError) as error:
                raise MalformedExport(
                    Problem(None, "malformed", f"line {number}: not an export record ({error})")
                ) from None


def waymark_topics() -> frozenset[str]:
    """The topic of every event of every aggregate in ``domain``: all an export may hold.

    Checked before anything resolves a topic, since resolving one imports its module.
    """
    topics: set[str] = set()
    for info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"domain.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Aggregate) and cls.__module__ == module.__name__:
                topics.update(
                    get_topic(attr)
                    for attr in vars(cls).values()
                    if inspect.isclass(attr) and issubclass(attr, DomainEvent)
                )
    return frozenset(topics)


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
    witness: Witnessed | None = None,
) -> tuple[ChainCheck, list[Checkpoint]]:
    if trusted is None:
        trusted = (
            list(witness.keys.values())
            if witness is not None
            else [load_public_key((directory / PUBLIC_KEY_FILE).read_bytes())]
        )
    exported = read_checkpoints(directory / CHECKPOINTS_FILE)
    witnessed = witness.checkpoints if witness is not None else []
    checkpoints = list(dict.fromkeys([*exported, *kept, *witnessed]))
    marks = witness.marks if witness is not None else []
    return ChainCheck(checkpoints, {key_id(k): k for k in trusted}, marks=marks), exported


def verify_export(
    directory: Path,
    trusted: Sequence[Ed25519PublicKey] | None = None,
    kept: Sequence[Checkpoint] = (),
    progress: Callable[[int], None] | None = None,
    witness: Witnessed | None = None,
) -> Verdict:
    """Check an export with no database: every hash, every signature, and a signed head.

    ``trusted`` are the public keys to believe; by default the witness's key,
    or else the one in the export, whose key id the caller should compare with
    the published one. ``kept`` are checkpoints kept from an earlier export,
    checked as well; every checkpoint ``witness`` holds must be in the export,
    unchanged, and match its chain, and the chain must still pass through every
    hash it saw. ``progress`` is told how many more events were checked, a
    thousand at a time.
    """
    check, exported = _export_check(directory, trusted, kept, witness)
    try:
        entries = reporting(read_export(directory / EVENTS_FILE), progress)
        verdict = check.run(entries, require_signed_head=True)
    except MalformedExport as error:
        check.verdict.problem = error.problem
        return check.verdict
    if witness is not None:
        verdict.problem = first(
            verdict.problem, witness_problem(witness.checkpoints, exported, witness.holder)
        )
    return verdict


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
