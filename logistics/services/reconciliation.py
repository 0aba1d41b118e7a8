"""Reconciliation: an operator's settlement file against our charge attempts and refunds."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics import text
from logistics.errors import ValidationError
from logistics.i18n import Num, _l
from logistics.models import AttemptStatus, ChargeAttempt, Obligation, Refund

COLUMNS = [
    "operator_reference",
    "client_reference",
    "msisdn",
    "type",
    "amount_poisha",
    "status",
    "timestamp_utc",
]
SETTLED = {AttemptStatus.SUCCEEDED, AttemptStatus.PARTIALLY_REFUNDED, AttemptStatus.REFUNDED}


@dataclass(frozen=True)
class Line:
    # matched | missing_in_dakghor | missing_at_operator | amount_mismatch | status_mismatch |
    # duplicate_collection (a second charge for a fee or COD another charge already collected)
    outcome: str
    kind: str  # charge | refund
    reference: str
    msisdn: str
    operator_amount_poisha: int | None
    our_amount_poisha: int | None
    operator_status: str
    our_status: str


def parse(text: str) -> list[dict[str, str]]:
    try:
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None or [c.strip() for c in reader.fieldnames] != COLUMNS:
            raise ValidationError(
                {
                    "file": _l(
                        "A settlement file has the columns %(columns)s.", columns=", ".join(COLUMNS)
                    )
                }
            )
        rows = list(reader)
    except csv.Error:
        raise ValidationError({"file": _l("This is not a CSV file.")}) from None
    for n, r in enumerate(rows, 2):
        if None in r or any(r.get(c) is None for c in COLUMNS):
            raise ValidationError(
                {
                    "file": _l(
                        "Line %(n)s does not have the %(count)s columns.",
                        n=Num(n),
                        count=Num(len(COLUMNS)),
                    )
                }
            )
        if not re.fullmatch(r"[0-9]{1,15}", r["amount_poisha"]) or r["type"] not in (
            "charge",
            "refund",
        ):
            raise ValidationError(
                {
                    "file": _l(
                        "Line %(n)s: type must be charge or refund and amount whole poisha.",
                        n=Num(n),
                    )
                }
            )
    return rows


DAY_FORMAT = _l("The day must be a date such as 2026-11-22.")


def parse_day(day: str) -> datetime:
    """A settlement day, YYYY-MM-DD (UTC)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", day):
        raise ValidationError({"day": DAY_FORMAT})
    try:
        return datetime.combine(text.parse_day(day), time(), tzinfo=UTC)
    except ValueError:
        raise ValidationError({"day": DAY_FORMAT}) from None


def _second_collection(session: Session, a: ChargeAttempt) -> bool:
    """Whether the sum this charge was for had been collected by something else."""
    collector = session.scalar(
        select(Obligation.attempt_id).where(
            Obligation.parcel_id == a.link.parcel_id, Obligation.purpose == a.link.purpose
        )
    )
    return collector != a.id


def reconcile(session: Session, operator: str, day: str, text: str) -> list[Line]:
    """Match every line of ``operator``'s file for ``day`` (UTC, YYYY-MM-DD) with our records."""
    start = parse_day(day)
    rows = parse(text)
    lines: list[Line] = []
    seen: set[str] = set()
    for r in rows:
        ref, amount, op_status = r["client_reference"], int(r["amount_poisha"]), r["status"]
        seen.add(ref)
        if r["type"] == "charge":
            a = session.scalar(select(ChargeAttempt).where(ChargeAttempt.idempotency_key == ref))
            ours_ok = a is not None and a.status in SETTLED
            op_ok = op_status in ("succeeded", "refunded")
            if a is None:
                outcome = "missing_in_dakghor" if op_ok else "matched"
            elif op_ok != ours_ok:
                outcome = "missing_in_dakghor" if op_ok else "status_mismatch"
            elif a.amount_poisha != amount:
                outcome = "amount_mismatch"
            elif ours_ok and _second_collection(session, a):
                outcome = "duplicate_collection"
            else:
                outcome = "matched"
            lines.append(
                Line(
                    outcome,
                    "charge",
                    ref,
                    r["msisdn"],
                    amount,
                    a.amount_poisha if a else None,
                    op_status,
                    a.status.value if a else "-",
                )
            )
        else:
            rf = session.scalar(select(Refund).where(Refund.idempotency_key == ref))
            if rf is None:
                outcome = "missing_in_dakghor"
            elif rf.amount_poisha != amount:
                outcome = "amount_mismatch"
            elif rf.status != "succeeded":
                outcome = "status_mismatch"
            else:
                outcome = "matched"
            lines.append(
                Line(
                    outcome,
                    "refund",
                    ref,
                    r["msisdn"],
                    amount,
                    rf.amount_poisha if rf else None,
                    op_status,
                    rf.status if rf else "-",
                )
            )
    end = start + timedelta(days=1)
    for a in session.scalars(
        select(ChargeAttempt).where(
            ChargeAttempt.operator == operator,
            ChargeAttempt.status.in_(SETTLED),
            ChargeAttempt.settled_at >= start,
            ChargeAttempt.settled_at < end,
        )
    ):
        if a.idempotency_key not in seen:
            lines.append(
                Line(
                    "missing_at_operator",
                    "charge",
                    a.idempotency_key,
                    a.msisdn,
                    None,
                    a.amount_poisha,
                    "-",
                    a.status.value,
                )
            )
    return lines


def _cell(value: object) -> object:
    """Text a spreadsheet would run as a formula (an operator's file is outside input) is
    written with a leading apostrophe, so it opens as the text it is."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(lines: list[Line]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            "outcome",
            "kind",
            "reference",
            "msisdn",
            "operator_amount_poisha",
            "our_amount_poisha",
            "operator_status",
            "our_status",
        ]
    )
    for ln in lines:
        w.writerow(
            [
                _cell(v)
                for v in (
                    ln.outcome,
                    ln.kind,
                    ln.reference,
                    ln.msisdn,
                    ln.operator_amount_poisha,
                    ln.our_amount_poisha,
                    ln.operator_status,
                    ln.our_status,
                )
            ]
        )
    return out.getvalue()
