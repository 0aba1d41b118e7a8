"""What the post office tells a customer by SMS, one message per event, in Bangla and English.

Each message is a catalog string (translated like every other) with a budget in segments per
language: Bangla goes as UCS-2 (70 characters, 67 a segment when concatenated), English as GSM-7
(160 / 153), counted by ``messaging.segments``. A message is measured with the longest values
its placeholders can take (names are cut to ``NAME_MAX`` characters when sent), so a message
within its budget here is within it for every parcel; ``over_budget`` lists those that are not,
and a test fails on any. Rendering needs the app (the catalogs): call it inside an app context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from logistics.i18n import Clock, Money, _l, in_language
from logistics.text import DHAKA
from logistics.vocabulary import DELIVERY_FAILURES, RETURN_REASONS
from messaging import segments

NAME_MAX = 24  # a merchant's or an office's name is cut to this many characters in an SMS
LINK_BASE_MAX = 24  # the longest public URL the app accepts (DAKGHOR_PUBLIC_URL)
TRACK_LINK_MAX = LINK_BASE_MAX + 3 + 13  # base + "/t/" + a tracking id
PAY_LINK_MAX = LINK_BASE_MAX + 3 + 32  # base + "/p/" + a payment link's token


@dataclass(frozen=True)
class Template:
    text: Callable[..., Any]  # values -> the lazy catalog string with them
    budget: dict[str, int]  # language -> segments at most
    longest: dict[str, Any] | None = None  # this message's own longest values, if they differ


_DAY = datetime(2026, 12, 30, 18, 45, tzinfo=DHAKA)


class _LongestOf:
    """The longest of some lazy texts in the language being written (each language's longest
    may be a different one)."""

    def __init__(self, texts: Any) -> None:
        self.texts = list(texts)

    def __str__(self) -> str:
        return max((str(t) for t in self.texts), key=len)


# The longest value each placeholder takes: what the budgets are measured with.
LONGEST: dict[str, Any] = {
    "id": "CP123456785BD",
    "merchant": "M" * NAME_MAX,
    "office": "O" * NAME_MAX,
    "link": "https://" + "x" * (TRACK_LINK_MAX - 8),
    "start": Clock(_DAY),
    "end": Clock(_DAY),
    "code": "888888",
    "last_day": Clock(_DAY),
    "amount": Money(10_000_000),  # Tk 100,000.00
    "receipt": "DK-8888-8888",
    "minutes": "30",
    "reason": _LongestOf(DELIVERY_FAILURES.values()),
    "return_reason": _LongestOf(RETURN_REASONS.values()),
}

TEMPLATES: dict[str, Template] = {
    "booked": Template(
        lambda **v: _l("%(merchant)s sent you parcel %(id)s by post. Track it: %(link)s", **v),
        {"bn": 2, "en": 1},
    ),
    "accepted": Template(
        lambda **v: _l(
            "Parcel %(id)s was accepted at %(office)s post office. Track: %(link)s", **v
        ),
        {"bn": 2, "en": 1},
    ),
    "dispatched": Template(
        lambda **v: _l("Parcel %(id)s is on its way to %(office)s post office.", **v),
        {"bn": 1, "en": 1},
    ),
    "arrived": Template(
        lambda **v: _l(
            "Parcel %(id)s has reached %(office)s post office and will be delivered soon.", **v
        ),
        {"bn": 2, "en": 1},
    ),
    "out_for_delivery": Template(
        lambda **v: _l(
            "Parcel %(id)s is out for delivery today between %(start)s and %(end)s.", **v
        ),
        {"bn": 1, "en": 1},
    ),
    "held": Template(
        lambda **v: _l(
            "Parcel %(id)s is waiting at %(office)s post office until %(last_day)s. "
            "Collection code: %(code)s",
            **v,
        ),
        {"bn": 2, "en": 1},
    ),
    "delivered": Template(
        lambda **v: _l("Parcel %(id)s was delivered. Thank you for using the post office.", **v),
        {"bn": 1, "en": 1},
    ),
    "failed": Template(
        lambda **v: _l(
            "Parcel %(id)s not delivered today: %(reason)s. We will try again, or collect it at "
            "%(office)s post office.",
            **v,
        ),
        {"bn": 2, "en": 1},
    ),
    "returning": Template(
        lambda **v: _l(
            "Parcel %(id)s is coming back to you at %(office)s post office: %(return_reason)s.",
            **v,
        ),
        {"bn": 2, "en": 1},
    ),
    "returned": Template(
        lambda **v: _l("Parcel %(id)s is back at %(office)s post office; collect it there.", **v),
        {"bn": 2, "en": 1},
    ),
    "payment_link": Template(
        lambda **v: _l(
            "Pay %(amount)s for parcel %(id)s from your airtime within %(minutes)s minutes: %(link)s",
            **v,
        ),
        {"bn": 2, "en": 1},
        {"link": "https://" + "x" * (PAY_LINK_MAX - 8)},
    ),
    "receipt": Template(
        lambda **v: _l(
            "Received %(amount)s for parcel %(id)s from your airtime. Receipt %(receipt)s.", **v
        ),
        {"bn": 2, "en": 1},
    ),
    "refund": Template(
        lambda **v: _l("%(amount)s for parcel %(id)s has been refunded to your airtime.", **v),
        {"bn": 1, "en": 1},
    ),
    "code": Template(
        lambda **v: _l(
            "DakGhor code %(code)s for parcel %(id)s, valid %(minutes)s minutes. Do not share it.",
            **v,
        ),
        {"bn": 1, "en": 1},
    ),
    "handover": Template(
        lambda **v: _l(
            "When parcel %(id)s reaches you, give the postman the code %(code)s. Do not share "
            "it before.",
            **v,
        ),
        {"bn": 2, "en": 1},
    ),
    "registration_code": Template(
        lambda **v: _l(
            "DakGhor registration code %(code)s, valid %(minutes)s minutes. Do not share it.",
            **v,
        ),
        {"bn": 1, "en": 1},
    ),
    "stopped": Template(
        lambda **v: _l(
            "You will get no more parcel messages from the post office. Send START to get them again.",
            **v,
        ),
        {"bn": 2, "en": 1},
    ),
    "started": Template(
        lambda **v: _l(
            "You will get parcel messages from the post office again. Send STOP to stop.", **v
        ),
        {"bn": 2, "en": 1},
    ),
}


# What each event is called on the admin's page.
EVENT_NAMES: dict[str, Any] = {
    "booked": _l("Booked by a merchant"),
    "accepted": _l("Accepted at the counter"),
    "dispatched": _l("Dispatched"),
    "arrived": _l("Arrived at the delivery office"),
    "out_for_delivery": _l("Out for delivery"),
    "held": _l("Held for collection"),
    "delivered": _l("Delivered"),
    "failed": _l("Delivery failed"),
    "returning": _l("Coming back to the sender"),
    "returned": _l("Back with the sender's office"),
    "payment_link": _l("Payment link"),
    "receipt": _l("Payment receipt"),
    "refund": _l("Refund"),
    "code": _l("Code for the tracking page"),
    "registration_code": _l("Registration code"),
    "handover": _l("Handover code"),
    "chat_reply": _l("Chat reply"),
    "stopped": _l("Answer to STOP"),
    "started": _l("Answer to START"),
}


def render(event: str, lang: str, **values: Any) -> str:
    """The message for ``event`` in ``lang`` (names cut to NAME_MAX characters)."""
    for key in ("merchant", "office"):
        if isinstance(values.get(key), str):
            values[key] = values[key][:NAME_MAX]
    return in_language(lang, TEMPLATES[event].text(**values))


@dataclass(frozen=True)
class Measured:
    event: str
    lang: str
    text: str  # with the longest values
    segments: segments.Segments
    budget: int

    @property
    def within(self) -> bool:
        return self.segments.count <= self.budget


def measure(templates: dict[str, Template] | None = None) -> list[Measured]:
    """Every message in both languages with the longest values, against its budget."""
    out = []
    for event, t in (templates or TEMPLATES).items():
        for lang, budget in t.budget.items():
            text = in_language(lang, t.text(**{**LONGEST, **(t.longest or {})}))
            out.append(Measured(event, lang, text, segments.count(text), budget))
    return out


def over_budget(templates: dict[str, Template] | None = None) -> list[Measured]:
    return [m for m in measure(templates) if not m.within]
