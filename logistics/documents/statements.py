"""A merchant's statement as PDF (A4): the period, each day's figures, the totals, the opening
balance, the payouts and the closing balance; every word in Bangla and English."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from logistics.documents import fonts
from logistics.documents.bilingual import Words
from logistics.documents.fonts import BOLD, REGULAR
from logistics.documents.manifests import M, Page
from logistics.i18n import _l
from logistics.text import DHAKA, taka

W, H = A4
LINE = 12
WORDS = {
    "statement": _l("Statement"),
    "merchant": _l("Merchant"),
    "period": _l("Period"),
    "day": _l("Day"),
    "delivered": _l("Delivered"),
    "cod_cash": _l("COD in cash"),
    "cod_airtime": _l("COD by airtime"),
    "fees": _l("Postage"),
    "return_fees": _l("Return fees"),
    "refunds": _l("Refunds"),
    "net": _l("Net"),
    "total": _l("Total"),
    "opening": _l("Opening balance"),
    "payout": _l("Payout"),
    "closing": _l("Closing balance"),
}
TEXT = Words(WORDS)
both = TEXT.both
COLS = (M, M + 24 * mm, M + 44 * mm, M + 70 * mm, M + 96 * mm, M + 118 * mm, M + 140 * mm, W - M)
KEYS = ("day", "delivered", "cod_cash", "cod_airtime", "fees", "return_fees", "refunds", "net")


def _row(p: Page, cells: list[str], font: str = REGULAR) -> None:
    p.need(LINE)
    for k, (x, cell) in enumerate(zip(COLS, cells, strict=True)):
        p.text(x, cell, font, 7, **({"align": "right"} if k else {}))
    p.y -= LINE


def render(st: Any) -> bytes:
    fonts.register()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(f"Statement {st.code}")
    p = Page(c, st.code, both("statement"))
    for key, value in (
        ("merchant", st.merchant.name),
        ("period", f"{st.start.isoformat()} – {st.end.isoformat()}"),
    ):
        p.text(M, f"{both(key)}:", REGULAR, 9)
        p.text(M + 40 * mm, value, BOLD, 10)
        p.y -= 14
    p.y -= 4
    p.need(2 * LINE)
    for k, key in enumerate(KEYS):  # two header lines: Bangla, then English
        p.text(COLS[k], TEXT.pairs()[key][0], BOLD, 6, **({"align": "right"} if k else {}))
    p.y -= 8
    for k, key in enumerate(KEYS):
        p.text(COLS[k], TEXT.pairs()[key][1], BOLD, 6, **({"align": "right"} if k else {}))
    p.y -= LINE
    for ln in st.lines:
        _row(p, _cells(ln.day.isoformat(), ln))
    p.rule()
    _row(p, _cells(both("total"), st.total), BOLD)
    p.y -= 6
    p.need(LINE * (3 + len(st.payouts)))
    p.text(M, f"{both('opening')}: {taka(st.opening)}", REGULAR, 9)
    p.y -= LINE
    for po in st.payouts:
        when = po.paid_at.astimezone(DHAKA).strftime("%Y-%m-%d")
        p.text(
            M,
            f"{both('payout')} {when}: {taka(po.amount_poisha)} ({po.method}, {po.reference})",
            REGULAR,
            9,
        )
        p.y -= LINE
    p.text(M, f"{both('closing')}: {taka(st.closing)}", BOLD, 10)
    c.showPage()
    c.save()
    return buf.getvalue()


def _cells(first: str, ln: Any) -> list[str]:
    money = [taka(getattr(ln, k)) if getattr(ln, k) else "-" for k in KEYS[2:-1]]
    return [first, str(ln.delivered), *money, taka(ln.net)]
