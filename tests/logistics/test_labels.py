"""Labels: the barcode scans back to the tracking id, and Bangla is shaped, not just drawn."""

from __future__ import annotations

from datetime import UTC, datetime

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image, ImageChops

from logistics.documents import fonts, labels
from logistics.documents.labels import Address, LabelData, OfficeRef


def make_label(tid: str = "CP123456785BD", cod: int = 46650) -> LabelData:
    return LabelData(
        tracking_id=tid,
        service="CP",
        booked_at=datetime(2026, 11, 22, 4, 30, tzinfo=UTC),
        sender=Address("রহিম উদ্দিন", "+8801712345678", "বাড়ি ১২, রোড ৫, ধানমন্ডি, ঢাকা"),
        recipient=Address(
            "করিম শেখ",
            "+8801812345678",
            "ফ্ল্যাট ৪বি, বাড়ি ২৩, রোড ১১, মোহাম্মদপুর হাউজিং, ঢাকা-১২০৭",
            "1207",
        ),
        origin=OfficeRef("GPO", "Dhaka GPO", "ঢাকা জিপিও", "1000"),
        destination=OfficeRef("MOH", "Mohammadpur Housing", "মোহাম্মদপুর হাউজিং", "1207"),
        weight_g=1200,
        postage_poisha=2000,
        cod_to_collect_poisha=cod,
        postage="paid",
    )


def pages(pdf: bytes, dpi: int = 200) -> list[Image.Image]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].render(scale=dpi / 72).to_pil().convert("L") for i in range(len(doc))]
    finally:
        doc.close()


def decoded(img: Image.Image) -> list[str]:
    return sorted(
        r.text for r in zxingcpp.read_barcodes(img) if r.format == zxingcpp.BarcodeFormat.Code128
    )


def test_thermal_label_is_100_by_150_mm_and_its_barcode_decodes_to_the_id() -> None:
    pdf = labels.render([make_label()])
    doc = pdfium.PdfDocument(pdf)
    w, h = doc[0].get_size()
    doc.close()
    assert (round(w / 72 * 25.4), round(h / 72 * 25.4)) == (100, 150)
    assert decoded(pages(pdf)[0]) == ["CP123456785BD"]


def test_a4_sheet_holds_four_labels_that_all_scan() -> None:
    ids = ["CP000000015BD", "CP000000029BD", "CP000000032BD", "CP000000046BD", "CP000000050BD"]
    pdf = labels.render([make_label(t) for t in ids], "a4")
    imgs = pages(pdf, dpi=300)
    assert len(imgs) == 2
    assert decoded(imgs[0]) == sorted(ids[:4])
    assert decoded(imgs[1]) == [ids[4]]


def test_barcode_is_vector_bars_from_python_barcode() -> None:
    modules = labels.code128_modules("CP123456785BD")
    assert set(modules) == {"0", "1"} and modules.endswith("11")  # stop pattern ends in bars
    assert b"/Subtype /Image" not in labels.render(
        [make_label()]
    )  # no raster image: bars are drawn


def test_render_refuses_an_empty_batch_and_an_unknown_layout() -> None:
    with pytest.raises(ValueError):
        labels.render([])
    with pytest.raises(ValueError):
        labels.render([make_label()], "a5")


# Shaping: ক্ষ is one conjunct glyph, কে puts the vowel sign before the consonant.
CONJUNCTS = "ক্ষমা কেরানীগঞ্জ শ্রী"


def test_shaping_merges_conjuncts_into_fewer_glyphs() -> None:
    shaped = fonts.shape(CONJUNCTS, fonts.REGULAR, 12)
    assert len(shaped) < len(CONJUNCTS)


def test_mixed_script_line_is_shaped_run_by_run() -> None:
    assert fonts.script_runs("Tk 20.00 পরিশোধিত / PAID") == ["Tk 20.00 ", "পরিশোধিত / ", "PAID"]
    mixed = fonts.shape("Tk 20 পরিশোধিত", fonts.REGULAR, 12)
    alone = fonts.shape("পরিশোধিত", fonts.REGULAR, 12)
    n = len(alone.__shapeData__)
    # Same glyphs and advances as the Bangla word shaped alone (whole-line shaping differs).
    assert str(mixed)[-n:] == str(alone)
    assert [g.x_advance for g in mixed.__shapeData__][-n:] == [
        g.x_advance for g in alone.__shapeData__
    ]


def _render_word(shape_fn) -> Image.Image:  # type: ignore[no-untyped-def]
    import io

    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(300, 60))
    fonts.register()
    c.setFont(fonts.REGULAR, 28)
    c.drawString(5, 20, shape_fn(CONJUNCTS))
    c.save()
    return pages(buf.getvalue(), 100)[0]


def test_label_bangla_differs_from_unshaped_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the label lost its shaping, it would render exactly like the unshaped text."""
    shaped = _render_word(lambda s: fonts.shape(s, fonts.REGULAR, 28))
    unshaped = _render_word(lambda s: s)
    assert ImageChops.difference(shaped, unshaped).getbbox() is not None

    real = pages(labels.render([make_label()]))[0]
    fonts.text.cache_clear()
    monkeypatch.setattr(fonts, "_run", lambda run, font: fonts.Run(run, fonts.width_of(run, font)))
    try:
        raw = pages(labels.render([make_label()]))[0]
    finally:
        fonts.text.cache_clear()
    assert ImageChops.difference(real, raw).getbbox() is not None
