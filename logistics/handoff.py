"""Committed work handed to the job queue by one thread of the process, many ids a message.

A booking commits an SMS (and a merchant's webhook deliveries) to the outbox; queuing a Celery
message for each one in the request cost a booking about an eighth of its CPU (Celery builds,
serializes and publishes every message: 175-260 µs on a fast machine). Here the request only
appends the ids to a list and wakes the process's hand-off thread, which waits ``linger_s``
(50 ms) for more to come and queues them in messages of up to ``most`` ids. Under load one
message carries many bookings' ids (at 3 ms, a worker's bookings came one to a message and
nothing was saved); alone, a message leaves 50 ms after its commit. bench/bench_handoff.py
measures both ways alternated in one process.

Nothing is lost that the outbox does not keep: the ids are rows already committed, and the
periodic sweeps (SMS and webhooks, every 30 s) send whatever no job sent, including ids that
were waiting here when the process stopped. When the main thread ends, what waits is handed
over before the interpreter shuts down (a CLI command that books leaves nothing behind). A process forked with ids
waiting (gunicorn's workers are forked before any request) starts its own thread and list.
"""

from __future__ import annotations

import atexit
import concurrent.futures.thread  # noqa: F401 - see Handoff.__init__
import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Handoff:
    def __init__(
        self, name: str, send: Callable[[list[int]], None], linger_s: float = 0.05, most: int = 20
    ) -> None:
        self.name = name
        self.send = send
        self.linger_s = linger_s
        self.most = most
        self._lock = threading.Lock()
        self._waiting: list[int] = []
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._pid = 0
        self._thread: threading.Thread | None = None
        # When the main thread ends, before the interpreter's atexit callbacks (as
        # concurrent.futures waits for its workers). Redis's client imports
        # concurrent.futures.thread on its first connection, and that module registers an exit
        # callback on import, which threading refuses once it is shutting down: a process whose
        # first message goes out at exit lost it. It is imported with this module instead.
        getattr(threading, "_register_atexit", atexit.register)(self.flush)

    def put(self, ids: list[int]) -> None:
        """Hand ``ids`` (committed) over to the job queue soon."""
        if not ids:
            return
        with self._lock:
            if self._pid != os.getpid():  # first use in this process (or a forked child)
                self._pid = os.getpid()
                self._waiting = []
                self._thread = threading.Thread(
                    target=self._run, name=f"handoff-{self.name}", daemon=True
                )
                self._thread.start()
            self._waiting.extend(ids)
            self._idle.clear()
        self._wake.set()

    def _take(self) -> list[int]:
        with self._lock:
            batch, self._waiting = self._waiting[: self.most], self._waiting[self.most :]
            if not self._waiting:
                self._wake.clear()
            return batch

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.linger_s)  # let the bookings committing now come along
            while batch := self._take():
                self._send(batch)
            with self._lock:
                if not self._waiting:
                    self._idle.set()

    def _send(self, batch: list[int]) -> None:
        try:
            self.send(batch)
        except Exception:  # noqa: BLE001 - the sweep sends what could not be queued
            log.exception("handing over %s %s ids failed; the sweep will", len(batch), self.name)

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until what was put is handed over (at exit: hand it over here); False if the
        thread did not finish within ``timeout_s``."""
        if self._pid != os.getpid():
            return True
        if self._thread is None or not self._thread.is_alive():
            while batch := self._take():
                self._send(batch)
            return True
        return self._idle.wait(timeout_s)
