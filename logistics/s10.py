"""UPU S10 item identifiers (e.g. CP123456785BD): check digit, formatting and validation."""

from __future__ import annotations

import re

from logistics.errors import ValidationError
from logistics.i18n import _l

COUNTRY = "BD"
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_SHAPE = re.compile(r"^[A-Z]{2}\d{9}[A-Z]{2}$")


def check_digit(serial: int) -> int:
    """The S10 mod-11 check digit of an eight-digit serial (weights 8 6 4 2 3 5 9 7)."""
    if not 0 <= serial <= 99_999_999:
        raise ValueError(f"S10 serial must have 8 digits, got {serial}")
    digits = f"{serial:08d}"
    c = 11 - sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(c, c)


def make_id(service_indicator: str, serial: int, country: str = COUNTRY) -> str:
    if not re.fullmatch(r"[A-Z]{2}", service_indicator):
        raise ValueError(f"service indicator must be two capital letters: {service_indicator!r}")
    return f"{service_indicator}{serial:08d}{check_digit(serial)}{country}"


def normalize(raw: str) -> str:
    """Upper-case and drop the spaces a person or a scanner may add (``CP 1234 5678 5 BD``)."""
    return re.sub(r"[\s-]", "", raw or "").upper()


def validate(raw: str, field: str = "tracking_id") -> str:
    """Return the normalized id, or raise ValidationError saying exactly what is wrong."""
    tid = normalize(raw)
    if not tid:
        raise ValidationError({field: _l("A tracking number is required.")})
    if not _SHAPE.match(tid):
        raise ValidationError(
            {
                field: _l(
                    "%(got)s is not a tracking number: expected 2 letters, 9 digits, 2 letters "
                    "(such as CP123456785BD).",
                    got=raw,
                )
            }
        )
    serial, given = int(tid[2:10]), int(tid[10])
    expected = check_digit(serial)
    if given != expected:
        raise ValidationError(
            {field: _l("%(id)s has a wrong check digit; please type or scan it again.", id=tid)}
        )
    return tid


def is_valid(raw: str) -> bool:
    try:
        validate(raw)
    except ValidationError:
        return False
    return True
