"""Parcel labels as PDF: 100x150 mm thermal, or A4 with four labels per sheet.

The barcode is Code128 of the tracking id, encoded by python-barcode and drawn as vector bars.
Every word is printed in Bangla and English from the catalogs; addresses wrap and shrink to
their room, and intake refuses one the label could not print whole (``address_fits``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import barcode
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from logistics.documents import fonts
from logistics.documents.bilingual import Words
from logistics.documents.fonts import BOLD, REGULAR
from logistics.i18n import _l
from logistics.text import local_time, national_mobile, taka, taka_bn

LABEL_W = 100 * mm
LABEL_H = 150 * mm
QUIET_MODULES = 10


@dataclass(frozen=True)
class Address:
    name: str
    phone: str
    address: str
    post_code: str = ""


@dataclass(frozen=True)
class OfficeRef:
    code: str
    name_en: str
    name_bn: str
    post_code: str = ""


@dataclass(frozen=True)
class LabelData:
    tracking_id: str
    service: str
    booked_at: datetime
    sender: Address
    recipient: Address
    origin: OfficeRef
    destination: OfficeRef
    weight_g: int
    postage_poisha: int
    cod_to_collect_poisha: int  # what the addressee pays at the door (0 once it is paid)
    postage: str = "paid"  # paid | on_account (the merchant's) | unpaid (the sender owes it)
    cod_paid: bool = False  # the COD was paid in advance (by airtime): nothing to collect


def code128_modules(data: str) -> str:
    """The bar/space pattern ('1' = bar) of ``data`` in Code128, start, check and stop included."""
    return str(barcode.Code128(data).build()[0])


def draw_barcode(c: Canvas, x: float, y: float, w: float, h: float, data: str) -> None:
    """The bars as one filled path (one PDF operator per bar, no Python drawing calls)."""
    modules = code128_modules(data)
    module_w = w / (len(modules) + 2 * QUIET_MODULES)
    ops = [
        f"{x + (QUIET_MODULES + bar.start()) * module_w:.3f} {y:.3f} "
        f"{(bar.end() - bar.start()) * module_w:.3f} {h:.3f} re"
        for bar in _BARS.finditer(modules)
    ]
    c.setFillColorRGB(0, 0, 0)
    c.addLiteral("\n".join(ops) + "\nf")


_BARS = re.compile("1+")


def _spaced_id(tid: str) -> str:
    return f"{tid[:2]} {tid[2:6]} {tid[6:10]} {tid[10]} {tid[11:]}"


# The label's own words, from the catalogs; a label is printed in both languages (Bangla for
# the delivery staff, English for anyone else handling it), whatever the clerk's language.
WORDS = {
    "brand": _l("DakGhor"),
    "post": _l("Bangladesh Post"),
    "parcel": _l("e-Commerce parcel"),
    "office": _l("Delivery office"),
    "post_code": _l("Post code"),
    "to": _l("Recipient"),
    "from": _l("Sender"),
    "weight": _l("Weight"),
    "kg": _l("kg"),
    "paid": _l("Paid"),
    "on_account": _l("On the merchant's account"),
    "unpaid": _l("The sender pays"),
    "collect": _l("Collect COD"),
    "cod_paid": _l("COD paid: collect nothing"),
    "no_cod": _l("No cash on delivery"),
    "intake": _l("Intake office"),
}


TEXT = Words(WORDS)
words = TEXT.pairs
both = TEXT.both


# Vertical layout, in points from the label's edges.
M = 4 * mm  # margin
INNER = LABEL_W - 2 * M
BOTTOM = 5 * mm + 50  # the weight, postage and COD block sits above this line and the origin
RECIPIENT_SIZES = (10.0, 7.0)  # the recipient's address shrinks from 10 pt down to 7 pt
SENDER_SIZES = (8.0, 6.0)
SENDER_ROOM = 5 * 6.0 * fonts.LEADING  # the sender's address: five lines at its smallest
BAR_H = 20 * mm


def _address_top() -> float:
    """Where the recipient's address starts: under the header, office, barcode and name."""
    return float(LABEL_H - M - 29 - 60 - (3 * mm + BAR_H + 19) - 29)


# Below the recipient's address: its phone (18), the sender's heading and name (24) and the
# line after the sender's address (3).
ADDRESS_ROOM = _address_top() - 18 - 24 - 3 - BOTTOM


def sender_block(address: str) -> fonts.Block:
    return fonts.fit_block(address, REGULAR, *SENDER_SIZES, INNER, SENDER_ROOM)


def recipient_block(address: str, room: float = ADDRESS_ROOM - SENDER_ROOM) -> fonts.Block:
    return fonts.fit_block(address, REGULAR, *RECIPIENT_SIZES, INNER, room)


@lru_cache(maxsize=16384)
def address_fits(address: str, who: str) -> bool:
    """Whether the label prints this address whole (``who`` is 'sender' or 'recipient').
    The recipient may use what a short sender's address leaves; this checks the room it
    always has. Remembered (the text is shaped with HarfBuzz): a bulk upload's sender is the
    same on every row, and each row is checked, then booked."""
    block = sender_block(address) if who == "sender" else recipient_block(address)
    return block.fits


def draw_label(c: Canvas, label: LabelData) -> None:
    """Draw one label with its lower-left corner at the origin, LABEL_W x LABEL_H."""
    m, inner = M, INNER
    c.setLineWidth(0.8)
    c.rect(1 * mm, 1 * mm, LABEL_W - 2 * mm, LABEL_H - 2 * mm)

    # Header: service and date.
    top = LABEL_H - m
    fonts.draw(c, m, top - 12, both("brand", " · "), BOLD, 12)
    fonts.draw(c, LABEL_W - m, top - 12, both("post", " · "), REGULAR, 8, align="right")
    date = local_time(label.booked_at).strftime("%d-%m-%Y %H:%M")
    fonts.draw(c, m, top - 24, f"{both('parcel')} ({label.service})", REGULAR, 8)
    fonts.draw(c, LABEL_W - m, top - 24, date, REGULAR, 8, align="right")
    y = top - 29
    c.line(m, y, LABEL_W - m, y)

    # Destination office code, big enough to sort by from arm's length.
    code_size = fonts.fit_size(label.destination.code, BOLD, 54, inner * 0.45)
    fonts.draw(c, m, y - 48, label.destination.code, BOLD, code_size)
    dx = m + inner * 0.5
    fonts.draw(c, dx, y - 16, both("office"), REGULAR, 7)
    bn = label.destination.name_bn
    fonts.draw(c, dx, y - 30, bn, BOLD, fonts.fit_size(bn, BOLD, 12, inner * 0.5))
    en = label.destination.name_en
    fonts.draw(c, dx, y - 43, en, REGULAR, fonts.fit_size(en, REGULAR, 9, inner * 0.5))
    fonts.draw(c, dx, y - 54, f"{both('post_code')} {label.destination.post_code}", REGULAR, 8)
    y -= 60
    c.line(m, y, LABEL_W - m, y)

    # Barcode and the human-readable id.
    draw_barcode(c, m, y - 3 * mm - BAR_H, inner, BAR_H, label.tracking_id)
    id_y = y - 3 * mm - BAR_H - 13
    fonts.draw(c, LABEL_W / 2, id_y, _spaced_id(label.tracking_id), BOLD, 12, align="center")
    y = y - 3 * mm - BAR_H - 19
    c.line(m, y, LABEL_W - m, y)

    # Recipient, the largest block after the office code; the address takes the room the
    # sender's address leaves, shrinking rather than cutting.
    fonts.draw(c, m, y - 11, both("to", upper=True), BOLD, 9)
    name = label.recipient.name
    fonts.draw(c, m, y - 25, name, BOLD, fonts.fit_size(name, BOLD, 13, inner))
    sender = sender_block(label.sender.address)
    recipient = recipient_block(label.recipient.address, ADDRESS_ROOM - sender.height)
    yy = fonts.draw_block(c, m, y - 29, recipient, REGULAR)
    phone = f"{national_mobile(label.recipient.phone)}   ·   {label.recipient.post_code}"
    fonts.draw(c, m, yy - 11, phone, BOLD, 10)
    y = yy - 18
    c.line(m, y, LABEL_W - m, y)

    # Sender.
    fonts.draw(c, m, y - 10, both("from", upper=True), BOLD, 8)
    who = f"{label.sender.name} · {national_mobile(label.sender.phone)}"
    fonts.draw(c, m, y - 21, who, REGULAR, fonts.fit_size(who, REGULAR, 9, inner))
    y = fonts.draw_block(c, m, y - 24, sender, REGULAR) - 3
    c.line(m, y, LABEL_W - m, y)

    # Weight, money and origin, anchored to the bottom.
    y = BOTTOM
    kg = f"{label.weight_g // 1000}.{label.weight_g % 1000:03d} {words()['kg'][1]}"
    fonts.draw(c, m, y - 12, f"{both('weight')}: {kg}", REGULAR, 9)
    # The addressee never owes the postage: the label says who pays it, not "DUE".
    paid = both(label.postage if label.postage in ("paid", "on_account") else "unpaid")
    postage = f"{taka(label.postage_poisha)} {paid}"
    size = fonts.fit_size(postage, REGULAR, 9, inner * 0.55)
    fonts.draw(c, LABEL_W - m, y - 12, postage, REGULAR, size, align="right")
    if label.cod_to_collect_poisha:
        c.setFillColorRGB(0, 0, 0)
        c.rect(m, y - 36, inner, 18, stroke=0, fill=1)
        c.setFillColorRGB(1, 1, 1)
        bn_word, en_word = words()["collect"]
        amount = label.cod_to_collect_poisha
        cod = f"{bn_word} {taka_bn(amount)} · {en_word.upper()} {taka(amount)}"
        size = fonts.fit_size(cod, BOLD, 11, inner - 6)
        fonts.draw(c, LABEL_W / 2, y - 31, cod, BOLD, size, align="center")
        c.setFillColorRGB(0, 0, 0)
    else:
        note = both("cod_paid" if label.cod_paid else "no_cod")
        font = BOLD if label.cod_paid else REGULAR
        fonts.draw(c, m, y - 30, note, font, fonts.fit_size(note, font, 9, inner))
    origin = label.origin
    office = f"{both('intake')}: {origin.code} {origin.name_bn} ({origin.name_en})"
    fonts.draw(c, m, 5 * mm, office, REGULAR, fonts.fit_size(office, REGULAR, 7, inner))


def render(labels: Sequence[LabelData], layout: str = "thermal") -> bytes:
    """PDF bytes: one 100x150 mm page per label ("thermal"), or four per A4 page ("a4")."""
    if not labels:
        raise ValueError("no labels to render")
    fonts.register()
    buf = io.BytesIO()
    if layout == "thermal":
        c = Canvas(buf, pagesize=(LABEL_W, LABEL_H), pageCompression=1)
        c.setTitle(f"Labels {labels[0].tracking_id}")
        for label in labels:
            draw_label(c, label)
            c.showPage()
    elif layout == "a4":
        c = Canvas(buf, pagesize=A4, pageCompression=1)
        c.setTitle(f"Labels {labels[0].tracking_id}")
        cell_w, cell_h = A4[0] / 2, A4[1] / 2
        scale = min(cell_w / LABEL_W, cell_h / LABEL_H) * 0.97
        for i, label in enumerate(labels):
            slot = i % 4
            col, row = slot % 2, 1 - slot // 2
            c.saveState()
            c.translate(
                col * cell_w + (cell_w - LABEL_W * scale) / 2,
                row * cell_h + (cell_h - LABEL_H * scale) / 2,
            )
            c.scale(scale, scale)
            draw_label(c, label)
            c.restoreState()
            if slot == 3 or i == len(labels) - 1:
                c.showPage()
    else:
        raise ValueError(f"unknown label layout {layout!r}; use 'thermal' or 'a4'")
    c.save()
    return buf.getvalue()
