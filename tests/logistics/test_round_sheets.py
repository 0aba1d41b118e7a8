"""The round sheet and the out-for-delivery scan: the sheet lists the parcels in order and its
barcodes decode; its round code opens the round's loading (a check digit caught, another
office refused); a parcel rides one round at a time; a round nothing was scanned into can be
cancelled."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.errors import NotFound, ValidationError
from logistics.models import ParcelStatus, RoundParcel
from logistics.services import round_scans, rounds
from tests.conftest import login
from tests.logistics.test_rounds import MORNING, _user, arrived, out_with_courier


@pytest.fixture(autouse=True)
def no_quiet_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAKGHOR_SMS_QUIET", "0-0")


def test_the_round_sheet_lists_the_parcels_in_order_and_its_barcodes_decode(
    client: FlaskClient, db: Session
) -> None:
    from tests.logistics.test_labels import decoded, pages

    (p,) = arrived(db, 1, cod_poisha=45500)
    (q,) = arrived(db, 1, phone="0181667")
    rnd = out_with_courier(db, [p, q])
    code = rounds.code(rnd)
    assert re.fullmatch(r"RD\d{8}", code)
    login(client, "courier.mohammadpur", "courier-demo-1")
    assert f'href="/rounds/{rnd.id}/sheet.pdf"' in client.get("/round").text
    resp = client.get(f"/rounds/{rnd.id}/sheet.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    (page,) = pages(resp.data)
    assert decoded(page) == sorted([code, p.tracking_id, q.tracking_id])
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    assert client.get(f"/rounds/{rnd.id}/sheet.pdf").status_code == 200
    assert f"/rounds/{rnd.id}/sheet.pdf" in client.get("/office").text
    login(client, "clerk.mirpur", "clerk-demo-1")  # another office
    assert client.get(f"/rounds/{rnd.id}/sheet.pdf").status_code == 404


def test_a_round_sheet_opens_its_loading_and_a_parcel_rides_one_round(db: Session) -> None:
    (p, q) = arrived(db, 2, phone="0171555")
    clerk = _user(db, "clerk.mohammadpur")
    courier = _user(db, "courier.mohammadpur")
    assert clerk.office is not None
    rnd = rounds.send_out(db, clerk.office, str(courier.id), [str(p.id)], "09-12", clerk, MORNING)
    db.commit()
    code = rounds.code(rnd)
    assert round_scans.by_code(db, f" {code.lower()} ", clerk.office_id).id == rnd.id
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(ValidationError, match="check"):
        round_scans.by_code(db, wrong, clerk.office_id)
    with pytest.raises(NotFound):  # another office's clerk
        round_scans.by_code(db, code, _user(db, "clerk.gpo").office_id)
    # Being loaded, p cannot go on a second round; q can.
    with pytest.raises(ValidationError) as busy:
        rounds.send_out(db, clerk.office, str(courier.id), [str(p.id)], "09-12", clerk, MORNING)
    assert p.tracking_id in str(busy.value.errors["parcels"])
    db.rollback()
    with pytest.raises(ValidationError, match="not on this round"):
        round_scans.scan(db, rnd, q.tracking_id, clerk, MORNING)
    # Cancelled before anything was scanned, p waits again and nothing of the round is left.
    round_scans.cancel(db, rnd)
    db.commit()
    assert db.scalars(select(RoundParcel)).all() == []
    db.refresh(p)
    assert p.status is ParcelStatus.AT_DELIVERY_OFFICE
