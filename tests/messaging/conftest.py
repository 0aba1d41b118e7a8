"""A real SMS gateway simulator on a free loopback port (its own process), and a driver for it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from messaging import registry
from messaging.gateway import GatewayConfig, SmsGateway
from tests.billing.conftest import free_port

CREDENTIALS = {"api_token": "sms-demo-token", "sid": "DAKGHOR"}
PUSH_SECRET = "sms-push-demo-secret"


class SmsSimulator:
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
                "messaging.simulator",
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
        raise RuntimeError("SMS simulator did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            return json.loads(resp.read())

    def messages(self, msisdn: str) -> list[dict[str, Any]]:
        """What the gateway sent to that number, newest last."""
        return list(self.call("GET", f"/sim/sms/{msisdn}"))

    def faults(self, **settings: Any) -> None:
        self.call("POST", "/sim/admin/faults", settings)

    def stats(self) -> dict[str, int]:
        return dict(self.call("GET", "/sim/admin/stats"))

    def callbacks(self, base: str) -> None:
        self.call(
            "POST",
            "/sim/admin/callbacks",
            {"receipts": f"{base}/receipts", "inbound": f"{base}/inbound"},
        )

    def inbound(self, msisdn: str, text: str) -> None:
        self.call("POST", "/sim/inbound", {"msisdn": msisdn, "text": text})


@pytest.fixture(scope="session")
def sms_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmsSimulator]:
    sim = SmsSimulator(tmp_path_factory.mktemp("sms-sim") / "sms.sqlite3")
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def sms_clean(sms_sim: SmsSimulator) -> Iterator[SmsSimulator]:
    sms_sim.faults()
    sms_sim.call("POST", "/sim/admin/callbacks", {})
    yield sms_sim
    sms_sim.faults()


def make_gateway(sim: SmsSimulator, timeout_s: float = 2.0, **credentials: str) -> SmsGateway:
    cfg = GatewayConfig(sim.url, {**CREDENTIALS, **credentials}, PUSH_SECRET, timeout_s)
    return registry.load("isms", cfg)
