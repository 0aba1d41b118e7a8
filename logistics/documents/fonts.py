"""Text on documents: Hind Siliguri (Bangla + Latin), shaped once, measured by arithmetic.

Bangla needs shaping (conjuncts such as ক্ষ, vowel signs drawn before their consonant as in
কে, reph); ReportLab only shapes a string handed to it as a ``ShapedStr``. Shaping is the
expensive step, so a piece of text is shaped once into a ``Text``: its script runs as glyph
strings with their advances in thousandths of an em. HarfBuzz's advances do not depend on the
font size, so widths at any size, fitting and word wrap are arithmetic on those numbers.
Latin runs are not shaped at all (ReportLab's own metrics place them).

Shaped glyphs do not map back to the characters they came from (a conjunct is one glyph), so
every drawn line that holds shaped runs is wrapped in a marked-content span carrying its real
text (``/ActualText``): copying, searching and screen readers get the words, not glyph soup.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import fontpkg_hind_siliguri
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapedStr, TTFont, shapeStr
from reportlab.pdfgen.canvas import Canvas

REGULAR = "HindSiliguri"
BOLD = "HindSiliguri-Bold"
LEADING = 1.2  # line height as a multiple of the font size
# Where a run of text without spaces may still break: after these, as people type
# "House#12,Road#5,Dhanmondi" without spaces.
BREAK_AFTER = ",;/-|"


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


@dataclass(frozen=True, slots=True)
class Run:
    """One script run: glyphs ready to draw and their advance in thousandths of an em."""

    glyphs: str  # a ShapedStr for Bangla, the characters themselves for Latin
    advance: float

    @property
    def shaped(self) -> bool:
        return isinstance(self.glyphs, ShapedStr)


@dataclass(frozen=True, slots=True)
class Text:
    """A line of text shaped once, to be measured and drawn at any size."""

    text: str
    font: str
    runs: tuple[Run, ...]

    @property
    def advance(self) -> float:
        return sum(r.advance for r in self.runs)

    def width(self, size: float) -> float:
        return self.advance * size / 1000

    @property
    def shaped(self) -> bool:
        return any(r.shaped for r in self.runs)

    def __add__(self, other: Text) -> Text:
        """Two texts side by side (the same font); runs of one kind merge into one."""
        runs = list(self.runs)
        for r in other.runs:
            if runs and runs[-1].shaped == r.shaped:
                last = runs.pop()
                r = Run(last.glyphs + r.glyphs, last.advance + r.advance)
            runs.append(r)
        return Text(self.text + other.text, self.font, tuple(runs))


def _shaped(run: str, font: str) -> ShapedStr:
    """HarfBuzz's glyphs for one run (its advances do not depend on the size given here)."""
    return shapeStr(run, font, 10, force=True)


@lru_cache(maxsize=8192)
def _run(run: str, font: str) -> Run:
    if any(_is_bengali(ch) for ch in run):
        # HarfBuzz guesses one script per buffer from its first letter: shaping run by run
        # keeps 'Tk 20 পরিশোধিত' from losing its vowel signs.
        glyphs = _shaped(run, font)
        return Run(glyphs, float(sum(g.x_advance for g in glyphs.__shapeData__)))
    return Run(run, width_of(run, font))


def width_of(run: str, font: str) -> float:
    """The unshaped advance of ``run`` in thousandths of an em (ReportLab's own metrics)."""
    return float(pdfmetrics.stringWidth(run, font, 1000))


@lru_cache(maxsize=8192)
def text(s: str, font: str) -> Text:
    """``s`` shaped once in ``font`` (cached: a label's fixed words are shaped once a process)."""
    register()
    empty = Text("", font, ())
    return sum((Text(r, font, (_run(r, font),)) for r in script_runs(s)), empty)


def shape(s: str, font: str, size: float = 10) -> str:
    """The text as one drawable string: shaped glyphs if any run is Bangla (tests, callers that
    draw by themselves)."""
    t = text(s, font)
    if not t.shaped:
        return s
    glyphs = [r.glyphs if r.shaped else _shaped(r.glyphs, font) for r in t.runs]
    out = glyphs[0]
    for g in glyphs[1:]:
        out = out + g
    return out


def width(s: str, font: str, size: float) -> float:
    """Advance width in points."""
    return text(s, font).width(size)


def _actual_text(s: str) -> str:
    return "/Span <</ActualText <FEFF" + s.encode("utf-16-be").hex().upper() + ">>> BDC"


def draw(
    c: Canvas,
    x: float,
    y: float,
    s: str | Text,
    font: str,
    size: float,
    *,
    align: str = "left",
) -> None:
    """Draw a line at (x, y), aligned left, center or right on x."""
    t = s if isinstance(s, Text) else text(s, font)
    if not t.runs:
        return
    if align != "left":
        x -= t.width(size) / (2 if align == "center" else 1)
    tx = c.beginText(x, y)
    tx.setFont(font, size)
    for r in t.runs:
        tx.setTextOrigin(x, y)
        tx.textLine(r.glyphs)
        x += r.advance * size / 1000
    if t.shaped:
        c.addLiteral(_actual_text(t.text))
        c.drawText(tx)
        c.addLiteral("EMC")
    else:
        c.drawText(tx)


def fit_size(s: str, font: str, size: float, max_width: float, min_size: float = 5) -> float:
    """The largest size <= ``size`` at which ``s`` fits ``max_width``."""
    w = width(s, font, size)
    if w <= max_width:
        return size
    return max(min_size, size * max_width / w)


def _tokens(s: str) -> Iterator[tuple[str, bool]]:
    """Breakable pieces of ``s`` with whether a space comes before each."""
    for word in s.split():
        start, space = 0, True
        for i, ch in enumerate(word):
            if ch in BREAK_AFTER and i + 1 < len(word):
                yield word[start : i + 1], space
                start, space = i + 1, False
        yield word[start:], space


def _is_mark(ch: str) -> bool:
    """A Bangla sign that belongs to the letter before it (never starts a piece)."""
    return ch in "\u0981\u0982\u0983\u09bc\u09cd\u09d7\u200c\u200d" or (
        "\u09be" <= ch <= "\u09cc" or "\u09e2" <= ch <= "\u09e3"
    )


def _clusters(word: str) -> list[str]:
    """A word cut where a letter starts a new syllable (never inside a conjunct)."""
    out: list[str] = []
    for i, ch in enumerate(word):
        if out and (_is_mark(ch) or word[i - 1] == "\u09cd"):
            out[-1] += ch
        else:
            out.append(ch)
    return out


@dataclass(frozen=True, slots=True)
class Block:
    """Wrapped lines at one size; ``fits`` is False when the text had to be cut."""

    size: float
    lines: tuple[Text, ...]
    fits: bool

    @property
    def height(self) -> float:
        return len(self.lines) * self.size * LEADING


def _split_long(piece: str, font: str, limit: float) -> list[str]:
    """A piece wider than the line, cut between syllables into pieces that fit."""
    parts: list[str] = []
    cur = ""
    for cl in _clusters(piece):
        if cur and text(cur + cl, font).advance > limit:
            parts.append(cur)
            cur = cl
        else:
            cur += cl
    return [*parts, cur] if cur else parts


Line = list[tuple[Text, bool]]  # a line's pieces, each with whether a space comes before it


@lru_cache(maxsize=8)
def _space(font: str, shaped: bool) -> Run:
    """A space of the kind of the run it follows, so that words of one script join one run."""
    register()
    return Run(_shaped(" ", font) if shaped else " ", width_of(" ", font))


def _join(pieces: Line, font: str) -> Text:
    line = pieces[0][0]
    for t, spaced in pieces[1:]:
        if spaced:
            space = _space(font, line.runs[-1].shaped if line.runs else False)
            line = line + Text(" ", font, (space,))
        line = line + t
    return line


def _wrap_at(s: str, font: str, size: float, max_width: float) -> list[Line]:
    """Greedy wrap by arithmetic on shaped advances (nothing is shaped or joined here)."""
    limit = max_width * 1000 / size
    space = _space(font, False).advance
    lines: list[Line] = []
    cur: Line = []
    used = 0.0
    for piece, spaced in _tokens(s):
        t = text(piece, font)
        parts = [(t, spaced)]
        if t.advance > limit:
            cut = _split_long(piece, font, limit)
            parts = [(text(p, font), spaced and i == 0) for i, p in enumerate(cut)]
        for p, sp in parts:
            add = p.advance + (space if sp and cur else 0.0)
            if cur and used + add > limit:
                lines.append(cur)
                cur, used = [(p, False)], p.advance
            else:
                cur.append((p, sp and bool(cur)))
                used += add
    if cur:
        lines.append(cur)
    return lines


def fit_block(
    s: str,
    font: str,
    max_size: float,
    min_size: float,
    max_width: float,
    max_height: float,
    step: float = 0.5,
) -> Block:
    """Wrap ``s`` at the largest size from ``max_size`` down to ``min_size`` whose lines fit
    ``max_height``; if none does, the lines at ``min_size`` that fit, the last ending in '…'."""
    size = max_size
    while True:
        lines = _wrap_at(s, font, size, max_width)
        if len(lines) * size * LEADING <= max_height + 1e-6:
            return Block(size, tuple(_join(line, font) for line in lines), True)
        if size - step < min_size - 1e-9:
            break
        size -= step
    room = max(1, int((max_height + 1e-6) // (size * LEADING)))
    kept = [_join(line, font) for line in lines[:room]]
    limit = max_width * 1000 / size
    ellipsis = text(" …", font)
    last = kept[-1].text
    while last and (text(last, font) + ellipsis).advance > limit:
        last = last[:-1]
    kept[-1] = text(last.rstrip() + " …", font)
    return Block(size, tuple(kept), False)


def wrap(s: str, font: str, size: float, max_width: float, max_lines: int) -> list[str]:
    """Word wrap at one size into at most ``max_lines`` (the last ellipsised if cut)."""
    block = fit_block(s, font, size, size, max_width, max_lines * size * LEADING)
    return [line.text for line in block.lines]


def draw_block(c: Canvas, x: float, top: float, block: Block, font: str) -> float:
    """Draw the block's lines from ``top`` (the first line's baseline is one size below it);
    returns the y under the last line."""
    y = top - block.size
    for line in block.lines:
        draw(c, x, y, line, font, block.size)
        y -= block.size * LEADING
    return top - block.height
