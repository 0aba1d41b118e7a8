"""Bangladesh mobile numbers, Bangla digits and taka amounts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistics.text import normalize_mobile, parse_taka, taka, taka_bn


@pytest.mark.parametrize(
    "raw",
    ["01712345678", "+8801712345678", "8801712345678", "017-1234 5678", "০১৭১২৩৪৫৬৭৮"],
)
def test_mobile_forms_normalize_to_e164(raw: str) -> None:
    assert normalize_mobile(raw) == "+8801712345678"


@pytest.mark.parametrize(
    "raw",
    ["", "0171234567", "011234567890", "01212345678", "+8811712345678", "hello", "01112345678"],
)
def test_non_mobile_numbers_are_refused(raw: str) -> None:
    assert normalize_mobile(raw) is None


def test_taka_formatting_is_exact() -> None:
    assert taka(46650) == "Tk 466.50"
    assert taka(123456789) == "Tk 1,234,567.89"
    assert taka_bn(1150) == "৳১১.৫০"


@pytest.mark.parametrize(
    ("raw", "poisha"),
    [("450", 45000), ("450.5", 45050), ("১২.৫০", 1250), ("1,000", 100000), ("", 0), (12, 1200)],
)
def test_parse_taka(raw: str | int, poisha: int) -> None:
    assert parse_taka(raw, "x") == poisha


@pytest.mark.parametrize("raw", ["12.345", "-5", "abc", "1e3"])
def test_parse_taka_refuses_what_is_not_an_amount(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_taka(raw, "x")


@given(st.integers(0, 10**9))
def test_taka_round_trips_through_parse(poisha: int) -> None:
    assert parse_taka(taka(poisha).removeprefix("Tk "), "x") == poisha
