"""Bangladesh mobile numbers, Bangla digits and taka amounts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistics.text import (
    normalize_mobile,
    parse_day,
    parse_taka,
    row_id,
    taka,
    taka_bn,
    whole_number,
)


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


@pytest.mark.parametrize(
    ("raw", "want"),
    [("12", 12), ("১২", 12), (" 7 ", 7), ("0", 0), ("²", None), ("١٢", None), ("-1", None),
     ("1.5", None), ("", None), ("2147483647", 2**31 - 1), ("2147483648", None),
     ("99999999999999999999", None)],
)  # fmt: skip
def test_a_whole_number_is_ascii_or_bangla_digits_within_the_database_integer(
    raw: str, want: int | None
) -> None:
    assert whole_number(raw) == want
    assert row_id(raw) == (want or None)


@pytest.mark.parametrize("raw", ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01", "x"])
def test_a_day_outside_2000_to_2099_is_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_day(raw)


def test_an_amount_past_the_database_integer_is_refused() -> None:
    assert parse_taka("21474836.47", "x") == 2**31 - 1
    with pytest.raises(ValueError):
        parse_taka("21474836.48", "x")
    with pytest.raises(ValueError):
        parse_taka("²", "x")
