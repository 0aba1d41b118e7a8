"""Money stays integer poisha; Bangladesh numbers normalise and map to their operator."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.errors import InvalidAmount, InvalidMsisdn, UnknownOperator
from billing.money import Money
from billing.msisdn import normalize, operator_for


def test_taka_parsing_and_formatting() -> None:
    assert Money.taka("12.5") == Money(1250) and Money.taka(7) == Money(700)
    assert Money.taka(Decimal("0.01")).poisha == 1
    assert str(Money(46650)) == "Tk 466.50" and Money(-5).decimal_str() == "-0.05"
    for bad in ("1.234", "abc", "", "1e3"):
        with pytest.raises(InvalidAmount):
            Money.taka(bad)
    with pytest.raises(InvalidAmount):
        Money.taka(1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        Money(1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        Money(1) + Money(1, "USD")


@given(
    st.integers(-(10**9), 10**9), st.lists(st.integers(0, 1000), min_size=1, max_size=6).filter(any)
)
def test_allocation_always_adds_up(poisha: int, ratios: list[int]) -> None:
    parts = Money(poisha).allocate(ratios)
    assert sum(p.poisha for p in parts) == poisha
    assert all(
        abs(p.poisha - poisha * r / sum(ratios)) < 1 + 1e-9
        for p, r in zip(parts, ratios, strict=True)
    )


@given(st.integers(0, 10**9), st.integers(0, 10_000))
def test_percent_rounds_half_up(poisha: int, bp: int) -> None:
    exact = Decimal(poisha) * bp / 10_000
    assert abs(Decimal(Money(poisha).percent(bp).poisha) - exact) <= Decimal("0.5")


@pytest.mark.parametrize(
    ("raw", "e164", "op"),
    [
        ("01712345678", "+8801712345678", "grameenphone"),
        ("8801312345678", "+8801312345678", "grameenphone"),
        ("+8801912345678", "+8801912345678", "banglalink"),
        ("০১৪১২৩৪৫৬৭৮", "+8801412345678", "banglalink"),
        ("018-1234-5678", "+8801812345678", "robi"),
        ("01612345678", "+8801612345678", "robi"),
        ("01512345678", "+8801512345678", "teletalk"),
    ],
)
def test_prefixes(raw: str, e164: str, op: str) -> None:
    assert normalize(raw) == e164 and operator_for(raw) == op


def test_ported_numbers_override_the_prefix() -> None:
    assert operator_for("01712345678", {"+8801712345678": "robi"}) == "robi"


@pytest.mark.parametrize(
    ("raw", "err"),
    [
        ("12345", InvalidMsisdn),
        ("01112345678", UnknownOperator),
        ("01212345678", UnknownOperator),
        ("", InvalidMsisdn),
    ],
)
def test_bad_numbers(raw: str, err: type[Exception]) -> None:
    with pytest.raises(err):
        normalize(raw)
