"""The server `make run` starts (gunicorn.conf.py) keeps answering pages while browsers hold
connections open and idle: idle sockets must not take the workers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    # A generous wait: this checks that pages answer at all, not how fast (a synchronous
    # worker held by an idle socket answers only after its 30 s timeout kills it).
    with urllib.request.urlopen(url, timeout=20) as r:  # noqa: S310
        return int(r.status)


def test_pages_answer_while_idle_connections_are_held_open(
    database_url: str, seeded: dict[str, int], tmp_path: Path
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "WORKERS": "2",
        "DAKGHOR_DATABASE_URL": database_url,
        "DAKGHOR_INSTANCE": str(tmp_path / "instance"),
        "DAKGHOR_SECRET_KEY": "server-test",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "-c",
            "gunicorn.conf.py",
            "--access-logfile",
            "/dev/null",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    idle: list[socket.socket] = []
    try:
        for _ in range(100):
            try:
                assert _get(f"{base}/track") == 200
                break
            except OSError:
                time.sleep(0.1)
        # Six open tabs' worth: sockets that say nothing (pre-connects), sockets stopped half-way
        # through their headers, and keep-alive sockets that asked for one page and stay open.
        for n in range(18):
            s = socket.create_connection(("127.0.0.1", port))
            if n % 3 == 1:
                s.sendall(b"GET /track HTTP/1.1\r\nHost: x\r\n")
            elif n % 3 == 2:
                s.sendall(b"GET /track HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
                s.recv(65536)
            idle.append(s)
        assert [_get(f"{base}/track") for _ in range(10)] == [200] * 10
    finally:
        for s in idle:
            s.close()
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert b"WORKER TIMEOUT" not in err
