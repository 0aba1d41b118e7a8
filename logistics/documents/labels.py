"""Parcel labels as PDF: 100x150 mm thermal, or A4 with four labels per sheet.

The barcode is Code128 of the tracking id, encoded by python-barcode and drawn as vector bars.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import barcode
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from logistics.documents import fonts
from logistics.documents.fonts import BOLD, REGULAR
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


POSTAGE_NOTES = {
    "paid": "পরিশোধিত / PAID",
    "on_account": "মার্চেন্টের হিসাবে / ON ACCOUNT",
    "unpaid": "প্রেরক দেবেন / SENDER PAYS",
}


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
    modules = code128_modules(data)
    module_w = w / (len(modules) + 2 * QUIET_MODULES)
    c.setFillColorRGB(0, 0, 0)
    i = 0
    while i < len(modules):
        if modules[i] == "1":
            j = i
            while j < len(modules) and modules[j] == "1":
                j += 1
            c.rect(x + (QUIET_MODULES + i) * module_w, y, (j - i) * module_w, h, stroke=0, fill=1)
            i = j
        else:
            i += 1


def _spaced_id(tid: str) -> str:
    return f"{tid[:2]} {tid[2:6]} {tid[6:10]} {tid[10]} {tid[11:]}"


def draw_label(c: Canvas, label: LabelData) -> None:
    """Draw one label with its lower-left corner at the origin, LABEL_W x LABEL_H."""
    m = 4 * mm
    inner = LABEL_W - 2 * m
    c.setLineWidth(0.8)
    c.rect(1 * mm, 1 * mm, LABEL_W - 2 * mm, LABEL_H - 2 * mm)

    # Header: service and date.
    top = LABEL_H - m
    fonts.draw(c, m, top - 12, "ডাকঘর · DakGhor", BOLD, 12)
    fonts.draw(c, LABEL_W - m, top - 12, "বাংলাদেশ ডাক · Bangladesh Post", REGULAR, 8, align="right")
    date = local_time(label.booked_at).strftime("%d-%m-%Y %H:%M")
    fonts.draw(c, m, top - 24, f"e-Commerce Parcel ({label.service})", REGULAR, 8)
    fonts.draw(c, LABEL_W - m, top - 24, date, REGULAR, 8, align="right")
    y = top - 29
    c.line(m, y, LABEL_W - m, y)

    # Destination office code, big enough to sort by from arm's length.
    code_size = fonts.fit_size(label.destination.code, BOLD, 54, inner * 0.45)
    fonts.draw(c, m, y - 48, label.destination.code, BOLD, code_size)
    dx = m + inner * 0.5
    fonts.draw(c, dx, y - 16, "বিলি অফিস / Delivery office", REGULAR, 7)
    bn = label.destination.name_bn
    fonts.draw(c, dx, y - 30, bn, BOLD, fonts.fit_size(bn, BOLD, 12, inner * 0.5))
    en = label.destination.name_en
    fonts.draw(c, dx, y - 43, en, REGULAR, fonts.fit_size(en, REGULAR, 9, inner * 0.5))
    fonts.draw(c, dx, y - 54, f"Post code {label.destination.post_code}", REGULAR, 8)
    y -= 60
    c.line(m, y, LABEL_W - m, y)

    # Barcode and the human-readable id.
    bar_h = 20 * mm
    draw_barcode(c, m, y - 3 * mm - bar_h, inner, bar_h, label.tracking_id)
    fonts.draw(
        c,
        LABEL_W / 2,
        y - 3 * mm - bar_h - 13,
        _spaced_id(label.tracking_id),
        BOLD,
        12,
        align="center",
    )
    y = y - 3 * mm - bar_h - 19
    c.line(m, y, LABEL_W - m, y)

    # Recipient, the largest block after the office code.
    fonts.draw(c, m, y - 11, "প্রাপক / TO", BOLD, 9)
    fonts.draw(
        c,
        m,
        y - 25,
        label.recipient.name,
        BOLD,
        fonts.fit_size(label.recipient.name, BOLD, 13, inner),
    )
    yy = y - 38
    for line in fonts.wrap(label.recipient.address, REGULAR, 10, inner, 3):
        fonts.draw(c, m, yy, line, REGULAR, 10)
        yy -= 12
    fonts.draw(
        c,
        m,
        yy,
        f"{national_mobile(label.recipient.phone)}   ·   {label.recipient.post_code}",
        BOLD,
        10,
    )
    y = yy - 7
    c.line(m, y, LABEL_W - m, y)

    # Sender.
    fonts.draw(c, m, y - 10, "প্রেরক / FROM", BOLD, 8)
    fonts.draw(
        c,
        m,
        y - 21,
        f"{label.sender.name} · {national_mobile(label.sender.phone)}",
        REGULAR,
        fonts.fit_size(
            f"{label.sender.name} · {national_mobile(label.sender.phone)}", REGULAR, 9, inner
        ),
    )
    yy = y - 32
    for line in fonts.wrap(label.sender.address, REGULAR, 8, inner, 2):
        fonts.draw(c, m, yy, line, REGULAR, 8)
        yy -= 10
    y = yy - 2
    c.line(m, y, LABEL_W - m, y)

    # Weight, money and origin.
    kg = f"{label.weight_g // 1000}.{label.weight_g % 1000:03d} kg"
    fonts.draw(c, m, y - 12, f"ওজন / Weight: {kg}", REGULAR, 9)
    # The addressee never owes the postage: the label says who pays it, not "DUE".
    paid = POSTAGE_NOTES.get(label.postage, POSTAGE_NOTES["unpaid"])
    fonts.draw(
        c, LABEL_W - m, y - 12, f"{taka(label.postage_poisha)} {paid}", REGULAR, 9, align="right"
    )
    if label.cod_to_collect_poisha:
        c.setFillColorRGB(0, 0, 0)
        c.rect(m, y - 36, inner, 18, stroke=0, fill=1)
        c.setFillColorRGB(1, 1, 1)
        cod = f"COD আদায় করুন {taka_bn(label.cod_to_collect_poisha)} · COLLECT {taka(label.cod_to_collect_poisha)}"
        fonts.draw(
            c,
            LABEL_W / 2,
            y - 31,
            cod,
            BOLD,
            fonts.fit_size(cod, BOLD, 11, inner - 6),
            align="center",
        )
        c.setFillColorRGB(0, 0, 0)
    elif label.cod_paid:
        fonts.draw(c, m, y - 30, "COD পরিশোধিত, আদায় করবেন না / COD PAID: collect nothing", BOLD, 9)
    else:
        fonts.draw(c, m, y - 30, "COD নেই / No cash on delivery", REGULAR, 9)
    fonts.draw(
        c,
        m,
        5 * mm,
        f"গ্রহণ / From office: {label.origin.code} {label.origin.name_bn} ({label.origin.name_en})",
        REGULAR,
        7,
    )


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
