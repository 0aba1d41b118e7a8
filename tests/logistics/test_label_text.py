"""Label text: copied out of the PDF as written, addresses wrapped and shrunk but never cut,
the label's own words from the catalogs, and intake refusing what the label cannot print."""

from __future__ import annotations

import re
from dataclasses import replace

import pypdfium2 as pdfium
import pytest

from logistics.documents import fonts, labels
from logistics.errors import ValidationError
from logistics.services import intake
from tests.conftest import booking
from tests.logistics.test_labels import make_label

BN_WORDS = "ফ্ল্যাট ৪বি বাড়ি ২৩ রোড ১১ মোহাম্মদপুর হাউজিং লিমিটেড শেখেরটেক আদাবর শ্যামলী কল্যাণপুর"
EN_WORDS = "FLAT 4B, HOUSE 23, ROAD 11, MOHAMMADPUR HOUSING LIMITED, SHEKHERTEK, ADABOR, SHYAMOLI"


def address_of(words: str, length: int) -> str:
    """Real words repeated up to ``length`` characters, cut at a word."""
    text = ""
    while len(text) < length:
        text += words + " "
    return text[:length].rsplit(" ", 1)[0] if text[length] != " " else text[:length]


def extracted(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        out = []
        for i in range(len(doc)):
            page = doc[i]
            tp = page.get_textpage()
            out.append(tp.get_text_range())
            tp.close()
            page.close()
        return out
    finally:
        doc.close()


def squeeze(s: str) -> str:
    return re.sub(r"\s+", "", s)


def test_copying_the_label_gives_the_bangla_as_written() -> None:
    label = make_label()
    (text,) = extracted(labels.render([label]))
    for piece in (
        label.recipient.name,
        label.recipient.address,
        label.sender.name,
        label.sender.address,
        label.destination.name_bn,
        label.origin.name_bn,
        "প্রাপক",
        "বিলি অফিস",
    ):
        assert squeeze(piece) in squeeze(text), piece
    # Without the real text, a conjunct would come out as glyph soup (মাহাদপুর).
    assert "মাহাদপুর" not in text


def test_the_label_words_come_from_the_catalogs() -> None:
    assert labels.words()["to"] == ("প্রাপক", "Recipient")
    assert labels.words()["intake"] == ("গ্রহণ অফিস", "Intake office")
    for key, (bn, en) in labels.words().items():
        assert bn != en or key == "brand", key  # every word has its Bangla
    (text,) = extracted(labels.render([make_label(cod=0)]))
    assert squeeze(labels.both("no_cod")) in squeeze(text)


@pytest.mark.parametrize("words", [BN_WORDS, EN_WORDS], ids=["bangla", "english-capitals"])
@pytest.mark.parametrize("who", ["recipient", "sender"])
def test_an_address_at_the_form_limit_prints_whole(words: str, who: str) -> None:
    address = address_of(words, intake.MAX_ADDRESS)
    assert len(address) > intake.MAX_ADDRESS - 15
    assert labels.address_fits(address, who)
    label = make_label()
    label = replace(label, **{who: replace(getattr(label, who), address=address)})
    (text,) = extracted(labels.render([label]))
    assert squeeze(address) in squeeze(text)
    assert "…" not in text


def test_a_long_address_shrinks_before_it_would_be_cut() -> None:
    short = labels.recipient_block("বাড়ি ২৩, রোড ১১, মোহাম্মদপুর")
    long = labels.recipient_block(address_of(BN_WORDS, intake.MAX_ADDRESS))
    assert short.size == labels.RECIPIENT_SIZES[0] and len(short.lines) == 1
    assert labels.RECIPIENT_SIZES[1] <= long.size < labels.RECIPIENT_SIZES[0]
    assert long.fits and len(long.lines) > 3
    for line in long.lines:
        assert line.width(long.size) <= labels.INNER + 1e-6


def test_text_that_cannot_fit_is_cut_with_an_ellipsis_and_says_so() -> None:
    block = fonts.fit_block("W" * 30 + " " + "W" * 30, fonts.REGULAR, 10, 8, 100, 12)
    assert not block.fits
    assert block.lines[-1].text.endswith("…")
    assert all(line.width(block.size) <= 100 + 1e-6 for line in block.lines)


def test_words_typed_without_spaces_still_wrap() -> None:
    typed = "House#12,Road#5,Dhanmondi,Dhaka-1205,Bangladesh/নিকটে:ধানমন্ডি-লেক"
    lines = fonts.wrap(typed, fonts.REGULAR, 10, 90, 10)
    assert len(lines) > 1 and "".join(lines) == typed
    assert all(fonts.width(line, fonts.REGULAR, 10) <= 90 for line in lines)


def test_a_bangla_word_is_never_cut_inside_a_conjunct() -> None:
    assert fonts._clusters("ক্ষমা") == ["ক্ষ", "মা"]  # noqa: SLF001
    word = "ক্ষমাশ্রীকেরানীগঞ্জ" * 6
    lines = fonts.wrap(word, fonts.REGULAR, 10, 60, 20)
    assert "".join(lines) == word
    assert not any(line.startswith(("্", "া", "ী", "ে")) for line in lines)


def test_intake_refuses_an_address_the_label_cannot_print() -> None:
    wide = ("WWWWWWWWW " * 40).strip()
    assert len(wide) <= intake.MAX_ADDRESS
    body = booking(recipient={**booking()["recipient"], "address": wide})  # type: ignore[dict-item]
    with pytest.raises(ValidationError) as e:
        intake.parse_booking(body)
    assert "label" in str(e.value.errors["recipient.address"])
    fine = booking(recipient={**booking()["recipient"], "address": address_of(BN_WORDS, 400)})  # type: ignore[dict-item]
    assert intake.parse_booking(fine).recipient.address
