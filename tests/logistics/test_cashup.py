"""The cash-up: per person, the cash the records say they took (postage at intake, COD at the
door and at the counter), airtime for the record, what they handed in and the difference; the
day closed once, every missing amount named."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.models import CashUp, Obligation, Purpose
from logistics.services import cashup, holds, intake, rounds
from logistics.text import DHAKA
from tests.conftest import booking, login
from tests.logistics.test_holds import collection_code, failed_twice
from tests.logistics.test_rounds import _user, arrived, handover_code, out_with_courier


def _cod(db: Session, parcel_id: int) -> int:
    ob = db.scalar(
        select(Obligation).where(
            Obligation.parcel_id == parcel_id, Obligation.purpose == Purpose.COD
        )
    )
    assert ob is not None
    return ob.amount_poisha


def test_the_day_of_a_delivery_office_balances_per_person(client: FlaskClient, db: Session) -> None:
    (door, kept) = arrived(db, 2, cod_poisha=25000)
    stop = out_with_courier(db, [door]).stops[0]
    due_door = _cod(db, door.id)
    assert (
        rounds.deliver(db, stop, handover_code(db, door), f"{due_door / 100:.2f}")
        is rounds.Handover.DELIVERED
    )
    db.commit()
    failed_twice(db, kept)
    held = holds.of_parcel(db, kept.id)
    assert held is not None
    due_kept = _cod(db, kept.id)
    clerk = _user(db, "clerk.mohammadpur")
    code = collection_code(db, kept)
    assert (
        holds.collect(db, held, code, f"{due_kept / 100:.2f}", clerk) is holds.Collection.COLLECTED
    )
    db.commit()
    assert clerk.office is not None
    today = datetime.now(DHAKA).date()
    by_user = {ln.user.username: ln for ln in cashup.lines(db, clerk.office, today)}
    assert by_user["courier.mohammadpur"].cod_cash_poisha == due_door
    assert by_user["clerk.mohammadpur"].cod_cash_poisha == due_kept
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    page = client.get("/office/cashup").text
    assert page.count('class="cash-line"') == 2
    courier_key = f"handed_in_{by_user['courier.mohammadpur'].user.id}"
    clerk_key = f"handed_in_{clerk.id}"
    missing = client.post("/office/cashup", data={courier_key: f"{due_door / 100:.2f}"})
    assert missing.status_code == 422 and f'id="{clerk_key}-error"' in missing.text
    assert db.scalar(select(CashUp)) is None  # nothing half-written
    short = f"{(due_kept - 1000) / 100:.2f}"  # the clerk hands in Tk 10 less
    done = client.post(
        "/office/cashup", data={courier_key: f"{due_door / 100:.2f}", clerk_key: short}
    )
    assert done.status_code == 302
    page = client.get("/office/cashup").text
    assert (
        'id="closed"' in page
        and 'data-difference="0"' in page
        and 'data-difference="-1000"' in page
    )
    again = client.post("/office/cashup", data={courier_key: "0", clerk_key: "0"})
    assert again.status_code == 409
    future = (today + timedelta(days=1)).isoformat()
    assert client.post("/office/cashup", data={"date": future}).status_code == 422


def test_postage_taken_in_cash_at_the_counter_is_the_clerks(
    client: FlaskClient, db: Session
) -> None:
    gpo = _user(db, "clerk.gpo")
    parcels = [intake.create_parcel(db, intake.parse_booking(booking()), gpo) for _ in range(3)]
    db.commit()
    assert gpo.office is not None
    (line,) = cashup.lines(db, gpo.office, datetime.now(DHAKA).date())
    assert line.user.id == gpo.id and line.intake_cash_poisha == sum(p.fee_poisha for p in parcels)
    assert line.cod_cash_poisha == 0
    login(client, "clerk.gpo", "clerk-demo-1")
    assert 'id="cashup-link"' in client.get("/counter").text
    assert "Cash-up" in client.get("/office/cashup").text
