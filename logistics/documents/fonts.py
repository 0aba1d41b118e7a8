"""Fonts for documents: Hind Siliguri (Bangla + Latin) with HarfBuzz shaping.

Bangla needs shaping: conjuncts (ক্ষ), reordered vowel signs (কে), reph. ReportLab only shapes
a string handed to it as a ShapedStr, so every string on a document goes through ``shape``.
"""

from __future__ import annotations

from functools import lru_cache

import fontpkg_hind_siliguri
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapedStr, TTFont, shapeStr
from reportlab.pdfgen.canvas import Canvas

REGULAR = "HindSiliguri"
BOLD = "HindSiliguri-Bold"


@lru_cache(maxsize=1)
def register() -> None:
    files = fontpkg_hind_siliguri.ROOT / "files"
    for name, file in ((REGULAR, "HindSiliguri-Regular.ttf"), (BOLD, "HindSiliguri-Bold.ttf")):
        font = TTFont(name, str(files / file), shapable=True)
        if not font.shapable:
            raise RuntimeError("uharfbuzz is missing: install reportlab[shaping] to print Bangla")
        pdfmetrics.registerFont(font)


def _is_bengali(ch: str) -> bool:
    return "\u0980" <= ch <= "\u09ff" or ch in "\u200c\u200d\u0964\u0965"


def script_runs(text: str) -> list[str]:
    """Split text into runs of one script. Neutral characters (spaces, digits, punctuation)
    join the run before them, so 'Tk 20 পরিশোধিত' becomes ['Tk 20 ', 'পরিশোধিত']."""
    runs: list[str] = []
    kind: bool | None = None
    for ch in text:
        k = True if _is_bengali(ch) else (False if ch.isalpha() else None)
        if runs and (k is None or k == kind or kind is None):
            runs[-1] += ch
            if kind is None:
                kind = k
        else:
            runs.append(ch)
            kind = k
    return runs


def shape(text: str, font: str, size: float) -> str:
    """The text as shaped glyphs (a ShapedStr) ready for ``Canvas.drawString``.

    HarfBuzz guesses one script per buffer from its first letter, so a line that mixes
    Latin and Bangla is shaped run by run; otherwise 'Tk 20 পরিশোধিত' loses its vowel signs.
    """
    register()
    if not text:
        return text
    shaped: str | None = None
    for run in script_runs(text):
        piece = shapeStr(run, font, size, force=True)
        shaped = piece if shaped is None else shaped + piece
    return shaped or text


def width(text: str, font: str, size: float) -> float:
    """Advance width in points of the shaped text."""
    s = shape(text, font, size)
    if isinstance(s, ShapedStr):
        return float(sum(g.x_advance for g in s.__shapeData__) * size / 1000)
    return float(pdfmetrics.stringWidth(s, font, size))


def draw(
    c: Canvas, x: float, y: float, text: str, font: str, size: float, *, align: str = "left"
) -> None:
    c.setFont(font, size)
    w = width(text, font, size) if align != "left" else 0.0
    dx = {"left": 0.0, "center": -w / 2, "right": -w}[align]
    c.drawString(x + dx, y, shape(text, font, size))


def fit_size(text: str, font: str, size: float, max_width: float, min_size: float = 5) -> float:
    """The largest size <= ``size`` at which ``text`` fits ``max_width``."""
    w = width(text, font, size)
    if w <= max_width:
        return size
    return max(min_size, size * max_width / w)


def wrap(text: str, font: str, size: float, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap by shaped width; the last line is ellipsised if the text is too long."""
    words = text.split()
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if width(candidate, font, size) <= max_width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and width(last + " …", font, size) > max_width:
            last = last[:-1]
        lines[-1] = last.rstrip() + " …"
    return lines
