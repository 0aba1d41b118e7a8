"""The payments' double-entry ledger: postings in, balances and checks out."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing import ledger as billing_ledger
from logistics.models import LedgerEntry, LedgerTransaction


def post(
    session: Session, kind: str, reference: str, postings: list[billing_ledger.Posting], memo: str
) -> None:
    """One balanced transaction; its reference (an attempt's or refund's key) is unique, so the
    same money is never booked twice."""
    billing_ledger.assert_balanced(postings)
    tx = LedgerTransaction(
        kind=kind,
        reference=reference,
        memo=memo,
        entries=[LedgerEntry(account=p.account, amount_poisha=p.amount.poisha) for p in postings],
    )
    session.add(tx)
    session.flush()


def balances(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(LedgerEntry.account, func.sum(LedgerEntry.amount_poisha))
        .group_by(LedgerEntry.account)
        .order_by(LedgerEntry.account)
    )
    return {a: int(s) for a, s in rows}


def unbalanced_transactions(session: Session) -> list[str]:
    rows = session.execute(
        select(LedgerTransaction.reference, func.sum(LedgerEntry.amount_poisha))
        .join(LedgerEntry)
        .group_by(LedgerTransaction.reference)
        .having(func.sum(LedgerEntry.amount_poisha) != 0)
    )
    return [r for r, _ in rows]
