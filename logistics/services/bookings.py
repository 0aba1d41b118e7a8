"""Booking requests: every field of a booking checked at once, each problem named by its field.

Used by the API, the counter and (later) bulk booking, so that every channel refuses the same
input with the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from logistics.documents import labels
from logistics.errors import ValidationError
from logistics.i18n import Num, _l
from logistics.models import PaymentMethod
from logistics.services import network
from logistics.services.tariff import Tariff, default_tariff
from logistics.text import ascii_digits, normalize_mobile

MAX_NAME = 120
MAX_ADDRESS = 400


@dataclass(frozen=True)
class Party:
    name: str
    phone: str
    address: str


@dataclass(frozen=True)
class BookingRequest:
    """A validated booking: every field already checked and normalized."""

    origin_office: str | None
    weight_g: int
    cod_amount_poisha: int
    declared_value_poisha: int
    dimensions_mm: tuple[int, int, int] | None
    sender: Party
    recipient: Party
    recipient_post_code: str
    payment_method: PaymentMethod | None
    merchant_reference: str | None
    recipient_area: str | None = None  # an area code (services.areas), checked against the office


def _int(
    raw: Any, field: str, errors: dict[str, str], *, what: str, lo: int, hi: int
) -> int | None:
    if raw is None or raw == "":
        errors[field] = _l("%(what)s is required.", what=what)
        return None
    if isinstance(raw, bool | float):
        errors[field] = _l("%(what)s must be a whole number.", what=what)
        return None
    try:
        value = int(ascii_digits(str(raw)).strip())
    except ValueError:
        errors[field] = _l("%(what)s must be a whole number.", what=what)
        return None
    if not lo <= value <= hi:
        errors[field] = _l(
            "%(what)s must be between %(lo)s and %(hi)s, not %(got)s.",
            what=what,
            lo=Num(lo),
            hi=Num(hi),
            got=Num(value),
        )
        return None
    return value


def _text(raw: Any, field: str, errors: dict[str, Any], *, what: Any, limit: int) -> str:
    if not isinstance(raw, str) or not raw.strip():
        errors[field] = _l("%(what)s is required.", what=what)
        return ""
    value = " ".join(raw.split())
    if len(value) > limit:
        errors[field] = _l(
            "%(what)s may be at most %(limit)s characters.", what=what, limit=Num(limit)
        )
    return value


# Field names as sentences, in the catalogs (so each language can say them its own way).
WHO: dict[str, dict[str, Any]] = {
    "sender": {
        "party": _l("The sender (name, phone, address) is required."),
        "name": _l("The sender's name"),
        "address": _l("The sender's address"),
        "phone": _l(
            "The sender's phone must be a Bangladesh mobile number such as 01712345678 "
            "or +8801712345678."
        ),
    },
    "recipient": {
        "party": _l("The recipient (name, phone, address) is required."),
        "name": _l("The recipient's name"),
        "address": _l("The recipient's address"),
        "phone": _l(
            "The recipient's phone must be a Bangladesh mobile number such as 01712345678 "
            "or +8801712345678."
        ),
    },
}


def _party(raw: Any, prefix: str, errors: dict[str, Any], who: str) -> Party:
    words = WHO[who]
    if not isinstance(raw, Mapping):
        errors[prefix] = words["party"]
        return Party("", "", "")
    name = _text(raw.get("name"), f"{prefix}.name", errors, what=words["name"], limit=MAX_NAME)
    address = _text(
        raw.get("address"),
        f"{prefix}.address",
        errors,
        what=words["address"],
        limit=MAX_ADDRESS,
    )
    if address and len(address) <= MAX_ADDRESS and not labels.address_fits(address, who):
        # Within the limit but of unusually wide letters: refuse rather than print it cut.
        errors[f"{prefix}.address"] = _l(
            "%(what)s is too long to print whole on the label; please shorten it.",
            what=words["address"],
        )
    phone_raw = raw.get("phone")
    phone = normalize_mobile(phone_raw) if isinstance(phone_raw, str) else None
    if phone is None:
        errors[f"{prefix}.phone"] = words["phone"]
    return Party(name, phone or "", address)


def parse_weight(raw: Any, errors: dict[str, str], tariff: Tariff | None = None) -> int | None:
    """A weight in grams within the tariff's limits; a problem is added to ``errors``."""
    tariff = tariff or default_tariff()
    return _int(
        raw, "weight_g", errors, what=_l("The weight in grams"), lo=1, hi=tariff.max_weight_g
    )


def parse_booking(body: Any, tariff: Tariff | None = None) -> BookingRequest:
    """Check every field of a booking body at once; ValidationError lists each wrong field."""
    tariff = tariff or default_tariff()
    if not isinstance(body, Mapping):
        raise ValidationError({"body": _l("The request body must be a JSON object.")})
    errors: dict[str, str] = {}
    origin = body.get("origin_office")
    if origin is not None and (not isinstance(origin, str) or not origin.strip()):
        errors["origin_office"] = _l("origin_office must be an office code such as GPO.")
    weight = parse_weight(body.get("weight_g"), errors, tariff)
    cod = _int(
        body.get("cod_amount_poisha", 0) or 0,
        "cod_amount_poisha",
        errors,
        what=_l("The cash-on-delivery amount in poisha"),
        lo=0,
        hi=10**12,
    )
    if cod is not None and cod > tariff.max_cod_poisha:
        try:
            tariff.cod_fee(cod)  # says the limit in taka, by the Value Payable rule
        except ValidationError as e:
            errors.update(e.errors)
        cod = None
    declared = _int(
        body.get("declared_value_poisha", 0) or 0,
        "declared_value_poisha",
        errors,
        what=_l("The declared value in poisha"),
        lo=0,
        hi=100_000_000,
    )
    dims: tuple[int, int, int] | None = None
    raw_dims = body.get("dimensions_mm")
    if raw_dims not in (None, "", []):
        if not isinstance(raw_dims, list | tuple) or len(raw_dims) != 3:
            errors["dimensions_mm"] = _l(
                "dimensions_mm must be three whole numbers [length, width, height]."
            )
        else:
            sides = [
                _int(v, "dimensions_mm", errors, what=_l("Each side in mm"), lo=1, hi=10_000)
                for v in raw_dims
            ]
            if all(s is not None for s in sides):
                dims = (int(sides[0] or 0), int(sides[1] or 0), int(sides[2] or 0))
                try:
                    tariff.check_dimensions(dims)
                except ValidationError as e:
                    errors.update(e.errors)
    sender = _party(body.get("sender"), "sender", errors, "sender")
    recipient = _party(body.get("recipient"), "recipient", errors, "recipient")
    rcp = body.get("recipient")
    post_code = ""
    area: str | None = None
    if isinstance(rcp, Mapping):
        try:
            post_code = network.parse_post_code(rcp.get("post_code"), "recipient.post_code")
        except ValidationError as e:
            errors.update(e.errors)
        raw_area = rcp.get("area")
        if raw_area not in (None, ""):
            if not isinstance(raw_area, str) or len(raw_area) > 16:
                errors["recipient.area"] = _l(
                    "recipient.area must be an area code from GET /api/v1/areas."
                )
            else:
                area = raw_area.strip().upper()
    method: PaymentMethod | None = None
    raw_method = body.get("payment_method")
    if raw_method not in (None, ""):
        try:
            method = PaymentMethod(raw_method)
        except ValueError:
            errors["payment_method"] = _l(
                "payment_method must be one of cash, airtime, merchant_account."
            )
    ref = body.get("merchant_reference")
    if ref is not None and (not isinstance(ref, str) or len(ref) > 64):
        errors["merchant_reference"] = _l(
            "merchant_reference must be text of at most 64 characters."
        )
    if errors:
        raise ValidationError(errors)
    return BookingRequest(
        origin_office=origin.strip().upper() if isinstance(origin, str) else None,
        weight_g=int(weight or 0),
        cod_amount_poisha=int(cod or 0),
        declared_value_poisha=int(declared or 0),
        dimensions_mm=dims,
        sender=sender,
        recipient=recipient,
        recipient_post_code=post_code,
        payment_method=method,
        merchant_reference=ref.strip() if isinstance(ref, str) and ref.strip() else None,
        recipient_area=area,
    )
