"""Copies of the ledger's checkpoints kept outside the store, where its holders cannot rewrite them.

Two kinds, checked the same way (``Witnessed``):

- the checkpoint log (``WAYMARK_CHECKPOINT_LOG``): the server appends every
  checkpoint it signs, the public key that signs it, and every confirmation a
  witness sends, as JSON lines, to a file outside the store;
- a witness file: what ``waymark witness URL --into FILE`` keeps on a
  reviewer's own machine, extended only when the server's new checkpoints
  follow on from the ones it holds.

The formats are in ``docs/EXPORT.md``.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.ledger_chain import (
    Checkpoint,
    Link,
    Mark,
    Problem,
    key_id,
    load_public_key,
    public_key_pem,
    signature_problem,
)
from storage.times import instant

WITNESS_FORMAT = "waymark-witness/1"


class WitnessError(ValueError):
    """A witness file or checkpoint log that cannot be read, or a refusal to extend one."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


@dataclass(frozen=True)
class Confirmation:
    """A witness fetched the checkpoints and found the record extends what it held."""

    position: int
    chain_hash: bytes
    confirmed_at: str
    by: str


@dataclass(frozen=True)
class Witnessed:
    """What a witness holds: checkpoints, the keys that signed them, and chain hashes it saw."""

    holder: str
    checkpoints: list[Checkpoint] = field(default_factory=list)
    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    marks: list[Mark] = field(default_factory=list)

    @property
    def last_position(self) -> int:
        return max((c.position for c in self.checkpoints), default=0)

    def latest(self) -> Checkpoint | None:
        return max(self.checkpoints, key=lambda c: c.position, default=None)

    def latest_mark(self) -> Mark | None:
        return max(self.marks, key=lambda m: m.position, default=None)


def _problem(detail: str) -> WitnessError:
    return WitnessError(Problem(None, "witness-unreadable", detail))


# -- the checkpoint log -----------------------------------------------------------------------


class CheckpointLog:
    """An append-only JSON-lines file beside the store (never rewritten, only appended to)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write with O_APPEND: lines from several processes never interleave.
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, line)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    def append_checkpoint(self, checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> None:
        self._append(
            {"kind": "checkpoint", **checkpoint.to_json(), "public_key": public_key_pem(public_key)}
        )

    def append_key(self, public_key: Ed25519PublicKey, noted_at: str, why: str) -> None:
        """A key trusted from now on for checkpoints in this store (an import's keys)."""
        self._append(
            {
                "kind": "key",
                "key_id": key_id(public_key),
                "public_key": public_key_pem(public_key),
                "noted_at": noted_at,
                "why": why,
            }
        )

    def append_confirmation(self, confirmation: Confirmation) -> None:
        self._append(
            {
                "kind": "witnessed",
                "position": confirmation.position,
                "chain_hash": confirmation.chain_hash.hex(),
                "confirmed_at": confirmation.confirmed_at,
                "by": confirmation.by,
            }
        )

    def read(self) -> tuple[Witnessed, list[Confirmation]]:
        """What the log holds (empty if there is no log yet); ``WitnessError`` if damaged."""
        witnessed = Witnessed(holder="the checkpoint log")
        confirmations: list[Confirmation] = []
        if not self.path.exists():
            return witnessed, confirmations
        with self.path.open(encoding="utf-8") as file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    kind = record["kind"]
                    if kind in ("checkpoint", "key"):
                        key = load_public_key(record["public_key"])
                        witnessed.keys[key_id(key)] = key
                    if kind == "checkpoint":
                        witnessed.checkpoints.append(Checkpoint.from_json(record))
                    elif kind == "witnessed":
                        confirmation = Confirmation(
                            position=int(record["position"]),
                            chain_hash=bytes.fromhex(record["chain_hash"]),
                            confirmed_at=str(record["confirmed_at"]),
                            by=str(record["by"]),
                        )
                        confirmations.append(confirmation)
                        witnessed.marks.append(
                            Mark(
                                confirmation.position,
                                confirmation.chain_hash,
                                confirmation.confirmed_at,
                                f"a witness ({confirmation.by})",
                            )
                        )
                except (KeyError, TypeError, ValueError) as error:
                    raise _problem(
                        f"{self.path}, line {number}: not a checkpoint log line ({error}); "
                        "the log was edited or damaged"
                    ) from None
        return witnessed, confirmations


# -- a reviewer's witness file ----------------------------------------------------------------


def read_witness(path: Path) -> Witnessed:
    """A witness file written by ``write_witness``; ``WitnessError`` saying why it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != WITNESS_FORMAT:
            raise ValueError(f"not in the {WITNESS_FORMAT} format")
        key = load_public_key(data["public_key"])
        return Witnessed(
            holder=f"the witness file {path.name}",
            checkpoints=[Checkpoint.from_json(c) for c in data["checkpoints"]],
            keys={key_id(key): key},
            marks=[
                Mark(
                    int(m["position"]),
                    bytes.fromhex(m["chain_hash"]),
                    str(m["seen_at"]),
                    f"the witness file {path.name}",
                )
                for m in data.get("seen", [])
            ],
        )
    except OSError as error:
        raise _problem(f"cannot read the witness file {path}: {error.strerror}") from None
    except (KeyError, TypeError, ValueError) as error:
        raise _problem(f"{path} is not a witness file: {error}") from None


def write_witness(path: Path, witnessed: Witnessed, server: str) -> None:
    """Write the whole file anew, atomically (a half-written witness would be worse than none)."""
    [key] = witnessed.keys.values()
    data = {
        "format": WITNESS_FORMAT,
        "server": server,
        "key_id": key_id(key),
        "public_key": public_key_pem(key),
        "checkpoints": [c.to_json() for c in sorted(witnessed.checkpoints, key=_at)],
        "seen": [
            {"position": m.position, "chain_hash": m.chain_hash.hex(), "seen_at": m.seen_at}
            for m in sorted(witnessed.marks, key=_at)
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=1)
            file.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _at(item: Checkpoint | Mark) -> int:
    return item.position


def extend_witness(
    held: Witnessed | None,
    public_key: Ed25519PublicKey,
    fetched: Sequence[Checkpoint],
    chain_at: dict[int, bytes | None],
    head: Link | None,
    seen_at: str | None = None,
) -> tuple[Witnessed, list[Checkpoint]]:
    """The witness extended by the server's new checkpoints, or ``WitnessError`` naming the first
    position where the server no longer agrees with what the witness holds.

    ``fetched`` are the server's checkpoints after the last one held; ``chain_at`` the
    server's chain hash at every position held or fetched (None where it has none);
    ``head`` its chain head now, kept as a mark so that a later rewrite of events not
    yet signed shows too.
    """
    fetched_key = key_id(public_key)
    if held is not None:
        [held_key] = held.keys
        if fetched_key != held_key:
            raise WitnessError(
                Problem(
                    None,
                    "witness-key-changed",
                    f"the server now signs with key {fetched_key}, but this witness holds "
                    f"checkpoints of key {held_key}: if the key was rotated, start a new "
                    "witness file and keep this one for the old checkpoints",
                )
            )
    base = held or Witnessed(holder="this witness", keys={fetched_key: public_key})
    for checkpoint in sorted(base.checkpoints, key=_at):
        if chain_at.get(checkpoint.position) != checkpoint.chain_hash:
            raise WitnessError(
                Problem(
                    checkpoint.position,
                    "witness-mismatch",
                    f"position {checkpoint.position}: the server's chain here no longer matches "
                    f"the checkpoint signed at {checkpoint.signed_at} that this witness holds: "
                    "the record was rewritten or truncated",
                )
            )
    for mark in sorted(base.marks, key=_at):
        if chain_at.get(mark.position) != mark.chain_hash:
            raise WitnessError(
                Problem(
                    mark.position,
                    "witness-mismatch",
                    f"position {mark.position}: the server's chain here no longer matches what "
                    f"this witness saw at {mark.seen_at}: the record was rewritten or truncated",
                )
            )
    added: list[Checkpoint] = []
    last = base.last_position
    for checkpoint in sorted(fetched, key=_at):
        position = checkpoint.position
        if position <= last:
            raise WitnessError(
                Problem(
                    position,
                    "witness-out-of-order",
                    f"position {position}: the server offered a checkpoint at or before "
                    f"position {last}, which this witness already holds",
                )
            )
        problem = signature_problem(checkpoint, base.keys)
        if problem is not None:
            raise WitnessError(problem)
        if chain_at.get(position) != checkpoint.chain_hash:
            raise WitnessError(
                Problem(
                    position,
                    "witness-mismatch",
                    f"position {position}: the server's checkpoint here does not match its "
                    "own chain",
                )
            )
        added.append(checkpoint)
        last = position
    checkpoints = [*base.checkpoints, *added]
    # A mark is only needed past the last checkpoint: a signature covers what came before.
    marks = [m for m in base.marks if m.position > last]
    if head is not None and head.position > last:
        marks = [m for m in marks if m.position < head.position]
        seen = seen_at if seen_at is not None else instant(datetime.now(UTC))
        marks.append(Mark(head.position, head.chain_hash, seen, base.holder))
    return replace(base, checkpoints=checkpoints, marks=marks), added


def needed_positions(held: Witnessed | None, fetched: Iterable[Checkpoint]) -> list[int]:
    """The positions whose chain hash the witness must ask the server for."""
    positions = {c.position for c in fetched}
    if held is not None:
        positions |= {c.position for c in held.checkpoints} | {m.position for m in held.marks}
    return sorted(positions)
