"""The ledger's arithmetic: event hashes, the hash chain, signed checkpoints, and the check.

Nothing here touches a database, so the same check runs against a live store
and against an export on a reviewer's machine. The formats are documented in
``docs/EXPORT.md``; change them only with a new version tag.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.persistence import StoredEvent

#: The chain hash "before" the first event.
GENESIS = bytes(32)
CHECKPOINT_TAG = b"waymark-ledger-checkpoint-v1\n"


def event_hash(position: int, event: StoredEvent) -> bytes:
    """SHA-256 of a stored event's canonical bytes, its log position included.

    Each field is written as an 8-byte big-endian length and then its bytes, so
    no two different events share an encoding.
    """
    originator_id = event.originator_id
    fields = (
        str(position).encode(),
        (str(originator_id) if isinstance(originator_id, UUID) else originator_id).encode(),
        str(event.originator_version).encode(),
        event.topic.encode(),
        bytes(event.state),
    )
    digest = hashlib.sha256()
    for value in fields:
        digest.update(len(value).to_bytes(8, "big"))
        digest.update(value)
    return digest.digest()


def chain_hash(previous: bytes, this_event_hash: bytes) -> bytes:
    """The chain hash at a position: SHA-256 of the previous chain hash and this event's hash."""
    return hashlib.sha256(previous + this_event_hash).digest()


@dataclass(frozen=True)
class Link:
    """What the chain table holds for one log position."""

    position: int
    event_hash: bytes
    chain_hash: bytes


def link_events(previous: bytes, positioned: Iterable[tuple[int, StoredEvent]]) -> list[Link]:
    """Extend a chain whose last hash is ``previous`` by these events, in order."""
    links = []
    for position, event in positioned:
        this = event_hash(position, event)
        previous = chain_hash(previous, this)
        links.append(Link(position, this, previous))
    return links


# -- signing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A signature over the chain hash at one position."""

    position: int
    chain_hash: bytes
    signed_at: str
    key_id: str
    signature: bytes

    def message(self) -> bytes:
        return checkpoint_message(self.position, self.chain_hash, self.signed_at, self.key_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "chain_hash": self.chain_hash.hex(),
            "signed_at": self.signed_at,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Checkpoint:
        """Read one checkpoint as ``to_json`` wrote it; ValueError if it is not one."""
        try:
            position = data["position"]
            if not isinstance(position, int) or isinstance(position, bool):
                raise TypeError("position must be an integer")
            return cls(
                position=position,
                chain_hash=bytes.fromhex(data["chain_hash"]),
                signed_at=str(data["signed_at"]),
                key_id=str(data["key_id"]),
                signature=base64.b64decode(data["signature"], validate=True),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a checkpoint: {error}") from None


def checkpoint_message(position: int, chain: bytes, signed_at: str, key_id: str) -> bytes:
    return CHECKPOINT_TAG + f"{position}\n{chain.hex()}\n{signed_at}\n{key_id}\n".encode()


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the start of the SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Read the PEM private key at ``path``, creating it (mode 0600) if there is none.

    A new key is written to a private temporary file and linked into place, so
    two processes starting together end up sharing one key, never half of one.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(pem)
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made the key first: use theirs
        finally:
            temporary.unlink(missing_ok=True)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


# -- checking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """The first place where the record disagrees with itself or with a signature.

    ``since`` is set when the evidence only bounds the damage: something in
    positions ``since``..``position`` was rewritten.
    """

    position: int | None
    kind: str
    detail: str
    since: int | None = None


@dataclass
class Verdict:
    events: int = 0
    head: int = 0
    chain_hash: bytes = GENESIS
    signed_up_to: int | None = None
    checkpoints: int = 0
    problem: Problem | None = None
    key_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.problem is not None:
            return f"NOT OK: {self.problem.detail}"
        signed = (
            f"signed up to position {self.signed_up_to}"
            if self.signed_up_to is not None
            else "no signed checkpoint"
        )
        return (
            f"OK: {self.events} events up to position {self.head} verified, {signed} "
            f"({self.checkpoints} checkpoints); chain hash {self.chain_hash.hex()}"
        )


Entry = tuple[int, StoredEvent | None, Link | None]


def merge(events: Iterable[tuple[int, StoredEvent]], links: Iterable[Link]) -> Iterator[Entry]:
    """Pair events and chain links by position (both in ascending order)."""
    event_iter, link_iter = iter(events), iter(links)
    event, link = next(event_iter, None), next(link_iter, None)
    while event is not None or link is not None:
        if link is None or (event is not None and event[0] < link.position):
            assert event is not None
            yield event[0], event[1], None
            event = next(event_iter, None)
        elif event is None or link.position < event[0]:
            yield link.position, None, link
            link = next(link_iter, None)
        else:
            yield event[0], event[1], link
            event, link = next(event_iter, None), next(link_iter, None)


class ChainCheck:
    """Recomputes the chain position by position and stops at the first problem.

    Start it after a checkpoint (``after`` and that checkpoint's chain hash) to
    check only what came since.
    """

    def __init__(
        self,
        checkpoints: Sequence[Checkpoint],
        keys: Mapping[str, Ed25519PublicKey],
        *,
        after: int = 0,
        chain: bytes = GENESIS,
        marks: Iterable[Mark] = (),
    ) -> None:
        self.keys = keys
        self.pending = sorted((c for c in checkpoints if c.position > after), key=_position)
        self.marks = sorted((m for m in marks if m.position > after), key=_position)
        self.verdict = Verdict(head=after, chain_hash=chain, key_ids=sorted(keys))
        self.last_signed = after
        self.signed_events = 0

    def run(self, entries: Iterable[Entry], *, require_signed_head: bool = False) -> Verdict:
        verdict = self.verdict
        for position, event, link in entries:
            verdict.problem = self.step(position, event, link)
            if verdict.problem is not None:
                return verdict
        verdict.problem = self.finish(require_signed_head=require_signed_head)
        return verdict

    def finish(self, *, require_signed_head: bool = False) -> Problem | None:
        """What the end of the record tells: checkpoints or witnessed marks past it, or an
        unsigned tail."""
        return (
            self._unvisited_checkpoint()
            or self._unvisited_mark()
            or (self._unsigned_tail() if require_signed_head else None)
        )

    def step(self, position: int, event: StoredEvent | None, link: Link | None) -> Problem | None:
        verdict = self.verdict
        previous = verdict.head
        if position <= previous:
            return Problem(
                position,
                "out-of-order",
                f"position {position}: comes after position {previous}; "
                "entries were reordered or repeated",
            )
        skipped = self._unvisited_checkpoint(before=position) or self._unvisited_mark(
            before=position
        )
        if skipped is not None:
            return skipped
        if link is None:
            return Problem(
                position,
                "inserted",
                f"position {position}: an event with no chain entry, so it was added "
                "outside Waymark",
            )
        if event is None:
            return Problem(
                position,
                "deleted",
                f"position {position}: the event recorded here is missing (deleted)",
            )
        this = event_hash(position, event)
        if this != link.event_hash:
            return Problem(
                position,
                "changed",
                f"position {position}: the event differs from the one recorded here "
                "(edited, or moved from another position)",
            )
        chain = chain_hash(verdict.chain_hash, this)
        if chain != link.chain_hash:
            return Problem(
                position,
                "chain-broken",
                f"position {position}: its chain hash does not follow from position "
                f"{previous}; the entry at {previous} or the link between them was altered, "
                "or an event between them removed",
            )
        verdict.events += 1
        verdict.head = position
        verdict.chain_hash = chain
        while self.pending and self.pending[0].position == position:
            problem = self._check_checkpoint(self.pending.pop(0), chain)
            if problem is not None:
                return problem
        while self.marks and self.marks[0].position == position:
            mark = self.marks.pop(0)
            if chain != mark.chain_hash:
                return Problem(
                    position,
                    "witness-mismatch",
                    f"position {position}: the record up to here no longer matches what "
                    f"{mark.seen_by} saw at {mark.seen_at}; events in positions "
                    f"{self.last_signed + 1} to {position} (or their chain entries) were "
                    "rewritten",
                    since=self.last_signed + 1,
                )
        return None

    def _check_checkpoint(self, checkpoint: Checkpoint, chain: bytes) -> Problem | None:
        position = checkpoint.position
        problem = signature_problem(checkpoint, self.keys)
        if problem is not None:
            return problem
        if chain != checkpoint.chain_hash:
            return Problem(
                position,
                "checkpoint-mismatch",
                f"position {position}: the record up to here no longer matches the checkpoint "
                f"signed at {checkpoint.signed_at}; events and their chain entries in "
                f"positions {self.last_signed + 1} to {position} were rewritten",
                since=self.last_signed + 1,
            )
        self.last_signed = position
        self.signed_events = self.verdict.events
        self.verdict.signed_up_to = position
        self.verdict.checkpoints += 1
        return None

    @property
    def unsigned_events(self) -> int:
        """Events checked after the last checkpoint that verified."""
        return self.verdict.events - self.signed_events

    def _unvisited_mark(self, before: int | None = None) -> Problem | None:
        if not self.marks or (before is not None and self.marks[0].position >= before):
            return None
        mark = self.marks[0]
        return Problem(
            mark.position,
            "witness-missing-events",
            f"position {mark.position}: {mark.seen_by} saw the record reach this position at "
            f"{mark.seen_at}, but it has no event here; events after position "
            f"{self.verdict.head} were removed",
            since=self.verdict.head + 1,
        )

    def _unvisited_checkpoint(self, before: int | None = None) -> Problem | None:
        if not self.pending or (before is not None and self.pending[0].position >= before):
            return None
        position = self.pending[0].position
        return Problem(
            position,
            "checkpoint-missing-events",
            f"position {position}: a checkpoint was signed here but the record has no event "
            f"at this position; events after position {self.verdict.head} were removed",
            since=self.verdict.head + 1,
        )

    def _unsigned_tail(self) -> Problem | None:
        if self.verdict.head == self.last_signed:
            return None
        return Problem(
            self.last_signed + 1,
            "unsigned",
            f"positions {self.last_signed + 1} to {self.verdict.head} are not covered by a "
            "signed checkpoint, so they were added after the export was signed",
            since=self.last_signed + 1,
        )


@dataclass(frozen=True)
class Mark:
    """A chain hash someone outside the store saw at a position (a witness, the checkpoint log)."""

    position: int
    chain_hash: bytes
    seen_at: str
    seen_by: str = "a witness"


def witness_problem(
    witnessed: Iterable[Checkpoint], stored: Iterable[Checkpoint], holder: str = "a witness"
) -> Problem | None:
    """The first checkpoint ``holder`` keeps that the record lacks, or holds over a different
    chain hash (signed again over the same hash, it still vouches for the same events)."""
    by_position = {c.position: c for c in stored}
    for checkpoint in sorted(witnessed, key=_position):
        position = checkpoint.position
        found = by_position.get(position)
        if found is None:
            return Problem(
                position,
                "witnessed-checkpoint-missing",
                f"position {position}: the checkpoint signed here at {checkpoint.signed_at}, "
                f"which {holder} keeps, is missing from the record (deleted)",
            )
        if found.chain_hash != checkpoint.chain_hash:
            return Problem(
                position,
                "witnessed-checkpoint-differs",
                f"position {position}: the record's checkpoint here differs from the one "
                f"signed at {checkpoint.signed_at} that {holder} keeps: it signs another chain, "
                "so the events up to here were rewritten and signed again",
            )
    return None


def gap_problem(last_signed: int, head: int, interval: int) -> Problem | None:
    """Checkpoints are signed every ``interval`` positions, at the head of the write that
    reaches it: more than twice that since the last one means the ones after it were removed.

    Only the tail matters: every checkpoint covers all the events before it, so a
    rewrite has to remove every checkpoint after it, the last one included.
    """
    if head - last_signed <= 2 * interval:
        return None
    return Problem(
        last_signed + 1,
        "checkpoints-missing",
        f"positions {last_signed + 1} to {head} have no signed checkpoint, though one is "
        f"signed every {interval} positions: checkpoints were deleted, or signing has failed "
        "(see the server's log)",
        since=last_signed + 1,
    )


def first(*problems: Problem | None) -> Problem | None:
    """The problem at the lowest position (one with no position comes first)."""
    found = [p for p in problems if p is not None]
    if not found:
        return None
    return min(found, key=lambda p: -1 if p.position is None else p.position)


def signature_problem(
    checkpoint: Checkpoint, keys: Mapping[str, Ed25519PublicKey]
) -> Problem | None:
    position = checkpoint.position
    key = keys.get(checkpoint.key_id)
    if key is None:
        return Problem(
            position,
            "unknown-key",
            f"position {position}: the checkpoint is signed by key {checkpoint.key_id}, "
            "which is not trusted here",
        )
    try:
        key.verify(checkpoint.signature, checkpoint.message())
    except InvalidSignature:
        return Problem(
            position,
            "bad-signature",
            f"position {position}: the checkpoint's signature does not verify "
            "(the checkpoint was edited or forged)",
        )
    return None


def _position(item: Checkpoint | Mark) -> int:
    return item.position
