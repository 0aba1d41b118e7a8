"""Manifests as PDF (A4): a van's route sheet, an office's dispatch form and its receipt form.

Every word is printed in Bangla and English from the catalogs and drawn through
``fonts.draw`` (shaped Bangla with its real text as ActualText, so copy and search work). Each
manifest carries one Code128 barcode of its own code (``MF`` + seven digits + a check digit),
which the scan pages read and check. Pages break between parcel lines; every page repeats the
manifest's code, so a loose page still says where it belongs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from logistics.documents import fonts
from logistics.documents.bilingual import Words
from logistics.documents.fonts import BOLD, REGULAR
from logistics.documents.labels import draw_barcode
from logistics.i18n import _l
from logistics.text import taka

W, H = A4
M = 14 * mm
LINE = 12.0  # points per parcel line

WORDS = {
    "route_sheet": _l("Van route sheet"),
    "dispatch_form": _l("Dispatch form"),
    "receipt_form": _l("Receipt form"),
    "van": _l("Van"),
    "driver": _l("Driver"),
    "date": _l("Date"),
    "version": _l("Plan version"),
    "office": _l("Office"),
    "arrive": _l("Arrive"),
    "depart": _l("Depart"),
    "load": _l("Load"),
    "drop": _l("Drop"),
    "parcel": _l("Parcel"),
    "to": _l("To"),
    "from": _l("From"),
    "weight": _l("Weight (kg)"),
    "cod": _l("COD (Tk)"),
    "total": _l("Total"),
    "parcels": _l("parcels"),
    "handed": _l("Handed over by"),
    "received": _l("Received by"),
    "page": _l("Page"),
    "nothing": _l("Nothing"),
    "pickup": _l("Pickup at a merchant's door"),
    "expected": _l("Expected"),
    "hand_in": _l("Hand in at"),
}


TEXT = Words(WORDS)
both = TEXT.both


@dataclass(frozen=True)
class ParcelLine:
    tracking_id: str
    other_office: str  # the destination office code (loads) or the origin (drops)
    weight_g: int
    cod_poisha: int


@dataclass(frozen=True)
class StopSheet:
    seq: int
    office_code: str
    office_bn: str
    office_en: str
    arrive: str  # HH:MM, Dhaka
    depart: str
    loads: tuple[ParcelLine, ...] = ()
    drops: tuple[ParcelLine, ...] = ()


@dataclass(frozen=True)
class DoorSheet:
    """A call at a merchant's door (a pickup): before the route's stop ``before_seq``."""

    before_seq: int
    merchant: str
    phone: str
    address: str
    parcels: int  # the merchant's estimate
    weight_g: int
    hand_in: str  # the intake office's code
    arrive: str
    depart: str


@dataclass(frozen=True)
class RouteSheet:
    code: str
    van: str
    driver: str
    day: date
    version: int
    stops: tuple[StopSheet, ...]
    doors: tuple[DoorSheet, ...] = ()


@dataclass(frozen=True)
class VanPart:
    """One van's share of an office form: when it calls and its parcels."""

    van: str
    at: str
    parcels: tuple[ParcelLine, ...]


@dataclass(frozen=True)
class OfficeForm:
    code: str
    kind: str  # dispatch | receipt
    office_code: str
    office_bn: str
    office_en: str
    day: date
    version: int
    vans: tuple[VanPart, ...] = field(default=())


class Page:
    """A flowing A4 page: a y cursor, a new page (with the code and barcode) when full."""

    def __init__(self, c: Canvas, code: str, title: str) -> None:
        self.c, self.code, self.title, self.number = c, code, title, 0
        self.y = 0.0
        self.new()

    def new(self) -> None:
        if self.number:
            self.c.showPage()
        self.number += 1
        c = self.c
        fonts.draw(c, M, H - M - 14, self.title, BOLD, 14)
        draw_barcode(c, W - M - 62 * mm, H - M - 16 * mm, 62 * mm, 13 * mm, self.code)
        fonts.draw(c, W - M - 31 * mm, H - M - 20 * mm, self.code, REGULAR, 9, align="center")
        fonts.draw(c, W - M, 8 * mm, f"{both('page')} {self.number}", REGULAR, 7, align="right")
        fonts.draw(c, M, 8 * mm, self.code, REGULAR, 7)
        self.y = H - M - 24 * mm

    def need(self, height: float) -> None:
        if self.y - height < 16 * mm:
            self.new()

    def text(self, x: float, s: str, font: str = REGULAR, size: float = 9, **kw: str) -> None:
        fonts.draw(self.c, x, self.y, s, font, size, **kw)

    def rule(self) -> None:
        self.c.setLineWidth(0.4)
        self.c.line(M, self.y + 3, W - M, self.y + 3)


COLS = (M + 6 * mm, M + 52 * mm, M + 90 * mm, M + 120 * mm)  # id, office, weight, COD


def _parcel_header(p: Page, office_word: str) -> None:
    p.need(LINE)
    for x, key in zip(COLS, ("parcel", office_word, "weight", "cod"), strict=True):
        p.text(x, both(key), BOLD, 7)
    p.y -= LINE


def _parcel_lines(p: Page, lines: Sequence[ParcelLine], office_word: str) -> None:
    _parcel_header(p, office_word)
    for line in lines:
        if p.y - LINE < 16 * mm:
            p.new()
            _parcel_header(p, office_word)
        p.text(COLS[0], line.tracking_id, REGULAR, 9)
        p.text(COLS[1], line.other_office, REGULAR, 9)
        p.text(COLS[2] + 18 * mm, f"{line.weight_g / 1000:.3f}", REGULAR, 9, align="right")
        cod = taka(line.cod_poisha) if line.cod_poisha else "-"
        p.text(COLS[3] + 18 * mm, cod, REGULAR, 9, align="right")
        p.y -= LINE


def _total(p: Page, lines: Sequence[ParcelLine]) -> None:
    grams = sum(x.weight_g for x in lines)
    cod = sum(x.cod_poisha for x in lines)
    p.need(LINE)
    p.text(COLS[0], f"{both('total')}: {len(lines)} {both('parcels')}", BOLD, 8)
    p.text(COLS[2] + 18 * mm, f"{grams / 1000:.3f}", BOLD, 8, align="right")
    p.text(COLS[3] + 18 * mm, taka(cod) if cod else "-", BOLD, 8, align="right")
    p.y -= LINE


def _signatures(p: Page) -> None:
    """Two boxes: who handed the parcels over, who took them (name, signature, time)."""
    p.need(20 * mm)
    c = p.c
    c.setLineWidth(0.6)
    half = (W - 2 * M - 6 * mm) / 2
    for k, key in enumerate(("handed", "received")):
        x = M + k * (half + 6 * mm)
        c.rect(x, p.y - 16 * mm, half, 16 * mm)
        fonts.draw(c, x + 2 * mm, p.y - 4 * mm, both(key), REGULAR, 7)
    p.y -= 20 * mm


def _head(p: Page, pairs: Sequence[tuple[str, str]]) -> None:
    for key, value in pairs:
        p.text(M, f"{both(key)}:", REGULAR, 9)
        p.text(M + 48 * mm, value, BOLD, 10)
        p.y -= 13
    p.y -= 4


def _call(p: Page, lines: int, title: str, arrive: str, depart: str) -> None:
    """A call's heading on a route sheet: where, and when the van arrives and leaves."""
    p.need(lines * LINE)
    p.rule()
    p.text(M, title, BOLD, 11)
    p.text(
        W - M, f"{both('arrive')} {arrive}  ·  {both('depart')} {depart}", REGULAR, 8, align="right"
    )
    p.y -= LINE + 2


def _door(p: Page, d: DoorSheet) -> None:
    _call(p, 5, f"{both('pickup')}: {d.merchant} · {d.phone}", d.arrive, d.depart)
    p.text(M, d.address, REGULAR, 9)
    p.y -= LINE
    p.text(
        M,
        f"{both('expected')}: {d.parcels} {both('parcels')}, {d.weight_g / 1000:.1f} kg  ·  "
        f"{both('hand_in')} {d.hand_in}",
        REGULAR,
        9,
    )
    p.y -= LINE
    _signatures(p)


def draw_route_sheet(c: Canvas, sheet: RouteSheet) -> None:
    p = Page(c, sheet.code, both("route_sheet"))
    _head(
        p,
        [
            ("van", sheet.van),
            ("driver", sheet.driver or "—"),
            ("date", sheet.day.isoformat()),
            ("version", str(sheet.version)),
        ],
    )
    doors = sorted(sheet.doors, key=lambda d: d.before_seq)
    for stop in sheet.stops:
        while doors and doors[0].before_seq <= stop.seq:
            _door(p, doors.pop(0))
        title = f"{stop.seq + 1}. {stop.office_code} {stop.office_bn} ({stop.office_en})"
        _call(p, 3, title, stop.arrive, stop.depart)
        for key, lines, other in (("drop", stop.drops, "from"), ("load", stop.loads, "to")):
            if not lines:
                continue
            p.need(2 * LINE)
            p.text(M, f"{both(key)}:", BOLD, 9)
            p.y -= LINE
            _parcel_lines(p, lines, other)
            _total(p, lines)
        _signatures(p)
    for d in doors:
        _door(p, d)
    every = [x for s in sheet.stops for x in s.loads]
    p.need(LINE)
    p.rule()
    _total(p, every)


def draw_office_form(c: Canvas, form: OfficeForm) -> None:
    kind = "dispatch_form" if form.kind == "dispatch" else "receipt_form"
    p = Page(c, form.code, both(kind))
    office = f"{form.office_code} {form.office_bn} ({form.office_en})"
    _head(p, [("office", office), ("date", form.day.isoformat()), ("version", str(form.version))])
    other = "to" if form.kind == "dispatch" else "from"
    if not form.vans:
        p.text(M, both("nothing"), REGULAR, 10)
    for part in form.vans:
        p.need(3 * LINE)
        p.rule()
        p.text(M, f"{both('van')} {part.van}", BOLD, 11)
        word = "depart" if form.kind == "dispatch" else "arrive"
        p.text(W - M, f"{both(word)} {part.at}", REGULAR, 8, align="right")
        p.y -= LINE + 2
        _parcel_lines(p, part.parcels, other)
        _total(p, part.parcels)
        _signatures(p)


def render(documents: Sequence[RouteSheet | OfficeForm]) -> bytes:
    """One PDF holding these manifests, each starting on a new page."""
    if not documents:
        raise ValueError("no manifest to render")
    fonts.register()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(f"Manifest {documents[0].code}")
    for doc in documents:
        if isinstance(doc, RouteSheet):
            draw_route_sheet(c, doc)
        else:
            draw_office_form(c, doc)
        c.showPage()
    c.save()
    return buf.getvalue()
