"""Double-entry postings for airtime payments: debits positive, credits negative, and every
transaction sums to zero (checked here, before anything is stored)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from billing.errors import BillingError
from billing.money import Money


@dataclass(frozen=True)
class Posting:
    account: str
    amount: Money  # debit > 0, credit < 0


@dataclass(frozen=True)
class FeeTerms:
    """What the operator keeps of a charge (basis points), and the VAT inside that share."""

    revenue_share_bp: int = 1500  # assumption: operators' DCB share is not public; configurable
    vat_bp: int = 1500  # VAT 15 % (NBR), charged by the operator on its share


class Unbalanced(BillingError):
    code = "ledger_unbalanced"


def assert_balanced(postings: Sequence[Posting]) -> None:
    total = sum(p.amount.poisha for p in postings)
    if total != 0:
        raise Unbalanced(f"postings sum to {total} poisha, not zero: {postings}")


def charge_postings(
    operator: str, parts: Sequence[tuple[str, Money]], terms: FeeTerms
) -> list[Posting]:
    """A successful charge. ``parts`` are the credits (e.g. postage revenue, or merchant payable
    and COD fee revenue); the operator owes us the total less its share, and its share is an
    expense whose VAT we can claim."""
    total = sum((m for _, m in parts), Money(0))
    share = total.percent(terms.revenue_share_bp)
    vat = share.percent(round(10_000 * terms.vat_bp / (10_000 + terms.vat_bp)))
    postings = [
        Posting(f"operator_receivable:{operator}", total - share),
        Posting(f"operator_fees:{operator}", share - vat),
        Posting("vat_input", vat),
        *[Posting(account, -amount) for account, amount in parts],
    ]
    postings = [p for p in postings if p.amount.poisha != 0]
    assert_balanced(postings)
    return postings


def refund_postings(operator: str, original: Sequence[Posting], amount: Money) -> list[Posting]:
    """Give back ``amount`` of a charge: the original credits are debited in proportion, and
    the operator pays it out of what it owes us."""
    credits = [p for p in original if p.amount.poisha < 0]
    total = -sum(p.amount.poisha for p in credits)
    if not 0 < amount.poisha <= total:
        raise BillingError(f"refund of {amount} is not within the charge of {Money(total)}")
    shares = amount.allocate([-p.amount.poisha for p in credits])
    postings = [Posting(p.account, s) for p, s in zip(credits, shares, strict=True) if s.poisha]
    postings.append(Posting(f"operator_receivable:{operator}", -amount))
    assert_balanced(postings)
    return postings
