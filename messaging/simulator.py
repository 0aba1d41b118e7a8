"""The SMS gateway simulator as an HTTP server: ``dakghor-sms-sim --port 5002``. It speaks the
ISMS-style dialect of ``messaging.isms.codec``, keeps what it sent in SQLite (survives restarts),
sends each ``csms_id`` once, pushes signed delivery receipts, and injects faults.

Gateway endpoints:  POST /api/v3/send-sms, POST /api/v3/sms-status
Simulator endpoints:
  GET  /sim/sms/<msisdn>          the messages sent to that number, newest last (demos and tests)
  POST /sim/inbound               {"msisdn", "text"}: a person texts the service number (pushed
                                  to the inbound URL, signed), e.g. "STOP"
  POST /sim/admin/faults          {"latency_ms", "error_rate", "timeout_rate", "timeout_s",
                                   "crash_after_accept_rate", "lost_receipt_rate",
                                   "duplicate_receipt_rate", "undelivered_rate",
                                   "receipt_delay_ms", "seed"}
  GET  /sim/admin/faults, /sim/admin/stats
  POST /sim/admin/callbacks       {"receipts": url, "inbound": url}
  GET  /healthz
Credentials it accepts and the key it signs with come from SMS_SIM_* (demo defaults).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import socket
import sqlite3
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from messaging import segments
from messaging.gateway import from_wire, to_wire
from messaging.isms import codec

FAULT_KEYS = (
    "latency_ms",
    "error_rate",
    "timeout_rate",
    "timeout_s",
    "crash_after_accept_rate",
    "lost_receipt_rate",
    "duplicate_receipt_rate",
    "undelivered_rate",
    "receipt_delay_ms",
    "seed",
)


@dataclass
class Config:
    api_token: str = field(
        default_factory=lambda: os.environ.get("SMS_SIM_API_TOKEN", "sms-demo-token")
    )
    sid: str = field(default_factory=lambda: os.environ.get("SMS_SIM_SID", "DAKGHOR"))
    push_secret: str = field(
        default_factory=lambda: os.environ.get("SMS_SIM_PUSH_SECRET", "sms-push-demo-secret")
    )


class Store:
    """The gateway's books: messages by csms_id, settings, counters. One lock: it is small."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.lock = threading.Lock()
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS sms (csms_id TEXT PRIMARY KEY, reference_id TEXT,"
            " msisdn TEXT, body TEXT, status TEXT, sent_at REAL, encoding TEXT, segments INT);"
            "CREATE INDEX IF NOT EXISTS sms_msisdn ON sms (msisdn, sent_at);"
            "CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT);"
        )

    def get(self, key: str, default: Any = None) -> Any:
        with self.lock:
            row = self.db.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def put(self, key: str, value: Any) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (key, json.dumps(value)))

    def bump(self, name: str) -> None:
        with self.lock:
            row = self.db.execute("SELECT v FROM kv WHERE k = ?", (f"n:{name}",)).fetchone()
            n = json.loads(row[0]) + 1 if row else 1
            self.db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (f"n:{name}", str(n)))

    def stats(self) -> dict[str, int]:
        with self.lock:
            rows = self.db.execute("SELECT k, v FROM kv WHERE k LIKE 'n:%'").fetchall()
            sent = self.db.execute("SELECT COUNT(*) FROM sms").fetchone()[0]
        return {"messages": sent, **{k[2:]: int(v) for k, v in rows}}

    def take(self, csms_id: str, msisdn: str, body: str) -> tuple[dict[str, Any], bool]:
        """The message for this csms_id: the one already taken, or a new one (-> created)."""
        seg = segments.count(body)
        with self.lock:
            row = self.db.execute("SELECT * FROM sms WHERE csms_id = ?", (csms_id,)).fetchone()
            if row:
                return self._row(row), False
            ref = f"SSL{int(time.time() * 1000)}{random.randrange(1000, 9999)}"
            self.db.execute(
                "INSERT INTO sms VALUES (?, ?, ?, ?, 'PENDING', ?, ?, ?)",
                (csms_id, ref, msisdn, body, time.time(), seg.encoding, seg.count),
            )
            row = self.db.execute("SELECT * FROM sms WHERE csms_id = ?", (csms_id,)).fetchone()
        return self._row(row), True

    def find(self, csms_id: str) -> dict[str, Any] | None:
        with self.lock:
            row = self.db.execute("SELECT * FROM sms WHERE csms_id = ?", (csms_id,)).fetchone()
        return self._row(row) if row else None

    def set_status(self, csms_id: str, status: str) -> None:
        with self.lock:
            self.db.execute("UPDATE sms SET status = ? WHERE csms_id = ?", (status, csms_id))

    def to_number(self, msisdn: str) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.db.execute(
                "SELECT * FROM sms WHERE msisdn = ? ORDER BY sent_at, rowid", (msisdn,)
            ).fetchall()
        return [self._row(r) for r in rows]

    @staticmethod
    def _row(row: tuple[Any, ...]) -> dict[str, Any]:
        keys = ("csms_id", "reference_id", "msisdn", "text", "status", "sent_at", "encoding")
        return {**dict(zip(keys, row, strict=False)), "segments": row[7]}


class Crash(Exception):
    """Raised inside a handler to drop the connection without an answer."""


class Sim:
    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config
        self.rng = random.Random(self.faults().get("seed", 0))
        self.rng_lock = threading.Lock()

    def faults(self) -> dict[str, Any]:
        return dict(self.store.get("faults", {}))

    def roll(self, name: str) -> bool:
        rate = float(self.faults().get(name, 0) or 0)
        with self.rng_lock:
            hit = self.rng.random() < rate
        if hit:
            self.store.bump(f"fault:{name}")
        return hit

    def push(self, target: str, body: dict[str, Any], times: int = 1, delay_s: float = 0) -> None:
        """POST a signed push to the URL configured for ``target`` (in the background)."""
        url = self.store.get("callbacks", {}).get(target)
        if not url:
            return
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

        def send() -> None:
            time.sleep(delay_s)
            for _ in range(times):
                ts = str(int(time.time()))
                req = urllib.request.Request(
                    url,
                    data=raw,
                    method="POST",
                    headers={
                        "Content-Type": "application/json",
                        codec.TS_HEADER: ts,
                        codec.SIG_HEADER: codec.signature(self.config.push_secret, ts, raw),
                    },
                )
                try:
                    urllib.request.urlopen(req, timeout=5).read()  # noqa: S310
                    self.store.bump(f"{target}_pushed")
                except OSError:
                    self.store.bump(f"{target}_push_failed")

        threading.Thread(target=send, daemon=True).start()

    def deliver(self, msg: dict[str, Any]) -> None:
        """The network's verdict on a new message, and its receipt (unless lost)."""
        status = "UNDELIVERED" if self.roll("undelivered_rate") else "DELIVERED"
        self.store.set_status(msg["csms_id"], status)
        if self.roll("lost_receipt_rate"):
            return
        delay = float(self.faults().get("receipt_delay_ms", 50) or 0) / 1000
        body = {
            "type": "dlr",
            "csms_id": msg["csms_id"],
            "reference_id": msg["reference_id"],
            "msisdn": msg["msisdn"],
            "status": status,
            "done_at": int(time.time()),
        }
        self.push("receipts", body, 2 if self.roll("duplicate_receipt_rate") else 1, delay)


class Handler(BaseHTTPRequestHandler):
    server_version = "DakGhorSmsSim/1.0"
    sim: Sim

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet; counters tell the story
        pass

    def _json(self, status: int, obj: Any) -> None:
        raw = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _admin_common(
        self, method: str, path: str, data: dict[str, Any], keys: tuple[str, ...]
    ) -> None:
        """The admin endpoints every simulator has: its faults (set and read) and counters."""
        if path == "/sim/admin/stats":
            return self._json(200, self.sim.store.stats())
        if method == "POST":
            unknown = set(data) - set(keys)
            if unknown:
                return self._json(400, {"error": f"unknown fault keys {sorted(unknown)}"})
            self.sim.store.put("faults", data)
            if "seed" in data:
                with self.sim.rng_lock:
                    self.sim.rng.seed(data["seed"])
        return self._json(200, self.sim.faults())

    def _crash(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        raise Crash

    def do_GET(self) -> None:
        self._dispatch("GET", b"")

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        self._dispatch("POST", self.rfile.read(n) if n else b"")

    def _dispatch(self, method: str, body: bytes) -> None:
        path = self.path.split("?")[0]
        try:
            data = json.loads(body) if body else {}
            if not isinstance(data, dict):
                raise ValueError("the body is not a JSON object")
            if path.startswith("/sim/") or path == "/healthz":
                return self._sim(method, path, data)
            if method != "POST" or path not in (codec.SEND_PATH, codec.STATUS_PATH):
                return self._json(404, {"error": f"no such endpoint {path}"})
            lat = int(self.sim.faults().get("latency_ms", 0) or 0)
            if lat:
                time.sleep(lat / 1000)
            if self.sim.roll("error_rate"):
                return self._json(503, {"error": "service unavailable (injected)"})
            self.sim.store.bump("requests")
            cfg = self.sim.config
            if data.get("api_token") != cfg.api_token or data.get("sid") != cfg.sid:
                return self._json(
                    200,
                    {
                        "status": "FAILED",
                        "status_code": codec.UNAUTHORIZED,
                        "error_message": "Unauthorized",
                    },
                )
            if path == codec.SEND_PATH:
                return self._send(data)
            return self._status(data)
        except Crash:
            return
        except (ValueError, KeyError, TypeError) as e:
            self._json(
                400,
                {
                    "status": "FAILED",
                    "status_code": 4000,
                    "error_message": f"malformed request: {e}",
                },
            )

    def _send(self, data: dict[str, Any]) -> None:
        msisdn, text, csms_id = str(data["msisdn"]), str(data["sms"]), str(data["csms_id"])
        if not re.fullmatch(r"8801[3-9]\d{8}", msisdn):
            return self._json(
                200,
                {
                    "status": "FAILED",
                    "status_code": codec.INVALID_NUMBER,
                    "error_message": "Invalid MSISDN",
                },
            )
        if not text or not re.fullmatch(r"[\w.:-]{1,20}", csms_id):
            raise ValueError("sms and a csms_id of at most 20 characters are required")
        msg, created = self.sim.store.take(csms_id, msisdn, text)
        if created:
            self.sim.deliver(msg)
            if self.sim.roll("crash_after_accept_rate"):
                self._crash()
            if self.sim.roll("timeout_rate"):
                time.sleep(float(self.sim.faults().get("timeout_s", 6) or 6))
        else:
            self.sim.store.bump("duplicates")
        info = {
            "sms_status": "SUCCESS",
            "status_message": "Success" if created else "Duplicate csms_id, already accepted",
            "msisdn": msisdn,
            "sms_type": "UNICODE" if msg["encoding"] == "ucs2" else "EN",
            "sms_body": text,
            "csms_id": csms_id,
            "reference_id": msg["reference_id"],
        }
        code = 200 if created else codec.DUPLICATE
        self._json(
            200, {"status": "SUCCESS", "status_code": code, "error_message": "", "smsinfo": [info]}
        )

    def _status(self, data: dict[str, Any]) -> None:
        msg = self.sim.store.find(str(data["csms_id"]))
        if msg is None:
            return self._json(
                200,
                {"status": "FAILED", "status_code": codec.NOT_FOUND, "error_message": "Not found"},
            )
        info = {
            "csms_id": msg["csms_id"],
            "reference_id": msg["reference_id"],
            "sms_status": msg["status"],
        }
        self._json(200, {"status": "SUCCESS", "status_code": 200, "smsinfo": [info]})

    def _sim(self, method: str, path: str, data: dict[str, Any]) -> None:
        store = self.sim.store
        if path == "/healthz":
            return self._json(200, {"ok": True})
        if m := re.fullmatch(r"/sim/sms/(.+)", path):
            try:
                number = to_wire(from_wire(unquote(m.group(1))))
            except Exception:  # noqa: BLE001 - a malformed number in the path is a 400
                return self._json(400, {"error": "not a Bangladesh mobile number"})
            return self._json(200, store.to_number(number))
        if path == "/sim/inbound" and method == "POST":
            number = to_wire(from_wire(str(data["msisdn"])))
            body = {
                "type": "mo",
                "msisdn": number,
                "text": str(data["text"]),
                "received_at": int(time.time()),
            }
            self.sim.push("inbound", body)
            return self._json(202, {"queued": True})
        if path in ("/sim/admin/faults", "/sim/admin/stats"):
            return self._admin_common(method, path, data, FAULT_KEYS)
        if path == "/sim/admin/callbacks" and method == "POST":
            store.put(
                "callbacks", {k: str(v) for k, v in data.items() if k in ("receipts", "inbound")}
            )
            return self._json(200, store.get("callbacks"))
        return self._json(404, {"error": f"no such endpoint {path}"})


def make_server(
    host: str, port: int, db_path: str, config: Config | None = None
) -> ThreadingHTTPServer:
    class Bound(Handler):  # one simulator state per server
        pass

    server = ThreadingHTTPServer((host, port), Bound)
    server.daemon_threads = True
    Bound.sim = Sim(Store(db_path), config or Config())
    return server


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="dakghor-sms-sim",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=int(os.environ.get("SMS_SIM_PORT", "5002")))
    ap.add_argument(
        "--db",
        default=os.environ.get("SMS_SIM_DB", "instance/sms-sim.sqlite3"),
        help="where the simulated gateway keeps what it sent (survives restarts)",
    )
    ap.add_argument(
        "--callback-base",
        help="push receipts to <this>/receipts and people's messages to <this>/inbound (e.g. the "
        "app's http://127.0.0.1:5000/callbacks/sms/isms); also settable at /sim/admin/callbacks",
    )
    args = ap.parse_args(argv)
    os.makedirs(os.path.dirname(os.path.abspath(args.db)), exist_ok=True)
    server = make_server(args.host, args.port, args.db)
    if args.callback_base:
        base = args.callback_base.rstrip("/")
        server.RequestHandlerClass.sim.store.put(  # type: ignore[attr-defined]
            "callbacks", {"receipts": f"{base}/receipts", "inbound": f"{base}/inbound"}
        )
    serve(server, "SMS gateway simulator", args.host, args.db)


def serve(server: ThreadingHTTPServer, what: str, host: str, db: str) -> None:
    """Say where it listens, then serve until interrupted."""
    print(f"{what} on http://{host}:{server.server_address[1]} ({db})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
