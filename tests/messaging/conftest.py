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
from messaging.chat import ChatChannel, ChatConfig
from messaging.gateway import GatewayConfig, SmsGateway
from tests.billing.conftest import free_port

CREDENTIALS = {"api_token": "sms-demo-token", "sid": "DAKGHOR"}
PUSH_SECRET = "sms-push-demo-secret"


class SmsSimulator:
    module = "messaging.simulator"

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
                self.module,
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


CHAT_CREDENTIALS = {"token": "chat-demo-token", "phone_number_id": "100200300"}
CHAT_SECRET = "chat-demo-secret"
CHAT_VERIFY = "chat-demo-verify"


class ChatSimulator(SmsSimulator):
    """The chat provider simulator in its own process (the same admin calls as the SMS one)."""

    module = "messaging.chat_simulator"

    def messages(self, msisdn: str) -> list[dict[str, Any]]:
        """What the provider sent to that number, newest last."""
        return list(self.call("GET", f"/sim/chat/{msisdn}"))

    def webhook(self, url: str) -> None:
        self.call("POST", "/sim/admin/webhook", {"url": url})

    def write(self, msisdn: str, text: str, times: int = 1) -> str:
        """A person writes to the post office's chat number; returns the message's id."""
        return str(
            self.call(
                "POST", "/sim/chat/inbound", {"msisdn": msisdn, "text": text, "times": times}
            )["id"]
        )


@pytest.fixture(scope="session")
def chat_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatSimulator]:
    sim = ChatSimulator(tmp_path_factory.mktemp("chat-sim") / "chat.sqlite3")
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def chat_clean(chat_sim: ChatSimulator) -> Iterator[ChatSimulator]:
    chat_sim.faults()
    chat_sim.webhook("")
    yield chat_sim
    chat_sim.faults()
    chat_sim.webhook("")


def make_chat(sim: SmsSimulator, timeout_s: float = 2.0, **credentials: str) -> ChatChannel:
    cfg = ChatConfig(
        sim.url, {**CHAT_CREDENTIALS, **credentials}, CHAT_SECRET, CHAT_VERIFY, timeout_s
    )
    return registry.load_chat("whatsapp", cfg)
