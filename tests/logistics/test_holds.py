"""Held for collection: after its last failed attempt (or by the clerk) a parcel waits at its
delivery office, the recipient told the code and the last day; at the counter the code is
typed (tries counted, then locked), the COD taken once in cash, and the parcel is delivered."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.errors import Conflict
from logistics.models import (
    Notification,
    Obligation,
    ObligationStatus,
    Parcel,
    ParcelHold,
    ParcelStatus,
    Purpose,
)
from logistics.services import holds, rounds
from logistics.text import DHAKA
from tests.conftest import login
from tests.logistics.test_rounds import MORNING, _user, arrived, out_with_courier


@pytest.fixture(autouse=True)
def no_quiet_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAKGHOR_SMS_QUIET", "0-0")


def collection_code(db: Session, p: Parcel) -> str:
    n = db.scalars(
        select(Notification)
        .where(Notification.parcel_id == p.id, Notification.event == "held")
        .order_by(Notification.id.desc())
    ).first()
    assert n is not None
    m = re.search(r"\b(\d{6})\b", n.text)
    assert m is not None, n.text
    return m.group(1)


def failed_twice(db: Session, p: Parcel) -> None:
    for _ in range(2):
        stop = out_with_courier(db, [p]).stops[0]
        rounds.fail(db, stop, "absent", MORNING)
        db.commit()


def test_the_last_failed_attempt_holds_it_and_tells_the_code_and_day(db: Session) -> None:
    (p,) = arrived(db, 1)
    stop = out_with_courier(db, [p]).stops[0]
    rounds.fail(db, stop, "absent", MORNING)
    db.commit()
    db.refresh(p)
    assert p.status is ParcelStatus.DELIVERY_FAILED  # one attempt: it goes out again
    stop = out_with_courier(db, [p]).stops[0]
    rounds.fail(db, stop, "refused", MORNING)
    db.commit()
    db.refresh(p)
    assert p.status is ParcelStatus.HELD
    held = holds.of_parcel(db, p.id)
    assert held is not None and held.code_sha256
    code = collection_code(db, p)
    assert code not in held.code_sha256
    # Seven open days of the office (Sunday to Thursday) after today, at its closing time.
    last = held.until_at.astimezone(DHAKA)
    assert last.strftime("%H:%M") == p.destination_office.closes_at
    assert last.strftime("%a") in p.destination_office.open_days.split()
    assert timedelta(days=7) <= last - MORNING <= timedelta(days=12)
    assert [e.code for e in sorted(p.events, key=lambda e: e.id)][-3:] == ["OFD", "EMH", "HLD"]


def test_collected_at_the_counter_with_the_code_and_the_cod_once(
    client: FlaskClient, db: Session
) -> None:
    (p,) = arrived(db, 1, cod_poisha=20000)
    failed_twice(db, p)
    held = holds.of_parcel(db, p.id)
    assert held is not None
    code = collection_code(db, p)
    page = client.get(f"/track/{p.tracking_id}").text
    assert 'id="held"' in page and "collection code" in page
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    office = client.get("/office").text
    assert f'id="held-{p.id}"' in office
    url = f"/office/holds/{held.id}/collect"
    wrong_amount = client.post(url, data={"code": code, "cod": "1.00"})
    assert wrong_amount.status_code == 422 and f'id="held-{p.id}-cod-error"' in wrong_amount.text
    db.refresh(held)
    assert held.code_tries == 0  # a wrong amount counts no try
    ob = db.scalar(
        select(Obligation).where(Obligation.parcel_id == p.id, Obligation.purpose == Purpose.COD)
    )
    assert ob is not None
    taka = f"{ob.amount_poisha / 100:.2f}"
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post(url, data={"code": wrong, "cod": taka})
    assert bad.status_code == 422 and f'id="held-{p.id}-code-error"' in bad.text
    ok = client.post(url, data={"code": code, "cod": taka})
    assert ok.status_code == 302
    db.expire_all()
    assert db.get(Parcel, p.id).status is ParcelStatus.DELIVERED  # type: ignore[union-attr]
    ob = db.get(Obligation, ob.id)
    assert ob is not None and ob.status is ObligationStatus.COLLECTED and ob.method == "cash"
    held = db.get(ParcelHold, held.id)
    assert held is not None and held.cod_cash_poisha == ob.amount_poisha
    assert client.post(url, data={"code": code, "cod": taka}).status_code == 409
    # Another delivery office's clerk finds no such parcel held there.
    login(client, "clerk.gpo", "clerk-demo-1")
    assert client.post(url, data={"code": code}).status_code == 404


def test_five_wrong_codes_lock_the_collection(db: Session) -> None:
    (p,) = arrived(db, 1)
    failed_twice(db, p)
    held = holds.of_parcel(db, p.id)
    assert held is not None
    clerk = _user(db, "clerk.mohammadpur")
    code = collection_code(db, p)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(holds.CODE_TRIES):
        assert holds.collect(db, held, wrong, "", clerk) is holds.Collection.WRONG
        db.commit()
    assert holds.collect(db, held, code, "", clerk) is holds.Collection.LOCKED
    db.commit()
    db.refresh(held)
    assert held.locked_until is not None
    later = held.locked_until + timedelta(seconds=1)
    assert holds.collect(db, held, code, "", clerk, now=later) is holds.Collection.COLLECTED


def test_the_clerk_holds_a_parcel_and_only_one_waiting_here(
    client: FlaskClient, db: Session
) -> None:
    (p, q) = arrived(db, 2)
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    resp = client.post(f"/office/parcels/{p.id}/hold")
    assert resp.status_code == 302
    db.refresh(p)
    assert p.status is ParcelStatus.HELD and collection_code(db, p)
    assert client.post(f"/office/parcels/{p.id}/hold").status_code == 409  # held already
    out_with_courier(db, [q])
    assert client.post(f"/office/parcels/{q.id}/hold").status_code == 409  # out with a postman
    assert client.post("/office/parcels/999999/hold").status_code == 404
    with pytest.raises(Conflict):
        holds.hold(db, q, None)
