"""The public tracking page answers: when the parcel is expected, the delivery office's address
and hours, whether COD is still owed; the recipient proves their phone with a code (limited,
counted, in the page's language) to turn SMS updates on and set a delivery pin and window;
receipts carry a number a person can read aloud."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.db import utcnow
from logistics.models import (
    DeliveryPreference,
    Notification,
    Parcel,
    ParcelStatus,
    RecipientCode,
    SmsContact,
    User,
)
from logistics.services import intake, obligations, recipient, tracking
from logistics.text import DHAKA
from tests.conftest import booking


def _parcel(db: Session, **over: object) -> Parcel:
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    assert clerk is not None
    p = intake.create_parcel(db, intake.parse_booking(booking(**over)), clerk)
    db.commit()
    return p


def _code_sent(db: Session, p: Parcel) -> str:
    """The code as the SMS carries it (the database keeps only its digest)."""
    db.expire_all()
    n = db.scalars(
        select(Notification)
        .where(Notification.parcel_id == p.id, Notification.event == "code")
        .order_by(Notification.id.desc())
    ).first()
    assert n is not None
    m = re.search(r"\b(\d{6})\b", n.text)
    assert m, n.text
    return m.group(1)


def test_the_page_says_when_where_and_what_is_owed(client: FlaskClient, db: Session) -> None:
    p = _parcel(db, cod_amount_poisha=45500)
    page = client.get(f"/track/{p.tracking_id}", headers={"Accept-Language": "en"}).text
    office = p.destination_office
    assert 'id="expected"' in page and "Expected delivery:" in page
    assert f"{office.name_en}, {office.thana_en}, Dhaka-{office.post_code}" in page
    assert f"{office.opens_at} to {office.closes_at}" in page and "Sun" in page
    owed = obligations.of_parcel(db, p.id)
    cod = next(ob for purpose, ob in owed.items() if purpose.value == "cod")
    assert "to pay when it is delivered" in page and f"{cod.amount_poisha // 100:,}" in page
    # Collected: the page says there is nothing to pay.
    cod.status = type(cod.status)("collected")
    db.commit()
    page = client.get(f"/track/{p.tracking_id}", headers={"Accept-Language": "en"}).text
    assert "Cash on delivery is paid" in page
    # In Bangla: the address and the hours in Bangla, digits included.
    bn = client.get(f"/track/{p.tracking_id}", headers={"Accept-Language": "bn"}).text
    assert office.thana_bn in bn and "ঢাকা-" in bn and "০৯:০০" in bn


def test_expected_day_follows_the_charter_and_the_office_days() -> None:
    """Next working day of the delivery office after it was handed in; a window once out."""

    class Office:
        open_days = "Sun Mon Tue Wed Thu"

    thursday = datetime(2026, 12, 3, 11, 0, tzinfo=DHAKA)
    p = Parcel(status=ParcelStatus.ACCEPTED, accepted_at=thursday, created_at=thursday)
    p.destination_office = Office()  # type: ignore[assignment]
    got = recipient.expected(p, now=thursday)
    assert got is not None and got.day == date(2026, 12, 6)  # Sunday: Friday, Saturday closed
    # Late (the day passed): the next open day from today.
    monday = datetime(2026, 12, 7, 12, 0, tzinfo=DHAKA)
    got = recipient.expected(p, now=monday)
    assert got is not None and got.day == date(2026, 12, 7)
    p.status = ParcelStatus.BOOKED
    assert recipient.expected(p, now=thursday) is None
    p.status = ParcelStatus.DELIVERED
    assert recipient.expected(p, now=thursday) is None


def test_out_for_delivery_shows_its_window(client: FlaskClient, db: Session) -> None:
    p = _parcel(db)
    office = p.destination_office
    tracking.record_event(db, p, "EMG", office=office)
    start = datetime.now(DHAKA).replace(hour=10, minute=0, second=0, microsecond=0)
    tracking.record_event(
        db, p, "OFD", office=office, window={"start": start, "end": start + timedelta(hours=2)}
    )
    db.commit()
    page = client.get(f"/track/{p.tracking_id}", headers={"Accept-Language": "en"}).text
    assert "Out for delivery today between 10:00 and 12:00." in page


def test_a_code_proves_the_recipient_and_turns_updates_on_in_the_page_language(
    client: FlaskClient, db: Session
) -> None:
    p = _parcel(db)
    number = p.recipient_phone
    db.add(SmsContact(msisdn=number, lang="bn", opted_out_at=utcnow()))  # had said STOP
    db.commit()
    en = {"Accept-Language": "en"}
    # Not proven yet: the delivery page sends them to the code page.
    resp = client.get(f"/track/{p.tracking_id}/delivery", headers=en)
    assert resp.status_code == 302 and resp.location.endswith("/code")
    resp = client.post(f"/track/{p.tracking_id}/code", headers=en)
    assert resp.status_code == 302
    page = client.get(resp.location, headers=en).text
    assert "We sent a code to 018•••••678" in page
    code = _code_sent(db, p)
    sms = db.scalar(select(Notification).where(Notification.event == "code"))
    assert sms is not None and sms.lang == "en" and sms.msisdn == number
    assert sms.status.value == "queued"  # a code goes even to a number that said STOP
    wrong = "000000" if code != "000000" else "111111"
    resp = client.post(f"/track/{p.tracking_id}/verify", data={"code": wrong}, headers=en)
    assert resp.status_code == 422 and 'id="code-error"' in resp.text
    # Bangla digits typed are read as digits.
    typed = code.translate(str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯"))
    resp = client.post(f"/track/{p.tracking_id}/verify", data={"code": typed}, headers=en)
    assert resp.status_code == 302 and resp.location.endswith("/delivery")
    db.expire_all()
    who = db.get(SmsContact, number)
    assert who is not None and who.opted_out_at is None and who.lang == "en"
    row = db.scalar(select(RecipientCode).where(RecipientCode.parcel_id == p.id))
    assert row is not None and row.tries == 2 and row.verified_at is not None
    assert code not in row.code_sha256
    page = client.get(f"/track/{p.tracking_id}", headers=en).text
    assert 'id="set-delivery"' in page and "go to 018•••••678" in page


def test_wrong_codes_are_counted_and_codes_are_limited(client: FlaskClient, db: Session) -> None:
    p = _parcel(db)
    assert client.post(f"/track/{p.tracking_id}/code").status_code == 302
    code = _code_sent(db, p)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(recipient.CODE_TRIES):
        assert (
            client.post(f"/track/{p.tracking_id}/verify", data={"code": wrong}).status_code == 422
        )
    # Used up: even the right code is refused now.
    resp = client.post(
        f"/track/{p.tracking_id}/verify", data={"code": code}, headers={"Accept-Language": "en"}
    )
    assert resp.status_code == 422 and "Too many wrong codes" in resp.text
    for _ in range(recipient.SENDS_PER_PARCEL - 1):
        assert client.post(f"/track/{p.tracking_id}/code").status_code == 302
    resp = client.post(f"/track/{p.tracking_id}/code", headers={"Accept-Language": "en"})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert "Too many codes for this parcel" in resp.text
    sent = db.scalars(select(Notification).where(Notification.event == "code")).all()
    assert len(sent) == recipient.SENDS_PER_PARCEL


def test_a_code_runs_out_of_time(db: Session) -> None:
    p = _parcel(db)
    then = utcnow() - timedelta(minutes=11)
    recipient.send_code(db, p, "bn", now=then)
    db.commit()
    code = _code_sent(db, p)
    assert recipient.verify(db, p, code, "bn") is recipient.Verified.NO_CODE


def _prove(client: FlaskClient, db: Session, p: Parcel) -> None:
    assert client.post(f"/track/{p.tracking_id}/code").status_code == 302
    resp = client.post(f"/track/{p.tracking_id}/verify", data={"code": _code_sent(db, p)})
    assert resp.status_code == 302


def test_the_recipient_sets_a_pin_and_a_window_and_bad_ones_are_named(
    client: FlaskClient, db: Session
) -> None:
    p = _parcel(db)
    url = f"/track/{p.tracking_id}/delivery"
    assert client.post(url, data={"lat": "23.75", "lon": "90.36"}).status_code == 302  # not proven
    assert db.get(DeliveryPreference, p.id) is None
    _prove(client, db, p)
    en = {"Accept-Language": "en"}
    far = client.post(url, data={"lat": "22.3569", "lon": "91.7832", "window": ""}, headers=en)
    assert far.status_code == 422 and 'id="lat-error"' in far.text and "km from" in far.text
    bad = client.post(url, data={"lat": "23.7x", "lon": "", "window": "01-02"}, headers=en)
    assert bad.status_code == 422
    assert 'id="lat-error"' in bad.text and 'id="window-error"' in bad.text
    assert 'id="lon-error"' in bad.text
    assert db.get(DeliveryPreference, p.id) is None  # nothing half-written
    office = p.destination_office
    lat, lon = float(office.lat) + 0.004, float(office.lon) - 0.003
    ok = client.post(url, data={"lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "window": "15-18"})
    assert ok.status_code == 302 and ok.location.endswith(f"/track/{p.tracking_id}")
    db.expire_all()
    pref = db.get(DeliveryPreference, p.id)
    assert pref is not None and pref.window == "15-18" and pref.msisdn == p.recipient_phone
    assert abs(float(pref.lat or 0) - lat) < 1e-6
    page = client.get(url, headers=en).text
    assert f'value="{lat:.6f}"' in page and 'value="15-18" selected' in page


def test_a_finished_journey_takes_no_codes(client: FlaskClient, db: Session) -> None:
    p = _parcel(db)
    office = p.destination_office
    for code in ("EMG", "EMI"):
        tracking.record_event(db, p, code, office=office)
    db.commit()
    page = client.get(f"/track/{p.tracking_id}").text
    assert 'id="updates"' not in page and 'id="expected"' not in page
    assert client.post(f"/track/{p.tracking_id}/code").status_code == 409


@pytest.mark.parametrize("attempt_id, number", [(1, "DK-0000-0018"), (1234567, "DK-1234-5674")])
def test_receipt_numbers_read_aloud_with_a_check_digit(attempt_id: int, number: str) -> None:
    from logistics.services import notify
    from logistics.services.manifests import luhn

    got = notify.receipt_number(attempt_id)
    assert got == number
    digits = got.replace("DK-", "").replace("-", "")
    assert str(luhn(digits[:-1])) == digits[-1]


def test_an_admin_sets_an_office_phone_that_the_tracking_page_shows(
    client: FlaskClient, db: Session
) -> None:
    from tests.conftest import login

    p = _parcel(db)
    code = p.destination_office.code
    login(client, "admin", "admin-demo-1")
    bad = client.post(f"/admin/offices/{code}/phone", data={"phone": "call me"})
    assert bad.status_code == 422 and "phone" in bad.text
    assert client.post("/admin/offices/NOPE/phone", data={"phone": "02-9551234"}).status_code == 404
    assert (
        client.post(f"/admin/offices/{code}/phone", data={"phone": "02-9551234"}).status_code == 302
    )
    page = client.get(f"/track/{p.tracking_id}", headers={"Accept-Language": "en"}).text
    assert 'href="tel:02-9551234"' in page
