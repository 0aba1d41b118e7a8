"""Bangladesh mobile numbers: E.164 normalisation and operator detection by prefix,
overridable by a ported-numbers table (mobile number portability since 1 October 2018)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from billing.errors import InvalidMsisdn, UnknownOperator

_MOBILE = re.compile(r"^(?:\+?880|0)?(1\d{9})$")
_BN = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")

# Prefix (after the trunk 0) -> operator, as allocated by BTRC (shared/reference).
PREFIXES: dict[str, str] = {
    "013": "grameenphone",
    "017": "grameenphone",
    "014": "banglalink",
    "019": "banglalink",
    "016": "robi",
    "018": "robi",
    "015": "teletalk",
}


def normalize(raw: str) -> str:
    """'01712-345678', '8801712345678', '+8801712345678', Bangla digits -> '+8801712345678'."""
    s = re.sub(r"[\s\-()]", "", (raw or "").translate(_BN))
    m = _MOBILE.match(s)
    if not m:
        raise InvalidMsisdn(
            f"{raw!r} is not a Bangladesh mobile number (01XXXXXXXXX or +8801XXXXXXXXX)",
            field="msisdn",
        )
    national = "0" + m.group(1)
    if national[:3] not in PREFIXES:
        if national[:3] == "011":
            raise UnknownOperator(f"{raw!r}: 011 was Citycell, closed in 2016", field="msisdn")
        raise UnknownOperator(
            f"{raw!r}: no operator uses the prefix {national[:3]}", field="msisdn"
        )
    return "+880" + m.group(1)


def national(e164: str) -> str:
    """'+8801712345678' -> '01712345678'."""
    return "0" + e164.removeprefix("+880")


def operator_for(msisdn: str, ported: Mapping[str, str] | None = None) -> str:
    """The serving operator: the ported-numbers table first, else the prefix."""
    e164 = normalize(msisdn)
    if ported and e164 in ported:
        return ported[e164]
    return PREFIXES[national(e164)[:3]]
