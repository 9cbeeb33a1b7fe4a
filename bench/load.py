"""A light HTTP/1.1 load client: N keep-alive connections, each sending its requests
one after the other, every request timed.

The write benchmark drives Waymark and the minimal app with this same client. It
is asyncio on raw sockets, a few tens of µs of CPU a request, so that on a small
machine the client takes as little as it can from the servers it measures (an
httpx client took 1.5 ms of CPU a request here: more than the minimal app's own
work). Requests are made beforehand, as bytes.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


def post(url: str, path: str, body: Any, headers: dict[str, str] | None = None) -> bytes:
    """One ``POST`` with a JSON body, as bytes on the wire."""
    payload = json.dumps(body, separators=(",", ":")).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {urlsplit(url).netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


@dataclass
class Run:
    """What one timed run gave: each request's time in seconds, the time it all took,
    and the answers that were not the status expected."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body += chunk[:-2]
    raise RuntimeError(f"an answer with neither a length nor chunks: {head!r}")


async def _send_all(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    requests: Sequence[bytes],
    expect: int,
    run: Run | None,
) -> None:
    reader, writer = connection
    for request in requests:
        started = time.perf_counter()
        writer.write(request)
        status, body = await _answer(reader)
        if run is not None:
            run.latencies.append(time.perf_counter() - started)
            if status != expect:
                run.errors.append(f"{status} {body[:200]!r}")
        elif status != expect:
            raise RuntimeError(f"warm-up answered {status} {body[:200]!r}")


async def _drive(
    url: str,
    warm: Sequence[Sequence[bytes]],
    timed: Sequence[Sequence[bytes]],
    expect: int,
    meter: AbstractContextManager[Any] | None,
) -> Run:
    parts = urlsplit(url)
    connections = []
    for _ in timed:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connections.append((reader, writer))
    try:
        await asyncio.gather(
            *(_send_all(c, w, expect, None) for c, w in zip(connections, warm, strict=True))
        )
        run = Run()
        if meter is not None:
            meter.__enter__()
        started = time.perf_counter()
        try:
            await asyncio.gather(
                *(_send_all(c, t, expect, run) for c, t in zip(connections, timed, strict=True))
            )
        finally:
            run.elapsed = time.perf_counter() - started
            if meter is not None:
                meter.__exit__(None, None, None)
        return run
    finally:
        for _, writer in connections:
            writer.close()


def drive(
    url: str,
    warm: Sequence[Sequence[bytes]],
    timed: Sequence[Sequence[bytes]],
    *,
    expect: int = 201,
    meter: AbstractContextManager[Any] | None = None,
) -> Run:
    """One connection per list of ``timed`` requests, all at once: first the ``warm``
    requests (not timed), then the timed ones, ``meter`` entered and left around them."""
    return asyncio.run(_drive(url, warm, timed, expect, meter))
