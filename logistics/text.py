"""Bilingual text helpers: Bangla digits, taka amounts, Bangladesh mobile numbers."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

DHAKA = ZoneInfo("Asia/Dhaka")
_BN_DIGITS = "০১২৩৪৫৬৭৮৯"
_TO_ASCII = str.maketrans(_BN_DIGITS, "0123456789")
_TO_BN = str.maketrans("0123456789", _BN_DIGITS)
_MOBILE = re.compile(r"^(?:\+?880|0)?(1[3-9]\d{8})$")
# The database's INTEGER is 32 bits on PostgreSQL: no id, count or poisha amount a person types
# may pass it, or the query fails instead of the input being refused.
MAX_INT = 2**31 - 1
# The days a page, a filter or a statement can be about: the day before and the day after each
# exist (date.min and date.max have none), and a typo such as 0202 is refused, not searched.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def ascii_digits(s: str) -> str:
    """Bangla digits typed by a clerk (১২০০) become ASCII (1200)."""
    return s.translate(_TO_ASCII)


def is_digits(s: str) -> bool:
    """Only the digits 0-9, at least one. Not ``str.isdigit`` alone, which also passes '²' (a
    digit that ``int`` refuses) and other scripts' digits."""
    return s.isascii() and s.isdigit()


def whole_number(raw: object, hi: int = MAX_INT) -> int | None:
    """A whole number from 0 to ``hi`` typed in ASCII or Bangla digits, else None."""
    text = ascii_digits(str(raw)).strip()
    if len(text) > 12 or not is_digits(text):
        return None
    value = int(text)
    return value if value <= hi else None


def row_id(raw: object) -> int | None:
    """The id of a row named by a form or a path (1 to MAX_INT), else None."""
    value = whole_number(raw)
    return value if value else None


def parse_day(raw: str) -> date:
    """A day written YYYY-MM-DD from FIRST_DAY to LAST_DAY; ValueError otherwise."""
    day = date.fromisoformat(raw)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{raw} is not between {FIRST_DAY} and {LAST_DAY}")
    return day


def bangla_digits(s: str) -> str:
    return s.translate(_TO_BN)


def normalize_mobile(raw: str) -> str | None:
    """A Bangladesh mobile number in E.164 (+8801XXXXXXXXX), or None if it is not one.

    Accepts 01XXXXXXXXX, 8801XXXXXXXXX and +8801XXXXXXXXX, with spaces or dashes, in
    Bangla or ASCII digits. Operator digits 3-9 only (011 was Citycell, closed in 2016).
    """
    s = re.sub(r"[\s\-()]", "", ascii_digits(raw or ""))
    m = _MOBILE.match(s)
    return f"+880{m.group(1)}" if m else None


def national_mobile(e164: str) -> str:
    """+8801712345678 -> 01712-345678, the way numbers are written on forms."""
    n = "0" + e164.removeprefix("+880")
    return f"{n[:5]}-{n[5:]}"


def taka(poisha: int) -> str:
    """1250 -> 'Tk 12.50'. Integer arithmetic only."""
    sign = "-" if poisha < 0 else ""
    p = abs(poisha)
    return f"{sign}Tk {p // 100:,}.{p % 100:02d}"


def taka_bn(poisha: int) -> str:
    """1250 -> '৳১২.৫০'."""
    sign = "-" if poisha < 0 else ""
    p = abs(poisha)
    return sign + "৳" + bangla_digits(f"{p // 100:,}.{p % 100:02d}")


def local_time(dt: datetime) -> datetime:
    return dt.astimezone(DHAKA)


def parse_taka(raw: str | int | None, field: str) -> int:
    """'12.50' / '১২.৫০' / 12 -> poisha. Raises ValueError with a human message."""
    if raw is None or raw == "":
        return 0
    if isinstance(raw, bool):
        raise ValueError("must be an amount in taka")
    if isinstance(raw, int):
        return raw * 100
    s = ascii_digits(str(raw)).strip().replace(",", "")
    m = re.fullmatch(r"([0-9]{1,9})(?:\.([0-9]{1,2}))?", s)
    if not m:
        raise ValueError("must be an amount in taka such as 450 or 450.50")
    poisha = int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))
    if poisha > MAX_INT:
        raise ValueError("must be at most Tk 21,474,836.47")
    return poisha
