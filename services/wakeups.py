"""Waking a read-model worker in another process when something is written.

``waymark serve`` keeps the read models in a worker process of its own, beside
the processes that serve requests (``web/server.py``). Each write in a serving
process sends one datagram to the worker's Unix socket, so the worker catches up
at once rather than at its next poll: a lost or late datagram costs no more than
that poll interval, and a ring with no worker listening is not an error.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

#: How often the listener looks up from its socket to see whether it should stop.
LOOK_UP_SECONDS = 0.5


class Bell:
    """The serving side: rings the worker listening at ``path``, never waiting."""

    def __init__(self, path: Path) -> None:
        self.address = str(path)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.setblocking(False)

    def ring(self) -> None:
        try:
            self._socket.sendto(b"!", self.address)
        except OSError:
            # Full (the worker is behind and will read the log anyway), or no worker
            # listening yet or any more (it polls when it starts): nothing to do.
            pass

    def close(self) -> None:
        self._socket.close()


class Listener:
    """The worker's side: sets ``wake`` for each datagram at ``path``, in a thread.

    ``lifeline`` is the file descriptor of a pipe from the process that started
    this one, which never writes to it: when it reads as ended, that process is
    gone (the server was killed, not stopped), and ``stop`` is set, so that no
    worker is left behind. It is read with ``os.read``, not through a buffered
    file, whose lock a thread blocked in it would hold as the interpreter exits.
    """

    def __init__(
        self, path: Path, wake: threading.Event, stop: threading.Event, lifeline: int
    ) -> None:
        self.path = path
        self.wake = wake
        self.stop = stop
        self.lifeline = lifeline
        path.unlink(missing_ok=True)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(str(path))
        self._socket.settimeout(LOOK_UP_SECONDS)
        self._threads = [
            threading.Thread(target=self._listen, name="waymark-wakeups", daemon=True),
            threading.Thread(target=self._watch, name="waymark-lifeline", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _listen(self) -> None:
        while not self.stop.is_set():
            try:
                self._socket.recv(64)
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            self.wake.set()

    def _watch(self) -> None:
        while os.read(self.lifeline, 4096):
            pass  # nothing is ever written: only its end means anything
        self.stop.set()
        self.wake.set()

    def close(self) -> None:
        self.stop.set()
        self._threads[0].join(timeout=2 * LOOK_UP_SECONDS)
        self._socket.close()
        self.path.unlink(missing_ok=True)
