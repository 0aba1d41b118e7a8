"""SMS segments: GSM-7 texts 160 / 153 septets a segment with extension characters counting
twice, anything else (Bangla) UCS-2 70 / 67 units, no character split across segments."""

from __future__ import annotations

import pytest

from messaging.segments import Segments, count, is_gsm7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Segments("gsm7", 0, 0)),
        ("a" * 160, Segments("gsm7", 160, 1)),
        ("a" * 161, Segments("gsm7", 161, 2)),
        ("a" * 306, Segments("gsm7", 306, 2)),
        ("a" * 307, Segments("gsm7", 307, 3)),
        ("€" * 80, Segments("gsm7", 160, 1)),  # an extension character takes two septets
        ("{" + "a" * 159, Segments("gsm7", 161, 2)),
        ("অ" * 70, Segments("ucs2", 70, 1)),
        ("অ" * 71, Segments("ucs2", 71, 2)),
        ("অ" * 134, Segments("ucs2", 134, 2)),
        ("অ" * 135, Segments("ucs2", 135, 3)),
        ("a" * 69 + "অ", Segments("ucs2", 70, 1)),  # one Bangla letter makes it all UCS-2
    ],
)
def test_segments_follow_the_encoding(text: str, expected: Segments) -> None:
    assert count(text) == expected


def test_a_character_is_never_split_across_two_segments() -> None:
    # 152 septets then an escaped character: it does not fit the first part's last septet.
    assert count("a" * 152 + "€" + "a" * 10) == Segments("gsm7", 164, 2)
    assert count("a" * 152 + "€" + "a" * 152) == Segments("gsm7", 306, 3)
    # An emoji is a surrogate pair in UCS-2: 66 units then a pair starts the next part.
    assert count("অ" * 66 + "😀" + "অ" * 66) == Segments("ucs2", 134, 3)


def test_gsm7_is_the_gsm_alphabet() -> None:
    assert is_gsm7("Parcel CP123456785BD: Tk 1,000.00 @ 14:00 (ok)")
    assert not is_gsm7("৳১০০") and not is_gsm7("naïve")  # ï is not in GSM 03.38
