"""Proof of delivery beyond the code: where the postman stood, a photo or the recipient's
signature where no code can be had (checked, re-encoded without the camera's metadata, shown
only to the office), and a new collection code for a recipient who lost theirs."""

from __future__ import annotations

import base64
import io
import os
import re

import pytest
from flask.testing import FlaskClient
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from logistics.errors import Conflict
from logistics.models import DeliveryProof, Notification, ParcelStatus, RoundParcel
from logistics.services import holds, proofs, rounds
from tests.conftest import login
from tests.logistics.test_holds import collection_code
from tests.logistics.test_rounds import MORNING, _user, arrived, out_with_courier


@pytest.fixture(autouse=True)
def no_quiet_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAKGHOR_SMS_QUIET", "0-0")


def _photo(size: tuple[int, int] = (2400, 1800), noise: bool = False) -> bytes:
    """A camera's JPEG with a GPS tag in its EXIF (the kind of metadata not to keep)."""
    img = (
        Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
        if noise
        else Image.new("RGB", size, (200, 120, 40))
    )
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (23.0, 45.0, 0.0)}  # GPSInfo
    exif[0x010F] = "PhoneMaker"  # Make
    out = io.BytesIO()
    img.save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


def _signature(ink: bool = True) -> str:
    img = Image.new("RGBA", (340, 140), (0, 0, 0, 0))
    if ink:
        d = ImageDraw.Draw(img)
        d.line([(20, 100), (80, 30), (140, 110), (220, 40), (300, 90)], fill="black", width=4)
    out = io.BytesIO()
    img.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_images_are_checked_and_re_encoded_without_the_cameras_metadata() -> None:
    p = proofs.photo(_photo())
    img = Image.open(io.BytesIO(p.data))
    assert p.content_type == "image/jpeg" and img.format == "JPEG"
    assert max(img.size) == 1600 and not img.getexif()
    for bad in (b"", b"GIF89a not really", b"%PDF-1.7"):
        with pytest.raises(proofs.ValidationError) as e:
            proofs.photo(bad)
        assert "photo" in e.value.errors
    s = proofs.signature(_signature())
    assert s.content_type == "image/png" and Image.open(io.BytesIO(s.data)).mode == "L"
    for bad in (_signature(ink=False), "data:image/jpeg;base64,AAAA", "data:image/png;base64,@@"):
        with pytest.raises(proofs.ValidationError) as e:
            proofs.signature(bad)
        assert "signature" in e.value.errors
    assert proofs.place("", "") is None
    assert proofs.place("23.7465", "90.3760") is not None
    with pytest.raises(proofs.ValidationError):
        proofs.place("23.7", "")
    with pytest.raises(proofs.ValidationError):
        proofs.place("91", "90")


def test_a_photo_stands_for_the_code_and_only_the_office_sees_it(
    client: FlaskClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rounds, "utcnow", lambda: MORNING)
    (p, q) = arrived(db, 2, cod_poisha=10000, phone="0181901")
    rnd = out_with_courier(db, [p, q])
    first, second = rnd.stops[0], rnd.stops[1]
    login(client, "courier.mohammadpur", "courier-demo-1")
    page = client.get("/round").text
    assert 'enctype="multipart/form-data"' in page and "sign-pad" in page
    due = f"{(p.cod_amount_poisha + p.cod_fee_poisha) / 100:.2f}"
    # Not a photo: named, nothing written.
    bad = client.post(
        f"/round/stops/{first.id}/proof",
        data={"photo": (io.BytesIO(b"not an image"), "x.jpg"), "cod": due},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and f'id="stop-{first.id}-photo-error"' in bad.text
    # A phone's full-size photo (over the 2 MB other requests may send), with the COD in cash.
    big = _photo(noise=True)
    assert len(big) > 2 * 1024 * 1024
    boundary, body = encode_multipart(
        {
            "photo": FileStorage(io.BytesIO(big), "parcel.jpg", content_type="image/jpeg"),
            "cod": due,
            "lat": "23.7601",
            "lon": "90.3589",
        }
    )  # encoded here: the test client would spool so large a body to a file it never closes
    ok = client.post(
        f"/round/stops/{first.id}/proof",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert ok.status_code == 302, ok.text
    db.expire_all()
    stop = db.get(RoundParcel, first.id)
    assert (
        stop is not None
        and stop.proof_kind == "photo"
        and stop.parcel.status is ParcelStatus.DELIVERED
    )
    assert (float(stop.done_lat or 0), float(stop.done_lon or 0)) == (23.7601, 90.3589)
    assert stop.cod_cash_poisha == p.cod_amount_poisha + p.cod_fee_poisha
    kept = db.get(DeliveryProof, first.id)
    assert kept is not None and len(kept.data) < len(big)
    # The other by signature, with a place that cannot be read: refused, naming it.
    garbled = client.post(
        f"/round/stops/{second.id}/proof",
        data={"signature": _signature(), "cod": due, "lat": "north", "lon": "90"},
    )
    assert garbled.status_code == 422 and f'id="stop-{second.id}-place-error"' in garbled.text
    signed = client.post(
        f"/round/stops/{second.id}/proof", data={"signature": _signature(), "cod": due}
    )
    assert signed.status_code == 302
    db.expire_all()
    assert db.get(RoundParcel, second.id).proof_kind == "signature"  # type: ignore[union-attr]
    # The office's clerks see the proof on the round's page; another office does not.
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    outcomes = client.get(f"/office/rounds/{rnd.id}").text
    assert outcomes.count('class="proof-link"') == 2
    img = client.get(f"/rounds/stops/{first.id}/proof")
    assert img.status_code == 200 and img.mimetype == "image/jpeg"
    login(client, "clerk.mirpur", "clerk-demo-1")
    assert client.get(f"/rounds/stops/{first.id}/proof").status_code == 404


def test_a_delivery_with_the_code_records_where_the_postman_stood(db: Session) -> None:
    (p,) = arrived(db, 1, phone="0181902")
    stop = out_with_courier(db, [p]).stops[0]
    from tests.logistics.test_rounds import handover_code

    got = rounds.deliver(
        db, stop, handover_code(db, p), "", MORNING, place=proofs.place("23.75", "90.36")
    )
    assert got is rounds.Handover.DELIVERED and stop.proof_kind == "code"
    assert float(stop.done_lat or 0) == 23.75


def test_a_lost_collection_code_is_replaced_by_a_new_one_at_most_three_times(db: Session) -> None:
    (p,) = arrived(db, 1, phone="0181903")
    clerk = _user(db, "clerk.mohammadpur")
    held = holds.hold(db, p, clerk)
    db.commit()
    old = collection_code(db, p)
    holds.resend_code(db, held, clerk)
    db.commit()
    new = collection_code(db, p)
    assert new != old
    assert holds.collect(db, held, old, "", clerk) is holds.Collection.WRONG
    db.commit()
    for _ in range(2):
        holds.resend_code(db, held, clerk)
        db.commit()
    with pytest.raises(Conflict):
        holds.resend_code(db, held, clerk)
    db.rollback()
    latest = collection_code(db, p)
    assert holds.collect(db, held, latest, "", clerk) is holds.Collection.COLLECTED
    sent = db.scalars(
        select(Notification.text).where(
            Notification.parcel_id == p.id, Notification.event == "held"
        )
    ).all()
    assert len(sent) == 4 and all(re.search(r"\b\d{6}\b", t) for t in sent)
