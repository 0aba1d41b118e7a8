"""The bulk-booking file: its columns (English keys, Bangla headers accepted), the template a
merchant fills in, and reading an upload into rows by column (at most ``MAX_ROWS``)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask_babel import LazyString

from logistics.errors import ValidationError
from logistics.i18n import _l

MAX_ROWS = 10_000


@dataclass(frozen=True)
class Column:
    key: str
    bn: str  # the Bangla header, accepted as well as the key
    required: bool
    label: LazyString


COLUMNS: tuple[Column, ...] = (
    Column("order_id", "অর্ডার আইডি", True, _l("Order id")),
    Column("recipient_name", "প্রাপকের নাম", True, _l("Recipient's name")),
    Column("recipient_phone", "প্রাপকের ফোন", True, _l("Recipient's mobile")),
    Column("recipient_address", "প্রাপকের ঠিকানা", True, _l("Recipient's address")),
    Column("recipient_post_code", "পোস্ট কোড", True, _l("Post code")),
    Column("weight_g", "ওজন (গ্রাম)", True, _l("Weight (grams)")),
    Column("cod_taka", "ক্যাশ অন ডেলিভারি (টাকা)", False, _l("Cash on delivery (taka)")),
    Column("declared_taka", "ঘোষিত মূল্য (টাকা)", False, _l("Declared value (taka)")),
    Column("recipient_area", "এলাকা কোড", False, _l("Area code")),
    Column("length_mm", "দৈর্ঘ্য (মিমি)", False, _l("Length (mm)")),
    Column("width_mm", "প্রস্থ (মিমি)", False, _l("Width (mm)")),
    Column("height_mm", "উচ্চতা (মিমি)", False, _l("Height (mm)")),
)
KEYS = tuple(c.key for c in COLUMNS)
_HEADERS = {h.strip().lower(): c.key for c in COLUMNS for h in (c.key, c.bn)}
# Where the booking rules' fields land among the columns.
COLUMN_OF = {
    "merchant_reference": "order_id",
    "recipient.name": "recipient_name",
    "recipient.phone": "recipient_phone",
    "recipient.address": "recipient_address",
    "recipient.post_code": "recipient_post_code",
    "recipient.area": "recipient_area",
    "weight_g": "weight_g",
    "cod_amount_poisha": "cod_taka",
    "declared_value_poisha": "declared_taka",
    "dimensions_mm": "length_mm",
}


def template(lang: str) -> str:
    """The CSV a merchant fills in: the headers (in Bangla or English) and one example row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([c.bn if lang == "bn" else c.key for c in COLUMNS])
    w.writerow(
        [
            "ORDER-1001",
            "করিম শেখ",
            "01812345678",
            "বাড়ি ২৩, রোড ১১, মোহাম্মদপুর",
            "1207",
            "1200",
            "450",
            "",
            "",
            "",
            "",
            "",
        ]
    )
    return "\ufeff" + buf.getvalue()


def read(raw: bytes) -> list[dict[str, str]]:
    """The file's rows by column key; a file that cannot be read is refused naming ``file``."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            {"file": _l("Save the file as CSV in UTF-8 and upload it again.")}
        ) from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError({"file": _l("The file is empty.")}) from None
    except csv.Error:
        raise ValidationError({"file": _l("This is not a CSV file.")}) from None
    keys = [_HEADERS.get(h.strip().lower()) for h in header]
    unknown = [h for h, k in zip(header, keys, strict=True) if k is None and h.strip()]
    missing = [c.key for c in COLUMNS if c.required and c.key not in keys]
    if unknown or missing:
        raise ValidationError(
            {
                "file": _l(
                    "The header row does not match the template (unknown: %(unknown)s; missing: "
                    "%(missing)s).",
                    unknown=", ".join(unknown) or "–",
                    missing=", ".join(missing) or "–",
                )
            }
        )
    rows: list[dict[str, str]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationError(
                    {"file": _l("A file may have at most %(n)s rows; split it.", n=f"{MAX_ROWS:,}")}
                )
            row = {k: "" for k in KEYS}
            for k, v in zip(keys, cells, strict=False):
                if k is not None:
                    row[k] = v.strip()
            rows.append(row)
    except csv.Error:
        raise ValidationError({"file": _l("This is not a CSV file.")}) from None
    if not rows:
        raise ValidationError({"file": _l("The file has no rows under its header.")})
    return rows
