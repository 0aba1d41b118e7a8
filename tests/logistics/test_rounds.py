"""Rounds at a delivery office: parcels go out with a postman in a window (the recipient told
the window and a handover code); at the door the code is typed (tries counted, then locked),
a COD is taken once in cash at exactly what is due, or the attempt fails with a reason and the
parcel is back at the office; wrong input is named and writes nothing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.errors import ValidationError
from logistics.models import (
    DeliveryRound,
    Notification,
    Obligation,
    ObligationStatus,
    Parcel,
    ParcelStatus,
    Purpose,
    RoundParcel,
    RoundStatus,
    StopOutcome,
    User,
)
from logistics.services import intake, round_scans, rounds, tracking
from logistics.text import DHAKA
from tests.conftest import booking, login

MORNING = datetime.now(DHAKA).replace(hour=8, minute=0, second=0, microsecond=0)


@pytest.fixture(autouse=True)
def no_quiet_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAKGHOR_SMS_QUIET", "0-0")


def _user(db: Session, name: str) -> User:
    u = db.scalar(select(User).where(User.username == name))
    assert u is not None
    return u


def arrived(db: Session, n: int, cod_poisha: int = 0, phone: str = "0181666") -> list[Parcel]:
    """Parcels accepted at the GPO that reached Mohammadpur (its arrival scan); recipients'
    phones are ``phone`` and four digits."""
    clerk = _user(db, "clerk.gpo")
    out = []
    for i in range(n):
        body = booking(
            recipient={**booking()["recipient"], "phone": f"{phone}{i:04d}"},  # type: ignore[dict-item]
            cod_amount_poisha=cod_poisha,
        )
        p = intake.create_parcel(db, intake.parse_booking(body), clerk)
        tracking.record_event(db, p, "EMG", office=p.destination_office)
        out.append(p)
    db.commit()
    return out


def out_with_courier(db: Session, parcels: list[Parcel], at: datetime = MORNING) -> DeliveryRound:
    """The parcels sent out on a round at ``at`` (their handover codes queued then)."""
    clerk = _user(db, "clerk.mohammadpur")
    courier = _user(db, "courier.mohammadpur")
    assert clerk.office is not None
    rnd = rounds.send_out(
        db, clerk.office, str(courier.id), [str(p.id) for p in parcels], "09-12", clerk, at
    )
    for p in parcels:  # scanned into the postman's bag: out for delivery
        round_scans.scan(db, rnd, p.tracking_id, clerk, at)
    round_scans.leave(db, rnd, at)
    db.commit()
    return rnd


def handover_code(db: Session, p: Parcel) -> str:
    n = db.scalar(
        select(Notification).where(Notification.parcel_id == p.id, Notification.event == "handover")
    )
    assert n is not None
    m = re.search(r"\b(\d{6})\b", n.text)
    assert m is not None
    return m.group(1)


def test_sending_out_tells_the_window_and_a_handover_code(db: Session) -> None:
    parcels = arrived(db, 2)
    rnd = out_with_courier(db, parcels)
    assert rnd.status is RoundStatus.OUT and [s.position for s in rnd.stops] == [1, 2]
    for p in parcels:
        db.refresh(p)
        assert p.status is ParcelStatus.OUT_FOR_DELIVERY
        events = {
            n.event: n
            for n in db.scalars(select(Notification).where(Notification.parcel_id == p.id))
        }
        assert "out_for_delivery" in events and "handover" in events
        assert (
            "০৯:০০" in events["out_for_delivery"].text or "09:00" in events["out_for_delivery"].text
        )
        code = handover_code(db, p)
        stop = db.scalar(select(RoundParcel).where(RoundParcel.parcel_id == p.id))
        assert stop is not None and code not in stop.code_sha256


def test_wrong_rounds_are_named_and_write_nothing(db: Session) -> None:
    (here,) = arrived(db, 1)
    clerk = _user(db, "clerk.mohammadpur")
    courier = _user(db, "courier.mohammadpur")
    gpo_clerk = _user(db, "clerk.gpo")
    assert clerk.office is not None
    not_here = intake.create_parcel(db, intake.parse_booking(booking()), gpo_clerk)
    db.commit()
    cases = [
        ({"courier": str(clerk.id)}, "courier"),  # a clerk is not a postman
        ({"parcels": []}, "parcels"),
        ({"parcels": [str(not_here.id)]}, "parcels"),  # not arrived here
        ({"window": "07-08"}, "window"),
    ]
    for change, field in cases:
        args = {"courier": str(courier.id), "parcels": [str(here.id)], "window": "09-12", **change}
        with pytest.raises(ValidationError) as e:
            rounds.send_out(
                db, clerk.office, args["courier"], args["parcels"], args["window"], clerk, MORNING
            )
        assert field in e.value.errors, (change, e.value.errors)
        db.rollback()
    late = MORNING.replace(hour=13)
    with pytest.raises(ValidationError) as e:
        rounds.send_out(db, clerk.office, str(courier.id), [str(here.id)], "09-12", clerk, late)
    assert "window" in e.value.errors
    db.rollback()
    assert db.scalar(select(DeliveryRound)) is None
    db.refresh(here)
    assert here.status is ParcelStatus.AT_DELIVERY_OFFICE


def test_delivered_with_the_code_and_the_cod_in_cash_once(db: Session) -> None:
    (p,) = arrived(db, 1, cod_poisha=45500)
    (plain,) = arrived(db, 1)
    rnd = out_with_courier(db, [p, plain])
    stop = rnd.stops[0]
    ob = db.scalar(
        select(Obligation).where(Obligation.parcel_id == p.id, Obligation.purpose == Purpose.COD)
    )
    assert ob is not None
    due = ob.amount_poisha
    code = handover_code(db, p)
    wrong = "000000" if code != "000000" else "111111"
    # A wrong amount is named and counts no try.
    with pytest.raises(ValidationError) as e:
        rounds.deliver(db, stop, code, "100.00")
    assert "cod" in e.value.errors
    db.rollback()
    assert rounds.deliver(db, stop, wrong, f"{due / 100:.2f}") is rounds.Handover.WRONG
    db.commit()
    db.refresh(stop)
    assert stop.code_tries == 1 and stop.outcome is StopOutcome.PENDING
    db.refresh(ob)
    assert ob.status is ObligationStatus.OPEN  # nothing taken on a wrong code
    # Bangla digits typed are read too.
    bangla = f"{due / 100:.2f}".translate(str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯"))
    assert rounds.deliver(db, stop, code, bangla) is rounds.Handover.DELIVERED
    db.commit()
    db.refresh(ob)
    db.refresh(p)
    assert ob.status is ObligationStatus.COLLECTED and ob.method == "cash"
    assert p.status is ParcelStatus.DELIVERED and stop.cod_cash_poisha == due
    assert rnd.status is RoundStatus.OUT  # one parcel still out
    with pytest.raises(Exception) as again:
        rounds.stop_of(db, stop.id, _user(db, "courier.mohammadpur"))
    assert "already recorded" in str(again.value)
    # No COD on the other: taking money is refused.
    other = rnd.stops[1]
    with pytest.raises(ValidationError) as e:
        rounds.deliver(db, other, handover_code(db, plain), "10")
    assert "cod" in e.value.errors
    db.rollback()
    assert rounds.deliver(db, other, handover_code(db, plain), "") is rounds.Handover.DELIVERED
    db.commit()
    db.refresh(rnd)
    assert rnd.status is RoundStatus.CLOSED


def test_five_wrong_codes_lock_the_parcel_for_a_while(db: Session) -> None:
    (p,) = arrived(db, 1)
    stop = out_with_courier(db, [p]).stops[0]
    code = handover_code(db, p)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(rounds.HANDOVER_TRIES):
        assert rounds.deliver(db, stop, wrong, "") is rounds.Handover.WRONG
        db.commit()
    assert rounds.deliver(db, stop, code, "") is rounds.Handover.LOCKED
    db.commit()
    db.refresh(stop)
    assert stop.locked_until is not None
    assert rounds.deliver(db, stop, code, "") is rounds.Handover.LOCKED  # even the right one
    later = stop.locked_until + timedelta(seconds=1)
    assert rounds.deliver(db, stop, code, "", now=later) is rounds.Handover.DELIVERED


def test_a_failed_attempt_says_why_and_the_parcel_can_go_out_again(db: Session) -> None:
    (p,) = arrived(db, 1)
    stop = out_with_courier(db, [p]).stops[0]
    with pytest.raises(ValidationError) as e:
        rounds.fail(db, stop, "bored")
    assert "reason" in e.value.errors
    db.rollback()
    rounds.fail(db, stop, "absent")
    db.commit()
    db.refresh(p)
    assert p.status is ParcelStatus.DELIVERY_FAILED
    failed = db.scalar(
        select(Notification).where(Notification.parcel_id == p.id, Notification.event == "failed")
    )
    assert failed is not None and "বাড়িতে কেউ ছিলেন না" in failed.text
    again = out_with_courier(db, [p])
    assert again.stops[0].parcel_id == p.id


def test_the_office_sends_out_and_the_postman_records_on_the_phone_pages(
    client: FlaskClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rounds, "utcnow", lambda: MORNING)
    (p, q) = arrived(db, 2, cod_poisha=10000)
    courier = _user(db, "courier.mohammadpur")
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    page = client.get("/office").text
    assert 'id="send-out"' in page and f'value="{p.id}"' in page
    bad = client.post("/office/rounds", data={"courier": str(courier.id), "window": "09-12"})
    assert bad.status_code == 422
    resp = client.post(
        "/office/rounds",
        data={"courier": str(courier.id), "window": "09-12", "parcel": [str(p.id), str(q.id)]},
    )
    assert resp.status_code == 302 and "/office/rounds/" in resp.location
    loading = resp.location
    assert 'data-scanned="0" data-total="2"' in client.get(loading).text
    scan_url = loading + "/scan"
    # Not a tracking number, a parcel of another office: each refused, naming the field.
    assert client.post(scan_url, data={"code": "hello"}).status_code == 422
    (elsewhere,) = arrived(db, 1, phone="0171999")
    elsewhere.destination_office_id = _user(db, "clerk.gpo").office_id
    db.commit()
    refused = client.post(scan_url, data={"code": elsewhere.tracking_id})
    assert refused.status_code == 422 and 'id="code-error"' in refused.text
    # Nothing scanned yet: the round cannot leave.
    assert client.post(loading + "/leave").status_code == 422
    for x in (p, q):
        assert client.post(scan_url, data={"code": x.tracking_id}).status_code == 302
    again = client.post(scan_url, data={"code": p.tracking_id})
    assert again.status_code == 409 and 'id="code-error"' in again.text
    assert client.post(loading + "/leave").status_code == 302
    # Another office's postman and clerks may not record outcomes.
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    assert client.get("/round").status_code == 403
    login(client, "courier.mohammadpur", "courier-demo-1")
    home = client.get("/home")
    assert home.location.endswith("/round")
    page = client.get("/round").text
    assert page.count('class="card stop"') == 2 and "cod-due" in page
    stop = db.scalar(select(RoundParcel).where(RoundParcel.parcel_id == p.id))
    assert stop is not None
    wrong = client.post(f"/round/stops/{stop.id}/deliver", data={"code": "1", "cod": "50"})
    assert wrong.status_code == 422 and f'id="stop-{stop.id}-cod-error"' in wrong.text
    ok = client.post(
        f"/round/stops/{stop.id}/deliver",
        data={
            "code": handover_code(db, p),
            "cod": f"{(p.cod_amount_poisha + p.cod_fee_poisha) / 100:.2f}",
        },
    )
    assert ok.status_code == 302, ok.text
    other = db.scalar(select(RoundParcel).where(RoundParcel.parcel_id == q.id))
    assert other is not None
    assert (
        client.post(f"/round/stops/{other.id}/fail", data={"reason": "refused"}).status_code == 302
    )
    assert (
        client.post(f"/round/stops/{other.id}/fail", data={"reason": "refused"}).status_code == 409
    )
    page = client.get("/round").text
    assert 'id="no-round"' in page
    db.expire_all()
    assert db.get(Parcel, p.id).status is ParcelStatus.DELIVERED  # type: ignore[union-attr]
    assert db.get(Parcel, q.id).status is ParcelStatus.DELIVERY_FAILED  # type: ignore[union-attr]
    login(client, "clerk.gpo", "clerk-demo-1")
    assert (
        client.post(f"/round/stops/{other.id}/fail", data={"reason": "refused"}).status_code == 403
    )
