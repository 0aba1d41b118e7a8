"""Spending caps on airtime per number: per transaction, day, month and year, per operator.
Defaults are Bangladesh Bank's caps for buying with airtime (notice of 3 Feb 2026):
Tk 2,000 a month and Tk 20,000 a year."""

from __future__ import annotations

from dataclasses import dataclass

from billing.errors import BillingError
from billing.money import Money


class CapExceeded(BillingError):
    code = "cap_exceeded"

    def __init__(self, message: str, cap: str, limit: Money, left: Money) -> None:
        super().__init__(message, field="amount")
        self.cap = cap  # per-transaction | daily | monthly | yearly
        self.limit = limit
        self.left = left


@dataclass(frozen=True)
class Caps:
    per_transaction: Money = Money(200_000)
    daily: Money = Money(200_000)
    monthly: Money = Money(200_000)
    yearly: Money = Money(2_000_000)


@dataclass(frozen=True)
class Spent:
    """What the number already paid by airtime (succeeded and still-open charges)."""

    today: Money
    month: Money
    year: Money


def check(amount: Money, spent: Spent, caps: Caps) -> None:
    """Raise CapExceeded naming the first cap that ``amount`` would break."""
    if not amount.is_positive():
        raise BillingError(
            "the amount must be more than zero", field="amount", code="invalid_amount"
        )
    for name, limit, used in (
        ("per-transaction", caps.per_transaction, Money(0)),
        ("daily", caps.daily, spent.today),
        ("monthly", caps.monthly, spent.month),
        ("yearly", caps.yearly, spent.year),
    ):
        if used.poisha + amount.poisha > limit.poisha:
            left = Money(max(0, limit.poisha - used.poisha))
            raise CapExceeded(
                f"{amount} is over the {name} airtime cap of {limit} for this number ({left} left)",
                name,
                limit,
                left,
            )
