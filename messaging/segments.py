"""How many SMS segments a text costs. A text in the GSM 03.38 alphabet goes as GSM-7: 160
characters in one segment, 153 a segment when concatenated (the user data header takes 7), and
the extension characters (``^{}\\[~]|€`` and form feed) count twice. Any other character,
Bangla among them, sends the whole text as UCS-2: 70 characters, 67 a segment when
concatenated; a character outside the Basic Multilingual Plane (an emoji) takes two."""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 basic character set (the escape itself excluded) and its extension table.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class Segments:
    encoding: str  # "gsm7" or "ucs2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int  # segments the text is sent in (0 for an empty text)


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def count(text: str) -> Segments:
    """The encoding a gateway sends ``text`` in, its length in that encoding's units, and the
    number of segments. Concatenated, a character is never split across two segments (an
    escaped extension character, a surrogate pair), so the parts are packed one by one."""
    if is_gsm7(text):
        widths = [2 if c in GSM7_EXTENSION else 1 for c in text]
        single, part, encoding = GSM7_SINGLE, GSM7_PART, "gsm7"
    else:
        widths = [2 if ord(c) > 0xFFFF else 1 for c in text]
        single, part, encoding = UCS2_SINGLE, UCS2_PART, "ucs2"
    units = sum(widths)
    if units <= single:
        return Segments(encoding, units, 1 if units else 0)
    segments, room = 1, part
    for w in widths:
        if w > room:
            segments, room = segments + 1, part
        room -= w
    return Segments(encoding, units, segments)
