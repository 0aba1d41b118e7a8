"""Money in integer poisha (100 poisha = 1 taka). Never a float."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing.errors import InvalidAmount

_DECIMAL = re.compile(r"^(-?)(\d+)(?:\.(\d{1,2}))?$")


@dataclass(frozen=True, order=True)
class Money:
    """An amount of BDT in poisha. Arithmetic stays in integers; currencies must match."""

    poisha: int
    currency: str = "BDT"

    def __post_init__(self) -> None:
        if isinstance(self.poisha, bool) or not isinstance(self.poisha, int):
            raise InvalidAmount(f"money is an integer number of poisha, got {self.poisha!r}")

    @classmethod
    def taka(cls, amount: str | int | Decimal) -> Money:
        """'12.50' / 12 / Decimal('12.5') -> 1250 poisha; more than 2 decimals is refused."""
        if isinstance(amount, (bool, float)):
            raise InvalidAmount(f"use a string or Decimal for taka, not {type(amount).__name__}")
        if isinstance(amount, int):
            return cls(amount * 100)
        m = _DECIMAL.match(str(amount).strip())
        if not m:
            raise InvalidAmount(f"{amount!r} is not an amount in taka (at most 2 decimals)")
        sign = -1 if m.group(1) else 1
        return cls(sign * (int(m.group(2)) * 100 + int((m.group(3) or "0").ljust(2, "0"))))

    def to_decimal(self) -> Decimal:
        return Decimal(self.poisha).scaleb(-2)

    def decimal_str(self) -> str:
        """'12.50' (the form operators that speak taka expect)."""
        sign = "-" if self.poisha < 0 else ""
        p = abs(self.poisha)
        return f"{sign}{p // 100}.{p % 100:02d}"

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise InvalidAmount(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.poisha + other.poisha, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.poisha - other.poisha, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.poisha, self.currency)

    def __str__(self) -> str:
        return f"Tk {self.decimal_str()}"

    def is_positive(self) -> bool:
        return self.poisha > 0

    def allocate(self, ratios: Sequence[int]) -> list[Money]:
        """Split by integer ratios; remainders go to the first parts (largest remainder), so
        the parts always add up to the whole."""
        if not ratios or any(r < 0 for r in ratios) or sum(ratios) == 0:
            raise InvalidAmount("ratios must be non-negative and not all zero")
        total = sum(ratios)
        shares = [self.poisha * r // total for r in ratios]
        rest = self.poisha - sum(shares)
        order = sorted(range(len(ratios)), key=lambda i: -(self.poisha * ratios[i] % total))
        for i in order[: abs(rest)]:
            shares[i] += 1 if rest > 0 else -1
        return [Money(s, self.currency) for s in shares]

    def percent(self, basis_points: int) -> Money:
        """This amount x basis_points / 10000, rounded half up to the poisha."""
        return Money((self.poisha * basis_points * 2 + 10_000) // 20_000, self.currency)


ZERO = Money(0)
