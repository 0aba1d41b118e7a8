"""Label rendering against raw ReportLab drawing the same content with the same shaping.

    .venv/bin/python bench/bench_labels.py            # 300 labels, 5 rounds
    .venv/bin/python bench/bench_labels.py --labels 600 --rounds 7

Each label is first drawn once by ``labels.draw_label`` while every string, position, font,
size, line, box and barcode it draws is recorded. The baseline then replays that record with
nothing but ReportLab: every string shaped by ReportLab's ``shapeStr`` once per script run
(Latin too), drawn with ``drawString``, the bars as one ReportLab path. The baseline does no
layout at all (no fitting, wrapping or catalog lookups); DakGhor does all of it, and also
marks every Bangla line with its real text for copy and search. Both render the same labels
into one PDF, alternating round by round; the ratio of medians is the figure to read. DakGhor
is measured twice: as a running server renders (its shaping caches warm), and with its caches
emptied before the round (what a fresh process pays).

Labels differ from one another (names, addresses, ids and amounts drawn from pools of
real-looking Dhaka addresses), so caches only help as much as they would on a real batch.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reportlab.pdfbase.ttfonts import shapeStr  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from logistics import s10  # noqa: E402
from logistics.documents import fonts, labels  # noqa: E402
from logistics.documents.labels import LABEL_H, LABEL_W, Address, LabelData, OfficeRef  # noqa: E402

NAMES = ["করিম শেখ", "রহিমা খাতুন", "Md. Abdul Kader", "নুসরাত জাহান", "Tanvir Ahmed", "সুমাইয়া আক্তার"]
AREAS = ["মোহাম্মদপুর", "ধানমন্ডি", "মিরপুর ১০", "উত্তরা সেক্টর ৭", "Banani", "Gulshan 2", "শ্যামলী"]
ROADS = ["রোড", "লেন", "Road", "সড়ক"]
OFFICES = [
    OfficeRef("MOH", "Mohammadpur Housing", "মোহাম্মদপুর হাউজিং", "1207"),
    OfficeRef("DHN", "Dhanmondi", "ধানমন্ডি", "1209"),
    OfficeRef("MIR", "Mirpur", "মিরপুর", "1216"),
    OfficeRef("UTT", "Uttara Model Town", "উত্তরা মডেল টাউন", "1230"),
]


def address(rng: random.Random) -> str:
    house = rng.randint(1, 120)
    parts = [f"বাড়ি {house}", f"{rng.choice(ROADS)} {rng.randint(1, 30)}", rng.choice(AREAS)]
    if rng.random() < 0.4:
        parts.insert(0, f"ফ্ল্যাট {rng.randint(1, 9)}{rng.choice('ABCD')}")
    if rng.random() < 0.3:
        parts.append("নিকটে জামে মসজিদ, ঢাকা")
    return ", ".join(parts)


def sample(n: int, seed: int = 7) -> list[LabelData]:
    rng = random.Random(seed)
    t0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    out = []
    for i in range(n):
        cod = rng.choice([0, 0, rng.randint(100, 5000) * 100])
        dest = rng.choice(OFFICES)
        out.append(
            LabelData(
                tracking_id=s10.make_id("CP", 1000 + i),
                service="CP",
                booked_at=t0 + timedelta(minutes=i),
                sender=Address(rng.choice(NAMES), "+8801712345678", address(rng)),
                recipient=Address(
                    rng.choice(NAMES), "+8801812345678", address(rng), dest.post_code
                ),
                origin=OfficeRef("GPO", "Dhaka GPO", "ঢাকা জিপিও", "1000"),
                destination=dest,
                weight_g=rng.randint(100, 5000),
                postage_poisha=rng.choice([2000, 3000, 4500]),
                cod_to_collect_poisha=cod,
                postage=rng.choice(["paid", "on_account"]),
            )
        )
    return out


@dataclass
class Record:
    """What one label drew, in the order it drew it."""

    ops: list[tuple[Any, ...]]


class RecordingCanvas(Canvas):
    """A canvas that remembers the lines, boxes and fill colours drawn on it."""

    record: list[tuple[Any, ...]]

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.record.append(("line", x1, y1, x2, y2))
        super().line(x1, y1, x2, y2)

    def rect(self, *a: Any, **k: Any) -> None:
        self.record.append(("rect", a, k))
        super().rect(*a, **k)

    def setFillColorRGB(self, *a: Any, **k: Any) -> None:  # noqa: N802 (ReportLab's name)
        self.record.append(("fill", a))
        super().setFillColorRGB(*a, **k)


def record(batch: list[LabelData]) -> list[Record]:
    """Draw every label once through DakGhor, keeping what was drawn where."""
    draw, draw_barcode = fonts.draw, labels.draw_barcode
    c = RecordingCanvas(io.BytesIO(), pagesize=(LABEL_W, LABEL_H))
    out: list[Record] = []

    def rec_draw(cv: Canvas, x: float, y: float, s: Any, font: str, size: float, **k: Any) -> None:
        t = s if isinstance(s, fonts.Text) else fonts.text(s, font)
        align = k.get("align", "left")
        if align != "left":
            x -= t.width(size) / (2 if align == "center" else 1)
        c.record.append(("text", x, y, t.text, font, size))
        draw(cv, x, y, t, font, size)

    def rec_bars(cv: Canvas, x: float, y: float, w: float, h: float, data: str) -> None:
        c.record.append(("bars", x, y, w, h, data))
        draw_barcode(cv, x, y, w, h, data)

    fonts.draw, labels.draw_barcode = rec_draw, rec_bars  # type: ignore[assignment]
    try:
        for label in batch:
            c.record = []
            labels.draw_label(c, label)
            c.showPage()
            out.append(Record(c.record))
    finally:
        fonts.draw, labels.draw_barcode = draw, draw_barcode  # type: ignore[assignment]
    return out


def shaped(text: str, font: str, size: float) -> str:
    """ReportLab's shaping of a mixed line: ``shapeStr`` once per script run."""
    out: Any = None
    for run in fonts.script_runs(text):
        piece = shapeStr(run, font, size, force=True)
        out = piece if out is None else out + piece
    return out if out is not None else text


def replay(c: Canvas, rec: Record) -> None:
    """Raw ReportLab: the same content at the same places, no layout, no text marks."""
    c.setLineWidth(0.8)
    c.rect(1 * 72 / 25.4, 1 * 72 / 25.4, LABEL_W - 2 * 72 / 25.4, LABEL_H - 2 * 72 / 25.4)
    for op in rec.ops:
        kind = op[0]
        if kind == "text":
            _, x, y, text, font, size = op
            c.setFont(font, size)
            c.drawString(x, y, shaped(text, font, size))
        elif kind == "line":
            c.line(*op[1:])
        elif kind == "rect":
            c.rect(*op[1], **op[2])
        elif kind == "fill":
            c.setFillColorRGB(*op[1])
        else:
            _, x, y, w, h, data = op
            modules = labels.code128_modules(data)
            mw = w / (len(modules) + 2 * labels.QUIET_MODULES)
            p = c.beginPath()
            for bar in labels._BARS.finditer(modules):  # noqa: SLF001
                p.rect(x + (labels.QUIET_MODULES + bar.start()) * mw, y, len(bar.group()) * mw, h)
            c.drawPath(p, stroke=0, fill=1)


def raw_render(records: list[Record]) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(LABEL_W, LABEL_H), pageCompression=1)
    for rec in records:
        replay(c, rec)
        c.showPage()
    c.save()
    return buf.getvalue()


def shaping_calls(fn: Callable[[], object]) -> int:
    """How many times ``fn`` asks HarfBuzz (through ReportLab) to shape a string."""
    import reportlab.pdfbase.ttfonts as tt

    real = tt.shapeFragWord
    count = 0

    def counting(*a: Any, **k: Any) -> Any:
        nonlocal count
        count += 1
        return real(*a, **k)

    tt.shapeFragWord = counting
    try:
        fn()
    finally:
        tt.shapeFragWord = real
    return count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--labels", type=int, default=300, help="labels per round (default 300)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds, alternating (default 5)")
    args = ap.parse_args()
    if args.labels < 1 or args.rounds < 1:
        ap.error("--labels and --rounds must be at least 1")

    batch = sample(args.labels)
    records = record(batch)
    fonts.text.cache_clear()
    fonts._run.cache_clear()  # noqa: SLF001 (the first round starts cold, as a new process does)
    first = shaping_calls(lambda: labels.render(batch[:50]))
    warm = shaping_calls(lambda: labels.render(batch[50:100] or batch[:50]))
    raw_calls = shaping_calls(lambda: raw_render(records[:50]))

    ours_t, cold_t, raw_t = [], [], []
    for _ in range(args.rounds):
        t = time.perf_counter()
        labels.render(batch)
        ours_t.append(time.perf_counter() - t)
        fonts.text.cache_clear()
        fonts._run.cache_clear()  # noqa: SLF001
        t = time.perf_counter()
        labels.render(batch)
        cold_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        raw_render(records)
        raw_t.append(time.perf_counter() - t)
    ours = args.labels / statistics.median(ours_t)
    cold = args.labels / statistics.median(cold_t)
    raw = args.labels / statistics.median(raw_t)
    print(
        f"labels: {args.labels} different labels per round, {args.rounds} rounds, one thermal PDF"
    )
    print(f"  raw ReportLab, same content       {raw:8.1f} labels/s")
    print(f"  DakGhor labels.render             {ours:8.1f} labels/s   ({ours / raw:.2f}x raw)")
    print(f"  DakGhor, shaping caches emptied   {cold:8.1f} labels/s   ({cold / raw:.2f}x raw)")
    print("shaping calls per label:")
    print(f"  raw ReportLab                     {raw_calls / 50:8.1f}")
    print(f"  DakGhor, first 50 of a process    {first / 50:8.1f}")
    print(f"  DakGhor, the next 50              {warm / 50:8.1f}")


if __name__ == "__main__":
    main()
