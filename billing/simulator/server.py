"""The operator simulator as an HTTP server: ``dakghor-operator-sim --port 5001``.

Operators' endpoints (each in its own dialect): /gp/..., /robi/..., /bl/..., /tt/...
Simulator endpoints:
  GET  /sim/otp/<msisdn>                 the last OTP sent to that number (demos and tests)
  GET  /sim/settlement/<operator>/<day>.csv   the operator's settlement file for a day (UTC)
  POST /sim/admin/faults                 {"latency_ms", "timeout_rate", "timeout_s", "error_rate",
                                          "insufficient_rate", "lost_callback_rate",
                                          "duplicate_callback_rate", "crash_after_debit_rate", "seed"}
  GET  /sim/admin/faults, /sim/admin/stats
  POST /sim/admin/subscribers            {"msisdn", "balance_poisha"}; POST /sim/admin/port {"msisdn", "operator"}
  POST /sim/admin/callbacks              {"operator": url} where callbacks go
  GET  /healthz
Secrets (credentials and callback signing keys) come from the environment, see ``Config``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import html
import json
import os
import random
import re
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

from billing.simulator.store import Store, Txn

OPERATORS = ("grameenphone", "robi", "banglalink", "teletalk")
FAULT_KEYS = (
    "latency_ms",
    "timeout_rate",
    "timeout_s",
    "error_rate",
    "insufficient_rate",
    "lost_callback_rate",
    "duplicate_callback_rate",
    "crash_after_debit_rate",
    "seed",
)


@dataclass
class Config:
    """Credentials the simulated operators accept and the keys they sign callbacks with.
    Defaults are for local demos only; set SIM_* (and the app's matching DAKGHOR_DCB_*) otherwise."""

    gp_client_id: str = field(default_factory=lambda: os.environ.get("SIM_GP_CLIENT_ID", "dakghor"))
    gp_client_secret: str = field(
        default_factory=lambda: os.environ.get("SIM_GP_CLIENT_SECRET", "gp-demo-secret")
    )
    robi_api_key: str = field(
        default_factory=lambda: os.environ.get("SIM_ROBI_API_KEY", "robi-demo-key")
    )
    bl_key_id: str = field(default_factory=lambda: os.environ.get("SIM_BL_KEY_ID", "dakghor"))
    bl_secret: str = field(
        default_factory=lambda: os.environ.get("SIM_BL_SECRET", "bl-demo-secret")
    )
    tt_client_id: str = field(default_factory=lambda: os.environ.get("SIM_TT_CLIENT_ID", "dakghor"))
    tt_client_secret: str = field(
        default_factory=lambda: os.environ.get("SIM_TT_CLIENT_SECRET", "tt-demo-secret")
    )
    callback_secret: str = field(
        default_factory=lambda: os.environ.get("SIM_CALLBACK_SECRET", "callback-demo-secret")
    )
    default_balance: int = field(
        default_factory=lambda: int(os.environ.get("SIM_DEFAULT_BALANCE_POISHA", "500000"))
    )


class Crash(Exception):
    """Raised inside a handler to drop the connection without an answer."""


class Sim:
    def __init__(self, store: Store, config: Config, public_url: str = "") -> None:
        self.store = store
        self.config = config
        self.public_url = public_url
        seed = self.faults().get("seed", 0)
        self.rng = random.Random(seed)
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

    # ---- callbacks -------------------------------------------------------------------------
    def callback(self, operator: str, body: dict[str, Any]) -> None:
        url = self.store.get("callbacks", {}).get(operator)
        if not url:
            return
        if self.roll("lost_callback_rate"):
            return
        times = 2 if self.roll("duplicate_callback_rate") else 1
        raw = json.dumps(body, separators=(",", ":")).encode()
        prefix = {"grameenphone": "GP", "robi": "Robi", "banglalink": "BL", "teletalk": "TT"}[
            operator
        ]

        def send() -> None:
            for _ in range(times):
                ts = str(int(time.time()))
                sig = hmac.new(
                    self.config.callback_secret.encode(), ts.encode() + b"." + raw, hashlib.sha256
                ).hexdigest()
                req = urllib.request.Request(
                    url,
                    data=raw,
                    method="POST",
                    headers={
                        "Content-Type": "application/json",
                        f"X-{prefix}-Timestamp": ts,
                        f"X-{prefix}-Signature": sig,
                    },
                )
                try:
                    urllib.request.urlopen(req, timeout=5).read()  # noqa: S310
                    self.store.bump("callbacks_sent")
                except OSError:
                    self.store.bump("callbacks_failed")

        threading.Thread(target=send, daemon=True).start()


def _e164(raw: str) -> str | None:
    s = raw.removeprefix("tel:")
    m = re.fullmatch(r"(?:\+?880|0)(1\d{9})", s)
    return f"+880{m.group(1)}" if m else None


def _taka(s: Any) -> int | None:
    m = re.fullmatch(r"(\d+)(?:\.(\d{1,2}))?", str(s))
    return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0")) if m else None


def _dec(poisha: int) -> str:
    return f"{poisha // 100}.{poisha % 100:02d}"


class Handler(BaseHTTPRequestHandler):
    server_version = "DakGhorOperatorSim/1.0"
    sim: Sim

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet; counters tell the story
        pass

    # ---- plumbing --------------------------------------------------------------------------
    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _json(self, status: int, obj: Any) -> None:
        raw = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _text(self, status: int, text: str, ctype: str = "text/plain; charset=utf-8") -> None:
        raw = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _crash(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        raise Crash

    def do_GET(self) -> None:
        self._dispatch("GET", b"")

    def do_POST(self) -> None:
        self._dispatch("POST", self._body())

    def _dispatch(self, method: str, body: bytes) -> None:
        path = self.path.split("?")[0]
        try:
            if path.startswith("/sim/") or path == "/healthz":
                return self._sim(method, path, body)
            faulty = any(
                path.startswith(p)
                for p in (
                    "/gp/payment",
                    "/robi/dcb/v2/charges",
                    "/robi/dcb/v2/refunds",
                    "/bl/api/charge",
                    "/bl/api/refund",
                    "/bl/api/status",
                    "/tt/v1/debit",
                    "/tt/v1/credit",
                )
            )
            if faulty:
                lat = int(self.sim.faults().get("latency_ms", 0) or 0)
                if lat:
                    time.sleep(lat / 1000)
                if self.sim.roll("error_rate"):
                    return self._json(503, {"error": "service unavailable (injected)"})
            self.sim.store.bump("requests")
            op = path.split("/")[1]
            handler = {"gp": self._gp, "robi": self._robi, "bl": self._bl, "tt": self._tt}.get(op)
            if handler is None:
                return self._json(404, {"error": f"no such endpoint {path}"})
            handler(method, path, body)
        except Crash:
            return
        except (ValueError, KeyError, TypeError) as e:
            self._json(400, {"error": f"malformed request: {e}"})

    def _after_debit(self, created: bool) -> None:
        """Faults between debiting and answering: a crash, or an answer too late to be read."""
        if created and self.sim.roll("crash_after_debit_rate"):
            self._crash()
        if self.sim.roll("timeout_rate"):
            time.sleep(float(self.sim.faults().get("timeout_s", 6) or 6))

    def _charge(
        self, op: str, key: str, msisdn: str, amount: int, token: str
    ) -> tuple[Txn | None, str]:
        """Shared charge logic -> (txn, error code)."""
        existing = self.sim.store.txn(op, key)
        if existing:
            return existing, ""
        if self.sim.store.operator_of(msisdn) != op:
            return None, "not_subscriber"
        consent = self.sim.store.consent_for_token(token)
        if (
            consent is None
            or consent["msisdn"] != msisdn
            or consent["operator"] != op
            or amount > consent["amount"]
        ):
            return None, "consent_invalid"
        txn, created = self.sim.store.charge(
            op, key, msisdn, amount, self.sim.roll("insufficient_rate")
        )
        self._notify(op, txn)
        self._after_debit(created)
        return txn, ""

    def _notify(self, op: str, t: Txn) -> None:
        if op == "grameenphone":
            status = {"succeeded": "Charged", "failed": "Denied", "refunded": "Refunded"}[t.status]
            if t.kind == "refund":
                status = "Refunded"
            body: dict[str, Any] = {
                "amountTransaction": {
                    "clientCorrelator": t.key,
                    "endUserId": "tel:" + t.msisdn,
                    "serverReferenceCode": t.ref,
                    "paymentAmount": {
                        "chargingInformation": {"amount": _dec(t.amount), "currency": "BDT"}
                    },
                    "transactionOperationStatus": status,
                }
            }
        elif op == "robi":
            event = (
                "refund.succeeded"
                if t.kind == "refund"
                else "charge.succeeded"
                if t.status != "failed"
                else "charge.failed"
            )
            body = {"event": event, "txn_id": t.key, "robi_ref": t.ref, "amount_poisha": t.amount}
        elif op == "banglalink":
            status = (
                "REFUNDED"
                if t.kind == "refund"
                else {"succeeded": "CHARGED", "failed": "FAILED", "refunded": "CHARGED"}[t.status]
            )
            body = {"ref": t.key, "bl_txn": t.ref, "status": status, "amount": _dec(t.amount)}
        else:
            outcome = (
                "REVERSED" if t.kind == "refund" else ("ERR" if t.status == "failed" else "OK")
            )
            body = {
                "requestId": t.key,
                "debitId": t.ref,
                "outcome": outcome,
                "amountInPoisha": t.amount,
                "type": "credit" if t.kind == "refund" else "debit",
            }
        self.sim.callback(op, body)

    # ---- simulator's own endpoints -------------------------------------------------------
    def _sim(self, method: str, path: str, body: bytes) -> None:
        store = self.sim.store
        if path == "/healthz":
            return self._json(200, {"ok": True})
        if m := re.fullmatch(r"/sim/otp/(.+)", path):
            msisdn = _e164(unquote(m.group(1)))
            rec = store.get(f"otp:{msisdn}") if msisdn else None
            return (
                self._json(200, rec)
                if rec
                else self._json(404, {"error": "no OTP sent to that number"})
            )
        if m := re.fullmatch(r"/sim/settlement/(\w+)/(\d{4}-\d{2}-\d{2})\.csv", path):
            rows = [
                "operator_reference,client_reference,msisdn,type,amount_poisha,status,timestamp_utc"
            ]
            for t in store.settlement(m.group(1), m.group(2)):
                ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t.created))
                rows.append(f"{t.ref},{t.key},{t.msisdn},{t.kind},{t.amount},{t.status},{ts}")
            return self._text(200, "\n".join(rows) + "\n", "text/csv")
        if path == "/sim/admin/faults":
            if method == "POST":
                data = json.loads(body or b"{}")
                bad = [k for k in data if k not in FAULT_KEYS]
                if bad:
                    return self._json(400, {"error": f"unknown fault settings {bad}"})
                store.put("faults", data)
                self.sim.rng = random.Random(data.get("seed", 0))
            return self._json(200, self.sim.faults())
        if path == "/sim/admin/stats":
            return self._json(200, store.counters())
        if path == "/sim/admin/subscribers" and method == "POST":
            data = json.loads(body)
            msisdn = _e164(str(data["msisdn"]))
            if msisdn is None:
                return self._json(400, {"error": "bad msisdn"})
            store.set_balance(msisdn, int(data["balance_poisha"]))
            return self._json(200, {"msisdn": msisdn, "balance_poisha": store.balance(msisdn)})
        if m := re.fullmatch(r"/sim/admin/subscribers/(.+)", path):
            msisdn = _e164(unquote(m.group(1)))
            if msisdn is None:
                return self._json(400, {"error": "bad msisdn"})
            return self._json(
                200,
                {
                    "msisdn": msisdn,
                    "operator": store.operator_of(msisdn),
                    "balance_poisha": store.balance(msisdn),
                },
            )
        if path == "/sim/admin/port" and method == "POST":
            data = json.loads(body)
            msisdn = _e164(str(data["msisdn"]))
            if msisdn is None or data.get("operator") not in OPERATORS:
                return self._json(400, {"error": "bad msisdn or operator"})
            store.port(msisdn, data["operator"])
            return self._json(200, {"msisdn": msisdn, "operator": data["operator"]})
        if path == "/sim/admin/callbacks" and method == "POST":
            data = json.loads(body)
            store.put("callbacks", {k: v for k, v in data.items() if k in OPERATORS})
            return self._json(200, store.get("callbacks"))
        return self._json(404, {"error": f"no such endpoint {path}"})

    # ---- consent pages (Robi, Teletalk) --------------------------------------------------
    def _consent_page(self, op: str, cid: str, method: str, body: bytes) -> None:
        c = self.sim.store.consent(cid)
        if c is None or c["operator"] != op:
            return self._text(404, "Unknown consent request")
        error = ""
        if method == "POST":
            pin = parse_qs(body.decode()).get("pin", [""])[0]
            state, _tok = self.sim.store.verify_otp(cid, pin)
            if state == "approved":
                sep = "&" if "?" in (c["return_url"] or "") else "?"
                target = (
                    f"{c['return_url']}{sep}{urlencode({'consent_id': cid, 'status': 'approved'})}"
                )
                self.send_response(303)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            error = {
                "wrong_otp": "Wrong PIN, try again.",
                "locked": "Too many wrong PINs.",
                "expired": "This request has expired.",
            }.get(state, state)
        name = {"robi": "Robi", "teletalk": "Teletalk"}[op]
        page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{name} payment consent</title></head>
<body><h1>{name}: approve a payment</h1>
<p>Charge <b>Tk {_dec(c["amount"])}</b> to {html.escape(c["msisdn"])} for DakGhor.</p>
<p>Enter the PIN we sent you by SMS.</p>
{'<p id="error" style="color:#b00">' + html.escape(error) + "</p>" if error else ""}
<form method="post"><input id="pin" name="pin" inputmode="numeric" autocomplete="one-time-code">
<button id="approve" type="submit">Approve</button></form></body></html>"""
        self._text(200, page, "text/html; charset=utf-8")

    # ---- Grameenphone (OneAPI, OAuth2) -----------------------------------------------------
    def _gp_err(self, status: int, kind: str, mid: str, text: str) -> None:
        self._json(status, {"requestError": {kind: {"messageId": mid, "text": text}}})

    def _gp(self, method: str, path: str, body: bytes) -> None:
        cfg = self.sim.config
        if path == "/gp/oauth2/token":
            auth = self.headers.get("Authorization", "")
            want = base64.b64encode(f"{cfg.gp_client_id}:{cfg.gp_client_secret}".encode()).decode()
            if auth != f"Basic {want}":
                return self._json(401, {"error": "invalid_client"})
            return self._json(
                200,
                {
                    "access_token": self.sim.store.issue_token("grameenphone", 3600),
                    "token_type": "Bearer",
                    "expires_in": 3600,
                },
            )
        bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if not self.sim.store.token_ok("grameenphone", bearer):
            return self._json(401, {"error": "invalid_token"})
        if path == "/gp/dcb/v1/otp":
            d = json.loads(body)
            msisdn, amount = _e164(d["endUserId"]), _taka(d["amount"])
            if msisdn is None or amount is None:
                return self._gp_err(
                    400, "serviceException", "SVC0001", "invalid endUserId or amount"
                )
            if self.sim.store.operator_of(msisdn) != "grameenphone":
                return self._gp_err(
                    404, "serviceException", "SVC0004", "not a Grameenphone subscriber"
                )
            cid, _otp = self.sim.store.new_consent(
                "grameenphone", msisdn, amount, d["clientCorrelator"], ""
            )
            return self._json(201, {"consentId": cid})
        if m := re.fullmatch(r"/gp/dcb/v1/otp/([^/]+)/verify", path):
            state, tok = self.sim.store.verify_otp(
                unquote(m.group(1)), str(json.loads(body).get("otp", ""))
            )
            if state == "approved":
                return self._json(200, {"consentToken": tok})
            mid = {"wrong_otp": "POL1002", "expired": "POL1003"}.get(state, "POL1001")
            return self._gp_err(400, "policyException", mid, state)
        if m := re.fullmatch(r"/gp/payment/v1/transactions/([^/]+)", path):
            t = self.sim.store.txn("grameenphone", unquote(m.group(1)))
            if t is None:
                return self._gp_err(404, "serviceException", "SVC0002", "unknown clientCorrelator")
            return self._json(200, self._gp_tx(t))
        if re.fullmatch(r"/gp/payment/v1/[^/]+/transactions/amount", path):
            tx = json.loads(body)["amountTransaction"]
            msisdn = _e164(tx["endUserId"])
            info = tx["paymentAmount"]["chargingInformation"]
            meta = tx["paymentAmount"].get("chargingMetaData", {})
            amount = _taka(info["amount"])
            if msisdn is None or amount is None or amount <= 0:
                return self._gp_err(
                    400, "serviceException", "SVC0001", "invalid endUserId or amount"
                )
            if tx["transactionOperationStatus"] == "Refunded":
                t, err = self.sim.store.refund(
                    "grameenphone",
                    tx["clientCorrelator"],
                    meta.get("originalClientCorrelator", ""),
                    amount,
                )
                if t is None:
                    return self._gp_err(400, "serviceException", "SVC0001", err)
                self._notify("grameenphone", t)
                return self._json(201, self._gp_tx(t))
            t, err = self._charge(
                "grameenphone", tx["clientCorrelator"], msisdn, amount, meta.get("consentToken", "")
            )
            if t is None:
                mid = {"not_subscriber": "SVC0004", "consent_invalid": "POL1001"}[err]
                return self._gp_err(
                    403 if mid.startswith("POL") else 404,
                    "policyException" if mid.startswith("POL") else "serviceException",
                    mid,
                    err,
                )
            if t.status == "failed":
                return self._gp_err(402, "serviceException", "SVC0270", "insufficient credit")
            return self._json(201, self._gp_tx(t))
        return self._json(404, {"error": f"no such endpoint {path}"})

    def _gp_tx(self, t: Txn) -> dict[str, Any]:
        status = (
            "Refunded"
            if t.kind == "refund" or t.status == "refunded"
            else ("Charged" if t.status == "succeeded" else "Denied")
        )
        return {
            "amountTransaction": {
                "clientCorrelator": t.key,
                "endUserId": "tel:" + t.msisdn,
                "serverReferenceCode": t.ref,
                "paymentAmount": {
                    "chargingInformation": {"amount": _dec(t.amount), "currency": "BDT"}
                },
                "transactionOperationStatus": status,
            }
        }

    # ---- Robi (API key, consent page) -----------------------------------------------------
    def _robi(self, method: str, path: str, body: bytes) -> None:
        if m := re.fullmatch(r"/robi/consent/([^/]+)", path):
            return self._consent_page("robi", unquote(m.group(1)), method, body)
        if self.headers.get("X-API-Key") != self.sim.config.robi_api_key:
            return self._json(401, {"error": {"code": "R401K", "message": "bad API key"}})
        store = self.sim.store
        if path == "/robi/dcb/v2/consents" and method == "POST":
            d = json.loads(body)
            msisdn = _e164(str(d["msisdn"]))
            if msisdn is None or int(d["amount_poisha"]) <= 0:
                return self._json(
                    400, {"error": {"code": "R400", "message": "bad msisdn or amount"}}
                )
            if store.operator_of(msisdn) != "robi":
                return self._json(
                    404, {"error": {"code": "R404", "message": "not a Robi subscriber"}}
                )
            cid, _ = store.new_consent(
                "robi", msisdn, int(d["amount_poisha"]), d["txn_id"], d.get("return_url", "")
            )
            return self._json(
                201, {"consent_id": cid, "consent_url": f"{self.sim.public_url}/robi/consent/{cid}"}
            )
        if m := re.fullmatch(r"/robi/dcb/v2/consents/([^/]+)", path):
            c = store.consent(unquote(m.group(1)))
            if c is None:
                return self._json(404, {"error": {"code": "R400", "message": "unknown consent"}})
            state = {
                "approved": "approved",
                "open": "pending",
                "locked": "rejected",
                "expired": "expired",
            }[c["state"]]
            out: dict[str, Any] = {"state": state}
            if state == "approved":
                out["consent_token"] = c["token"]
            return self._json(200, out)
        if m := re.fullmatch(r"/robi/dcb/v2/charges/([^/]+)", path):
            t = store.txn("robi", unquote(m.group(1)))
            if t is None:
                return self._json(404, {"error": {"code": "R404T", "message": "unknown txn_id"}})
            return self._json(200, self._robi_tx(t))
        if path == "/robi/dcb/v2/charges" and method == "POST":
            d = json.loads(body)
            msisdn = _e164(str(d["msisdn"]))
            if msisdn is None or int(d["amount_poisha"]) <= 0:
                return self._json(
                    400, {"error": {"code": "R400", "message": "bad msisdn or amount"}}
                )
            t, err = self._charge(
                "robi", d["txn_id"], msisdn, int(d["amount_poisha"]), d.get("consent_token", "")
            )
            if t is None:
                rc = {"not_subscriber": "R404", "consent_invalid": "R401"}[err]
                return self._json(
                    403,
                    {
                        "txn_id": d["txn_id"],
                        "result": "FAILED",
                        "error": {"code": rc, "message": err},
                    },
                )
            return self._json(200 if t.status != "failed" else 402, self._robi_tx(t))
        if path == "/robi/dcb/v2/refunds" and method == "POST":
            d = json.loads(body)
            t, err = store.refund(
                "robi", d["refund_txn_id"], d["original_txn_id"], int(d["amount_poisha"])
            )
            if t is None:
                return self._json(400, {"error": {"code": "R400", "message": err}})
            self._notify("robi", t)
            return self._json(200, self._robi_tx(t))
        return self._json(404, {"error": {"code": "R400", "message": f"no such endpoint {path}"}})

    def _robi_tx(self, t: Txn) -> dict[str, Any]:
        result = (
            "REFUNDED"
            if t.kind == "refund" or t.status == "refunded"
            else ("SUCCESS" if t.status == "succeeded" else "FAILED")
        )
        out: dict[str, Any] = {
            "txn_id": t.key,
            "robi_ref": t.ref,
            "amount_poisha": t.amount,
            "result": result,
        }
        if t.status == "failed":
            out["error"] = {"code": "R402", "message": "insufficient balance"}
        return out

    # ---- Banglalink (HMAC-signed) ---------------------------------------------------------
    def _bl(self, method: str, path: str, body: bytes) -> None:
        cfg, store = self.sim.config, self.sim.store
        ts = self.headers.get("X-BL-Timestamp", "")
        msg = f"{method}\n{path}\n{ts}\n{hashlib.sha256(body).hexdigest()}".encode()
        want = hmac.new(cfg.bl_secret.encode(), msg, hashlib.sha256).hexdigest()
        if (
            self.headers.get("X-BL-Key") != cfg.bl_key_id
            or not ts.isdigit()
            or abs(time.time() - int(ts)) > 300
            or not hmac.compare_digest(want, self.headers.get("X-BL-Signature", ""))
        ):
            return self._json(401, {"code": 1401, "message": "bad signature"})
        d = json.loads(body or b"{}")
        if path == "/bl/api/otp/send":
            msisdn, amount = _e164(str(d["msisdn"])), _taka(d["amount"])
            if msisdn is None or amount is None:
                return self._json(400, {"code": 1000, "message": "bad msisdn or amount"})
            if store.operator_of(msisdn) != "banglalink":
                return self._json(200, {"code": 1002, "message": "not a Banglalink subscriber"})
            cid, _ = store.new_consent("banglalink", msisdn, amount, d["ref"], "")
            return self._json(200, {"code": 0, "otp_ref": cid})
        if path == "/bl/api/otp/verify":
            state, tok = store.verify_otp(str(d["otp_ref"]), str(d.get("otp", "")))
            if state == "approved":
                return self._json(200, {"code": 0, "auth_code": tok})
            code = {"wrong_otp": 1003, "expired": 1005, "locked": 1006}.get(state, 1006)
            return self._json(200, {"code": code, "message": state})
        if path == "/bl/api/status":
            t = store.txn("banglalink", str(d["ref"]))
            return self._json(
                200, self._bl_tx(t) if t else {"code": 1404, "message": "unknown ref"}
            )
        if path == "/bl/api/charge":
            msisdn, amount = _e164(str(d["msisdn"])), _taka(d["amount"])
            if msisdn is None or amount is None or amount <= 0:
                return self._json(400, {"code": 1000, "message": "bad msisdn or amount"})
            t, err = self._charge(
                "banglalink", str(d["ref"]), msisdn, amount, str(d.get("auth_code", ""))
            )
            if t is None:
                return self._json(
                    200,
                    {
                        "code": {"not_subscriber": 1002, "consent_invalid": 1006}[err],
                        "ref": d["ref"],
                        "message": err,
                    },
                )
            return self._json(200, self._bl_tx(t))
        if path == "/bl/api/refund":
            amount = _taka(d["amount"])
            t, err = store.refund("banglalink", str(d["ref"]), str(d["original_ref"]), amount or 0)
            if t is None:
                return self._json(200, {"code": 1000, "message": err})
            self._notify("banglalink", t)
            return self._json(200, self._bl_tx(t))
        return self._json(404, {"code": 1000, "message": f"no such endpoint {path}"})

    def _bl_tx(self, t: Txn) -> dict[str, Any]:
        if t.status == "failed":
            return {
                "code": 1001,
                "ref": t.key,
                "bl_txn": t.ref,
                "amount": _dec(t.amount),
                "status": "FAILED",
                "message": "insufficient balance",
            }
        status = "REFUNDED" if t.kind == "refund" or t.status == "refunded" else "CHARGED"
        return {
            "code": 0,
            "ref": t.key,
            "bl_txn": t.ref,
            "amount": _dec(t.amount),
            "status": status,
        }

    # ---- Teletalk (OAuth2 form, consent page) --------------------------------------------
    def _tt(self, method: str, path: str, body: bytes) -> None:
        cfg, store = self.sim.config, self.sim.store
        if m := re.fullmatch(r"/tt/consent/([^/]+)", path):
            return self._consent_page("teletalk", unquote(m.group(1)), method, body)
        if path == "/tt/auth/token":
            f = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if (
                f.get("client_id") != cfg.tt_client_id
                or f.get("client_secret") != cfg.tt_client_secret
            ):
                return self._json(401, {"outcome": "ERR", "reason": "TT-AUTH"})
            return self._json(200, {"token": store.issue_token("teletalk", 1800), "ttl": 1800})
        if not store.token_ok(
            "teletalk", self.headers.get("Authorization", "").removeprefix("Bearer ")
        ):
            return self._json(401, {"outcome": "ERR", "reason": "TT-AUTH"})
        if path == "/tt/v1/consent" and method == "POST":
            d = json.loads(body)
            msisdn = _e164(str(d["subscriber"]))
            if msisdn is None or int(d["amountInPoisha"]) <= 0:
                return self._json(400, {"outcome": "ERR", "reason": "TT-REQ"})
            if store.operator_of(msisdn) != "teletalk":
                return self._json(200, {"outcome": "ERR", "reason": "TT-UNK"})
            cid, _ = store.new_consent(
                "teletalk", msisdn, int(d["amountInPoisha"]), d["requestId"], d.get("returnUrl", "")
            )
            return self._json(
                200,
                {
                    "outcome": "OK",
                    "consentRef": cid,
                    "pageUrl": f"{self.sim.public_url}/tt/consent/{cid}",
                },
            )
        if m := re.fullmatch(r"/tt/v1/consent/([^/]+)", path):
            c = store.consent(unquote(m.group(1)))
            if c is None:
                return self._json(404, {"outcome": "ERR", "reason": "TT-REQ"})
            status = {
                "approved": "GRANTED",
                "open": "OPEN",
                "locked": "DENIED",
                "expired": "EXPIRED",
            }[c["state"]]
            out: dict[str, Any] = {"status": status}
            if status == "GRANTED":
                out["grant"] = c["token"]
            return self._json(200, out)
        if m := re.fullmatch(r"/tt/v1/debit/([^/]+)", path):
            t = store.txn("teletalk", unquote(m.group(1)))
            if t is None:
                return self._json(404, {"outcome": "ERR", "reason": "TT-NOREC"})
            return self._json(200, self._tt_tx(t))
        if path == "/tt/v1/debit" and method == "POST":
            d = json.loads(body)
            msisdn = _e164(str(d["subscriber"]))
            if msisdn is None or int(d["amountInPoisha"]) <= 0:
                return self._json(400, {"outcome": "ERR", "reason": "TT-REQ"})
            t, err = self._charge(
                "teletalk", d["requestId"], msisdn, int(d["amountInPoisha"]), d.get("grant", "")
            )
            if t is None:
                return self._json(
                    200,
                    {
                        "requestId": d["requestId"],
                        "outcome": "ERR",
                        "reason": {"not_subscriber": "TT-UNK", "consent_invalid": "TT-CNS"}[err],
                    },
                )
            return self._json(200, self._tt_tx(t))
        if path == "/tt/v1/credit" and method == "POST":
            d = json.loads(body)
            t, err = store.refund(
                "teletalk", d["requestId"], d["originalRequestId"], int(d["amountInPoisha"])
            )
            if t is None:
                return self._json(200, {"outcome": "ERR", "reason": "TT-REQ", "message": err})
            self._notify("teletalk", t)
            return self._json(200, self._tt_tx(t))
        return self._json(404, {"outcome": "ERR", "reason": "TT-REQ"})

    def _tt_tx(self, t: Txn) -> dict[str, Any]:
        out: dict[str, Any] = {"requestId": t.key, "debitId": t.ref, "amountInPoisha": t.amount}
        if t.status == "failed":
            out.update(outcome="ERR", reason="TT-BAL")
        else:
            out["outcome"] = "REVERSED" if t.kind == "refund" or t.status == "refunded" else "OK"
        return out


def make_server(
    host: str, port: int, db_path: str, config: Config | None = None, public_url: str | None = None
) -> ThreadingHTTPServer:
    cfg = config or Config()
    store = Store(db_path, cfg.default_balance)

    class Bound(Handler):  # one simulator state per server
        pass

    server = ThreadingHTTPServer((host, port), Bound)
    server.daemon_threads = True
    Bound.sim = Sim(store, cfg, public_url or f"http://{host}:{server.server_address[1]}")
    return server


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="dakghor-operator-sim",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=int(os.environ.get("SIM_PORT", "5001")))
    ap.add_argument(
        "--db",
        default=os.environ.get("SIM_DB", "instance/operator-sim.sqlite3"),
        help="where the simulated operators keep their books (survives restarts)",
    )
    ap.add_argument("--public-url", help="base URL customers' browsers use for consent pages")
    ap.add_argument(
        "--callback-base",
        help="send callbacks to <this>/<operator> (e.g. the app's "
        "http://127.0.0.1:5000/callbacks/dcb); also settable at /sim/admin/callbacks",
    )
    args = ap.parse_args(argv)
    os.makedirs(os.path.dirname(os.path.abspath(args.db)), exist_ok=True)
    server = make_server(args.host, args.port, args.db, public_url=args.public_url)
    if args.callback_base:
        server.RequestHandlerClass.sim.store.put(  # type: ignore[attr-defined]
            "callbacks", {op: f"{args.callback_base.rstrip('/')}/{op}" for op in OPERATORS}
        )
    print(
        f"operator simulator on http://{args.host}:{server.server_address[1]} (books: {args.db})",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
