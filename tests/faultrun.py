"""A fault run: many airtime charges through the real operator simulator over HTTP with
timeouts, 5xx answers, lost and duplicate callbacks, crashes after debiting and simulator
restarts; then recovery, and the books of both sides compared. Used by the test suite (scaled
down) and by bench/bench_payments.py (full size)."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import WSGIRequestHandler, make_server

from logistics.errors import DakGhorError
from logistics.models import AttemptStatus, ChargeAttempt, LedgerTransaction, Purpose, User
from logistics.services import intake, payments

PREFIX = {"grameenphone": "017", "robi": "018", "banglalink": "019", "teletalk": "015"}
FAULTS = {
    "timeout_rate": 0.10,
    "timeout_s": 0.6,
    "error_rate": 0.05,
    "lost_callback_rate": 0.10,
    "duplicate_callback_rate": 0.10,
    "crash_after_debit_rate": 0.02,
    "seed": 7,
}

BOOKING = {  # a walk-in parcel whose fee is paid by airtime
    "origin_office": "GPO",
    "weight_g": 700,
    "payment_method": "airtime",
    "sender": {"name": "S", "phone": "01711000001", "address": "Dhaka"},
    "recipient": {"name": "R", "phone": "01812345678", "address": "Dhaka", "post_code": "1207"},
}


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Report:
    attempts: int = 0
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    recovered: Counter[str] = field(default_factory=Counter)
    sim_stats: dict[str, int] = field(default_factory=dict)
    restarts: int = 0
    final: Counter[str] = field(default_factory=Counter)  # attempts' statuses after recovery
    problems: list[str] = field(default_factory=list)
    double_submits: int = 0  # fees paid from two phones at once
    double_collections: int = 0  # obligations collected more than once (must stay 0)
    refund_requests: int = 0
    refund_statuses: Counter[int] = field(default_factory=Counter)
    refunds_made: int = 0

    @property
    def per_second(self) -> float:
        return self.attempts / self.seconds if self.seconds else 0.0


def run(
    app: Any,
    maker: sessionmaker[Session],
    sim: Any,
    settings: payments.PaymentSettings,
    n: int,
    restarts: int = 3,
    base: int = 40_000_000,
    races: int = 0,
) -> Report:
    rep = Report(attempts=n)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cb = f"http://127.0.0.1:{server.server_port}/callbacks/dcb"
    sim.call("POST", "/sim/admin/callbacks", {op: f"{cb}/{op}" for op in PREFIX})
    sim.faults(**FAULTS)
    ops = sorted(PREFIX)
    keys: dict[str, tuple[str, int]] = {}
    t0 = time.monotonic()
    try:
        with maker() as db:
            clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
            assert clerk is not None
            req = intake.parse_booking(BOOKING)
            for i in range(n):
                if (
                    restarts
                    and i
                    and i % max(1, n // (restarts + 1)) == 0
                    and rep.restarts < restarts
                ):
                    sim.restart()
                    sim.faults(**FAULTS)
                    rep.restarts += 1
                op = ops[i % 4]
                msisdn = f"{PREFIX[op]}{base + i:08d}"
                try:
                    parcel = intake.create_parcel(db, req, clerk)
                    link = payments.create_link(db, parcel, Purpose.FEE, settings, clerk)
                    a = payments.begin(db, link, msisdn, settings)
                    db.commit()
                    keys[a.idempotency_key] = ("+880" + msisdn[1:], a.amount_poisha)
                    payments.send_consent(db, a, settings, "http://app.test/return")
                    pin = sim.otp("+880" + msisdn[1:])
                    if a.consent_method == "page":
                        sim.approve_page(a.consent_page_url, pin)
                        pin = ""
                    payments.verify(db, a, pin, settings)
                    payments.pay(db, a, settings)
                    rep.outcomes[a.status.value] += 1
                except DakGhorError as e:
                    db.rollback()
                    rep.errors[e.code] += 1
                except Exception as e:  # noqa: BLE001 - counted and reported, the run goes on
                    db.rollback()
                    rep.errors[type(e).__name__] += 1
        sim.faults()
        with maker() as db:
            for _ in range(5):
                got = payments.recover(db, settings, older_than_s=0)
                rep.recovered.update(got)
                if not got or set(got) <= {"succeeded", "failed"}:
                    break
        time.sleep(0.5)  # let in-flight callbacks land
        if races:
            _double_submits(maker, sim, settings, races, base + n, rep, keys)
            _refund_races(maker, f"http://127.0.0.1:{server.server_port}", races, rep, list(keys))
            time.sleep(0.5)
        rep.seconds = time.monotonic() - t0
        rep.sim_stats = sim.call("GET", "/sim/admin/stats")
        rep.problems = audit(maker, sim, keys)
        with maker() as db:
            rep.final.update(
                a.status.value
                for a in db.scalars(
                    select(ChargeAttempt).where(ChargeAttempt.idempotency_key.in_(list(keys)))
                )
            )
    finally:
        server.shutdown()
        server.server_close()
        sim.call("POST", "/sim/admin/callbacks", {})
        sim.faults()
    return rep


def _pay(
    maker: sessionmaker[Session],
    sim: Any,
    s: payments.PaymentSettings,
    link_id: int,
    msisdn: str,
    out: list[str],
    keys: dict[str, tuple[str, int]],
) -> None:
    from logistics.models import PaymentLink

    with maker() as db:
        try:
            link = db.get(PaymentLink, link_id)
            a = payments.begin(db, link, msisdn, s)  # type: ignore[arg-type]
            db.commit()
            keys[a.idempotency_key] = ("+880" + msisdn[1:], a.amount_poisha)
            payments.send_consent(db, a, s, "http://app.test/return")
            pin = sim.otp("+880" + msisdn[1:])
            if a.consent_method == "page":
                sim.approve_page(a.consent_page_url, pin)
                pin = ""
            payments.verify(db, a, pin, s)
            payments.pay(db, a, s)
            out.append(a.status.value)
        except Exception as e:  # noqa: BLE001 - the loser is refused; counted by kind
            db.rollback()
            out.append(getattr(e, "code", type(e).__name__))


def _double_submits(
    maker: sessionmaker[Session],
    sim: Any,
    s: payments.PaymentSettings,
    n: int,
    base: int,
    rep: Report,
    keys: dict[str, tuple[str, int]],
) -> None:
    """Each fee paid from two phones at the same moment (two links, two threads)."""
    with maker() as db:
        clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
        req = intake.parse_booking(BOOKING)
        pairs = []
        for _ in range(n):
            parcel = intake.create_parcel(db, req, clerk)  # type: ignore[arg-type]
            l1 = payments.create_link(db, parcel, Purpose.FEE, s, clerk)
            l2 = payments.create_link(db, parcel, Purpose.FEE, s, clerk)
            pairs.append((l1.id, l2.id))
        db.commit()
    for i, (l1, l2) in enumerate(pairs):
        out: list[str] = []
        numbers = (f"017{base + 2 * i:08d}", f"019{base + 2 * i + 1:08d}")
        threads = [
            threading.Thread(target=_pay, args=(maker, sim, s, lk, m, out, keys))
            for lk, m in zip((l1, l2), numbers, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rep.double_submits += 1
        rep.outcomes.update(f"race:{o}" for o in out)


def _refund_races(
    maker: sessionmaker[Session], url: str, n: int, rep: Report, attempt_keys: list[str]
) -> None:
    """Refunds of 1 poisha over HTTP while the operator's refund callbacks arrive: each sent by
    two clerks at once with one Idempotency-Key (a retry), so each must be made exactly once."""
    import json
    import urllib.error
    import urllib.request

    from logistics.services import accounts

    with maker() as db:
        clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
        key = accounts.issue_api_key(db, clerk, by=None, label="bench")  # type: ignore[arg-type]
        db.commit()
        ids = list(
            db.scalars(
                select(ChargeAttempt.public_id)
                .where(
                    ChargeAttempt.idempotency_key.in_(attempt_keys),
                    ChargeAttempt.status == AttemptStatus.SUCCEEDED,
                )
                .limit(n)
            )
        )

    def post(public_id: str, idem: str) -> None:
        req = urllib.request.Request(
            f"{url}/api/v1/payments/{public_id}/refund",
            data=json.dumps({"amount_poisha": 1, "reason": "bench race"}).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {key}",
                "Idempotency-Key": idem,
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback
                rep.refund_statuses[resp.status] += 1
        except urllib.error.HTTPError as e:
            rep.refund_statuses[e.code] += 1

    for public_id in ids:
        for round_ in range(2):  # two refunds per payment, each requested twice at once
            threads = [
                threading.Thread(target=post, args=(public_id, f"r{round_}-{public_id}"))
                for _ in range(2)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            rep.refund_requests += 2
    with maker() as db:
        from logistics.models import Refund

        rep.refunds_made = int(
            db.scalar(select(func.count()).select_from(Refund).where(Refund.status == "succeeded"))
            or 0
        )
        if rep.refunds_made != 2 * len(ids):
            rep.problems.append(f"{rep.refunds_made} refunds made for {2 * len(ids)} requested")


def double_collections(db: Session) -> int:
    """Obligations (a parcel's fee or COD) with more than one settled charge."""
    from logistics.models import PaymentLink

    settled = [
        AttemptStatus.SUCCEEDED,
        AttemptStatus.PARTIALLY_REFUNDED,
        AttemptStatus.REFUNDED,
    ]
    rows = db.execute(
        select(PaymentLink.parcel_id, PaymentLink.purpose, func.count())
        .join(ChargeAttempt, ChargeAttempt.link_id == PaymentLink.id)
        .where(ChargeAttempt.status.in_(settled))
        .group_by(PaymentLink.parcel_id, PaymentLink.purpose)
        .having(func.count() > 1)
    ).all()
    return len(rows)


def audit(maker: sessionmaker[Session], sim: Any, keys: dict[str, tuple[str, int]]) -> list[str]:
    """Compare both books: nothing charged twice, nothing charged that the ledger lacks, every
    attempt final, the ledger balanced."""
    problems: list[str] = []
    day = time.strftime("%Y-%m-%d", time.gmtime())
    debited: Counter[str] = Counter()
    for op in PREFIX:
        text = sim.call("GET", f"/sim/settlement/{op}/{day}.csv")
        for row in csv.DictReader(io.StringIO(text)):
            if (
                row["type"] == "charge"
                and row["status"] in ("succeeded", "refunded")
                and row["client_reference"] in keys
            ):
                debited[row["client_reference"]] += 1
    with maker() as db:
        attempts = {
            a.idempotency_key: a
            for a in db.scalars(
                select(ChargeAttempt).where(ChargeAttempt.idempotency_key.in_(list(keys)))
            )
        }
        ledgered = set(
            db.scalars(
                select(LedgerTransaction.reference).where(LedgerTransaction.kind == "charge")
            )
        )
        for key, count in debited.items():
            if count > 1:
                problems.append(f"{key} debited {count} times")
            if key not in ledgered:
                problems.append(f"{key} was charged by the operator but is missing from the ledger")
        for key, a in attempts.items():
            if a.status not in (
                AttemptStatus.SUCCEEDED,
                AttemptStatus.FAILED,
                AttemptStatus.REFUNDED,
                AttemptStatus.PARTIALLY_REFUNDED,
            ):
                if (
                    a.status
                    in (
                        AttemptStatus.CREATED,
                        AttemptStatus.CONSENT_SENT,
                        AttemptStatus.CONSENT_VERIFIED,
                    )
                    and key not in debited
                ):
                    continue  # never reached the charge step (its consent failed): nothing to settle
                problems.append(f"{key} left {a.status.value}")
            if a.status is AttemptStatus.SUCCEEDED and key not in debited:
                problems.append(f"{key} succeeded in the app but the operator has no debit")
        doubles = double_collections(db)
        if doubles:
            problems.append(f"{doubles} fees or CODs collected more than once")
        unbalanced = payments.unbalanced_transactions(db)
        if unbalanced:
            problems.append(f"unbalanced ledger transactions: {unbalanced[:3]}")
        if sum(payments.balances(db).values()) != 0:
            problems.append("the ledger does not sum to zero")
    return problems
