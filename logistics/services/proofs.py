"""Proof of delivery beyond the handover code: where the postman stood, and a photo or the
recipient's signature where no code can be had (the recipient's phone is off, or lost).

An image is checked by decoding it (not by its name or declared type), limited in size, and
re-encoded on arrival: a photo as a JPEG at most 1,600 px on its longer side, a signature as a
greyscale PNG, so nothing of the camera's metadata (place, device) is kept beyond what the
record needs. A signature comes from the page's signature pad as a PNG data URL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from PIL import Image, UnidentifiedImageError

from logistics.errors import ValidationError
from logistics.i18n import _l

MAX_BYTES = 8 * 1024 * 1024  # what a phone's camera sends, at most
MAX_SIDE = {"photo": 1600, "signature": 1200}
MIN_INK = 0.002  # a signature pad with (almost) nothing drawn is not a signature
Image.MAX_IMAGE_PIXELS = 40_000_000  # a decompression bomb is refused, not decoded


@dataclass(frozen=True)
class Proof:
    kind: str  # photo | signature
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _decode(raw: bytes, field: str) -> Image.Image:
    if not raw:
        raise ValidationError(
            {field: _l("Take a photo of the parcel handed over, or ask for a signature.")}
        )
    if len(raw) > MAX_BYTES:
        raise ValidationError({field: _l("The image is larger than 8 MB; take it again.")})
    try:
        img = Image.open(io.BytesIO(raw))
        img.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise ValidationError(
            {field: _l("This is not a photo we can read; take it again.")}
        ) from None
    if img.format not in ("JPEG", "PNG", "WEBP"):
        raise ValidationError({field: _l("This is not a photo we can read; take it again.")})
    return img


def photo(raw: bytes) -> Proof:
    img = _decode(raw, "photo").convert("RGB")
    img.thumbnail((MAX_SIDE["photo"], MAX_SIDE["photo"]))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80, optimize=True)
    return Proof("photo", "image/jpeg", out.getvalue())


def signature(data_url: str) -> Proof:
    head, _, body = data_url.partition(",")
    if head != "data:image/png;base64" or not body:
        raise ValidationError({"signature": _l("Ask the recipient to sign in the box.")})
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"signature": _l("Ask the recipient to sign in the box.")}) from None
    img = _decode(raw, "signature")
    flat = Image.new("RGBA", img.size, "white")
    flat.alpha_composite(img.convert("RGBA"))
    grey = flat.convert("L")
    grey.thumbnail((MAX_SIDE["signature"], MAX_SIDE["signature"]))
    dark = sum(grey.histogram()[:128])
    if dark < MIN_INK * grey.width * grey.height:
        raise ValidationError({"signature": _l("Ask the recipient to sign in the box.")})
    out = io.BytesIO()
    grey.save(out, "PNG", optimize=True)
    return Proof("signature", "image/png", out.getvalue())


def place(lat: str | None, lon: str | None) -> tuple[Decimal, Decimal] | None:
    """Where the postman's phone said it was, if it said (both or neither)."""
    lat, lon = (lat or "").strip(), (lon or "").strip()
    if not lat and not lon:
        return None
    try:
        a, b = Decimal(lat), Decimal(lon)
    except InvalidOperation:
        raise ValidationError({"place": _l("The phone's location could not be read.")}) from None
    if not (a.is_finite() and b.is_finite() and -90 <= a <= 90 and -180 <= b <= 180):
        raise ValidationError({"place": _l("The phone's location could not be read.")})
    return a.quantize(Decimal("0.000001")), b.quantize(Decimal("0.000001"))
