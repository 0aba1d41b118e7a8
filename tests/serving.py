"""The server `make run` starts (gunicorn -c gunicorn.conf.py), run for a test on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, timeout: float = 20) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310
        r.read()
        return int(r.status)


@dataclass
class Server:
    base: str
    port: int
    log: list[str] = field(default_factory=list)  # gunicorn's error log once it stopped


@contextmanager
def gunicorn(
    database_url: str,
    instance: Path,
    *,
    worker_class: str = "",
    threads: int = 0,
    env: dict[str, str] | None = None,
    access_log: Path | None = None,
) -> Iterator[Server]:
    """gunicorn with the project's config; ``worker_class``/``threads`` override it (gunicorn
    quietly turns 'sync' into 'gthread' when threads > 1, so a sync control needs threads=1).
    Its access log goes to ``access_log``, else nowhere."""
    port = free_port()
    env = {
        **(env or os.environ),
        "PORT": str(port),
        "WORKERS": "2",
        "DAKGHOR_DATABASE_URL": database_url,
        "DAKGHOR_INSTANCE": str(instance),
        "DAKGHOR_SECRET_KEY": "server-test",
    }
    if worker_class:
        env["WORKER_CLASS"] = worker_class
    if threads:
        env["THREADS"] = str(threads)
    exe = Path(sys.executable).with_name("gunicorn")
    args = [
        str(exe),
        "-c",
        "gunicorn.conf.py",
        "--access-logfile",
        str(access_log or "/dev/null"),
        "app:create_app()",
    ]
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    server = Server(f"http://127.0.0.1:{port}", port)
    try:
        for _ in range(150):
            try:
                get(f"{server.base}/track", timeout=5)
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
        server.log[:] = err.decode(errors="replace").splitlines()
