"""UPU S10 ids: the check digit matches the published examples, and every bad id is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistics import s10
from logistics.errors import ValidationError


@pytest.mark.parametrize(
    ("serial", "digit"),
    [(47312482, 9), (28704377, 5), (12345678, 5), (20161201, 3), (0, 5)],
)
def test_check_digit_matches_the_reference_examples(serial: int, digit: int) -> None:
    assert s10.check_digit(serial) == digit


def test_make_id_builds_the_documented_example() -> None:
    assert s10.make_id("CP", 12345678) == "CP123456785BD"
    assert s10.validate("RR287043775IN") == "RR287043775IN"


def test_validate_normalizes_spaces_and_case() -> None:
    assert s10.validate(" cp 1234 5678 5 bd ") == "CP123456785BD"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "required"),
        ("CP12345678BD", "expected 2 letters"),
        ("C1123456785BD", "expected"),
        ("CP123456784BD", "wrong check digit"),
        ("CP1234567850BD", "expected"),
    ],
)
def test_validate_refuses_bad_ids_with_a_message(raw: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as e:
        s10.validate(raw)
    assert fragment in e.value.errors["tracking_id"]


def test_serial_out_of_range_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        s10.check_digit(100_000_000)


@given(st.integers(0, 99_999_999), st.integers(0, 7), st.integers(1, 9))
def test_any_single_digit_change_is_caught(serial: int, pos: int, delta: int) -> None:
    good = s10.make_id("CP", serial)
    assert s10.is_valid(good)
    digits = list(f"{serial:08d}")
    digits[pos] = str((int(digits[pos]) + delta) % 10)
    changed = int("".join(digits))
    # mod-11 with these weights detects every single substitution unless the check digit
    # folds (10 -> 0, 11 -> 5) onto the same value
    if s10.check_digit(changed) != s10.check_digit(serial):
        assert not s10.is_valid(f"CP{changed:08d}{good[10]}BD")
