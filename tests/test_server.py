"""The server `make run` starts (gunicorn.conf.py) keeps answering pages while browsers hold
connections open and idle: idle sockets must not take the workers.

The control runs the same check against synchronous workers, the configuration that stalled
(each idle socket holds a worker until gunicorn's 30 s timeout kills it), so the check is known
to catch the fault it guards against."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.serving import get, gunicorn


@contextmanager
def idle_connections(
    port: int, n: int, kinds: tuple[str, ...] = ("silent", "half", "keep-alive")
) -> Iterator[list[socket.socket]]:
    """What open browser tabs hold: pre-connects that say nothing, requests stopped half-way
    through their headers, and keep-alive sockets that asked for one page and stay open."""
    held: list[socket.socket] = []
    try:
        for i in range(n):
            kind = kinds[i % len(kinds)]
            s = socket.create_connection(("127.0.0.1", port))
            if kind == "half":
                s.sendall(b"GET /track HTTP/1.1\r\nHost: x\r\n")
            elif kind == "keep-alive":
                s.sendall(b"GET /track HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
                s.recv(65536)
            held.append(s)
        yield held
    finally:
        for s in held:
            s.close()


def test_pages_answer_while_idle_connections_are_held_open(
    database_url: str, seeded: dict[str, int], tmp_path: Path
) -> None:
    with (
        gunicorn(database_url, tmp_path / "instance") as server,
        idle_connections(server.port, 18),
    ):
        # A generous wait: this checks that pages answer at all, not how fast.
        assert [get(f"{server.base}/track", timeout=20) for _ in range(10)] == [200] * 10
    assert any("Using worker: gthread" in line for line in server.log), server.log
    assert not any("WORKER TIMEOUT" in line for line in server.log)


def test_control_synchronous_workers_are_held_by_idle_sockets(
    database_url: str, seeded: dict[str, int], tmp_path: Path
) -> None:
    with gunicorn(database_url, tmp_path / "instance", worker_class="sync", threads=1) as server:
        assert get(f"{server.base}/track") == 200  # it serves when nothing is idle
        # TimeoutError: both workers wait on silent sockets.
        with idle_connections(server.port, 3, ("silent",)), pytest.raises(OSError):
            get(f"{server.base}/track", timeout=5)
    assert any("Using worker: sync" in line for line in server.log), server.log
