"""The chat provider simulator as an HTTP server: ``dakghor-chat-sim --port 5003``. It speaks the
WhatsApp-Business-Cloud-style dialect of ``messaging.whatsapp.codec``, keeps what it sent in
SQLite, refuses free text to a number that has not written in 24 hours (templates go), pushes
signed status webhooks carrying our reference, and injects faults. Like the real provider it
takes no idempotency key: a request that times out has been sent.

Provider endpoints:  POST /v21.0/<phone_number_id>/messages
Simulator endpoints:
  GET  /sim/chat/<msisdn>        messages sent to that number, newest last (text, or template
                                 with its language and parameters)
  POST /sim/chat/inbound         {"msisdn", "text", "times": 1}: a person writes to the post
                                 office's number (pushed to the webhook, signed; times > 1
                                 delivers the same message again, as the provider may)
  POST /sim/admin/faults         {"latency_ms", "error_rate", "timeout_rate", "timeout_s",
                                  "crash_after_accept_rate", "lost_status_rate", "seed"}
  POST /sim/admin/webhook        {"url"}: where webhooks go
  GET  /sim/admin/faults, /sim/admin/stats, /healthz
Credentials it accepts and the secret it signs with come from CHAT_SIM_* (demo defaults).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from messaging.gateway import from_wire, to_wire
from messaging.simulator import Config, Crash, Handler, Sim, Store, serve
from messaging.whatsapp import codec

FAULT_KEYS = (
    "latency_ms",
    "error_rate",
    "timeout_rate",
    "timeout_s",
    "crash_after_accept_rate",
    "lost_status_rate",
    "seed",
)
WINDOW_S = 24 * 3600


@dataclass
class ChatSimConfig:
    token: str = field(default_factory=lambda: os.environ.get("CHAT_SIM_TOKEN", "chat-demo-token"))
    phone_number_id: str = field(
        default_factory=lambda: os.environ.get("CHAT_SIM_PHONE_NUMBER_ID", "100200300")
    )
    app_secret: str = field(
        default_factory=lambda: os.environ.get("CHAT_SIM_APP_SECRET", "chat-demo-secret")
    )


class ChatStore(Store):
    """The provider's books: what it sent, when each person last wrote, settings, counters."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS chat (wamid TEXT PRIMARY KEY, msisdn TEXT, kind TEXT,"
            " body TEXT, reference TEXT, sent_at REAL);"
            "CREATE INDEX IF NOT EXISTS chat_msisdn ON chat (msisdn, sent_at);"
            "CREATE TABLE IF NOT EXISTS wrote (msisdn TEXT PRIMARY KEY, at REAL);"
        )

    def add(self, msisdn: str, kind: str, body: dict[str, Any], reference: str) -> str:
        wamid = "wamid." + secrets.token_urlsafe(18)
        with self.lock:
            self.db.execute(
                "INSERT INTO chat VALUES (?, ?, ?, ?, ?, ?)",
                (wamid, msisdn, kind, json.dumps(body, ensure_ascii=False), reference, time.time()),
            )
        return wamid

    def to_number(self, msisdn: str) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.db.execute(
                "SELECT wamid, kind, body, reference, sent_at FROM chat WHERE msisdn = ?"
                " ORDER BY sent_at, rowid",
                (msisdn,),
            ).fetchall()
        return [
            {"id": r[0], "type": r[1], **json.loads(r[2]), "reference": r[3], "sent_at": r[4]}
            for r in rows
        ]

    def wrote(self, msisdn: str) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO wrote VALUES (?, ?)", (msisdn, time.time()))

    def in_window(self, msisdn: str) -> bool:
        with self.lock:
            row = self.db.execute("SELECT at FROM wrote WHERE msisdn = ?", (msisdn,)).fetchone()
        return bool(row) and time.time() - float(row[0]) < WINDOW_S


class ChatSim(Sim):
    def __init__(self, store: ChatStore, config: ChatSimConfig) -> None:
        super().__init__(store, Config())  # the SMS credentials are not used here
        self.store: ChatStore = store
        self.chat_config = config

    def webhook(self, value: dict[str, Any], times: int = 1) -> None:
        """POST a signed webhook to the configured URL (in the background)."""
        url = self.store.get("webhook", "")
        if not url:
            return
        body = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
        }
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        sig = codec.signature(self.chat_config.app_secret, raw)

        def send() -> None:
            for _ in range(times):
                req = urllib.request.Request(
                    url,
                    data=raw,
                    method="POST",
                    headers={"Content-Type": "application/json", codec.SIG_HEADER: sig},
                )
                try:
                    urllib.request.urlopen(req, timeout=10).read()  # noqa: S310
                    self.store.bump("webhooks_pushed")
                except OSError:
                    self.store.bump("webhooks_failed")

        threading.Thread(target=send, daemon=True).start()

    def statuses(self, wamid: str, msisdn: str, reference: str) -> None:
        if self.roll("lost_status_rate"):
            return
        for status in ("sent", "delivered"):
            self.webhook(
                {
                    "statuses": [
                        {
                            "id": wamid,
                            "status": status,
                            "timestamp": str(int(time.time())),
                            "recipient_id": msisdn,
                            "biz_opaque_callback_data": reference,
                        }
                    ]
                }
            )
            time.sleep(0.02)


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code}}


class ChatHandler(Handler):
    server_version = "DakGhorChatSim/1.0"
    sim: ChatSim

    def _dispatch(self, method: str, body: bytes) -> None:
        path = self.path.split("?")[0]
        try:
            data = json.loads(body) if body else {}
            if not isinstance(data, dict):
                raise ValueError("the body is not a JSON object")
            if path.startswith("/sim/") or path == "/healthz":
                return self._admin(method, path, data)
            cfg = self.sim.chat_config
            if method != "POST" or path != f"/{codec.VERSION}/{cfg.phone_number_id}/messages":
                return self._json(404, _error(100, f"no such endpoint {path}"))
            lat = int(self.sim.faults().get("latency_ms", 0) or 0)
            if lat:
                time.sleep(lat / 1000)
            if self.sim.roll("error_rate"):
                return self._json(503, _error(131000, "Something went wrong (injected)"))
            self.sim.store.bump("requests")
            if self.headers.get("Authorization", "") != f"Bearer {cfg.token}":
                return self._json(401, _error(codec.UNAUTHORIZED, "Invalid OAuth access token"))
            return self._send(data)
        except Crash:
            return
        except (ValueError, KeyError, TypeError) as e:
            self._json(400, _error(100, f"Invalid parameter: {e}"))

    def _send(self, data: dict[str, Any]) -> None:
        to, kind = str(data["to"]), str(data["type"])
        reference = str(data.get("biz_opaque_callback_data", ""))
        if not re.fullmatch(r"8801[3-9]\d{8}", to):
            return self._json(400, _error(codec.UNDELIVERABLE, "Message undeliverable"))
        if kind == "text":
            text = str(data["text"]["body"])
            if not text:
                raise ValueError("text.body is empty")
            if not self.sim.store.in_window(to):
                return self._json(
                    400,
                    _error(codec.OUTSIDE_WINDOW, "Re-engagement message: more than 24 hours"),
                )
            body: dict[str, Any] = {"text": text}
        elif kind == "template":
            t = data["template"]
            params = [str(p["text"]) for p in t["components"][0]["parameters"]]
            body = {
                "template": str(t["name"]),
                "lang": str(t["language"]["code"]),
                "params": params,
            }
        else:
            raise ValueError(f"type {kind!r} is not simulated")
        wamid = self.sim.store.add(to, kind, body, reference)
        self.sim.statuses(wamid, to, reference)
        if self.sim.roll("crash_after_accept_rate"):
            self._crash()
        if self.sim.roll("timeout_rate"):
            time.sleep(float(self.sim.faults().get("timeout_s", 6) or 6))
        self._json(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            },
        )

    def _admin(self, method: str, path: str, data: dict[str, Any]) -> None:
        store = self.sim.store
        if path == "/healthz":
            return self._json(200, {"ok": True})
        if m := re.fullmatch(r"/sim/chat/(.+)", path):
            if m.group(1) == "inbound" and method == "POST":
                return self._inbound(data)
            try:
                number = to_wire(from_wire(unquote(m.group(1))))
            except Exception:  # noqa: BLE001 - a malformed number in the path is a 400
                return self._json(400, {"error": "not a Bangladesh mobile number"})
            return self._json(200, store.to_number(number))
        if path in ("/sim/admin/faults", "/sim/admin/stats"):
            return self._admin_common(method, path, data, FAULT_KEYS)
        if path == "/sim/admin/webhook" and method == "POST":
            store.put("webhook", str(data.get("url", "")))
            return self._json(200, {"url": store.get("webhook")})
        return self._json(404, {"error": f"no such endpoint {path}"})

    def _inbound(self, data: dict[str, Any]) -> None:
        number = to_wire(from_wire(str(data["msisdn"])))
        self.sim.store.wrote(number)
        wamid = "wamid." + secrets.token_urlsafe(18)
        message = {
            "from": number,
            "id": wamid,
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": str(data["text"])},
        }
        value = {
            "messaging_product": "whatsapp",
            "contacts": [{"profile": {"name": str(data.get("name", ""))}, "wa_id": number}],
            "messages": [message],
        }
        self.sim.webhook(value, max(1, min(int(data.get("times", 1)), 5)))
        return self._json(202, {"id": wamid})


def make_server(
    host: str, port: int, db_path: str, config: ChatSimConfig | None = None
) -> ThreadingHTTPServer:
    class Bound(ChatHandler):  # one simulator state per server
        pass

    server = ThreadingHTTPServer((host, port), Bound)
    server.daemon_threads = True
    Bound.sim = ChatSim(ChatStore(db_path), config or ChatSimConfig())
    return server


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="dakghor-chat-sim",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=int(os.environ.get("CHAT_SIM_PORT", "5003")))
    ap.add_argument(
        "--db",
        default=os.environ.get("CHAT_SIM_DB", "instance/chat-sim.sqlite3"),
        help="where the simulated provider keeps what it sent (survives restarts)",
    )
    ap.add_argument(
        "--webhook",
        help="where webhooks go, e.g. the app's http://127.0.0.1:5000/callbacks/chat/whatsapp; "
        "also settable at /sim/admin/webhook",
    )
    args = ap.parse_args(argv)
    os.makedirs(os.path.dirname(os.path.abspath(args.db)), exist_ok=True)
    server = make_server(args.host, args.port, args.db)
    if args.webhook:
        server.RequestHandlerClass.sim.store.put("webhook", args.webhook)  # type: ignore[attr-defined]
    serve(server, "Chat provider simulator", args.host, args.db)


if __name__ == "__main__":
    main()
