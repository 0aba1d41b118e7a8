"""The simulator's books, kept in SQLite so that a restarted simulator remembers every debit
(as a real operator would)."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscribers (msisdn TEXT PRIMARY KEY, operator TEXT, balance INTEGER);
CREATE TABLE IF NOT EXISTS ported (msisdn TEXT PRIMARY KEY, operator TEXT);
CREATE TABLE IF NOT EXISTS consents (id TEXT PRIMARY KEY, operator TEXT, msisdn TEXT, amount INTEGER,
    key TEXT, otp TEXT, created REAL, state TEXT, token TEXT, attempts INTEGER DEFAULT 0, return_url TEXT);
CREATE TABLE IF NOT EXISTS txns (operator TEXT, key TEXT, ref TEXT, msisdn TEXT, amount INTEGER, kind TEXT,
    status TEXT, code TEXT, created REAL, original_key TEXT, PRIMARY KEY (operator, key));
CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, operator TEXT, expires REAL);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER);
"""
PREFIX = {
    "13": "grameenphone",
    "17": "grameenphone",
    "14": "banglalink",
    "19": "banglalink",
    "16": "robi",
    "18": "robi",
    "15": "teletalk",
}
OTP_TTL_S = 300


@dataclass
class Txn:
    operator: str
    key: str
    ref: str
    msisdn: str
    amount: int
    kind: str
    status: str  # succeeded | failed | refunded
    code: str
    created: float
    original_key: str


class Store:
    def __init__(self, path: str, default_balance: int) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.executescript(SCHEMA)
        self.lock = threading.RLock()
        self.default_balance = default_balance

    # settings and counters
    def get(self, name: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM settings WHERE name=?", (name,)).fetchone()
        return json.loads(row[0]) if row else default

    def put(self, name: str, value: Any) -> None:
        with self.lock:
            self.db.execute(
                "INSERT OR REPLACE INTO settings VALUES (?, ?)", (name, json.dumps(value))
            )

    def bump(self, name: str, by: int = 1) -> None:
        with self.lock:
            self.db.execute(
                "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=value+?",
                (name, by, by),
            )

    def counters(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT name, value FROM counters").fetchall())

    # subscribers
    def operator_of(self, msisdn: str) -> str | None:
        row = self.db.execute("SELECT operator FROM ported WHERE msisdn=?", (msisdn,)).fetchone()
        if row:
            return str(row[0])
        return PREFIX.get(msisdn[4:6]) if msisdn.startswith("+8801") and len(msisdn) == 14 else None

    def port(self, msisdn: str, operator: str) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO ported VALUES (?, ?)", (msisdn, operator))

    def balance(self, msisdn: str) -> int:
        row = self.db.execute(
            "SELECT balance FROM subscribers WHERE msisdn=?", (msisdn,)
        ).fetchone()
        return int(row[0]) if row else self.default_balance

    def set_balance(self, msisdn: str, balance: int) -> None:
        with self.lock:
            self.db.execute(
                "INSERT OR REPLACE INTO subscribers VALUES (?, ?, ?)",
                (msisdn, self.operator_of(msisdn), balance),
            )

    # consents
    def new_consent(
        self, operator: str, msisdn: str, amount: int, key: str, return_url: str
    ) -> tuple[str, str]:
        cid = f"{operator[:2].upper()}C{secrets.token_hex(8)}"
        otp = f"{secrets.randbelow(10**6):06d}"
        with self.lock:
            self.db.execute(
                "INSERT INTO consents VALUES (?,?,?,?,?,?,?,?,?,0,?)",
                (cid, operator, msisdn, amount, key, otp, time.time(), "open", None, return_url),
            )
            self.put(f"otp:{msisdn}", {"otp": otp, "consent_id": cid, "operator": operator})
        return cid, otp

    def consent(self, cid: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT id, operator, msisdn, amount, key, otp, created, state, token, attempts, "
            "return_url FROM consents WHERE id=?",
            (cid,),
        ).fetchone()
        if not row:
            return None
        keys = [
            "id",
            "operator",
            "msisdn",
            "amount",
            "key",
            "otp",
            "created",
            "state",
            "token",
            "attempts",
            "return_url",
        ]
        return dict(zip(keys, row, strict=True))

    def verify_otp(self, cid: str, otp: str) -> tuple[str, str | None]:
        """-> (state, token): approved, wrong_otp, expired, locked, unknown."""
        with self.lock:
            c = self.consent(cid)
            if c is None:
                return "unknown", None
            if c["state"] == "approved":
                return "approved", c["token"]
            if c["state"] == "locked" or c["attempts"] >= 3:
                return "locked", None
            if time.time() - c["created"] > OTP_TTL_S:
                self.db.execute("UPDATE consents SET state='expired' WHERE id=?", (cid,))
                return "expired", None
            if otp != c["otp"]:
                attempts = c["attempts"] + 1
                self.db.execute(
                    "UPDATE consents SET attempts=?, state=? WHERE id=?",
                    (attempts, "locked" if attempts >= 3 else "open", cid),
                )
                return ("locked" if attempts >= 3 else "wrong_otp"), None
            token = f"tok_{secrets.token_hex(12)}"
            self.db.execute(
                "UPDATE consents SET state='approved', token=? WHERE id=?", (token, cid)
            )
            return "approved", token

    def consent_for_token(self, token: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT id FROM consents WHERE token=? AND state='approved'", (token,)
        ).fetchone()
        return self.consent(row[0]) if row else None

    # tokens
    def issue_token(self, operator: str, ttl: int) -> str:
        tok = secrets.token_urlsafe(24)
        with self.lock:
            self.db.execute(
                "INSERT INTO tokens VALUES (?, ?, ?)", (tok, operator, time.time() + ttl)
            )
        return tok

    def token_ok(self, operator: str, token: str) -> bool:
        row = self.db.execute(
            "SELECT expires FROM tokens WHERE token=? AND operator=?", (token, operator)
        ).fetchone()
        return bool(row and row[0] > time.time())

    # transactions
    def txn(self, operator: str, key: str) -> Txn | None:
        row = self.db.execute(
            "SELECT operator, key, ref, msisdn, amount, kind, status, code, created, original_key "
            "FROM txns WHERE operator=? AND key=?",
            (operator, key),
        ).fetchone()
        return Txn(*row) if row else None

    def charge(
        self, operator: str, key: str, msisdn: str, amount: int, force_insufficient: bool
    ) -> tuple[Txn, bool]:
        """Debit once per key. Returns (txn, created_now)."""
        with self.lock:
            existing = self.txn(operator, key)
            if existing:
                return existing, False
            ref = f"{operator[:2].upper()}{int(time.time() * 1000)}{secrets.token_hex(3)}"
            bal = self.balance(msisdn)
            if force_insufficient or bal < amount:
                status, code = "failed", "insufficient_balance"
            else:
                status, code = "succeeded", ""
                self.set_balance(msisdn, bal - amount)
            self.db.execute(
                "INSERT INTO txns VALUES (?,?,?,?,?,?,?,?,?,?)",
                (operator, key, ref, msisdn, amount, "charge", status, code, time.time(), ""),
            )
            if status == "succeeded":
                self.bump(f"debited:{operator}", amount)
                self.bump("charges_succeeded")
            else:
                self.bump("charges_failed")
            t = self.txn(operator, key)
            assert t is not None
            return t, True

    def refund(
        self, operator: str, key: str, original_key: str, amount: int
    ) -> tuple[Txn | None, str]:
        """Credit back (part of) a succeeded charge once per refund key -> (txn, error)."""
        with self.lock:
            existing = self.txn(operator, key)
            if existing:
                return existing, ""
            orig = self.txn(operator, original_key)
            if (
                orig is None
                or orig.kind != "charge"
                or orig.status not in ("succeeded", "refunded")
            ):
                return None, "no such charge to refund"
            done = self.db.execute(
                "SELECT COALESCE(SUM(amount),0) FROM txns WHERE operator=? AND original_key=? "
                "AND kind='refund'",
                (operator, original_key),
            ).fetchone()[0]
            if amount <= 0 or done + amount > orig.amount:
                return None, "refund exceeds the charge"
            ref = f"{operator[:2].upper()}R{int(time.time() * 1000)}{secrets.token_hex(3)}"
            self.set_balance(orig.msisdn, self.balance(orig.msisdn) + amount)
            self.db.execute(
                "INSERT INTO txns VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    operator,
                    key,
                    ref,
                    orig.msisdn,
                    amount,
                    "refund",
                    "succeeded",
                    "",
                    time.time(),
                    original_key,
                ),
            )
            if done + amount == orig.amount:
                self.db.execute(
                    "UPDATE txns SET status='refunded' WHERE operator=? AND key=?",
                    (operator, original_key),
                )
            self.bump(f"refunded:{operator}", amount)
            t = self.txn(operator, key)
            return t, ""

    def settlement(self, operator: str, day: str) -> list[Txn]:
        rows = self.db.execute(
            "SELECT operator, key, ref, msisdn, amount, kind, status, code, created, original_key FROM txns "
            "WHERE operator=? AND date(created, 'unixepoch') = ? ORDER BY created",
            (operator, day),
        ).fetchall()
        return [Txn(*r) for r in rows]
