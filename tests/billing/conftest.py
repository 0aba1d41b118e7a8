"""A real operator simulator on a free loopback port (its own process), and drivers pointed at it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billing import registry
from billing.driver import DriverConfig, OperatorDriver

CREDENTIALS = {
    "grameenphone": {"client_id": "dakghor", "client_secret": "gp-demo-secret"},
    "robi": {"api_key": "robi-demo-key"},
    "banglalink": {"key_id": "dakghor", "secret": "bl-demo-secret"},
    "teletalk": {"client_id": "dakghor", "client_secret": "tt-demo-secret"},
}
CALLBACK_SECRET = "callback-demo-secret"
NUMBERS = {
    "grameenphone": "+8801711000101",
    "robi": "+8801811000101",
    "banglalink": "+8801911000101",
    "teletalk": "+8801511000101",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Simulator:
    """Handle on a simulator process: start, stop, restart, admin calls."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "billing.simulator.server",
                "--port",
                str(self.port),
                "--db",
                str(self.db),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1).read()  # noqa: S310
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("operator simulator did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            raw = resp.read()
        return json.loads(raw) if raw[:1] in (b"{", b"[") else raw.decode()

    def otp(self, msisdn: str) -> str:
        return str(self.call("GET", f"/sim/otp/{msisdn}")["otp"])

    def faults(self, **settings: Any) -> None:
        self.call("POST", "/sim/admin/faults", settings)

    def balance(self, msisdn: str) -> int:
        return int(self.call("GET", f"/sim/admin/subscribers/{msisdn}")["balance_poisha"])

    def approve_page(self, page_url: str, pin: str) -> str:
        """What the customer does on a consent page: type the PIN, press Approve; -> redirect target."""
        req = urllib.request.Request(
            page_url,
            data=f"pin={pin}".encode(),
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a: Any, **k: Any) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(req, timeout=10)
        except urllib.error.HTTPError as e:
            if e.code == 303:
                return str(e.headers["Location"])
            raise
        return ""


@pytest.fixture(scope="session")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    sim = Simulator(tmp_path_factory.mktemp("sim") / "books.sqlite3")
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture(autouse=False)
def clean_faults(simulator: Simulator) -> Iterator[None]:
    simulator.faults()
    yield
    simulator.faults()


def make_driver(name: str, simulator: Simulator, timeout_s: float = 5.0) -> OperatorDriver:
    cfg = DriverConfig(simulator.url, CREDENTIALS[name], CALLBACK_SECRET, timeout_s)
    return registry.load({name: cfg})[name]
