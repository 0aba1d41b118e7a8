"""A postman's round sheet as PDF (A4): the round's code as a Code128 barcode on every page,
then each parcel in delivery order with its own barcode, the recipient, phone and address (in
Bangla or English as written), the COD to collect, and a box for the outcome; the COD total.
Every word in Bangla and English from the catalogs."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from logistics.documents import fonts
from logistics.documents.bilingual import Words
from logistics.documents.fonts import BOLD, REGULAR
from logistics.documents.labels import draw_barcode
from logistics.documents.manifests import M, Page
from logistics.i18n import _l
from logistics.text import taka

W, H = A4
STOP_H = 38 * mm  # room for one parcel

WORDS = {
    "round_sheet": _l("Round sheet"),
    "office": _l("Office"),
    "postman": _l("Postman"),
    "date": _l("Date"),
    "window": _l("Time of day"),
    "cod": _l("COD to collect"),
    "outcome": _l("Outcome"),
    "total": _l("Total"),
    "parcels": _l("parcels"),
}
TEXT = Words(WORDS)
both = TEXT.both


@dataclass(frozen=True)
class Stop:
    position: int
    tracking_id: str
    name: str
    phone: str
    address: str
    cod_poisha: int


@dataclass(frozen=True)
class RoundSheet:
    code: str
    office: str
    postman: str
    day: date
    window: str
    stops: tuple[Stop, ...]


def _stop(p: Page, s: Stop) -> None:
    p.need(STOP_H)
    c = p.c
    top = p.y
    c.setLineWidth(0.4)
    c.line(M, top + 4, W - M, top + 4)
    fonts.draw(c, M, top - 8, f"{s.position}. {s.tracking_id}", BOLD, 11)
    draw_barcode(c, W - M - 58 * mm, top - 16 * mm, 58 * mm, 12 * mm, s.tracking_id)
    fonts.draw(c, M, top - 20, f"{s.name}  ·  {s.phone}", REGULAR, 10)
    y = top - 32
    for line in fonts.wrap(s.address, REGULAR, 9, W - 2 * M - 62 * mm, 3):
        fonts.draw(c, M, y, line, REGULAR, 9)
        y -= 11
    cod = taka(s.cod_poisha) if s.cod_poisha else "-"
    fonts.draw(c, W - M, top - 21 * mm, f"{both('cod')}: {cod}", BOLD, 9, align="right")
    fonts.draw(c, M, top - STOP_H + 9 * mm, f"{both('outcome')}:", REGULAR, 8)
    c.rect(M + 40 * mm, top - STOP_H + 7 * mm, W - 2 * M - 40 * mm, 7 * mm)
    p.y = top - STOP_H


def draw(c: Canvas, sheet: RoundSheet) -> None:
    p = Page(c, sheet.code, both("round_sheet"))
    for key, value in (
        ("office", sheet.office),
        ("postman", sheet.postman),
        ("date", sheet.day.isoformat()),
        ("window", sheet.window),
    ):
        p.text(M, f"{both(key)}:", REGULAR, 9)
        p.text(M + 48 * mm, value, BOLD, 10)
        p.y -= 13
    p.y -= 6
    for s in sheet.stops:
        _stop(p, s)
    cod = sum(s.cod_poisha for s in sheet.stops)
    p.need(14)
    p.text(M, f"{both('total')}: {len(sheet.stops)} {both('parcels')}", BOLD, 9)
    p.text(W - M, f"{both('cod')}: {taka(cod) if cod else '-'}", BOLD, 9, align="right")


def render(sheets: Sequence[RoundSheet]) -> bytes:
    if not sheets:
        raise ValueError("no round sheet to render")
    fonts.register()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(f"Round {sheets[0].code}")
    for sheet in sheets:
        draw(c, sheet)
        c.showPage()
    c.save()
    return buf.getvalue()
